"""Health stays green while the service is abused (issue 17, the service section).

Each test holds a real server on 127.0.0.1 to one abuse at a small scale:
conversion calls at their limit and idle streams, requests past the
service's bounds, an HTTP/2 rapid-reset flood from a raw client. Health
checks must still answer SERVING, the abuse must be refused with the status
that says why, and a valid conversion must still get its usual answer.
`benchmarks/service_attack.py` runs the same attacks at full scale.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import io
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import types
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from flyteres.service import BackgroundServer, Client, ServerConfig, ServiceError, flyte_input, idl_input
from flyteres.service.logs import relay
from flyteres.service.server import _Batcher
from flyteres_pb.v1 import resources_pb2 as res_pb
from flyteres_pb.v2 import service_pb2 as pb

BATCH = "/flyteres.v2.ResourceService/ConvertBatch"
ITEM = pb.ConvertBatchRequest(id="a", input=flyte_input(cpu="1")).SerializeToString()


def assert_healthy(server: BackgroundServer) -> None:
    with Client(server.address, timeout=10) as client:
        assert client.health() == "SERVING"
        assert client.convert(flyte_input(cpu="1"), ["flyte_source"]).flyte.source == "flyte.Resources(cpu='1')"


class HeldStreams:
    """`count` ConvertBatch streams, each answered one item and then left open without a word."""

    def __init__(self, address: str, count: int) -> None:
        self.channel = grpc.insecure_channel(address)
        self.release = threading.Event()
        stream = self.channel.stream_stream(BATCH)
        self.calls = [stream(self._one_item_then_wait(), timeout=60) for _ in range(count)]
        self.first_answers = [next(call) for call in self.calls]  # each is running on the server now

    def _one_item_then_wait(self) -> Iterator[bytes]:
        yield ITEM
        self.release.wait(60)

    def close(self) -> None:
        self.release.set()
        for call in self.calls:
            call.cancel()
        self.channel.close()


def test_health_and_reflection_answer_while_conversion_calls_are_at_their_limit() -> None:
    config = ServerConfig(max_concurrent_rpcs=4, log_calls=False)
    with BackgroundServer("127.0.0.1:0", config) as server:
        held = HeldStreams(server.address, 4)
        try:
            with Client(server.address, timeout=10) as client:
                # Health is outside the limit...
                for _ in range(10):
                    assert client.health() == "SERVING"
                # ...which still holds for conversions: a fifth call is refused.
                with pytest.raises(ServiceError) as info:
                    client.convert(flyte_input(cpu="1"))
                assert info.value.code is grpc.StatusCode.RESOURCE_EXHAUSTED
                assert "limit is 4" in info.value.details
            with grpc.insecure_channel(server.address) as channel:
                stub = reflection_pb2_grpc.ServerReflectionStub(channel)
                request = reflection_pb2.ServerReflectionRequest(list_services="")
                (answer,) = stub.ServerReflectionInfo(iter([request]), timeout=10)
            assert "flyteres.v2.ResourceService" in {s.name for s in answer.list_services_response.service}
        finally:
            held.close()
        assert_healthy(server)


def test_an_idle_stream_ends_after_the_idle_timeout_and_frees_its_place() -> None:
    config = ServerConfig(max_concurrent_rpcs=2, idle_timeout_seconds=0.5, log_calls=False)
    with BackgroundServer("127.0.0.1:0", config) as server:
        held = HeldStreams(server.address, 2)
        try:
            started = time.monotonic()
            for call in held.calls:
                with pytest.raises(grpc.RpcError) as info:
                    next(call)
                error: Any = info.value
                assert error.code() is grpc.StatusCode.DEADLINE_EXCEEDED
                assert "idle for 0.5 s" in error.details()
            assert time.monotonic() - started < 5
        finally:
            held.close()
        assert_healthy(server)  # their places are free again


def test_a_stream_that_keeps_sending_is_not_idle() -> None:
    config = ServerConfig(idle_timeout_seconds=0.5, log_calls=False)
    with BackgroundServer("127.0.0.1:0", config) as server, Client(server.address, timeout=10) as client:

        def slowly() -> Iterator[pb.SpecInput]:
            for cpu in range(1, 6):
                time.sleep(0.2)  # 1 s in all: twice the idle timeout, never idle that long
                yield flyte_input(cpu=str(cpu))

        answers = list(client.convert_batch(slowly(), ["flyteres"]))
    assert [a.response.spec.requests["cpu"] for a in answers] == ["1", "2", "3", "4", "5"]


def test_an_idle_reflection_stream_ends_after_the_idle_timeout() -> None:
    config = ServerConfig(idle_timeout_seconds=0.5, log_calls=False)
    release = threading.Event()

    def one_request_then_wait() -> Iterator[reflection_pb2.ServerReflectionRequest]:
        yield reflection_pb2.ServerReflectionRequest(list_services="")
        release.wait(30)

    with BackgroundServer("127.0.0.1:0", config) as server, grpc.insecure_channel(server.address) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        call = stub.ServerReflectionInfo(one_request_then_wait(), timeout=30)
        try:
            assert next(call).list_services_response.service
            with pytest.raises(grpc.RpcError) as info:
                next(call)
            error: Any = info.value
            assert error.code() is grpc.StatusCode.DEADLINE_EXCEEDED
        finally:
            release.set()
            call.cancel()


# -- requests past the service's bounds ----------------------------------------------------------------


@pytest.fixture(scope="module")
def bounded() -> Iterator[BackgroundServer]:
    with BackgroundServer("127.0.0.1:0", ServerConfig(log_calls=False)) as running:
        yield running


def refusal(server: BackgroundServer, spec: pb.SpecInput) -> ServiceError:
    with Client(server.address, timeout=30, max_message_bytes=8 << 20) as client, pytest.raises(ServiceError) as info:
        client.convert(spec)
    assert info.value.code is grpc.StatusCode.INVALID_ARGUMENT
    return info.value


def test_a_request_of_100k_keys_is_refused_by_its_size_before_it_is_read(bounded: BackgroundServer) -> None:
    spec = pb.SpecInput(flytekit=pb.FlytekitSpec(requests={f"key{i:06d}": "1" for i in range(100_000)}))
    error = refusal(bounded, spec)
    (violation,) = error.violations
    assert violation.field == "request"
    assert "at most 32768 bytes" in violation.description
    assert "this server's limit" in violation.description
    assert_healthy(bounded)


entry = res_pb.Resources.ResourceEntry(name=res_pb.Resources.CPU, value="1")


@pytest.mark.parametrize(
    ("spec", "field", "limit"),
    [
        (flyte_input(cpu="1" * 2000), "input.flyte.cpu.request", "at most 1024 characters"),
        (pb.SpecInput(flytekit=pb.FlytekitSpec(requests={"k" * 2000: "1"})), "input.flytekit.requests", "keys"),
        (
            pb.SpecInput(flytekit=pb.FlytekitSpec(requests={f"k{i}": "1" for i in range(40)})),
            "input.flytekit.requests",
            "at most 32 entries",
        ),
        (idl_input(res_pb.Resources(requests=[entry] * 30, limits=[entry] * 30)), "request", "at most 128 values"),
    ],
    ids=["long quantity", "long key", "many entries", "many values in all"],
)
def test_entries_and_strings_past_the_bounds_are_named_with_the_limit(
    bounded: BackgroundServer, spec: pb.SpecInput, field: str, limit: str
) -> None:
    error = refusal(bounded, spec)
    assert any(v.field == field and limit in v.description for v in error.violations), error.violations
    assert "this server's limit" in error.details


def test_a_batch_item_past_the_bounds_gets_its_error_and_the_stream_goes_on(bounded: BackgroundServer) -> None:
    items = [flyte_input(cpu="1"), flyte_input(cpu="1" * 2000), flyte_input(cpu="2")]
    with Client(bounded.address, timeout=10) as client:
        answers = list(client.convert_batch(iter(items), ["flyteres"]))
    assert [a.WhichOneof("result") for a in answers] == ["response", "error", "response"]
    (violation, *_) = ServiceError.from_status(answers[1].error).violations
    assert violation.field == "input.flyte.cpu.request"
    assert "at most 1024 characters" in violation.description


def test_a_turn_of_conversions_yields_to_other_calls_after_its_time_budget() -> None:
    # Twenty slow items queued at once, then another call's callback: it must
    # run after a turn's time budget, not after every queued item.
    order: list[str] = []

    def slow(n: int) -> bytes:
        time.sleep(0.003)
        order.append(f"item {n}")
        return b""

    async def main() -> None:
        batcher = _Batcher()
        futures = [batcher.run(lambda n=n: slow(n)) for n in range(20)]
        asyncio.get_running_loop().call_soon(order.append, "other call")
        await asyncio.gather(*futures)

    asyncio.run(main())
    assert order.index("other call") <= 4, order
    assert len(order) == 21


# -- HTTP/2 rapid reset (CVE-2023-44487) -------------------------------------------------------------


def rapid_reset(address: str, streams: int) -> tuple[int | None, dict[str, int]]:
    """Flood one connection with HEADERS+RST_STREAM pairs; the MAX_CONCURRENT_STREAMS the
    server advertised, and what it answered (RST_STREAM error codes, GOAWAY) by count."""
    import h2.config  # noqa: PLC0415
    import h2.connection  # noqa: PLC0415
    import h2.settings  # noqa: PLC0415
    import hpack  # noqa: PLC0415

    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        conn.initiate_connection()
        sock.sendall(conn.data_to_send())
        conn.receive_data(sock.recv(65536))  # the server's SETTINGS
        sock.sendall(conn.data_to_send())  # and their ACK
        advertised = conn.remote_settings.get(h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS)
        headers = [(":method", "POST"), (":scheme", "http"), (":path", "/flyteres.v2.ResourceService/Convert")]
        headers += [(":authority", address), ("content-type", "application/grpc"), ("te", "trailers")]
        encoder = hpack.Encoder()
        blocks = [encoder.encode(headers), encoder.encode(headers)]  # the second refers to the first's entries
        frames = []
        for n in range(streams):
            block = blocks[min(n, 1)]
            frames.append(_frame(0x1, 0x4, 2 * n + 1, block) + _frame(0x3, 0x0, 2 * n + 1, struct.pack(">I", 8)))
        sock.sendall(b"".join(frames))
        answered: dict[str, int] = {}
        data = b""
        sock.settimeout(2)
        with contextlib.suppress(OSError):  # the answers stop coming, or the server closes
            while chunk := sock.recv(1 << 16):
                data += chunk
        while len(data) >= 9:
            length, kind = int.from_bytes(data[:3], "big"), data[3]
            payload, data = data[9 : 9 + length], data[9 + length :]
            if kind == 0x3:
                name = {7: "REFUSED_STREAM", 8: "CANCEL", 11: "ENHANCE_YOUR_CALM"}.get(int.from_bytes(payload, "big"))
                answered[f"RST_STREAM {name}"] = answered.get(f"RST_STREAM {name}", 0) + 1
            elif kind == 0x7:
                answered["GOAWAY"] = answered.get("GOAWAY", 0) + 1
    return advertised, answered


def _frame(kind: int, flags: int, stream: int, payload: bytes) -> bytes:
    return len(payload).to_bytes(3, "big") + bytes([kind, flags]) + stream.to_bytes(4, "big") + payload


def test_a_rapid_reset_flood_is_refused_by_the_transport_and_health_stays_green() -> None:
    with BackgroundServer("127.0.0.1:0", ServerConfig(log_calls=False)) as server:
        advertised, answered = rapid_reset(server.address, 5000)
        # Each connection may hold 100 streams, and streams reset by the client still
        # count until the server has freed them: the flood is refused in the transport.
        assert advertised == 100
        assert answered.get("RST_STREAM REFUSED_STREAM", 0) > 0, answered
        assert_healthy(server)


def test_the_health_port_answers_health_only_and_reports_the_shutdown() -> None:
    config = ServerConfig(max_concurrent_rpcs=1, log_calls=False)
    server = BackgroundServer("127.0.0.1:0", config, health_address="127.0.0.1:0").start()
    try:
        assert server.health_address is not None
        assert server.health_port not in (None, server.port)
        held = HeldStreams(server.address, 1)  # the conversions are at their limit
        try:
            with Client(server.health_address, timeout=10) as probe:
                assert probe.health() == "SERVING"
                assert probe.health("flyteres.v2.ResourceService") == "SERVING"
                with pytest.raises(ServiceError) as info:
                    probe.convert(flyte_input(cpu="1"))
                assert info.value.code is grpc.StatusCode.UNIMPLEMENTED
        finally:
            held.close()
        with Client(server.address, timeout=10) as client:
            assert client.health() == "SERVING"
    finally:
        server.stop()
    with Client(server.health_address, timeout=2) as probe, pytest.raises(ServiceError):
        probe.health()  # stopped with the service


@pytest.mark.slow
def test_serve_prints_the_health_port_and_answers_there() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "flyteres.service", "--address", "127.0.0.1:0", "--health-address", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        service, health = proc.stdout.readline(), proc.stdout.readline()
        assert service.startswith("listening on 127.0.0.1:"), service
        assert health.startswith("health on 127.0.0.1:"), health
        with Client(health.split()[-1], timeout=10) as probe:
            assert probe.health() == "SERVING"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    serving = next(json.loads(line) for line in err.splitlines() if '"serving"' in line)
    assert serving["health_address"] == health.split()[-1]


def test_a_ping_flood_is_answered_with_goaway() -> None:
    import h2.config  # noqa: PLC0415
    import h2.connection  # noqa: PLC0415
    import h2.errors  # noqa: PLC0415
    import h2.events  # noqa: PLC0415

    with BackgroundServer("127.0.0.1:0", ServerConfig(log_calls=False)) as server:
        host, port = server.address.rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
            conn.initiate_connection()
            sock.sendall(conn.data_to_send())
            conn.receive_data(sock.recv(65536))
            for n in range(10):
                conn.ping(n.to_bytes(8, "big"))
            sock.sendall(conn.data_to_send())
            events = []
            with contextlib.suppress(OSError):
                while data := sock.recv(65536):
                    events += conn.receive_data(data)
        (goaway,) = [e for e in events if isinstance(e, h2.events.ConnectionTerminated)]
        assert goaway.error_code == h2.errors.ErrorCodes.ENHANCE_YOUR_CALM
        assert_healthy(server)


# -- logs a peer can write into -------------------------------------------------------------------------

FORGED = b'x\n{"time":1,"level":"info","logger":"flyteres.service","message":"rpc","method":"/admin/FORGED"}\n\xff\xfe'


def send_goaway(address: str, debug: bytes) -> None:
    """Open an HTTP/2 connection and close it with GOAWAY carrying `debug` as its debug data."""
    import h2.config  # noqa: PLC0415
    import h2.connection  # noqa: PLC0415

    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        conn.initiate_connection()
        sock.sendall(conn.data_to_send())
        conn.receive_data(sock.recv(65536))
        conn.close_connection(error_code=2, additional_data=debug)  # INTERNAL_ERROR
        sock.sendall(conn.data_to_send())
        with contextlib.suppress(OSError):
            sock.recv(65536)


@pytest.mark.slow
def test_grpc_logs_what_a_peer_sends_as_escaped_json_and_forges_nothing() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "flyteres.service", "--address", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        address = proc.stdout.readline().decode().split()[-1]
        send_goaway(address, FORGED)
        with Client(address, timeout=10) as client:  # and the server goes on
            assert client.health() == "SERVING"
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    lines = err.decode("utf-8").splitlines()  # the stream is valid UTF-8...
    records = [json.loads(line) for line in lines]  # ...and every line is one JSON object
    assert not [r for r in records if r.get("method") == "/admin/FORGED"]
    # grpc's own line about the GOAWAY is one record, with the peer's bytes escaped inside its message.
    (goaway,) = [r for r in records if "Got goaway" in r["message"]]
    assert goaway["logger"] == "grpc"
    assert (
        '\n{"time":1,"level":"info","logger":"flyteres.service","message":"rpc","method":"/admin/FORGED"}\n'
        in (goaway["message"])
    )
    assert "\\xff\\xfe" in goaway["message"]
    assert records[-1]["message"] == "stopped"


def relayed(data: bytes, fields: dict[str, object] | None = None) -> list[dict[str, Any]]:
    """What the relay writes for `data`, read from a file (in pieces of 64 KiB, as from a full pipe)."""
    with tempfile.TemporaryFile() as source:
        source.write(data)
        source.seek(0)
        sink = io.StringIO()
        relay(source.fileno(), sink, fields or {})
    return [json.loads(line) for line in sink.getvalue().splitlines()]


def test_the_relay_makes_one_record_of_each_grpc_message_and_escapes_its_bytes() -> None:
    grpc_line = b"E1202 08:05:13.574375   32287 chttp2_transport.cc:1403] "
    records = relayed(grpc_line + b"first\n" + FORGED + b"\n" + grpc_line + b"second\n", {"worker": 1})
    assert [(r["logger"], r["level"], r["source"], r["worker"]) for r in records] == [
        ("grpc", "error", "chttp2_transport.cc:1403", 1),
        ("grpc", "error", "chttp2_transport.cc:1403", 1),
    ]
    assert records[0]["message"] == "first\n" + FORGED.decode("utf-8", "backslashreplace")
    assert records[0]["message"].endswith("\\xff\\xfe")
    assert records[1]["message"] == "second"


def test_the_relay_wraps_other_writes_and_cuts_what_never_ends() -> None:
    (traceback,) = relayed(b"Traceback (most recent call last):\n  File ...\nValueError: x\n")
    assert (traceback["logger"], traceback["level"]) == ("stderr", "error")
    assert traceback["message"] == "Traceback (most recent call last):\n  File ...\nValueError: x"
    endless = relayed(b"y" * (3 * 64 * 1024))
    assert endless
    assert all(len(r["message"]) <= 16 * 1024 + 40 for r in endless)


@pytest.mark.slow
def test_what_a_dying_process_writes_to_stderr_still_comes_out_as_json() -> None:
    code = (
        "import os\n"
        "from flyteres.service.logs import capture_stderr, configure_logging\n"
        "configure_logging()\n"
        "with capture_stderr():\n"
        "    os.write(2, b'last words\\n')\n"
        "    os.abort()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30, check=False)
    assert done.returncode == -signal.SIGABRT
    (record,) = [json.loads(line) for line in done.stderr.decode().splitlines()]
    assert (record["logger"], record["message"]) == ("stderr", "last words")


def test_refused_requests_are_not_kept_alive_until_the_next_full_collection() -> None:
    # grpc keeps an aborting handler's frames in a reference cycle; with two clients
    # sending 1.6 MB requests, frames that still held them grew the server by
    # hundreds of MB between full collections.
    data = pb.ConvertRequest(
        input=pb.SpecInput(flytekit=pb.FlytekitSpec(requests={f"key{i:06d}": "1" for i in range(100_000)}))
    ).SerializeToString()
    gc.collect()
    gc.disable()
    try:
        with BackgroundServer("127.0.0.1:0", ServerConfig(log_calls=False)) as server:
            with grpc.insecure_channel(server.address, options=[("grpc.max_send_message_length", 8 << 20)]) as ch:
                convert = ch.unary_unary("/flyteres.v2.ResourceService/Convert")
                for _ in range(5):
                    with pytest.raises(grpc.RpcError):
                        convert(data, timeout=30)
            gc.set_debug(gc.DEBUG_SAVEALL)
            gc.collect()
            held = [
                name
                for frame in gc.garbage
                if isinstance(frame, types.FrameType)
                for name, value in frame.f_locals.items()
                if isinstance(value, bytes) and len(value) > 1_000_000
            ]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert held == []


def test_serve_help_says_which_port_serves_health() -> None:
    from typer.testing import CliRunner  # noqa: PLC0415

    from flyteres.cli.app import app  # noqa: PLC0415

    result = CliRunner().invoke(app, ["serve", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "Which port serves health" in text
    assert "--health-address" in text
    assert "point liveness and readiness probes at it" in text
