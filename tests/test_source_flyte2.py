"""Reading Flyte 2 source gives what the real flyte SDK gives, for every form of `flyte.Resources`.

Each case is a `flyte.Resources(...)` expression. It is evaluated twice: by
the installed flyte (then `flyteres.from_flyte`) and by `find_declarations`
reading it out of a module, without importing flyte. The specs must be equal;
where flyte refuses the values, the reading must refuse them too, with
flyte's reason (its long lists of allowed names shortened). The signatures
the reader relies on (positional order of `TaskEnvironment`, `clone_with` and
`Resources`) are compared with flyte's own.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
import re

import flyte
import pytest

from flyteres import accelerators, from_flyte
from flyteres._errors import ResourceSpecError
from flyteres.source import flyte_resources
from flyteres.source.analysis import find_declarations
from flyteres.source.flyte2 import CLONE_WITH_PARAMETERS, TASK_ENVIRONMENT_PARAMETERS
from flyteres.source.model import DeclarationKind
from flyteres.source.names import FLYTE_POSITIONAL_FIELDS


def _catalog_cases() -> list[str]:
    """Every accelerator string and helper spelling the catalog knows for flyte."""
    out: list[str] = []
    for e in accelerators.catalog():
        if e.v2_name is None:
            continue
        out += [f'flyte.Resources(gpu="{e.v2_name}:{q}")' for q in e.v2_quantities]
        match e.v2_helper:
            case "GPU":
                out.append(f'flyte.Resources(gpu=flyte.GPU("{e.v2_name}", 1))')
                out += [f'flyte.Resources(gpu=flyte.GPU("{e.v2_name}", 2, "{p}"))' for p in e.partitions[:2]]
            case "TPU":
                out.append(f'flyte.Resources(gpu=flyte.TPU("{e.v2_name}"))')
                out += [f'flyte.Resources(gpu=flyte.TPU("{e.v2_name}", "{p}"))' for p in e.partitions[:2]]
            case "Neuron" | "AMD_GPU" | "HABANA_GAUDI":
                out.append(f'flyte.Resources(gpu=flyte.{e.v2_helper}("{e.v2_name}"))')
            case "APPLE_SILICON":
                out.append("flyte.Resources(gpu=flyte.APPLE_SILICON())")
        cls = e.device_class.flyte_name
        out.append(f'flyte.Resources(gpu=flyte.Device(quantity=2, device_class="{cls}", device="{e.v2_name}"))')
        for alias in e.deprecated_aliases:
            out.append(f'flyte.Resources(gpu="{alias}:1")')
            out.append(f'flyte.Resources(gpu=flyte.GPU("{alias}", 1))')
    return out


CASES = [
    # cpu and memory: scalars, pairs, numbers, zeros
    'flyte.Resources(cpu=(1, 2), memory="16Gi", gpu="H100:8", shm="auto")',
    'flyte.Resources(cpu=6, memory="600Mi")',
    'flyte.Resources(cpu="500m", memory=("1Gi", "2Gi"))',
    "flyte.Resources(cpu=1.5)",
    "flyte.Resources(cpu=1.0)",
    "flyte.Resources(cpu=0)",
    'flyte.Resources(cpu="0")',
    "flyte.Resources()",
    'flyte.Resources(1, "1Gi", 2, "10Gi", "2Gi")',
    'flyte.Resources(disk="100Gi", shm="16Gi")',
    # gpu counts
    "flyte.Resources(gpu=1)",
    "flyte.Resources(gpu=0)",
    "flyte.Resources(gpu=8)",
    'flyte.Resources(gpu="AppleSilicon")',
    # devices
    'flyte.Resources(gpu=flyte.Device(quantity=4, device_class="TPU", device="V5E", partition="2x2"))',
    'flyte.Resources(gpu=flyte.Device(quantity=1, device_class="GPU", device="nvidia-h100"))',
    'flyte.Resources(gpu=flyte.Device(2, "GPU", "K80"))',
    'flyte.Resources(gpu=flyte.Device(quantity=2.0, device_class="GPU", device="x"))',
    'flyte.Resources(gpu=flyte.GPU("T4", 1, "whatever"))',
    # refused by flyte
    'flyte.Resources(gpu="A2:2")',
    'flyte.Resources(gpu="A100:9")',
    'flyte.Resources(gpu="1")',
    'flyte.Resources(gpu="nope:1")',
    "flyte.Resources(gpu=-1)",
    'flyte.Resources(gpu=("A100", 2))',
    "flyte.Resources(memory=1024)",
    'flyte.Resources(memory=("1Gi",))',
    'flyte.Resources(memory=["1Gi", "2Gi"])',
    "flyte.Resources(cpu=[1, 2])",
    "flyte.Resources(cpu=(None, 2))",
    "flyte.Resources(cpu=-1)",
    "flyte.Resources(cpu=(-1, 2))",
    "flyte.Resources(cpu=(1, 2, 3))",
    'flyte.Resources(disk=("1Gi", "2Gi"))',
    "flyte.Resources(shm=True)",
    "flyte.Resources(disk=10)",
    'flyte.Resources(mem="1Gi")',
    'flyte.Resources(1, "1Gi", 2, "10Gi", "2Gi", 3)',
    'flyte.Resources(gpu=flyte.GPU("A100", 0))',
    'flyte.Resources(gpu=flyte.GPU("K80", 1))',
    'flyte.Resources(gpu=flyte.GPU("A100", 1, "9g.99gb"))',
    'flyte.Resources(gpu=flyte.GPU("T4 shared", 1, "1g.5gb"))',
    'flyte.Resources(gpu=flyte.GPU("A100"))',
    'flyte.Resources(gpu=flyte.TPU("V5E", "3x3"))',
    'flyte.Resources(gpu=flyte.TPU("V9"))',
    'flyte.Resources(gpu=flyte.Neuron("Inf9"))',
    'flyte.Resources(gpu=flyte.AMD_GPU("MI1"))',
    'flyte.Resources(gpu=flyte.HABANA_GAUDI("Gaudi9"))',
    'flyte.Resources(gpu=flyte.Device(quantity=0, device_class="GPU", device="x"))',
    'flyte.Resources(gpu=flyte.Device(quantity="2", device_class="GPU", device="x"))',
    'flyte.Resources(gpu=flyte.Device(quantity=2, device_class="APPLE_SILICON", device="AppleSilicon"))',
    'flyte.Resources(gpu=flyte.Device(quantity=1, device_class="GPU", device="AppleSilicon"))',
    "flyte.Resources(gpu=flyte.Device(quantity=1))",
    # flyte accepts these; flyteres cannot read them into a spec (as from_flyte cannot)
    "flyte.Resources(cpu=True)",
    'flyte.Resources(gpu=flyte.Device(quantity=2, device_class="GPU"))',
    'flyte.Resources(memory="12XB")',
    *_catalog_cases(),
]


def _normalized(message: str) -> str:
    """flyte prints whole Literal lists and tuples of names; compare the messages without them."""
    message = re.sub(r"typing\.Literal\[.*?\]", "<names>", message)
    return re.sub(r"Must be one of .*$", "Must be one of <names>", message)


def _real(expr: str) -> tuple[object, str | None]:
    """(spec, None), or (None, flyte's or from_flyte's error message)."""
    logging.getLogger("flyte").disabled = True  # flyte logs a warning for its deprecated names
    try:
        resources = eval(expr, {"flyte": flyte})  # noqa: S307 - the test's own literal expressions
    except (ValueError, TypeError) as exc:
        return None, f"flyte:{exc}"
    finally:
        logging.getLogger("flyte").disabled = False
    try:
        return from_flyte(resources), None
    except ResourceSpecError as exc:
        return None, f"flyteres:{exc}"
    except (ValueError, TypeError) as exc:
        return None, f"serialize:{exc}"


@pytest.mark.parametrize("expr", CASES)
def test_reading_a_resources_expression_gives_what_flyte_gives(expr: str) -> None:
    (declaration,) = find_declarations(f'import flyte\nenv = flyte.TaskEnvironment(name="e", resources={expr})\n')
    assert declaration.kind is DeclarationKind.ENVIRONMENT
    spec, error = _real(expr)
    if error is None:
        assert declaration.reason is None, declaration.reason
        assert declaration.spec == spec
        assert declaration.spec is not None
        assert spec is not None
        assert declaration.spec.findings == spec.findings  # type: ignore[attr-defined]
        return
    assert declaration.spec is None
    source, _, message = error.partition(":")
    assert declaration.reason is not None
    if source == "flyte":
        assert declaration.refused, declaration.reason
        assert _normalized(message) in _normalized(declaration.reason), (declaration.reason, message)
    else:
        assert not declaration.refused or source == "serialize", declaration.reason
        assert message in declaration.reason


@pytest.mark.parametrize("name", ["GPU", "TPU", "Neuron", "AMD_GPU", "HABANA_GAUDI", "APPLE_SILICON", "Device"])
def test_the_helpers_keep_flytes_signatures(name: str) -> None:
    ours = inspect.signature(flyte_resources.HELPERS[name])
    theirs = inspect.signature(getattr(flyte, name))
    assert list(ours.parameters) == list(theirs.parameters)
    assert [p.default for p in ours.parameters.values()] == [p.default for p in theirs.parameters.values()]


def test_positional_orders_are_flytes() -> None:
    assert tuple(f.name for f in dataclasses.fields(flyte.TaskEnvironment) if f.init) == TASK_ENVIRONMENT_PARAMETERS
    clone = inspect.signature(flyte.TaskEnvironment.clone_with).parameters.values()
    assert (
        tuple(p.name for p in clone if p.kind is p.POSITIONAL_OR_KEYWORD and p.name != "self") == CLONE_WITH_PARAMETERS
    )
    assert tuple(f.name for f in dataclasses.fields(flyte.Resources)) == FLYTE_POSITIONAL_FIELDS
    override = inspect.signature(flyte.TaskTemplate.override).parameters.values()
    assert all(p.kind in (p.KEYWORD_ONLY, p.VAR_KEYWORD) for p in override if p.name != "self")
    task = inspect.signature(flyte.TaskEnvironment.task).parameters
    assert "resources" not in task  # a task takes its environment's resources


def test_accelerator_strings_are_flytes() -> None:
    from flyte._resources import Accelerators  # noqa: PLC0415 - the SDK's own table

    assert flyte_resources.accelerator_strings() == frozenset(_literal_strings(Accelerators))


def _literal_strings(literal: object) -> list[str]:
    from typing import get_args  # noqa: PLC0415

    return [a for a in get_args(literal) if isinstance(a, str)]
