"""`flyteres convert` end to end: exit codes, findings on stderr, every output form."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from hypothesis import given, settings
from hypothesis import strategies as st

import flyteres
from flyteres import FlyteresError
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


# Issue 17, "CLI and library": bad input exits 2 with one short line, never a traceback with exit 1
# (which the help defines as "lossy"), and never a line that copies the input.
def run_bytes(*args: str, stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([str(FLYTERES_BIN), "convert", *args], input=stdin, capture_output=True, check=False)


def assert_one_short_line(result: subprocess.CompletedProcess[bytes], *needles: str) -> None:
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2, stderr[-2000:]
    assert "Traceback" not in stderr
    assert stderr.count("\n") == 1, stderr[:2000]
    assert len(stderr) <= 500, stderr[:2000]
    assert stderr.startswith("error: ")
    for needle in needles:
        assert needle in stderr, stderr


BAD_STDIN = {
    "binary": (b"\xff\xfe\x00\x01" * 64, ("not UTF-8",)),
    "a 5,000-digit integer": (b'{"requests": {"cpu": ' + b"9" * 5000 + b"}}", ("digits",)),
    "JSON nested 100,000 deep": (b"[" * 100_000 + b"]" * 100_000, ("nested",)),
    "a value nested 100,000 deep": (b'{"requests": {"cpu": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}", ()),
    "an 800 KB array": (b"[" + b'"x",' * 200_000 + b'"x"]', ("spec",)),
    "an 800 KB string": (b'{"requests": {"cpu": "' + b"x" * 800_000 + b'"}}', ("requests.cpu",)),
    "20 MB of input": (b'{"requests": {"cpu": "' + b"1" * 20_000_000 + b'"}}', ("larger than",)),
    "an 800 KB key": (b'{"' + b"k" * 800_000 + b'": 1}', ("spec",)),
    "idl with a huge unknown field": (b'{"resources": {"' + b"z" * 800_000 + b'": 1}}', ("input",)),
}


@pytest.mark.parametrize(("stdin", "needles"), BAD_STDIN.values(), ids=BAD_STDIN.keys())
def test_bad_input_on_stdin_exits_2_with_one_short_line(stdin: bytes, needles: tuple[str, ...]) -> None:
    form = ("--from", "idl") if b'"resources"' in stdin[:20] else ("--from", "spec")
    assert_one_short_line(run_bytes(*form, stdin=stdin), *needles)


def test_a_binary_file_exits_2_with_one_short_line(tmp_path: Path) -> None:
    path = tmp_path / "spec.bin"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    assert_one_short_line(run_bytes(str(path), stdin=b""), "not UTF-8", "spec.bin")


def test_a_missing_file_exits_2_with_one_short_line(tmp_path: Path) -> None:
    assert_one_short_line(run_bytes(str(tmp_path / "missing.json"), stdin=b""), "missing.json")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
documents = json_values | st.fixed_dictionaries(
    {},
    optional=dict.fromkeys(
        ("requests", "limits", "resources", "accelerator", "shared_memory", "extendedResources"), json_values
    ),
)


@settings(max_examples=400, deadline=None)
@given(documents, st.sampled_from(list(Input)))
def test_any_json_document_is_read_or_refused_as_input(document: Any, source: Input) -> None:
    # Read, or refused with the library's own input error (the command's exit 2); nothing else.
    with contextlib.suppress(FlyteresError):
        read(json.dumps(document), source)
