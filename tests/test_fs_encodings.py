"""What `--write` writes is exactly what `--diff` showed, in every encoding and line-ending style
(issue 17). The diff is applied with the real `patch`; the files are real files."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flyteres.migrate.runner import Options, run

BODY = [
    "from flytekit import Resources, task",
    "",
    "# {comment}",
    '@task(requests=Resources(cpu="1"), limits=Resources(cpu="2"))',
    "def fit() -> None:",
    '    """{comment}"""',
    "",
    '@task(limits=Resources(mem="1Gi"))',
    "def other() -> None: ...",
]
COOKIE = {"latin-1": "# -*- coding: latin-1 -*-", "cp1252": "# -*- coding: cp1252 -*-"}
# Characters that end a line for str.splitlines but not for diff, patch or Python's tokenizer.
TRICKY = "\x0c\x1c\x1d\x1e\x85\u2028\u2029"
ENCODINGS = ["utf-8", "utf-8-sig", "latin-1", "cp1252"]
needs_patch = pytest.mark.skipif(shutil.which("patch") is None, reason="needs patch")


def _encodable(encoding: str) -> st.SearchStrategy[str]:
    alphabet = st.sampled_from([*"abc é€ñ", *TRICKY, "\u00e9", "\u00ff", "\u4e2d"]).filter(
        lambda ch: _can(ch, encoding)
    )
    return st.text(alphabet, max_size=12)


def _can(ch: str, encoding: str) -> bool:
    try:
        ch.encode(encoding)
    except UnicodeEncodeError:
        return False
    # The tokenizer takes \x85 etc. in a comment, but libcst's own line splitting may not;
    # what matters here is only that diff and write agree, so keep every character.
    return True


@st.composite
def sources(draw: st.DrawFn) -> tuple[str, bytes]:
    encoding = draw(st.sampled_from(ENCODINGS))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    comment = draw(_encodable(encoding))
    lines = [line.format(comment=comment) for line in BODY]
    if encoding in COOKIE:
        lines.insert(0, COOKIE[encoding])
    text = newline.join(lines) + (newline if draw(st.booleans()) else "")
    return encoding, text.encode(encoding)


def _apply(diff: str, original: str, scratch: Path) -> str:
    """The original text with the diff applied by `patch` (both as UTF-8: the diff is text)."""
    target = scratch / "target.py"
    target.write_bytes(original.encode("utf-8"))
    (scratch / "change.diff").write_bytes(diff.encode("utf-8"))
    done = subprocess.run(
        ["patch", "--binary", "--quiet", "--force", str(target), str(scratch / "change.diff")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return target.read_bytes().decode("utf-8")


@needs_patch
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(source=sources())
def test_what_is_written_is_what_the_diff_showed(
    tmp_path_factory: pytest.TempPathFactory, source: tuple[str, bytes]
) -> None:
    encoding, data = source
    root = tmp_path_factory.mktemp("enc")
    (root / "diffed").mkdir()
    (root / "written").mkdir()
    (root / "diffed" / "m.py").write_bytes(data)
    (root / "written" / "m.py").write_bytes(data)
    shown = run([root / "diffed"], Options(mode="diff"), jobs=1).files[0]
    done = run([root / "written"], Options(mode="write"), jobs=1).files[0]
    written = (root / "written" / "m.py").read_bytes()
    assert (root / "diffed" / "m.py").read_bytes() == data  # --diff writes nothing
    assert done.status == shown.status, (done.reason, shown.reason)
    if not done.written:
        assert written == data
        assert not shown.diff
        return
    assert shown.diff
    original = data.decode(encoding)
    assert written.decode(encoding) == _apply(shown.diff, original, root)
    # The bytes follow the file's own conventions: its BOM, its line endings.
    assert written.startswith(b"\xef\xbb\xbf") == data.startswith(b"\xef\xbb\xbf")
    if b"\r\n" in data:
        assert written.count(b"\n") == written.count(b"\r\n")


def test_a_unicode_escape_file_is_refused_in_every_mode(tmp_path: Path) -> None:
    # Encoding the new text with unicode_escape writes each line break as the two
    # characters \\n: the file would become one physical line, not what --diff shows.
    text = "# -*- coding: unicode_escape -*-\n" + "\n".join(BODY).format(comment="x") + "\n"
    path = tmp_path / "m.py"
    path.write_bytes(text.encode("latin-1"))
    for mode in ("diff", "write", "check"):
        report = run([tmp_path], Options(mode=mode), jobs=1).files[0]  # type: ignore[arg-type]
        assert report.status == "failed", mode
        assert "unicode_escape" in (report.reason or "")
        assert not report.diff
        assert not report.written
    assert path.read_bytes() == text.encode("latin-1")


def test_crlf_bom_and_latin_1_keep_their_bytes(tmp_path: Path) -> None:
    lines = ["# -*- coding: latin-1 -*-", *(line.format(comment="café") for line in BODY)]
    data = ("\r\n".join(lines) + "\r\n").encode("latin-1")
    (tmp_path / "latin.py").write_bytes(data)
    bom = b"\xef\xbb\xbf" + "\r\n".join(line.format(comment="€") for line in BODY).encode("utf-8")
    (tmp_path / "bom.py").write_bytes(bom)
    report = run([tmp_path], Options(mode="write"), jobs=1)
    assert [f.written for f in report.files] == [True, True]
    latin = (tmp_path / "latin.py").read_bytes()
    assert b"caf\xe9" in latin
    assert latin.count(b"\n") == latin.count(b"\r\n")
    written = (tmp_path / "bom.py").read_bytes()
    assert written.startswith(b"\xef\xbb\xbf")
    assert not written.startswith(b"\xef\xbb\xbf" * 2)
    assert "€".encode() in written
    assert not written.endswith(b"\n")  # no line ending added at the end
