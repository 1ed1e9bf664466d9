"""ResourceSpec ⇄ protobuf messages of flyteres.v1, flyteidl.core and flyteidl2.core.

`to_idl` / `from_idl` map a spec to and from the Resources and
ExtendedResources messages a task carries; `to_idl_spec` / `from_idl_spec` map
it to and from the neutral model's own message, flyteres.v2.ResourceSpec (the
service's `canonical` input and its answers' `spec`).

The three IDLs share one wire format, so every message is built as ours and
re-read as the target type from its bytes. flyteidl (v1) has no device_class
or accelerator_model field: a v1 message keeps them as unknown fields, exactly
as a v1 parser does with flyteidl2 bytes. They are written only when they
carry information: a device class the device string does not already imply.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from google.protobuf.empty_pb2 import Empty
from google.protobuf.message import DecodeError, Message
from google.protobuf.unknown_fields import UnknownFieldSet

from flyteres._errors import ResourceSpecError
from flyteres._extras import missing_extra
from flyteres._pb import (
    AcceleratorModelPb,
    AcceleratorSpecPb,
    ExtendedResourcesPb,
    ResourceNamePb,
    ResourcesPb,
    ResourceSpecPb,
    SpecDeviceClassPb,
)
from flyteres.accelerators import DeviceClass
from flyteres.convert._shared import implied_device_class
from flyteres.core.options import IdlTarget, IdlTargetName, Site, SiteName
from flyteres.core.quantity import Quantity
from flyteres.core.spec import (
    DEFAULT_SHM_PATH,
    AcceleratorSpec,
    Resource,
    ResourceSpec,
    SharedMemorySpec,
)

if TYPE_CHECKING:
    from flyteidl.core import tasks_pb2 as flyteidl_tasks
    from flyteidl2.core import tasks_pb2 as flyteidl2_tasks

_PROTO_NAME: dict[Resource, Any] = {
    Resource.CPU: ResourceNamePb.CPU,
    Resource.MEMORY: ResourceNamePb.MEMORY,
    Resource.GPU: ResourceNamePb.GPU,
    Resource.EPHEMERAL_STORAGE: ResourceNamePb.EPHEMERAL_STORAGE,
    Resource.STORAGE: ResourceNamePb.STORAGE,
}
_FROM_PROTO = {v: k for k, v in _PROTO_NAME.items()}

# Entry order each SDK writes; only byte-exact comparisons care.
_IN_FIELD_ORDER = (Resource.CPU, Resource.MEMORY, Resource.GPU, Resource.EPHEMERAL_STORAGE, Resource.STORAGE)
_ORDER: dict[IdlTarget, tuple[Resource, ...]] = {
    # flytekit's task serializer
    IdlTarget.FLYTEIDL: (Resource.EPHEMERAL_STORAGE, Resource.CPU, Resource.GPU, Resource.MEMORY, Resource.STORAGE),
    # flyte 2's serializer
    IdlTarget.FLYTEIDL2: _IN_FIELD_ORDER,
    IdlTarget.FLYTERES: _IN_FIELD_ORDER,
}
# flytekit's with_overrides (convert_resources_to_resource_model) writes its fields in declaration order.
_OVERRIDE_ORDER = _IN_FIELD_ORDER

_TARGETS: dict[str, IdlTarget] = {t.value: t for t in IdlTarget}
_TASK = Site.TASK  # reading an enum member off its class is slow on the hot path

# Each SDK's shared-memory volume name, written when the spec names none.
_SHM_NAME: dict[IdlTarget, str] = {
    IdlTarget.FLYTEIDL: "flyte-shared-memory",
    IdlTarget.FLYTEIDL2: "flyte-shm",
    IdlTarget.FLYTERES: "flyte-shm",
}

# The wire type of messages, strings and bytes.
_LENGTH_DELIMITED = 2
# Field numbers of GPUAccelerator that flyteidl v1 lacks.
_DEVICE_CLASS_FIELD = 4
_MODEL_FIELD = 5


def _module(target: IdlTarget) -> Any:
    # A plain dict rather than functools.cache: this runs on every to_idl call.
    module = _MODULES.get(target)
    if module is None:
        module = _MODULES[target] = _import(target)
    return module


_MODULES: dict[IdlTarget, Any] = {}


def _import(target: IdlTarget) -> Any:
    if target is IdlTarget.FLYTERES:
        from flyteres_pb.v1 import resources_pb2  # noqa: PLC0415

        return resources_pb2
    try:
        if target is IdlTarget.FLYTEIDL:
            from flyteidl.core import tasks_pb2  # noqa: PLC0415 - optional extra

            return tasks_pb2
        from flyteidl2.core import tasks_pb2 as tasks2_pb2  # noqa: PLC0415 - optional extra
    except ModuleNotFoundError as exc:
        raise missing_extra(exc, f"reading or writing {target.value} messages", "idl") from None
    return tasks2_pb2


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


# Each target's own message classes, for type checkers: flyteidl and flyteidl2 are optional
# extras, imported for their types only (at run time, `_module` imports them on first use).
@overload
def to_idl(
    spec: ResourceSpec,
    target: Literal[IdlTarget.FLYTERES, "flyteres"] = ...,
    *,
    site: Site | SiteName = ...,
) -> tuple[ResourcesPb, ExtendedResourcesPb | None]: ...
@overload
def to_idl(
    spec: ResourceSpec,
    target: Literal[IdlTarget.FLYTEIDL, "flyteidl"],
    *,
    site: Site | SiteName = ...,
) -> tuple[flyteidl_tasks.Resources, flyteidl_tasks.ExtendedResources | None]: ...
@overload
def to_idl(
    spec: ResourceSpec,
    target: Literal[IdlTarget.FLYTEIDL2, "flyteidl2"],
    *,
    site: Site | SiteName = ...,
) -> tuple[flyteidl2_tasks.Resources, flyteidl2_tasks.ExtendedResources | None]: ...
@overload
def to_idl(
    spec: ResourceSpec,
    target: IdlTarget | IdlTargetName,
    *,
    site: Site | SiteName = ...,
) -> tuple[Message, Message | None]: ...
def to_idl(
    spec: ResourceSpec,
    target: IdlTarget | IdlTargetName = IdlTarget.FLYTERES,
    *,
    site: Site | SiteName = Site.TASK,
) -> tuple[Message, Message | None]:
    """The `(Resources, ExtendedResources | None)` messages of `target` for `spec`.

    The messages are the target's own classes (flyteres.v1, `flyteidl.core` or
    `flyteidl2.core`), and type checkers see them as such.

    Quantities are written as their text; entries in the order the target's SDK
    writes them. With target "flyteidl", a device class the device does not
    imply travels as an unknown field (field 4), which v1 parsers keep, and
    `site="override"` writes the entries in the order flytekit's
    `with_overrides` does (cpu, memory, gpu, ephemeral storage) instead of its
    task serializer's.

    >>> res, ext = to_idl(ResourceSpec(requests={"cpu": "500m"}), "flyteidl2")
    >>> type(res).DESCRIPTOR.full_name, ext is None
    ('flyteidl2.core.Resources', True)
    """
    # A member hashes and compares as its value, so one table lookup takes either spelling.
    target = (_TARGETS.get(target) if isinstance(target, str) else None) or IdlTarget.parse(target)
    override = site is not _TASK and Site.parse(site) is Site.OVERRIDE
    module = _module(target)
    # A spec is immutable, so its serialization is too: remember the bytes on
    # the spec and hand out fresh messages parsed from them.
    cache: dict[object, tuple[bytes, bytes | None]] | None = spec.__dict__.get("_idl_bytes")
    if cache is None:
        cache = spec.__dict__["_idl_bytes"] = {}
    key = (target, override) if override else target
    hit = cache.get(key)
    if hit is None:
        order = _OVERRIDE_ORDER if override else _ORDER[target]
        hit = cache[key] = (_encode_resources(spec, order), _encode_extended(spec, target))
    res_bytes, ext_bytes = hit
    return module.Resources.FromString(res_bytes), (
        None if ext_bytes is None else module.ExtendedResources.FromString(ext_bytes)
    )


# -- the wire format, written directly ---------------------------------------------------------
# The three IDLs share one wire format, and building the bytes here and parsing
# them once is several times faster than building nested messages field by field
# (measured: benchmarks/convert.py). Fields are written in field-number order
# and proto3 defaults are left out, as protobuf's own serializer does, so the
# bytes are the ones a message built with the same values would serialize to
# (tests/test_convert_wire.py and the golden vectors check it).


def _length_delimited(tag: int, payload: bytes) -> bytes:
    size = len(payload)
    return bytes((tag, size)) + payload if size < 0x80 else bytes((tag,)) + _varint(size) + payload


def _string(tag: int, text: str) -> bytes:
    return _length_delimited(tag, text.encode())


# ResourceEntry{name = 1 (enum), value = 2 (string)}: its first three bytes, and the value's tag.
_ENTRY_HEAD: dict[Resource, str] = {r: f"\x08{chr(int(number))}\x12" for r, number in _PROTO_NAME.items()}
_REQUESTS_TAG, _LIMITS_TAG = "\x0a", "\x12"  # Resources.requests = 1, .limits = 2, length-delimited
_LENGTH = [chr(n) for n in range(0x80)]  # one-byte varints


def _encode_resources(spec: ResourceSpec, order: tuple[Resource, ...]) -> bytes:
    # Built as text and encoded once: every byte here is below 0x80 (tags, short lengths, resource
    # numbers and quantity text, which is ASCII), and one f-string per entry is Python's fastest way
    # to join them (measured against bytes concatenation, bytearray and a comprehension).
    parts = []
    for tag, values in ((_REQUESTS_TAG, spec.requests), (_LIMITS_TAG, spec.limits)):
        if not values:
            continue
        # A spec's maps are already in field order; only flytekit's task order needs sorting.
        items = values.items() if order is _IN_FIELD_ORDER else [(r, values[r]) for r in order if r in values]
        for r, q in items:
            text = q.text
            size = len(text)
            if size < 0x7C:
                parts.append(f"{tag}{_LENGTH[size + 4]}{_ENTRY_HEAD[r]}{_LENGTH[size]}{text}")
            else:  # 124 characters or more: multi-byte lengths (as latin-1 text, so the join stays one)
                entry = f"{_ENTRY_HEAD[r]}{_varint(size).decode('latin-1')}{text}"
                parts.append(f"{tag}{_varint(len(entry)).decode('latin-1')}{entry}")
    return "".join(parts).encode("latin-1")


def _encode_extended(spec: ResourceSpec, target: IdlTarget) -> bytes | None:
    acc, shm = spec.accelerator, spec.shared_memory
    if acc is None:
        return None if shm is None else _encoded(shm, target, _encode_shared_memory)
    if shm is None:
        return _encoded(acc, target, _encode_accelerator)
    return _encoded(acc, target, _encode_accelerator) + _encoded(shm, target, _encode_shared_memory)


_P = TypeVar("_P", AcceleratorSpec, SharedMemorySpec)


def _encoded(part: _P, target: IdlTarget, encode: Callable[[_P, IdlTarget], bytes]) -> bytes:
    """The field of ExtendedResources for `part`, remembered on the part: the converters share one
    AcceleratorSpec per device (and shm="auto" is one object), and every one is immutable."""
    memo: dict[IdlTarget, bytes] | None = part.__dict__.get("_wire")
    if memo is None:
        memo = part.__dict__["_wire"] = {}
    data = memo.get(target)
    if data is None:
        data = memo[target] = encode(part, target)
    return data


def _encode_accelerator(acc: AcceleratorSpec, target: IdlTarget) -> bytes:
    gpu = _string(0x0A, acc.device)  # device = 1
    if acc.partition is not None:
        gpu += _string(0x1A, acc.partition)  # partition_size = 3 (a oneof case: written even when empty)
    elif acc.unpartitioned:
        gpu += b"\x10\x01"  # unpartitioned = 2
    class_number = acc.device_class.proto
    if target is not IdlTarget.FLYTEIDL:
        if class_number:
            gpu += _varint(_DEVICE_CLASS_FIELD << 3) + _varint(class_number)
    elif acc.device_class != implied_device_class(acc.device):
        # v1 has neither field: write only what it cannot infer from the device
        # string, as an unknown field that v1 parsers keep (an explicit zero class included).
        gpu += _varint(_DEVICE_CLASS_FIELD << 3) + _varint(class_number)
    if acc.model is not None:
        gpu += _varint(_MODEL_FIELD << 3) + _varint(AcceleratorModelPb.Value(acc.model))
    return _length_delimited(0x0A, gpu)  # gpu_accelerator = 1


def _encode_shared_memory(shm: SharedMemorySpec, target: IdlTarget) -> bytes:
    body = _string(0x0A, shm.mount_path)  # mount_path = 1
    body += _string(0x12, shm.mount_name if shm.mount_name is not None else _SHM_NAME[target])  # mount_name = 2
    if shm.size_limit is not None:
        body += _string(0x1A, shm.size_limit.text)  # size_limit = 3
    return _length_delimited(0x12, body)  # shared_memory = 2


def _as_ours(message: Any, kind: type[Message], where: str) -> tuple[Message, bool]:
    """Re-read any of the three IDLs' messages (or bytes) as ours; says whether it was flyteidl v1."""
    if isinstance(message, (bytes, bytearray, memoryview)):
        data = bytes(message)
        v1 = False
    elif isinstance(message, Message):
        expected = kind.DESCRIPTOR.name
        if message.DESCRIPTOR.name != expected:
            raise ResourceSpecError(where, type(message).__name__, f"must be a {expected} message or its bytes")
        data = message.SerializeToString()
        v1 = message.DESCRIPTOR.full_name.startswith("flyteidl.core.")
    else:
        raise ResourceSpecError(where, message, "must be a protobuf message or bytes")
    try:
        return kind.FromString(data), v1
    except DecodeError as exc:
        raise ResourceSpecError(where, data[:32], f"not a valid {kind.DESCRIPTOR.name} message: {exc}") from None


def from_idl(
    resources: Any = None,
    extended_resources: Any = None,
    *,
    source: Literal["auto", "flyteidl"] = "auto",
) -> ResourceSpec:
    """A ResourceSpec from `Resources` / `ExtendedResources` of any of the three IDLs, or their bytes.

    A flyteidl (v1) message has no device_class field: unless its unknown
    fields carry one, the class is the one the device string implies (a TPU
    slice is GOOGLE_TPU). Bytes are read as flyteidl2 unless `source="flyteidl"`.

    >>> from_idl(b"\\n\\x05\\x08\\x01\\x12\\x011")
    ResourceSpec(requests={cpu='1'})
    """
    spec_requests: dict[Resource, Quantity] = {}
    spec_limits: dict[Resource, Quantity] = {}
    if resources is not None:
        msg, _ = _as_ours(resources, ResourcesPb, "resources")
        assert isinstance(msg, ResourcesPb)
        for where, entries, out in (
            ("requests", msg.requests, spec_requests),
            ("limits", msg.limits, spec_limits),
        ):
            for i, entry in enumerate(entries):
                name = _FROM_PROTO.get(entry.name)
                field = f"resources.{where}[{i}]"
                if name is None:
                    raise ResourceSpecError(f"{field}.name", entry.name, "not a known resource name (UNKNOWN or newer)")
                if name in out:
                    raise ResourceSpecError(f"{field}.name", str(name), f"appears twice in {where}")
                try:
                    out[name] = Quantity.parse(entry.value)
                except ValueError as exc:
                    raise ResourceSpecError(f"{field}.value", entry.value, str(exc)) from None

    accelerator = shared_memory = None
    if extended_resources is not None:
        ext, v1 = _as_ours(extended_resources, ExtendedResourcesPb, "extended_resources")
        v1 = v1 or source == "flyteidl"
        assert isinstance(ext, ExtendedResourcesPb)
        if ext.HasField("gpu_accelerator"):
            gpu = ext.gpu_accelerator
            if v1 and not _has_field(extended_resources, _DEVICE_CLASS_FIELD):
                device_class = implied_device_class(gpu.device)
            else:
                try:
                    device_class = DeviceClass.parse(gpu.device_class)
                except ValueError:
                    raise ResourceSpecError(
                        "extended_resources.gpu_accelerator.device_class",
                        gpu.device_class,
                        "not a known device class",
                    ) from None
            model = None
            if gpu.accelerator_model:
                if gpu.accelerator_model not in AcceleratorModelPb.values():
                    raise ResourceSpecError(
                        "extended_resources.gpu_accelerator.accelerator_model",
                        gpu.accelerator_model,
                        "not a known AcceleratorModel value",
                    )
                model = AcceleratorModelPb.Name(gpu.accelerator_model)
            case = gpu.WhichOneof("partition_size_value")
            probe = AcceleratorSpec(gpu.device or "?", device_class, custom=True)
            from flyteres.convert._shared import catalog_entry  # noqa: PLC0415

            accelerator = AcceleratorSpec(
                device=gpu.device,
                device_class=device_class,
                partition=gpu.partition_size if case == "partition_size" else None,
                unpartitioned=case == "unpartitioned" and gpu.unpartitioned,
                model=model,
                custom=catalog_entry(probe) is None,
            )
        if ext.HasField("shared_memory"):
            shm = ext.shared_memory
            size = None
            if shm.size_limit:
                try:
                    size = Quantity.parse(shm.size_limit)
                except ValueError as exc:
                    raise ResourceSpecError(
                        "extended_resources.shared_memory.size_limit", shm.size_limit, str(exc)
                    ) from None
            shared_memory = SharedMemorySpec(size, mount_name=shm.mount_name, mount_path=shm.mount_path)
    return ResourceSpec._from_parts(spec_requests, spec_limits, accelerator, shared_memory)


def _has_field(extended: Any, number: int) -> bool:
    """Whether the GPUAccelerator inside ExtendedResources bytes carries field `number`.

    Read with a message that has no fields, every field is unknown and so
    visible with its number, even an explicit zero that a parser knowing the
    field would fold into "unset". Only length-delimited occurrences of
    gpu_accelerator are the message: protobuf keeps a field 1 of another wire
    type (a varint, a group) as an unknown field and ignores it, and so does this.
    """
    data = extended.SerializeToString() if isinstance(extended, Message) else bytes(extended)
    outer = UnknownFieldSet(Empty.FromString(data))
    for i in range(len(outer)):
        field = outer[i]
        if field.field_number != 1 or field.wire_type != _LENGTH_DELIMITED:
            continue
        try:
            inner = UnknownFieldSet(Empty.FromString(field.data))
        except DecodeError:  # not a message: the parse of the whole already refused or ignored it
            continue
        if any(inner[j].field_number == number for j in range(len(inner))):
            return True
    return False


# ---------------------------------------------------------------------------------------------
# The neutral model's own message, flyteres.v2.ResourceSpec: the fields of `ResourceSpec.to_dict`.


def to_idl_spec(spec: ResourceSpec) -> ResourceSpecPb:
    """The flyteres.v2.ResourceSpec message of `spec`; quantities as their text.

    >>> to_idl_spec(ResourceSpec(requests={"cpu": "500m"})).requests["cpu"]
    '500m'
    """
    m = ResourceSpecPb()
    for target, values in ((m.requests, spec.requests), (m.limits, spec.limits)):
        for key, q in values.items():
            target[key.value] = q.text
    acc = spec.accelerator
    if acc is not None:
        # The constructor takes the model by its value name, and None leaves a
        # field unset. `unpartitioned` is only set when true: setting it to
        # False would still select its oneof case.
        accelerator = AcceleratorSpecPb(
            device=acc.device,
            # By value name, DEVICE_CLASS_<the DeviceClass>; UNSPECIFIED reads back as NVIDIA_GPU.
            device_class=f"DEVICE_CLASS_{acc.device_class.value}",
            partition=acc.partition,
            model=acc.model,
            custom=acc.custom,
        )
        if acc.unpartitioned:
            accelerator.unpartitioned = True
        m.accelerator.CopyFrom(accelerator)
    shm = spec.shared_memory
    if shm is not None:
        s = m.shared_memory
        # Present even with every field at its default: "shared memory, SDK defaults".
        s.SetInParent()
        if shm.size_limit is not None:
            s.size_limit = shm.size_limit.text
        if shm.mount_name is not None:
            s.mount_name = shm.mount_name
        if shm.mount_path != DEFAULT_SHM_PATH:
            s.mount_path = shm.mount_path
    return m


def from_idl_spec(message: ResourceSpecPb) -> ResourceSpec:
    """The ResourceSpec of a flyteres.v2.ResourceSpec message (the inverse of `to_idl_spec`).

    Read through `ResourceSpec.from_dict`, so a bad field is reported by the
    same name and reason as in the JSON form.

    >>> from_idl_spec(to_idl_spec(ResourceSpec(limits={"memory": "1Gi"})))
    ResourceSpec(limits={memory='1Gi'})
    """
    data: dict[str, object] = {}
    if message.requests:
        data["requests"] = dict(message.requests)
    if message.limits:
        data["limits"] = dict(message.limits)
    if message.HasField("accelerator"):
        a = message.accelerator
        acc: dict[str, object] = {"device": a.device}
        if a.device_class:
            try:
                acc["device_class"] = SpecDeviceClassPb.Name(a.device_class).removeprefix("DEVICE_CLASS_")
            except ValueError:
                raise ResourceSpecError("accelerator.device_class", a.device_class, "not a DeviceClass value") from None
        case = a.WhichOneof("partition_value")
        if case is not None:
            acc[case] = getattr(a, case)
        if a.model:
            try:
                acc["model"] = AcceleratorModelPb.Name(a.model)
            except ValueError:
                raise ResourceSpecError("accelerator.model", a.model, "not an AcceleratorModel value") from None
        if a.custom:
            acc["custom"] = True
        data["accelerator"] = acc
    if message.HasField("shared_memory"):
        s = message.shared_memory
        shm: dict[str, object] = {"size_limit": s.size_limit or None}
        if s.mount_name:
            shm["mount_name"] = s.mount_name
        if s.mount_path:
            shm["mount_path"] = s.mount_path
        data["shared_memory"] = shm
    return ResourceSpec.from_dict(data)
