"""The service's logs: JSON lines on stderr, including what grpc core writes there.

`configure_logging` sends the `flyteres.service` logger (and grpc's Python
loggers) to stderr as JSON lines through `JsonFormatter`. grpc core does not
log through Python: it writes its own lines to file descriptor 2, and some of
them carry text a peer chose, such as the debug data of an HTTP/2 GOAWAY,
which may hold newlines, a whole forged JSON log line, or bytes that are not
UTF-8. So while `capture_stderr()` is open, fd 2 is a pipe read by a relay
that writes whatever arrives as JSON records of its own: `"logger": "grpc"`
for grpc core's lines (with their level and source), `"stderr"` for anything
else (Python's warnings and tracebacks), the text escaped inside `message`,
bytes that are not UTF-8 as `\\xNN`. The service's own records go to the real
stderr directly. Every line of stderr is then one JSON object that the server
wrote, and a peer's text is only ever the value of a `message`.

The relay is a process rather than a thread, so what a dying server writes
last (a fatal grpc error, a Python crash) still comes out; it is this file run
as a script, which is why this module imports only the standard library.

>>> record = logging.LogRecord("flyteres.service", logging.INFO, __file__, 1, "rpc", None, None)
>>> record.created, record.method = 1.0, "/x/Y\\n{forged}"
>>> JsonFormatter().format(record)
'{"time":1.0,"level":"info","logger":"flyteres.service","message":"rpc","method":"/x/Y\\\\n{forged}"}'
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from typing import Any, TextIO

log = logging.getLogger("flyteres.service")

#: One grpc core (absl) log line: severity, date, time, thread, source file:line, message.
_ABSL = re.compile(rb"([IWEF])\d{4} \d\d:\d\d:\d\d\.\d+ +\d+ ([^ \]]+:\d+)\] ?")
_LEVELS = {b"I": "info", b"W": "warning", b"E": "error", b"F": "critical"}
#: Characters of a relayed record's message that are kept (grpc's lines are far shorter).
MAX_MESSAGE = 16 * 1024
#: A line longer than this without a newline is cut into records of this size.
MAX_LINE = 64 * 1024


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, message and the call's fields."""

    FIELDS = (
        "method",
        "code",
        "duration_ms",
        "peer",
        "items",
        "address",
        "health_address",
        "error",
        "worker",
        "workers",
    )

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON (json.dumps escapes every control character)."""
        out: dict[str, Any] = {
            "time": round(record.created, 6),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in self.FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                out[name] = value
        if record.exc_info:
            out["traceback"] = self.formatException(record.exc_info)
        return json.dumps(out, separators=(",", ":"))


def _json_handlers() -> list[logging.StreamHandler[TextIO]]:
    return [
        h
        for name in ("flyteres.service", "grpc")
        for h in logging.getLogger(name).handlers
        if isinstance(h, logging.StreamHandler) and isinstance(h.formatter, JsonFormatter)
    ]


def configure_logging(level: int | str = logging.INFO) -> None:
    """Send the service's logs, and grpc's Python loggers' warnings, to stderr as JSON lines (idempotent)."""
    log.setLevel(level)
    if _json_handlers():
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    for logger, logger_level in ((log, level), (logging.getLogger("grpc"), logging.WARNING)):
        logger.addHandler(handler)
        logger.setLevel(logger_level)
        logger.propagate = False


@contextlib.contextmanager
def capture_stderr(fields: Mapping[str, object] | None = None) -> Iterator[None]:
    """While open, relay everything written to file descriptor 2 as JSON records (see the module docstring).

    `fields` are added to every relayed record (a worker's number). The
    service's JSON handlers write to the real stderr meanwhile. On leaving,
    fd 2 is restored and the relay, seeing the end of its pipe, writes what is
    left and exits. Without a stderr, or if the relay cannot start, it does nothing.
    """
    try:
        real = os.dup(2)
    except OSError:  # no stderr at all: nothing to protect
        yield
        return
    read, write = os.pipe()
    try:
        relay = subprocess.Popen(
            [sys.executable, "-I", __file__, json.dumps(dict(fields or {}))],
            stdin=read,
            stdout=real,
            stderr=real,
        )
    except OSError as exc:
        os.close(write)
        os.close(real)
        log.warning("stderr is not relayed as JSON: the relay did not start", extra={"error": str(exc)})
        yield
        return
    finally:
        os.close(read)
    direct = os.fdopen(os.dup(real), "w", encoding="utf-8", errors="backslashreplace", buffering=1)
    handlers = _json_handlers()
    for handler in handlers:
        handler.setStream(direct)
    sys.stderr.flush()
    os.dup2(write, 2)
    os.close(write)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(real, 2)  # the pipe's last writer is gone: the relay finishes
        os.close(real)
        for handler in handlers:
            handler.setStream(sys.stderr)
        direct.close()
        try:
            relay.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - the relay only reads and writes
            relay.kill()
            relay.wait()


def relay(source: int, sink: TextIO, fields: Mapping[str, object]) -> None:
    """Write what arrives on file descriptor `source` to `sink` as JSON records, until its end.

    A line that starts like a grpc core log line begins a record, and the
    lines after it in the same read belong to it (grpc writes a message, with
    any newlines a peer put in it, in one write); a record ends at the end of
    a read that ends a line.
    """
    rest = b""
    record: list[bytes] = []
    while chunk := os.read(source, 1 << 16):
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        if len(rest) > MAX_LINE:  # no newline in sight: cut it
            lines.append(rest)
            rest = b""
        for line in lines:
            if record and _ABSL.match(line):
                _write(sink, record, fields)
                record = []
            record.append(line)
        if record and not rest:
            _write(sink, record, fields)
            record = []
    if rest:
        record.append(rest)
    if record:
        _write(sink, record, fields)


def _write(sink: TextIO, lines: list[bytes], fields: Mapping[str, object]) -> None:
    out: dict[str, object] = {"time": round(time.time(), 6), "level": "error", "logger": "stderr"}
    source = None
    if match := _ABSL.match(lines[0]):
        out["level"], out["logger"] = _LEVELS[match[1]], "grpc"
        source = match[2].decode("ascii", "backslashreplace")
        lines = [lines[0][match.end() :], *lines[1:]]
    text = b"\n".join(lines).decode("utf-8", "backslashreplace")
    if len(text) > MAX_MESSAGE:
        text = f"{text[:MAX_MESSAGE]}... ({len(text) - MAX_MESSAGE} more characters)"
    out["message"] = text
    out.update(fields)
    if source is not None:
        out["source"] = source
    # A sink that fails (the log collector went away) must not stop the reading,
    # or writers to the pipe would block: the record is dropped.
    with contextlib.suppress(OSError, ValueError):
        sink.write(json.dumps(out, separators=(",", ":")) + "\n")
        sink.flush()


def _main() -> None:
    # The relay outlives signals meant for the server (a terminal's Ctrl-C reaches
    # the whole process group): it ends when the server's side of the pipe closes.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    relay(sys.stdin.fileno(), sys.stdout, json.loads(sys.argv[1]) if len(sys.argv) > 1 else {})


__all__ = ["JsonFormatter", "capture_stderr", "configure_logging", "relay"]

if __name__ == "__main__":
    _main()
