"""One discovery for every command (issue 17): .gitignore, virtualenvs, site-packages, patterns, odd files."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest

from flyteres.check import check_paths
from flyteres.migrate.runner import Options, run
from flyteres.migrate.runner import discover as migrate_discover
from flyteres.platform import parse_platform
from flyteres.source.files import discover, read_source

TASK = "from flytekit import Resources, task\n\n@task(requests=Resources(mem='1Gi'))\ndef f() -> None: ...\n"
PLATFORM = parse_platform("task_resources: {limits: {memory: 8Gi}}")


def tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def names(root: Path, **kwargs: list[str]) -> list[str]:
    return [p.relative_to(root).as_posix() for p in discover([root], **kwargs).files]  # type: ignore[arg-type]


def test_gitignore_virtualenvs_site_packages_and_build_directories_are_left_out(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            ".gitignore": "generated/\n*_pb2.py\n!keep_pb2.py\n",
            "app/tasks.py": TASK,
            "app/x_pb2.py": TASK,
            "app/keep_pb2.py": TASK,
            "app/sub/.gitignore": "local.py\n",
            "app/sub/local.py": TASK,
            "app/sub/shared.py": TASK,
            "generated/tasks.py": TASK,
            "env/pyvenv.cfg": "home = /usr\n",
            "env/lib/python3.11/site-packages/pkg/mod.py": TASK,
            "vendor/site-packages/pkg/mod.py": TASK,
            "build/lib/app/tasks.py": TASK,
            "dist/tasks.py": TASK,
            ".tox/tasks.py": TASK,
            "venv/tasks.py": TASK,
            "notes.txt": "not python",
        },
    )
    assert names(tmp_path) == ["app/keep_pb2.py", "app/sub/shared.py", "app/tasks.py"]


def test_a_gitignore_above_the_searched_directory_applies_inside_its_repository(tmp_path: Path) -> None:
    tree(tmp_path, {"repo/.gitignore": "src/ignored.py\n", "repo/src/ignored.py": TASK, "repo/src/kept.py": TASK})
    (tmp_path / "repo" / ".git").mkdir()
    assert names(tmp_path / "repo" / "src") == ["kept.py"]


def test_a_directory_named_on_the_command_line_is_searched_as_it_is(tmp_path: Path) -> None:
    # Like a file named there: a .gitignore above that ignores the directory itself does not empty it,
    # while its other patterns still apply inside.
    tree(
        tmp_path,
        {"repo/.gitignore": "generated/\n*_pb2.py\n", "repo/generated/tasks.py": TASK, "repo/generated/x_pb2.py": TASK},
    )
    (tmp_path / "repo" / ".git").mkdir()
    assert names(tmp_path / "repo") == []
    assert names(tmp_path / "repo" / "generated") == ["tasks.py"]


def test_exclude_and_include_patterns(tmp_path: Path) -> None:
    tree(tmp_path, {"a/tasks.py": TASK, "a/test_tasks.py": TASK, "b/tasks.py": TASK, "c/tasks.pyi": TASK})
    assert names(tmp_path, exclude=["test_*.py", "b/"]) == ["a/tasks.py"]
    assert names(tmp_path, include=["*.py", "*.pyi"]) == ["a/tasks.py", "a/test_tasks.py", "b/tasks.py", "c/tasks.pyi"]


def test_check_and_migrate_read_the_same_files(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            ".gitignore": "skip/\n",
            "a.py": TASK,
            "skip/b.py": TASK,
            "build/c.py": TASK,
            "env/pyvenv.cfg": "",
            "env/d.py": TASK,
        },
    )
    assert [p.name for p in migrate_discover([tmp_path])] == ["a.py"]
    assert [Path(c.declaration.path).name for c in check_paths([tmp_path], PLATFORM).checked] == ["a.py"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_named_py_is_skipped_and_nothing_hangs(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(TASK)
    os.mkfifo(tmp_path / "pipe.py")
    (tmp_path / "zero.py").symlink_to("/dev/zero")
    (tmp_path / "dangling.py").symlink_to(tmp_path / "missing.py")
    found = discover([tmp_path, tmp_path / "pipe.py"])
    assert [p.name for p in found.files] == ["a.py"]
    assert sorted((p.name, reason) for p, reason in found.skipped) == [
        ("dangling.py", "a symbolic link to nothing"),
        ("pipe.py", "not a regular file"),
        ("zero.py", "not a regular file"),
    ]
    results: dict[str, object] = {}

    def both() -> None:
        results["check"] = check_paths([tmp_path], PLATFORM)
        results["migrate"] = run([tmp_path], Options(mode="check"), jobs=1)

    worker = threading.Thread(target=both, daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "check or migrate blocked on a FIFO"
    report = results["check"]
    assert ("pipe.py", "not a regular file") in [(Path(p).name, r) for p, r in report.skipped_files]  # type: ignore[attr-defined]
    migrated = {Path(f.path).name: f for f in results["migrate"].files}  # type: ignore[attr-defined]
    assert (migrated["pipe.py"].status, migrated["pipe.py"].reason) == ("skipped", "not a regular file")


def test_reading_bounds_the_size_and_reports_what_it_cannot_read(tmp_path: Path) -> None:
    big = tmp_path / "big.py"
    big.write_text("x = 1\n" * 100)
    assert read_source(big, max_bytes=100).skipped == "larger than 0 MiB (600 bytes)"
    binary = tmp_path / "binary.py"
    binary.write_bytes(b"\xff\xfe\x00\x01 not text")
    assert (read_source(binary).skipped or "").startswith("not Python source text")
    latin = tmp_path / "latin.py"
    latin.write_bytes(b"# -*- coding: latin-1 -*-\nname = '\xe9'\n")
    assert read_source(latin).text == "# -*- coding: latin-1 -*-\nname = 'é'\n"
    if sys.platform != "win32" and os.geteuid() != 0:
        secret = tmp_path / "secret.py"
        secret.write_text(TASK)
        secret.chmod(0)
        assert (read_source(secret).error or "").startswith("cannot be read")
        report = check_paths([secret], PLATFORM)
        assert report.exit_code == 2
        assert report.errors == [f"{secret}: cannot be read: Permission denied"]
