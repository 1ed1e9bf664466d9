"""Several server processes on one port, for machines with more than one core.

A Python process runs its conversions on one core (the GIL), so
`flyteres serve --workers N` starts N processes that each run the whole
service (health and reflection included) and listen on the same TCP port
with SO_REUSEPORT. The kernel hands each new *connection* to one of them: a
client that opens a single channel talks to a single worker, and load spreads
over workers as clients open connections.

The parent process only supervises. It reserves the port (so port 0 resolves
to one port every worker shares), starts the workers, reports the address once
all of them accept calls, and on SIGTERM or SIGINT passes SIGTERM on, so each
worker refuses new calls and lets its in-flight ones finish. If a worker dies,
the others are stopped and the command exits 1: a supervisor (Kubernetes,
systemd) restarts the whole set, rather than this process hiding a crash.

SO_REUSEPORT spreads connections this way on Linux; elsewhere `--workers`
above 1 is refused.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import multiprocessing.connection
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flyteres.service.config import ServerConfig

log = logging.getLogger("flyteres.service")

# How long a worker may take to import, bind and start before the parent gives up.
START_TIMEOUT = 60.0


@dataclass(frozen=True)
class _Job:
    """What a worker process is told (picklable: workers are spawned, not forked)."""

    address: str
    config: ServerConfig
    log_level: str
    worker: int
    health_address: str | None = None


def split_address(address: str) -> tuple[str, int]:
    """("HOST", PORT) of a TCP "HOST:PORT" address; IPv6 hosts come in brackets.

    >>> split_address("[::1]:50051")
    ('::1', 50051)
    >>> split_address("unix:/tmp/s")
    Traceback (most recent call last):
    ...
    ValueError: several workers need a TCP address HOST:PORT, got 'unix:/tmp/s'
    """
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535 or not host or address.startswith("unix"):
        raise ValueError(f"several workers need a TCP address HOST:PORT, got {address!r}")
    return host.removeprefix("[").removesuffix("]"), int(port)


def _joined(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def reserve_port(host: str, port: int) -> socket.socket:
    """A socket bound to (host, port) with SO_REUSEPORT and not listening.

    It holds the port (the one the kernel picked, for port 0) while workers
    bind the same one; not listening, it is never handed a connection.
    """
    if not sys.platform.startswith("linux"):  # pragma: no cover - CI runs on Linux
        raise OSError("several workers need Linux, where SO_REUSEPORT spreads connections over them")
    try:
        family, kind, proto, _, sockaddr = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise OSError(f"cannot listen on {host!r}: {exc.strerror}") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(sockaddr)
    except OSError as exc:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock


class _WorkerField(logging.Filter):
    """Marks every record of a worker process with the worker's number."""

    def __init__(self, worker: int) -> None:
        super().__init__()
        self.worker = worker

    def filter(self, record: logging.LogRecord) -> bool:
        record.worker = self.worker
        return True


def _worker_main(job: _Job, channel: multiprocessing.connection.Connection) -> None:
    """A worker process: the whole service, sharing the port; reports readiness on `channel`."""
    from flyteres.service.logs import capture_stderr, configure_logging  # noqa: PLC0415
    from flyteres.service.server import serve  # noqa: PLC0415

    configure_logging(job.log_level)
    log.addFilter(_WorkerField(job.worker))
    try:
        with capture_stderr({"worker": job.worker}):
            asyncio.run(
                serve(
                    job.address,
                    job.config,
                    ready=lambda port: channel.send(("ready", port)),
                    reuse_port=True,
                    health_address=job.health_address,
                )
            )
    except OSError as exc:
        channel.send(("error", str(exc)))
        raise SystemExit(1) from None


def serve_workers(
    address: str,
    config: ServerConfig,
    workers: int,
    *,
    log_level: str = "INFO",
    ready: Callable[[int], None] | None = None,
    health_address: str | None = None,
    health_ready: Callable[[int], None] | None = None,
) -> int:
    """Run `workers` server processes on `address` until SIGTERM or SIGINT; the exit status.

    0 after a clean shutdown; 1 if a worker could not start or died while
    serving (the others are then stopped). `ready` gets the shared port once
    every worker accepts calls, then `health_ready` the shared health port
    when there is a `health_address` (every worker serves health there too).
    Raises OSError if an address cannot be bound.
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    host, port = split_address(address)
    reserved = [reserve_port(host, port)]
    port = reserved[0].getsockname()[1]
    shared = _joined(host, port)
    health_shared = health_port = None
    try:
        if health_address is not None:
            health_host, health_port = split_address(health_address)
            reserved.append(reserve_port(health_host, health_port))
            health_port = reserved[1].getsockname()[1]
            health_shared = _joined(health_host, health_port)
    except BaseException:
        reserved[0].close()
        raise

    stopping = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stopping.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    context = multiprocessing.get_context("spawn")  # grpc must not be forked
    procs: list[Any] = []
    try:
        channels = []
        for index in range(workers):
            ours, theirs = context.Pipe(duplex=False)
            job = _Job(shared, config, log_level, index, health_shared)
            proc = context.Process(target=_worker_main, args=(job, theirs), name=f"flyteres-worker-{index}")
            proc.start()
            theirs.close()
            procs.append(proc)
            channels.append(ours)
        failure = _await_ready(procs, channels, stopping)
        if failure is None and not stopping.is_set():
            log.info("serving", extra={"address": shared, "health_address": health_shared, "workers": workers})
            if ready is not None:
                ready(port)
            if health_ready is not None and health_port is not None:
                health_ready(health_port)
            failure = _supervise(procs, stopping)
        if failure is not None:
            log.error(failure)
        log.info("shutting down", extra={"address": shared})
        _stop(procs, config.grace_seconds)
        log.info("stopped", extra={"address": shared})
        return 0 if failure is None else 1
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.kill()
        for sock in reserved:
            sock.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _await_ready(procs: list[Any], channels: list[Any], stopping: threading.Event) -> str | None:
    """Wait for every worker's "ready"; a message saying why not, or None."""
    proc_of = dict(zip(channels, procs, strict=True))
    channel_of = {proc.sentinel: channel for channel, proc in proc_of.items()}
    waiting = set(channels)
    deadline = time.monotonic() + START_TIMEOUT
    while waiting and not stopping.is_set() and time.monotonic() < deadline:
        for item in multiprocessing.connection.wait([*waiting, *channel_of], timeout=0.2):
            channel = channel_of.get(item, item)
            proc = proc_of[channel]
            message = _read(channel) if channel in waiting else None
            if message is not None and message[0] == "ready":
                waiting.discard(channel)
            elif message is not None:  # a worker that cannot bind says why before it exits
                return f"{proc.name} did not start: {message[1]}"
            else:  # it exited, or closed its pipe without a word
                proc.join(1)
                return f"{proc.name} exited with code {proc.exitcode} while starting"
    if waiting and not stopping.is_set():
        return f"{len(waiting)} worker(s) did not start within {START_TIMEOUT:.0f} s"
    return None


def _read(channel: Any) -> tuple[str, Any] | None:
    """The message a worker sent on its pipe, or None if it closed the pipe without one."""
    try:
        return channel.recv() if channel.poll() else None
    except EOFError:
        return None


def _supervise(procs: list[Any], stopping: threading.Event) -> str | None:
    """Wait for a signal or a worker's exit; a message if a worker failed, else None.

    A worker that exits with status 0 was stopped by a signal sent to it
    directly (a terminal's Ctrl-C reaches the whole process group): the set
    stops with it, as if the parent had been signalled.
    """
    sentinels = {proc.sentinel: proc for proc in procs}
    while not stopping.is_set():
        for sentinel in multiprocessing.connection.wait(list(sentinels), timeout=0.2):
            proc = sentinels[sentinel]
            proc.join()
            if proc.exitcode == 0:
                return None
            return f"{proc.name} exited with code {proc.exitcode}; stopping the others"
    return None


def _stop(procs: list[Any], grace: float) -> None:
    """SIGTERM every live worker, give them the grace period and some, then kill what is left."""
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    for proc in procs:
        proc.join(grace + 10)
        if proc.is_alive():
            proc.kill()
            proc.join()
