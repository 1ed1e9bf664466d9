"""Reading requests: the service's messages as the library's arguments.

`read_input` turns a SpecInput (any of its five forms) into a ResourceSpec
through the library's readers (`from_flytekit`, `from_flyte`, `from_idl`,
`from_idl_spec`); on failure it re-reads each field on its own (the form's
"parts") so the answer names every bad field, not only the first.
`read_options` turns ConvertOptions into the library's option enums.

>>> read_input(service_pb2.SpecInput(flytekit=service_pb2.FlytekitSpec(requests={"cpu": "1"})))
ResourceSpec(requests={cpu='1'})
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Literal, TypeVar

from google.protobuf.message import DecodeError, Message

from flyteres._errors import ResourceSpecError
from flyteres._extras import hint
from flyteres.accelerators import DeviceClass
from flyteres.convert.flyte import from_flyte
from flyteres.convert.flytekit import from_flytekit
from flyteres.convert.idl import from_idl, from_idl_spec
from flyteres.core.options import DeviceLabels, FlytekitForm, Policy
from flyteres.core.spec import AcceleratorSpec, ResourceSpec
from flyteres.service import bounds, enums, paths
from flyteres.service.errors import (
    InvalidRequestError,
    UnavailableError,
    Violation,
    for_callers,
    summary,
    violation_of,
)
from flyteres_pb.v1 import resources_pb2
from flyteres_pb.v2 import service_pb2, spec_pb2

_M = TypeVar("_M", bound=Message)

# The library raises these for bad input: a ValueError subclass names the field
# (ResourceSpecError) or at least says what is wrong; TypeError covers SDK
# constructors handed a value of the wrong kind, and OverflowError arithmetic on
# a hostile number. All are the request's fault: INVALID_ARGUMENT, never INTERNAL.
INPUT_ERRORS: tuple[type[BaseException], ...] = (ValueError, TypeError, OverflowError)

# At most this many fields are re-read on their own to find every bad one.
MAX_PROBES = 64


def decode(cls: type[_M], data: bytes, where: str, max_bytes: int = bounds.MAX_REQUEST_BYTES) -> _M:
    """Parse `data` as message class `cls`, as INVALID_ARGUMENT when it is not one
    or it exceeds the service's bounds (bounds.py) or `max_bytes`."""
    bounds.check_size(data, where, max_bytes)
    try:
        message = cls.FromString(data)
    except DecodeError as exc:
        raise InvalidRequestError(
            f"{where} is not a valid {cls.DESCRIPTOR.full_name} message: {exc}",
            [Violation(where, f"{len(data)} bytes", f"not a valid {cls.DESCRIPTOR.full_name} message: {exc}")],
            malformed=True,
        ) from None
    bounds.check(message, where)
    return message


# ---------------------------------------------------------------------------------------------
# Reading a SpecInput


def _pair(value: service_pb2.RequestLimit) -> str | tuple[str, str]:
    return (value.request, value.limit) if value.HasField("limit") else value.request


def _custom_accelerator(message: resources_pb2.GPUAccelerator) -> AcceleratorSpec | None:
    # flytekit's GPUAccelerator("<device>") sends exactly this message and no
    # device class: the library reads it as flyteidl v1 does.
    ext = resources_pb2.ExtendedResources(gpu_accelerator=message)
    return from_idl(None, ext, source="flyteidl").accelerator


def _read_flytekit(m: service_pb2.FlytekitSpec) -> ResourceSpec:
    accelerator: str | AcceleratorSpec | None = None
    match m.WhichOneof("accelerator_value"):
        case "accelerator":
            accelerator = m.accelerator
        case "custom_accelerator":
            accelerator = _custom_accelerator(m.custom_accelerator)
    shared_memory: bool | str | None = None
    match m.WhichOneof("shared_memory"):
        case "shared_memory_enabled":
            shared_memory = m.shared_memory_enabled
        case "shared_memory_size":
            shared_memory = m.shared_memory_size
    # An empty map is "not given" (None): flytekit refuses resources= beside
    # requests=/limits= even when empty.
    return from_flytekit(
        requests=dict(m.requests) or None,
        limits=dict(m.limits) or None,
        resources={key: _pair(value) for key, value in m.resources.items()} or None,
        accelerator=accelerator,
        shared_memory=shared_memory,
    )


def _flytekit_parts(m: service_pb2.FlytekitSpec) -> Iterator[tuple[str, service_pb2.FlytekitSpec]]:
    spec = service_pb2.FlytekitSpec
    for key, value in m.requests.items():
        yield f"requests.{key}", spec(requests={key: value})
    for key, value in m.limits.items():
        yield f"limits.{key}", spec(limits={key: value})
    for key, pair in m.resources.items():
        yield f"resources.{key}", spec(resources={key: pair})
    match m.WhichOneof("accelerator_value"):
        case "accelerator":
            yield "accelerator", spec(accelerator=m.accelerator)
        case "custom_accelerator":
            yield "custom_accelerator", spec(custom_accelerator=m.custom_accelerator)
    match m.WhichOneof("shared_memory"):
        case "shared_memory_enabled":
            yield "shared_memory_enabled", spec(shared_memory_enabled=m.shared_memory_enabled)
        case "shared_memory_size":
            yield "shared_memory_size", spec(shared_memory_size=m.shared_memory_size)


@functools.cache
def _flyte_module() -> ModuleType:
    try:
        import flyte  # noqa: PLC0415 - optional extra, imported once
    except ImportError:  # pragma: no cover - the test environment has the extra
        raise UnavailableError(f"this server cannot read a FlyteSpec: {hint('reading a FlyteSpec', 'flyte')}") from None
    return flyte


def _flyte_device_class(value: spec_pb2.DeviceClass) -> str:
    """flyte's spelling of a FlyteDevice's class ("GPU", "TPU", ...); UNSPECIFIED is flyte's default, "GPU"."""
    if value == spec_pb2.DEVICE_CLASS_UNSPECIFIED:
        return DeviceClass.NVIDIA_GPU.flyte_name
    member = enums.DEVICE_CLASS_OF.get(value)
    if member is None:
        raise ResourceSpecError("gpu.device_class", value, "not a DeviceClass value")
    return member.flyte_name


def _read_flyte(m: service_pb2.FlyteSpec) -> ResourceSpec:
    flyte = _flyte_module()
    case = m.WhichOneof("gpu")
    gpu: object = None
    match case:
        case "gpu_count":
            gpu = m.gpu_count
        case "gpu_accelerator":
            gpu = m.gpu_accelerator
        case "gpu_device":
            d = m.gpu_device
            gpu = flyte.Device(
                quantity=d.quantity,
                device_class=_flyte_device_class(d.device_class),
                device=d.device or None,
                partition=d.partition or None,
            )
    try:
        return from_flyte(
            flyte.Resources(
                cpu=_pair(m.cpu) if m.HasField("cpu") else None,
                memory=_pair(m.memory) if m.HasField("memory") else None,
                gpu=gpu,
                disk=m.disk or None,
                shm=m.shm or None,
            )
        )
    except ResourceSpecError as exc:
        # The library names flyte.Resources' `gpu`; this IDL splits it into a oneof.
        head, dot, rest = exc.field.partition(".")
        if head == "gpu" and case is not None:
            raise ResourceSpecError(case + dot + rest, exc.value, exc.reason) from None
        raise


def _flyte_parts(m: service_pb2.FlyteSpec) -> Iterator[tuple[str, service_pb2.FlyteSpec]]:
    spec = service_pb2.FlyteSpec
    if m.HasField("cpu"):
        yield "cpu", spec(cpu=m.cpu)
    if m.HasField("memory"):
        yield "memory", spec(memory=m.memory)
    match m.WhichOneof("gpu"):
        case "gpu_count":
            yield "gpu_count", spec(gpu_count=m.gpu_count)
        case "gpu_accelerator":
            yield "gpu_accelerator", spec(gpu_accelerator=m.gpu_accelerator)
        case "gpu_device":
            yield "gpu_device", spec(gpu_device=m.gpu_device)
    if m.disk:
        yield "disk", spec(disk=m.disk)
    if m.shm:
        yield "shm", spec(shm=m.shm)


def _source(dialect: service_pb2.Idl) -> Literal["auto", "flyteidl"]:
    if dialect not in service_pb2.Idl.values():
        raise InvalidRequestError(
            f"unknown Idl value {dialect}",
            [Violation("dialect", str(dialect), "not an Idl value")],
            malformed=True,
        )
    # Only flyteidl (v1) reads differently: it has no device class field.
    return "flyteidl" if dialect == service_pb2.IDL_FLYTEIDL else "auto"


def _read_idl(m: service_pb2.IdlSpec) -> ResourceSpec:
    return from_idl(
        m.resources if m.HasField("resources") else None,
        m.extended_resources if m.HasField("extended_resources") else None,
        source=_source(m.dialect),
    )


def _idl_parts(m: service_pb2.IdlSpec) -> Iterator[tuple[str, service_pb2.IdlSpec]]:
    spec, resources, extended = service_pb2.IdlSpec, resources_pb2.Resources, resources_pb2.ExtendedResources
    for i, entry in enumerate(m.resources.requests):
        yield f"resources.requests[{i}]", spec(resources=resources(requests=[entry]), dialect=m.dialect)
    for i, entry in enumerate(m.resources.limits):
        yield f"resources.limits[{i}]", spec(resources=resources(limits=[entry]), dialect=m.dialect)
    ext = m.extended_resources
    if ext.HasField("gpu_accelerator"):
        part = extended(gpu_accelerator=ext.gpu_accelerator)
        yield "extended_resources.gpu_accelerator", spec(extended_resources=part, dialect=m.dialect)
    if ext.HasField("shared_memory"):
        part = extended(shared_memory=ext.shared_memory)
        yield "extended_resources.shared_memory", spec(extended_resources=part, dialect=m.dialect)


def _read_idl_binary(m: service_pb2.IdlBinarySpec) -> ResourceSpec:
    # The bytes go to the library untouched, so fields a re-encode would fold
    # away (an explicit zero device class from flyteidl v1) still count.
    return from_idl(m.resources or None, m.extended_resources or None, source=_source(m.dialect))


def _idl_binary_parts(m: service_pb2.IdlBinarySpec) -> Iterator[tuple[str, service_pb2.IdlBinarySpec]]:
    try:
        as_messages = service_pb2.IdlSpec(
            resources=resources_pb2.Resources.FromString(m.resources),
            extended_resources=resources_pb2.ExtendedResources.FromString(m.extended_resources),
            dialect=m.dialect,
        )
    except DecodeError:
        return
    for path, part in _idl_parts(as_messages):
        yield (
            path,
            service_pb2.IdlBinarySpec(
                resources=part.resources.SerializeToString(),
                extended_resources=part.extended_resources.SerializeToString(),
                dialect=m.dialect,
            ),
        )


def _canonical_parts(m: spec_pb2.ResourceSpec) -> Iterator[tuple[str, spec_pb2.ResourceSpec]]:
    spec = spec_pb2.ResourceSpec
    for key, value in m.requests.items():
        yield f"requests.{key}", spec(requests={key: value})
    for key, value in m.limits.items():
        yield f"limits.{key}", spec(limits={key: value})
    if m.HasField("accelerator"):
        yield "accelerator", spec(accelerator=m.accelerator)
    if m.HasField("shared_memory"):
        yield "shared_memory", spec(shared_memory=m.shared_memory)


def read_input(message: service_pb2.SpecInput, where: str = "input") -> ResourceSpec:
    """The ResourceSpec a SpecInput describes, or InvalidRequestError naming every bad field.

    The library stops at the first error, so on failure each field is read
    again on its own to find the others; errors between fields (a request
    above its limit) come from reading the whole spec.
    """
    match message.WhichOneof("spec"):
        case "flytekit":
            return _read_form("flytekit", message.flytekit, _read_flytekit, _flytekit_parts, where)
        case "flyte":
            return _read_form("flyte", message.flyte, _read_flyte, _flyte_parts, where)
        case "idl":
            return _read_form("idl", message.idl, _read_idl, _idl_parts, where)
        case "idl_binary":
            return _read_form("idl_binary", message.idl_binary, _read_idl_binary, _idl_binary_parts, where)
        case "canonical":
            return _read_form("canonical", message.canonical, from_idl_spec, _canonical_parts, where)
    raise InvalidRequestError(
        f"{where} is empty",
        [Violation(where, "", "set one of flytekit, flyte, idl, idl_binary or canonical")],
        malformed=True,
    )


def _read_form(
    form: str,
    value: _M,
    read: Callable[[_M], ResourceSpec],
    parts: Callable[[_M], Iterable[tuple[str, _M]]],
    where: str,
) -> ResourceSpec:
    """`read(value)`; on failure, every bad field of `value` (the SpecInput case `form`)."""
    prefix = f"{where}.{form}"
    try:
        return read(value)
    except InvalidRequestError as exc:
        raise InvalidRequestError(exc.message, [_prefixed(v, prefix) for v in exc.violations], malformed=True) from None
    except INPUT_ERRORS as exc:
        whole = _violation(exc, form, value, where, form)
    found: list[Violation] = []
    # Bounded: a request may hold many thousands of entries, and each probe is a library call.
    for path, part in itertools.islice(parts(value), MAX_PROBES):
        try:
            read(part)
        except INPUT_ERRORS as exc:
            found.append(_violation(exc, form, value, where, f"{form}.{path}"))
    if not any(v.description == whole.description for v in found):
        found.append(whole)
    found = list(dict.fromkeys(found))
    raise InvalidRequestError(f"invalid {form} spec: {summary(found)}", found)


def _prefixed(v: Violation, prefix: str) -> Violation:
    return Violation(f"{prefix}.{v.field}", v.value, v.description)


# What a caller sets, in each form, to send a device the catalog does not know.
_CUSTOM = {
    "flytekit": "custom_accelerator",
    "flyte": "gpu_device",
    "canonical": "accelerator.custom to true",
}


def _violation(exc: BaseException, form: str, value: Message, where: str, fallback: str) -> Violation:
    """The violation of a library error in the SpecInput case `form`, named by a path the request has.

    `fallback` (relative to the SpecInput) is the field that was being read on
    its own, used when the library's field name has no place in this form.
    """
    v = violation_of(exc, "", fallback)
    description = for_callers(v.description, _CUSTOM.get(form, "custom"))
    if isinstance(exc, ResourceSpecError):
        wanted = f"{form}.{paths.request_path(form, value, exc.field)}"
        path = paths.existing(service_pb2.SpecInput, wanted)
        if path != wanted and paths.existing(service_pb2.SpecInput, fallback) == fallback:
            path = fallback
    else:
        path = paths.existing(service_pb2.SpecInput, fallback)
    return Violation(f"{where}.{path}", v.value, description)


# ---------------------------------------------------------------------------------------------
# Options


@dataclass(frozen=True)
class Options:
    """ConvertOptions as the library's arguments."""

    outputs: frozenset[service_pb2.OutputForm]
    policy: Policy = Policy.STRICT
    device_labels: DeviceLabels = DeviceLabels.KEEP
    form: FlytekitForm = FlytekitForm.SPLIT


# Wire number -> library option, the inverses of the client's tables. UNSPECIFIED
# is a field left unset, and means the library's default.
_POLICIES: dict[service_pb2.Policy, Policy] = {
    service_pb2.POLICY_UNSPECIFIED: Policy.STRICT,
    **{number: member for member, number in enums.POLICY.items()},
}
_DEVICE_LABELS: dict[service_pb2.DeviceLabels, DeviceLabels] = {
    service_pb2.DEVICE_LABELS_UNSPECIFIED: DeviceLabels.KEEP,
    **{number: member for member, number in enums.DEVICE_LABELS.items()},
}
_FORMS: dict[service_pb2.FlytekitForm, FlytekitForm] = {
    service_pb2.FLYTEKIT_FORM_UNSPECIFIED: FlytekitForm.SPLIT,
    **{number: member for member, number in enums.FLYTEKIT_FORM.items()},
}


def read_options(m: service_pb2.ConvertOptions, where: str = "options") -> Options:
    """Options from a ConvertOptions message; unknown enum numbers are INVALID_ARGUMENT.

    No outputs means every output form.
    """
    bad: list[Violation] = []
    outputs: set[service_pb2.OutputForm] = set()
    for i, form in enumerate(m.outputs):
        if form not in service_pb2.OutputForm.values():
            bad.append(Violation(f"{where}.outputs[{i}]", str(form), "not an OutputForm value"))
        elif form != service_pb2.OUTPUT_FORM_UNSPECIFIED:
            outputs.add(form)
    policy = _POLICIES.get(m.policy)
    device_labels = _DEVICE_LABELS.get(m.device_labels)
    flytekit_form = _FORMS.get(m.flytekit_form)
    for name, value, member in (
        ("policy", m.policy, policy),
        ("device_labels", m.device_labels, device_labels),
        ("flytekit_form", m.flytekit_form, flytekit_form),
    ):
        if member is None:
            bad.append(Violation(f"{where}.{name}", str(value), f"not a {name} value"))
    # A None member is always in `bad`; naming them again narrows their types.
    if bad or policy is None or device_labels is None or flytekit_form is None:
        raise InvalidRequestError(f"invalid options: {summary(bad)}", bad, malformed=True)
    return Options(
        outputs=frozenset(outputs) or enums.ALL_OUTPUTS,
        policy=policy,
        device_labels=device_labels,
        form=flytekit_form,
    )


__all__ = [
    "Options",
    "decode",
    "read_input",
    "read_options",
]
