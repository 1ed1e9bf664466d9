"""A file that crashes its worker costs that file only, for migrate, check and verify (issue 17).

Real files in tmp_path and real runs of the command line: 2,000 nested
parentheses overflow the stack of libcst's native parser (the worker dies of
SIGSEGV); `ast` refuses the same file, or gives RecursionError/MemoryError on
other deep nesting, which check and verify report as a file not read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flyteres.migrate.runner import Options, run

TASK = """from flytekit import Resources, task

@task(requests=Resources(cpu="1"), limits=Resources(cpu="2"))
def fit_{n}() -> None: ...
"""

FLYTEKIT = "from flytekit import Resources, task\n"
# Each of these is too deep for a parser: libcst's native one dies, `ast` raises.
DEEP = {
    "parens.py": FLYTEKIT + "x = " + "(" * 2000 + "1" + ")" * 2000 + "\n",
    "minus.py": FLYTEKIT + "x = " + "-" * 100_000 + "1\n",
    "attrs.py": FLYTEKIT + "x = a" + ".b" * 100_000 + "\n",
}
PLATFORM = Path(__file__).resolve().parents[1] / "examples" / "admin.yaml"


def flyteres(*args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The real command line, in its own process."""
    exe = Path(sys.executable).with_name("flyteres")
    return subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, timeout=timeout, check=False)


def tree(root: Path, good: int, bad: dict[str, str]) -> list[Path]:
    root.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(good):
        path = root / f"m{n:03d}.py"
        path.write_text(TASK.format(n=n))
        paths.append(path)
    for name, text in bad.items():
        (root / name).write_text(text)
    return paths


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_file_that_crashes_libcst_is_reported_and_every_other_file_is_written(tmp_path: Path, jobs: int) -> None:
    # 40 good files around one that kills its worker: the pool must not break.
    good = tree(tmp_path, 40, {"m020_bad.py": DEEP["parens.py"]})
    proc = flyteres("migrate", "--write", "--report", "json", "--jobs", str(jobs), tmp_path)
    assert proc.returncode == 2, proc.stderr  # a file failed; not 139, not a traceback
    assert "BrokenProcessPool" not in proc.stderr
    report = json.loads(proc.stdout)
    by_name = {Path(f["path"]).name: f for f in report["files"]}
    bad = by_name["m020_bad.py"]
    assert bad["status"] == "failed"
    assert "worker process died" in bad["reason"]
    assert "SIGSEGV" in bad["reason"] or "killed by" in bad["reason"]
    assert "may use" not in bad["reason"]  # a crash, not the memory cap
    assert (tmp_path / "m020_bad.py").read_text() == DEEP["parens.py"]
    written = sorted(name for name, f in by_name.items() if f["written"])
    assert written == sorted(p.name for p in good)
    assert report["summary"]["written"] == 40
    for path in good:
        assert "@env.task" in path.read_text(), path
    assert "m020_bad.py: failed: its worker process died" in proc.stderr


def test_the_library_run_survives_the_crash_with_one_worker(tmp_path: Path) -> None:
    tree(tmp_path, 3, {"bad.py": DEEP["parens.py"]})
    report = run([tmp_path], Options(mode="diff"), jobs=1)
    statuses = {Path(f.path).name: f.status for f in report.files}
    assert statuses == {"bad.py": "failed", "m000.py": "changed", "m001.py": "changed", "m002.py": "changed"}
    assert report.exit_code() == 2


def test_check_and_verify_report_deep_nesting_as_not_read(tmp_path: Path) -> None:
    tree(tmp_path, 2, DEEP)
    checked = flyteres("check", tmp_path, "--platform", PLATFORM)
    assert checked.returncode in (0, 1), checked.stderr
    for name in DEEP:
        line = next(line for line in checked.stdout.splitlines() if line.startswith(str(tmp_path / name)))
        assert "not checked" in line
        assert "line None" not in line
    verified = flyteres("verify", tmp_path, tmp_path)
    assert verified.returncode in (0, 1), verified.stderr
    assert all(name in verified.stdout + verified.stderr for name in DEEP)


@pytest.mark.slow
def test_check_with_workers_reports_deep_nesting_and_reads_the_rest(tmp_path: Path) -> None:
    # Enough files for check's worker processes (200 and more).
    tree(tmp_path, 220, DEEP)
    proc = flyteres("check", tmp_path, "--platform", PLATFORM, "--jobs", "2", "--json")
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads(proc.stdout)
    skipped = {Path(s["path"]).name for s in report["skipped_files"]}
    assert set(DEEP) <= skipped
    assert report["summary"]["declarations"] >= 220


def test_no_exit_139_from_migrate_check_mode(tmp_path: Path) -> None:
    tree(tmp_path, 1, {"bad.py": DEEP["parens.py"]})
    proc = flyteres("migrate", "--check", tmp_path)
    assert proc.returncode == 2
    assert os.path.exists(tmp_path / "bad.py")
    assert "bad.py: failed: its worker process died" in proc.stderr


def test_a_file_too_large_for_a_worker_s_memory_fails_alone(tmp_path: Path) -> None:
    # 20,000 tasks (2 MB) need about 1 GiB of libcst trees; the cap here is 300 MiB.
    tree(tmp_path, 2, {})
    body = "".join(TASK.format(n=f"big_{n}").split("\n", 1)[1] for n in range(20_000))
    (tmp_path / "huge.py").write_text(FLYTEKIT + body)
    report = run([tmp_path], Options(mode="check"), jobs=1, memory_limit=300 * 1024 * 1024)
    by_name = {Path(f.path).name: f for f in report.files}
    assert by_name["huge.py"].status == "failed"
    assert "(a worker may use 300 MiB)" in (by_name["huge.py"].reason or "")
    assert by_name["m000.py"].status == by_name["m001.py"].status == "changed"
