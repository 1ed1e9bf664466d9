"""Hostile input cannot crash the server or leave it unresponsive.

Truncated and random bytes, an oversize message, a message nested beyond the
protobuf parser's recursion limit (in an unknown field), huge field lists and
a flood of cancelled calls; after each the server still answers health checks
and converts a valid spec correctly. Every loop is bounded in count and time.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from flyteres.service import BackgroundServer, Client, ServerConfig, ServiceError, flyte_input, flytekit_input
from flyteres_pb.v2 import service_pb2 as pb

CONVERT = "/flyteres.v2.ResourceService/Convert"
BATCH = "/flyteres.v2.ResourceService/ConvertBatch"
MAX_BYTES = 512 * 1024
VALID = pb.ConvertRequest(
    input=flytekit_input(requests={"cpu": "1", "mem": "2Gi", "gpu": "1"}, accelerator="A100.partition_1g_5gb"),
    options=pb.ConvertOptions(outputs=[pb.OUTPUT_FORM_FLYTE_SOURCE]),
).SerializeToString()


@pytest.fixture(scope="module")
def server() -> Iterator[BackgroundServer]:
    config = ServerConfig(max_message_bytes=MAX_BYTES, max_batch_items=100, log_calls=False)
    with BackgroundServer("127.0.0.1:0", config) as running:
        yield running


@pytest.fixture(scope="module")
def channel(server: BackgroundServer) -> Iterator[grpc.Channel]:
    options = [("grpc.max_send_message_length", 8 * MAX_BYTES)]
    with grpc.insecure_channel(server.address, options=options) as ch:
        yield ch


def raw(channel: grpc.Channel, data: bytes) -> tuple[grpc.StatusCode, str]:
    call = channel.unary_unary(CONVERT)
    try:
        call(data, timeout=10)
    except grpc.RpcError as exc:
        error: Any = exc
        return error.code(), error.details() or ""
    return grpc.StatusCode.OK, ""


def assert_still_serving(server: BackgroundServer) -> None:
    with Client(server.address, timeout=10) as client:
        assert client.health() == "SERVING"
        answer = client.convert(pb.ConvertRequest.FromString(VALID).input, ["flyte_source"])
        assert answer.flyte.source == "flyte.Resources(cpu='1', memory='2Gi', gpu=flyte.GPU('A100', 1, '1g.5gb'))"


def test_truncated_requests_are_invalid_argument(server: BackgroundServer, channel: grpc.Channel) -> None:
    codes = {raw(channel, VALID[:cut])[0] for cut in range(1, len(VALID))}
    # A cut at a field boundary still parses (then the input is incomplete or empty).
    assert codes <= {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.OK}
    assert grpc.StatusCode.INVALID_ARGUMENT in codes
    assert_still_serving(server)


def test_random_bytes_never_reach_an_internal_error(server: BackgroundServer, channel: grpc.Channel) -> None:
    rng = random.Random(7)
    for _ in range(200):
        data = rng.randbytes(rng.randrange(1, 512))
        code, details = raw(channel, data)
        assert code in {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.OK}, (data, details)
    assert_still_serving(server)


def test_oversize_message_is_refused(server: BackgroundServer, channel: grpc.Channel) -> None:
    code, _ = raw(channel, VALID + b"\x00" * (MAX_BYTES + 1))
    assert code is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert_still_serving(server)


def _nested_groups(depth: int) -> bytes:
    # Field 1000 as a group (wire type 3) inside itself `depth` times: an unknown
    # field the parser must descend into to skip.
    start, end = bytes([0xC3, 0x3E]), bytes([0xC4, 0x3E])
    return start * depth + end * depth


def test_nesting_beyond_the_recursion_limit_is_invalid_argument(
    server: BackgroundServer, channel: grpc.Channel
) -> None:
    code, details = raw(channel, VALID + _nested_groups(5000))
    assert code is grpc.StatusCode.INVALID_ARGUMENT, details
    assert "not a valid flyteres.v2.ConvertRequest" in details
    # Shallow unknown nesting is just an unknown field: skipped, and the call answered.
    assert raw(channel, VALID + _nested_groups(10))[0] is grpc.StatusCode.OK
    assert_still_serving(server)


def test_huge_field_lists_are_bounded(server: BackgroundServer) -> None:
    spec = pb.FlytekitSpec(requests={f"bogus{i}": "x" for i in range(20_000)})
    with Client(server.address, timeout=20) as client, pytest.raises(ServiceError) as info:
        client.convert(pb.SpecInput(flytekit=spec))
    assert info.value.code is grpc.StatusCode.INVALID_ARGUMENT
    assert 0 < len(info.value.violations) <= 100
    assert_still_serving(server)


def test_a_flood_of_cancelled_calls_leaves_the_server_responsive(
    server: BackgroundServer, channel: grpc.Channel
) -> None:
    unary = channel.unary_unary(CONVERT)
    futures = [unary.future(VALID, timeout=10) for _ in range(300)]
    for f in futures:
        f.cancel()
    stream = channel.stream_stream(BATCH)
    batch_item = pb.ConvertBatchRequest(input=flyte_input(cpu="1")).SerializeToString()
    for _ in range(50):
        call = stream(iter([batch_item] * 3), timeout=10)
        call.cancel()
    # Streams opened and left idle hold no worker: health and conversions go on.
    release = threading.Event()

    def silent() -> Iterator[bytes]:
        release.wait(30)
        yield from ()

    idle = [stream(silent(), timeout=30) for _ in range(50)]
    try:
        assert_still_serving(server)
    finally:
        release.set()
        for call in idle:
            call.cancel()
    assert_still_serving(server)
