"""Tasks whose overrides live in another module."""

from flytekit import Resources, task
from flytekit.extras.accelerators import T4


@task(requests=Resources(cpu="1", mem="1Gi"), limits=Resources(cpu="2", mem="2Gi"))
def summarize(xs: list[int]) -> int:
    return sum(xs)


@task(requests=Resources(cpu="500m", mem="512Mi"))
def extract(n: int) -> int:
    return n


@task(requests=Resources(gpu="1", mem="8Gi"), accelerator=T4)
def embed(n: int) -> int:
    return n


@task(limits=Resources(mem="1Gi"))
def light(n: int) -> int:
    return n
