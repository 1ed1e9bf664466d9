"""Writing back: a file edited during the run is never overwritten; a stopped run leaves no
half-written or temporary file (issue 17). Real files, real signals, real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flyteres.migrate.runner import Options, process_file, run
from flyteres.migrate.transform import migrate_source
from flyteres.migrate.writes import deferred_signals, replace_file
from flyteres.source.files import read_source

TASK = """from flytekit import Resources, task

@task(requests=Resources(cpu="1"), limits=Resources(cpu="2"))
def fit_{n}() -> None: ...
"""
APPENDED = "\n# appended by someone else during the run\n"


def test_replace_file_refuses_a_file_that_changed_since_it_was_read(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text(TASK.format(n=0))
    read = read_source(path, keep_bytes=True)
    assert read.fingerprint is not None
    with path.open("a") as fh:
        fh.write(APPENDED)
    done = replace_file(path, b"new = 1\n", read.fingerprint)
    assert done.status == "skipped"
    assert "changed since it was read" in (done.reason or "")
    assert path.read_text().endswith(APPENDED)


def test_same_size_same_mtime_but_other_bytes_is_a_change(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text("x = 1\n")
    read = read_source(path, keep_bytes=True)
    assert read.fingerprint is not None
    st = path.stat()
    path.write_text("x = 2\n")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # only the content hash can tell
    assert replace_file(path, b"y = 1\n", read.fingerprint).status == "skipped"
    assert path.read_text() == "x = 2\n"


def test_a_line_appended_during_the_run_is_never_lost(tmp_path: Path) -> None:
    # Edit each file as soon as the run reports the one before it: by then the worker may
    # have read it (the write must be refused) or not (the edit is migrated with it).
    paths = [tmp_path / f"m{n:02d}.py" for n in range(30)]
    for n, path in enumerate(paths):
        path.write_text(TASK.format(n=n))

    def edit(done: int, total: int) -> None:
        if done < total:
            with paths[done].open("a") as fh:
                fh.write(APPENDED)

    report = run([tmp_path], Options(mode="write"), jobs=1, progress=edit)
    by_name = {Path(f.path).name: f for f in report.files}
    for n, path in enumerate(paths[1:], start=1):
        text = path.read_text()
        assert APPENDED.strip() in text, path  # the edit survived
        entry = by_name[path.name]
        if entry.written:
            assert "@env.task" in text
        else:
            assert (entry.status, entry.unwritten) == ("skipped", True)
            assert "changed since it was read" in (entry.reason or "")
            assert text == TASK.format(n=n) + APPENDED
    refused = sum(1 for f in report.files if f.unwritten)
    assert report.exit_code() == (1 if refused else 0)


def _interrupted_write(reached: list[str]) -> None:
    with deferred_signals():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # the signal has arrived; it must not interrupt this block
        reached.append("end of block")


def test_deferred_signals_hold_an_interrupt_until_the_write_is_done() -> None:
    reached: list[str] = []
    # Python's own SIGINT handler, whatever an earlier test left in place.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            _interrupted_write(reached)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert reached == ["end of block"]


def test_process_file_writes_like_run(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text(TASK.format(n=0))
    report = process_file(path, Options(mode="write"))
    assert report.written
    assert "@env.task" in path.read_text()


BIG = 300  # tasks per file: a write takes long enough for a signal to land during some


def _expected(tmp_path: Path, files: int) -> dict[str, tuple[str, str]]:
    out = {}
    for n in range(files):
        text = "from flytekit import Resources, task\n" + "".join(
            TASK.format(n=f"{n}_{k}").split("\n", 1)[1] for k in range(BIG)
        )
        path = tmp_path / f"m{n:02d}.py"
        path.write_text(text)
        out[path.name] = (text, migrate_source(text, path=str(path), module=path.stem, target="flyte").code)
    return out


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_stopped_run_leaves_each_file_whole_and_no_temporary_file(tmp_path: Path, signum: int) -> None:
    exe = Path(sys.executable).with_name("flyteres")
    for delay in (1.0, 2.0, 3.0):
        root = tmp_path / f"run{delay}"
        root.mkdir()
        expected = _expected(root, 12)
        proc = subprocess.Popen([str(exe), "migrate", "--write", "--jobs", "2", str(root)], stderr=subprocess.PIPE)
        time.sleep(delay)
        proc.send_signal(signum)
        # Its workers end with it: nothing keeps its stderr open (communicate would wait for them).
        proc.communicate(timeout=60)
        assert proc.returncode != 0 or all(  # it may have finished first
            (root / name).read_text() == new for name, (_, new) in expected.items()
        )
        assert sorted(p.name for p in root.iterdir()) == sorted(expected), "a temporary file was left"
        for name, (old, new) in expected.items():
            assert (root / name).read_text() in (old, new), f"{name} is half written"


def test_a_file_that_grew_or_went_away_is_not_written(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text(TASK.format(n=0))
    read = read_source(path, keep_bytes=True)
    assert read.fingerprint is not None
    path.write_text(TASK.format(n=0) * 3)
    grown = replace_file(path, b"new = 1\n", read.fingerprint)
    assert (grown.status, grown.reason) == ("skipped", "changed since it was read (it grew); not written")
    path.unlink()
    gone = replace_file(path, b"new = 1\n", read.fingerprint)
    assert gone.status == "skipped"
    assert "No such file" in (gone.reason or "")
    assert not path.exists()


GROUP_TASKS = """from flytekit import Resources, task


@task(requests=Resources(cpu="1", mem="1Gi"))
def double(n: int) -> int:
    return n * 2
"""
GROUP_FLOWS = """from flytekit import workflow

from .tasks import double


@workflow
def wf(n: int) -> int:
    return double(n=n)
"""


def test_a_group_with_a_file_that_cannot_be_written_is_not_written_at_all(tmp_path: Path) -> None:
    # --target flyte moves tasks.py and flows.py together: with flows.py read-only, writing
    # tasks.py alone would leave half a program on each SDK.
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "tasks.py").write_text(GROUP_TASKS)
    (pkg / "flows.py").write_text(GROUP_FLOWS)
    (pkg / "flows.py").chmod(0o444)
    report = run([tmp_path], Options(mode="write"))
    by_name = {Path(f.path).name: f for f in report.files}
    assert (pkg / "tasks.py").read_text() == GROUP_TASKS
    assert (pkg / "flows.py").read_text() == GROUP_FLOWS
    assert by_name["flows.py"].unwritten
    assert "read-only" in (by_name["flows.py"].reason or "")
    assert by_name["tasks.py"].unwritten
    assert "flows.py: read-only" in (by_name["tasks.py"].reason or "")
    assert report.exit_code() == 1


def test_a_group_whose_files_may_all_be_written_is_written_whole(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "tasks.py").write_text(GROUP_TASKS)
    (pkg / "flows.py").write_text(GROUP_FLOWS)
    report = run([tmp_path], Options(mode="write"))
    assert {Path(f.path).name for f in report.files if f.written} == {"tasks.py", "flows.py"}
    assert "flytekit" not in (pkg / "tasks.py").read_text()
