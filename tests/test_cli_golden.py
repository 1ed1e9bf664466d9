"""Golden outputs of every reporting command in every output format, under tests/cli_golden/.

Each golden holds the exit code, stdout and stderr of one run, with paths relative to the directory the
command ran in (as in CI) and the version replaced by ``<version>``. After an intended change, regenerate
with ``FLYTERES_UPDATE_GOLDENS=1 .venv/bin/python -m pytest tests/test_cli_golden.py`` and read the diff:
the goldens are the specification of what users and CI see.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flyteres._version import __version__
from tests.cli_helpers import EXAMPLES, ROOT, invoke

GOLDEN = Path(__file__).resolve().parent / "cli_golden"
UPDATE = os.environ.get("FLYTERES_UPDATE_GOLDENS") == "1"
FORMATS = ("text", "json", "github", "sarif")
SPEC = '{"requests": {"cpu": "1", "gpu": "1"}, "limits": {"mem": "2Gi"}, "accelerator": "T4"}'

# command -> (the directory it runs in, its arguments, standard input)
RUNS: dict[str, tuple[Path, tuple[str, ...], str | None]] = {
    "check": (EXAMPLES, ("check", "project", "mixed", "--platform", "admin.yaml", "--quota", "quota.yaml"), None),
    "verify": (ROOT / "tests" / "verify_pairs", ("verify", "h100/old", "h100/new"), None),
    "convert": (EXAMPLES, ("convert", "--from", "flytekit", "--policy", "kubernetes"), SPEC),
    "convert-lossy": (EXAMPLES, ("convert", "--from", "flytekit"), SPEC),
    "migrate": (EXAMPLES, ("migrate", "project"), None),
}


def render(code: int, out: str, err: str) -> str:
    text = f"exit {code}\n--- stdout\n{out}--- stderr\n{err}"
    return text.replace(f'"version": "{__version__}"', '"version": "<version>"')


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("command", list(RUNS))
def test_golden(command: str, fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    cwd, args, stdin = RUNS[command]
    monkeypatch.chdir(cwd)
    # --isolated: the repository's own pyproject.toml must not change what the goldens show.
    actual = render(*invoke(*args, "--output-format", fmt, "--isolated", stdin=stdin))
    path = GOLDEN / f"{command}.{fmt}.txt"
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"no golden {path.name}: run with FLYTERES_UPDATE_GOLDENS=1"
    assert actual == path.read_text(encoding="utf-8"), f"{path.name} differs; regenerate if intended"


def test_goldens_carry_no_absolute_path() -> None:
    for path in GOLDEN.glob("*.txt"):
        text = path.read_text(encoding="utf-8")
        assert str(ROOT) not in text, path.name
