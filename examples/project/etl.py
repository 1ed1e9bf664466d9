"""Extract, transform, load: the common ways tasks declare CPU and memory."""

from flytekit import Resources, task


# Requests only: the backend copies each request into the limit.
@task(requests=Resources(cpu="500m", mem="512Mi"))
def extract(n: int) -> list[int]:
    return list(range(n))


# Limits only: the backend sets each request to the limit.
@task(limits=Resources(mem="600Mi"))
def transform(rows: list[int]) -> list[int]:
    return [r * 2 for r in rows]


# Burstable: a request below the limit.
@task(requests=Resources(cpu="1", mem="2Gi"), limits=Resources(cpu="2", mem="4Gi"))
def aggregate(rows: list[int]) -> int:
    return sum(rows)


# Asks for more memory than the platform allows: flyteadmin refuses to register it.
@task(requests=Resources(mem="16Gi"))
def heavy_join(rows: list[int]) -> int:
    return len(rows)


# A limit above the platform limit, without a request: registers, then silently gets 8Gi.
@task(limits=Resources(mem="12Gi"))
def spill(rows: list[int]) -> int:
    return max(rows, default=0)
