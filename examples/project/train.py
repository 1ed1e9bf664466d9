"""GPU tasks."""

from flytekit import Resources, task
from flytekit.extras.accelerators import A100, T4


@task(requests=Resources(cpu="2", mem="6Gi", gpu="1"), limits=Resources(gpu="1"), accelerator=T4)
def fine_tune(dataset: str) -> str:
    return dataset


# Two GPUs fit the platform limit, but the namespace quota allows one at a time.
@task(requests=Resources(cpu="4", mem="8Gi", gpu="2"), accelerator=A100)
def train_multi_gpu(dataset: str) -> str:
    return dataset
