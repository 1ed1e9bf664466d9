"""Benchmark: the gRPC service against the same conversions done in-process.

Run with ``.venv/bin/python benchmarks/service.py``. It

1. times the conversion path in-process, single-threaded: decode a
   ConvertRequest, convert (library + message mapping), encode the
   ConvertResponse; this is the ceiling, in calls/s;
2. starts ``python -m flyteres.service`` on 127.0.0.1 (a free port) as a
   subprocess, with its default settings (one JSON log line per call);
3. drives it over loopback from CLIENTS separate processes, each keeping
   IN_FLIGHT calls outstanding (asyncio), 64 in flight in all, for DURATION
   seconds after a warm-up: once with unary ``Convert`` calls, once with
   ``ConvertBatch`` streams (one stream per in-flight slot, one item at a time);
4. prints calls/s, p50 and p99 latency, the ratio to the in-process rate, and
   PASS/MISS against the targets (>= 50% of the in-process rate, p99 < 20 ms).

The requests cycle through specs shaped like real tasks (flytekit and flyte
inputs, every output form). Client processes, server and ceiling share this
machine's cores, so the load generator's own CPU counts against the service.
It is a report: a miss does not change the exit status. Bounded: about 30 s.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import grpc

from flyteres.service import _convert
from flyteres.service._client import flyte_input, flytekit_input
from flyteres_pb.v1 import service_pb2 as pb

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 2
IN_FLIGHT = 32
DURATION = 5.0
WARM_UP = 1.0
CEILING_SECONDS = 3.0
TARGET_RATIO = 0.5
TARGET_P99_MS = 20.0
METHOD = "/flyteres.v1.ResourceService/"


def workload() -> list[Any]:
    """Spec inputs shaped like the patterns real tasks use most."""
    return [
        flytekit_input(requests={"cpu": "1", "mem": "2Gi"}, limits={"cpu": "2", "mem": "4Gi"}),
        flytekit_input(requests={"cpu": "4", "mem": "16Gi", "gpu": "1"}, accelerator="A100.partition_1g_5gb"),
        flytekit_input(resources={"cpu": ("500m", "1"), "mem": "1Gi"}, shared_memory=True),
        flytekit_input(limits={"mem": "600Mi", "gpu": "1"}, accelerator="T4"),
        flyte_input(cpu=("1", "2"), memory="4Gi", gpu="A100:1", shm="auto"),
        flyte_input(cpu="2", memory=("8Gi", "16Gi"), disk="50Gi"),
        flyte_input(cpu="8", memory="32Gi", gpu="H100:8"),
        flyte_input(cpu="500m", memory="512Mi"),
    ]


def request_bytes() -> list[bytes]:
    return [pb.ConvertRequest(input=spec).SerializeToString() for spec in workload()]


def batch_bytes() -> list[bytes]:
    return [pb.ConvertBatchRequest(id=str(i), input=s).SerializeToString() for i, s in enumerate(workload())]


def in_process_rate() -> float:
    """Calls/s of decode → convert → encode on one thread, best of three runs."""
    requests = request_bytes()
    for data in requests:  # warm the SDK imports and the quantity memo
        _convert.convert(pb.ConvertRequest.FromString(data))
    best = 0.0
    for _ in range(3):
        count, end = 0, time.perf_counter() + CEILING_SECONDS / 3
        start = time.perf_counter()
        while time.perf_counter() < end:
            for data in requests:
                _convert.convert(pb.ConvertRequest.FromString(data)).SerializeToString()
            count += len(requests)
        best = max(best, count / (time.perf_counter() - start))
    return best


# -- load generator (runs in each client process) --------------------------------------------------


async def _drive(address: str, mode: str, payloads: list[bytes], start_at: float) -> list[float]:
    latencies: list[float] = []
    async with grpc.aio.insecure_channel(address) as channel:
        await channel.channel_ready()
        measure_from, end = start_at + WARM_UP, start_at + WARM_UP + DURATION
        await asyncio.sleep(max(0.0, start_at - time.time()))

        async def unary(slot: int) -> None:
            call = channel.unary_unary(METHOD + "Convert")
            i = slot
            while time.time() < end:
                t0 = time.perf_counter()
                await call(payloads[i % len(payloads)], timeout=10)
                if time.time() >= measure_from:
                    latencies.append(time.perf_counter() - t0)
                i += 1

        async def stream(slot: int) -> None:
            call = channel.stream_stream(METHOD + "ConvertBatch")(timeout=DURATION + WARM_UP + 10)
            i = slot
            while time.time() < end:
                t0 = time.perf_counter()
                await call.write(payloads[i % len(payloads)])
                await call.read()
                if time.time() >= measure_from:
                    latencies.append(time.perf_counter() - t0)
                i += 1
            await call.done_writing()

        worker = unary if mode == "unary" else stream
        await asyncio.gather(*(worker(slot) for slot in range(IN_FLIGHT)))
    return latencies


def _client(address: str, mode: str, payloads: list[bytes], start_at: float, out: Any) -> None:
    out.put(asyncio.run(_drive(address, mode, payloads, start_at)))


def load(address: str, mode: str) -> tuple[float, float, float]:
    """(calls/s, p50 ms, p99 ms) of CLIENTS processes x IN_FLIGHT calls."""
    payloads = request_bytes() if mode == "unary" else batch_bytes()
    ctx = mp.get_context("spawn")  # grpc must not be forked
    out = ctx.Queue()
    start_at = time.time() + 2.0  # every process connected and waiting by then
    procs = [ctx.Process(target=_client, args=(address, mode, payloads, start_at, out)) for _ in range(CLIENTS)]
    for p in procs:
        p.start()
    latencies = [x for _ in procs for x in out.get(timeout=DURATION + WARM_UP + 60)]
    for p in procs:
        p.join(timeout=30)
    latencies.sort()
    n = len(latencies)
    return n / DURATION, latencies[n // 2] * 1000, latencies[min(n - 1, int(n * 0.99))] * 1000


# -- the report ------------------------------------------------------------------------------------


def start_server() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "flyteres.service", "--address", "127.0.0.1:0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("listening on "):
        proc.kill()
        raise SystemExit(f"the server did not start: {line!r}")
    return proc, line.split()[-1]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def check(ratio: float, p99: float) -> str:
    return (
        f"ratio>={TARGET_RATIO:.0%} {verdict(ratio >= TARGET_RATIO)}, "
        f"p99<{TARGET_P99_MS:.0f}ms {verdict(p99 < TARGET_P99_MS)}"
    )


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux /proc), or None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    print(f"machine: {os.cpu_count()} CPUs; {CLIENTS} client processes x {IN_FLIGHT} in flight, {DURATION:.0f} s each")
    ceiling = in_process_rate()
    print(f"in-process (decode, convert to every form, encode): {ceiling:,.0f} calls/s")
    proc, address = start_server()
    results: dict[str, tuple[float, float, float]] = {}
    server_cpu: dict[str, str] = {}
    try:
        for mode in ("unary", "stream"):
            before, t0 = cpu_seconds(proc.pid), time.perf_counter()
            results[mode] = load(address, mode)
            after, elapsed = cpu_seconds(proc.pid), time.perf_counter() - t0
            server_cpu[mode] = "?" if before is None or after is None else f"{(after - before) / elapsed:.2f}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    label = {"unary": "Convert (unary)", "stream": "ConvertBatch (streams)"}
    print(f"{'mode':<24}{'calls/s':>9}{'p50 ms':>8}{'p99 ms':>8}{'ratio':>7}{'server CPUs':>13}   targets")
    for mode, (rate, p50, p99) in results.items():
        ratio = rate / ceiling
        cells = f"{rate:>9,.0f}{p50:>8.1f}{p99:>8.1f}{ratio:>7.0%}{server_cpu[mode]:>13}"
        print(f"{label[mode]:<24}{cells}   {check(ratio, p99)}")
    mode, (rate, _, p99) = max(results.items(), key=lambda item: item[1][0])
    print(f"overall (best mode, {label[mode]}): {check(rate / ceiling, p99)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
