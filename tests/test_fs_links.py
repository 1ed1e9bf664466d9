"""Links, permissions, special files, size and long names under `migrate --write` (issue 17).

Everything happens on the real file system in tmp_path, through the real
command line (its own process) or the library's `run`.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from flyteres.migrate.runner import Options, run
from flyteres.source.files import MAX_FILE_BYTES

TASK = """from flytekit import Resources, task

@task(requests=Resources(cpu="1"), limits=Resources(cpu="2"))
def fit() -> None: ...
"""
PLATFORM = Path(__file__).resolve().parents[1] / "examples" / "admin.yaml"

posix = pytest.mark.skipif(sys.platform == "win32", reason="POSIX links, modes and FIFOs")


def flyteres(*args: str | Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The real command line, in its own process (a timeout fails the test instead of hanging it)."""
    exe = Path(sys.executable).with_name("flyteres")
    return subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, timeout=timeout, check=False)


def migrated(path: Path) -> bool:
    return "@env.task" in path.read_text()


def files(report: dict[str, object]) -> dict[str, dict[str, object]]:
    return {Path(str(f["path"])).name: f for f in report["files"]}  # type: ignore[attr-defined]


@posix
def test_a_symlink_in_the_tree_stays_a_link_and_its_file_is_migrated_once(tmp_path: Path) -> None:
    real = tmp_path / "z_real.py"
    real.write_text(TASK)
    link = tmp_path / "a_link.py"
    link.symlink_to("z_real.py")
    proc = flyteres("migrate", "--write", "--report", "json", tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink()
    assert os.readlink(link) == "z_real.py"
    assert migrated(real)
    report = files(json.loads(proc.stdout))
    assert report["z_real.py"]["written"] is True
    assert report["a_link.py"]["written"] is False
    assert report["a_link.py"]["status"] == "skipped"
    assert "symbolic link" in str(report["a_link.py"]["reason"])


@posix
def test_a_link_whose_file_is_only_reached_through_it_is_written_through_its_real_path(tmp_path: Path) -> None:
    # The real file is in the tree but not *.py: the link is how the run finds it.
    real = tmp_path / "real.txt"
    real.write_text(TASK)
    link = tmp_path / "tasks.py"
    link.symlink_to("real.txt")
    report = run([tmp_path], Options(mode="write"), jobs=1)
    assert [(Path(f.path).name, f.written) for f in report.files] == [("tasks.py", True)]
    assert link.is_symlink()
    assert migrated(real)


@posix
def test_a_link_out_of_the_tree_is_reported_and_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    target = outside / "shared.py"
    target.write_text(TASK)
    root = tmp_path / "project"
    root.mkdir()
    (root / "shared.py").symlink_to(target)
    for mode in ("--write", "--diff"):
        proc = flyteres("migrate", mode, "--report", "json", root)
        assert proc.returncode == 0, proc.stderr
        entry = files(json.loads(proc.stdout))["shared.py"]
        assert entry["status"] == "skipped"
        assert "outside the tree" in str(entry["reason"])
        assert "diff" not in entry
    assert target.read_text() == TASK
    assert (root / "shared.py").is_symlink()


@posix
def test_hard_links_stay_one_file(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    first = root / "a.py"
    first.write_text(TASK)
    os.link(first, root / "b.py")
    os.link(first, tmp_path / "elsewhere.py")  # a name outside the tree shares the same file
    inode = first.stat().st_ino
    proc = flyteres("migrate", "--write", "--report", "json", root)
    assert proc.returncode == 0, proc.stderr
    for name in (root / "a.py", root / "b.py", tmp_path / "elsewhere.py"):
        assert name.stat().st_ino == inode
        assert name.stat().st_nlink == 3
        assert migrated(name)
    report = files(json.loads(proc.stdout))
    assert report["a.py"]["written"] is True
    assert report["b.py"]["status"] == "skipped"
    assert "hard link" in str(report["b.py"]["reason"])


@posix
def test_a_read_only_file_is_not_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "locked.py"
    path.write_text(TASK)
    path.chmod(0o444)
    proc = flyteres("migrate", "--write", "--report", "json", tmp_path)
    assert proc.returncode == 1, proc.stderr  # changes remain to be made
    entry = files(json.loads(proc.stdout))["locked.py"]
    assert (entry["status"], entry["written"], entry["unwritten"]) == ("skipped", False, True)
    assert "read-only" in str(entry["reason"])
    assert path.read_text() == TASK
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert "locked.py: not written: read-only" in proc.stderr


@posix
def test_the_file_mode_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "tool.py"
    path.write_text(TASK)
    path.chmod(0o750)
    report = run([tmp_path], Options(mode="write"), jobs=1)
    assert report.files[0].written
    assert migrated(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o750


@posix
def test_special_files_are_skipped_and_nothing_hangs(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(TASK)
    os.mkfifo(tmp_path / "fifo.py")
    (tmp_path / "zero.py").symlink_to("/dev/zero")
    (tmp_path / "null.py").symlink_to("/dev/null")
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(tmp_path / "sock.py"))
        for command in (
            ("migrate", "--write", "--report", "json", tmp_path, tmp_path / "fifo.py"),
            ("check", tmp_path, "--platform", PLATFORM, "--json"),
            ("verify", tmp_path, tmp_path),
        ):
            proc = flyteres(*command, timeout=60)
            assert proc.returncode in (0, 1), (command, proc.stderr)
            assert "MemoryError" not in proc.stderr
            if command[0] == "migrate":
                report = files(json.loads(proc.stdout))
                for name in ("fifo.py", "zero.py", "null.py", "sock.py"):
                    assert (report[name]["status"], report[name]["reason"]) == ("skipped", "not a regular file")
                assert report["a.py"]["written"] is True
            if command[0] == "check":
                skipped = {Path(s["path"]).name for s in json.loads(proc.stdout)["skipped_files"]}
                assert {"fifo.py", "zero.py", "null.py", "sock.py"} <= skipped
    finally:
        server.close()
    assert stat.S_ISFIFO(os.lstat(tmp_path / "fifo.py").st_mode)
    assert (tmp_path / "zero.py").is_symlink()


def test_a_file_over_the_size_limit_is_skipped_with_the_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.py"
    with big.open("w") as fh:
        fh.write(TASK)
        fh.write("# padding\n" * (MAX_FILE_BYTES // 10 + 1))
    before = big.stat().st_size
    (tmp_path / "small.py").write_text(TASK)
    proc = flyteres("migrate", "--write", "--report", "json", tmp_path)
    assert proc.returncode == 0, proc.stderr
    entry = files(json.loads(proc.stdout))["big.py"]
    assert entry["status"] == "skipped"
    assert str(entry["reason"]).startswith(f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    assert big.stat().st_size == before
    assert migrated(tmp_path / "small.py")


def test_a_long_file_name_is_written(tmp_path: Path) -> None:
    name = "t" * 245 + ".py"  # 248 bytes: a temporary name built from it would pass 255
    path = tmp_path / name
    path.write_text(TASK)
    proc = flyteres("migrate", "--write", tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert migrated(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


@posix
def test_a_file_left_unwritten_is_a_finding_in_every_output_format(tmp_path: Path) -> None:
    path = tmp_path / "locked.py"
    path.write_text(TASK)
    path.chmod(0o444)
    proc = flyteres("migrate", "--write", "--output-format", "github", tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "file-not-written" in proc.stdout
    assert "read-only" in proc.stdout
    assert path.read_text() == TASK
