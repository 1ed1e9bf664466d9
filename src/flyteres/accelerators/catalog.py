"""One accelerator catalog that every SDK spelling resolves through.

flytekit 1.16 and flyte 2.12 name the same hardware differently and sometimes put different device
strings on the wire (flytekit's ``H100`` is ``nvidia-h100``, flyte's ``"H100"`` is
``nvidia-tesla-h100``; flyte sends ``"H200"`` unmapped). The catalog in ``data/accelerators.json``
holds one entry per device with every spelling either SDK, flyteidl2's ``AcceleratorModel`` and the
common cloud node labels use for it, so a converter can go from any spelling to what each SDK emits.

>>> h100 = resolve("nvidia-tesla-h100")
>>> h100.name, h100.v1_device, h100.v2_device
('H100', 'nvidia-h100', 'nvidia-tesla-h100')
>>> resolve("A100").validate_partition("1g.5gb")
'1g.5gb'

Data file schema (``schema_version`` 1)::

    {"schema_version": 1, "description": str,
     "sources": {"flytekit": version, "flyte": version, "flyteidl2": version},
     "device_classes": {NAME: {"proto": wire number, "flyte": flyte's Device.device_class,
                               "kubernetes": the container resource name of its devices, or null}},
     "entries": [{
        "name": str,                      # canonical: flyte's spelling when it has one
        "device_class": NAME,             # a key of device_classes
        "accelerator_model": str | null,  # flyteidl2 AcceleratorModel value name
        "model_name": str | null,         # that value's accelerator_name option
        "v1": null | {"constant": flytekit constant name, "device": its to_flyte_idl().device,
                      "partitions": [partition_size of each partition_*/slice_* attribute]},
        "v2": null | {"name": flyte spelling, "device": ACCELERATOR_DEVICE_MAP.get(name, name),
                      "helper": "GPU" | "TPU" | "Neuron" | "AMD_GPU" | "HABANA_GAUDI"
                                | "APPLE_SILICON" | null (only through flyte.Device),
                      "quantities": [N accepted in flyte's "NAME:N" strings]},
        "partition_kind": "mig" | "tpu-slice" | null,
        "partitions": [every partition either SDK accepts, flyte's order],
        "aliases": [{"spelling": str, "deprecated": bool}],
        "node_labels": [{"key": label key, "value": label value}],
        "shared": bool, "shared_of": entry name | null,   # flyte's time-sliced "<model> shared"
        "notes": str}]}

Decisions:

* Lookup is case-insensitive and whitespace-tolerant (``" l4   SHARED "`` is ``"L4 shared"``), although
  flyte itself is case-sensitive (``flyte.GPU("t4", 1)`` raises). This is safe because no two entries
  share a spelling once case-folded, which the tests check. The entry then carries each SDK's exact
  spelling.
* ``device_class`` is the :class:`DeviceClass` string enum rather than ``DeviceClassPb``, because
  flyte 2.12 has an ``APPLE_SILICON`` class (wire number 5) that flyteidl2 2.0.51 and the flyteres.v1
  IDL do not define.
* Custom devices are explicit: ``resolve(s, custom=True)`` returns an entry with ``is_custom=True``
  whose device string is ``s`` verbatim for both SDKs, just as ``GPUAccelerator(s)`` and
  ``flyte.Device(device=s)`` send it.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from importlib import resources
from typing import Any, Literal

from flyteres._errors import FlyteresError, InvalidPartitionError, UnknownAcceleratorError

__all__ = [
    "SCHEMA_VERSION",
    "Accelerator",
    "DeviceClass",
    "DeviceClassMismatchError",
    "DeviceClassName",
    "InvalidPartitionError",
    "Match",
    "NodeLabel",
    "Role",
    "UnknownAcceleratorError",
    "catalog",
    "entries",
    "explain",
    "from_wire",
    "resolve",
]

SCHEMA_VERSION = 1
"""The ``schema_version`` this module reads; a file with another version is refused."""

PartitionKind = Literal["mig", "tpu-slice"]


class DeviceClass(str, Enum):
    """The accelerator's device class, named as in flyteidl2's ``GPUAccelerator.DeviceClass``.

    >>> DeviceClass.parse("TPU"), DeviceClass.parse(1), DeviceClass.GOOGLE_TPU.flyte_name
    (<DeviceClass.GOOGLE_TPU: 'GOOGLE_TPU'>, <DeviceClass.GOOGLE_TPU: 'GOOGLE_TPU'>, 'TPU')
    """

    NVIDIA_GPU = "NVIDIA_GPU"
    GOOGLE_TPU = "GOOGLE_TPU"
    AMAZON_NEURON = "AMAZON_NEURON"
    AMD_GPU = "AMD_GPU"
    HABANA_GAUDI = "HABANA_GAUDI"
    APPLE_SILICON = "APPLE_SILICON"

    # Cached on the member: read on every conversion, and the data file never changes in a process.
    @functools.cached_property
    def proto(self) -> int:
        """The wire number (``APPLE_SILICON`` is 5, flyte's value; flyteidl2 2.0.51 lacks it)."""
        return int(_raw()["device_classes"][self.value]["proto"])

    @functools.cached_property
    def flyte_name(self) -> str:
        """flyte's spelling in ``Device(device_class=...)``: ``GPU``, ``TPU``, ``NEURON``, ..."""
        return str(_raw()["device_classes"][self.value]["flyte"])

    @functools.cached_property
    def kubernetes_resource(self) -> str | None:
        """The Kubernetes extended resource its devices are counted in (``nvidia.com/gpu``),
        as the Flyte backend's default ``AcceleratorDeviceClasses`` configuration names it;
        None for a class the backend has no resource name for."""
        value = _raw()["device_classes"][self.value]["kubernetes"]
        return None if value is None else str(value)

    @classmethod
    def parse(cls, value: DeviceClass | str | int) -> DeviceClass:
        """Accept the IDL name, flyte's name (``"TPU"``) or the wire number.

        >>> DeviceClass.parse("NEURON")
        <DeviceClass.AMAZON_NEURON: 'AMAZON_NEURON'>
        """
        if isinstance(value, DeviceClass):
            return value
        for member in cls:
            if isinstance(value, int) and not isinstance(value, bool):
                if member.proto == value:
                    return member
            elif isinstance(value, str) and value.upper() in (member.value, member.flyte_name):
                return member
        valid = ", ".join(f"{m.value} ({m.flyte_name}, {m.proto})" for m in cls)
        raise ValueError(f"unknown device class {value!r}; valid: {valid}")

    @classmethod
    def from_flyte(cls, name: object) -> DeviceClass:
        """The class for flyte's own spelling in ``Device(device_class=...)``, exactly as flyte knows it.

        flyte sends any other string as ``NVIDIA_GPU`` (``_DeviceClassToProto.get(..., NVIDIA_GPU)``), so
        ``"tpu"`` or ``"GOOGLE_TPU"`` would be a TPU here and an NVIDIA GPU on flyte's wire: refused instead.

        >>> DeviceClass.from_flyte("TPU")
        <DeviceClass.GOOGLE_TPU: 'GOOGLE_TPU'>
        """
        for member in cls:
            if name == member.flyte_name and isinstance(name, str):
                return member
        known = ", ".join(m.flyte_name for m in cls)
        raise ValueError(
            f"flyte has no device class {name!r} and sends it as NVIDIA_GPU; write one of {known} "
            "(flyte's spellings are case-sensitive)"
        )

    def __str__(self) -> str:
        return self.value


#: The names `DeviceClass` accepts from type-checked callers.
DeviceClassName = Literal["NVIDIA_GPU", "GOOGLE_TPU", "AMAZON_NEURON", "AMD_GPU", "HABANA_GAUDI", "APPLE_SILICON"]


class Role(str, Enum):
    """What part a spelling plays for its entry."""

    NAME = "name"
    V2_NAME = "v2 name"
    ALIAS = "alias"
    DEPRECATED_ALIAS = "deprecated alias"
    FLYTEKIT_CONSTANT = "flytekit constant"
    V1_DEVICE = "v1 device string"
    V2_DEVICE = "v2 device string"
    NODE_LABEL = "node label"
    ACCELERATOR_MODEL = "accelerator model"
    MODEL_NAME = "model name"
    CUSTOM = "custom device string"

    def __str__(self) -> str:
        return self.value


class DeviceClassMismatchError(FlyteresError, ValueError):
    """A catalog spelling was given with a device class that is not its entry's."""

    def __init__(self, spelling: str, entry: str, actual: DeviceClass, requested: DeviceClass) -> None:
        self.spelling = spelling
        self.entry = entry
        self.actual = actual
        self.requested = requested
        super().__init__(f"accelerator {spelling!r} is {entry}, of device class {actual.value}, not {requested.value}")


@dataclass(frozen=True)
class NodeLabel:
    """A Kubernetes node label that identifies the device, e.g. GKE's ``cloud.google.com/gke-accelerator``."""

    key: str
    value: str

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


@dataclass(frozen=True)
class Accelerator:
    """One catalog entry: a device and every way the SDKs spell it.

    >>> t4 = resolve("nvidia-tesla-t4")
    >>> t4.name, t4.flytekit_constant, t4.v2_name, t4.max_quantity
    ('T4', 'T4', 'T4', 8)
    """

    name: str
    """Canonical name: flyte's spelling when it has one (``A100_80G``, ``L40s``, ``V5E``)."""
    device_class: DeviceClass
    accelerator_model: str | None
    """flyteidl2 ``AcceleratorModel`` value name, None when it defines none."""
    model_name: str | None
    """The ``accelerator_name`` option of that model value (``nvidia-h100``)."""
    flytekit_constant: str | None
    """Name in ``flytekit.extras.accelerators``, None when flytekit has no constant."""
    v1_device: str | None
    """What flytekit puts in ``GPUAccelerator.device``; None when flytekit has no constant."""
    v1_partitions: tuple[str, ...]
    """Partitions flytekit has ``partition_*``/``slice_*`` attributes for."""
    v2_name: str | None
    """flyte's spelling; None when flyte has none."""
    v2_device: str | None
    """What flyte puts in ``GPUAccelerator.device`` for ``v2_name`` (mapped, or the name verbatim)."""
    v2_helper: str | None
    """The flyte function that accepts ``v2_name`` (``GPU``, ``TPU``, ...); None: only ``flyte.Device``."""
    v2_quantities: tuple[int, ...]
    """The counts N that flyte's ``"NAME:N"`` strings accept; empty when there is no such string."""
    partition_kind: PartitionKind | None
    partitions: tuple[str, ...]
    """Every partition either SDK accepts (flyte's list is a superset of flytekit's)."""
    aliases: tuple[str, ...]
    deprecated_aliases: tuple[str, ...]
    """The subset of ``aliases`` an SDK accepts only with a deprecation message."""
    node_labels: tuple[NodeLabel, ...]
    shared: bool
    """A time-sliced (or MPS) share of a GPU, flyte's ``"<model> shared"`` devices."""
    shared_of: str | None
    """For a shared device, the name of the entry it shares."""
    notes: str
    is_custom: bool = False

    @property
    def max_quantity(self) -> int | None:
        """The largest N flyte's ``"NAME:N"`` string accepts (8 for most GPUs).

        None when flyte has no string form (TPUs, v1-only devices, custom devices): then nothing in
        the SDKs bounds the count, since ``flyte.GPU()`` and ``flyte.Device()`` do not check it.

        >>> resolve("RTX_PRO_6000").max_quantity, resolve("V5E").max_quantity
        (2, None)
        """
        return max(self.v2_quantities) if self.v2_quantities else None

    def validate_partition(self, partition: str) -> str:
        """Return ``partition`` if the device has it, else raise :class:`InvalidPartitionError`.

        A custom device accepts any non-empty partition: the catalog knows nothing about it.

        >>> resolve("V5P").validate_partition("2x2x1")
        '2x2x1'
        >>> resolve("H100").validate_partition("1g.5gb")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        flyteres._errors.InvalidPartitionError: H100 has no partition '1g.5gb'; valid partitions: ...
        """
        if partition in self.partitions or (self.is_custom and partition):
            return partition
        raise InvalidPartitionError(self.name, partition, self.partitions)

    def spellings(self) -> tuple[tuple[str, Role], ...]:
        """Every spelling of this entry with its role, in a stable order.

        >>> [s for s, _ in resolve("A100_80G").spellings()][:4]
        ['A100_80G', 'A100_80G', 'A100 80G', 'A100_80GB']
        """
        out: list[tuple[str, Role]] = [(self.name, Role.CUSTOM if self.is_custom else Role.NAME)]
        if self.v2_name is not None:
            out.append((self.v2_name, Role.V2_NAME))
        out.extend((a, Role.DEPRECATED_ALIAS if a in self.deprecated_aliases else Role.ALIAS) for a in self.aliases)
        if self.flytekit_constant is not None:
            out.append((self.flytekit_constant, Role.FLYTEKIT_CONSTANT))
        if self.v1_device is not None:
            out.append((self.v1_device, Role.V1_DEVICE))
        if self.v2_device is not None:
            out.append((self.v2_device, Role.V2_DEVICE))
        out.extend((label.value, Role.NODE_LABEL) for label in self.node_labels)
        if self.accelerator_model is not None:
            out.append((self.accelerator_model, Role.ACCELERATOR_MODEL))
        if self.model_name is not None:
            out.append((self.model_name, Role.MODEL_NAME))
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        """The entry's attributes as JSON types, plus ``max_quantity``.

        >>> resolve("H100").to_dict()["v1_device"]
        'nvidia-h100'
        """
        return {
            "name": self.name,
            "device_class": self.device_class.value,
            "accelerator_model": self.accelerator_model,
            "model_name": self.model_name,
            "flytekit_constant": self.flytekit_constant,
            "v1_device": self.v1_device,
            "v1_partitions": list(self.v1_partitions),
            "v2_name": self.v2_name,
            "v2_device": self.v2_device,
            "v2_helper": self.v2_helper,
            "v2_quantities": list(self.v2_quantities),
            "max_quantity": self.max_quantity,
            "partition_kind": self.partition_kind,
            "partitions": list(self.partitions),
            "aliases": list(self.aliases),
            "deprecated_aliases": list(self.deprecated_aliases),
            "node_labels": [{"key": n.key, "value": n.value} for n in self.node_labels],
            "shared": self.shared,
            "shared_of": self.shared_of,
            "notes": self.notes,
            "is_custom": self.is_custom,
        }


@dataclass(frozen=True)
class Match:
    """A spelling, the entry it resolved to, and the roles it plays there."""

    spelling: str
    entry: Accelerator
    roles: tuple[Role, ...]


# ---------------------------------------------------------------------------------------------
# Loading


@functools.cache
def _raw() -> Mapping[str, Any]:
    # importlib.resources works from a source tree, an installed wheel and a zip alike.
    text = (resources.files("flyteres.accelerators") / "data" / "accelerators.json").read_text(encoding="utf-8")
    data = json.loads(text)
    if data.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(
            f"accelerators.json has schema_version {data.get('schema_version')!r}; this flyteres reads {SCHEMA_VERSION}"
        )
    return data  # type: ignore[no-any-return]


def _entry(d: Mapping[str, Any]) -> Accelerator:
    v1: Mapping[str, Any] | None = d["v1"]
    v2: Mapping[str, Any] | None = d["v2"]
    aliases = d["aliases"]
    return Accelerator(
        name=d["name"],
        device_class=DeviceClass(d["device_class"]),
        accelerator_model=d["accelerator_model"],
        model_name=d["model_name"],
        flytekit_constant=v1["constant"] if v1 else None,
        v1_device=v1["device"] if v1 else None,
        v1_partitions=tuple(v1["partitions"]) if v1 else (),
        v2_name=v2["name"] if v2 else None,
        v2_device=v2["device"] if v2 else None,
        v2_helper=v2["helper"] if v2 else None,
        v2_quantities=tuple(v2["quantities"]) if v2 else (),
        partition_kind=d["partition_kind"],
        partitions=tuple(d["partitions"]),
        aliases=tuple(a["spelling"] for a in aliases),
        deprecated_aliases=tuple(a["spelling"] for a in aliases if a["deprecated"]),
        node_labels=tuple(NodeLabel(n["key"], n["value"]) for n in d["node_labels"]),
        shared=d["shared"],
        shared_of=d["shared_of"],
        notes=d["notes"],
    )


@functools.cache
def catalog() -> tuple[Accelerator, ...]:
    """Every catalog entry, in file order.

    >>> [a.name for a in catalog()][:3]
    ['K80', 'M60', 'P4']
    """
    return tuple(_entry(d) for d in _raw()["entries"])


def entries() -> tuple[Accelerator, ...]:
    """Same as :func:`catalog`.

    >>> entries() == catalog()
    True
    """
    return catalog()


def _key(spelling: str) -> str:
    # Case-folded with whitespace runs collapsed, so "L4  Shared" finds "L4 shared".
    return " ".join(spelling.split()).casefold()


@dataclass(frozen=True)
class _Hit:
    entry: Accelerator
    spellings: tuple[tuple[str, Role], ...]  # every (exact spelling, role) sharing this key


@functools.cache
def _index() -> dict[str, _Hit]:
    """Folded spelling -> entry; built once, so every lookup is one dict access."""
    index: dict[str, _Hit] = {}
    for entry in catalog():
        for spelling, role in entry.spellings():
            key = _key(spelling)
            found = index.get(key)
            if found is None:
                index[key] = _Hit(entry, ((spelling, role),))
            elif found.entry is not entry:
                # A data bug: resolution would depend on file order.
                raise RuntimeError(f"accelerators.json: {spelling!r} names both {found.entry.name} and {entry.name}")
            elif (spelling, role) not in found.spellings:
                index[key] = _Hit(entry, (*found.spellings, (spelling, role)))
    return index


def _roles(spelling: str, hit: _Hit) -> tuple[Role, ...]:
    # Prefer the roles whose spelling matches exactly ("t4" is Karpenter's label, "T4" the SDK
    # name); fall back to every role when the input matched only case-insensitively.
    exact = " ".join(spelling.split())
    roles = tuple(dict.fromkeys(r for s, r in hit.spellings if s == exact))
    return roles or tuple(dict.fromkeys(r for _, r in hit.spellings))


def _suggest(spelling: str, device_class: DeviceClass | None) -> list[str]:
    index = _index()
    keys = [k for k, h in index.items() if device_class is None or h.entry.device_class is device_class]
    close = difflib.get_close_matches(_key(spelling), keys, n=3, cutoff=0.6)
    return [index[k].spellings[0][0] for k in close]


def _custom(spelling: str, device_class: DeviceClass) -> Accelerator:
    return Accelerator(
        name=spelling,
        device_class=device_class,
        accelerator_model=None,
        model_name=None,
        flytekit_constant=None,
        v1_device=spelling,
        v1_partitions=(),
        v2_name=None,
        v2_device=spelling,
        v2_helper=None,
        v2_quantities=(),
        partition_kind=None,
        partitions=(),
        aliases=(),
        deprecated_aliases=(),
        node_labels=(),
        shared=False,
        shared_of=None,
        notes="custom device: not in the catalog; the device string is sent verbatim",
        is_custom=True,
    )


def _lookup(
    spelling: str,
    device_class: DeviceClass | None,
    *,
    custom: bool,
    check_class: bool,
) -> Match:
    # device_class names the class of a custom entry; check_class says whether it must also match a
    # catalog entry's class (and narrows the suggestions to that class).
    found = _index().get(_key(spelling))
    if found is not None:
        if check_class and device_class is not None and found.entry.device_class is not device_class:
            raise DeviceClassMismatchError(spelling, found.entry.name, found.entry.device_class, device_class)
        return Match(spelling, found.entry, _roles(spelling, found))
    if custom and spelling.strip():
        return Match(spelling, _custom(spelling, device_class or DeviceClass.NVIDIA_GPU), (Role.CUSTOM,))
    raise UnknownAcceleratorError(spelling, _suggest(spelling, device_class if check_class else None))


# ---------------------------------------------------------------------------------------------
# Public lookups


def explain(
    spelling: str,
    *,
    custom: bool = False,
    device_class: DeviceClass | str | int | None = None,
) -> Match:
    """Resolve ``spelling`` and say which roles it plays for its entry.

    >>> m = explain("nvidia-tesla-h100")
    >>> m.entry.name, [str(r) for r in m.roles]
    ('H100', ['v2 device string'])
    """
    cls = DeviceClass.parse(device_class) if device_class is not None else None
    return _lookup(spelling, cls, custom=custom, check_class=True)


def resolve(
    spelling: str,
    *,
    custom: bool = False,
    device_class: DeviceClass | str | int | None = None,
) -> Accelerator:
    """The entry for any spelling: a v2 name, a deprecated alias, a flytekit constant name, either
    SDK's device string, a node-label value or an ``AcceleratorModel`` name. Case-insensitive.

    Unknown spellings raise :class:`UnknownAcceleratorError` with the closest known spellings, unless
    ``custom=True``, which returns a custom entry (``is_custom=True``) whose device string is kept
    verbatim, of ``device_class`` (default NVIDIA_GPU). For a catalog spelling, ``device_class`` is a
    check: a different class raises :class:`DeviceClassMismatchError`.

    >>> resolve("A100_80GB").name, resolve("a100 80g").name
    ('A100_80G', 'A100_80G')
    >>> resolve("nvidia-foo", custom=True).v2_device
    'nvidia-foo'
    """
    return explain(spelling, custom=custom, device_class=device_class).entry


def from_wire(
    device: str,
    device_class: DeviceClass | str | int | None = None,
    *,
    custom: bool = False,
) -> Accelerator:
    """The entry for a ``GPUAccelerator.device`` string from either SDK's wire form.

    Like :func:`resolve`, except that ``NVIDIA_GPU`` (0) is not checked against the entry: it is the
    proto default, so it is also what a flytekit message (which has no device-class field) reads as
    when parsed with flyteidl2, for TPUs too. Any other class must match, and names the class of a
    custom entry.

    >>> from_wire("nvidia-h100").name, from_wire("tpu-v5p-slice", 0).name
    ('H100', 'V5P')
    >>> from_wire("AppleSilicon", 5).device_class
    <DeviceClass.APPLE_SILICON: 'APPLE_SILICON'>
    """
    cls = DeviceClass.parse(device_class) if device_class is not None else None
    check = cls is not None and cls is not DeviceClass.NVIDIA_GPU
    return _lookup(device, cls, custom=custom, check_class=check).entry
