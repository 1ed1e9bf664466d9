"""`flyteres convert` end to end: exit codes, findings on stderr, every output form."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from google.protobuf import json_format

import flyteres
from flyteres.cli.convert import Input, Output, read, write
from flyteres.core.options import DeviceLabels, Policy
from flyteres_pb.v1 import resources_pb2

FLYTERES_BIN = Path(sys.executable).parent / "flyteres"


def run(*args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(FLYTERES_BIN), "convert", *args], input=stdin, capture_output=True, text=True, check=False
    )


V1 = json.dumps({"limits": {"gpu": "1", "mem": "600Mi"}, "accelerator": "A100.partition_1g_5gb", "shared_memory": True})


def test_flytekit_to_flyte_under_kubernetes_policy() -> None:
    result = run("--from", "flytekit", "--policy", "kubernetes", stdin=V1)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "flyte.Resources(memory=('600Mi', '600Mi'), gpu=flyte.GPU('A100', 1, '1g.5gb'), shm='auto')"
    )
    assert "[limit-without-request] limits.memory = 600Mi" in result.stderr
    assert "LOSSY" not in result.stderr


def test_lossy_under_strict_exits_1_and_writes_nothing() -> None:
    result = run("--from", "flytekit", stdin=V1)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "LOSSY: [limit-without-request]" in result.stderr


@pytest.mark.parametrize(
    ("stdin", "args", "message"),
    [
        ("{", ("--from", "spec"), "not valid JSON"),
        ('{"requests": {"cpu": "1 core"}}', (), "requests.cpu"),
        ('{"requests": {"cpu": "1"}}', ("--to", "yaml"), "--to 'yaml'"),
        ('{"limits": {"mem": "1Gi"}, "tolerations": []}', ("--from", "flytekit"), "unknown keys"),
    ],
)
def test_invalid_input_exits_2_with_the_reason(stdin: str, args: tuple[str, ...], message: str) -> None:
    result = run(*args, stdin=stdin)
    assert result.returncode == 2
    assert message in result.stderr


def test_idl_json_round_trip_through_the_cli() -> None:
    spec = flyteres.ResourceSpec(
        requests={"cpu": "500m", "gpu": "1"},
        accelerator=flyteres.AcceleratorSpec("tpu-v5p-slice", "GOOGLE_TPU", partition="2x2x1"),
    )
    out = run("--from", "spec", "--to", "flyteidl2", stdin=spec.to_json())
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    ext = json_format.ParseDict(doc["extendedResources"], resources_pb2.ExtendedResources())
    assert ext.gpu_accelerator.device_class == resources_pb2.GPUAccelerator.GOOGLE_TPU
    back = run("--from", "idl", "--to", "spec", stdin=out.stdout)
    assert flyteres.ResourceSpec.from_json(back.stdout) == spec


def test_flytekit_source_and_k8s_outputs() -> None:
    spec = '{"requests": {"cpu": "1", "gpu": "2"}, "accelerator": {"device": "nvidia-h100"}}'
    kit = run("--to", "flytekit", stdin=spec)
    assert kit.stdout.strip() == "requests=Resources(cpu='1', gpu='2'), accelerator=H100"
    k8s = json.loads(run("--to", "k8s", stdin=spec).stdout)
    assert k8s["resources"]["limits"] == {"cpu": "1", "nvidia.com/gpu": "2"}


@pytest.mark.parametrize("target", list(Output), ids=[o.value for o in Output])
def test_every_output_form_reads_back_the_same_spec(target: Output) -> None:
    text = '{"requests": {"cpu": "1", "gpu": "2"}, "accelerator": {"device": "nvidia-h100"}}'
    spec = read(text, Input.SPEC)
    result = write(spec, target, policy=Policy.STRICT, device_labels=DeviceLabels.KEEP)
    assert not result.lossy
    match target:
        case Output.SPEC:
            assert read(result.value, Input.SPEC) == spec
        case Output.FLYTEIDL | Output.FLYTEIDL2:
            assert read(result.value, Input.IDL) == spec
        case _:
            assert "cpu='1'" in result.value or '"cpu": "1"' in result.value
