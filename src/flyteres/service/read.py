"""Reading requests: the service's messages as the library's arguments.

`read_input` turns a SpecInput (any of its five forms) into a ResourceSpec
through the library's readers (`from_flytekit`, `from_flyte`, `from_idl`,
`from_idl_spec`); on failure it re-reads each field on its own ("parts") so the
answer names every bad field, not only the first. `read_options` turns
ConvertOptions into the library's option enums.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import DecodeError

from flyteres._errors import ResourceSpecError
from flyteres.convert.flyte import from_flyte
from flyteres.convert.flytekit import from_flytekit
from flyteres.convert.idl import from_idl, from_idl_spec
from flyteres.core.options import DeviceLabels, FlytekitForm, Policy
from flyteres.core.spec import AcceleratorSpec, ResourceSpec
from flyteres.service.errors import InvalidRequestError, UnavailableError, Violation, summary, violation_of
from flyteres_pb.v1 import resources_pb2, service_pb2

pb: Any = service_pb2
res_pb: Any = resources_pb2

# The library raises these for bad input: a ValueError subclass names the field
# (ResourceSpecError) or at least says what is wrong; TypeError covers SDK
# constructors handed a value of the wrong kind.
# At most this many fields are re-read on their own to find every bad one.
MAX_PROBES = 64

INPUT_ERRORS: tuple[type[BaseException], ...] = (ValueError, TypeError)


def decode(cls: Any, data: bytes, where: str) -> Any:
    """Parse `data` as message class `cls`, as INVALID_ARGUMENT when it is not one."""
    try:
        return cls.FromString(data)
    except DecodeError as exc:
        raise InvalidRequestError(
            f"{where} is not a valid {cls.DESCRIPTOR.full_name} message: {exc}",
            [Violation(where, f"{len(data)} bytes", f"not a valid {cls.DESCRIPTOR.full_name} message: {exc}")],
            malformed=True,
        ) from None


# ---------------------------------------------------------------------------------------------
# Reading a SpecInput


def _pair(value: Any) -> str | tuple[str, str]:
    return (value.request, value.limit) if value.HasField("limit") else value.request


def _custom_accelerator(message: Any) -> AcceleratorSpec | None:
    # flytekit's GPUAccelerator("<device>") sends exactly this message and no
    # device class: the library reads it as flyteidl v1 does.
    ext = res_pb.ExtendedResources(gpu_accelerator=message)
    return from_idl(None, ext, source="flyteidl").accelerator


def _read_flytekit(m: Any) -> ResourceSpec:
    kwargs: dict[str, Any] = {}
    # An empty map is "not given": flytekit refuses resources= beside requests=/limits= even when empty.
    if m.requests:
        kwargs["requests"] = dict(m.requests)
    if m.limits:
        kwargs["limits"] = dict(m.limits)
    if m.resources:
        kwargs["resources"] = {key: _pair(value) for key, value in m.resources.items()}
    case = m.WhichOneof("accelerator_value")
    if case == "accelerator":
        kwargs["accelerator"] = m.accelerator
    elif case == "custom_accelerator":
        kwargs["accelerator"] = _custom_accelerator(m.custom_accelerator)
    case = m.WhichOneof("shared_memory")
    if case is not None:
        kwargs["shared_memory"] = getattr(m, case)
    return from_flytekit(**kwargs)


def _flytekit_parts(m: Any) -> Iterator[tuple[str, Any]]:
    for key, value in m.requests.items():
        yield f"requests.{key}", pb.FlytekitSpec(requests={key: value})
    for key, value in m.limits.items():
        yield f"limits.{key}", pb.FlytekitSpec(limits={key: value})
    for key, value in m.resources.items():
        yield f"resources.{key}", pb.FlytekitSpec(resources={key: value})
    case = m.WhichOneof("accelerator_value")
    if case == "accelerator":
        yield case, pb.FlytekitSpec(accelerator=m.accelerator)
    elif case == "custom_accelerator":
        yield case, pb.FlytekitSpec(custom_accelerator=m.custom_accelerator)
    case = m.WhichOneof("shared_memory")
    if case is not None:
        yield case, pb.FlytekitSpec(**{case: getattr(m, case)})


@functools.cache
def _flyte_module() -> Any:
    try:
        import flyte  # noqa: PLC0415 - optional extra, imported once
    except ImportError:  # pragma: no cover - the test environment has the extra
        raise UnavailableError(
            "reading a FlyteSpec needs the flyte package on the server: pip install 'flyteres[flyte]'"
        ) from None
    return flyte


def _read_flyte(m: Any) -> ResourceSpec:
    flyte = _flyte_module()
    kwargs: dict[str, Any] = {}
    if m.HasField("cpu"):
        kwargs["cpu"] = _pair(m.cpu)
    if m.HasField("memory"):
        kwargs["memory"] = _pair(m.memory)
    case = m.WhichOneof("gpu")
    if case == "gpu_count":
        kwargs["gpu"] = m.gpu_count
    elif case == "gpu_accelerator":
        kwargs["gpu"] = m.gpu_accelerator
    elif case == "gpu_device":
        d = m.gpu_device
        kwargs["gpu"] = flyte.Device(
            quantity=d.quantity, device_class=d.device_class, device=d.device or None, partition=d.partition or None
        )
    if m.disk:
        kwargs["disk"] = m.disk
    if m.shm:
        kwargs["shm"] = m.shm
    try:
        return from_flyte(flyte.Resources(**kwargs))
    except ResourceSpecError as exc:
        # The library names flyte.Resources' `gpu`; this IDL splits it into a oneof.
        head, dot, rest = exc.field.partition(".")
        if head == "gpu" and case is not None:
            raise ResourceSpecError(case + dot + rest, exc.value, exc.reason) from None
        raise


def _flyte_parts(m: Any) -> Iterator[tuple[str, Any]]:
    for name in ("cpu", "memory"):
        if m.HasField(name):
            part = pb.FlyteSpec()
            getattr(part, name).CopyFrom(getattr(m, name))
            yield name, part
    case = m.WhichOneof("gpu")
    if case == "gpu_device":
        yield case, pb.FlyteSpec(gpu_device=m.gpu_device)
    elif case is not None:
        yield case, pb.FlyteSpec(**{case: getattr(m, case)})
    for name in ("disk", "shm"):
        if getattr(m, name):
            yield name, pb.FlyteSpec(**{name: getattr(m, name)})


def _source(dialect: int) -> Any:
    if dialect not in pb.Idl.values():
        raise InvalidRequestError(
            f"unknown Idl value {dialect}",
            [Violation("dialect", str(dialect), "not an Idl value")],
            malformed=True,
        )
    return "flyteidl" if dialect == pb.IDL_FLYTEIDL else "auto"


def _read_idl(m: Any) -> ResourceSpec:
    return from_idl(
        m.resources if m.HasField("resources") else None,
        m.extended_resources if m.HasField("extended_resources") else None,
        source=_source(m.dialect),
    )


def _idl_parts(m: Any) -> Iterator[tuple[str, Any]]:
    for where in ("requests", "limits"):
        for i, entry in enumerate(getattr(m.resources, where)):
            part = pb.IdlSpec(dialect=m.dialect)
            getattr(part.resources, where).add().CopyFrom(entry)
            yield f"resources.{where}[{i}]", part
    for name in ("gpu_accelerator", "shared_memory"):
        if m.extended_resources.HasField(name):
            part = pb.IdlSpec(dialect=m.dialect)
            getattr(part.extended_resources, name).CopyFrom(getattr(m.extended_resources, name))
            yield f"extended_resources.{name}", part


def _read_idl_binary(m: Any) -> ResourceSpec:
    # The bytes go to the library untouched, so fields a re-encode would fold
    # away (an explicit zero device class from flyteidl v1) still count.
    return from_idl(m.resources or None, m.extended_resources or None, source=_source(m.dialect))


def _idl_binary_parts(m: Any) -> Iterator[tuple[str, Any]]:
    try:
        as_messages = pb.IdlSpec(
            resources=res_pb.Resources.FromString(m.resources),
            extended_resources=res_pb.ExtendedResources.FromString(m.extended_resources),
            dialect=m.dialect,
        )
    except DecodeError:
        return
    for path, part in _idl_parts(as_messages):
        yield (
            path,
            pb.IdlBinarySpec(
                resources=part.resources.SerializeToString(),
                extended_resources=part.extended_resources.SerializeToString(),
                dialect=m.dialect,
            ),
        )


def _canonical_parts(m: Any) -> Iterator[tuple[str, Any]]:
    for where in ("requests", "limits"):
        for key, value in getattr(m, where).items():
            yield f"{where}.{key}", pb.ResourceSpec(**{where: {key: value}})
    for name in ("accelerator", "shared_memory"):
        if m.HasField(name):
            part = pb.ResourceSpec()
            getattr(part, name).CopyFrom(getattr(m, name))
            yield name, part


_READERS: dict[str, tuple[Callable[[Any], ResourceSpec], Callable[[Any], Iterator[tuple[str, Any]]]]] = {
    "flytekit": (_read_flytekit, _flytekit_parts),
    "flyte": (_read_flyte, _flyte_parts),
    "idl": (_read_idl, _idl_parts),
    "idl_binary": (_read_idl_binary, _idl_binary_parts),
    "canonical": (from_idl_spec, _canonical_parts),
}


def read_input(message: Any, where: str = "input") -> ResourceSpec:
    """The ResourceSpec a SpecInput describes, or InvalidRequestError naming every bad field.

    The library stops at the first error, so on failure each field is read
    again on its own to find the others; errors between fields (a request
    above its limit) come from reading the whole spec.
    """
    case = message.WhichOneof("spec")
    if case is None:
        raise InvalidRequestError(
            f"{where} is empty",
            [Violation(where, "", "set one of flytekit, flyte, idl, idl_binary or canonical")],
            malformed=True,
        )
    read, parts = _READERS[case]
    value = getattr(message, case)
    prefix = f"{where}.{case}"
    try:
        return read(value)
    except InvalidRequestError as exc:
        raise InvalidRequestError(exc.message, [_prefixed(v, prefix) for v in exc.violations], malformed=True) from None
    except INPUT_ERRORS as exc:
        whole = violation_of(exc, prefix, prefix)
    found: list[Violation] = []
    # Bounded: a request may hold many thousands of entries, and each probe is a library call.
    for path, part in itertools.islice(parts(value), MAX_PROBES):
        try:
            read(part)
        except INPUT_ERRORS as exc:
            found.append(violation_of(exc, prefix, f"{prefix}.{path}"))
    if not any(v.description == whole.description for v in found):
        found.append(whole)
    found = list(dict.fromkeys(found))
    raise InvalidRequestError(f"invalid {case} spec: {summary(found)}", found)


def _prefixed(v: Violation, prefix: str) -> Violation:
    return Violation(f"{prefix}.{v.field}", v.value, v.description)


# ---------------------------------------------------------------------------------------------
# Options


@dataclass(frozen=True)
class Options:
    """ConvertOptions as the library's arguments."""

    outputs: frozenset[int]
    policy: Policy = Policy.STRICT
    device_labels: DeviceLabels = DeviceLabels.KEEP
    form: FlytekitForm = FlytekitForm.SPLIT


ALL_OUTPUTS = frozenset(v for v in range(1, 7))
_POLICIES = {0: Policy.STRICT, 1: Policy.STRICT, 2: Policy.KUBERNETES}
_DEVICE_LABELS = {0: DeviceLabels.KEEP, 1: DeviceLabels.KEEP, 2: DeviceLabels.IDIOMATIC}
_FORMS = {0: FlytekitForm.SPLIT, 1: FlytekitForm.SPLIT, 2: FlytekitForm.RESOURCES}


def read_options(m: Any, where: str = "options") -> Options:
    """Options from a ConvertOptions message; unknown enum numbers are INVALID_ARGUMENT."""
    bad: list[Violation] = []
    outputs = set()
    for i, form in enumerate(m.outputs):
        if form not in pb.OutputForm.values():
            bad.append(Violation(f"{where}.outputs[{i}]", str(form), "not an OutputForm value"))
        elif form:
            outputs.add(form)
    for name, table in (("policy", _POLICIES), ("device_labels", _DEVICE_LABELS), ("flytekit_form", _FORMS)):
        value = getattr(m, name)
        if value not in table:
            bad.append(Violation(f"{where}.{name}", str(value), f"not a {name} value"))
    if bad:
        raise InvalidRequestError(f"invalid options: {summary(bad)}", bad, malformed=True)
    return Options(
        outputs=frozenset(outputs) or ALL_OUTPUTS,
        policy=_POLICIES[m.policy],
        device_labels=_DEVICE_LABELS[m.device_labels],
        form=_FORMS[m.flytekit_form],
    )


__all__ = [
    "ALL_OUTPUTS",
    "Options",
    "decode",
    "read_input",
    "read_options",
]
