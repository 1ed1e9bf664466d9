"""Benchmark `flyteres migrate` on one file with many tasks: is the time linear in the tasks?

Generates one module with 1,000, 2,000 and 4,000 tasks (varied, realistic
declarations, each task a few lines of body, about 300 bytes a task), runs
the real command line (`flyteres migrate --diff FILE`, one worker process)
on each (the faster of two runs) and prints the time, the peak memory of the worker and the ratio of
each size's time to the one before: a linear codemod takes about 2x for twice
the tasks, a quadratic one about 4x. Then a file of about 5 MB (close to
17,000 tasks) is migrated the same way, with its time and peak memory.

Targets: each doubling at most 2.4x the time (allowing for the parts that
are linear but not free, and a busy machine); the 5 MB file finishes within
`BIG_TIME_LIMIT` seconds. Prints PASS or MISS and exits 0 either way (it is a
report, not a gate).

    .venv/bin/python benchmarks/migrate_scale.py            # the series and the 5 MB file
    .venv/bin/python benchmarks/migrate_scale.py --quick    # the series only
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SERIES = (1000, 2000, 4000)
TARGET_RATIO = 2.4
BIG_BYTES = 5 * 1024 * 1024
BIG_TIME_LIMIT = 600.0
TIME_LIMIT = 300.0

HEADER = '''"""One module with very many tasks (generated for a benchmark)."""

from __future__ import annotations

import os

from flytekit import Resources, task, workflow
from flytekit.extras.accelerators import A100, T4

MEM = "100Mi" if os.getenv("SANDBOX") else "2Gi"
BOX = Resources(cpu="2", mem="4Gi")
'''

DECLARATIONS = (
    '@task(requests=Resources(cpu="{cpu}", mem="{mem}"))',
    '@task(limits=Resources(mem="{mem}"))',
    '@task(requests=Resources(cpu="{cpu}", mem="{mem}"), limits=Resources(cpu="{cpu2}", mem="{mem}"))',
    "@task(requests=BOX, limits=BOX)",
    '@task(requests=Resources(gpu="1", mem="{mem}"), accelerator=T4)',
    '@task(requests=Resources(gpu="1"), accelerator=A100.partition_1g_5gb)',
    '@task(requests=Resources(cpu="{cpu}", mem=MEM), retries=3)',
    '@task(cache=True, cache_version="1", limits=Resources(mem="{mem}"))',
)

BODY = '''def step_{i}(values: list[float]) -> float:
    """Reduce the values of step {i}."""
    total = 0.0
    for v in values:
        total += v * {k}
    return total
'''


def module(tasks: int) -> str:
    """A module declaring `tasks` tasks and a workflow that overrides some of them."""
    parts = [HEADER]
    for i in range(tasks):
        cpu, cpu2 = (("1", "2"), ("2", "4"), ("500m", "1"))[i % 3]
        mem = ("512Mi", "1Gi", "4Gi", "16Gi")[i % 4]
        decorator = DECLARATIONS[i % len(DECLARATIONS)].format(cpu=cpu, cpu2=cpu2, mem=mem)
        parts.append(f"\n{decorator}\n{BODY.format(i=i, k=i % 7 + 1)}")
    calls = "\n".join(
        f'    v{i} = step_{i}(values=values).with_overrides(limits=Resources(mem="8Gi"))' for i in range(0, tasks, 50)
    )
    parts.append(f"\n@workflow\ndef wf(values: list[float]) -> None:\n{calls}\n")
    return "\n".join(parts)


def command() -> list[str]:
    """The `flyteres migrate` command of the environment running this script."""
    return [str(Path(sys.executable).with_name("flyteres")), "migrate"]


def measure(path: Path, limit: float) -> tuple[float, float, int] | None:
    """Seconds, the peak memory (MiB) of the command and its worker, and the exit code; None past `limit`."""
    argv = [*command(), "--diff", "--jobs", "1", str(path)]
    start = time.perf_counter()
    with open(os.devnull, "wb") as null:
        proc = subprocess.Popen(argv, stdout=null, stderr=null)
    deadline = start + limit
    while True:
        # wait4 gives the resource use of the command and of every process it waited for (its worker).
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            proc.kill()
            proc.wait()
            return None
        time.sleep(0.05)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - start, usage.ru_maxrss / 1024, proc.returncode


def main() -> int:
    quick = "--quick" in sys.argv[1:]
    ok = True
    with tempfile.TemporaryDirectory(prefix="flyteres-scale-") as tmp:
        print(f"command:  {Path(command()[0]).name} migrate --diff --jobs 1 FILE  ({os.cpu_count()} CPUs here)")
        previous: float | None = None
        for tasks in SERIES:
            path = Path(tmp) / f"tasks_{tasks}.py"
            path.write_text(module(tasks))
            # The faster of two runs: the machine may be busy with other work.
            runs = [measure(path, TIME_LIMIT) for _ in range(2)]
            result = None if None in runs else min(r for r in runs if r is not None)
            if result is None:
                print(f"{tasks:>6} tasks  {path.stat().st_size / 1e6:5.2f} MB  did not finish in {TIME_LIMIT:.0f}s")
                ok = False
                break
            seconds, peak, code = result
            ratio = f"x{seconds / previous:.2f}" if previous else ""
            if previous and seconds / previous > TARGET_RATIO:
                ok = False
            print(
                f"{tasks:>6} tasks  {path.stat().st_size / 1e6:5.2f} MB  {seconds:7.2f}s  peak {peak:7.0f} MiB"
                f"  exit {code}  {ratio}"
            )
            previous = seconds
        print(f"target:   each doubling of the tasks at most x{TARGET_RATIO} the time")
        if not quick:
            per_task = len(module(1000)) / 1000
            tasks = int(BIG_BYTES / per_task) + 1
            path = Path(tmp) / "big.py"
            path.write_text(module(tasks))
            result = measure(path, BIG_TIME_LIMIT)
            size = path.stat().st_size / 1e6
            if result is None:
                print(f"5 MB:     {tasks} tasks, {size:.2f} MB: did not finish in {BIG_TIME_LIMIT:.0f}s")
                ok = False
            else:
                seconds, peak, code = result
                print(f"5 MB:     {tasks} tasks, {size:.2f} MB: {seconds:.1f}s, peak {peak:.0f} MiB, exit {code}")
    print("PASS" if ok else "MISS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
