"""`flyteres serve --workers N`: several processes on one port, supervised.

Each test runs the real command as a subprocess on 127.0.0.1 and talks to it
over separate connections, as clients of a multi-worker server do.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from flyteres.service import flytekit_input
from flyteres.service.workers import split_address
from flyteres_pb.v2 import service_pb2 as pb

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SO_REUSEPORT spreads load on Linux"),
    pytest.mark.slow,  # starts server processes
]

CONVERT = "/flyteres.v2.ResourceService/Convert"
# Several map fields (requests, the findings' actions per policy): protobuf
# orders map entries differently in every process unless told otherwise.
REQUEST = pb.ConvertRequest(
    input=flytekit_input(requests={"cpu": "1", "mem": "2Gi", "gpu": "1"}, limits={"mem": "4Gi", "cpu": "2"}),
).SerializeToString()


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "flyteres.service", "--address", "127.0.0.1:0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


@pytest.fixture
def workers() -> Iterator[tuple[subprocess.Popen[str], str]]:
    proc = start("--workers", "2")
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("listening on 127.0.0.1:"), (line, proc.stderr.read() if proc.stderr else "")
        yield proc, line.split()[-1]
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def call_on_new_connections(address: str, count: int) -> list[bytes]:
    """The raw answer to REQUEST over `count` channels that share no connection."""
    answers = []
    for _ in range(count):
        # A local subchannel pool keeps grpc from reusing another channel's connection.
        with grpc.insecure_channel(address, options=[("grpc.use_local_subchannel_pool", 1)]) as channel:
            answers.append(channel.unary_unary(CONVERT)(REQUEST, timeout=10))
    return answers


def records(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_workers_share_the_port_answer_alike_and_stop_on_sigterm(workers: tuple[subprocess.Popen[str], str]) -> None:
    proc, address = workers
    answers = call_on_new_connections(address, 16)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    logs = records(err)
    served = {r["worker"] for r in logs if r["message"] == "rpc"}
    # 16 connections all landing on one worker has odds of 2 in 65,536.
    assert served == {0, 1}, logs
    # Every worker writes the same answer to the byte.
    assert len(set(answers)) == 1
    assert pb.ConvertResponse.FromString(answers[0]).spec.requests["memory"] == "2Gi"
    assert [r["message"] for r in logs if "worker" not in r] == ["serving", "shutting down", "stopped"]
    assert sorted(r["worker"] for r in logs if r["message"] == "stopped" and "worker" in r) == [0, 1]


def test_a_worker_that_dies_stops_the_others_and_fails(workers: tuple[subprocess.Popen[str], str]) -> None:
    proc, address = workers
    call_on_new_connections(address, 1)
    first, second = children_serving(proc.pid)
    os.kill(first, signal.SIGKILL)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert any("exited with code -9" in r["message"] for r in records(err)), err
    assert not Path(f"/proc/{second}").exists() or "zombie" in Path(f"/proc/{second}/status").read_text()


def children_serving(pid: int) -> list[int]:
    """The two worker processes (the spawn context may add a resource tracker)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = [c for c in children(pid) if b"resource_tracker" not in Path(f"/proc/{c}/cmdline").read_bytes()]
        if len(found) == 2:
            return found
        time.sleep(0.1)
    raise AssertionError(f"no two workers under {pid}: {children(pid)}")


def test_workers_refuse_a_port_that_is_taken() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "flyteres.service", "--address", f"127.0.0.1:{port}", "--workers", "2"],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in proc.stderr


@pytest.mark.parametrize("address", ["unix:/tmp/flyteres.sock", "127.0.0.1", "localhost:http", "127.0.0.1:65536"])
def test_workers_need_a_tcp_host_and_port(address: str) -> None:
    with pytest.raises(ValueError, match="TCP address"):
        split_address(address)
    proc = subprocess.run(
        [sys.executable, "-m", "flyteres.service", "--address", address, "--workers", "2"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "several workers need a TCP address" in proc.stderr


def test_workers_share_the_health_port_too() -> None:
    proc = start("--workers", "2", "--health-address", "127.0.0.1:0")
    try:
        assert proc.stdout is not None
        service, health = proc.stdout.readline(), proc.stdout.readline()
        assert service.startswith("listening on 127.0.0.1:"), service
        assert health.startswith("health on 127.0.0.1:"), health
        for _ in range(8):  # new connections, to whichever worker the kernel picks
            with grpc.insecure_channel(health.split()[-1], options=[("grpc.use_local_subchannel_pool", 1)]) as ch:
                assert ch.unary_unary("/grpc.health.v1.Health/Check")(b"", timeout=10) == b"\x08\x01"  # SERVING
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    assert proc.returncode == 0, err
    assert next(r for r in records(err) if r["message"] == "serving")["health_address"] == health.split()[-1]
