"""Memoised conversions never confuse inputs that hash alike, and never share mutable results."""

from __future__ import annotations

import sys
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import flyte
import pytest
from flytekit import Resources as R
from flytekit.extras import accelerators as fk

import flyteres
from flyteres import ResourceSpecError
from flyteres.convert._memo import clear_caches


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


# Issue 13, class 3: pairs of inputs that Python calls equal (or that hash alike)
# but that the SDKs write differently. Converting the first must not change the
# answer for the second: each row's second input is compared with its answer in
# a fresh state. The inputs are the SDKs' own spellings.
def _flyte_gpu(quantity: object) -> Any:
    return flyte.Resources(gpu=flyte.Device(quantity=quantity, device_class="GPU", device="A100"))  # type: ignore[arg-type]


EQUAL_BUT_DIFFERENT: dict[str, tuple[Callable[[], Any], Callable[[], Any]]] = {
    "flyte Device quantity 2 then 2.0": (
        lambda: flyteres.from_flyte(_flyte_gpu(2)),
        lambda: flyteres.from_flyte(_flyte_gpu(2.0)),
    ),
    "flyte Device quantity 1 then True": (
        lambda: flyteres.from_flyte(_flyte_gpu(1)),
        lambda: flyteres.from_flyte(_flyte_gpu(True)),
    ),
    "flyte cpu (0.0, 1) then (-0.0, 1)": (
        lambda: flyteres.from_flyte(flyte.Resources(cpu=(0.0, 1))),
        lambda: flyteres.from_flyte(flyte.Resources(cpu=(-0.0, 1))),
    ),
    "flyte cpu 1 then 1.0": (
        lambda: flyteres.from_flyte(flyte.Resources(cpu=1)),
        lambda: flyteres.from_flyte(flyte.Resources(cpu=1.0)),
    ),
    "flytekit mapping Decimal 1E+3 then 1000": (
        lambda: flyteres.from_flytekit(requests={"cpu": Decimal("1E+3")}),
        lambda: flyteres.from_flytekit(requests={"cpu": Decimal("1000")}),
    ),
    "flytekit Resources cpu 0.0 then -0.0": (
        lambda: flyteres.from_flytekit(resources=R(cpu=(0.0, 1))),
        lambda: flyteres.from_flytekit(resources=R(cpu=(-0.0, 1))),
    ),
    "flytekit mapping order mem, cpu then cpu, mem (the findings' order)": (
        lambda: flyteres.from_flytekit(requests={"mem": 1024, "cpu": 1}),
        lambda: flyteres.from_flytekit(requests={"cpu": 1, "mem": 1024}),
    ),
}


def outcome(convert: Callable[[], Any]) -> object:
    """What a conversion answers: the spec's dict and findings, or the error."""
    try:
        spec = convert()
    except Exception as exc:  # the error is the answer being compared
        return (type(exc).__name__, str(exc))
    return (spec.to_dict(), [f.to_dict() for f in spec.findings])


@pytest.mark.parametrize(("first", "second"), EQUAL_BUT_DIFFERENT.values(), ids=EQUAL_BUT_DIFFERENT.keys())
def test_a_memo_never_changes_an_answer(first: Callable[[], Any], second: Callable[[], Any]) -> None:
    clear_caches()
    fresh = outcome(second)
    clear_caches()
    outcome(first)
    assert outcome(second) == fresh


def test_clear_caches_reaches_every_cache_keyed_by_input() -> None:
    """What the fresh-process property tests rely on: no cache of an input value survives clear_caches."""
    outcome(lambda: flyteres.from_flyte(flyte.Resources(cpu=(1, 2), gpu="A100:1")))
    outcome(lambda: flyteres.from_flytekit(limits=R(gpu="1"), accelerator=fk.A100.partition_1g_5gb))
    clear_caches()
    # Caches of data, keyed by nothing a user gives: the catalog, and the IDL module per target.
    data_caches = {"_raw", "catalog", "_index", "_module", "_flytekit", "_flyte"}
    for name in [
        m for m in sys.modules if m.startswith(("flyteres.core", "flyteres.convert", "flyteres.accelerators"))
    ]:
        for attribute, value in vars(sys.modules[name]).items():
            info = getattr(value, "cache_info", None)
            if info is None or attribute in data_caches or getattr(value, "__module__", None) != name:
                continue
            assert info().currsize == 0, f"{name}.{attribute} keeps inputs across clear_caches()"
