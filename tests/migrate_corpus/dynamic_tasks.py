"""@dynamic and @eager with resources: docs/patterns.md P34."""

from flytekit import Resources, dynamic, eager, task


@task(requests=Resources(cpu="1"))
def leaf(n: int) -> int:
    return n


@dynamic(limits=Resources(mem="1Gi"))
def fan_out(n: int) -> int:
    return leaf(n=n)


@eager(requests=Resources(cpu="2"), limits=Resources(cpu="2"))
async def driver(n: int) -> int:
    return await leaf(n=n)
