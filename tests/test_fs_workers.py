"""Worker processes that die: the item is charged, the run goes on, nothing is left behind.

Real processes: a worker kills itself with a real signal; a parent is killed for real.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flyteres.source.workers import death_reason, run_isolated


def square_or_die(n: int) -> int:
    if n == 13:
        os.kill(os.getpid(), signal.SIGSEGV)
    if n == 21:
        os._exit(3)
    if n == 34:
        raise ValueError("thirty-four")
    return n * n


def charged(n: int, reason: str) -> int:
    charged.reasons[n] = reason  # type: ignore[attr-defined]
    return -n


charged.reasons = {}  # type: ignore[attr-defined]


@pytest.mark.parametrize("workers", [1, 3])
def test_a_dying_worker_costs_its_item_only(workers: int) -> None:
    charged.reasons.clear()  # type: ignore[attr-defined]
    seen: list[int] = []
    results = run_isolated(
        square_or_die, list(range(40)), workers=workers, died=charged, done=lambda i, r: seen.append(i), batch=4
    )
    assert results == [-n if n in (13, 21, 34) else n * n for n in range(40)]
    assert sorted(seen) == list(range(40))
    reasons = charged.reasons  # type: ignore[attr-defined]
    assert reasons[13] == "its worker process died (killed by SIGSEGV)"
    assert reasons[21] == "its worker process died (exited with status 3)"
    assert reasons[34] == "internal error: ValueError: thirty-four"


def test_death_reasons_read_well() -> None:
    assert death_reason(-9) == "killed by SIGKILL"
    assert death_reason(1) == "exited with status 1"
    assert death_reason(None) == "stopped answering"


PARENT = """
import os, sys, time
from flyteres.source.workers import run_isolated

def slow(n):
    time.sleep(0.2)
    return os.getpid()

run_isolated(slow, list(range(1000)), workers=2, died=lambda n, r: 0,
             done=lambda i, pid: print(pid, flush=True))
"""


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status  # a zombie has ended; only its parent's wait is missing


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_workers_end_when_their_parent_is_killed() -> None:
    workers: set[int] = set()
    with subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True) as parent:
        assert parent.stdout is not None
        deadline = time.monotonic() + 60
        while len(workers) < 2 and time.monotonic() < deadline:
            workers.add(int(parent.stdout.readline()))
        parent.kill()
    assert len(workers) == 2
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [pid for pid in workers if _alive(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, "workers outlived their parent"


@pytest.mark.parametrize(
    "name", ["flyteres.migrate.diffs", "flyteres.migrate.writes", "flyteres.migrate.runner", "flyteres.source.files"]
)
def test_docstring_examples_of_the_file_system_modules(name: str) -> None:
    import doctest  # noqa: PLC0415 - only this test
    import importlib  # noqa: PLC0415

    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
