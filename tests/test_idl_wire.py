"""Bytes and proto3 JSON cross between our three implementations and Flyte's.

The same logical message is built four ways (flyteres protobuf, flyteres
betterproto, flyteidl2, flyteidl) and every side must parse every other side's
bytes into an equal message; flyteidl's older GPUAccelerator has no
device_class or accelerator_model and must carry them through as unknown fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import betterproto
import pytest
from flyteidl.core import tasks_pb2 as v1_tasks
from flyteidl2.core import tasks_pb2 as v2_tasks
from google.protobuf import json_format
from google.protobuf.message import Message
from hypothesis import given
from hypothesis import strategies as st

from flyteres_betterproto import v1 as bp
from flyteres_pb.v1 import resources_pb2 as ours

Entry = tuple[int, str]


@dataclass(frozen=True)
class Spec:
    """Implementation-neutral content of a Resources + ExtendedResources pair."""

    requests: tuple[Entry, ...] = ()
    limits: tuple[Entry, ...] = ()
    device: str | None = None  # None: no gpu_accelerator at all
    partition: tuple[str, Any] | None = None  # ("unpartitioned", bool) or ("partition_size", str)
    device_class: int = 0
    model: int = 0
    shm: tuple[str, str, str] | None = None


def build_pb(module: Any, spec: Spec, *, v2_fields: bool = True) -> tuple[Message, Message]:
    def entries(items: tuple[Entry, ...]) -> list[Any]:
        return [module.Resources.ResourceEntry(name=n, value=v) for n, v in items]

    resources = module.Resources(requests=entries(spec.requests), limits=entries(spec.limits))
    extended = module.ExtendedResources()
    if spec.device is not None:
        acc = extended.gpu_accelerator
        acc.device = spec.device
        acc.SetInParent()
        if spec.partition is not None:
            setattr(acc, spec.partition[0], spec.partition[1])
        if v2_fields:
            acc.device_class = spec.device_class
            acc.accelerator_model = spec.model
    if spec.shm is not None:
        extended.shared_memory.SetInParent()
        (
            extended.shared_memory.mount_path,
            extended.shared_memory.mount_name,
            extended.shared_memory.size_limit,
        ) = spec.shm
    return resources, extended


def build_bp(spec: Spec) -> tuple[bp.Resources, bp.ExtendedResources]:
    def entries(items: tuple[Entry, ...]) -> list[bp.ResourcesResourceEntry]:
        return [bp.ResourcesResourceEntry(name=bp.ResourcesResourceName(n), value=v) for n, v in items]

    resources = bp.Resources(requests=entries(spec.requests), limits=entries(spec.limits))
    extended = bp.ExtendedResources()
    if spec.device is not None:
        acc = bp.GpuAccelerator(
            device=spec.device,
            device_class=bp.GpuAcceleratorDeviceClass(spec.device_class),
            accelerator_model=bp.AcceleratorModel(spec.model),
        )
        if spec.partition is not None:
            setattr(acc, spec.partition[0], spec.partition[1])
        extended.gpu_accelerator = acc
    if spec.shm is not None:
        path, name, size = spec.shm
        extended.shared_memory = bp.SharedMemory(mount_path=path, mount_name=name, size_limit=size)
    return resources, extended


def wire(msg: Message) -> bytes:
    return msg.SerializeToString(deterministic=True)


resource_names = st.sampled_from(list(ours.Resources.ResourceName.values()))
entries = st.lists(st.tuples(resource_names, st.text(max_size=12)), max_size=6).map(tuple)
partitions = (
    st.none()
    | st.tuples(st.just("unpartitioned"), st.booleans())
    | st.tuples(st.just("partition_size"), st.text(max_size=10))
)
specs = st.builds(
    Spec,
    requests=entries,
    limits=entries,
    device=st.none() | st.text(max_size=24),
    partition=partitions,
    device_class=st.sampled_from(list(ours.GPUAccelerator.DeviceClass.values())),
    model=st.sampled_from(list(ours.AcceleratorModel.values())),
    shm=st.none() | st.tuples(st.text(max_size=10), st.text(max_size=10), st.text(max_size=8)),
)

ONEOF_CASES = {
    "no partition constraint": Spec(requests=((2, "1"),), device="nvidia-tesla-a100"),
    "unpartitioned": Spec(limits=((2, "2"),), device="nvidia-tesla-a100", partition=("unpartitioned", True)),
    "unpartitioned explicitly false": Spec(device="nvidia-tesla-a100", partition=("unpartitioned", False)),
    "partition size": Spec(requests=((2, "1"),), device="nvidia-tesla-a100", partition=("partition_size", "1g.5gb")),
    "empty partition size": Spec(device="nvidia-tesla-a100", partition=("partition_size", "")),
    "tpu slice with device class": Spec(
        device="tpu-v5-lite-podslice", partition=("partition_size", "2x4"), device_class=1, model=100
    ),
    "shared memory only": Spec(shm=("/dev/shm", "flyte-shm", "")),
    "everything": Spec(
        requests=((1, "500m"), (3, "1Gi"), (2, "1"), (5, "10Gi")),
        limits=((1, "2"), (3, "2Gi"), (2, "1"), (5, "20Gi")),
        device="nvidia-h100",
        partition=("partition_size", "1g.10gb"),
        device_class=0,
        model=13,
        shm=("/dev/shm", "flyte-shared-memory", "2Gi"),
    ),
}


def check_cross_parsing(spec: Spec) -> None:
    res, ext = build_pb(ours, spec)
    res2, ext2 = build_pb(v2_tasks, spec)
    res_bp, ext_bp = build_bp(spec)

    for mine, theirs, betterproto_msg in ((res, res2, res_bp), (ext, ext2, ext_bp)):
        data = wire(mine)
        # Every implementation writes the same bytes for the same content.
        assert wire(theirs) == data
        assert bytes(betterproto_msg) == data
        # And every one parses every other one's bytes into an equal message.
        assert type(theirs).FromString(data) == theirs
        assert type(mine).FromString(wire(theirs)) == mine
        assert type(betterproto_msg)().parse(data) == betterproto_msg
        assert type(mine).FromString(bytes(betterproto_msg)) == mine

    # flyteidl (v1) has no device_class/accelerator_model: it keeps them as
    # unknown fields and writes them back unchanged.
    v1_res, v1_ext = (
        v1_tasks.Resources.FromString(wire(res)),
        v1_tasks.ExtendedResources.FromString(wire(ext)),
    )
    assert wire(v1_res) == wire(res)
    assert wire(v1_ext) == wire(ext)
    expected_v1_res, expected_v1_ext = build_pb(v1_tasks, spec, v2_fields=False)
    assert v1_res == expected_v1_res
    assert v1_ext.gpu_accelerator.device == expected_v1_ext.gpu_accelerator.device
    expected_case = spec.partition[0] if spec.partition and spec.device is not None else None
    assert v1_ext.gpu_accelerator.WhichOneof("partition_size_value") == expected_case
    assert ours.ExtendedResources.FromString(wire(v1_ext)) == ext


def check_json(spec: Spec) -> None:
    for mine, theirs, betterproto_msg in zip(
        build_pb(ours, spec), build_pb(v2_tasks, spec), build_bp(spec), strict=True
    ):
        text = json_format.MessageToJson(mine)
        assert text == json_format.MessageToJson(theirs)
        # JSON parses across too, back to the same bytes.
        assert wire(json_format.Parse(text, type(theirs)())) == wire(mine)
        assert wire(json_format.Parse(json_format.MessageToJson(theirs), type(mine)())) == wire(mine)
        # betterproto's dict form is the proto3 JSON mapping as well.
        assert betterproto_msg.to_dict() == json_format.MessageToDict(mine)


@pytest.mark.parametrize("spec", ONEOF_CASES.values(), ids=ONEOF_CASES.keys())
def test_cross_parsing_table(spec: Spec) -> None:
    check_cross_parsing(spec)


@pytest.mark.parametrize("spec", ONEOF_CASES.values(), ids=ONEOF_CASES.keys())
def test_json_equals_flyteidl2_table(spec: Spec) -> None:
    check_json(spec)


@pytest.mark.parametrize(
    ("spec", "case"),
    [
        (ONEOF_CASES["no partition constraint"], None),
        (ONEOF_CASES["unpartitioned"], "unpartitioned"),
        (ONEOF_CASES["unpartitioned explicitly false"], "unpartitioned"),
        (ONEOF_CASES["partition size"], "partition_size"),
        (ONEOF_CASES["empty partition size"], "partition_size"),
    ],
)
def test_oneof_case_survives_every_parser(spec: Spec, case: str | None) -> None:
    _, ext = build_pb(ours, spec)
    data = wire(ext)
    for module in (ours, v2_tasks, v1_tasks):
        parsed = module.ExtendedResources.FromString(data)
        assert parsed.gpu_accelerator.WhichOneof("partition_size_value") == case
    parsed_bp = bp.ExtendedResources().parse(data)
    assert betterproto.which_one_of(parsed_bp.gpu_accelerator, "partition_size_value")[0] == (case or "")


def test_flyteidl_v1_carries_device_class_through_unchanged() -> None:
    _, ext = build_pb(ours, ONEOF_CASES["tpu slice with device class"])
    data = wire(ext)
    v1 = v1_tasks.ExtendedResources.FromString(data)
    assert not hasattr(v1.gpu_accelerator, "device_class")
    assert v1.gpu_accelerator.partition_size == "2x4"
    back = ours.ExtendedResources.FromString(wire(v1))
    assert back.gpu_accelerator.device_class == ours.GPUAccelerator.GOOGLE_TPU
    assert back.gpu_accelerator.accelerator_model == ours.GOOGLE_TPU_V5E


def test_unknown_enum_numbers_cross_unchanged() -> None:
    # proto3 enums are open: a number from a newer schema must survive.
    res = ours.Resources(requests=[ours.Resources.ResourceEntry(name=42, value="1")])
    ext = ours.ExtendedResources(gpu_accelerator=ours.GPUAccelerator(device="x", device_class=9, accelerator_model=999))
    for msg in (res, ext):
        theirs = getattr(v2_tasks, type(msg).__name__).FromString(wire(msg))
        assert wire(theirs) == wire(msg)
        assert wire(type(msg).FromString(wire(theirs))) == wire(msg)
    assert bytes(bp.ExtendedResources().parse(wire(ext))) == wire(ext)
    assert json_format.MessageToJson(ext) == json_format.MessageToJson(v2_tasks.ExtendedResources.FromString(wire(ext)))


@given(specs)
def test_cross_parsing_property(spec: Spec) -> None:
    check_cross_parsing(spec)


@given(specs)
def test_json_property(spec: Spec) -> None:
    check_json(spec)
