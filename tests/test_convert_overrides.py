"""`with_overrides` arguments are read with flytekit's override semantics, not the task's (issue 13, class 2).

flytekit's task serializer (`_get_container_definition`) drops falsy values and
writes entries in the order ephemeral_storage, cpu, gpu, memory. Its override
path (`Node.with_overrides` -> `convert_resources_to_resource_model`) writes
`str(value)` for every value that is not None, so `gpu=0` is the entry "0"
(a GPU switched off) and `""` is sent as written, in the order cpu, mem, gpu,
ephemeral_storage. docs/semantics.md, section 1.7.
"""

from __future__ import annotations

from typing import Any

import pytest
from flytekit import Resources as R
from flytekit.core.resources import ResourceSpec as FlytekitResourceSpec
from flytekit.core.resources import convert_resources_to_resource_model
from flytekit.extras import accelerators as fk
from hypothesis import given, settings
from hypothesis import strategies as st

import flyteres
from flyteres import ResourceSpecError, from_flytekit_overrides


def override_wire(kwargs: dict[str, Any]) -> bytes:
    """The bytes flytekit's with_overrides sends for these arguments (TaskNodeOverrides.resources)."""
    requests, limits = kwargs.get("requests"), kwargs.get("limits")
    if "resources" in kwargs:
        pair = FlytekitResourceSpec.from_multiple_resource(kwargs["resources"])
        requests, limits = pair.requests, pair.limits
    return convert_resources_to_resource_model(requests=requests, limits=limits).to_flyte_idl().SerializeToString()


def ours(kwargs: dict[str, Any]) -> bytes:
    res, _ = flyteres.to_idl(from_flytekit_overrides(**kwargs), "flyteidl", site="override")
    return res.SerializeToString()


OVERRIDES: dict[str, dict[str, Any]] = {
    "gpu=0 switches a GPU off": {"limits": R(gpu=0)},
    "cpu=0 and mem=0 are entries": {"requests": R(cpu=0, mem=0)},
    "ints and floats are str()": {"requests": R(cpu=0.5, mem=1024, gpu=0)},
    "the order is cpu, mem, gpu, ephemeral_storage": {
        "requests": R(ephemeral_storage="1Gi", gpu="1", mem="2Gi", cpu="1"),
        "limits": R(ephemeral_storage="1Gi", gpu="1", mem="4Gi", cpu="2"),
    },
    "resources= splits pairs, a scalar is a request": {"resources": R(cpu=("1", "2"), mem="1Gi", gpu=0)},
    "-0.0 is written as flytekit writes it": {"requests": R(cpu=-0.0)},
}


@pytest.mark.parametrize("kwargs", OVERRIDES.values(), ids=OVERRIDES.keys())
def test_override_bytes_are_flytekits(kwargs: dict[str, Any]) -> None:
    assert ours(kwargs) == override_wire(kwargs)


def test_task_arguments_still_drop_falsy_values() -> None:
    # The task serializer's rule is unchanged for task arguments.
    assert flyteres.from_flytekit(limits=R(gpu=0)).to_dict() == {}
    assert from_flytekit_overrides(limits=R(gpu=0)).to_dict() == {"limits": {"gpu": "0"}}


def test_an_override_that_switches_the_gpu_off_is_not_read_as_a_gpu() -> None:
    # A request of 2 GPUs with an override limit of 0: devices need request == limit.
    with pytest.raises(ResourceSpecError) as info:
        from_flytekit_overrides(requests=R(gpu=2), limits=R(gpu=0))
    assert info.value.field == "limits.gpu"


def test_an_empty_string_is_refused_with_what_the_backend_does() -> None:
    with pytest.raises(ResourceSpecError, match="backend") as info:
        from_flytekit_overrides(requests=R(mem=""))
    assert info.value.field == "requests.mem"


def test_override_extended_resources_are_the_tasks() -> None:
    kwargs = {"accelerator": fk.A100.partition_1g_5gb, "shared_memory": True}
    assert from_flytekit_overrides(**kwargs) == flyteres.from_flytekit(**kwargs)


def test_site_is_checked() -> None:
    with pytest.raises(ResourceSpecError) as info:
        flyteres.to_idl(flyteres.ResourceSpec(requests={"cpu": "1"}), "flyteidl", site="node")  # type: ignore[arg-type]
    assert info.value.field == "site"


values = st.sampled_from([None, 0, 1, 2, "0", "1", "500m", "2Gi", 1024, 0.5, -0.0, 1.5, "1.5"])
int_or_str = st.sampled_from([None, 0, 1, 2, "0", "1", "2", 1024, "2Gi"])


@st.composite
def flytekit_resources(draw: Any) -> Any:
    return R(cpu=draw(values), mem=draw(int_or_str), gpu=draw(int_or_str), ephemeral_storage=draw(int_or_str))


@settings(max_examples=300, deadline=None)
@given(st.none() | flytekit_resources(), st.none() | flytekit_resources())
def test_every_override_reads_to_flytekits_bytes_or_is_refused(requests: Any, limits: Any) -> None:
    kwargs = {k: v for k, v in (("requests", requests), ("limits", limits)) if v is not None}
    try:
        got = ours(kwargs)
    except ResourceSpecError:
        # Refused: something Kubernetes or the backend would refuse (a request above its limit,
        # devices that differ, a bad quantity), never silently changed.
        return
    assert got == override_wire(kwargs)
