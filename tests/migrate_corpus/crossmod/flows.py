"""Workflows that override the resources of tasks declared in `tasks`."""

from flytekit import Resources, workflow
from flytekit.extras.accelerators import L4

from . import tasks
from .tasks import embed, extract
from .tasks import light as small


@workflow
def wf_limits(xs: list[int]) -> int:
    return tasks.summarize(xs=xs).with_overrides(limits=Resources(cpu="4", mem="4Gi"))


@workflow
def wf_requests(n: int) -> int:
    return extract(n=n).with_overrides(requests=Resources(mem="2Gi"))


@workflow
def wf_accelerator(n: int) -> int:
    return embed(n=n).with_overrides(requests=Resources(gpu="1", mem="16Gi"), accelerator=L4, retries=2)


@workflow
def wf_alias(n: int) -> int:
    return small(n=n).with_overrides(resources=Resources(cpu="3", mem=("1Gi", "4Gi")))
