"""Memoised conversions never confuse inputs that hash alike, and never share mutable results."""

from __future__ import annotations

import flyte
import pytest
from flytekit import Resources as R

import flyteres
from flyteres import ResourceSpecError


def test_int_float_and_bool_inputs_are_told_apart() -> None:
    assert flyteres.from_flytekit(requests=R(cpu=1)).to_dict() == {"requests": {"cpu": "1"}}
    assert flyteres.from_flytekit(requests=R(cpu=1.0)).to_dict() == {"requests": {"cpu": "1.0"}}
    with pytest.raises(ResourceSpecError, match="boolean"):
        flyteres.from_flytekit(requests=R(cpu=True))
    assert flyteres.from_flyte(flyte.Resources(cpu=1)).to_dict() == {"requests": {"cpu": "1"}}
    assert flyteres.from_flyte(flyte.Resources(cpu=1.0)).to_dict() == {"requests": {"cpu": "1.0"}}


def test_a_mutated_flytekit_resources_is_read_again() -> None:
    res = R(cpu="1")
    assert flyteres.from_flytekit(requests=res).to_dict() == {"requests": {"cpu": "1"}}
    res.cpu = "2"
    assert flyteres.from_flytekit(requests=res).to_dict() == {"requests": {"cpu": "2"}}


def test_unhashable_inputs_still_convert() -> None:
    spec = flyteres.from_flytekit(resources={"cpu": ["1", "2"]})
    assert spec.to_dict() == {"requests": {"cpu": "1"}, "limits": {"cpu": "2"}}


def test_to_idl_hands_out_fresh_messages() -> None:
    spec = flyteres.ResourceSpec(requests={"cpu": "1"})
    first, _ = flyteres.to_idl(spec, "flyteidl2")
    first.requests[0].value = "999"
    second, _ = flyteres.to_idl(spec, "flyteidl2")
    assert second.requests[0].value == "1"
    assert flyteres.to_idl(spec, "flyteidl")[0].DESCRIPTOR.full_name == "flyteidl.core.Resources"
