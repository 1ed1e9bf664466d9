"""Server reflection under both protocols: grpc.reflection.v1 and v1alpha.

grpcio-reflection implements only v1alpha, and clients now ask for v1 first
(`buf curl --reflect-protocol grpc-v1`, grpcurl, Postman's newer releases).
The v1 protocol is v1alpha under a new package name: the same messages,
field for field, and the same service. So the v1 service here is the
library's own servicer behind the v1 method name: it reads and writes v1
bytes with the v1alpha classes. Its descriptor, registered in the default
pool as `grpc/reflection/v1/reflection.proto`, is v1alpha's with the package
renamed, so a client can reflect on the reflection service itself.

>>> V1_SERVICE
'grpc.reflection.v1.ServerReflection'
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable
from typing import cast

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc_reflection.v1alpha import reflection, reflection_pb2

from flyteres.service.guard import CallLimit, limited_bidi_stream

V1_PACKAGE = "grpc.reflection.v1"
V1_FILE = "grpc/reflection/v1/reflection.proto"
V1_SERVICE = f"{V1_PACKAGE}.ServerReflection"
V1ALPHA_SERVICE: str = reflection.SERVICE_NAME
_Request = reflection_pb2.ServerReflectionRequest
_Response = reflection_pb2.ServerReflectionResponse


def _register_v1_descriptor() -> None:
    """Add the v1 file to the default descriptor pool, once (a later grpcio-reflection may bring its own)."""
    pool = descriptor_pool.Default()
    try:
        pool.FindFileByName(V1_FILE)
        return
    except KeyError:
        pass
    proto = descriptor_pb2.FileDescriptorProto()
    reflection_pb2.DESCRIPTOR.CopyToProto(proto)
    old, new = f".{proto.package}.", f".{V1_PACKAGE}."
    proto.name, proto.package = V1_FILE, V1_PACKAGE
    proto.ClearField("options")  # v1alpha's language options name v1alpha packages
    for message in proto.message_type:
        for field in message.field:
            if field.type_name.startswith(old):
                field.type_name = new + field.type_name.removeprefix(old)
    for service in proto.service:
        for method in service.method:
            method.input_type = new + method.input_type.removeprefix(old)
            method.output_type = new + method.output_type.removeprefix(old)
    pool.Add(proto)


def enable_reflection(
    service_names: Iterable[str], server: grpc.aio.Server, streams: CallLimit, idle_timeout: float
) -> None:
    """Serve reflection for `service_names` (plus both reflection services) on `server`, under v1 and v1alpha.

    Reflection streams count against `streams` and end after `idle_timeout`
    seconds without a message.
    """
    _register_v1_descriptor()
    names = [*service_names, V1_SERVICE, V1ALPHA_SERVICE]
    servicer = reflection.aio.ReflectionServicer(names)
    # The stubs declare `async def ... -> AsyncIterable`; it is an async generator function.
    behavior = cast(
        Callable[[AsyncIterator[_Request], object], AsyncIterable[_Response]], servicer.ServerReflectionInfo
    )
    handler = grpc.stream_stream_rpc_method_handler(
        limited_bidi_stream(behavior, streams, idle_timeout),
        request_deserializer=_Request.FromString,
        response_serializer=_Response.SerializeToString,
    )
    server.add_generic_rpc_handlers(
        [
            grpc.method_handlers_generic_handler(service, {"ServerReflectionInfo": handler})
            for service in (V1_SERVICE, V1ALPHA_SERVICE)
        ]
    )


__all__ = ["V1ALPHA_SERVICE", "V1_SERVICE", "enable_reflection"]
