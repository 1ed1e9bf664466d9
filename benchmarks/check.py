"""Benchmark `flyteres check` and `flyteres verify` over generated task-heavy trees.

Every generated module declares tasks (no plain-Python filler): the OLD tree
is flytekit (tasks with varied, realistic resources, a workflow with an
override, a `@dynamic`), the NEW tree is the same project in Flyte 2 (one
`TaskEnvironment` per resource set, the same task names, the workflow as an
async task with `override`), so `verify OLD NEW` pairs every task. Reported:

- `check` over each tree, files/s;
- `verify OLD NEW`, files/s of both trees;
- `check` of one module with 1,000, 2,000 and 4,000 tasks, seconds: the time
  must grow linearly with the tasks in a file.

Each rate is printed beside `ast.parse` alone over the same files in this
process, the ceiling (no reader can be faster than parsing). The machine is
shared and its speed drifts, so each repetition parses the files and then
checks them, one right after the other, and the figures are the medians over
the repetitions: of each rate, and of each repetition's ratio of check to
parse (the figure to compare across runs). check and verify read in one
process by default; the rate with two worker processes is printed beside it
(it pays off only with idle cores). The library functions run in this process (`check_paths`,
`verify_paths`), so the figures are the reading and the replay, not the
interpreter's start-up.

Target: at least 1,000 files/s for check and for verify, on a machine where
`ast.parse` reads about 2,300 of these files/s: about 45 % of the parse's
rate, the figure that holds while the machine's speed drifts. Prints PASS or
MISS (by files/s) and exits 0 either way (a report, not a gate).

    .venv/bin/python benchmarks/check.py
"""

from __future__ import annotations

import ast
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from flyteres.platform import parse_platform

FILES = 2000
TARGET_FILES_PER_SECOND = 1000.0
SIZES = (1000, 2000, 4000)
RUNS = 5

PLATFORM = """
task_resources:
  defaults: {cpu: 500m, memory: 1Gi}
  limits: {cpu: "8", memory: 32Gi, gpu: "4", ephemeralStorage: 100Gi}
"""

# The same resources in each SDK: (flytekit decorator arguments, flyte.Resources arguments).
RESOURCES = [
    ('requests=Resources(cpu="1", mem="1Gi")', 'cpu="1", memory="1Gi"'),
    ('requests=Resources(cpu="500m", mem="512Mi")', 'cpu="500m", memory="512Mi"'),
    (
        'requests=Resources(cpu="1", mem="2Gi"), limits=Resources(cpu="2", mem="4Gi")',
        'cpu=("1", "2"), memory=("2Gi", "4Gi")',
    ),
    ('limits=Resources(mem="600Mi")', 'memory=("600Mi", "600Mi")'),
    ('requests=Resources(gpu="1", mem="8Gi"), accelerator=T4', 'gpu="T4:1", memory="8Gi"'),
    ('limits=Resources(gpu="1"), accelerator=L4', 'gpu="L4:1"'),
    ('requests=Resources(gpu="1"), accelerator=A100.partition_1g_5gb', 'gpu=flyte.GPU("A100", 1, "1g.5gb")'),
    ('resources=Resources(cpu=("500m", "1"), mem="512Mi")', 'cpu=("500m", "1"), memory="512Mi"'),
    ('requests=Resources(cpu="2", mem="4Gi", ephemeral_storage="10Gi")', 'cpu="2", memory="4Gi", disk="10Gi"'),
    ("", ""),
]  # fmt: skip

BODY = '''def {name}(values: list[float]) -> float:
    """Reduce the values of step {n}."""
    total = 0.0
    for i, v in enumerate(values):
        total += v * {k} if i % 2 else -v / ({k} + 1)
    return total
'''


def _module(n: int, rng: random.Random, tasks: int) -> tuple[str, str]:
    """One module in flytekit and in Flyte 2: the same tasks with the same resources."""
    chosen = [rng.randrange(len(RESOURCES)) for _ in range(tasks)]
    names = [f"step_{n}_{i}" for i in range(tasks)]
    old = [
        f'"""Step {n} (flytekit)."""\n',
        "from flytekit import Resources, dynamic, task, workflow",
        "from flytekit.extras.accelerators import A100, L4, T4\n",
    ]
    new = [f'"""Step {n} (Flyte 2)."""\n', "import flyte\n"]
    for kind in sorted(set(chosen)):
        resources = f", resources=flyte.Resources({RESOURCES[kind][1]})" if RESOURCES[kind][1] else ""
        new.append(f'env_{kind} = flyte.TaskEnvironment(name="m{n}_{kind}"{resources})')
    for i, (name, kind) in enumerate(zip(names, chosen, strict=True)):
        args = RESOURCES[kind][0]
        old.append(("\n@task" + (f"({args})" if args else "")) + "\n" + BODY.format(name=name, n=n, k=i + 1))
        new.append(f"\n@env_{kind}.task\n" + BODY.format(name=name, n=n, k=i + 1).replace("def ", "async def ", 1))
    first, last = names[0], names[-1]
    old.append(
        f"\n@workflow\ndef wf_{n}(values: list[float]) -> float:\n"
        f'    first = {first}(values=values).with_overrides(limits=Resources(cpu="4", mem="2Gi"))\n'
        f"    return {last}(values=[first])\n"
        f"\n@dynamic\ndef sweep_{n}(values: list[float]) -> float:\n    return {last}(values=values)\n"
    )
    new.append(
        f"\n@env_{chosen[0]}.task\nasync def wf_{n}(values: list[float]) -> float:\n"
        f'    first = await {first}.override(resources=flyte.Resources(cpu="4", memory="2Gi"))(values=values)\n'
        f"    return await {last}(values=[first])\n"
        f"\n@env_{chosen[0]}.task\nasync def sweep_{n}(values: list[float]) -> float:\n"
        f"    return await {last}(values=values)\n"
    )
    return "\n".join(old), "\n".join(new)


def generate(root: Path, files: int = FILES, seed: int = 7) -> None:
    """OLD (flytekit) and NEW (Flyte 2) trees of task modules under `root`."""
    rng = random.Random(seed)
    for n in range(files):
        old, new = _module(n, rng, rng.randint(6, 14))
        for tree, text in (("old", old), ("new", new)):
            package = root / tree / f"pkg{n % 20:02d}"
            package.mkdir(parents=True, exist_ok=True)
            (package / f"mod_{n:04d}.py").write_text(text)


def median(runs: int, work: Callable[[], object]) -> float:
    """The median of `runs` runs, in seconds (the machine is shared)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def paired(runs: int, ceiling: Callable[[], object], work: Callable[[], object]) -> tuple[float, float, float]:
    """Median seconds of `ceiling` and of `work`, run in turn `runs` times, and the median of
    each turn's ratio of the two (the machine's speed drifts: a ratio is taken within one turn)."""
    parse, read, ratio = [], [], []
    for _ in range(runs):
        start = time.perf_counter()
        ceiling()
        middle = time.perf_counter()
        work()
        end = time.perf_counter()
        parse.append(middle - start)
        read.append(end - middle)
        ratio.append((middle - start) / (end - middle))
    return statistics.median(parse), statistics.median(read), statistics.median(ratio)


def parse_all(*trees: Path) -> None:
    for tree in trees:
        for path in sorted(tree.rglob("*.py")):
            ast.parse(path.read_text())


def main() -> int:
    from flyteres.check import check_paths  # noqa: PLC0415 - imported after the generation
    from flyteres.verify import verify_paths  # noqa: PLC0415

    platform = parse_platform(PLATFORM)
    root = Path(tempfile.mkdtemp(prefix="flyteres-check-bench-"))
    ok = True
    try:
        generate(root)
        old, new = root / "old", root / "new"
        print(f"trees:       {FILES} flytekit modules and their {FILES} Flyte 2 counterparts ({os.cpu_count()} CPUs)")
        for label, tree in (("flytekit", old), ("Flyte 2", new)):
            declarations = len(check_paths([tree], platform).checked)
            parse, read, ratio = paired(RUNS, partial(parse_all, tree), partial(check_paths, [tree], platform))
            _, two, ratio_two = paired(RUNS, partial(parse_all, tree), partial(check_paths, [tree], platform, jobs=2))
            ok &= FILES / read >= TARGET_FILES_PER_SECOND
            print(
                f"check {label:8}  {declarations:6} declarations: {FILES / read:5.0f} files/s "
                f"(--jobs 2: {FILES / two:5.0f}, {ratio_two:.0%}; "
                f"ast.parse alone {FILES / parse:5.0f}: {ratio:.0%} of it)"
            )
        report = verify_paths(old, new, platform)
        parse, read, ratio = paired(RUNS, lambda: parse_all(old, new), lambda: verify_paths(old, new, platform))
        _, two, ratio_two = paired(RUNS, lambda: parse_all(old, new), lambda: verify_paths(old, new, platform, jobs=2))
        ok &= 2 * FILES / read >= TARGET_FILES_PER_SECOND
        print(
            f"verify            {len(report.pairs):6} pairs:        {2 * FILES / read:5.0f} files/s "
            f"(--jobs 2: {2 * FILES / two:5.0f}, {ratio_two:.0%}; "
            f"ast.parse alone {2 * FILES / parse:5.0f}: {ratio:.0%} of it)"
        )
        times = []
        for size in SIZES:
            one_module = root / f"one_{size}"
            one_module.mkdir()
            (one_module / "big.py").write_text(_module(0, random.Random(size), size)[1])
            times.append(median(RUNS, partial(check_paths, [one_module], platform)))
        shown = ", ".join(f"{s} tasks {t:.2f}s" for s, t in zip(SIZES, times, strict=True))
        print(f"one module:  {shown}")
        print(f"linearity:   {SIZES[-1] // SIZES[0]}x the tasks took {times[-1] / times[0]:.1f}x the time")
        print(f"target:      {TARGET_FILES_PER_SECOND:.0f} files/s for check and for verify")
        print("PASS" if ok else "MISS")
        return 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
