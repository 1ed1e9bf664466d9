"""A library ValueError or OverflowError is the request's fault: INVALID_ARGUMENT with field details.

The service re-reads a bad input field by field to name every bad one; an
error the library raises for hostile input (a number too large for Kubernetes,
a field of the wrong wire type) must reach the caller as a violation of that
field, never as INTERNAL with no details (issue 13, validation gaps).
"""

from __future__ import annotations

from typing import cast

import pytest
from google.rpc import code_pb2

from flyteres import QuantityError
from flyteres.service import handlers
from flyteres.service.errors import InvalidRequestError, violation_of
from flyteres.service.read import INPUT_ERRORS
from flyteres_pb.v2 import service_pb2 as pb
from flyteres_pb.v2 import spec_pb2 as spec_pb

HOSTILE = {
    "canonical gpu 1e999": pb.SpecInput(canonical=spec_pb.ResourceSpec(requests={"gpu": "1e999"})),
    "flytekit gpu 1e999": pb.SpecInput(flytekit=pb.FlytekitSpec(limits={"gpu": "1e999"})),
    # flyteres.v2 sends the class as an enum: what flyte would not know is a number with no value.
    "flyte device class flyte does not know": pb.SpecInput(
        flyte=pb.FlyteSpec(
            gpu_device=pb.FlyteDevice(quantity=1, device_class=cast("spec_pb.DeviceClass", 99), device="V5E")
        )
    ),
    "canonical unknown device": pb.SpecInput(
        canonical=spec_pb.ResourceSpec(accelerator=spec_pb.AcceleratorSpec(device="nvidia-tesla-zz"))
    ),
}


@pytest.mark.parametrize("spec_input", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_input_is_invalid_argument_with_the_field(spec_input: pb.SpecInput) -> None:
    with pytest.raises(InvalidRequestError) as info:
        handlers.convert(pb.ConvertRequest(input=spec_input))
    assert info.value.code == code_pb2.INVALID_ARGUMENT
    assert info.value.violations
    assert all(v.field.startswith("input.") and v.description for v in info.value.violations)


def test_an_overflow_in_the_library_is_the_requests_fault() -> None:
    assert OverflowError in INPUT_ERRORS
    violation = violation_of(OverflowError("too large"), "input.flyte", "input.flyte.cpu")
    assert (violation.field, violation.description) == ("input.flyte.cpu", "too large")


def test_a_quantity_error_keeps_the_value_it_refused() -> None:
    violation = violation_of(QuantityError("1GB", "unknown suffix 'GB'"), "input.idl", "input.idl.resources")
    assert (violation.field, violation.value, violation.description) == (
        "input.idl.resources",
        "1GB",
        "unknown suffix 'GB'",
    )
