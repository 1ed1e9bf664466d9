"""Node overrides: docs/patterns.md P22-P28."""

from flytekit import Resources, map_task, task, workflow
from flytekit.extras.accelerators import A100, L4, T4


@task(requests=Resources(cpu="1", mem="1Gi"), limits=Resources(cpu="2", mem="2Gi"))
def summarize(xs: list[int]) -> int:
    return sum(xs)


@task(requests=Resources(gpu="1", mem="8Gi"), accelerator=T4)
def build_index(n: int) -> int:
    return n


@task(requests=Resources(gpu="2"), accelerator=T4)
def rerank(n: int) -> int:
    return n


@task(requests=Resources(mem="1Gi"))
def score_one(item: int) -> int:
    return item


@task(limits=Resources(mem="1Gi"))
def light(n: int) -> int:
    return n


@task(requests=Resources(cpu="1"))
def shared(n: int) -> int:
    return n


@task(requests=Resources(cpu="1"))
def chained(n: int) -> int:
    return n


@task
def plain(n: int) -> int:
    return n


# P22: a limits override on a task that has requests.
@workflow
def wf_limits(xs: list[int]) -> int:
    return summarize(xs=xs).with_overrides(limits=Resources(cpu="4", mem="4Gi"))


# P23: resources, accelerator and image together.
@workflow
def wf_multi(n: int) -> int:
    return build_index(n=n).with_overrides(
        container_image="ghcr.io/example/gpu:1", requests=Resources(cpu="2", mem="16Gi", gpu="1"), accelerator=L4
    )


# The accelerator alone: Flyte 2 needs the task's count with it.
@workflow
def wf_accelerator(n: int) -> int:
    return rerank(n=n).with_overrides(accelerator=A100.partition_1g_5gb)


# P24: over a map task.
@workflow
def wf_map(xs: list[int]) -> list[int]:
    return map_task(score_one)(item=xs).with_overrides(requests=Resources(mem="2Gi"))


# P26: the unified form in an override, with a limit-only task underneath.
@workflow
def wf_resources(n: int) -> int:
    return light(n=n).with_overrides(resources=Resources(cpu="3", mem=("1Gi", "4Gi")))


# P27: chained overrides (flytekit drops the first accelerator).
@workflow
def wf_chained(n: int) -> int:
    return chained(n=n).with_overrides(accelerator=A100).with_overrides(retries=3)


# P28: shared memory and retries in an override.
@workflow
def wf_shm(n: int) -> int:
    return shared(n=n).with_overrides(shared_memory=True, retries=2)


# An override on a task without resources of its own.
@workflow
def wf_plain(n: int) -> int:
    return plain(n=n).with_overrides(requests=Resources(cpu="2"))
