"""flytekit's task and override arguments → ResourceSpec: the reading half of `flyteres.convert.flytekit`.

What flytekit 1.16 puts on the wire for each argument, and so what is read
here, is described in `flyteres.convert.flytekit` (the public module, which
re-exports `from_flytekit` and `from_flytekit_overrides`) and in
docs/semantics.md, sections 1.2-1.7. Kept apart so each half stays one concern.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from flyteres import accelerators
from flyteres._errors import ResourceSpecError
from flyteres.accelerators import DeviceClass
from flyteres.convert._memo import Memo, Unkeyable, exact_key, register_cache
from flyteres.convert._shared import catalog_entry_for, implied_device_class, info
from flyteres.core.findings import Finding, Rule
from flyteres.core.options import Policy
from flyteres.core.quantity import Quantity
from flyteres.core.spec import (
    AcceleratorSpec,
    Resource,
    ResourceSpec,
    SharedMemorySpec,
    as_quantity,
)

# flytekit's Resources field names, in its positional order.
FLYTEKIT_FIELDS: dict[str, Resource] = {
    "cpu": Resource.CPU,
    "mem": Resource.MEMORY,
    "gpu": Resource.GPU,
    "ephemeral_storage": Resource.EPHEMERAL_STORAGE,
}
_FIELD_OF = {r: name for name, r in FLYTEKIT_FIELDS.items()}
_GPU = Resource.GPU  # enum attribute lookups are slow on the hot path
_BYTES = (Resource.MEMORY, Resource.EPHEMERAL_STORAGE, Resource.STORAGE)


# Types recognised as flytekit.Resources (by shape, so flytekit need not be imported); checked once each.
_RESOURCES_TYPES: set[type] = set()


def _is_flytekit_resources(kind: type) -> bool:
    if kind.__name__ == "Resources" and getattr(kind, "__dataclass_fields__", {}).keys() == FLYTEKIT_FIELDS.keys():
        _RESOURCES_TYPES.add(kind)
        return True
    return False


def _fields_of(value: Any, where: str, findings: list[Finding]) -> list[tuple[str, Any]]:
    """The (field, value) pairs of a flytekit.Resources or of a mapping with the same keys, None left out."""
    if value is None:
        return []
    kind = type(value)
    if kind in _RESOURCES_TYPES or _is_flytekit_resources(kind):
        fields_ = (value.cpu, value.mem, value.gpu, value.ephemeral_storage)
        return [(k, v) for k, v in zip(FLYTEKIT_FIELDS, fields_, strict=True) if v is not None]
    if isinstance(value, Mapping):
        data = dict(value)
    elif hasattr(value, "__dataclass_fields__") and kind.__name__ == "Resources":
        data = {f.name: getattr(value, f.name) for f in fields(value)}
    else:
        raise ResourceSpecError(where, value, "must be a flytekit.Resources or a mapping of its fields")
    if "storage" in data:
        storage = data.pop("storage")
        if storage is not None:
            findings.append(
                info(
                    Rule.STORAGE_DROPPED,
                    f"{where}.storage",
                    storage,
                    "storage= was removed in flytekit 1.10.3 and the backend ignored it",
                    "dropped",
                    policy=Policy.STRICT,
                )
            )
    unknown = sorted(set(data) - set(FLYTEKIT_FIELDS), key=str)
    if unknown:
        raise ResourceSpecError(where, unknown, f"unknown Resources fields; flytekit has {', '.join(FLYTEKIT_FIELDS)}")
    return [(k, v) for k, v in data.items() if v is not None]


def _quantity(
    side: str, key: str, name: Resource, value: Any, findings: list[Finding], *, override: bool
) -> Quantity | None:
    """One flytekit value (field `key` of `side`) as flytekit would send it, or None when it drops it.

    `override`: the value is a `with_overrides` argument, which flytekit sends as
    `str(value)` whenever it is not None (`convert_resources_to_resource_model`),
    where the task serializer drops falsy values and passes the rest through.
    """
    if type(value) is str and value and name is not _GPU:
        # The common case, first, and without building the field's name unless it is wrong.
        try:
            return Quantity.parse(value)
        except ValueError as exc:
            raise ResourceSpecError(f"{side}.{key}", value, str(exc)) from None
    where = f"{side}.{key}"
    if isinstance(value, bool):
        raise ResourceSpecError(where, value, "a boolean is not a quantity")
    if isinstance(value, float) and name is not Resource.CPU:
        # flytekit's Resources takes only cpu as a float (mem, gpu, ephemeral_storage are str or int).
        raise ResourceSpecError(where, value, f"flytekit refuses a float {_FIELD_OF.get(name, name)}; write a string")
    if override and isinstance(value, str) and not value:
        raise ResourceSpecError(
            where,
            value,
            "with_overrides sends '' as written, and the Flyte backend then fails the execution "
            "(an empty string is not a quantity); leave the field out (None) to keep the task's value",
        )
    if not value and not override:
        findings.append(
            info(
                Rule.FALSY_DROPPED,
                where,
                value,
                "flytekit drops a falsy value (0, '') from the task's resources",
                "dropped, as flytekit does",
                policy=Policy.STRICT,
            )
        )
        return None
    # Read first, so that a value too large to print is refused before a note quotes it.
    q = as_quantity(where, value)
    if name is _GPU and isinstance(value, str):
        findings.append(
            info(
                Rule.GPU_COUNT_TYPE,
                where,
                value,
                "a device count written as a string; Flyte 2 takes an int and rejects a string count",
                "an int where the target needs one",
                policy=Policy.STRICT,
                target="flyte",
            )
        )
    if isinstance(value, (int, float)):
        text = q.text
        if name in _BYTES:
            how = (
                "with_overrides sends it as a string"
                if override
                else "flytekit's task serializer crashes on ints, so it is written as a string"
            )
            findings.append(
                info(
                    Rule.INT_BYTES,
                    where,
                    value,
                    f"an integer {name} is a number of bytes ({text} bytes); {how}",
                    f"written as {text!r} (bytes; did you mean {text}Mi?)",
                    policy=Policy.STRICT,
                )
            )
        elif not override:
            findings.append(
                info(
                    Rule.NUMBER_AS_STRING,
                    where,
                    value,
                    "flytekit's task serializer crashes on int and float values; it is written as a string",
                    f"written as {text!r}",
                    policy=Policy.STRICT,
                )
            )
    return q


def from_flytekit(
    *,
    requests: Any = None,
    limits: Any = None,
    resources: Any = None,
    accelerator: Any = None,
    shared_memory: Any = None,
) -> ResourceSpec:
    """Read flytekit's task arguments (`@task(...)`) into a ResourceSpec.

    Takes real `flytekit.Resources` and accelerator objects, or mappings of
    the same fields (`{"cpu": "1", "mem": 1024}`) and accelerator spellings as
    written in flytekit code (`"A100.partition_1g_5gb"`, `"T4"`), so code can
    be analysed without importing flytekit. The spec is what flytekit would
    put on the wire; what reading noticed is in `spec.findings`.

    flytekit's task serializer drops `0` and `""`, and so does this reading;
    `with_overrides(...)` arguments are read by `from_flytekit_overrides`.

    >>> from_flytekit(limits={"gpu": "1"}, accelerator="T4")
    ResourceSpec(limits={gpu='1'}, accelerator=nvidia-tesla-t4)
    """
    return _read(requests, limits, resources, accelerator, shared_memory, override=False)


def from_flytekit_overrides(
    *,
    requests: Any = None,
    limits: Any = None,
    resources: Any = None,
    accelerator: Any = None,
    shared_memory: Any = None,
) -> ResourceSpec:
    """Read flytekit's `with_overrides(...)` arguments into a ResourceSpec.

    The same arguments as `from_flytekit`, read as flytekit's override path
    sends them (`convert_resources_to_resource_model`): every value that is not
    None becomes `str(value)`, so `gpu=0` is the entry "0" (a GPU switched off)
    rather than nothing, and `""` is refused, since the Flyte backend fails an
    execution on it. Write the override back with
    `to_idl(spec, "flyteidl", site="override")` for flytekit's entry order.
    docs/semantics.md, section 1.7.

    >>> from_flytekit_overrides(limits={"gpu": 0})
    ResourceSpec(limits={gpu='0'})
    """
    return _read(requests, limits, resources, accelerator, shared_memory, override=True)


def _read(
    requests: Any, limits: Any, resources: Any, accelerator: Any, shared_memory: Any, *, override: bool
) -> ResourceSpec:
    if not _MEMO.enabled:
        return _from_flytekit(requests, limits, resources, accelerator, shared_memory, override=override)
    try:
        key: object = (
            _input_key(requests),
            _input_key(limits),
            _input_key(resources),
            _accelerator_key(accelerator),
            exact_key(shared_memory),
            override,
        )
    except Unkeyable:  # a value that cannot be spelled exactly: convert without the memo
        key = None
    if key is not None:
        cached = _MEMO.get(key)
        if cached is not None:
            return cached  # type: ignore[return-value]  # the memo holds only what this function put
    spec = _from_flytekit(requests, limits, resources, accelerator, shared_memory, override=override)
    if key is not None:
        _MEMO.put(key, spec)
    return spec


_MEMO = Memo()
# More entries than flytekit has fields is an error anyway; keying it would only cost time.
_MAX_KEYED_ENTRIES = len(FLYTEKIT_FIELDS) + 1


def _input_key(value: Any) -> object:
    if value is None:
        return None
    if type(value).__name__ == "Resources" and hasattr(value, "ephemeral_storage"):
        return (type(value), tuple(exact_key(getattr(value, f)) for f in FLYTEKIT_FIELDS))
    if type(value) is dict and len(value) <= _MAX_KEYED_ENTRIES:
        # In order, not sorted: the findings come in the mapping's order.
        return (dict, tuple((exact_key(k), exact_key(v)) for k, v in value.items()))
    raise Unkeyable(type(value).__name__)


def _accelerator_key(value: Any) -> object:
    if value is None or type(value) is str:
        return exact_key(value)
    if type(value) is AcceleratorSpec:
        # Validated on construction: its fields are exact strings, booleans and enums.
        return (AcceleratorSpec, value)
    # flytekit accelerators hold their device (and partition) as plain attributes.
    try:
        attributes = vars(value)
    except TypeError:  # no __dict__: not a flytekit accelerator, and the conversion says so
        raise Unkeyable(type(value).__name__) from None
    return (type(value), tuple((name, exact_key(v)) for name, v in attributes.items()))


def _from_flytekit(
    requests: Any, limits: Any, resources: Any, accelerator: Any, shared_memory: Any, *, override: bool
) -> ResourceSpec:
    findings: list[Finding] = []
    req: dict[Resource, Quantity] = {}
    lim: dict[Resource, Quantity] = {}
    if resources is not None:
        if requests is not None or limits is not None:
            raise ResourceSpecError(
                "resources",
                resources,
                "cannot be combined with requests= or limits= (flytekit refuses it too)",
            )
        for key, value in _fields_of(resources, "resources", findings):
            name = FLYTEKIT_FIELDS[key]
            if isinstance(value, (list, tuple)):
                if len(value) != 2:
                    raise ResourceSpecError(f"resources.{key}", value, "a pair must be (request, limit)")
                if isinstance(value, list):
                    findings.append(
                        info(
                            Rule.LIST_AS_TUPLE,
                            f"resources.{key}",
                            value,
                            "a list is read as (request, limit), like a tuple; Flyte 2 accepts only tuples",
                            "written as a tuple",
                            policy=Policy.STRICT,
                        )
                    )
                r = _quantity("resources", f"{key}[0]", name, value[0], findings, override=override)
                limit = _quantity("resources", f"{key}[1]", name, value[1], findings, override=override)
                if r is not None:
                    req[name] = r
                if limit is not None:
                    lim[name] = limit
            else:
                # flytekit 1.16 puts a scalar in the request only (its docstring says both).
                q = _quantity("resources", key, name, value, findings, override=override)
                if q is not None:
                    req[name] = q
    for where, source, target in (("requests", requests, req), ("limits", limits, lim)):
        if source is None:
            continue
        for key, value in _fields_of(source, where, findings):
            if isinstance(value, (list, tuple)):
                raise ResourceSpecError(
                    f"{where}.{key}", value, "a pair is only allowed in resources=; flytekit refuses it here"
                )
            name = FLYTEKIT_FIELDS[key]
            q = _quantity(where, key, name, value, findings, override=override)
            if q is not None:
                target[name] = q

    acc = read_accelerator(accelerator, findings)
    shm = _read_shared_memory(shared_memory, findings)
    return ResourceSpec._from_parts(req, lim, acc, shm, tuple(findings))


_NO_SIZE = SharedMemorySpec()  # shared_memory=True: immutable, so one serves every spec


def _read_shared_memory(value: Any, findings: list[Finding]) -> SharedMemorySpec | None:
    if value is None:
        return None
    # The volume name is flytekit's own constant: not information about the task.
    if value is True or value == "":
        return _NO_SIZE
    if isinstance(value, str):
        try:
            size = Quantity.parse(value)
        except ValueError as exc:
            raise ResourceSpecError("shared_memory", value, str(exc)) from None
        return SharedMemorySpec._of_size(size)
    findings.append(
        info(
            Rule.SHM_IGNORED,
            "shared_memory",
            value,
            "flytekit ignores shared_memory unless it is True or a size string",
            "ignored, as flytekit does",
            policy=Policy.STRICT,
        )
    )
    return None


def partition_attribute(entry: accelerators.Accelerator, partition: str) -> str:
    """flytekit's attribute name for a partition: `partition_1g_5gb`, `slice_2x2`."""
    if entry.partition_kind == "tpu-slice":
        return f"slice_{partition}"
    return "partition_" + partition.replace(".", "_")


def _from_constant_path(text: str) -> AcceleratorSpec:
    """`"A100.partition_1g_5gb"`, `"V5E.slice_2x2"`, `"A100.unpartitioned"`, `"T4"`."""
    head, _, attr = text.partition(".")
    entry = next((e for e in accelerators.catalog() if e.flytekit_constant == head), None)
    if entry is None or entry.v1_device is None:
        known = sorted(e.flytekit_constant for e in accelerators.catalog() if e.flytekit_constant)
        raise ResourceSpecError("accelerator", text, f"not a flytekit accelerator constant; known: {', '.join(known)}")
    cls = entry.device_class
    if not attr:
        return AcceleratorSpec(entry.v1_device, cls)
    if attr == "unpartitioned" and entry.partition_kind is not None:
        return AcceleratorSpec(entry.v1_device, cls, unpartitioned=True)
    for p in entry.v1_partitions:
        if partition_attribute(entry, p) == attr:
            return AcceleratorSpec(entry.v1_device, cls, partition=p)
    valid = ", ".join(partition_attribute(entry, p) for p in entry.v1_partitions) or "none"
    raise ResourceSpecError("accelerator", text, f"{head} has no attribute {attr!r}; it has: {valid}")


@functools.lru_cache(maxsize=1024, typed=True)
def _accelerator_from_wire(device: str, partition: str | None, unpartitioned: bool) -> AcceleratorSpec:
    # A handful of accelerators recur across every task of a project; the
    # spec is immutable, so one validated instance serves them all.
    return AcceleratorSpec(
        device=device,
        device_class=implied_device_class(device),
        partition=partition,
        unpartitioned=unpartitioned,
        # GPUAccelerator("...") is flytekit's explicit way to name any device.
        custom=catalog_entry_for(device) is None,
    )


register_cache(_accelerator_from_wire.cache_clear)


def read_accelerator(value: Any, findings: list[Finding]) -> AcceleratorSpec | None:
    """A flytekit accelerator (object, constant path or AcceleratorSpec) as an AcceleratorSpec."""
    if value is None or isinstance(value, AcceleratorSpec):
        return value
    if isinstance(value, str):
        acc = _from_constant_path(value)
    elif hasattr(value, "to_flyte_idl"):
        acc = _from_accelerator_object(value)
    else:
        raise ResourceSpecError(
            "accelerator", value, "must be a flytekit accelerator, a constant name or an AcceleratorSpec"
        )
    if acc.device_class is not DeviceClass.NVIDIA_GPU:
        findings.append(
            info(
                Rule.DEVICE_CLASS_INFERRED,
                "accelerator.device_class",
                acc.device_class,
                f"flytekit sends no device class; {acc.device!r} is a {acc.device_class} device",
                f"device_class={acc.device_class} where the target has one",
                policy=Policy.STRICT,
            )
        )
    return acc


# flytekit accelerator objects by type and attributes: a project uses a handful, and each
# to_flyte_idl() builds a protobuf message. Bounded, and emptied by clear_caches().
_OBJECTS: dict[object, AcceleratorSpec] = {}
register_cache(_OBJECTS.clear)


def _from_accelerator_object(value: Any) -> AcceleratorSpec:
    try:
        key: object = _accelerator_key(value)
    except Unkeyable:
        key = None
    acc = _OBJECTS.get(key) if key is not None else None
    if acc is None:
        msg = value.to_flyte_idl()
        case = msg.WhichOneof("partition_size_value")
        acc = _accelerator_from_wire(
            msg.device,
            msg.partition_size if case == "partition_size" else None,
            case == "unpartitioned" and msg.unpartitioned,
        )
        if key is not None:
            if len(_OBJECTS) >= 256:
                _OBJECTS.clear()
            _OBJECTS[key] = acc
    return acc
