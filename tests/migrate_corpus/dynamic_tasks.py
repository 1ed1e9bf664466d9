"""@dynamic and @eager with resources: docs/patterns.md P34."""

from flytekit import Resources, dynamic, eager, task
from flytekit.extras.accelerators import T4


@task(requests=Resources(cpu="1"))
def leaf(n: int) -> int:
    return n


@dynamic(limits=Resources(mem="1Gi"))
def fan_out(n: int) -> int:
    return leaf(n=n)


@eager(requests=Resources(cpu="2"), limits=Resources(cpu="2"))
async def driver(n: int) -> int:
    return await leaf(n=n)


@dynamic(requests=Resources(cpu="1", mem="2Gi", gpu="1"), accelerator=T4, shared_memory="1Gi", retries=2)
def on_gpu(n: int) -> int:
    return leaf(n=n)


@eager(resources=Resources(cpu=("1", "2"), mem="1Gi"), environment={"MODE": "eager"})
async def quick(n: int) -> int:
    return leaf(n=n)
