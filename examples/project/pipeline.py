"""Workflows that override task resources per call."""

from flytekit import Resources, dynamic, workflow

from .etl import aggregate, extract, transform


@workflow
def nightly(n: int) -> int:
    # Requests alone: flyteadmin already set extract's memory limit to its request (512Mi)
    # at launch, so this 2Gi request is clamped back to 512Mi.
    rows = extract(n=n).with_overrides(requests=Resources(mem="2Gi"))
    # Requests and limits together: the override takes effect.
    doubled = transform(rows=rows).with_overrides(requests=Resources(mem="1Gi"), limits=Resources(mem="1Gi"))
    # Above the platform's CPU limit: silently capped at 4.
    return aggregate(rows=doubled).with_overrides(limits=Resources(cpu="6"))


@dynamic
def sized(n: int) -> int:
    # Inside a @dynamic flyteadmin does not fill limits in first, so the request stands
    # and the limit follows it.
    rows = extract(n=n).with_overrides(requests=Resources(mem="2Gi"))
    return aggregate(rows=rows)
