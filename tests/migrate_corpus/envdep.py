"""Values chosen when the module is imported: docs/patterns.md P13."""

import os

from flytekit import Resources, task

MEM = "100Mi" if os.getenv("SANDBOX") else "30Gi"

if os.getenv("SANDBOX"):  # noqa: SIM108 - the pattern under test
    CPU = "1"
else:
    CPU = "4"

N_DEVICES = 2
GPUS = "0" if os.getenv("LOCAL") else str(N_DEVICES)
GPU_COUNT = "1" if os.getenv("SMALL") else "2"


@task(requests=Resources(cpu=CPU, mem=MEM))
def sandboxed(n: int) -> int:
    return n


@task(limits=Resources(mem=MEM))
def capped(n: int) -> int:
    return n


@task(requests=Resources(gpu=GPUS, mem=MEM), limits=Resources(gpu=GPUS, mem=MEM))
def fit(n: int) -> int:
    return n


@task(requests=Resources(gpu=GPU_COUNT))
def gpu_choice(n: int) -> int:
    return n
