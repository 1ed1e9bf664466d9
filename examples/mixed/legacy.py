"""flytekit tasks not migrated yet, in the same project."""

from flytekit import Resources, task, workflow
from flytekit.extras.accelerators import T4


@task(requests=Resources(cpu="1", mem="2Gi"), limits=Resources(mem="2Gi"))
def prepare(n: int) -> list[int]:
    return list(range(n))


# A limit above the platform's: registers, then silently gets 8Gi.
@task(limits=Resources(mem="12Gi"))
def join(rows: list[int]) -> int:
    return len(rows)


@task(requests=Resources(gpu="1", mem="4Gi"), limits=Resources(gpu="1", mem="4Gi"), accelerator=T4)
def embed(rows: list[int]) -> list[int]:
    return rows


@workflow
def nightly(n: int) -> int:
    return join(rows=embed(rows=prepare(n=n)))
