"""`flyteres serve`: run the gRPC service until SIGTERM or SIGINT.

The command function is registered on the main CLI as `serve`; it is also
runnable on its own as `python -m flyteres.service`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from flyteres.service.config import DEFAULT_ADDRESS, ServerConfig


def serve(
    *,
    address: Annotated[
        str, typer.Option("--address", help="HOST:PORT to listen on; port 0 picks a free port.")
    ] = DEFAULT_ADDRESS,
    health_address: Annotated[
        str | None,
        typer.Option(
            "--health-address",
            help="HOST:PORT of a second, health-only server, for liveness and readiness probes.",
            show_default="none: health is served on --address only",
        ),
    ] = None,
    max_message_bytes: Annotated[
        int, typer.Option("--max-message-bytes", min=1024, help="Largest request or response message.")
    ] = ServerConfig.max_message_bytes,
    max_request_bytes: Annotated[
        int,
        typer.Option(
            "--max-request-bytes", min=64, help="Largest request (or ConvertBatch item) the service will parse."
        ),
    ] = ServerConfig.max_request_bytes,
    max_batch_items: Annotated[
        int, typer.Option("--max-batch-items", min=1, help="Most items one ConvertBatch stream may carry.")
    ] = ServerConfig.max_batch_items,
    max_concurrent_rpcs: Annotated[
        int,
        typer.Option(
            "--max-concurrent-rpcs",
            min=1,
            help="Conversion calls in progress beyond this are refused (health checks never are).",
        ),
    ] = ServerConfig.max_concurrent_rpcs,
    idle_timeout: Annotated[
        float,
        typer.Option(
            "--idle-timeout", min=0.001, help="Seconds a ConvertBatch stream may go without a message before it ends."
        ),
    ] = ServerConfig.idle_timeout_seconds,
    max_streams_per_connection: Annotated[
        int,
        typer.Option(
            "--max-streams-per-connection",
            min=1,
            help="HTTP/2 streams one connection may have open; more are refused (rapid-reset floods too).",
        ),
    ] = ServerConfig.max_streams_per_connection,
    grace: Annotated[
        float, typer.Option("--grace", min=0, help="Seconds in-flight calls get to finish on shutdown.")
    ] = ServerConfig.grace_seconds,
    log_level: Annotated[
        str, typer.Option("--log-level", help="debug, info (one line per call), warning or error.")
    ] = "info",
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            help="Server processes sharing the port (SO_REUSEPORT, Linux); each new connection goes to one.",
        ),
    ] = 1,
) -> None:
    """Serve flyteres.v2.ResourceService with health checking and reflection.

    Which port serves health: --address serves the ResourceService,
    grpc.health.v1.Health and reflection (v1 and v1alpha). With
    --health-address, a second server there answers grpc.health.v1.Health
    (and reflection) only, with a queue of calls of its own, so a flood of
    calls to --address does not hold a probe up: point liveness and readiness
    probes at it. Health checks are never refused for --max-concurrent-rpcs.

    Logs are JSON lines on stderr: one per call (method, code, duration_ms),
    and grpc core's own lines as records of logger "grpc" (what a peer sent
    in them escaped inside "message").
    SIGTERM or SIGINT stops accepting calls and lets in-flight ones finish.

    A Python process converts on one core: on a machine with more, use
    `--workers N` (N processes on one port). Clients then need more than one
    connection to reach more than one worker.

    Exit codes: 0 after a clean shutdown, 2 for bad options, 1 if the address
    cannot be bound or a worker dies.
    """
    # gRPC is imported only when the server runs: other commands stay quick to start.
    from flyteres.service.logs import capture_stderr, configure_logging  # noqa: PLC0415
    from flyteres.service.server import serve as run_server  # noqa: PLC0415
    from flyteres.service.workers import serve_workers, split_address  # noqa: PLC0415

    level = log_level.upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise typer.BadParameter(f"unknown log level {log_level!r}", param_hint="--log-level")
    if workers > 1:
        for hint, value in (("--address", address), ("--health-address", health_address)):
            try:
                if value is not None:
                    split_address(value)
            except ValueError as exc:
                raise typer.BadParameter(str(exc), param_hint=hint) from None
    configure_logging(level)
    config = ServerConfig(
        max_message_bytes=max_message_bytes,
        max_request_bytes=max_request_bytes,
        max_batch_items=max_batch_items,
        max_concurrent_rpcs=max_concurrent_rpcs,
        idle_timeout_seconds=idle_timeout,
        max_streams_per_connection=max_streams_per_connection,
        grace_seconds=grace,
    )

    def ready(port: int) -> None:
        # One plain line on stdout, so scripts can learn the port when they asked for 0.
        typer.echo(f"listening on {address.rsplit(':', 1)[0]}:{port}")

    def health_ready(port: int) -> None:
        # The second line, when there is a health server.
        typer.echo(f"health on {(health_address or '').rsplit(':', 1)[0]}:{port}")

    import asyncio  # noqa: PLC0415 - 25 ms of start-up that only `serve` needs

    try:
        if workers == 1:
            # grpc core writes to stderr itself: relayed as JSON while the server runs
            # (each worker does the same for itself).
            with capture_stderr():
                asyncio.run(
                    run_server(address, config, ready=ready, health_address=health_address, health_ready=health_ready)
                )
        else:
            status = serve_workers(
                address,
                config,
                workers,
                log_level=level,
                ready=ready,
                health_address=health_address,
                health_ready=health_ready,
            )
            raise typer.Exit(status)
    except OSError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


def main() -> None:
    """Entry point of `python -m flyteres.service`."""
    typer.run(serve)
