"""flytekit (`@task(requests=, limits=, resources=, accelerator=, shared_memory=)`) ⇄ ResourceSpec.

What flytekit 1.16 puts on the wire (`flytekit/core/utils.py`
`_get_container_definition`, `flytekit/core/resources.py`): each requests/limits
field becomes an entry when it is truthy, passed through without `str()` (so an
int or float crashes the task serializer); `resources=` splits pairs into
(request, limit) and puts a scalar in the request only; `accelerator=` becomes
`accelerator.to_flyte_idl()`; `shared_memory=True` or a string becomes a
volume named `flyte-shared-memory` at /dev/shm, anything else is ignored.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from flyteres import accelerators
from flyteres._errors import ResourceSpecError
from flyteres._extras import missing_extra
from flyteres.accelerators import DeviceClass
from flyteres.convert._memo import Memo, typed_key
from flyteres.convert._shared import (
    catalog_entry,
    catalog_entry_for,
    finding,
    implied_device_class,
    info,
    request_limit_pair,
    shared_memory_findings,
    storage_findings,
)
from flyteres.core.findings import Conversion, Finding, Rule, reading_findings
from flyteres.core.options import (
    DeviceLabels,
    DeviceLabelsName,
    FlytekitForm,
    FlytekitFormName,
    Policy,
    PolicyName,
)
from flyteres.core.quantity import Quantity
from flyteres.core.spec import (
    AcceleratorSpec,
    Resource,
    ResourceSpec,
    SharedMemorySpec,
    as_quantity,
)

FLYTEKIT_SHM_MOUNT_NAME = "flyte-shared-memory"

# flytekit's Resources field names, in its positional order.
FLYTEKIT_FIELDS: dict[str, Resource] = {
    "cpu": Resource.CPU,
    "mem": Resource.MEMORY,
    "gpu": Resource.GPU,
    "ephemeral_storage": Resource.EPHEMERAL_STORAGE,
}
_FIELD_OF = {r: name for name, r in FLYTEKIT_FIELDS.items()}
_BYTES = (Resource.MEMORY, Resource.EPHEMERAL_STORAGE, Resource.STORAGE)


def _flytekit() -> Any:
    try:
        import flytekit  # noqa: PLC0415 - optional extra
    except ModuleNotFoundError as exc:  # tested from a bare wheel (tests/test_packaging.py)
        raise missing_extra(exc, "converting to or from flytekit objects", "flytekit") from None
    return flytekit


# ---------------------------------------------------------------------------------------------
# flytekit -> ResourceSpec


def _fields_of(value: Any, where: str, findings: list[Finding]) -> dict[str, Any]:
    """The fields of a flytekit.Resources or of a mapping with the same keys."""
    if value is None:
        return {}
    if type(value).__name__ == "Resources" and type(value).__dataclass_fields__.keys() == FLYTEKIT_FIELDS.keys():
        # flytekit.Resources itself (checked by shape, so flytekit need not be imported).
        return {k: v for k in FLYTEKIT_FIELDS if (v := getattr(value, k)) is not None}
    if isinstance(value, Mapping):
        data = dict(value)
    elif hasattr(value, "__dataclass_fields__") and type(value).__name__ == "Resources":
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
    unknown = sorted(set(data) - set(FLYTEKIT_FIELDS))
    if unknown:
        raise ResourceSpecError(where, unknown, f"unknown Resources fields; flytekit has {', '.join(FLYTEKIT_FIELDS)}")
    return {k: v for k, v in data.items() if v is not None}


def _quantity(where: str, name: Resource, value: Any, findings: list[Finding]) -> Quantity | None:
    """One flytekit value as flytekit would send it, or None when it drops it."""
    if type(value) is str and value and name is not Resource.GPU:
        return as_quantity(where, value)
    if isinstance(value, bool):
        raise ResourceSpecError(where, value, "a boolean is not a quantity")
    if not value:
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
    if name is Resource.GPU and isinstance(value, str):
        note = info(
            Rule.GPU_COUNT_TYPE,
            where,
            value,
            "a device count written as a string; Flyte 2 takes an int and rejects a string count",
            "an int where the target needs one",
            policy=Policy.STRICT,
        )
        findings.append(dataclasses.replace(note, target="flyte"))
    if isinstance(value, (int, float)):
        text = str(value)
        if name in _BYTES:
            findings.append(
                info(
                    Rule.INT_BYTES,
                    where,
                    value,
                    f"an integer {name} is a number of bytes ({text} bytes); flytekit's task serializer "
                    "crashes on ints, so it is written as a string",
                    f"written as {text!r} (bytes; did you mean {text}Mi?)",
                    policy=Policy.STRICT,
                )
            )
        else:
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
    return as_quantity(where, value)


def from_flytekit(
    *,
    requests: Any = None,
    limits: Any = None,
    resources: Any = None,
    accelerator: Any = None,
    shared_memory: Any = None,
) -> ResourceSpec:
    """Read flytekit's task or override arguments into a ResourceSpec.

    Takes real `flytekit.Resources` and accelerator objects, or mappings of
    the same fields (`{"cpu": "1", "mem": 1024}`) and accelerator spellings as
    written in flytekit code (`"A100.partition_1g_5gb"`, `"T4"`), so code can
    be analysed without importing flytekit. The spec is what flytekit would
    put on the wire; what reading noticed is in `spec.findings`.

    >>> from_flytekit(limits={"gpu": "1"}, accelerator="T4")
    ResourceSpec(limits={gpu='1'}, accelerator=nvidia-tesla-t4)
    """
    try:
        key: object = (
            _input_key(requests),
            _input_key(limits),
            _input_key(resources),
            _accelerator_key(accelerator),
            typed_key(shared_memory),
        )
        hash(key)
    except TypeError:  # an unhashable value somewhere: just convert
        key = None
    if key is not None:
        cached = _MEMO.get(key)
        if cached is not None:
            return cached  # type: ignore[return-value]
    spec = _from_flytekit(requests, limits, resources, accelerator, shared_memory)
    if key is not None:
        _MEMO.put(key, spec)
    return spec


_MEMO = Memo()


def _input_key(value: Any) -> object:
    if value is None:
        return None
    if type(value).__name__ == "Resources" and hasattr(value, "ephemeral_storage"):
        return (type(value), tuple(typed_key(getattr(value, f)) for f in FLYTEKIT_FIELDS))
    if isinstance(value, Mapping):
        return tuple(sorted((k, typed_key(v)) for k, v in value.items()))
    raise TypeError("not a value we key on")  # the conversion itself says what is wrong


def _accelerator_key(value: Any) -> object:
    if value is None or isinstance(value, (str, AcceleratorSpec)):
        return typed_key(value)
    # flytekit accelerators hold their device (and partition) as plain attributes.
    return (type(value), tuple(sorted(vars(value).items())))


def _from_flytekit(requests: Any, limits: Any, resources: Any, accelerator: Any, shared_memory: Any) -> ResourceSpec:
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
        for key, value in _fields_of(resources, "resources", findings).items():
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
                r = _quantity(f"resources.{key}[0]", name, value[0], findings)
                limit = _quantity(f"resources.{key}[1]", name, value[1], findings)
                if r is not None:
                    req[name] = r
                if limit is not None:
                    lim[name] = limit
            else:
                # flytekit 1.16 puts a scalar in the request only (its docstring says both).
                q = _quantity(f"resources.{key}", name, value, findings)
                if q is not None:
                    req[name] = q
    for where, source, target in (("requests", requests, req), ("limits", limits, lim)):
        for key, value in _fields_of(source, where, findings).items():
            if isinstance(value, (list, tuple)):
                raise ResourceSpecError(
                    f"{where}.{key}", value, "a pair is only allowed in resources=; flytekit refuses it here"
                )
            q = _quantity(f"{where}.{key}", FLYTEKIT_FIELDS[key], value, findings)
            if q is not None:
                target[FLYTEKIT_FIELDS[key]] = q

    acc = read_accelerator(accelerator, findings)
    shm = _read_shared_memory(shared_memory, findings)
    return ResourceSpec._from_parts(req, lim, acc, shm, tuple(findings))


def _read_shared_memory(value: Any, findings: list[Finding]) -> SharedMemorySpec | None:
    if value is None:
        return None
    # The volume name is flytekit's own constant: not information about the task.
    if value is True or value == "":
        return SharedMemorySpec(None)
    if isinstance(value, str):
        try:
            size = Quantity.parse(value)
        except ValueError as exc:
            raise ResourceSpecError("shared_memory", value, str(exc)) from None
        return SharedMemorySpec(size)
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


@functools.lru_cache(maxsize=1024)
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


def read_accelerator(value: Any, findings: list[Finding]) -> AcceleratorSpec | None:
    """A flytekit accelerator (object, constant path or AcceleratorSpec) as an AcceleratorSpec."""
    if value is None or isinstance(value, AcceleratorSpec):
        return value
    if isinstance(value, str):
        acc = _from_constant_path(value)
    elif hasattr(value, "to_flyte_idl"):
        msg = value.to_flyte_idl()
        case = msg.WhichOneof("partition_size_value")
        acc = _accelerator_from_wire(
            msg.device,
            msg.partition_size if case == "partition_size" else None,
            case == "unpartitioned" and msg.unpartitioned,
        )
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


# ---------------------------------------------------------------------------------------------
# ResourceSpec -> flytekit


@dataclass(frozen=True)
class FlytekitAccelerator:
    """How to write an accelerator for flytekit: a constant (with a partition
    attribute) when one produces exactly the device, else `GPUAccelerator(device)`."""

    device: str
    constant: str | None = None
    attribute: str | None = None  # "partition_1g_5gb" | "slice_2x2" | "unpartitioned"
    partition: str | None = None
    unpartitioned: bool = False

    def build(self) -> Any:
        """The real flytekit accelerator object."""
        try:
            from flytekit.extras import accelerators as fk  # noqa: PLC0415 - optional extra
        except ModuleNotFoundError as exc:
            raise missing_extra(exc, "building flytekit accelerator objects", "flytekit") from None

        if self.constant is not None:
            obj = getattr(fk, self.constant)
            return getattr(obj, self.attribute) if self.attribute else obj
        if self.partition is None and not self.unpartitioned:
            return fk.GPUAccelerator(self.device)
        # No constant has this device: a MultiInstanceGPUAccelerator subclass writes
        # exactly the device and partition flytekit's own classes would.
        cls: Any = type("ExactAccelerator", (fk.MultiInstanceGPUAccelerator,), {"device": self.device})
        return cls().unpartitioned if self.unpartitioned else cls.partitioned(self.partition)

    def source(self) -> str | None:
        """Python source for flytekit code (None when only an object can say it)."""
        from flyteres.convert.source import flytekit_accelerator  # noqa: PLC0415 - the renderer imports this module

        return flytekit_accelerator(self)


@dataclass(frozen=True)
class FlytekitArguments:
    """The resource keyword arguments of `@task(...)` / `with_overrides(...)`, SDK-free.

    `requests`/`limits` map flytekit field names to strings; with form
    "resources", `resources` maps them to a string or a (request, limit) pair.
    """

    requests: dict[str, str] | None = None
    limits: dict[str, str] | None = None
    resources: dict[str, str | tuple[str, str]] | None = None
    accelerator: FlytekitAccelerator | None = None
    shared_memory: bool | str | None = None

    def kwargs(self) -> dict[str, Any]:
        flytekit = _flytekit()
        out: dict[str, Any] = {}
        for key in ("requests", "limits", "resources"):
            value = getattr(self, key)
            if value:
                out[key] = flytekit.Resources(**value)
        if self.accelerator is not None:
            out["accelerator"] = self.accelerator.build()
        if self.shared_memory is not None:
            out["shared_memory"] = self.shared_memory
        return out

    def source(self, resources_name: str = "Resources") -> str | None:
        """The keyword arguments as Python source (None when the accelerator
        exists only as an object: a partitioned device without a flytekit constant).

        >>> FlytekitArguments(limits={"mem": "600Mi"}, shared_memory=True).source()
        "limits=Resources(mem='600Mi'), shared_memory=True"
        """
        from flyteres.convert.source import flytekit_arguments_source  # noqa: PLC0415 - see FlytekitAccelerator

        return flytekit_arguments_source(self, resources_name)


def flytekit_arguments(
    spec: ResourceSpec,
    *,
    policy: Policy | PolicyName = Policy.STRICT,
    form: FlytekitForm | FlytekitFormName = FlytekitForm.SPLIT,
    device_labels: DeviceLabels | DeviceLabelsName = DeviceLabels.KEEP,
) -> Conversion[FlytekitArguments]:
    """Decide how each part of `spec` is written for flytekit, with every finding."""
    policy = Policy.parse(policy)
    form = FlytekitForm.parse(form)
    device_labels = DeviceLabels.parse(device_labels)
    findings: list[Finding] = reading_findings(spec.findings, "flytekit")
    findings += storage_findings(spec, "flytekit >= 1.10.3 has no storage field", policy=policy)

    args: dict[str, Any] = {}
    if form is FlytekitForm.SPLIT:
        for key, values in (("requests", spec.requests), ("limits", spec.limits)):
            out = {_FIELD_OF[r]: q.text for r, q in values.items() if r in _FIELD_OF}
            if out:
                args[key] = out
    else:
        unified: dict[str, str | tuple[str, str]] = {}
        for r, name in _FIELD_OF.items():
            value, found = request_limit_pair(
                spec,
                r,
                why_not="flytekit's resources= cannot write a limit without a request (a scalar is a request)",
                policy=policy,
            )
            findings += found
            if value is not None:
                unified[name] = value
        if unified:
            args["resources"] = unified

    if spec.accelerator is not None:
        acc, acc_findings = _accelerator(spec.accelerator, policy, device_labels)
        findings += acc_findings
        args["accelerator"] = acc

    shm = spec.shared_memory
    if shm is not None:
        args["shared_memory"] = True if shm.size_limit is None else shm.size_limit.text
        findings += shared_memory_findings(shm, "flytekit", FLYTEKIT_SHM_MOUNT_NAME, policy=policy)

    return Conversion(FlytekitArguments(**args), tuple(findings))


def _accelerator(
    acc: AcceleratorSpec, policy: Policy, device_labels: DeviceLabels
) -> tuple[FlytekitAccelerator, list[Finding]]:
    findings: list[Finding] = []
    entry = catalog_entry(acc)
    if acc.device_class != implied_device_class(acc.device):
        findings.append(
            finding(
                Rule.DEVICE_CLASS_DROPPED,
                "accelerator.device_class",
                acc.device_class,
                "flytekit cannot send a device class, and this device does not imply it",
                policy=policy,
            )
        )
    if acc.model is not None:
        findings.append(
            finding(
                Rule.ACCELERATOR_MODEL_DROPPED,
                "accelerator.model",
                acc.model,
                "flytekit has no way to set accelerator_model",
                policy=policy,
            )
        )
    device = acc.device
    if entry is not None and entry.flytekit_constant is not None and entry.v1_device != acc.device:
        if device_labels is DeviceLabels.IDIOMATIC and entry.v1_device is not None:
            findings.append(
                info(
                    Rule.DEVICE_LABEL_CHANGED,
                    "accelerator.device",
                    acc.device,
                    f"flytekit's {entry.flytekit_constant} is sent as {entry.v1_device!r}, a different node label",
                    f"device label becomes {entry.v1_device!r}",
                    policy=policy,
                )
            )
            device = entry.v1_device
        else:
            entry = None
    if entry is None or entry.flytekit_constant is None or entry.v1_device != device:
        result = FlytekitAccelerator(device, partition=acc.partition, unpartitioned=acc.unpartitioned)
        return result, findings
    constant = entry.flytekit_constant
    if acc.unpartitioned:
        if entry.partition_kind is None:
            return FlytekitAccelerator(device, unpartitioned=True), findings
        return FlytekitAccelerator(device, constant, "unpartitioned", unpartitioned=True), findings
    if acc.partition is None:
        return FlytekitAccelerator(device, constant), findings
    if acc.partition in entry.v1_partitions:
        attr = partition_attribute(entry, acc.partition)
        return FlytekitAccelerator(device, constant, attr, partition=acc.partition), findings
    return FlytekitAccelerator(device, partition=acc.partition), findings


def convert_to_flytekit(
    spec: ResourceSpec,
    *,
    policy: Policy | PolicyName = Policy.STRICT,
    form: FlytekitForm | FlytekitFormName = FlytekitForm.SPLIT,
    device_labels: DeviceLabels | DeviceLabelsName = DeviceLabels.KEEP,
) -> Conversion[dict[str, Any] | None]:
    """Like `to_flytekit`, but returns the findings too (and does not raise for them)."""
    decided = flytekit_arguments(spec, policy=policy, form=form, device_labels=device_labels)
    if decided.lossy:
        return Conversion(None, decided.findings)
    return Conversion(decided.value.kwargs(), decided.findings)


def to_flytekit(
    spec: ResourceSpec,
    *,
    policy: Policy | PolicyName = Policy.STRICT,
    form: FlytekitForm | FlytekitFormName = FlytekitForm.SPLIT,
    device_labels: DeviceLabels | DeviceLabelsName = DeviceLabels.KEEP,
) -> dict[str, Any]:
    """The keyword arguments `@task(...)` and `with_overrides(...)` take for `spec`.

    Every quantity is a string (flytekit 1.16's task serializer crashes on ints
    and floats). `form="split"` gives `requests=`/`limits=`; `"resources"` gives
    flytekit's single `resources=Resources(cpu=(req, lim), ...)`. Raises
    `LossyConversionError` for what flytekit cannot say under `policy`.

    >>> from flyteres import ResourceSpec
    >>> to_flytekit(ResourceSpec(limits={"memory": "600Mi"}))
    {'limits': Resources(cpu=None, mem='600Mi', gpu=None, ephemeral_storage=None)}
    """
    decided = flytekit_arguments(spec, policy=policy, form=form, device_labels=device_labels)
    return decided.unwrap("flytekit").kwargs()
