"""Eight H100s (flytekit)."""

from flytekit import Resources, task
from flytekit.extras.accelerators import H100


@task(requests=Resources(cpu="32", mem="256Gi"), limits=Resources(gpu="8"), accelerator=H100)
def pretrain(steps: int) -> float:
    return float(steps)
