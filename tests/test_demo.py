"""`flyteres demo` shows each example in three forms and flyteidl2 agrees with every one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from google.protobuf import json_format

from flyteres.cli.demo import examples, render
from flyteres_pb.v1 import resources_pb2

BIN = Path(sys.executable).parent


def test_demo_cli_prints_every_example_and_flyteidl2_agrees() -> None:
    result = subprocess.run([BIN / "flyteres", "demo"], capture_output=True, text=True, check=True)
    out = result.stdout
    assert out.count("flyteidl2.core.") == sum(2 if e.extended else 1 for e in examples())
    assert "DIFFERENT" not in out
    assert out.count("same JSON") == out.count("flyteidl2.core.")


def test_demo_bytes_decode_back_to_the_example() -> None:
    lines = list(render())
    for example in examples():
        data = example.resources.SerializeToString(deterministic=True)
        hex_line = next(line for line in lines if line.strip() == f"bytes ({len(data)}): {data.hex(' ')}")
        decoded = resources_pb2.Resources.FromString(bytes.fromhex(hex_line.split(": ", 1)[1]))
        assert json_format.MessageToDict(decoded) == json_format.MessageToDict(example.resources)


def test_version_flag() -> None:
    result = subprocess.run([BIN / "flyteres", "--version"], capture_output=True, text=True, check=True)
    assert result.stdout.startswith("flyteres ")


def test_demo_converts_real_declarations_and_shows_what_blocks() -> None:
    out = "\n".join(render())
    assert "@task(limits=Resources(mem='600Mi'))" in out
    assert "kubernetes: flyte.Resources(memory=('600Mi', '600Mi'))" in out
    # The exact H100 label survives, and whole-device A100s are refused loudly.
    assert "device='nvidia-h100'" in out
    assert "LOSSY [unpartitioned] accelerator.unpartitioned" in out
    # Every printed Flyte 2 value is real flyte code that flyte accepts.
    import flyte  # noqa: PLC0415 - the demo itself does not need flyte

    for line in out.splitlines():
        _, sep, code = line.partition(": flyte.Resources(")
        if sep:
            assert isinstance(eval("flyte.Resources(" + code, {"flyte": flyte}), flyte.Resources)  # noqa: S307
