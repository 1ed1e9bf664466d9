"""to_k8s gives what both SDKs' pod_spec_from_resources give, plus the shared-memory volume."""

from __future__ import annotations

import dataclasses
from typing import Any

import flyte
import pytest
from flyte._resources import pod_spec_from_resources as flyte_pod_spec
from flytekit import Resources as R
from flytekit.core.resources import pod_spec_from_resources as flytekit_pod_spec
from flytekit.extras import accelerators as fk

import flyteres
from flyteres import AcceleratorSpec, LossyConversionError, Quantity, Resource, ResourceSpec, SharedMemorySpec

from . import kubernetes_rules


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


# Issue 13, class 1: a GPU request with no GPU limit. flyte puts the device count in requests only,
# so every flyte GPU spec that also has a cpu or memory pair gives one; flytekit's requests= does the
# same. Both SDKs' pod builders write it through, and kube-apiserver refuses the pod ("Limit must be
# set for non overcommitable resources"). flyteres writes request == limit for every device.
GPU_REQUEST_WITHOUT_LIMIT: dict[str, dict[str, Any]] = {
    "flyte cpu pair + A100:1": {"flyte": flyte.Resources(cpu=(1, 2), gpu="A100:1")},
    "flyte memory pair + gpu=2": {"flyte": flyte.Resources(cpu="1", memory=("1Gi", "2Gi"), gpu=2)},
    "flyte memory pair + TPU": {"flyte": flyte.Resources(memory=("1Gi", "2Gi"), gpu=flyte.TPU("V5E", "2x2"))},
    "flyte cpu pair + Neuron": {"flyte": flyte.Resources(cpu=("1", "2"), gpu=flyte.Neuron("Inf2"))},
    "flytekit requests gpu, limits cpu": {"flytekit": {"requests": R(cpu="1", gpu="1"), "limits": R(cpu="2")}},
    "flytekit requests gpu, limits mem + T4": {
        "flytekit": {"requests": R(gpu="1"), "limits": R(mem="1Gi"), "accelerator": fk.T4}
    },
    "flytekit resources= gpu scalar, cpu pair": {"flytekit": {"resources": R(cpu=("1", "2"), gpu="2")}},
}


def sdk_pod_resources(source: dict[str, Any]) -> dict[str, Any]:
    """What the SDK's own pod builder writes for the same declaration."""
    if "flyte" in source:
        # flyte's builder takes singular Resources; split pairs the way its serializer does.
        res = source["flyte"]
        first = {k: str(v[0] if isinstance(v, tuple) else v) for k in ("cpu", "memory") if (v := getattr(res, k))}
        second = {k: str(v[1]) for k in ("cpu", "memory") if isinstance(v := getattr(res, k), tuple)}
        requests = flyte.Resources(**first, gpu=res.gpu, disk=res.disk)
        return container_resources(flyte_pod_spec("primary", requests, flyte.Resources(**second) if second else None))
    kwargs = source["flytekit"]
    if "resources" in kwargs:
        from flytekit.core.resources import ResourceSpec as FlytekitResourceSpec  # noqa: PLC0415

        pair = FlytekitResourceSpec.from_multiple_resource(kwargs["resources"])
        return container_resources(flytekit_pod_spec("primary", pair.requests, pair.limits))
    return container_resources(flytekit_pod_spec("primary", kwargs.get("requests"), kwargs.get("limits")))


def read(source: dict[str, Any]) -> ResourceSpec:
    return flyteres.from_flyte(source["flyte"]) if "flyte" in source else flyteres.from_flytekit(**source["flytekit"])


@pytest.mark.parametrize("source", GPU_REQUEST_WITHOUT_LIMIT.values(), ids=GPU_REQUEST_WITHOUT_LIMIT.keys())
def test_devices_get_request_equal_to_limit(source: dict[str, Any]) -> None:
    # The SDK's own builder writes a pod the API server refuses...
    assert any("Limit must be set" in p for p in kubernetes_rules.resource_problems(sdk_pod_resources(source)))
    # ...flyteres does not: the device count is on both sides, everything else as the SDK wrote it.
    ours = flyteres.to_k8s(read(source))
    assert kubernetes_rules.problems(ours) == []
    theirs = sdk_pod_resources(source)
    devices = [k for k in ours["resources"]["requests"] if "/" in k]
    assert devices
    for key in devices:
        assert ours["resources"]["requests"][key] == ours["resources"]["limits"][key]
    # (flyte's builder names every device nvidia.com/gpu; flyteres uses the device class's resource.)
    for side in ("requests", "limits"):
        assert {k: v for k, v in ours["resources"][side].items() if "/" not in k} == {
            k: str(v) for k, v in theirs.get(side, {}).items() if "/" not in k
        }


def test_effective_resources_write_devices_on_both_sides() -> None:
    spec = ResourceSpec(
        requests={"cpu": "1", "gpu": "2"}, limits={"cpu": "2"}, accelerator=AcceleratorSpec("Inf2", "AMAZON_NEURON")
    )
    out = flyteres.effective(spec, launch="flyte2").to_k8s()
    assert out["requests"]["aws.amazon.com/neuron"] == out["limits"]["aws.amazon.com/neuron"] == "2"
    assert kubernetes_rules.resource_problems(out) == []
    # Even a result built with the count on one side only (the backend's own merge never does this).
    one_sided = dataclasses.replace(
        flyteres.effective(spec, launch="flyte2"), limits={Resource.CPU: Quantity.parse("2")}
    )
    assert kubernetes_rules.resource_problems(one_sided.to_k8s()) == []
