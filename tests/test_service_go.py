"""Go consumers of the IDL: buf (a Go program) decodes every golden vector with
proto/ and prints the vector's JSON, and `buf curl` calls the running Python
service through server reflection."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flyte
import pytest
from google.protobuf import json_format

import flyteres
from flyteres.convert.idl import to_idl_spec
from flyteres.service import BackgroundServer, ServerConfig
from flyteres_pb.v1.resources_pb2 import ExtendedResources

# Regenerates code, runs buf or node: part of make test, not of make check's fast loop.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
BUF = Path(sys.executable).parent / "buf"
VECTORS = ROOT / "tests" / "vectors"
INDEX = json.loads((VECTORS / "index.json").read_text(encoding="utf-8"))["vectors"]
MESSAGES = [(v["name"], kind, files) for v in INDEX for kind, files in v["messages"].items()]


def buf(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BUF), *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)


def test_buf_decodes_every_vector_to_its_json() -> None:
    # One buf process per message costs ~0.1 s each; they run in parallel.
    procs = {
        (name, kind): subprocess.Popen(
            [
                *(str(BUF), "convert", ".", "--type", files["type"]),
                *("--from", f"{VECTORS / files['binary']}#format=binpb", "--to", "-#format=json"),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, kind, files in MESSAGES
    }
    assert len(procs) >= 20
    for (name, kind), proc in procs.items():
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, f"{name} {kind}: {err}"
        files = next(v["messages"][kind] for v in INDEX if v["name"] == name)
        expected = json.loads((VECTORS / files["json"]).read_text(encoding="utf-8"))
        assert json.loads(out or "{}") == expected, f"{name} {kind}"


def test_buf_encodes_the_json_to_an_equal_message(tmp_path: Path) -> None:
    files = next(v["messages"]["extended_resources"] for v in INDEX if v["name"] == "everything")
    out = tmp_path / "out.bin"
    result = buf(
        "convert", ".", "--type", files["type"],
        "--from", f"{VECTORS / files['json']}#format=json", "--to", f"{out}#format=binpb",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    # Equal as messages, not as bytes: Go's encoder writes oneof members after
    # the other fields (accelerator_model before partition_size), Python and
    # TypeScript in field-number order. Both are valid encodings.
    expected = (VECTORS / files["binary"]).read_bytes()
    assert ExtendedResources.FromString(out.read_bytes()) == ExtendedResources.FromString(expected)


@pytest.fixture(scope="module")
def server() -> Iterator[BackgroundServer]:
    with BackgroundServer("127.0.0.1:0", ServerConfig(log_calls=False)) as running:
        yield running


def curl(
    server: BackgroundServer, method: str, body: dict[str, Any], *reflect: str
) -> subprocess.CompletedProcess[str]:
    return buf(
        "curl", "--protocol", "grpc", "--http2-prior-knowledge", "--reflect", *reflect,
        f"http://{server.address}/flyteres.v2.ResourceService/{method}", "-d", json.dumps(body),
    )  # fmt: skip


def test_buf_curl_converts_through_reflection(server: BackgroundServer) -> None:
    body = {
        "input": {"flyte": {"cpu": {"request": "1", "limit": "2"}, "gpuAccelerator": "A100:1", "shm": "auto"}},
        "options": {"outputs": ["OUTPUT_FORM_FLYTEIDL2", "OUTPUT_FORM_KUBERNETES", "OUTPUT_FORM_FLYTEKIT_SOURCE"]},
    }
    result = curl(server, "Convert", body)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    spec = flyteres.from_flyte(flyte.Resources(cpu=("1", "2"), gpu="A100:1", shm="auto"))
    assert answer["spec"] == json_format.MessageToDict(to_idl_spec(spec))
    res, ext = flyteres.to_idl(spec, "flyteidl2")
    assert answer["flyteidl2"]["resources"] == json_format.MessageToDict(res)
    assert answer["flyteidl2"]["extendedResources"] == json_format.MessageToDict(ext)
    assert answer["kubernetes"]["value"] == flyteres.to_k8s(spec)
    assert answer["flytekit"]["source"] == (
        "requests=Resources(cpu='1', gpu='1'), limits=Resources(cpu='2'), accelerator=A100, shared_memory=True"
    )
    assert "flyte" not in answer


def test_buf_curl_sees_invalid_argument_with_bad_request(server: BackgroundServer) -> None:
    result = curl(server, "Convert", {"input": {"flytekit": {"requests": {"cpu": "-1"}}}})
    assert result.returncode != 0
    error = json.loads(result.stderr)
    assert error["code"] == "invalid_argument"
    assert "input.flytekit.requests.cpu" in error["message"]
    assert [d["type"] for d in error["details"]] == ["google.rpc.BadRequest"]


def test_buf_curl_lists_accelerators(server: BackgroundServer) -> None:
    result = curl(server, "ListAccelerators", {"deviceClass": "DEVICE_CLASS_GOOGLE_TPU"})
    assert result.returncode == 0, result.stderr
    names = [a["name"] for a in json.loads(result.stdout)["accelerators"]]
    assert names == ["V5E", "V5P", "V6E"]


@pytest.mark.parametrize("protocol", ["grpc-v1", "grpc-v1alpha"])
def test_buf_curl_reflects_with_either_protocol(server: BackgroundServer, protocol: str) -> None:
    result = curl(server, "ResolveAccelerator", {"spelling": "nvidia-tesla-h100"}, "--reflect-protocol", protocol)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["accelerator"]["name"] == "H100"
