"""to_k8s gives what both SDKs' pod_spec_from_resources give, plus the shared-memory volume."""

from __future__ import annotations

from typing import Any

import flyte
import pytest
from flyte._resources import pod_spec_from_resources as flyte_pod_spec
from flytekit import Resources as R
from flytekit.core.resources import pod_spec_from_resources as flytekit_pod_spec
from flytekit.extras import accelerators as fk

import flyteres
from flyteres import AcceleratorSpec, LossyConversionError, Quantity, ResourceSpec, SharedMemorySpec


def container_resources(pod_spec: Any) -> dict[str, Any]:
    res = pod_spec.containers[0].resources
    out = {}
    if res.requests:
        out["requests"] = dict(res.requests)
    if res.limits:
        out["limits"] = dict(res.limits)
    return out


FLYTEKIT_CASES = {
    "requests only": {"requests": R(cpu="1", mem="2Gi")},
    "limits only": {"limits": R(mem="600Mi", gpu="1")},
    "both": {"requests": R(cpu="1", ephemeral_storage="1Gi"), "limits": R(cpu="2", mem="4Gi")},
}


@pytest.mark.parametrize("kwargs", FLYTEKIT_CASES.values(), ids=FLYTEKIT_CASES.keys())
def test_matches_flytekits_pod_spec_from_resources(kwargs: dict[str, Any]) -> None:
    ours = flyteres.to_k8s(flyteres.from_flytekit(**kwargs))
    theirs = container_resources(flytekit_pod_spec("primary", kwargs.get("requests"), kwargs.get("limits")))
    assert ours["resources"] == theirs


FLYTE_CASES = {
    "cpu and memory": flyte.Resources(cpu="2", memory="4Gi"),
    "gpu count": flyte.Resources(gpu=2, disk="10Gi"),
    "accelerator": flyte.Resources(gpu="A100:4", memory="16Gi"),
}


@pytest.mark.parametrize("resources", FLYTE_CASES.values(), ids=FLYTE_CASES.keys())
def test_matches_flytes_pod_spec_from_resources(resources: Any) -> None:
    ours = flyteres.to_k8s(flyteres.from_flyte(resources))
    assert ours["resources"] == container_resources(flyte_pod_spec("primary", requests=resources))


@pytest.mark.parametrize(
    ("accelerator", "key"),
    [
        (AcceleratorSpec("nvidia-tesla-t4"), "nvidia.com/gpu"),
        (AcceleratorSpec("tpu-v5p-slice", "GOOGLE_TPU", partition="2x2x1"), "google.com/tpu"),
        (AcceleratorSpec("Inf2", "AMAZON_NEURON"), "aws.amazon.com/neuron"),
        (AcceleratorSpec("MI300X", "AMD_GPU"), "amd.com/gpu"),
        (AcceleratorSpec("Gaudi1", "HABANA_GAUDI"), "habana.ai/gaudi"),
    ],
)
def test_device_count_goes_under_the_device_class_resource_name(accelerator: AcceleratorSpec, key: str) -> None:
    out = flyteres.to_k8s(ResourceSpec(requests={"gpu": "2"}, accelerator=accelerator))
    assert out["resources"] == {"requests": {key: "2"}, "limits": {key: "2"}}


def test_shared_memory_is_a_memory_backed_volume_at_dev_shm() -> None:
    spec = flyteres.from_flytekit(requests=R(mem="8Gi"), shared_memory="2Gi")
    out = flyteres.to_k8s(spec)
    assert out["volumes"] == [{"name": "flyte-shm", "emptyDir": {"medium": "Memory", "sizeLimit": "2Gi"}}]
    assert out["volumeMounts"] == [{"name": "flyte-shm", "mountPath": "/dev/shm"}]
    auto = flyteres.to_k8s(ResourceSpec(shared_memory=SharedMemorySpec()))
    assert auto["volumes"] == [{"name": "flyte-shm", "emptyDir": {"medium": "Memory"}}]


def test_storage_is_refused_under_strict_and_dropped_under_kubernetes() -> None:
    spec = ResourceSpec(requests={"storage": "1Gi", "cpu": "1"})
    with pytest.raises(LossyConversionError, match="storage-dropped"):
        flyteres.to_k8s(spec)
    assert flyteres.to_k8s(spec, policy="kubernetes")["resources"] == {
        "requests": {"cpu": "1"},
        "limits": {"cpu": "1"},
    }


def test_quantities_keep_their_text() -> None:
    spec = ResourceSpec(requests={"memory": Quantity.parse("1.5Gi")})
    assert flyteres.to_k8s(spec)["resources"]["requests"] == {"memory": "1.5Gi"}


def test_flytekit_accelerator_object_keys_by_class() -> None:
    spec = flyteres.from_flytekit(limits=R(gpu="4"), accelerator=fk.V5E.slice_2x4)
    assert flyteres.to_k8s(spec)["resources"]["limits"] == {"google.com/tpu": "4"}
