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

import base64
import contextlib
import functools
import json

from flyteres import accelerators
from flyteres._errors import FlyteresError, UnknownAcceleratorError
from flyteres.convert.flyte import flyte_arguments
from flyteres.convert.flytekit import flytekit_arguments
from flyteres.convert.idl import to_idl_spec
from flyteres.convert.k8s import convert_to_k8s
from flyteres.core.findings import Finding
from flyteres.service import enums
from flyteres.service.errors import (
    InvalidRequestError,
    NotFoundError,
    RequestError,
    Violation,
    for_callers,
    to_status,
)
from flyteres.service.read import read_input, read_options
from flyteres.service.write import accelerator_to_pb, build_response, finding_to_pb
from flyteres_pb.v2 import service_pb2, spec_pb2


def convert(request: service_pb2.ConvertRequest) -> service_pb2.ConvertResponse:
    """Answer a ConvertRequest (raises RequestError subclasses for bad requests).

    >>> pb = service_pb2
    >>> req = pb.ConvertRequest(input=pb.SpecInput(flytekit=pb.FlytekitSpec(limits={"cpu": "2"})),
    ...                         options=pb.ConvertOptions(outputs=[pb.OUTPUT_FORM_FLYTE_SOURCE]))
    >>> resp = convert(req)
    >>> resp.lossy, pb.Rule.Name(resp.flyte.findings[0].rule)
    (True, 'RULE_LIMIT_WITHOUT_REQUEST')
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


def _device_class(value: spec_pb2.DeviceClass, where: str) -> accelerators.DeviceClass | None:
    """The library's DeviceClass of a request's filter; UNSPECIFIED is None (any)."""
    if value == spec_pb2.DEVICE_CLASS_UNSPECIFIED:
        return None
    member = enums.DEVICE_CLASS_OF.get(value)
    if member is None:
        raise InvalidRequestError(
            f"unknown DeviceClass value {value}",
            [Violation(where, str(value), "not a DeviceClass value")],
            malformed=True,
        )
    return member


def _device_class_name(value: spec_pb2.DeviceClass) -> str:
    return spec_pb2.DeviceClass.Name(value) if value in spec_pb2.DeviceClass.values() else str(value)


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
        raise NotFoundError(for_callers(str(exc), "custom to true")) from None
    except accelerators.DeviceClassMismatchError as exc:
        raise InvalidRequestError(
            str(exc), [Violation("device_class", _device_class_name(request.device_class), str(exc))], malformed=True
        ) from None
    except FlyteresError as exc:  # pragma: no cover - any other catalog refusal
        raise InvalidRequestError(
            str(exc), [Violation("spelling", request.spelling, str(exc))], malformed=True
        ) from None
    return service_pb2.ResolveAcceleratorResponse(
        accelerator=accelerator_to_pb(resolved.entry), roles=[str(r) for r in resolved.roles]
    )


#: ListAccelerators' page size when the request names none, and the largest it answers (AIP-158).
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def _page_token(offset: int, device_class: spec_pb2.DeviceClass) -> str:
    # Opaque to callers; it records the filter so that a token is not reused with another one.
    raw = json.dumps({"offset": offset, "device_class": int(device_class), "schema": accelerators.SCHEMA_VERSION})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _offset(request: service_pb2.ListAcceleratorsRequest) -> int:
    """Where the page starts: 0, or the offset its page_token records."""
    token = request.page_token
    if not token:
        return 0
    bad = InvalidRequestError(
        "page_token is not one this server gave for this request",
        [Violation("page_token", token[:64], "pass the next_page_token of the previous answer, with the same filter")],
        malformed=True,
    )
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        offset, device_class, schema = data["offset"], data["device_class"], data["schema"]
    except (ValueError, TypeError, KeyError):
        raise bad from None
    if not isinstance(offset, int) or offset < 0 or device_class != request.device_class:
        raise bad
    if schema != accelerators.SCHEMA_VERSION:
        raise bad
    return offset


def list_accelerators(request: service_pb2.ListAcceleratorsRequest) -> service_pb2.ListAcceleratorsResponse:
    """Answer a ListAcceleratorsRequest: one page of the entries of a device class, or of all.

    >>> page = list_accelerators(service_pb2.ListAcceleratorsRequest(page_size=2))
    >>> len(page.accelerators), bool(page.next_page_token)
    (2, True)
    """
    device_class = _device_class(request.device_class, "device_class")
    if request.page_size < 0:
        raise InvalidRequestError(
            "page_size is negative",
            [Violation("page_size", str(request.page_size), "must be 0 (the default size) or more")],
            malformed=True,
        )
    size = min(request.page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    offset = _offset(request)
    matching = [data for entry, data in _catalog_pb() if device_class is None or entry.device_class is device_class]
    response = service_pb2.ListAcceleratorsResponse(
        schema_version=accelerators.SCHEMA_VERSION, total_size=len(matching)
    )
    for data in matching[offset : offset + size]:
        response.accelerators.add().MergeFromString(data)
    if offset + size < len(matching):
        response.next_page_token = _page_token(offset + size, request.device_class)
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
    return service_pb2.ConvertBatchResponse(id=request.id, index=index, error=to_status(error))


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
