"""ResourceSpec: validation names the field and value; equality keeps the user's text."""

from __future__ import annotations

import json

import pytest

from flyteres import AcceleratorSpec, Quantity, Resource, ResourceSpec, ResourceSpecError, SharedMemorySpec


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"requests": {"cpu": "-1"}}, "requests.cpu", "must not be negative"),
        ({"limits": {"memory": "-1Gi"}}, "limits.memory", "must not be negative"),
        ({"requests": {"cpu": True}}, "requests.cpu", "a boolean is not a quantity"),
        ({"requests": {"memory": "1GB"}}, "requests.memory", "unknown suffix 'GB'"),
        ({"requests": {"cpu": "2"}, "limits": {"cpu": "1500m"}}, "requests.cpu", "greater than the limit '1500m'"),
        ({"requests": {"memory": "2Gi"}, "limits": {"memory": "2000Mi"}}, "requests.memory", "greater than the limit"),
        ({"requests": {"gpu": "1"}, "limits": {"gpu": "2"}}, "limits.gpu", "request == limit"),
        ({"requests": {"gpu": "500m"}}, "requests.gpu", "whole number"),
        ({"requests": {"disk_space": "1Gi"}}, "resource", "not a resource name"),
        ({"requests": {"mem": "1Gi", "memory": "2Gi"}}, "requests.memory", "given twice"),
        (
            {"limits": {"memory": "1Gi"}, "shared_memory": SharedMemorySpec(Quantity.parse("2Gi"))},
            "shared_memory.size_limit",
            "larger than the memory limit '1Gi'",
        ),
    ],
)
def test_invalid_specs_name_field_and_value(kwargs: dict[str, object], field: str, message: str) -> None:
    with pytest.raises(ResourceSpecError) as info:
        ResourceSpec(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"device": "nvidia-tesla-zz"}, "accelerator.device", "unknown accelerator 'nvidia-tesla-zz'"),
        ({"device": "nvidia-tesla-a100", "partition": "9g.99gb"}, "accelerator.partition", "'1g.5gb'"),
        ({"device": "nvidia-tesla-t4", "partition": "1g.5gb"}, "accelerator.partition", "cannot be partitioned"),
        ({"device": "tpu-v5-lite-podslice", "partition": "3x3"}, "accelerator.partition", "'2x2'"),
        (
            {"device": "nvidia-tesla-a100", "partition": "1g.5gb", "unpartitioned": True},
            "accelerator.partition",
            "exclude each other",
        ),
        ({"device": "nvidia-tesla-t4", "device_class": "GPU"}, "accelerator.device_class", "NVIDIA_GPU"),
        ({"device": ""}, "accelerator.device", "non-empty"),
    ],
)
def test_invalid_accelerators(kwargs: dict[str, object], field: str, message: str) -> None:
    with pytest.raises(ResourceSpecError) as info:
        AcceleratorSpec(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field
    assert message in str(info.value)


def test_custom_devices_only_when_asked() -> None:
    assert AcceleratorSpec("my-fpga", custom=True, partition="anything").partition == "anything"
    with pytest.raises(ResourceSpecError, match="custom=True"):
        AcceleratorSpec("my-fpga")


def test_every_catalog_spelling_of_the_device_string_is_accepted() -> None:
    # Both SDKs' labels for the same device are known devices.
    assert AcceleratorSpec("nvidia-h100").device == "nvidia-h100"
    assert AcceleratorSpec("nvidia-tesla-h100").device == "nvidia-tesla-h100"


def test_equality_keeps_the_text_and_equivalent_compares_values() -> None:
    a = ResourceSpec(requests={"memory": "1Gi"})
    b = ResourceSpec(requests={"memory": "1024Mi"})
    assert a != b
    assert a.equivalent(b)
    assert a == ResourceSpec(requests={"mem": "1Gi"})
    assert hash(a) == hash(ResourceSpec(requests={Resource.MEMORY: Quantity.parse("1Gi")}))
    assert not a.equivalent(ResourceSpec(limits={"memory": "1Gi"}))


def test_dict_and_json_round_trip_every_field() -> None:
    spec = ResourceSpec(
        requests={"cpu": "500m", "memory": "1.5Gi", "gpu": "2", "ephemeral_storage": "10Gi"},
        limits={"cpu": "2", "memory": "2Gi", "gpu": "2"},
        accelerator=AcceleratorSpec("tpu-v5p-slice", "GOOGLE_TPU", partition="2x2x1", model="GOOGLE_TPU_V5P"),
        shared_memory=SharedMemorySpec(Quantity.parse("1Gi"), mount_name="flyte-shm"),
    )
    assert ResourceSpec.from_dict(spec.to_dict()) == spec
    assert ResourceSpec.from_json(spec.to_json()) == spec
    assert json.loads(spec.to_json())["requests"]["memory"] == "1.5Gi"
    assert spec.to_dict()["accelerator"] == {
        "device": "tpu-v5p-slice",
        "device_class": "GOOGLE_TPU",
        "partition": "2x2x1",
        "model": "GOOGLE_TPU_V5P",
    }


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"requests": {"cpu": "1"}, "limit": {}}, "spec"),
        ({"accelerator": {"device": "nvidia-tesla-t4", "size": 1}}, "accelerator"),
        ({"shared_memory": "auto"}, "shared_memory"),
        ({"requests": ["cpu", "1"]}, "requests"),
    ],
)
def test_from_dict_rejects_unknown_or_malformed_keys(data: dict[str, object], field: str) -> None:
    with pytest.raises(ResourceSpecError) as info:
        ResourceSpec.from_dict(data)
    assert info.value.field == field


def test_from_json_reports_bad_json() -> None:
    with pytest.raises(ResourceSpecError, match="not valid JSON"):
        ResourceSpec.from_json("{")


def test_spec_is_immutable() -> None:
    spec = ResourceSpec(requests={"cpu": "1"})
    with pytest.raises(AttributeError):
        spec.requests = {}  # type: ignore[misc]
    with pytest.raises(TypeError):
        spec.requests[Resource.CPU] = Quantity.parse("2")  # type: ignore[index]


def test_repr_is_readable() -> None:
    spec = ResourceSpec(
        requests={"cpu": "1", "gpu": "1"},
        limits={"memory": "4Gi"},
        accelerator=AcceleratorSpec("nvidia-tesla-a100", partition="1g.5gb"),
        shared_memory=SharedMemorySpec(),
    )
    assert repr(spec) == (
        "ResourceSpec(requests={cpu='1', gpu='1'}, limits={memory='4Gi'}, "
        "accelerator=nvidia-tesla-a100[1g.5gb], shared_memory=auto)"
    )


def test_gpu_count_reads_either_side() -> None:
    assert ResourceSpec(limits={"gpu": "4"}).gpu_count == 4
    assert ResourceSpec(requests={"gpu": "0"}, limits={"gpu": "0"}).gpu_count == 0
    assert ResourceSpec().gpu_count is None


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: AcceleratorSpec("nvidia-h100", model="NVIDIA_H999"), "accelerator.model"),
        (lambda: SharedMemorySpec(mount_path=""), "shared_memory.mount_path"),
        (lambda: SharedMemorySpec(mount_path="dev/shm"), "shared_memory.mount_path"),
    ],
)
def test_more_invalid_parts(make: object, field: str) -> None:
    with pytest.raises(ResourceSpecError) as info:
        make()  # type: ignore[operator]
    assert info.value.field == field


def test_unknown_flyte_device_class_names_the_field() -> None:
    import flyte  # noqa: PLC0415

    import flyteres  # noqa: PLC0415

    with pytest.raises(ResourceSpecError) as info:
        flyteres.from_flyte(flyte.Resources(gpu=flyte.Device(quantity=1, device_class="FOO", device="x")))  # type: ignore[arg-type]
    assert info.value.field == "gpu.device_class"
