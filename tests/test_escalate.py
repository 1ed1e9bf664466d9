"""escalate(): the next spec after an OOM, with exact arithmetic and a ceiling."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import flyte.errors
import pytest
from flytekit import Resources as R

from flyteres import AcceleratorSpec, Quantity, Resource, ResourceSpec, ResourceSpecError, from_flytekit, to_flytekit
from flyteres.backend.config import PlatformConfig
from flyteres.backend.escalate import EscalationCeilingError, escalate


def memory(requests: str | None = None, limits: str | None = None) -> ResourceSpec:
    return ResourceSpec(
        requests={} if requests is None else {"memory": requests}, limits={} if limits is None else {"memory": limits}
    )


@pytest.mark.parametrize(
    ("before", "factor", "after"),
    [
        ("2Gi", 2, "4Gi"),
        ("1536Mi", 2, "3Gi"),
        ("1.5Gi", 2, "3Gi"),
        ("1Gi", 1.5, "1536Mi"),
        ("1Gi", Fraction(3, 2), "1536Mi"),
        ("500M", 2, "1G"),
        ("1G", 1.5, "1500M"),
        ("1G", Decimal("1.25"), "1250M"),
        ("600Mi", 3, "1800Mi"),
        ("1000", 2, "2k"),
        # Not a whole number of bytes: rounded up to one, in the input's binary format.
        ("1Gi", 1.3, "1395864372"),
        ("3", 1.5, "5"),
    ],
)
def test_memory_arithmetic_is_exact_and_spelled_canonically(before: str, factor: object, after: str) -> None:
    out = escalate(memory(before), factor=factor)  # type: ignore[arg-type]
    q = out.requests[Resource.MEMORY]
    assert q.text == str(q) == after
    assert q >= Quantity(before) * factor  # type: ignore[operator]


def test_request_and_limit_both_grow() -> None:
    assert escalate(memory("1536Mi", "2Gi")) == memory("3Gi", "4Gi")


def test_round_to_gives_a_readable_step() -> None:
    assert escalate(memory("1Gi"), factor=1.3, round_to="Mi") == memory("1332Mi")
    assert escalate(memory("1Gi"), factor=1.3, round_to="256Mi") == memory("1536Mi")
    with pytest.raises(ResourceSpecError, match="round_to"):
        escalate(memory("1Gi"), round_to="0")
    with pytest.raises(ResourceSpecError, match="round_to"):
        escalate(memory("1Gi"), round_to="lots")


@pytest.mark.parametrize(
    ("resource", "before", "factor", "after"),
    [
        ("cpu", "500m", 1.5, "750m"),
        ("cpu", "1m", 1.5, "2m"),
        ("cpu", "1", Fraction(4, 3), "1334m"),
        ("gpu", "1", 1.5, "2"),
        ("disk", "10Gi", 2, "20Gi"),
    ],
)
def test_other_resources_round_up_to_their_unit(resource: str, before: str, factor: object, after: str) -> None:
    out = escalate(ResourceSpec(requests={resource: before}), factor=factor, resource=resource)  # type: ignore[arg-type]
    assert [q.text for q in out.requests.values()] == [after]


def test_a_gpu_count_keeps_request_equal_to_limit() -> None:
    out = escalate(ResourceSpec(requests={"gpu": "1"}, limits={"gpu": "1"}), factor=1.5, resource="gpu")
    assert out.get("gpu") == (Quantity("2"), Quantity("2"))


def test_the_ceiling_caps_and_then_refuses() -> None:
    capped = escalate(memory("3Gi", "6Gi"), ceiling="8Gi")
    assert capped == memory("6Gi", "8Gi")
    with pytest.raises(EscalationCeilingError) as info:
        escalate(capped, ceiling="8Gi")
    err = info.value
    assert (err.resource, str(err.current), str(err.ceiling)) == ("memory", "8Gi", "8Gi")
    assert isinstance(err, ValueError)
    assert "already at 8Gi, the ceiling 8Gi" in str(err)
    with pytest.raises(EscalationCeilingError, match="already above 16Gi"):
        escalate(memory("16Gi"), ceiling=Quantity("8Gi"))


def test_a_platform_config_is_a_ceiling_and_a_starting_point() -> None:
    platform = PlatformConfig(defaults={"memory": "1Gi"}, limits={"memory": "3Gi"})
    assert escalate(ResourceSpec(requests={"cpu": "1"}), ceiling=platform) == ResourceSpec(
        requests={"cpu": "1", "memory": "2Gi"}
    )
    assert escalate(memory("2Gi"), ceiling=platform) == memory("3Gi")
    # A platform without a limit for the resource does not cap it.
    assert escalate(memory("2Gi"), ceiling=PlatformConfig()) == memory("4Gi")


def test_other_fields_are_kept() -> None:
    spec = ResourceSpec(
        requests={"cpu": "2", "memory": "1Gi", "gpu": "1"}, accelerator=AcceleratorSpec("nvidia-tesla-t4")
    )
    out = escalate(spec)
    assert out.accelerator == spec.accelerator
    assert out.requests[Resource.CPU].text == "2"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"factor": 1}, "factor"),
        ({"factor": 0.5}, "factor"),
        ({"factor": True}, "factor"),
        ({"factor": "2"}, "factor"),
        ({"ceiling": "8GB"}, "ceiling"),
        ({"resource": "disk_space"}, "resource"),
    ],
)
def test_bad_arguments_name_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(ResourceSpecError) as info:
        escalate(memory("1Gi"), **kwargs)
    assert info.value.field == field


def test_nothing_to_escalate() -> None:
    with pytest.raises(ResourceSpecError, match="sets no memory to escalate"):
        escalate(ResourceSpec(requests={"cpu": "1"}))


def test_the_flyte2_oom_loop_pattern_ends_at_the_ceiling() -> None:
    # The documented loop: retry on flyte.errors.OOMError until escalate refuses.
    assert issubclass(flyte.errors.OOMError, RuntimeError)
    spec = memory("1Gi", "1Gi")
    seen = []
    while True:
        try:
            seen.append(str(spec.limits[Resource.MEMORY]))
            raise flyte.errors.OOMError("OOMKilled", "the container ran out of memory")
        except flyte.errors.OOMError:
            try:
                spec = escalate(spec, ceiling="6Gi")
            except EscalationCeilingError:
                break
    assert seen == ["1Gi", "2Gi", "4Gi", "6Gi"]


def test_the_flytekit_pattern_overrides_requests_and_limits() -> None:
    base = from_flytekit(requests=R(mem="1Gi"), limits=R(mem="1Gi"))
    kwargs = to_flytekit(escalate(base))
    assert kwargs["requests"] == R(mem="2Gi")
    assert kwargs["limits"] == R(mem="2Gi")
