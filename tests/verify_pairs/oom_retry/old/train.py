"""Training with an OOM retry (flytekit)."""

from flytekit import Resources, task, workflow
from flytekit.extras.accelerators import A100


@task(requests=Resources(cpu="4", mem="16Gi", gpu="1"), limits=Resources(gpu="1"), accelerator=A100)
def train(epochs: int) -> float:
    return float(epochs)


@task(requests=Resources(cpu="1", mem="1Gi"))
def report(loss: float) -> str:
    return str(loss)


@workflow
def main(epochs: int) -> str:
    # The retry after an OOM: more memory, merged per key with the task's resources.
    loss = train(epochs=epochs).with_overrides(requests=Resources(mem="32Gi"), limits=Resources(mem="32Gi"))
    return report(loss=loss)
