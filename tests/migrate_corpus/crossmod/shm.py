"""A group of its own that stays on flytekit: its override has no faithful Flyte 2 form."""

from flytekit import Resources, task, workflow
from flytekit.extras.accelerators import A100


@task(requests=Resources(cpu="1"), accelerator=A100)
def fit(n: int) -> int:
    return n


@workflow
def wf_shm(n: int) -> int:
    return fit(n=n).with_overrides(shared_memory="1Gi")
