"""to_idl / from_idl: byte-exact with each SDK's serializer, lossless through all three IDLs."""

from __future__ import annotations

from typing import Any

import flyte
import pytest
from flyte._internal.runtime import resources_serde
from flyteidl.core import tasks_pb2 as v1_tasks
from flyteidl2.core import tasks_pb2 as v2_tasks
from flytekit import Resources as R
from flytekit.extras import accelerators as fk
from google.protobuf.message import Message

import flyteres
from flyteres import AcceleratorSpec, Quantity, ResourceSpec, ResourceSpecError, SharedMemorySpec

from .oracle import flytekit_wire

V1_CASES: dict[str, dict[str, Any]] = {
    "burstable with storage": {
        "requests": R(cpu="1", mem="256Mi", ephemeral_storage="1Gi"),
        "limits": R(cpu="2", mem="512Mi", ephemeral_storage="2Gi"),
    },
    "limit-only gpu with MIG": {"limits": R(gpu="1", mem="600Mi"), "accelerator": fk.A100.partition_1g_5gb},
    "unpartitioned with shm": {"requests": R(gpu="2"), "accelerator": fk.A100.unpartitioned, "shared_memory": True},
    "TPU slice and shm size": {"requests": R(gpu="4"), "accelerator": fk.V5P.slice_2x2x2, "shared_memory": "2Gi"},
    "raw device": {"requests": R(gpu="1"), "accelerator": fk.GPUAccelerator("nvidia-rtx-a6000")},
    "resources form": {"resources": R(cpu=("500m", "2"), mem="1Gi", gpu="1")},
}

V2_CASES: dict[str, Any] = {
    "pairs and disk": flyte.Resources(cpu=(1, 2), memory=("1Gi", "2Gi"), disk="10Gi"),
    "MIG and shm": flyte.Resources(gpu=flyte.GPU("H100", 2, "3g.40gb"), shm="auto"),
    "TPU": flyte.Resources(cpu=1.0, gpu=flyte.TPU("V6E", "4x4")),
    "neuron": flyte.Resources(gpu=flyte.Neuron("Trn1")),
    "raw device with class": flyte.Resources(gpu=flyte.Device(quantity=2, device_class="AMD_GPU", device="mi-x")),
    "count only": flyte.Resources(gpu=3, memory="8Gi", shm="4Gi"),
}


def wire(msg: Message | None) -> bytes | None:
    return None if msg is None else msg.SerializeToString()


@pytest.mark.parametrize("kwargs", V1_CASES.values(), ids=V1_CASES.keys())
def test_flyteidl_bytes_equal_flytekits_own(kwargs: dict[str, Any]) -> None:
    res, ext = flyteres.to_idl(flyteres.from_flytekit(**kwargs), "flyteidl")
    assert isinstance(res, v1_tasks.Resources)
    theirs_res, theirs_ext = flytekit_wire(**kwargs)
    assert wire(res) == wire(theirs_res)
    assert wire(ext) == wire(theirs_ext)


@pytest.mark.parametrize("resources", V2_CASES.values(), ids=V2_CASES.keys())
def test_flyteidl2_bytes_equal_flytes_own(resources: Any) -> None:
    res, ext = flyteres.to_idl(flyteres.from_flyte(resources), "flyteidl2")
    assert isinstance(res, v2_tasks.Resources)
    assert wire(res) == wire(resources_serde.get_proto_resources(resources))
    assert wire(ext) == wire(resources_serde.get_proto_extended_resources(resources))


SPECS = {
    "empty": ResourceSpec(),
    "everything": ResourceSpec(
        requests={"cpu": "500m", "memory": "1Gi", "gpu": "1", "ephemeral_storage": "1Gi", "storage": "1Gi"},
        limits={"cpu": "1", "memory": "2Gi", "gpu": "1"},
        accelerator=AcceleratorSpec("nvidia-tesla-a100", partition="3g.20gb", model="NVIDIA_A100"),
        shared_memory=SharedMemorySpec(Quantity.parse("1Gi"), mount_name="custom", mount_path="/shm"),
    ),
    "TPU without class on the flytekit side": ResourceSpec(
        requests={"gpu": "1"}, accelerator=AcceleratorSpec("tpu-v5-lite-podslice", "GOOGLE_TPU", partition="2x2")
    ),
    "TPU sent as an NVIDIA class": ResourceSpec(
        requests={"gpu": "1"}, accelerator=AcceleratorSpec("tpu-v5-lite-podslice", "NVIDIA_GPU")
    ),
    "custom device with its own class": ResourceSpec(
        requests={"gpu": "2"}, accelerator=AcceleratorSpec("my-amd", "AMD_GPU", unpartitioned=True, custom=True)
    ),
    "apple silicon (class 5, unknown to flyteidl2 2.0.51)": ResourceSpec(
        requests={"gpu": "1"}, accelerator=AcceleratorSpec("AppleSilicon", "APPLE_SILICON")
    ),
    "shared memory without size": ResourceSpec(shared_memory=SharedMemorySpec(mount_name="flyte-shm")),
}


@pytest.mark.parametrize("target", ["flyteres", "flyteidl", "flyteidl2"])
@pytest.mark.parametrize("spec", SPECS.values(), ids=SPECS.keys())
def test_from_idl_of_to_idl_is_the_spec(spec: ResourceSpec, target: str) -> None:
    res, ext = flyteres.to_idl(spec, target)  # type: ignore[arg-type]
    assert flyteres.from_idl(res, ext) == spec
    # Bytes too; flyteidl bytes need to be named as such to infer the device class.
    source = "flyteidl" if target == "flyteidl" else "auto"
    assert flyteres.from_idl(wire(res), wire(ext), source=source) == spec  # type: ignore[arg-type]


def test_flytekit_tpu_bytes_carry_no_device_class_and_read_back_as_tpu() -> None:
    spec = SPECS["TPU without class on the flytekit side"]
    _, ext = flyteres.to_idl(spec, "flyteidl")
    assert ext is not None
    # Exactly flytekit's bytes: no field 4.
    assert wire(ext) == wire(flytekit_wire(requests=R(gpu="1"), accelerator=fk.V5E.slice_2x2)[1])
    # Read as flyteidl2 bytes the class is the proto default, NVIDIA_GPU.
    assert flyteres.from_idl(None, wire(ext)).accelerator == AcceleratorSpec("tpu-v5-lite-podslice", partition="2x2")


def test_explicit_class_travels_through_flyteidl_as_an_unknown_field() -> None:
    _, ext = flyteres.to_idl(SPECS["TPU sent as an NVIDIA class"], "flyteidl")
    assert ext is not None
    assert wire(ext) is not None
    assert wire(ext).endswith(b"\x20\x00")  # type: ignore[union-attr]
    # A v1 parser keeps it, and flyteidl2 reads the class.
    v2 = v2_tasks.ExtendedResources.FromString(wire(v1_tasks.ExtendedResources.FromString(wire(ext))))  # type: ignore[arg-type]
    assert v2.gpu_accelerator.device_class == v2_tasks.GPUAccelerator.NVIDIA_GPU


@pytest.mark.parametrize(
    ("resources", "field", "message"),
    [
        (v2_tasks.Resources(requests=[v2_tasks.Resources.ResourceEntry(name=0, value="1")]), "name", "UNKNOWN"),
        (
            v2_tasks.Resources(
                limits=[
                    v2_tasks.Resources.ResourceEntry(name=1, value="1"),
                    v2_tasks.Resources.ResourceEntry(name=1, value="2"),
                ]
            ),
            "resources.limits[1].name",
            "appears twice",
        ),
        (
            v1_tasks.Resources(requests=[v1_tasks.Resources.ResourceEntry(name=3, value="1 Gi")]),
            "resources.requests[0].value",
            "whitespace",
        ),
        (b"\xff\xff\xff", "resources", "not a valid Resources message"),
        (v2_tasks.SharedMemory(), "resources", "must be a Resources message"),
        ("CPU=1", "resources", "must be a protobuf message or bytes"),
    ],
)
def test_from_idl_rejects_bad_input_naming_the_field(resources: Any, field: str, message: str) -> None:
    with pytest.raises(ResourceSpecError) as info:
        flyteres.from_idl(resources)
    assert field in info.value.field
    assert message in str(info.value)


def test_from_idl_validates_the_accelerator() -> None:
    ext = v2_tasks.ExtendedResources(
        gpu_accelerator=v2_tasks.GPUAccelerator(device="nvidia-tesla-a100", partition_size="8g.99gb")
    )
    with pytest.raises(ResourceSpecError, match=r"accelerator\.partition"):
        flyteres.from_idl(None, ext)


def test_unknown_device_from_the_wire_is_read_as_custom() -> None:
    ext = v2_tasks.ExtendedResources(gpu_accelerator=v2_tasks.GPUAccelerator(device="vendor-x", partition_size="p1"))
    spec = flyteres.from_idl(None, ext)
    assert spec.accelerator == AcceleratorSpec("vendor-x", partition="p1", custom=True)
