"""The benchmark's load generator (benchmarks/service_load.mjs) against a live server.

A short run in each mode must complete calls with no error, and a payload
the service refuses must show up as errors: a load generator that counted
refusals as throughput would make the benchmark lie.
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flyteres.service import BackgroundServer, ServerConfig, flyte_input, flytekit_input
from flyteres_pb.v2 import service_pb2 as pb

# Regenerates code, runs buf or node: part of make test, not of make check's fast loop.
pytestmark = pytest.mark.slow

LOAD = Path(__file__).resolve().parent.parent / "benchmarks" / "service_load.mjs"
SPECS = [flytekit_input(requests={"cpu": "1", "mem": "2Gi"}), flyte_input(cpu=("1", "2"), gpu="A100:1")]


@pytest.fixture(scope="module")
def server() -> Iterator[BackgroundServer]:
    with BackgroundServer("127.0.0.1:0", ServerConfig(log_calls=False)) as running:
        yield running


def run(address: str, mode: str, specs: list[Any]) -> dict[str, Any]:
    if mode == "unary":
        payloads = [pb.ConvertRequest(input=s).SerializeToString() for s in specs]
    else:
        payloads = [pb.ConvertBatchRequest(id=f"s{i}", input=s).SerializeToString() for i, s in enumerate(specs)]
    job = {
        "address": address,
        "mode": mode,
        "payloads": [base64.b64encode(p).decode() for p in payloads],
        "ids": [f"s{i}" for i in range(len(specs))],
        "inFlight": 4,
        "connections": 2,
        "startAt": time.time() * 1000,
        "warmUp": 0.2,
        "duration": 0.8,
    }
    done = subprocess.run(["node", str(LOAD), json.dumps(job)], check=False, capture_output=True, text=True, timeout=60)
    report: dict[str, Any] = json.loads(done.stdout)
    report["exit"] = done.returncode
    return report


@pytest.mark.parametrize("mode", ["unary", "stream"])
def test_the_load_generator_measures_correct_answers(server: BackgroundServer, mode: str) -> None:
    report = run(server.address, mode, SPECS)
    assert (report["exit"], report["errors"], report["first_error"]) == (0, 0, None)
    assert len(report["latencies_ms"]) > 10
    assert all(ms > 0 for ms in report["latencies_ms"])


@pytest.mark.parametrize("mode", ["unary", "stream"])
def test_the_load_generator_counts_refusals_as_errors(server: BackgroundServer, mode: str) -> None:
    report = run(server.address, mode, [*SPECS, flyte_input(cpu="-1")])
    assert report["errors"] > 0
    expected = "INVALID_ARGUMENT" if mode == "unary" else "item s2: error"
    assert expected in report["first_error"]
