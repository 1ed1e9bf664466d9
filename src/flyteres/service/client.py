"""A typed Python client for flyteres.v2.ResourceService.

>>> from flyteres.service import Client, flytekit_input
>>> with Client("127.0.0.1:50051", timeout=5) as client:  # doctest: +SKIP
...     answer = client.convert(flytekit_input(requests={"cpu": "1"}, accelerator="T4"))
...     answer.flyte.source
"flyte.Resources(cpu='1', gpu=...)"
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Literal, TypeAlias, TypeVar, cast

import grpc
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2
from grpc_status import rpc_status

from flyteres._errors import FlyteresError, ResourceSpecError
from flyteres.accelerators import DeviceClass
from flyteres.convert.idl import to_idl_spec
from flyteres.core.options import (
    DeviceLabels,
    DeviceLabelsName,
    FlytekitForm,
    FlytekitFormName,
    IdlTarget,
    IdlTargetName,
    Policy,
    PolicyName,
)
from flyteres.core.spec import ResourceSpec
from flyteres.service import enums
from flyteres.service.enums import OutputName
from flyteres_pb.v1 import resources_pb2
from flyteres_pb.v2 import service_pb2, spec_pb2

SERVICE = "flyteres.v2.ResourceService"

_Response = TypeVar("_Response", bound=Message)

#: Anything `spec_input` turns into a SpecInput: one, one of its cases, or a library ResourceSpec.
SpecLike: TypeAlias = (
    service_pb2.SpecInput
    | service_pb2.FlytekitSpec
    | service_pb2.FlyteSpec
    | service_pb2.IdlSpec
    | service_pb2.IdlBinarySpec
    | spec_pb2.ResourceSpec
    | ResourceSpec
)


@dataclass(frozen=True)
class FieldViolation:
    """One bad field named by an INVALID_ARGUMENT answer."""

    field: str
    description: str


class ServiceError(FlyteresError):
    """A call the service refused or could not answer.

    `code` is the gRPC status code, `details` the server's message and
    `violations` the fields a google.rpc.BadRequest detail named.
    """

    def __init__(self, code: grpc.StatusCode, details: str, violations: Sequence[FieldViolation] = ()) -> None:
        self.code = code
        self.details = details
        self.violations = tuple(violations)
        named = "".join(f"\n  - {v.field}: {v.description}" for v in self.violations)
        super().__init__(f"{code.name}: {details}{named}")

    @classmethod
    def from_rpc_error(cls, error: grpc.RpcError) -> ServiceError:
        """The ServiceError of a failed call, with the violations its status details name."""
        # grpc raises RpcErrors that are also the failed Call (its code, details and trailers).
        call = cast("grpc.Call", error)
        status = rpc_status.from_call(call)
        return cls(call.code(), call.details() or "", _violations(status) if status is not None else ())

    @classmethod
    def from_status(cls, status: status_pb2.Status) -> ServiceError:
        """The ServiceError of a google.rpc.Status, such as a failed ConvertBatch item's `error`.

        >>> ServiceError.from_status(status_pb2.Status(code=5, message="unknown")).code
        <StatusCode.NOT_FOUND: (5, 'not found')>
        """
        code = next((c for c in grpc.StatusCode if c.value[0] == status.code), grpc.StatusCode.UNKNOWN)
        return cls(code, status.message, _violations(status))


def _violations(status: status_pb2.Status) -> list[FieldViolation]:
    """The fields a google.rpc.BadRequest among the status details names."""
    violations: list[FieldViolation] = []
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            violations += [FieldViolation(v.field, v.description) for v in bad.field_violations]
    return violations


# ---------------------------------------------------------------------------------------------
# Building inputs


def _request_limit(value: str | tuple[str, str]) -> service_pb2.RequestLimit:
    if isinstance(value, tuple):
        request, limit = value
        return service_pb2.RequestLimit(request=request, limit=limit)
    return service_pb2.RequestLimit(request=value)


def flytekit_input(
    *,
    requests: Mapping[str, str] | None = None,
    limits: Mapping[str, str] | None = None,
    resources: Mapping[str, str | tuple[str, str]] | None = None,
    accelerator: str | None = None,
    custom_accelerator: resources_pb2.GPUAccelerator | None = None,
    shared_memory: bool | str | None = None,
) -> service_pb2.SpecInput:
    """A SpecInput for flytekit's `@task` keyword arguments, quantities as strings.

    >>> flytekit_input(resources={"cpu": ("1", "2")}, accelerator="A100.partition_1g_5gb").flytekit.accelerator
    'A100.partition_1g_5gb'
    """
    spec = service_pb2.FlytekitSpec(requests=dict(requests or {}), limits=dict(limits or {}))
    for key, value in (resources or {}).items():
        spec.resources[key].CopyFrom(_request_limit(value))
    if accelerator is not None:
        spec.accelerator = accelerator
    elif custom_accelerator is not None:
        spec.custom_accelerator.CopyFrom(custom_accelerator)
    if isinstance(shared_memory, bool):
        spec.shared_memory_enabled = shared_memory
    elif shared_memory is not None:
        spec.shared_memory_size = shared_memory
    return service_pb2.SpecInput(flytekit=spec)


def flyte_input(
    *,
    cpu: str | tuple[str, str] | None = None,
    memory: str | tuple[str, str] | None = None,
    gpu: int | str | service_pb2.FlyteDevice | None = None,
    disk: str | None = None,
    shm: str | None = None,
) -> service_pb2.SpecInput:
    """A SpecInput for `flyte.Resources(...)`; `gpu` is a count, a "NAME:N" string or a FlyteDevice.

    >>> flyte_input(cpu=("1", "2"), gpu="A100:1").flyte.gpu_accelerator
    'A100:1'
    """
    spec = service_pb2.FlyteSpec(disk=disk or "", shm=shm or "")
    if cpu is not None:
        spec.cpu.CopyFrom(_request_limit(cpu))
    if memory is not None:
        spec.memory.CopyFrom(_request_limit(memory))
    if isinstance(gpu, bool):
        raise TypeError("gpu must be a count, a 'NAME:N' string or a FlyteDevice, not a bool")
    if isinstance(gpu, int):
        spec.gpu_count = gpu
    elif isinstance(gpu, str):
        spec.gpu_accelerator = gpu
    elif gpu is not None:
        spec.gpu_device.CopyFrom(gpu)
    return service_pb2.SpecInput(flyte=spec)


def idl_input(
    resources: Message | bytes | None = None,
    extended_resources: Message | bytes | None = None,
    *,
    dialect: IdlTarget | IdlTargetName | Literal["auto"] = "auto",
) -> service_pb2.SpecInput:
    """A SpecInput for Resources / ExtendedResources of any of the three IDLs, as messages or bytes.

    Bytes are sent untouched; messages of flyteidl or flyteidl2 are re-read as
    flyteres.v1 (the wire is identical).

    >>> idl_input(b"\\n\\x05\\x08\\x01\\x12\\x011").WhichOneof("spec")
    'idl_binary'
    """
    number = _dialect(dialect)
    if isinstance(resources, bytes) or isinstance(extended_resources, bytes):
        return service_pb2.SpecInput(
            idl_binary=service_pb2.IdlBinarySpec(
                resources=_bytes(resources), extended_resources=_bytes(extended_resources), dialect=number
            )
        )
    spec = service_pb2.IdlSpec(dialect=number)
    if resources is not None:
        spec.resources.MergeFromString(resources.SerializeToString())
    if extended_resources is not None:
        spec.extended_resources.MergeFromString(extended_resources.SerializeToString())
    return service_pb2.SpecInput(idl=spec)


def _dialect(dialect: IdlTarget | IdlTargetName | Literal["auto"]) -> service_pb2.Idl:
    if dialect == "auto":
        return service_pb2.IDL_UNSPECIFIED
    try:
        return enums.DIALECT[IdlTarget.parse(dialect)]
    except ResourceSpecError:
        raise KeyError(dialect) from None  # what an unknown dialect has always raised


def _bytes(value: Message | bytes | None) -> bytes:
    if value is None:
        return b""
    return value if isinstance(value, bytes) else bytes(value.SerializeToString())


def spec_input(value: SpecLike) -> service_pb2.SpecInput:
    """A SpecInput from any spec form: a SpecInput, one of its cases, or a library ResourceSpec.

    >>> from flyteres import ResourceSpec
    >>> spec_input(ResourceSpec(requests={"cpu": "1"})).canonical.requests["cpu"]
    '1'
    """
    match value:
        case ResourceSpec():
            return service_pb2.SpecInput(canonical=to_idl_spec(value))
        case service_pb2.SpecInput():
            return value
        case service_pb2.FlytekitSpec():
            return service_pb2.SpecInput(flytekit=value)
        case service_pb2.FlyteSpec():
            return service_pb2.SpecInput(flyte=value)
        case service_pb2.IdlSpec():
            return service_pb2.SpecInput(idl=value)
        case service_pb2.IdlBinarySpec():
            return service_pb2.SpecInput(idl_binary=value)
        case spec_pb2.ResourceSpec():
            return service_pb2.SpecInput(canonical=value)
    raise TypeError(f"not a spec: {type(value).__name__}; pass a SpecInput, one of its cases or a ResourceSpec")


def convert_options(
    outputs: Iterable[OutputName] = (),
    *,
    policy: Policy | PolicyName = Policy.STRICT,
    device_labels: DeviceLabels | DeviceLabelsName = DeviceLabels.KEEP,
    flytekit_form: FlytekitForm | FlytekitFormName = FlytekitForm.SPLIT,
) -> service_pb2.ConvertOptions:
    """A ConvertOptions message from the library's options (enum members or their names).

    >>> convert_options(["flyte_source"], policy="kubernetes").policy == service_pb2.POLICY_KUBERNETES
    True
    """
    try:
        return service_pb2.ConvertOptions(
            outputs=[enums.OUTPUT_FORM[o] for o in outputs],
            policy=enums.POLICY[Policy.parse(policy)],
            device_labels=enums.DEVICE_LABELS[DeviceLabels.parse(device_labels)],
            flytekit_form=enums.FLYTEKIT_FORM[FlytekitForm.parse(flytekit_form)],
        )
    except KeyError as exc:
        bad = exc.args[0]
    except ResourceSpecError as exc:
        bad = exc.value
    raise ValueError(f"unknown option value {bad!r}") from None


# ---------------------------------------------------------------------------------------------
# The client


class Client:
    """A blocking client; one channel, closed by `close()` or the `with` block.

    `timeout` is the default deadline of every call, in seconds (None: none).
    Refused calls raise `ServiceError`; lossy conversions are answers, with
    `lossy` set and the findings listed.

    >>> with Client("127.0.0.1:50051") as client:  # doctest: +SKIP
    ...     client.health()
    'SERVING'
    """

    def __init__(
        self,
        target: str = "127.0.0.1:50051",
        *,
        timeout: float | None = 10.0,
        max_message_bytes: int = 4 * 1024 * 1024,
        channel: grpc.Channel | None = None,
    ) -> None:
        self.timeout = timeout
        self._owns_channel = channel is None
        self._channel = channel or grpc.insecure_channel(
            target,
            options=[
                ("grpc.max_receive_message_length", max_message_bytes),
                ("grpc.max_send_message_length", max_message_bytes),
            ],
        )
        ser = _serialize
        self._convert = self._channel.unary_unary(
            f"/{SERVICE}/Convert",
            request_serializer=ser,
            response_deserializer=service_pb2.ConvertResponse.FromString,
        )
        self._validate = self._channel.unary_unary(
            f"/{SERVICE}/Validate",
            request_serializer=ser,
            response_deserializer=service_pb2.ValidateResponse.FromString,
        )
        self._resolve = self._channel.unary_unary(
            f"/{SERVICE}/ResolveAccelerator",
            request_serializer=ser,
            response_deserializer=service_pb2.ResolveAcceleratorResponse.FromString,
        )
        self._list = self._channel.unary_unary(
            f"/{SERVICE}/ListAccelerators",
            request_serializer=ser,
            response_deserializer=service_pb2.ListAcceleratorsResponse.FromString,
        )
        self._batch = self._channel.stream_stream(
            f"/{SERVICE}/ConvertBatch",
            request_serializer=ser,
            response_deserializer=service_pb2.ConvertBatchResponse.FromString,
        )
        # The standard health service's Check, called like the others: the
        # generated HealthStub adds its methods at run time, untyped.
        self._health = self._channel.unary_unary(
            "/grpc.health.v1.Health/Check",
            request_serializer=ser,
            response_deserializer=health_pb2.HealthCheckResponse.FromString,
        )

    def _call(
        self,
        method: grpc.UnaryUnaryMultiCallable[Message, _Response],
        request: Message,
        timeout: float | None,
    ) -> _Response:
        try:
            return method(request, timeout=self.timeout if timeout is None else timeout)
        except grpc.RpcError as exc:
            raise ServiceError.from_rpc_error(exc) from None

    def convert(
        self,
        spec: SpecLike,
        outputs: Iterable[OutputName] = (),
        *,
        policy: Policy | PolicyName = Policy.STRICT,
        device_labels: DeviceLabels | DeviceLabelsName = DeviceLabels.KEEP,
        flytekit_form: FlytekitForm | FlytekitFormName = FlytekitForm.SPLIT,
        timeout: float | None = None,
    ) -> service_pb2.ConvertResponse:
        """Convert `spec` (see `spec_input`) into `outputs` (default: every form); a ConvertResponse.

        >>> client.convert(flyte_input(cpu="1"), ["flytekit_source"]).flytekit.source  # doctest: +SKIP
        "requests=Resources(cpu='1')"
        """
        options = convert_options(outputs, policy=policy, device_labels=device_labels, flytekit_form=flytekit_form)
        return self._call(self._convert, service_pb2.ConvertRequest(input=spec_input(spec), options=options), timeout)

    def validate(
        self,
        spec: SpecLike,
        outputs: Iterable[OutputName] = (),
        *,
        policy: Policy | PolicyName = Policy.STRICT,
        device_labels: DeviceLabels | DeviceLabelsName = DeviceLabels.KEEP,
        flytekit_form: FlytekitForm | FlytekitFormName = FlytekitForm.SPLIT,
        timeout: float | None = None,
    ) -> service_pb2.ValidateResponse:
        """Check `spec`; a ValidateResponse (`valid`, `violations`, `lossy`, `findings`).

        >>> client.validate(flytekit_input(requests={"cpu": "-1"})).valid  # doctest: +SKIP
        False
        """
        options = convert_options(outputs, policy=policy, device_labels=device_labels, flytekit_form=flytekit_form)
        return self._call(self._validate, service_pb2.ValidateRequest(input=spec_input(spec), options=options), timeout)

    def resolve_accelerator(
        self,
        spelling: str,
        *,
        custom: bool = False,
        device_class: DeviceClass | str | None = None,
        timeout: float | None = None,
    ) -> service_pb2.ResolveAcceleratorResponse:
        """The catalog entry and roles of one spelling; ServiceError NOT_FOUND when unknown.

        `device_class` is any spelling `DeviceClass.parse` takes ("TPU", "GOOGLE_TPU").

        >>> client.resolve_accelerator("nvidia-tesla-h100").accelerator.name  # doctest: +SKIP
        'H100'
        """
        request = service_pb2.ResolveAcceleratorRequest(
            spelling=spelling, custom=custom, device_class=_device_class(device_class)
        )
        return self._call(self._resolve, request, timeout)

    def list_accelerators(
        self, device_class: DeviceClass | str | None = None, *, page_size: int = 0, timeout: float | None = None
    ) -> list[service_pb2.Accelerator]:
        """Every catalog entry (of `device_class`, when given), in catalog order, reading every page.

        >>> [a.name for a in client.list_accelerators("TPU")]  # doctest: +SKIP
        ['V5E', 'V5P', 'V6E']
        """
        request = service_pb2.ListAcceleratorsRequest(device_class=_device_class(device_class), page_size=page_size)
        entries: list[service_pb2.Accelerator] = []
        while True:
            response = self._call(self._list, request, timeout)
            entries += response.accelerators
            if not response.next_page_token:
                return entries
            request.page_token = response.next_page_token

    def convert_batch(
        self,
        items: Iterable[service_pb2.ConvertBatchRequest | SpecLike],
        outputs: Iterable[OutputName] = (),
        *,
        policy: Policy | PolicyName = Policy.STRICT,
        device_labels: DeviceLabels | DeviceLabelsName = DeviceLabels.KEEP,
        flytekit_form: FlytekitForm | FlytekitFormName = FlytekitForm.SPLIT,
        timeout: float | None = None,
    ) -> Iterator[service_pb2.ConvertBatchResponse]:
        """Stream `items` to ConvertBatch and yield a ConvertBatchResponse for each, in order.

        An item is a ConvertBatchRequest (sent as is) or any spec `spec_input`
        takes (sent with the options given here and its position as id). A
        failed item is answered with its `error`, a google.rpc.Status (`ServiceError.from_status`
        reads it); the stream goes on.

        >>> [r.WhichOneof("result") for r in client.convert_batch([flyte_input(cpu="1")])]  # doctest: +SKIP
        ['response']
        """
        options = convert_options(outputs, policy=policy, device_labels=device_labels, flytekit_form=flytekit_form)

        def requests() -> Iterator[Message]:
            for i, item in enumerate(items):
                if isinstance(item, service_pb2.ConvertBatchRequest):
                    yield item
                else:
                    yield service_pb2.ConvertBatchRequest(id=str(i), input=spec_input(item), options=options)

        responses = self._batch(requests(), timeout=self.timeout if timeout is None else timeout)
        try:
            yield from responses
        except grpc.RpcError as exc:
            raise ServiceError.from_rpc_error(exc) from None
        finally:
            responses.cancel()

    def health(self, service: str = "", *, timeout: float | None = None) -> str:
        """The serving status the standard health service reports ("SERVING", "NOT_SERVING", ...)."""
        response = self._call(self._health, health_pb2.HealthCheckRequest(service=service), timeout)
        return health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)

    def close(self) -> None:
        if self._owns_channel:
            self._channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _serialize(message: Message) -> bytes:
    return message.SerializeToString()


def _device_class(value: DeviceClass | str | None) -> spec_pb2.DeviceClass:
    """The wire value of a device class given in any spelling; None is UNSPECIFIED."""
    if value is None or value == "":
        return spec_pb2.DEVICE_CLASS_UNSPECIFIED
    return enums.DEVICE_CLASS[DeviceClass.parse(value)]


__all__ = [
    "Client",
    "FieldViolation",
    "ServiceError",
    "convert_options",
    "flyte_input",
    "flytekit_input",
    "idl_input",
    "spec_input",
]
