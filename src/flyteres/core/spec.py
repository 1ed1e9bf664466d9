"""The neutral model: what a task asks for, independent of any SDK.

A `ResourceSpec` holds requests and limits per resource, the accelerator the
GPU count refers to, and the shared-memory volume. Every quantity keeps the
text it was written with (`Quantity.text`), so converting never re-spells a
value; equality compares that text, and `equivalent()` compares by value.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from types import MappingProxyType
from typing import Any, TypeVar

from flyteres._errors import (
    InvalidPartitionError,
    ResourceSpecError,
    UnknownAcceleratorError,
)
from flyteres._pb import AcceleratorModelPb
from flyteres.accelerators import Accelerator, DeviceClass, DeviceClassName, from_wire
from flyteres.core.findings import Finding
from flyteres.core.quantity import Quantity, exceeds, first_negative

DEFAULT_SHM_PATH = "/dev/shm"
# AcceleratorModel value names other than the zero value.
_ACCELERATOR_MODELS = frozenset(AcceleratorModelPb.DESCRIPTOR.values_by_name) - {"ACCELERATOR_MODEL_UNSPECIFIED"}
_ZERO = Quantity.parse("0")
#: The largest device count Kubernetes can check: it validates extended resources
#: through `MilliValue()`, an int64 of thousandths, which is garbage beyond this.
MAX_DEVICE_COUNT = Quantity.parse(str((2**63 - 1) // 1000))

# The shared-memory volume names flytekit and flyte always write.
SDK_SHM_MOUNT_NAMES = ("flyte-shared-memory", "flyte-shm")


class Resource(str, Enum):
    """The resources a spec can request or limit, in Flyte's wire order."""

    CPU = "cpu"
    MEMORY = "memory"
    GPU = "gpu"
    EPHEMERAL_STORAGE = "ephemeral_storage"
    # Legacy: flytekit < 1.10.3 wrote it and the backend ignored it. Kept so a
    # message that carries it is read without loss (and converted loudly).
    STORAGE = "storage"

    def __str__(self) -> str:
        return self.value


#: Any spelling of a quantity the model accepts: text, a number or a Quantity.
QuantityLike = Quantity | str | int | float | Decimal
# The key types of requests and limits as given: `str` for names ("cpu", "mem"), `Resource` for
# members. Type variables rather than `str | Resource`, because a Mapping's key type is invariant:
# `dict[str, str]` is no `Mapping[str | Resource, ...]`, while `Mapping[_RequestKey, ...]` takes either.
_RequestKey = TypeVar("_RequestKey", bound=str)
_LimitKey = TypeVar("_LimitKey", bound=str)

# Spellings accepted for resource names in dicts and from the SDKs.
_RESOURCE_ALIASES: dict[str, Resource] = {
    **{r.value: r for r in Resource},
    "mem": Resource.MEMORY,
    "disk": Resource.EPHEMERAL_STORAGE,
    "ephemeral-storage": Resource.EPHEMERAL_STORAGE,
}


def resource_name(name: str | Resource) -> Resource:
    """The `Resource` for a name as any SDK spells it ("mem", "disk", "cpu", ...)."""
    if isinstance(name, Resource):
        return name
    try:
        return _RESOURCE_ALIASES[name]
    except (KeyError, TypeError):
        known = ", ".join(sorted(_RESOURCE_ALIASES))
        raise ResourceSpecError("resource", name, f"not a resource name; use one of {known}") from None


@functools.lru_cache(maxsize=1024)
def catalog_entry_cached(device: str) -> Accelerator:
    """`accelerators.from_wire(device)`, remembered: specs are built for every conversion, with few devices."""
    return from_wire(device)


@dataclass(frozen=True, init=False)
class AcceleratorSpec:
    """The accelerator a GPU count refers to, exactly as it goes on the wire.

    `device` is the node-label value ("nvidia-tesla-a100"), never re-spelled.
    `device_class` is a `DeviceClass` (its `GPUAccelerator.DeviceClass` name is accepted too). `partition` is a MIG
    profile or TPU slice; `unpartitioned=True` asks for whole devices only.
    `custom=True` accepts a device the catalog does not know.

    >>> AcceleratorSpec("nvidia-tesla-a100", partition="1g.5gb").partition
    '1g.5gb'
    """

    device: str
    device_class: DeviceClass
    partition: str | None
    unpartitioned: bool
    model: str | None
    custom: bool

    def __init__(  # noqa: PLR0917 - the fields in order, as the dataclass constructor had them
        self,
        device: str,
        device_class: DeviceClass | DeviceClassName = DeviceClass.NVIDIA_GPU,
        partition: str | None = None,
        unpartitioned: bool = False,
        model: str | None = None,
        custom: bool = False,
    ) -> None:
        # Written out so type checkers accept a class's name while readers always get the enum.
        setattr_ = object.__setattr__
        setattr_(self, "device", device)
        setattr_(self, "device_class", device_class)
        setattr_(self, "partition", partition)
        setattr_(self, "unpartitioned", unpartitioned)
        setattr_(self, "model", model)
        setattr_(self, "custom", custom)
        self._validate()

    def _validate(self) -> None:
        if not isinstance(self.device, str) or not self.device:
            raise ResourceSpecError("accelerator.device", self.device, "must be a non-empty device string")
        if not isinstance(self.device_class, DeviceClass):
            # Only the IDL's names: flyte's own spellings ("TPU") are read by the flyte converter.
            member = DeviceClass.__members__.get(self.device_class) if isinstance(self.device_class, str) else None
            if member is None:
                names = ", ".join(DeviceClass.__members__)
                raise ResourceSpecError("accelerator.device_class", self.device_class, f"must be one of {names}")
            object.__setattr__(self, "device_class", member)
        # Booleans must be booleans: the string "no" is truthy, and reading it as True is a silent change.
        for name in ("unpartitioned", "custom"):
            if type(getattr(self, name)) is not bool:
                raise ResourceSpecError(f"accelerator.{name}", getattr(self, name), "must be true or false (a boolean)")
        if self.partition is not None and not isinstance(self.partition, str):
            raise ResourceSpecError("accelerator.partition", self.partition, "must be a string such as '1g.5gb'")
        if self.partition is not None and self.unpartitioned:
            raise ResourceSpecError(
                "accelerator.partition",
                self.partition,
                "a partition and unpartitioned=True exclude each other (one oneof on the wire)",
            )
        if self.model is not None and (not isinstance(self.model, str) or self.model not in _ACCELERATOR_MODELS):
            raise ResourceSpecError(
                "accelerator.model", self.model, "not an AcceleratorModel value name (such as 'NVIDIA_H100')"
            )
        if self.custom:
            return
        try:
            entry = catalog_entry_cached(self.device)
        except UnknownAcceleratorError as exc:
            raise ResourceSpecError(
                "accelerator.device", self.device, f"{exc}; or build the spec with custom=True"
            ) from None
        if self.partition is not None:
            try:
                entry.validate_partition(self.partition)
            except InvalidPartitionError as exc:
                raise ResourceSpecError("accelerator.partition", self.partition, str(exc)) from None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"device": self.device, "device_class": self.device_class.value}
        if self.partition is not None:
            out["partition"] = self.partition
        if self.unpartitioned:
            out["unpartitioned"] = True
        if self.model is not None:
            out["model"] = self.model
        if self.custom:
            out["custom"] = True
        return out


@dataclass(frozen=True, init=False)
class SharedMemorySpec:
    """A memory-backed volume at `mount_path`.

    `size_limit=None` means no size of its own (flytekit's `True`, flyte's
    `"auto"`); any quantity spelling is accepted (`"2Gi"`, a `Quantity`).
    `mount_name=None` means "the target SDK's own name"
    (flytekit: flyte-shared-memory, flyte: flyte-shm); reading either SDK's
    name gives None, since each SDK always writes its own. Only another name
    is kept, and converting it to an SDK is reported.
    """

    size_limit: Quantity | None
    mount_name: str | None
    mount_path: str

    def __init__(
        self,
        size_limit: QuantityLike | None = None,
        mount_name: str | None = None,
        mount_path: str = DEFAULT_SHM_PATH,
    ) -> None:
        # Written out so type checkers accept any quantity spelling while readers always get a Quantity.
        setattr_ = object.__setattr__
        setattr_(self, "size_limit", size_limit)
        setattr_(self, "mount_name", mount_name)
        setattr_(self, "mount_path", mount_path)
        self._validate()

    @classmethod
    def _of_size(cls, size_limit: Quantity | None) -> SharedMemorySpec:
        """The SDKs' volume (their own name, /dev/shm) of a size already read as a Quantity:
        what the converters build for every spec with shared memory, so checked directly."""
        if size_limit is not None and size_limit.is_negative():
            raise ResourceSpecError("shared_memory.size_limit", size_limit.text, "must not be negative")
        shm = object.__new__(cls)
        vars(shm).update(size_limit=size_limit, mount_name=None, mount_path=DEFAULT_SHM_PATH)
        return shm

    def _validate(self) -> None:
        if self.mount_name is not None and not isinstance(self.mount_name, str):
            raise ResourceSpecError("shared_memory.mount_name", self.mount_name, "must be a volume name (a string)")
        if not isinstance(self.mount_path, str) or not self.mount_path.startswith("/"):
            raise ResourceSpecError(
                "shared_memory.mount_path", self.mount_path, "must be an absolute path such as /dev/shm"
            )
        if self.mount_name in SDK_SHM_MOUNT_NAMES or self.mount_name == "":
            object.__setattr__(self, "mount_name", None)
        if self.size_limit is not None and not isinstance(self.size_limit, Quantity):
            object.__setattr__(self, "size_limit", as_quantity("shared_memory.size_limit", self.size_limit))
        if self.size_limit is not None and self.size_limit < _ZERO:
            raise ResourceSpecError("shared_memory.size_limit", self.size_limit.text, "must not be negative")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"size_limit": None if self.size_limit is None else self.size_limit.text}
        if self.mount_name is not None:
            out["mount_name"] = self.mount_name
        if self.mount_path != DEFAULT_SHM_PATH:
            out["mount_path"] = self.mount_path
        return out


def as_quantity(where: str, value: object) -> Quantity:
    """`value` as a Quantity, or a ResourceSpecError naming `where`."""
    if isinstance(value, Quantity):
        return value
    if isinstance(value, bool):
        raise ResourceSpecError(where, value, "a boolean is not a quantity")
    try:
        return Quantity.from_value(value)  # type: ignore[arg-type]
    except (ValueError, TypeError) as exc:
        raise ResourceSpecError(where, value, str(exc)) from None


_RESOURCES = tuple(Resource)  # iterating the enum class is slow on hot paths
_GPU = Resource.GPU  # and so is reading an enum member off its class


# Every set of resources, as a tuple in the resources' order: one lookup says a dict is in order.
_IN_ORDER = frozenset(
    tuple(r for i, r in enumerate(_RESOURCES) if mask >> i & 1) for mask in range(1, 2 ** len(_RESOURCES))
)


def _ordered(values: dict[Resource, Quantity]) -> Mapping[Resource, Quantity]:
    """`values` read-only and in the resources' order (the order every writer uses).

    Takes the dict over: `_from_parts` callers hand in dicts they built for the spec.
    """
    if not values:
        return _EMPTY
    if tuple(values) in _IN_ORDER:
        return MappingProxyType(values)
    return MappingProxyType({r: values[r] for r in _RESOURCES if r in values})


def _freeze(where: str, values: object) -> Mapping[Resource, Quantity]:
    if values is None:
        return _EMPTY
    if not isinstance(values, Mapping):
        raise ResourceSpecError(where, values, "must be a mapping of resource name to quantity")
    if not values:
        return _EMPTY
    out: dict[Resource, Quantity] = {}
    for key, value in values.items():
        name = key if isinstance(key, Resource) else resource_name(key)
        if name in out:
            raise ResourceSpecError(f"{where}.{name}", value, "given twice under different spellings")
        out[name] = value if isinstance(value, Quantity) else as_quantity(f"{where}.{name}", value)
    return MappingProxyType({r: out[r] for r in _RESOURCES if r in out})


_EMPTY: Mapping[Resource, Quantity] = MappingProxyType({})


@dataclass(frozen=True, eq=False, init=False)
class ResourceSpec:
    """What a task asks for: immutable, validated, SDK-neutral.

    >>> spec = ResourceSpec(requests={"cpu": "1", "memory": "2Gi"}, limits={"memory": "4Gi"})
    >>> spec.requests[Resource.MEMORY].text
    '2Gi'
    >>> ResourceSpec.from_json(spec.to_json()) == spec
    True

    `requests` and `limits` map resource names (`"cpu"`, `"mem"`, `Resource.GPU`,
    ...) to quantities in any spelling (`"500m"`, `2`, `0.5`, a `Quantity`); the
    attributes always hold `Resource` keys and `Quantity` values.

    Validation rejects negative quantities, a request above its limit, a GPU
    count that is fractional or differs between requests and limits, and a
    shared-memory size above the memory limit.
    """

    requests: Mapping[Resource, Quantity]
    limits: Mapping[Resource, Quantity]
    accelerator: AcceleratorSpec | None
    shared_memory: SharedMemorySpec | None
    # What reading the input already noticed (type fixes, ignored values); not
    # part of equality. Conversions report these along with their own.
    findings: tuple[Finding, ...] = field(repr=False)

    def __init__(
        self,
        requests: Mapping[_RequestKey, QuantityLike] | None = None,
        limits: Mapping[_LimitKey, QuantityLike] | None = None,
        accelerator: AcceleratorSpec | None = None,
        shared_memory: SharedMemorySpec | None = None,
        findings: Iterable[Finding] = (),
    ) -> None:
        # Written out so type checkers accept names and quantity spellings while readers get the model's types.
        setattr_ = object.__setattr__
        setattr_(self, "requests", _freeze("requests", requests))
        setattr_(self, "limits", _freeze("limits", limits))
        try:
            setattr_(self, "findings", tuple(findings))
        except TypeError:
            raise ResourceSpecError("findings", findings, "must be a sequence of findings") from None
        if accelerator is not None and not isinstance(accelerator, AcceleratorSpec):
            raise ResourceSpecError("accelerator", accelerator, "must be an AcceleratorSpec")
        if shared_memory is not None and not isinstance(shared_memory, SharedMemorySpec):
            raise ResourceSpecError("shared_memory", shared_memory, "must be a SharedMemorySpec")
        setattr_(self, "accelerator", accelerator)
        setattr_(self, "shared_memory", shared_memory)
        self._validate()

    def _validate(self) -> None:
        # Runs for every spec any conversion builds: kept to plain loops over what is present.
        requests, limits = self.requests, self.limits
        for where, values in (("requests", requests), ("limits", limits)):
            if not values:
                continue
            negative = first_negative(values)
            if negative is not None:
                raise ResourceSpecError(f"{where}.{negative}", values[negative].text, "must not be negative")
            gpu = values.get(_GPU)
            if gpu is not None:
                if not gpu.is_integer():
                    raise ResourceSpecError(f"{where}.gpu", gpu.text, "a device count must be a whole number")
                if gpu > MAX_DEVICE_COUNT:
                    raise ResourceSpecError(
                        f"{where}.gpu",
                        gpu.text,
                        f"a device count above {MAX_DEVICE_COUNT} does not fit Kubernetes' 64-bit milli-units",
                    )
        if requests and limits:
            for name, lim in limits.items():
                req = requests.get(name)
                if req is None:
                    continue
                if name is _GPU and req != lim:
                    raise ResourceSpecError(
                        "limits.gpu",
                        lim.text,
                        f"differs from the request {req.text!r}; Kubernetes requires request == limit "
                        "for devices (extended resources)",
                    )
                if exceeds(req, lim):
                    raise ResourceSpecError(
                        f"requests.{name}",
                        req.text,
                        f"is greater than the limit {lim.text!r}; lower it or raise the limit",
                    )
        shm = self.shared_memory
        if shm is not None and shm.size_limit is not None:
            mem_limit = limits.get(Resource.MEMORY)
            if mem_limit is not None and shm.size_limit > mem_limit:
                raise ResourceSpecError(
                    "shared_memory.size_limit",
                    shm.size_limit.text,
                    f"is larger than the memory limit {mem_limit.text!r}; shared memory counts against it",
                )

    @classmethod
    def _from_parts(
        cls,
        requests: dict[Resource, Quantity],
        limits: dict[Resource, Quantity],
        accelerator: AcceleratorSpec | None = None,
        shared_memory: SharedMemorySpec | None = None,
        findings: tuple[Finding, ...] = (),
    ) -> ResourceSpec:
        """Build from maps already keyed by `Resource` with `Quantity` values
        (what the converters produce): skips normalising the keys, not validation.

        The spec takes the two dicts over, without a copy: pass dicts built for it, and do
        not change them afterwards.
        """
        spec = object.__new__(cls)
        # The instance's own dict, filled at once: the frozen dataclass refuses setattr, and
        # this is the one constructor every conversion goes through.
        vars(spec).update(
            requests=_ordered(requests),
            limits=_ordered(limits),
            accelerator=accelerator,
            shared_memory=shared_memory,
            findings=findings,
        )
        spec._validate()
        return spec

    # -- accessors -------------------------------------------------------------------------------

    def get(self, name: str | Resource) -> tuple[Quantity | None, Quantity | None]:
        """The (request, limit) pair for one resource; either may be None."""
        r = resource_name(name)
        return self.requests.get(r), self.limits.get(r)

    @property
    def gpu_count(self) -> int | None:
        """The device count, from the request or else the limit (they must agree)."""
        q = self.requests.get(Resource.GPU, self.limits.get(Resource.GPU))
        return None if q is None else q.value()

    def is_empty(self) -> bool:
        return not (self.requests or self.limits or self.accelerator or self.shared_memory)

    # -- serialisation ----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; quantities as the text they were written with."""
        out: dict[str, Any] = {}
        if self.requests:
            out["requests"] = {str(k): v.text for k, v in self.requests.items()}
        if self.limits:
            out["limits"] = {str(k): v.text for k, v in self.limits.items()}
        if self.accelerator is not None:
            out["accelerator"] = self.accelerator.to_dict()
        if self.shared_memory is not None:
            out["shared_memory"] = self.shared_memory.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ResourceSpec:
        """The inverse of `to_dict`; unknown keys are an error, not ignored."""
        if not isinstance(data, Mapping):
            raise ResourceSpecError("spec", data, "must be a mapping")
        _only(data, {"requests", "limits", "accelerator", "shared_memory"}, "spec")
        acc = data.get("accelerator")
        shm = data.get("shared_memory")
        accelerator = None
        if acc is not None:
            if not isinstance(acc, Mapping):
                raise ResourceSpecError("accelerator", acc, "must be a mapping")
            _only(
                acc,
                {"device", "device_class", "partition", "unpartitioned", "model", "custom"},
                "accelerator",
            )
            if "device" not in acc:
                raise ResourceSpecError("accelerator.device", None, "required: the device string")
            accelerator = AcceleratorSpec(**acc)
        shared_memory = None
        if shm is not None:
            if not isinstance(shm, Mapping):
                raise ResourceSpecError("shared_memory", shm, "must be a mapping")
            _only(shm, {"size_limit", "mount_name", "mount_path"}, "shared_memory")
            size = shm.get("size_limit")
            shared_memory = SharedMemorySpec(
                size_limit=None if size is None else as_quantity("shared_memory.size_limit", size),
                mount_name=shm.get("mount_name"),
                mount_path=shm.get("mount_path", DEFAULT_SHM_PATH),
            )
        # JSON values, so Any; passed as keywords because mypy cannot solve __init__'s key
        # type variables through `cls` (a `type[Self]`), though it can through `ResourceSpec`.
        parts: dict[str, Any] = {
            "requests": _mapping(data.get("requests"), "requests"),
            "limits": _mapping(data.get("limits"), "limits"),
        }
        return cls(**parts, accelerator=accelerator, shared_memory=shared_memory)

    def to_json(self, *, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> ResourceSpec:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ResourceSpecError("spec", text, f"not valid JSON: {exc}") from None
        return cls.from_dict(data)

    # -- comparison -------------------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ResourceSpec):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(json.dumps(self.to_dict(), sort_keys=True))

    def equivalent(self, other: ResourceSpec) -> bool:
        """Equal by value: "1Gi" and "1024Mi" match here but not under ==."""
        return (
            dict(self.requests) == dict(other.requests)
            and dict(self.limits) == dict(other.limits)
            and self.accelerator == other.accelerator
            and _shm_key(self.shared_memory) == _shm_key(other.shared_memory)
        )

    def replace(self, **changes: Any) -> ResourceSpec:
        """A copy with some fields changed (validated again)."""
        fields_: dict[str, Any] = {
            "requests": self.requests,
            "limits": self.limits,
            "accelerator": self.accelerator,
            "shared_memory": self.shared_memory,
            "findings": self.findings,
        }
        fields_.update(changes)
        return ResourceSpec(**fields_)

    def __repr__(self) -> str:
        parts = []
        for label, values in (("requests", self.requests), ("limits", self.limits)):
            if values:
                inner = ", ".join(f"{k}={v.text!r}" for k, v in values.items())
                parts.append(f"{label}={{{inner}}}")
        if self.accelerator is not None:
            acc = self.accelerator
            extra = f"[{acc.partition}]" if acc.partition else "[unpartitioned]" if acc.unpartitioned else ""
            cls = "" if acc.device_class == "NVIDIA_GPU" else f" ({acc.device_class})"
            parts.append(f"accelerator={acc.device}{extra}{cls}")
        if self.shared_memory is not None:
            size = self.shared_memory.size_limit
            parts.append(f"shared_memory={'auto' if size is None else size.text}")
        return f"ResourceSpec({', '.join(parts)})"


def _shm_key(shm: SharedMemorySpec | None) -> tuple[Any, ...] | None:
    return None if shm is None else (shm.size_limit, shm.mount_name, shm.mount_path)


def _only(data: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    extra = sorted(set(data) - set(allowed))
    if extra:
        raise ResourceSpecError(where, extra, f"unknown keys; allowed: {', '.join(sorted(allowed))}")


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ResourceSpecError(where, value, "must be a mapping of resource name to quantity")
    return value
