"""The golden wire vectors in tests/vectors/: current with scripts/vectors.py,
made by the library from their specs, and the same bytes for flyteidl2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from google.protobuf import json_format
from google.protobuf.message import Message

import flyteres
from flyteres import ResourceSpec
from flyteres_pb.v1 import resources_pb2
from tests.modules import import_file

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT / "tests" / "vectors"
INDEX = json.loads((VECTORS / "index.json").read_text(encoding="utf-8"))["vectors"]
TYPES: dict[str, Any] = {
    "flyteres.v1.Resources": resources_pb2.Resources,
    "flyteres.v1.ExtendedResources": resources_pb2.ExtendedResources,
}


def load_script() -> ModuleType:
    return import_file(ROOT / "scripts" / "vectors.py", "flyteres_vectors_script")


def test_vectors_are_current() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/vectors.py", "--check"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_changed_vector_fails_the_check_and_says_what_to_run(tmp_path: Path) -> None:
    script = load_script()
    copy = tmp_path / "vectors"
    script.write(copy)
    (copy / "everything.resources.bin").write_bytes(b"\x00")
    (copy / "stray.bin").write_bytes(b"")
    result = subprocess.run(
        [sys.executable, "scripts/vectors.py", "--check", "--dir", str(copy)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "differs: tests/vectors/everything.resources.bin" in result.stdout
    assert "not produced by scripts/vectors.py: tests/vectors/stray.bin" in result.stdout
    assert "run `make vectors`" in result.stdout


def test_generation_is_deterministic(tmp_path: Path) -> None:
    script = load_script()
    script.write(tmp_path / "a")
    script.write(tmp_path / "b")
    assert script.diff(tmp_path / "a", tmp_path / "b") == []


def test_vectors_cover_every_field_and_oneof_case() -> None:
    seen: set[str] = set()
    for vector in INDEX:
        for files in vector["messages"].values():
            message = TYPES[files["type"]].FromString((VECTORS / files["binary"]).read_bytes())
            seen |= _set_fields(message)
    expected = {
        "Resources.requests", "Resources.limits", "ResourceEntry.name", "ResourceEntry.value",
        "ExtendedResources.gpu_accelerator", "ExtendedResources.shared_memory",
        "GPUAccelerator.device", "GPUAccelerator.unpartitioned", "GPUAccelerator.partition_size",
        "GPUAccelerator.device_class", "GPUAccelerator.accelerator_model",
        "SharedMemory.mount_path", "SharedMemory.mount_name", "SharedMemory.size_limit",
    }  # fmt: skip
    assert expected <= seen
    classes = {
        resources_pb2.ExtendedResources.FromString(
            (VECTORS / v["messages"]["extended_resources"]["binary"]).read_bytes()
        ).gpu_accelerator.device_class
        for v in INDEX
        if "extended_resources" in v["messages"]
    }
    assert set(resources_pb2.GPUAccelerator.DeviceClass.values()) | {5} <= classes
    names = {e.name for v in INDEX for e in _entries(v)}
    assert set(resources_pb2.Resources.ResourceName.values()) - {0} <= names


def _entries(vector: dict[str, Any]) -> list[Any]:
    res = resources_pb2.Resources.FromString((VECTORS / vector["messages"]["resources"]["binary"]).read_bytes())
    return [*res.requests, *res.limits]


def _set_fields(message: Any) -> set[str]:
    out: set[str] = set()
    for field, value in message.ListFields():
        out.add(f"{message.DESCRIPTOR.name}.{field.name}")
        # Not field.is_repeated: it only exists from protobuf 6.31, and make compat runs this on 6.30.
        children = [value] if isinstance(value, (Message, str, bytes, int, float)) else value
        for child in children:
            if field.message_type is not None:
                out |= _set_fields(child)
    return out


@pytest.mark.parametrize("vector", INDEX, ids=[v["name"] for v in INDEX])
def test_each_spec_converts_to_its_vector(vector: dict[str, Any]) -> None:
    spec = ResourceSpec.from_json((VECTORS / vector["spec"]).read_text(encoding="utf-8"))
    for target in ("flyteres", "flyteidl2"):
        res, ext = flyteres.to_idl(spec, target)  # type: ignore[arg-type]
        got = {"resources": res, "extended_resources": ext}
        assert set(vector["messages"]) == {k for k, v in got.items() if v is not None}
        for kind, files in vector["messages"].items():
            message = got[kind]
            assert message is not None
            assert message.SerializeToString() == (VECTORS / files["binary"]).read_bytes(), (target, kind)
            on_disk = json.loads((VECTORS / files["json"]).read_text(encoding="utf-8"))
            assert json_format.MessageToDict(message) == on_disk
    # And the bytes read back to the spec.
    messages = {k: (VECTORS / f["binary"]).read_bytes() for k, f in vector["messages"].items()}
    assert flyteres.from_idl(messages["resources"], messages.get("extended_resources")) == spec
