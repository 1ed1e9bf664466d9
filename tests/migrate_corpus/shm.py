"""Shared memory: docs/patterns.md P21."""

from flytekit import Resources, task
from flytekit.extras.accelerators import A100


@task(requests=Resources(cpu="8", mem="32Gi", gpu="1"), accelerator=A100, shared_memory=True)
def dataloader_heavy(n: int) -> int:
    return n


@task(requests=Resources(mem="32Gi"), shared_memory="2Gi")
def sized(n: int) -> int:
    return n
