"""Server settings, kept free of gRPC imports so the CLI can show them cheaply."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_ADDRESS = "127.0.0.1:50051"


@dataclass(frozen=True)
class ServerConfig:
    """Limits and behaviour of a server.

    `max_message_bytes` bounds every request and response message at the
    transport; `max_request_bytes` bounds each request message (a ConvertBatch
    item, for streams) the service will parse, far below it: a real request is
    a few hundred bytes, and larger ones are refused with INVALID_ARGUMENT
    before they are parsed (see bounds.py for the other bounds on a request).
    `max_batch_items` bounds the items of one ConvertBatch stream;
    `max_concurrent_rpcs` bounds the ResourceService calls in progress (more
    are refused with RESOURCE_EXHAUSTED instead of queueing without limit);
    health Watch and reflection streams have a bound of the same size of
    their own, and health Check has none, so conversions never starve health
    checks. `idle_timeout_seconds` ends a ConvertBatch or reflection stream on
    which no message moved for that long (DEADLINE_EXCEEDED). `grace_seconds`
    is how long in-flight calls may take to finish on shutdown.

    The transport's own bounds: `max_streams_per_connection` is the HTTP/2
    MAX_CONCURRENT_STREAMS each connection is allowed (the RFC's recommended
    minimum), which with grpc's overload protection also refuses the streams
    of an HTTP/2 rapid-reset flood; a connection with no call for
    `max_connection_idle_seconds`, or older than `max_connection_age_seconds`,
    is asked to go away (clients reconnect by themselves; calls in progress
    get `CONNECTION_AGE_GRACE_SECONDS` to finish).

    >>> ServerConfig().max_message_bytes
    4194304
    """

    max_message_bytes: int = 4 * 1024 * 1024
    max_request_bytes: int = 32 * 1024
    max_batch_items: int = 10_000
    max_concurrent_rpcs: int = 4096
    idle_timeout_seconds: float = 30.0
    grace_seconds: float = 5.0
    log_calls: bool = True
    max_streams_per_connection: int = 100
    max_connection_idle_seconds: float = 300.0
    max_connection_age_seconds: float = 1800.0

    def __post_init__(self) -> None:
        counts = ("max_message_bytes", "max_request_bytes", "max_batch_items", "max_concurrent_rpcs")
        for name in (*counts, "max_streams_per_connection"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)!r}")
        if self.grace_seconds < 0:
            raise ValueError(f"grace_seconds must not be negative, got {self.grace_seconds!r}")
        for name in ("idle_timeout_seconds", "max_connection_idle_seconds", "max_connection_age_seconds"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")


#: How long calls on a connection past its maximum age may take to finish before it is closed.
CONNECTION_AGE_GRACE_SECONDS = 60.0
