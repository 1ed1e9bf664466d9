"""The service's messages ⇄ the library.

Every rule lives in the library (`from_flytekit`, `from_flyte`, `from_idl`,
`to_idl`, `convert_to_k8s`, `flyte_arguments`, `flytekit_arguments`, the
accelerator catalog); this module only moves values between the
flyteres.v1 service messages and the library's arguments and results, and
turns the library's errors into field violations.

>>> from flyteres_pb.v1 import service_pb2 as pb
>>> request = pb.ConvertRequest(input=pb.SpecInput(flytekit=pb.FlytekitSpec(requests={"cpu": "1"})))
>>> convert(request).flyte.source
"flyte.Resources(cpu='1')"
"""

from __future__ import annotations

import contextlib
import functools
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import DecodeError

from flyteres import accelerators
from flyteres._errors import FlyteresError, ResourceSpecError, UnknownAcceleratorError
from flyteres.convert.flyte import flyte_arguments, from_flyte
from flyteres.convert.flytekit import FlytekitArguments, flytekit_arguments, from_flytekit
from flyteres.convert.idl import from_idl, from_idl_spec, to_idl, to_idl_spec
from flyteres.convert.k8s import convert_to_k8s
from flyteres.convert.source import flytekit_arguments_source
from flyteres.core.findings import Conversion, Finding
from flyteres.core.options import DeviceLabels, FlytekitForm, IdlTarget, Policy
from flyteres.core.spec import AcceleratorSpec, ResourceSpec
from flyteres_pb.v1 import resources_pb2, service_pb2

pb: Any = service_pb2
res_pb: Any = resources_pb2

# google.rpc.Code numbers, for BatchError.code.
INVALID_ARGUMENT = 3
NOT_FOUND = 5
FAILED_PRECONDITION = 9
INTERNAL = 13

# The library raises these for bad input: a ValueError subclass names the field
# (ResourceSpecError) or at least says what is wrong; TypeError covers SDK
# constructors handed a value of the wrong kind.
# At most this many fields are re-read on their own to find every bad one.
MAX_PROBES = 64

INPUT_ERRORS: tuple[type[BaseException], ...] = (ValueError, TypeError)


@dataclass(frozen=True)
class Violation:
    """One invalid field of a request: its path, the value there, and what is wrong."""

    field: str
    value: str
    description: str

    def to_pb(self) -> Any:
        return pb.FieldViolation(field=self.field, value=self.value, description=self.description)


class RequestError(Exception):
    """A request the service answers with an error status (never an INTERNAL one)."""

    code = INTERNAL

    def __init__(self, message: str, violations: Iterable[Violation] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.violations = tuple(violations)


class InvalidRequestError(RequestError):
    """INVALID_ARGUMENT. `malformed` marks a request that is not a question at
    all (nothing to read, an unknown enum number), as opposed to a spec that
    was read and found invalid; Validate answers only the latter with OK."""

    code = INVALID_ARGUMENT

    def __init__(self, message: str, violations: Iterable[Violation] = (), *, malformed: bool = False) -> None:
        super().__init__(message, violations)
        self.malformed = malformed


class NotFoundError(RequestError):
    """NOT_FOUND: a lookup with no answer."""

    code = NOT_FOUND


class UnavailableError(RequestError):
    """FAILED_PRECONDITION: this server lacks an optional package the request needs."""

    code = FAILED_PRECONDITION


def _text(value: object) -> str:
    return value if isinstance(value, str) else repr(value)


def violation_of(exc: BaseException, prefix: str, fallback: str) -> Violation:
    """A violation for a library error; `fallback` is the field when the error names none."""
    if isinstance(exc, ResourceSpecError):
        return Violation(f"{prefix}.{exc.field}", _text(exc.value), exc.reason)
    return Violation(fallback, "", str(exc))


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


def summary(violations: Iterable[Violation]) -> str:
    """The violations on one line, for a status message."""
    return "; ".join(f"{v.field}: {v.description}" for v in violations)


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


# ---------------------------------------------------------------------------------------------
# Results


def finding_to_pb(f: Finding) -> Any:
    return pb.Finding(
        rule=f.rule.value, field=f.field, value=f.value, reason=f.reason, actions=f.actions, lossy=f.lossy
    )


_IDL_FORMS: tuple[tuple[int, IdlTarget], ...] = (
    (1, IdlTarget.FLYTERES),
    (2, IdlTarget.FLYTEIDL),
    (3, IdlTarget.FLYTEIDL2),
)


def _idl_output(out: Any, spec: ResourceSpec, target: IdlTarget) -> None:
    try:
        res, ext = to_idl(spec, target)
    except ImportError as exc:
        raise UnavailableError(
            f"the {target} output needs {exc.name} on the server: pip install 'flyteres[idl]'"
        ) from None
    data = res.SerializeToString()
    out.resources_binary = data
    out.resources.MergeFromString(data)
    if ext is not None:
        data = ext.SerializeToString()
        out.extended_resources_binary = data
        out.extended_resources.MergeFromString(data)


def _own(conversion: Conversion[Any], spec: ResourceSpec) -> list[Finding]:
    # The library repeats what reading noticed in every conversion; the
    # response lists those once, at the top.
    return [f for f in conversion.findings if f not in spec.findings]


def _with_findings(out: Any, conversion: Conversion[Any], spec: ResourceSpec) -> bool:
    out.findings.extend(finding_to_pb(f) for f in _own(conversion, spec))
    out.lossy = bool(conversion.lossy)
    return out.lossy  # type: ignore[no-any-return]


def _k8s_output(out: Any, spec: ResourceSpec, options: Options) -> bool:
    conversion = convert_to_k8s(spec, policy=options.policy)
    if _with_findings(out, conversion, spec):
        return True
    value = conversion.value
    k = out.value
    k.resources.SetInParent()
    resources = value.get("resources", {})
    k.resources.requests.update(resources.get("requests", {}))
    k.resources.limits.update(resources.get("limits", {}))
    for volume in value.get("volumes", ()):
        empty_dir = volume["emptyDir"]
        k.volumes.add(
            name=volume["name"],
            empty_dir=pb.KubernetesEmptyDirVolumeSource(
                medium=empty_dir.get("medium", ""), size_limit=empty_dir.get("sizeLimit", "")
            ),
        )
    for mount in value.get("volumeMounts", ()):
        k.volume_mounts.add(name=mount["name"], mount_path=mount["mountPath"])
    return False


def flytekit_source(args: FlytekitArguments) -> str:
    """The keyword arguments of `@task(...)` as Python source.

    Names are those of `from flytekit import Resources` and
    `from flytekit.extras.accelerators import ...`; a partition of a device with
    no constant is written as the class the library builds for it.

    >>> flytekit_source(FlytekitArguments(requests={"cpu": "1"}, shared_memory=True))
    "requests=Resources(cpu='1'), shared_memory=True"
    """
    source = flytekit_arguments_source(args, exact=True)
    assert source is not None  # exact=True spells every accelerator
    return source


def _flyte_output(out: Any, spec: ResourceSpec, options: Options) -> bool:
    conversion = flyte_arguments(spec, policy=options.policy, device_labels=options.device_labels)
    if _with_findings(out, conversion, spec):
        return True
    out.source = conversion.value.source()
    return False


def _flytekit_output(out: Any, spec: ResourceSpec, options: Options) -> bool:
    conversion = flytekit_arguments(spec, policy=options.policy, form=options.form, device_labels=options.device_labels)
    if _with_findings(out, conversion, spec):
        return True
    out.source = flytekit_source(conversion.value)
    return False


def build_response(spec: ResourceSpec, options: Options) -> Any:
    """The ConvertResponse for a spec that was read successfully."""
    response = pb.ConvertResponse(spec=to_idl_spec(spec), spec_json=spec.to_json())
    response.findings.extend(finding_to_pb(f) for f in spec.findings)
    wanted = options.outputs
    for form, target in _IDL_FORMS:
        if form in wanted:
            _idl_output(getattr(response, target), spec, target)
    lossy = False
    if 4 in wanted:
        lossy |= _k8s_output(response.kubernetes, spec, options)
    if 5 in wanted:
        lossy |= _flyte_output(response.flyte, spec, options)
    if 6 in wanted:
        lossy |= _flytekit_output(response.flytekit, spec, options)
    response.lossy = lossy
    return response


def convert(request: Any) -> Any:
    """Answer a ConvertRequest (raises RequestError subclasses for bad requests).

    >>> req = pb.ConvertRequest(input=pb.SpecInput(flytekit=pb.FlytekitSpec(limits={"cpu": "2"})),
    ...                         options=pb.ConvertOptions(outputs=[pb.OUTPUT_FORM_FLYTE_SOURCE]))
    >>> resp = convert(req)
    >>> resp.lossy, resp.flyte.findings[0].rule
    (True, 'limit-without-request')
    """
    options = read_options(request.options)
    spec = read_input(request.input)
    return build_response(spec, options)


def validate(request: Any) -> Any:
    """Answer a ValidateRequest: OK with violations for an invalid spec."""
    options = read_options(request.options)
    try:
        spec = read_input(request.input)
    except InvalidRequestError as exc:
        if exc.malformed:
            raise
        return pb.ValidateResponse(valid=False, violations=[v.to_pb() for v in exc.violations])
    conversions: list[Conversion[Any]] = []
    if 4 in options.outputs:
        conversions.append(convert_to_k8s(spec, policy=options.policy))
    if 5 in options.outputs:
        conversions.append(flyte_arguments(spec, policy=options.policy, device_labels=options.device_labels))
    if 6 in options.outputs:
        conversions.append(
            flytekit_arguments(spec, policy=options.policy, form=options.form, device_labels=options.device_labels)
        )
    findings = list(dict.fromkeys([*spec.findings, *(f for c in conversions for f in c.findings)]))
    return pb.ValidateResponse(
        valid=True,
        spec=to_idl_spec(spec),
        findings=[finding_to_pb(f) for f in findings],
        lossy=any(f.lossy for f in findings),
    )


# ---------------------------------------------------------------------------------------------
# Accelerators


def accelerator_to_pb(entry: accelerators.Accelerator) -> Any:
    """The flyteres.v1.Accelerator message of a catalog entry (fields as in `to_dict`)."""
    d = entry.to_dict()
    m = pb.Accelerator(
        name=d["name"],
        device_class=d["device_class"],
        v1_partitions=d["v1_partitions"],
        v2_quantities=d["v2_quantities"],
        partitions=d["partitions"],
        aliases=d["aliases"],
        deprecated_aliases=d["deprecated_aliases"],
        node_labels=[pb.NodeLabel(key=n["key"], value=n["value"]) for n in d["node_labels"]],
        shared=d["shared"],
        notes=d["notes"],
        is_custom=d["is_custom"],
    )
    if d["accelerator_model"] is not None:
        m.accelerator_model = res_pb.AcceleratorModel.Value(d["accelerator_model"])
    for name in ("model_name", "flytekit_constant", "v1_device", "v2_name", "v2_device", "v2_helper"):
        if d[name] is not None:
            setattr(m, name, d[name])
    for name in ("partition_kind", "shared_of"):
        if d[name] is not None:
            setattr(m, name, d[name])
    if d["max_quantity"] is not None:
        m.max_quantity = d["max_quantity"]
    return m


@functools.cache
def _catalog_pb() -> tuple[tuple[accelerators.Accelerator, bytes], ...]:
    # The catalog is fixed for the life of the process; its messages are built once.
    return tuple((e, accelerator_to_pb(e).SerializeToString()) for e in accelerators.catalog())


def _device_class(value: str, where: str) -> accelerators.DeviceClass | None:
    if not value:
        return None
    try:
        return accelerators.DeviceClass.parse(value)
    except ValueError as exc:
        raise InvalidRequestError(str(exc), [Violation(where, value, str(exc))], malformed=True) from None


def resolve_accelerator(request: Any) -> Any:
    """Answer a ResolveAcceleratorRequest (NotFoundError for an unknown spelling)."""
    if not request.spelling.strip():
        raise InvalidRequestError(
            "spelling is empty", [Violation("spelling", request.spelling, "name a device")], malformed=True
        )
    device_class = _device_class(request.device_class, "device_class")
    try:
        match = accelerators.explain(request.spelling, custom=request.custom, device_class=device_class)
    except UnknownAcceleratorError as exc:
        raise NotFoundError(str(exc)) from None
    except accelerators.DeviceClassMismatchError as exc:
        raise InvalidRequestError(
            str(exc), [Violation("device_class", request.device_class, str(exc))], malformed=True
        ) from None
    except FlyteresError as exc:  # pragma: no cover - any other catalog refusal
        raise InvalidRequestError(
            str(exc), [Violation("spelling", request.spelling, str(exc))], malformed=True
        ) from None
    return pb.ResolveAcceleratorResponse(
        accelerator=accelerator_to_pb(match.entry), roles=[str(r) for r in match.roles]
    )


def list_accelerators(request: Any) -> Any:
    """Answer a ListAcceleratorsRequest, optionally filtered by device class."""
    device_class = _device_class(request.device_class, "device_class")
    response = pb.ListAcceleratorsResponse(schema_version=accelerators.SCHEMA_VERSION)
    for entry, data in _catalog_pb():
        if device_class is None or entry.device_class is device_class:
            response.accelerators.add().MergeFromString(data)
    return response


def batch_item(request: Any, index: int) -> Any:
    """The ConvertBatchResponse for one item: its result, or its error."""
    try:
        options = read_options(request.options)
        spec = read_input(request.input)
        response = build_response(spec, options)
    except RequestError as exc:
        return batch_error(request, index, exc)
    return pb.ConvertBatchResponse(id=request.id, index=index, response=response)


def batch_error(request: Any, index: int, error: RequestError) -> Any:
    """The ConvertBatchResponse for an item that failed as `error`."""
    out = pb.ConvertBatchResponse(id=request.id, index=index)
    out.error.code = error.code
    out.error.message = error.message
    out.error.violations.extend(v.to_pb() for v in error.violations)
    return out


def warm_up() -> None:
    """Import the optional SDKs and run one conversion of each input form, so the
    first real call does not pay for them. A missing extra is not an error here."""
    for spec in (
        pb.SpecInput(flyte=pb.FlyteSpec(cpu=pb.RequestLimit(request="1"), gpu_accelerator="A100:1", shm="auto")),
        pb.SpecInput(flytekit=pb.FlytekitSpec(requests={"cpu": "1"}, accelerator="A100.partition_1g_5gb")),
    ):
        with contextlib.suppress(RequestError):
            convert(pb.ConvertRequest(input=spec))


__all__ = [
    "ALL_OUTPUTS",
    "InvalidRequestError",
    "NotFoundError",
    "Options",
    "RequestError",
    "UnavailableError",
    "Violation",
    "accelerator_to_pb",
    "batch_error",
    "batch_item",
    "build_response",
    "convert",
    "decode",
    "flytekit_source",
    "list_accelerators",
    "read_input",
    "read_options",
    "resolve_accelerator",
    "validate",
    "warm_up",
]
