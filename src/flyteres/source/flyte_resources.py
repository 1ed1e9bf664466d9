"""Flyte 2's `flyte.Resources`, read statically: the same checks flyte runs, without importing flyte.

A `flyte.Resources(...)` expression in a module is evaluated to plain values
(`flyteres.source.values`) and handed to a replica of flyte 2.12's own
classes: `Resources.__post_init__` with `_check_cpu_quantity` and
`_check_quantity_string`, `get_device`, `get_shared_memory`, the `Device`
dataclass and the helpers `GPU`, `TPU`, `Neuron`, `AMD_GPU`, `HABANA_GAUDI`
and `APPLE_SILICON` (`flyte/_resources.py`). The replica runs the same
statements on the same values, so a value flyte refuses raises the same
`ValueError` (or `TypeError`) with the same message here, and the module is
reported with flyte's reason. Only the lists of allowed names are shortened in
messages. The device tables come from the accelerator catalog, whose tests
compare them with the installed flyte.

The replica is then read by `flyteres.convert.flyte`'s own reading of a
`flyte.Resources` (`_from_flyte`), so a declaration gives exactly the
`ResourceSpec` that `flyteres.from_flyte(flyte.Resources(...))` gives for the
same values (tests/test_source_flyte2.py checks that against the real SDK for
every form). Reading a module therefore never needs the flyte package.

The functions keep flyte's names (`GPU`, `TPU`, ...), so Python's own
argument errors (`GPU() missing 1 required positional argument: 'quantity'`)
read as flyte's do.
"""

from __future__ import annotations

import ast
import functools
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from flyteres import accelerators
from flyteres._errors import ResourceSpecError
from flyteres.convert.flyte import _from_flyte  # the reading from_flyte does, minus its isinstance check
from flyteres.core.spec import ResourceSpec
from flyteres.source.names import FLYTE_POSITIONAL_FIELDS, Local
from flyteres.source.values import (
    MAX_COMBINATIONS,
    CallOpen,
    Combo,
    Evaluator,
    FieldValue,
    Leaf,
    ResourcesValue,
    combinations,
    field_value,
    shorten,
)

__all__ = [
    "AMD_GPU",
    "APPLE_SILICON",
    "GPU",
    "HABANA_GAUDI",
    "HELPERS",
    "TPU",
    "Device",
    "FlyteReader",
    "Neuron",
    "Resources",
    "accelerator_strings",
]

# -- flyte's tables, from the catalog ---------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _tables() -> dict[str, Any]:
    by_helper: dict[str, list[str]] = {}
    classes: dict[str, str] = {}
    mig: dict[str, tuple[str, ...]] = {}
    slices: dict[str, tuple[str, ...]] = {}
    shared: set[str] = set()
    strings: list[str] = []
    aliases: dict[str, str] = {}
    for e in accelerators.catalog():
        if e.v2_name is None or e.v2_helper is None:
            continue
        by_helper.setdefault(e.v2_helper, []).append(e.v2_name)
        classes[e.v2_name] = e.device_class.flyte_name
        if e.partition_kind == "mig":
            mig[e.v2_name] = e.partitions
        elif e.partition_kind == "tpu-slice":
            slices[e.v2_name] = e.partitions
        if e.shared:
            shared.add(e.v2_name)
        strings += [f"{e.v2_name}:{q}" for q in e.v2_quantities]
        for alias in e.deprecated_aliases:
            aliases[alias] = e.v2_name
    apple = tuple(by_helper.get("APPLE_SILICON", ()))
    return {
        "GPU": tuple(by_helper.get("GPU", ())),
        "TPU": tuple(by_helper.get("TPU", ())),
        "Neuron": tuple(by_helper.get("Neuron", ())),
        "AMD_GPU": tuple(by_helper.get("AMD_GPU", ())),
        "HABANA_GAUDI": tuple(by_helper.get("HABANA_GAUDI", ())),
        "APPLE": apple,
        "classes": classes,
        "mig": mig,
        "slices": slices,
        "shared": frozenset(shared),
        # "AppleSilicon" alone means the Mac's one GPU.
        "strings": frozenset([*strings, *apple]),
        "aliases": aliases,
    }


def accelerator_strings() -> frozenset[str]:
    """Every `gpu="NAME:N"` string flyte accepts (its `Accelerators` literal)."""
    return frozenset(_tables()["strings"])


def _shown(names: Sequence[str]) -> str:
    """A list of allowed names for a message (flyte prints its whole Literal)."""
    return repr(tuple(names)) if len(names) <= 12 else f"({', '.join(map(repr, names[:6]))}, ... {len(names)} names)"


def _normalize_gpu_type(device: Any) -> Any:
    return _tables()["aliases"].get(device, device)


# -- the replica ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Device:
    """flyte's `Device`: a device class, a count and optionally a device name and a partition."""

    quantity: Any
    device_class: Any
    device: Any = None
    partition: Any = None

    def __post_init__(self) -> None:
        if self.quantity < 1:
            raise ValueError("GPU quantity must be at least 1")
        apple = _tables()["APPLE"]
        if (self.device in apple) != (self.device_class == "APPLE_SILICON"):
            raise ValueError('The Apple Silicon device is device="AppleSilicon" with device_class="APPLE_SILICON"')
        if self.device_class == "APPLE_SILICON" and self.quantity != 1:
            raise ValueError("An Apple Silicon device is the Mac's single Metal GPU; quantity must be 1")

    def __repr__(self) -> str:
        # flyte's repr (rich.repr): required fields by position, the others when they are set.
        parts = [repr(self.quantity), repr(self.device_class)]
        parts += [f"{k}={getattr(self, k)!r}" for k in ("device", "partition") if getattr(self, k) is not None]
        return f"Device({', '.join(parts)})"


def GPU(device: Any, quantity: Any, partition: Any = None) -> Device:  # noqa: N802 - flyte's name
    """flyte's `GPU(device, quantity, partition)`."""
    t = _tables()
    if quantity < 1:
        raise ValueError("GPU quantity must be at least 1")
    device = _normalize_gpu_type(device)
    if device not in t["GPU"]:
        raise ValueError(f"Invalid GPU type: {device}. Must be one of {_shown(t['GPU'])}")
    if partition is not None and device in t["shared"]:
        raise ValueError(
            f"A shared GPU takes no partition, got {partition!r} for {device}. "
            "Request a plain device to use a MIG partition."
        )
    parts = t["mig"].get(device)
    if partition is not None and parts is not None and partition not in parts:
        raise ValueError(f"Invalid partition for {device}: {partition}. Must be one of {parts}")
    return Device(device=device, quantity=quantity, partition=partition, device_class="GPU")


def TPU(device: Any, partition: Any = None) -> Device:  # noqa: N802 - flyte's name
    """flyte's `TPU(device, partition)`: always one device."""
    t = _tables()
    if device not in t["TPU"]:
        raise ValueError(f"Invalid TPU type: {device}. Must be one of {t['TPU']}")
    parts = t["slices"].get(device)
    if partition is not None and parts is not None and partition not in parts:
        raise ValueError(f"Invalid partition for {device}: {partition}. Must be one of {parts}")
    return Device(1, "TPU", device, partition)


def Neuron(device: Any) -> Device:  # noqa: N802 - flyte's name
    """flyte's `Neuron(device)`."""
    if device not in _tables()["Neuron"]:
        raise ValueError(f"Invalid Neuron type: {device}. Must be one of {_tables()['Neuron']}")
    return Device(device=device, quantity=1, device_class="NEURON")


def AMD_GPU(device: Any) -> Device:  # noqa: N802 - flyte's name
    """flyte's `AMD_GPU(device)`."""
    if device not in _tables()["AMD_GPU"]:
        raise ValueError(f"Invalid AMD GPU type: {device}. Must be one of {_tables()['AMD_GPU']}")
    return Device(device=device, quantity=1, device_class="AMD_GPU")


def HABANA_GAUDI(device: Any) -> Device:  # noqa: N802 - flyte's name
    """flyte's `HABANA_GAUDI(device)`."""
    if device not in _tables()["HABANA_GAUDI"]:
        raise ValueError(f"Invalid Habana Gaudi type: {device}. Must be one of {_tables()['HABANA_GAUDI']}")
    return Device(device=device, quantity=1, device_class="HABANA_GAUDI")


def APPLE_SILICON() -> Device:  # noqa: N802 - flyte's name
    """flyte's `APPLE_SILICON()`: the Mac's one Metal GPU."""
    return Device(device="AppleSilicon", quantity=1, device_class="APPLE_SILICON")


#: The device helpers by flyte's name.
HELPERS: dict[str, Callable[..., Device]] = {
    "GPU": GPU,
    "TPU": TPU,
    "Neuron": Neuron,
    "AMD_GPU": AMD_GPU,
    "HABANA_GAUDI": HABANA_GAUDI,
    "APPLE_SILICON": APPLE_SILICON,
    "Device": Device,
}


def _check_quantity_string(field_name: str, value: Any, *, allow_pair: bool = False, allow_none: bool = True) -> None:
    if value is None:
        if allow_none:
            return
        raise ValueError(f"{field_name} pair elements must both be set, got None")
    if allow_pair and isinstance(value, tuple):
        for element in value:
            _check_quantity_string(field_name, element, allow_none=False)
        return
    if not isinstance(value, str):
        raise ValueError(
            f"{field_name} must be a Kubernetes quantity string such as '1Gi', '512Mi' or '2G', "
            f"got {type(value).__name__}: {value!r}"
        )


def _check_cpu_quantity(value: Any, *, allow_pair: bool = False, allow_none: bool = True) -> None:
    if value is None:
        if allow_none:
            return
        raise ValueError("cpu pair elements must both be set, got None")
    if allow_pair and isinstance(value, tuple):
        for element in value:
            _check_cpu_quantity(element, allow_none=False)
        return
    if not isinstance(value, (int, float, str)):
        raise ValueError(
            f"cpu must be a core count or a Kubernetes quantity string such as 1, 0.5 or '100m', "
            f"got {type(value).__name__}: {value!r}"
        )
    if isinstance(value, (int, float)) and value < 0:
        raise ValueError("cpu must be greater than or equal to 0")


@dataclass
class Resources:
    """flyte's `Resources`, with the checks its `__post_init__` makes."""

    cpu: Any = None
    memory: Any = None
    gpu: Any = None
    disk: Any = None
    shm: Any = None

    def __post_init__(self) -> None:
        if isinstance(self.cpu, tuple) and len(self.cpu) != 2:
            raise ValueError("cpu tuple must have exactly two elements")
        if isinstance(self.memory, tuple) and len(self.memory) != 2:
            raise ValueError("memory tuple must have exactly two elements")
        _check_cpu_quantity(self.cpu, allow_pair=True)
        _check_quantity_string("memory", self.memory, allow_pair=True)
        _check_quantity_string("disk", self.disk)
        _check_quantity_string("shm", self.shm)
        if self.gpu is None:
            return
        if isinstance(self.gpu, int):
            if self.gpu < 0:
                raise ValueError("gpu must be greater than or equal to 0")
        elif isinstance(self.gpu, str):
            device, sep, portion = self.gpu.partition(":")
            if device in _tables()["aliases"]:
                self.gpu = f"{_normalize_gpu_type(device)}{sep}{portion}"
            if self.gpu not in _tables()["strings"]:
                shown = sorted(_tables()["strings"])
                raise ValueError(
                    f"gpu must be one of typing.Literal[{', '.join(map(repr, shown[:3]))}, ... "
                    f"{len(shown)} strings], got {self.gpu}"
                )
        elif not isinstance(self.gpu, Device):
            raise ValueError(
                "gpu must be an accelerator string such as 'A100:4', a device count, or a "
                f"GPU()/TPU()/Device() instance, got {type(self.gpu).__name__}: {self.gpu!r}"
            )

    def get_device(self) -> Device | None:
        """The device, as flyte's `get_device` builds it (None for no GPU or `gpu=0`)."""
        if self.gpu is None:
            return None
        if isinstance(self.gpu, int):
            if self.gpu == 0:
                return None
            return Device(quantity=self.gpu, device_class="GPU")
        if isinstance(self.gpu, str):
            device, _, portion = self.gpu.partition(":")
            if device in _tables()["APPLE"]:
                return Device(device=device, device_class="APPLE_SILICON", quantity=int(portion or 1))
            device_class = _tables()["classes"].get(device)
            if device_class is None:
                raise ValueError(f"Invalid device type: {device}.")
            return Device(device=device, device_class=device_class, quantity=int(portion))
        device_value: Device = self.gpu
        return device_value

    def get_shared_memory(self) -> str | None:
        """`""` for `shm="auto"` (flyte's volume without a size), the size otherwise."""
        if self.shm is None:
            return None
        if self.shm == "auto":
            return ""
        shm: str = self.shm
        return shm


# -- reading expressions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FlyteSpec:
    """A `flyte.Resources` expression's spec, or why there is none: `refused` when flyte
    itself raises on the values (the module fails to import), else not static or invalid."""

    spec: ResourceSpec | None
    reason: str | None = None
    refused: bool = False


class FlyteReader:
    """Reads `flyte.Resources(...)` and the GPU helpers through a module's `Evaluator`."""

    def __init__(self, evaluator: Evaluator) -> None:
        self.ev = evaluator
        self.names = evaluator.names
        # Reasons that are flyte's own refusals (rather than "not static").
        self.refusals: set[str] = set()

    def refused(self, reason: str) -> str:
        self.refusals.add(reason)
        return reason

    def is_resources(self, node: ast.AST) -> bool:
        return isinstance(node, ast.Call) and self.names.flyte(node.func) == "Resources"

    def resources_value(self, node: ast.expr, local: Local) -> ResourcesValue | None:
        """A `resources=` argument of flyte: a `Resources(...)` call, inline or through a module
        constant; None for a literal `None` (no resources)."""
        return self.ev.resources_argument(node, local, self.is_resources, self._call, "flyte.Resources(...)")

    def _call(self, call: ast.Call, local: Local) -> ResourcesValue:
        ev = self.ev
        out = ResourcesValue(ev.lazy_code(call), callee_text=ev.lazy_code(call.func), call=call)
        opened = ev.positional(call)
        positional = 0
        unknown: dict[str, None] = {}
        for index, arg in enumerate(ev.text.arguments(call)):
            if isinstance(arg, ast.Starred) or (isinstance(arg, ast.keyword) and arg.arg is None):
                spans = ev.text.argument_spans(call)
                out.reason = f"unpacks arguments ({shorten(ev.text.segment(spans[index]))})"
                return out
            if isinstance(arg, ast.keyword):
                assert arg.arg is not None
                name, value, at = arg.arg, arg.value, None
                if name not in FLYTE_POSITIONAL_FIELDS:
                    unknown[name] = None
                    continue
            else:
                if positional >= len(FLYTE_POSITIONAL_FIELDS):
                    positional += 1
                    continue
                name, value, at = FLYTE_POSITIONAL_FIELDS[positional], arg, opened
                positional += 1
            if name in out.fields:
                message = f"Resources.__init__() got multiple values for argument '{name}'"
                out.reason = self.refused(f"flyte refuses {shorten(ev.code(call))}: {message}")
                return out
            out.fields[name] = self.gpu_field(value, local, at) if name == "gpu" else ev.field(value, local, at)
        if unknown or positional > len(FLYTE_POSITIONAL_FIELDS):
            try:
                Resources(*([None] * positional), **unknown)
            except TypeError as exc:
                out.reason = self.refused(f"flyte refuses {shorten(ev.code(call))}: {exc}")
        return out

    def gpu_field(self, node: ast.expr, local: Local, call_open: CallOpen = None) -> FieldValue:
        """`gpu=`: a count, an accelerator string or a device helper's `Device`."""
        values, reason, names = self._gpu(node, local, 0)
        code = self.ev.lazy_code(node, call_open)
        if reason is None and len(values) > MAX_COMBINATIONS:
            reason = f"{shorten(self.ev.code(node, call_open))} can take too many values"
        if reason is not None:
            return FieldValue(Leaf(node, code, (), reason, frozenset(names)))
        return FieldValue(Leaf(node, code, values, None, frozenset(names)))

    def _gpu(self, node: ast.expr, local: Local, depth: int) -> tuple[tuple[object, ...], str | None, set[str]]:
        ev = self.ev
        if isinstance(node, ast.Call):
            helper = self.names.flyte(node.func)
            if helper in HELPERS:
                return self._helper(helper, node, local, depth)
            return (), f"a computed value ({shorten(ev.code(node))})", set()
        if isinstance(node, ast.Name):
            return ev.through_name(node, local, depth, self._gpu)
        if isinstance(node, ast.IfExp):
            return ev.through_ifexp(node, local, depth, self._gpu)
        return ev.read(node, local, depth)

    def _helper(
        self, helper: str, call: ast.Call, local: Local, depth: int
    ) -> tuple[tuple[object, ...], str | None, set[str]]:
        """`flyte.GPU(...)` and the other helpers: the `Device` (or flyte's refusal) for every
        combination of values their arguments can take."""
        ev = self.ev
        names: set[str] = set()
        positional: list[tuple[object, ...]] = []
        keywords: dict[str, tuple[object, ...]] = {}
        ev.positional(call)
        for arg in ev.text.arguments(call):
            if isinstance(arg, ast.Starred) or (isinstance(arg, ast.keyword) and arg.arg is None):
                return (), f"unpacks arguments ({shorten(ev.code(call))})", names
            value = arg.value if isinstance(arg, ast.keyword) else arg
            values, reason, inner = ev.read(value, local, depth + 1)
            names |= inner
            if reason is not None:
                return (), reason, names
            if isinstance(arg, ast.keyword):
                assert arg.arg is not None
                keywords[arg.arg] = values
            else:
                positional.append(values)
        out: list[object] = []
        keys = list(keywords)
        for choice in itertools.islice(
            itertools.product(*positional, *(keywords[k] for k in keys)), MAX_COMBINATIONS + 1
        ):
            args, kwargs = choice[: len(positional)], dict(zip(keys, choice[len(positional) :], strict=True))
            try:
                out.append(HELPERS[helper](*args, **kwargs))
            except (ValueError, TypeError) as exc:
                return (), self.refused(f"flyte refuses {shorten(ev.code(call))}: {exc}"), names
        return tuple(out), None, names

    def spec(self, rv: ResourcesValue, line: int = 0) -> FlyteSpec:
        """The ResourceSpec of a `flyte.Resources(...)` value, as `from_flyte` reads the real one."""
        if rv.reason is not None:
            return FlyteSpec(None, rv.reason, rv.reason in self.refusals)
        for name, fv in rv.fields.items():
            for leaf in fv.leaves():
                if leaf.reason is not None:
                    return FlyteSpec(None, f"{name}: {leaf.reason}", leaf.reason in self.refusals)
        leaves = list(rv.leaves())
        combos = combinations(leaves)
        if combos is None or len(combos) != 1:
            varying = [leaf.code for leaf in leaves if len(leaf.values) > 1]
            return FlyteSpec(None, f"chosen at import time: {', '.join(shorten(c) for c in varying)}")
        return self.spec_for(rv, combos[0])

    @staticmethod
    def spec_for(rv: ResourcesValue, combo: Combo) -> FlyteSpec:
        """The spec of one combination of values (flyte's refusal or a reading error otherwise).

        Equal values give the same FlyteSpec object (a bounded memo, keyed by each value's type
        and spelling, as from_flyte's): a project repeats a few resource sets many times, and
        the backend replay is then done once per set."""
        kwargs = {name: field_value(fv, combo) for name, fv in rv.fields.items()}
        try:
            key: object = (tuple(sorted((k, _typed(v)) for k, v in kwargs.items())), rv.code)
            known = _SPECS.get(key)
        except TypeError:  # a value that does not hash (a list): no memo
            key, known = None, None
        if known is None:
            known = FlyteReader._spec_of(rv, kwargs)
            if key is not None:
                if len(_SPECS) >= _SPECS_KEPT:
                    _SPECS.clear()
                _SPECS[key] = known
        return known

    @staticmethod
    def _spec_of(rv: ResourcesValue, kwargs: dict[str, object]) -> FlyteSpec:
        try:
            resources = Resources(**kwargs)
        except (ValueError, TypeError) as exc:
            return FlyteSpec(None, f"flyte refuses {shorten(rv.code)}: {exc}{_count_hint(kwargs.get('gpu'))}", True)
        try:
            return FlyteSpec(_from_flyte(resources))
        except ResourceSpecError as exc:
            return FlyteSpec(None, str(exc))
        except (ValueError, TypeError) as exc:  # flyte would fail when it serializes the task
            return FlyteSpec(None, f"flyte cannot send {shorten(rv.code)}: {exc}", refused=True)


def _count_hint(gpu: object) -> str:
    """For a `"NAME:N"` string flyte refuses, the counts it allows for that name."""
    if not isinstance(gpu, str) or gpu in _tables()["strings"]:
        return ""
    if gpu.strip().isdigit():
        return f" (a count without a device is an int: gpu={gpu.strip()})"
    name = _normalize_gpu_type(gpu.partition(":")[0])
    counts = [s.partition(":")[2] for s in sorted(_tables()["strings"]) if s.partition(":")[0] == name]
    counts = sorted((c for c in counts if c), key=int)
    if not counts:
        return f" (flyte has no accelerator string for {name!r}; flyte.Device(...) sends any device name)"
    return f" (flyte's strings for {name} allow {', '.join(counts)} device{'s' if counts != ['1'] else ''})"


# FlyteReader.spec_for's memo: (values, text) -> FlyteSpec. The text is part of the key because a
# refusal quotes it; a clear when full keeps it bounded without bookkeeping.
_SPECS: dict[object, FlyteSpec] = {}
_SPECS_KEPT = 4096


def _typed(value: object) -> object:
    """A key that tells 1, 1.0 and True apart (they hash alike)."""
    if isinstance(value, (tuple, list)):
        return (type(value), tuple(_typed(v) for v in value))
    if isinstance(value, Device):
        return (Device, _typed(value.quantity), value.device_class, value.device, value.partition)
    return (type(value), value)
