"""The ResourceService's answers, one function per RPC, on parsed messages.

Each takes a request message and returns the response message, or raises a
`RequestError` the server turns into a status. The server decodes and
encodes; these read (`read`), ask the library, and write (`write`).

>>> pb = service_pb2
>>> request = pb.ConvertRequest(input=pb.SpecInput(flytekit=pb.FlytekitSpec(requests={"cpu": "1"})))
>>> convert(request).flyte.source
"flyte.Resources(cpu='1')"
"""

from __future__ import annotations

import contextlib
import functools

from flyteres import accelerators
from flyteres._errors import FlyteresError, UnknownAcceleratorError
from flyteres.convert.flyte import flyte_arguments
from flyteres.convert.flytekit import flytekit_arguments
from flyteres.convert.idl import to_idl_spec
from flyteres.convert.k8s import convert_to_k8s
from flyteres.core.findings import Finding
from flyteres.service.errors import InvalidRequestError, NotFoundError, RequestError, Violation
from flyteres.service.read import read_input, read_options
from flyteres.service.write import accelerator_to_pb, build_response, finding_to_pb
from flyteres_pb.v1 import service_pb2


def convert(request: service_pb2.ConvertRequest) -> service_pb2.ConvertResponse:
    """Answer a ConvertRequest (raises RequestError subclasses for bad requests).

    >>> pb = service_pb2
    >>> req = pb.ConvertRequest(input=pb.SpecInput(flytekit=pb.FlytekitSpec(limits={"cpu": "2"})),
    ...                         options=pb.ConvertOptions(outputs=[pb.OUTPUT_FORM_FLYTE_SOURCE]))
    >>> resp = convert(req)
    >>> resp.lossy, resp.flyte.findings[0].rule
    (True, 'limit-without-request')
    """
    options = read_options(request.options)
    spec = read_input(request.input)
    return build_response(spec, options)


def validate(request: service_pb2.ValidateRequest) -> service_pb2.ValidateResponse:
    """Answer a ValidateRequest: OK with violations for an invalid spec."""
    options = read_options(request.options)
    try:
        spec = read_input(request.input)
    except InvalidRequestError as exc:
        if exc.malformed:
            raise
        return service_pb2.ValidateResponse(valid=False, violations=[v.to_pb() for v in exc.violations])
    # Only the conversions to the source and Kubernetes forms can notice anything;
    # the IDL outputs carry the spec as it is.
    outputs = options.outputs
    noticed: list[Finding] = [*spec.findings]
    if service_pb2.OUTPUT_FORM_KUBERNETES in outputs:
        noticed += convert_to_k8s(spec, policy=options.policy).findings
    if service_pb2.OUTPUT_FORM_FLYTE_SOURCE in outputs:
        noticed += flyte_arguments(spec, policy=options.policy, device_labels=options.device_labels).findings
    if service_pb2.OUTPUT_FORM_FLYTEKIT_SOURCE in outputs:
        noticed += flytekit_arguments(
            spec, policy=options.policy, form=options.form, device_labels=options.device_labels
        ).findings
    findings = list(dict.fromkeys(noticed))
    return service_pb2.ValidateResponse(
        valid=True,
        spec=to_idl_spec(spec),
        findings=[finding_to_pb(f) for f in findings],
        lossy=any(f.lossy for f in findings),
    )


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


def resolve_accelerator(request: service_pb2.ResolveAcceleratorRequest) -> service_pb2.ResolveAcceleratorResponse:
    """Answer a ResolveAcceleratorRequest (NotFoundError for an unknown spelling)."""
    if not request.spelling.strip():
        raise InvalidRequestError(
            "spelling is empty", [Violation("spelling", request.spelling, "name a device")], malformed=True
        )
    device_class = _device_class(request.device_class, "device_class")
    try:
        resolved = accelerators.explain(request.spelling, custom=request.custom, device_class=device_class)
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
    return service_pb2.ResolveAcceleratorResponse(
        accelerator=accelerator_to_pb(resolved.entry), roles=[str(r) for r in resolved.roles]
    )


def list_accelerators(request: service_pb2.ListAcceleratorsRequest) -> service_pb2.ListAcceleratorsResponse:
    """Answer a ListAcceleratorsRequest, optionally filtered by device class."""
    device_class = _device_class(request.device_class, "device_class")
    response = service_pb2.ListAcceleratorsResponse(schema_version=accelerators.SCHEMA_VERSION)
    for entry, data in _catalog_pb():
        if device_class is None or entry.device_class is device_class:
            response.accelerators.add().MergeFromString(data)
    return response


def batch_item(request: service_pb2.ConvertBatchRequest, index: int) -> service_pb2.ConvertBatchResponse:
    """The ConvertBatchResponse for one item: its result, or its error."""
    try:
        options = read_options(request.options)
        spec = read_input(request.input)
        response = build_response(spec, options)
    except RequestError as exc:
        return batch_error(request, index, exc)
    return service_pb2.ConvertBatchResponse(id=request.id, index=index, response=response)


def batch_error(
    request: service_pb2.ConvertBatchRequest, index: int, error: RequestError
) -> service_pb2.ConvertBatchResponse:
    """The ConvertBatchResponse for an item that failed as `error`."""
    out = service_pb2.ConvertBatchResponse(id=request.id, index=index)
    out.error.code = error.code
    out.error.message = error.message
    out.error.violations.extend(v.to_pb() for v in error.violations)
    return out


def warm_up() -> None:
    """Import the optional SDKs and run one conversion of each input form, so the
    first real call does not pay for them. A missing extra is not an error here."""
    pb = service_pb2
    for spec in (
        pb.SpecInput(flyte=pb.FlyteSpec(cpu=pb.RequestLimit(request="1"), gpu_accelerator="A100:1", shm="auto")),
        pb.SpecInput(flytekit=pb.FlytekitSpec(requests={"cpu": "1"}, accelerator="A100.partition_1g_5gb")),
    ):
        with contextlib.suppress(RequestError):
            convert(pb.ConvertRequest(input=spec))


__all__ = [
    "batch_error",
    "batch_item",
    "convert",
    "list_accelerators",
    "resolve_accelerator",
    "validate",
    "warm_up",
]
