"""A typed Python client for flyteres.v1.ResourceService.

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
from typing import Any, Literal

import grpc
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from flyteres._errors import FlyteresError
from flyteres.convert.idl import to_idl_spec
from flyteres.core.spec import ResourceSpec
from flyteres_pb.v1 import service_pb2

pb: Any = service_pb2

SERVICE = "flyteres.v1.ResourceService"

OutputName = Literal["flyteres", "flyteidl", "flyteidl2", "kubernetes", "flyte_source", "flytekit_source"]

_OUTPUTS: dict[str, int] = {
    "flyteres": 1,
    "flyteidl": 2,
    "flyteidl2": 3,
    "kubernetes": 4,
    "flyte_source": 5,
    "flytekit_source": 6,
}
_POLICIES = {"strict": 1, "kubernetes": 2}
_DEVICE_LABELS = {"keep": 1, "idiomatic": 2}
_FORMS = {"split": 1, "resources": 2}
_DIALECTS = {"auto": 0, "flyteres": 1, "flyteidl": 2, "flyteidl2": 3}


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
        call: Any = error
        status = rpc_status.from_call(call)
        violations: list[FieldViolation] = []
        if status is not None:
            for detail in status.details:
                if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                    bad = error_details_pb2.BadRequest()
                    detail.Unpack(bad)
                    violations += [FieldViolation(v.field, v.description) for v in bad.field_violations]
        return cls(call.code(), call.details() or "", violations)


# ---------------------------------------------------------------------------------------------
# Building inputs


def _request_limit(value: str | tuple[str, str]) -> Any:
    if isinstance(value, tuple):
        request, limit = value
        return pb.RequestLimit(request=request, limit=limit)
    return pb.RequestLimit(request=value)


def flytekit_input(
    *,
    requests: Mapping[str, str] | None = None,
    limits: Mapping[str, str] | None = None,
    resources: Mapping[str, str | tuple[str, str]] | None = None,
    accelerator: str | None = None,
    custom_accelerator: Any = None,
    shared_memory: bool | str | None = None,
) -> Any:
    """A SpecInput for flytekit's `@task` keyword arguments, quantities as strings.

    >>> flytekit_input(resources={"cpu": ("1", "2")}, accelerator="A100.partition_1g_5gb").flytekit.accelerator
    'A100.partition_1g_5gb'
    """
    spec = pb.FlytekitSpec(requests=dict(requests or {}), limits=dict(limits or {}))
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
    return pb.SpecInput(flytekit=spec)


def flyte_input(
    *,
    cpu: str | tuple[str, str] | None = None,
    memory: str | tuple[str, str] | None = None,
    gpu: int | str | Any = None,
    disk: str | None = None,
    shm: str | None = None,
) -> Any:
    """A SpecInput for `flyte.Resources(...)`; `gpu` is a count, a "NAME:N" string or a FlyteDevice.

    >>> flyte_input(cpu=("1", "2"), gpu="A100:1").flyte.gpu_accelerator
    'A100:1'
    """
    spec = pb.FlyteSpec(disk=disk or "", shm=shm or "")
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
    return pb.SpecInput(flyte=spec)


def idl_input(
    resources: Any = None,
    extended_resources: Any = None,
    *,
    dialect: Literal["auto", "flyteres", "flyteidl", "flyteidl2"] = "auto",
) -> Any:
    """A SpecInput for Resources / ExtendedResources of any of the three IDLs, as messages or bytes.

    Bytes are sent untouched; messages of flyteidl or flyteidl2 are re-read as
    flyteres.v1 (the wire is identical).

    >>> idl_input(b"\\n\\x05\\x08\\x01\\x12\\x011").WhichOneof("spec")
    'idl_binary'
    """
    number = _DIALECTS[dialect]
    if isinstance(resources, bytes) or isinstance(extended_resources, bytes):
        return pb.SpecInput(
            idl_binary=pb.IdlBinarySpec(
                resources=_bytes(resources), extended_resources=_bytes(extended_resources), dialect=number
            )
        )
    spec = pb.IdlSpec(dialect=number)
    if resources is not None:
        spec.resources.MergeFromString(resources.SerializeToString())
    if extended_resources is not None:
        spec.extended_resources.MergeFromString(extended_resources.SerializeToString())
    return pb.SpecInput(idl=spec)


def _bytes(value: Any) -> bytes:
    if value is None:
        return b""
    return value if isinstance(value, bytes) else bytes(value.SerializeToString())


def spec_input(value: Any) -> Any:
    """A SpecInput from any spec form: a SpecInput, one of its cases, or a library ResourceSpec.

    >>> from flyteres import ResourceSpec
    >>> spec_input(ResourceSpec(requests={"cpu": "1"})).canonical.requests["cpu"]
    '1'
    """
    if isinstance(value, ResourceSpec):
        return pb.SpecInput(canonical=to_idl_spec(value))
    name = getattr(getattr(value, "DESCRIPTOR", None), "full_name", None)
    cases = {
        "flyteres.v1.SpecInput": None,
        "flyteres.v1.FlytekitSpec": "flytekit",
        "flyteres.v1.FlyteSpec": "flyte",
        "flyteres.v1.IdlSpec": "idl",
        "flyteres.v1.IdlBinarySpec": "idl_binary",
        "flyteres.v1.ResourceSpec": "canonical",
    }
    if name not in cases:
        raise TypeError(f"not a spec: {type(value).__name__}; pass a SpecInput, one of its cases or a ResourceSpec")
    case = cases[name]
    if case is None:
        return value
    out = pb.SpecInput()
    getattr(out, case).CopyFrom(value)
    return out


def convert_options(
    outputs: Iterable[OutputName] = (),
    *,
    policy: Literal["strict", "kubernetes"] = "strict",
    device_labels: Literal["keep", "idiomatic"] = "keep",
    flytekit_form: Literal["split", "resources"] = "split",
) -> Any:
    """A ConvertOptions message from the library's option names.

    >>> convert_options(["flyte_source"], policy="kubernetes").policy == pb.POLICY_KUBERNETES
    True
    """
    try:
        return pb.ConvertOptions(
            outputs=[_OUTPUTS[o] for o in outputs],
            policy=_POLICIES[policy],
            device_labels=_DEVICE_LABELS[device_labels],
            flytekit_form=_FORMS[flytekit_form],
        )
    except KeyError as exc:
        raise ValueError(f"unknown option value {exc.args[0]!r}") from None


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
            f"/{SERVICE}/Convert", request_serializer=ser, response_deserializer=pb.ConvertResponse.FromString
        )
        self._validate = self._channel.unary_unary(
            f"/{SERVICE}/Validate", request_serializer=ser, response_deserializer=pb.ValidateResponse.FromString
        )
        self._resolve = self._channel.unary_unary(
            f"/{SERVICE}/ResolveAccelerator",
            request_serializer=ser,
            response_deserializer=pb.ResolveAcceleratorResponse.FromString,
        )
        self._list = self._channel.unary_unary(
            f"/{SERVICE}/ListAccelerators",
            request_serializer=ser,
            response_deserializer=pb.ListAcceleratorsResponse.FromString,
        )
        self._batch = self._channel.stream_stream(
            f"/{SERVICE}/ConvertBatch",
            request_serializer=ser,
            response_deserializer=pb.ConvertBatchResponse.FromString,
        )
        # The stub's methods are added at run time; the type stubs do not declare them.
        self._health: Any = health_pb2_grpc.HealthStub(self._channel)

    def _call(self, method: Any, request: Any, timeout: float | None) -> Any:
        try:
            return method(request, timeout=self.timeout if timeout is None else timeout)
        except grpc.RpcError as exc:
            raise ServiceError.from_rpc_error(exc) from None

    def convert(
        self,
        spec: Any,
        outputs: Iterable[OutputName] = (),
        *,
        policy: Literal["strict", "kubernetes"] = "strict",
        device_labels: Literal["keep", "idiomatic"] = "keep",
        flytekit_form: Literal["split", "resources"] = "split",
        timeout: float | None = None,
    ) -> Any:
        """Convert `spec` (see `spec_input`) into `outputs` (default: every form); a ConvertResponse.

        >>> client.convert(flyte_input(cpu="1"), ["flytekit_source"]).flytekit.source  # doctest: +SKIP
        "requests=Resources(cpu='1')"
        """
        options = convert_options(outputs, policy=policy, device_labels=device_labels, flytekit_form=flytekit_form)
        return self._call(self._convert, pb.ConvertRequest(input=spec_input(spec), options=options), timeout)

    def validate(
        self,
        spec: Any,
        outputs: Iterable[OutputName] = (),
        *,
        policy: Literal["strict", "kubernetes"] = "strict",
        device_labels: Literal["keep", "idiomatic"] = "keep",
        flytekit_form: Literal["split", "resources"] = "split",
        timeout: float | None = None,
    ) -> Any:
        """Check `spec`; a ValidateResponse (`valid`, `violations`, `lossy`, `findings`).

        >>> client.validate(flytekit_input(requests={"cpu": "-1"})).valid  # doctest: +SKIP
        False
        """
        options = convert_options(outputs, policy=policy, device_labels=device_labels, flytekit_form=flytekit_form)
        return self._call(self._validate, pb.ValidateRequest(input=spec_input(spec), options=options), timeout)

    def resolve_accelerator(
        self, spelling: str, *, custom: bool = False, device_class: str = "", timeout: float | None = None
    ) -> Any:
        """The catalog entry and roles of one spelling; ServiceError NOT_FOUND when unknown.

        >>> client.resolve_accelerator("nvidia-tesla-h100").accelerator.name  # doctest: +SKIP
        'H100'
        """
        request = pb.ResolveAcceleratorRequest(spelling=spelling, custom=custom, device_class=device_class)
        return self._call(self._resolve, request, timeout)

    def list_accelerators(self, device_class: str = "", *, timeout: float | None = None) -> list[Any]:
        """Every catalog entry (of `device_class`, when given), in catalog order.

        >>> [a.name for a in client.list_accelerators("TPU")]  # doctest: +SKIP
        ['V5E', 'V5P', 'V6E']
        """
        response = self._call(self._list, pb.ListAcceleratorsRequest(device_class=device_class), timeout)
        return list(response.accelerators)

    def convert_batch(
        self,
        items: Iterable[Any],
        outputs: Iterable[OutputName] = (),
        *,
        policy: Literal["strict", "kubernetes"] = "strict",
        device_labels: Literal["keep", "idiomatic"] = "keep",
        flytekit_form: Literal["split", "resources"] = "split",
        timeout: float | None = None,
    ) -> Iterator[Any]:
        """Stream `items` to ConvertBatch and yield a ConvertBatchResponse for each, in order.

        An item is a ConvertBatchRequest (sent as is) or any spec `spec_input`
        takes (sent with the options given here and its position as id). A
        failed item is answered with its `error`; the stream goes on.

        >>> [r.WhichOneof("result") for r in client.convert_batch([flyte_input(cpu="1")])]  # doctest: +SKIP
        ['response']
        """
        options = convert_options(outputs, policy=policy, device_labels=device_labels, flytekit_form=flytekit_form)

        def requests() -> Iterator[Any]:
            for i, item in enumerate(items):
                name = getattr(getattr(item, "DESCRIPTOR", None), "full_name", None)
                if name == "flyteres.v1.ConvertBatchRequest":
                    yield item
                else:
                    yield pb.ConvertBatchRequest(id=str(i), input=spec_input(item), options=options)

        responses = self._batch(requests(), timeout=self.timeout if timeout is None else timeout)
        try:
            yield from responses
        except grpc.RpcError as exc:
            raise ServiceError.from_rpc_error(exc) from None
        finally:
            responses.cancel()

    def health(self, service: str = "", *, timeout: float | None = None) -> str:
        """The serving status the standard health service reports ("SERVING", "NOT_SERVING", ...)."""
        response = self._call(self._health.Check, health_pb2.HealthCheckRequest(service=service), timeout)
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


def _serialize(message: Any) -> bytes:
    return message.SerializeToString()  # type: ignore[no-any-return]


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
