"""The gRPC server: flyteres.v2.ResourceService, health checking and reflection.

The server runs on `grpc.aio`: one event loop serves every call, so a client
that holds a stream open without sending costs memory, not a worker thread.
Conversions are CPU-bound and short (a fraction of a millisecond); they run
on the loop directly, since the GIL would serialize them across threads anyway.

Health checks are answered whatever the load on the conversion methods: the
ResourceService calls in progress are bounded (`max_concurrent_rpcs`) by the
server itself rather than by grpc, which would count health checks among
them, and a ConvertBatch stream left idle ends after `idle_timeout_seconds`
(guard.py).

Handlers take and return raw bytes and parse requests themselves, so a
request that does not parse is answered INVALID_ARGUMENT with a field
violation rather than the framework's generic error.

>>> import asyncio
>>> async def main() -> int:
...     server, port = create_server("127.0.0.1:0")
...     await server.start()
...     await server.stop(0)
...     return port
>>> asyncio.run(main()) > 0
True
"""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2
from grpc_health.v1.health import aio as health_aio
from grpc_status import rpc_status

from flyteres.service import bounds, handlers
from flyteres.service.config import CONNECTION_AGE_GRACE_SECONDS, DEFAULT_ADDRESS, ServerConfig
from flyteres.service.errors import RequestError, to_status
from flyteres.service.guard import CallLimit, IdleTimer, limited_stream
from flyteres.service.logs import JsonFormatter, configure_logging
from flyteres.service.read import decode
from flyteres.service.reflection import enable_reflection
from flyteres_pb.v2 import service_pb2

_Request = TypeVar("_Request", bound=Message)
_T = TypeVar("_T")

SERVICE_NAME = "flyteres.v2.ResourceService"
CONVERT_BATCH = f"/{SERVICE_NAME}/ConvertBatch"
HEALTH_SERVICE: str = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name

log = logging.getLogger("flyteres.service")


def status_for(error: RequestError) -> grpc.Status:
    """The gRPC status of a refused request (errors.to_status: INVALID_ARGUMENT carries a google.rpc.BadRequest)."""
    status: grpc.Status = rpc_status.to_status(to_status(error))
    return status


class _Batcher:
    """Runs the conversions of all ConvertBatch streams together, in turns.

    Each stream hands its item over and waits. The first item to arrive
    schedules a turn for the event loop's next pass, by which time every
    stream that was ready has handed its item over too; the turn converts
    them back to back and answers each stream. Conversions run in a row and
    gRPC's reads and writes run in a row, instead of alternating item by item:
    each stays warm in the processor's caches, and under load the server
    answers about a quarter more items per second. A turn runs at most TURN
    items and stops once it has worked TURN_SECONDS, then lets the event loop
    go on (health checks, reads, other calls) before the next: items that are
    slow to convert (invalid ones are read field by field) cannot hold the
    loop for more than about one item past the budget.
    (Unary calls gain nothing from it: their cost is the call itself.)
    """

    TURN = 64
    TURN_SECONDS = 0.005

    def __init__(self) -> None:
        self._waiting: list[tuple[Callable[[], bytes], asyncio.Future[bytes]]] = []
        self._scheduled = False

    def run(self, work: Callable[[], bytes]) -> asyncio.Future[bytes]:
        """A future of what `work()` returns or raises, once its turn comes."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bytes] = loop.create_future()
        self._waiting.append((work, future))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._turn)
        return future

    def _turn(self) -> None:
        end = time.perf_counter() + self.TURN_SECONDS
        done = 0
        for work, future in self._waiting:
            done += 1
            if future.done():  # the call was cancelled while it waited
                continue
            try:
                future.set_result(work())
            except Exception as exc:  # the call's own handler answers it
                future.set_exception(exc)
            if done == self.TURN or time.perf_counter() >= end:
                break
        del self._waiting[:done]
        if self._waiting:
            asyncio.get_running_loop().call_soon(self._turn)
        else:
            self._scheduled = False


class _Service:
    """The ResourceService handlers, on raw bytes."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.batcher = _Batcher()
        # Counted here rather than by grpc's maximum_concurrent_rpcs, which would count health checks too.
        self.calls = CallLimit(config.max_concurrent_rpcs, "conversion calls")

    def _log(
        self,
        method: str,
        start: float,
        code: grpc.StatusCode,
        context: grpc.aio.ServicerContext[bytes, bytes],
        **extra: object,
    ) -> None:
        if self.config.log_calls and log.isEnabledFor(logging.INFO):
            duration = round((time.perf_counter() - start) * 1000, 3)
            log.info("rpc", extra={"method": method, "code": code.name, "duration_ms": duration, **extra})

    def unary(
        self, method: str, request_cls: type[_Request], answer: Callable[[_Request], Message]
    ) -> grpc.RpcMethodHandler[bytes, bytes]:
        max_bytes = self.config.max_request_bytes

        async def handler(data: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
            start = time.perf_counter()
            if not self.calls.enter():
                self._log(method, start, grpc.StatusCode.RESOURCE_EXHAUSTED, context)
                await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, self.calls.refusal())
            try:
                outcome = _respond(method, request_cls, answer, data, max_bytes)
            finally:
                self.calls.leave()
            if isinstance(outcome, bytes):
                self._log(method, start, grpc.StatusCode.OK, context)
                return outcome
            self._log(method, start, outcome.code, context)
            # grpc keeps an aborting handler's frame in a reference cycle until the
            # garbage collector's next full pass: it must not hold the request (up to
            # --max-message-bytes of it), and the abort must not chain the refusal's
            # exception, whose traceback holds the frames that read the request.
            del data
            await context.abort(outcome.code, outcome.details, outcome.trailing_metadata)
            raise AssertionError("unreachable: abort raises")  # pragma: no cover

        return grpc.unary_unary_rpc_method_handler(handler)

    def convert_batch(self) -> grpc.RpcMethodHandler[bytes, bytes]:
        limit, max_bytes = self.config.max_batch_items, self.config.max_request_bytes

        # read()/write() on the context rather than an async generator: the
        # iterator protocol costs about a quarter more CPU per message under load.
        async def handler(_requests: object, context: grpc.aio.ServicerContext[bytes, bytes]) -> None:
            start = time.perf_counter()
            if not self.calls.enter():
                self._log(CONVERT_BATCH, start, grpc.StatusCode.RESOURCE_EXHAUSTED, context, items=0)
                await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, self.calls.refusal())
            code = grpc.StatusCode.OK
            refusal = ""
            index = 0
            data: object = b""
            timer = IdleTimer(self.config.idle_timeout_seconds)
            try:
                while True:
                    data = await context.read()
                    timer.touch()
                    if not isinstance(data, bytes):  # grpc.aio.EOF: the client is done (the stubs omit it)
                        break
                    if index >= limit:
                        code = grpc.StatusCode.RESOURCE_EXHAUSTED
                        refusal = f"a ConvertBatch stream carries at most {limit} items; open another stream"
                        break
                    await context.write(
                        await self.batcher.run(functools.partial(_encoded_item, data, index, max_bytes))
                    )
                    timer.touch()
                    index += 1
            except asyncio.CancelledError:
                if not timer.fired:
                    code = grpc.StatusCode.CANCELLED
                    raise
                code, refusal = grpc.StatusCode.DEADLINE_EXCEEDED, timer.refusal()
            finally:
                timer.stop()
                self.calls.leave()
                self._log(CONVERT_BATCH, start, code, context, items=index)
            if refusal:
                data = b""  # not held by the aborting frame (see unary)
                await context.abort(code, refusal)

        return grpc.stream_stream_rpc_method_handler(handler)


@dataclass(frozen=True)
class _Refusal:
    """The status a unary call is refused with (the fields of grpc.Status)."""

    code: grpc.StatusCode
    details: str
    trailing_metadata: tuple[tuple[str, str | bytes], ...] = ()


def _respond(
    method: str, request_cls: type[_Request], answer: Callable[[_Request], Message], data: bytes, max_bytes: int
) -> bytes | _Refusal:
    """A unary call's answer to `data`: the response's bytes, or the status that refuses it; never raises."""
    try:
        return encode(answer(decode(request_cls, data, "request", max_bytes)))
    except RequestError as exc:
        status = status_for(exc)
        return _Refusal(status.code, status.details, tuple(status.trailing_metadata))
    except Exception as exc:  # any failure must become a status, never a crash
        log.exception("internal error", extra={"method": method, "error": type(exc).__name__})
        return _Refusal(grpc.StatusCode.INTERNAL, f"internal error: {type(exc).__name__}: {exc}")


def encode(message: Message) -> bytes:
    """An answer's bytes, with map entries in key order.

    protobuf's default order of map entries changes from process to process;
    this keeps the same answer byte-identical from every server and worker.
    """
    return message.SerializeToString(deterministic=True)


def _encoded_item(data: bytes, index: int, max_bytes: int) -> bytes:
    return encode(batch_answer(data, index, CONVERT_BATCH, max_bytes))


def batch_answer(
    data: bytes, index: int, method: str, max_bytes: int = bounds.MAX_REQUEST_BYTES
) -> service_pb2.ConvertBatchResponse:
    """The answer to one ConvertBatch item's bytes (at most `max_bytes`): its response, or its error; never raises."""
    try:
        item = decode(service_pb2.ConvertBatchRequest, data, f"items[{index}]", max_bytes)
        return handlers.batch_item(item, index)
    except RequestError as exc:
        return handlers.batch_error(service_pb2.ConvertBatchRequest(), index, exc)
    except Exception as exc:  # one bad item must not end the stream or the server
        log.exception("internal error", extra={"method": method, "error": type(exc).__name__})
        error = RequestError(f"internal error: {type(exc).__name__}: {exc}")
        return handlers.batch_error(service_pb2.ConvertBatchRequest(), index, error)


class ResourceServer:
    """A created (not yet started) server: the gRPC server, its health servicer, and the
    health-only server when there is one (`health_server`, listening on `health_port`).

    Use from the event loop that runs it: `await start()`, then
    `await wait_for_termination()` or `await stop(grace)`.
    """

    def __init__(
        self,
        server: grpc.aio.Server,
        health: health_aio.HealthServicer,
        config: ServerConfig,
        health_server: grpc.aio.Server | None = None,
        health_port: int | None = None,
    ) -> None:
        self.grpc_server = server
        self.health = health
        self.config = config
        self.health_server = health_server
        self.health_port = health_port

    async def start(self) -> None:
        """Start serving and report SERVING for the service and the server."""
        if self.health_server is not None:
            await self.health_server.start()
        await self.grpc_server.start()
        await self.health.set("", health_pb2.HealthCheckResponse.SERVING)
        await self.health.set(SERVICE_NAME, health_pb2.HealthCheckResponse.SERVING)

    async def stop(self, grace: float | None = None) -> None:
        """Report NOT_SERVING, refuse new calls, and let in-flight ones finish within `grace` seconds.

        The health server stops last, so probes see NOT_SERVING while calls finish.
        """
        await self.health.enter_graceful_shutdown()
        await self.grpc_server.stop(self.config.grace_seconds if grace is None else grace)
        if self.health_server is not None:
            await self.health_server.stop(0)

    async def wait_for_termination(self) -> None:
        await self.grpc_server.wait_for_termination()


def transport_options(config: ServerConfig, *, reuse_port: bool = False) -> list[tuple[str, int]]:
    """The grpc core channel arguments of a server: message sizes, and the transport's
    defences against clients that abuse HTTP/2."""
    return [
        ("grpc.max_receive_message_length", config.max_message_bytes),
        ("grpc.max_send_message_length", config.max_message_bytes),
        # Two servers share a port only when asked to (worker processes).
        ("grpc.so_reuseport", int(reuse_port)),
        # HTTP/2 rapid reset (CVE-2023-44487): a client may open this many streams
        # per connection, and with overload protection a stream it resets still
        # counts until grpc has freed it, so HEADERS+RST_STREAM pairs cannot open
        # streams faster than the server disposes of them. Streams past the limit
        # are refused (REFUSED_STREAM) in the transport, before any Python runs,
        # and the tarpit delays those refusals to slow the client down. Overload
        # protection and the tarpit are grpc core's defaults in this version; they
        # are set here so that they stay on. Without a stream limit they do nothing.
        ("grpc.max_concurrent_streams", config.max_streams_per_connection),
        ("grpc.http.overload_protection", 1),
        ("grpc.http.tarpit", 1),
        # Connections are not kept forever: idle ones go away, and old ones are
        # asked to reconnect (which also spreads clients over --workers anew).
        ("grpc.max_connection_idle_ms", int(config.max_connection_idle_seconds * 1000)),
        ("grpc.max_connection_age_ms", int(config.max_connection_age_seconds * 1000)),
        ("grpc.max_connection_age_grace_ms", int(CONNECTION_AGE_GRACE_SECONDS * 1000)),
        # Ping floods need nothing here: grpc's defaults answer a client that keeps
        # pinging more often than every 5 minutes without sending data (a third
        # strike) with GOAWAY ENHANCE_YOUR_CALM; tests/test_service_abuse.py checks it.
    ]


def _bind(server: grpc.aio.Server, address: str) -> int:
    try:
        port = server.add_insecure_port(address)
    except RuntimeError as exc:  # grpc reports a failed bind as RuntimeError
        raise OSError(f"cannot listen on {address!r}: {exc}") from None
    if port == 0:
        raise OSError(f"cannot listen on {address!r}")
    return port


def create_server(
    address: str = DEFAULT_ADDRESS,
    config: ServerConfig | None = None,
    *,
    reuse_port: bool = False,
    health_address: str | None = None,
) -> tuple[ResourceServer, int]:
    """Build a server bound to `address` ("HOST:PORT"; port 0 picks a free one) and return it with its port.

    Call it from a coroutine on the event loop that will run the server
    (grpc.aio binds a server to the loop it was created on). `reuse_port`
    lets several worker processes listen on one port (SO_REUSEPORT); without
    it, a port already in use is an error.

    With `health_address`, a second server there answers health checks (and
    reflection about them) only, on the same event loop. Being a gRPC server
    of its own, it has its own queue of calls waiting to be taken up, so a
    health check there does not queue behind a flood of calls to the
    service's port; liveness probes belong on it.

    >>> async def main() -> None:
    ...     server, port = create_server("127.0.0.1:0")
    ...     await server.start()
    ...     await server.stop(0)
    """
    config = config or ServerConfig()
    options = transport_options(config, reuse_port=reuse_port)
    # No maximum_concurrent_rpcs: it would count health checks with conversions (see guard.py).
    server = grpc.aio.server(options=options)
    service = _Service(config)
    methods = {
        "Convert": service.unary(f"/{SERVICE_NAME}/Convert", service_pb2.ConvertRequest, handlers.convert),
        "Validate": service.unary(f"/{SERVICE_NAME}/Validate", service_pb2.ValidateRequest, handlers.validate),
        "ResolveAccelerator": service.unary(
            f"/{SERVICE_NAME}/ResolveAccelerator", service_pb2.ResolveAcceleratorRequest, handlers.resolve_accelerator
        ),
        "ListAccelerators": service.unary(
            f"/{SERVICE_NAME}/ListAccelerators", service_pb2.ListAcceleratorsRequest, handlers.list_accelerators
        ),
        "ConvertBatch": service.convert_batch(),
    }
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(SERVICE_NAME, methods)])
    health = health_aio.HealthServicer()
    streams = CallLimit(config.max_concurrent_rpcs, "health Watch and reflection streams")
    _add_health(health, server, streams)
    enable_reflection([SERVICE_NAME, HEALTH_SERVICE], server, streams, config.idle_timeout_seconds)
    port = _bind(server, address)
    if health_address is None:
        return ResourceServer(server, health, config), port
    health_server = grpc.aio.server(options=options)
    _add_health(health, health_server, streams)
    enable_reflection([HEALTH_SERVICE], health_server, streams, config.idle_timeout_seconds)
    return ResourceServer(server, health, config, health_server, _bind(health_server, health_address)), port


def _add_health(health: health_aio.HealthServicer, server: grpc.aio.Server, streams: CallLimit) -> None:
    """The standard health service: Check never refused, Watch streams counted against `streams`."""
    request, response = health_pb2.HealthCheckRequest, health_pb2.HealthCheckResponse
    methods = {
        "Check": grpc.unary_unary_rpc_method_handler(
            health.Check, request_deserializer=request.FromString, response_serializer=response.SerializeToString
        ),
        "Watch": grpc.unary_stream_rpc_method_handler(
            limited_stream(health.Watch, streams),
            request_deserializer=request.FromString,
            response_serializer=response.SerializeToString,
        ),
    }
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(HEALTH_SERVICE, methods)])


async def serve(
    address: str = DEFAULT_ADDRESS,
    config: ServerConfig | None = None,
    *,
    ready: Callable[[int], None] | None = None,
    reuse_port: bool = False,
    health_address: str | None = None,
    health_ready: Callable[[int], None] | None = None,
) -> None:
    """Serve until SIGTERM or SIGINT, then shut down gracefully.

    `ready` is called with the bound port once the server accepts calls, then
    `health_ready` with the health server's port when there is one
    (`health_address`, see `create_server`).
    """
    server, port = create_server(address, config, reuse_port=reuse_port, health_address=health_address)
    handlers.warm_up()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await server.start()
    host = address.rsplit(":", 1)[0]
    health_at = None if health_address is None else f"{health_address.rsplit(':', 1)[0]}:{server.health_port}"
    log.info("serving", extra={"address": f"{host}:{port}", "health_address": health_at})
    if ready is not None:
        ready(port)
    if health_ready is not None and server.health_port is not None:
        health_ready(server.health_port)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        log.info("shutting down", extra={"address": f"{host}:{port}"})
        await server.stop()
        log.info("stopped", extra={"address": f"{host}:{port}"})


class BackgroundServer:
    """A server running on its own event loop in a daemon thread, for tests and embedding.

    >>> with BackgroundServer("127.0.0.1:0") as server:
    ...     server.port > 0
    True
    """

    def __init__(
        self, address: str = "127.0.0.1:0", config: ServerConfig | None = None, *, health_address: str | None = None
    ) -> None:
        self._address = address
        self._config = config
        self._health_address = health_address
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="flyteres-server", daemon=True)
        self._server: ResourceServer | None = None
        self.port = 0
        self.health_port: int | None = None

    def start(self) -> BackgroundServer:
        self._thread.start()
        try:
            self._server, self.port = self._run(self._create())
            self.health_port = self._server.health_port
        except BaseException:
            self.stop()
            raise
        return self

    async def _create(self) -> tuple[ResourceServer, int]:
        server, port = create_server(self._address, self._config, health_address=self._health_address)
        await server.start()
        return server, port

    def _run(self, coro: Coroutine[Any, Any, _T]) -> _T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    @property
    def address(self) -> str:
        return f"{self._address.rsplit(':', 1)[0]}:{self.port}"

    @property
    def health_address(self) -> str | None:
        """Where the health-only server listens, when there is one."""
        if self._health_address is None:
            return None
        return f"{self._health_address.rsplit(':', 1)[0]}:{self.health_port}"

    def stop(self, grace: float | None = 0) -> None:
        """Stop the server (letting in-flight calls finish within `grace`) and its loop."""
        if self._server is not None:
            self._run(self._server.stop(grace))
            self._server = None
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
        if not self._loop.is_closed():
            self._loop.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


__all__ = [
    "DEFAULT_ADDRESS",
    "SERVICE_NAME",
    "BackgroundServer",
    "JsonFormatter",
    "ResourceServer",
    "ServerConfig",
    "configure_logging",
    "create_server",
    "serve",
    "status_for",
]
