"""Benchmark `flyteres migrate --check` over a generated repository.

Generates 2,000 modules in a temporary directory (a third of them flytekit
task modules with varied, realistic resource declarations, the rest plain
Python of about the same size), then runs the real command line (`flyteres
migrate` when the console script has it, else `python -m flyteres.migrate`)
with `--check --jobs 2` and prints files per second. The anchor is what a
codemod without a prefilter or processes pays: parsing every file with libcst
in one process; the ratio is printed beside it.

Target: at least 200 files/s on 2 cores. Prints PASS or MISS and exits 0
either way (it is a report, not a gate). Finishes in well under a minute.

    .venv/bin/python benchmarks/migrate.py
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FILES = 2000
TARGET_FILES_PER_SECOND = 200.0
JOBS = 2
TIME_LIMIT = 45.0  # seconds for the command itself; the whole script stays under a minute

HEADER = '''"""Pipeline step {n}: {what}."""

from __future__ import annotations

import os

from flytekit import Resources, task, workflow
from flytekit.extras.accelerators import A100, L4, T4

MEM = "100Mi" if os.getenv("SANDBOX") else "{mem}"
BOX = Resources(cpu="{cpu}", mem="{mem}", ephemeral_storage="2Gi")
'''

DECLARATIONS = [
    '@task(requests=Resources(cpu="{cpu}", mem="{mem}"))',
    '@task(limits=Resources(mem="{mem}"))',
    '@task(cache=True, cache_version="1", limits=Resources(mem="{mem}"))',
    '@task(requests=Resources(cpu="{cpu}", mem="{mem}"), limits=Resources(cpu="{cpu2}", mem="{mem}"))',
    "@task(requests=BOX, limits=BOX)",
    '@task(limits=Resources(gpu="1"), accelerator=L4)',
    '@task(requests=Resources(gpu="1", mem="{mem}"), accelerator=T4)',
    '@task(requests=Resources(gpu="1"), accelerator=A100.partition_1g_5gb)',
    '@task(requests=Resources(cpu="{cpu}", mem=MEM), retries=3)',
    '@task(requests=Resources(mem="{mem}", ephemeral_storage="50Gi"))',
    "@task",
]

BODY = '''def {name}(values: list[float]) -> float:
    """Reduce the values of step {n}."""
    total = 0.0
    for i, v in enumerate(values):
        if i % 2:
            total += v * {k}
        else:
            total -= v / ({k} + 1)
    return total
'''

WORKFLOW = """@workflow
def wf_{n}(values: list[float]) -> float:
    first = {a}(values=values).with_overrides(limits=Resources(cpu="4", mem="{mem}"))
    return {b}(values=[first])
"""

PLAIN = '''"""Utility module {n}."""

from __future__ import annotations

import dataclasses
import math


@dataclasses.dataclass
class Point{n}:
    x: float
    y: float

    def norm(self) -> float:
        return math.hypot(self.x, self.y)

    def scaled(self, k: float) -> Point{n}:
        return Point{n}(self.x * k, self.y * k)


def mean_{n}(values: list[float]) -> float:
    """The average of the values, or 0.0."""
    if not values:
        return 0.0
    return sum(values) / len(values)


def spread_{n}(values: list[float]) -> float:
    m = mean_{n}(values)
    return math.sqrt(sum((v - m) ** 2 for v in values) / max(len(values), 1))


def bucket_{n}(values: list[float], size: int = {k}) -> dict[int, list[float]]:
    out: dict[int, list[float]] = {{}}
    for v in values:
        out.setdefault(int(v) // size, []).append(v)
    return out


def describe_{n}(values: list[float]) -> str:
    points = [Point{n}(v, v * 2) for v in values]
    norms = ", ".join(f"{{p.norm():.2f}}" for p in points)
    return f"mean={{mean_{n}(values):.3f}} spread={{spread_{n}(values):.3f}} norms=[{{norms}}]"
'''


def task_module(n: int, rng: random.Random) -> str:
    cpu, cpu2 = rng.choice([("1", "2"), ("2", "4"), ("500m", "1")])
    mem = rng.choice(["512Mi", "1Gi", "4Gi", "16Gi"])
    parts = [HEADER.format(n=n, what=rng.choice(["featurize", "train", "score"]), cpu=cpu, mem=mem)]
    names = []
    for i in range(rng.randint(3, 5)):
        name = f"step_{n}_{i}"
        names.append(name)
        decorator = rng.choice(DECLARATIONS).format(cpu=cpu, cpu2=cpu2, mem=mem)
        parts.append("\n" + decorator + "\n" + BODY.format(name=name, n=n, k=i + 1))
    parts.append("\n" + WORKFLOW.format(n=n, a=names[0], b=names[-1], mem=mem))
    return "\n".join(parts)


def generate(root: Path, files: int = FILES, seed: int = 7) -> int:
    """Write the tree; returns how many modules are flytekit task modules."""
    rng = random.Random(seed)
    tasks = 0
    for n in range(files):
        package = root / f"pkg{n % 20:02d}"
        package.mkdir(exist_ok=True)
        if n % 3 == 0:
            text = task_module(n, rng)
            tasks += 1
        else:
            text = PLAIN.format(n=n, k=rng.randint(2, 9))
        (package / f"mod_{n:04d}.py").write_text(text)
    return tasks


def command() -> list[str]:
    """The `flyteres migrate` command of the environment running this script."""
    return [str(Path(sys.executable).with_name("flyteres")), "migrate"]


def anchor(root: Path, deadline: float) -> tuple[int, float]:
    """Parse files with libcst in one process (what a codemod without prefilter pays), until the deadline."""
    import libcst  # noqa: PLC0415 - only the anchor needs it in this process

    start = time.perf_counter()
    parsed = 0
    for path in sorted(root.rglob("*.py")):
        libcst.parse_module(path.read_text())
        parsed += 1
        if time.perf_counter() - start > deadline:
            break
    return parsed, time.perf_counter() - start


def main() -> int:
    root = Path(tempfile.mkdtemp(prefix="flyteres-migrate-bench-"))
    try:
        tasks = generate(root)
        argv = [*command(), str(root), "--check", "--jobs", str(JOBS)]
        start = time.perf_counter()
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=TIME_LIMIT)
        except subprocess.TimeoutExpired:
            print(f"MISS: {' '.join(argv[:-4])} did not finish {FILES} files in {TIME_LIMIT:.0f}s")
            return 0
        elapsed = time.perf_counter() - start
        rate = FILES / elapsed
        summary = proc.stderr.strip().splitlines()
        totals = next((line for line in summary if line.startswith(f"{FILES} files")), "(no summary)")
        shown = " ".join(Path(a).name if i == 0 else a for i, a in enumerate(argv[:-4]))
        print(f"command:   {shown} DIR --check --jobs {JOBS}")
        print(f"tree:      {FILES} modules, {tasks} flytekit task modules, {FILES - tasks} plain")
        print(f"exit code: {proc.returncode} (1 = changes found)")
        print(f"summary:   {totals}")
        print(f"time:      {elapsed:.2f}s on {JOBS} worker processes ({os.cpu_count()} CPUs here)")
        print(f"rate:      {rate:.0f} files/s (target {TARGET_FILES_PER_SECOND:.0f})")
        parsed, spent = anchor(root, deadline=min(10.0, max(2.0, 50.0 - elapsed)))
        anchor_rate = parsed / spent
        print(f"anchor:    libcst.parse_module on every file in one process: {anchor_rate:.0f} files/s")
        print(f"ratio:     {rate / anchor_rate:.1f}x the anchor")
        ok = proc.returncode in (0, 1) and rate >= TARGET_FILES_PER_SECOND
        print("PASS" if ok else "MISS")
        return 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
