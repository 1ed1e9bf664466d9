"""A memory limit without a request (flytekit)."""

from flytekit import Resources, task


@task(limits=Resources(mem="600Mi"))
def transform(rows: list[int]) -> list[int]:
    return [r * 2 for r in rows]
