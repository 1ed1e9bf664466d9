"""Start-up of the command line: `flyteres --version` and a one-spec `flyteres convert`, median of 10 runs.

A report, not a test (tests/test_import_profile.py keeps the imports light). With `--against DIR`, the
same runs also go against another checkout's `src/` (for example a `git worktree` of main), interleaved run
by run so a busy machine slows both alike:

    .venv/bin/python benchmarks/startup.py [--against ../main]

Target: this branch within 10% of main on both (the CLI contract must not slow start-up).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = '{"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"cpu": "2", "memory": "4Gi"}}'
RUNS = 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, help="another checkout whose src/ to time as well")
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "spec.json"
        spec.write_text(SPEC)
        cases = {"--version": ["--version"], "convert one spec": ["convert", str(spec), "--to", "flyte"]}
        trees = {"this tree": ROOT / "src"}
        if args.against is not None:
            trees[str(args.against)] = args.against.resolve() / "src"
        times: dict[tuple[str, str], list[float]] = {(t, c): [] for t in trees for c in cases}
        for _ in range(args.runs):
            for tree, src in trees.items():
                env = {**os.environ, "PYTHONPATH": str(src)}
                for case, argv in cases.items():
                    start = time.perf_counter()
                    subprocess.run([sys.executable, "-m", "flyteres", *argv], env=env, capture_output=True, check=True)
                    times[(tree, case)].append(time.perf_counter() - start)
    for (tree, case), values in times.items():
        print(
            f"{tree:>24}  {case:<17} median {statistics.median(values) * 1000:6.0f} ms"
            f"  (min {min(values) * 1000:.0f}, max {max(values) * 1000:.0f}; {len(values)} runs)"
        )


if __name__ == "__main__":
    main()
