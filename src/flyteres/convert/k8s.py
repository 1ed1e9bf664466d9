"""ResourceSpec → the Kubernetes container resources and shared-memory volume, as plain dicts.

This is what both SDKs' `pod_spec_from_resources` build for the primary
container (keys `cpu`, `memory`, `ephemeral-storage` and the device class's
resource name; a missing requests map copied from limits and vice versa), plus
the `emptyDir` volume the Flyte backend adds for shared memory. Backend
defaulting (per-key request/limit filling, platform limits) is not applied
here; `flyteres.effective` does that.
"""

from __future__ import annotations

from typing import Any

from flyteres.accelerators import DeviceClass
from flyteres.convert._shared import finding, storage_findings
from flyteres.core.findings import Conversion, Finding, Rule, reading_findings
from flyteres.core.options import Policy, PolicyName
from flyteres.core.spec import Resource, ResourceSpec

_K8S_NAMES = {
    Resource.CPU: "cpu",
    Resource.MEMORY: "memory",
    Resource.EPHEMERAL_STORAGE: "ephemeral-storage",
}


def convert_to_k8s(spec: ResourceSpec, *, policy: Policy | PolicyName = Policy.STRICT) -> Conversion[dict[str, Any]]:
    """Like `to_k8s`, but returns the findings too (and does not raise for them)."""
    policy = Policy.parse(policy)
    findings: list[Finding] = reading_findings(spec.findings, "k8s")
    device_class = spec.accelerator.device_class if spec.accelerator is not None else DeviceClass.NVIDIA_GPU
    gpu_key = device_class.kubernetes_resource
    if gpu_key is None and Resource.GPU in {*spec.requests, *spec.limits}:
        findings.append(
            finding(
                Rule.DEVICE_CLASS_DROPPED,
                "accelerator.device_class",
                device_class,
                "no Kubernetes resource name is known for this device class",
                policy=policy,
            )
        )

    def section(values: Any) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, q in values.items():
            if name is Resource.GPU:
                if gpu_key is not None:
                    out[gpu_key] = q.text
            elif name in _K8S_NAMES:
                out[_K8S_NAMES[name]] = q.text
        return out

    findings += storage_findings(
        spec, "Kubernetes has no container resource for the legacy storage entry", policy=policy
    )
    requests, limits = section(spec.requests), section(spec.limits)
    # Both SDKs' pod_spec_from_resources fill a missing side from the other, whole.
    requests, limits = requests or limits, limits or requests
    resources: dict[str, Any] = {}
    if requests:
        resources["requests"] = dict(requests)
    if limits:
        resources["limits"] = dict(limits)
    out: dict[str, Any] = {"resources": resources}
    shm = spec.shared_memory
    if shm is not None:
        name = shm.mount_name or "flyte-shm"
        empty_dir: dict[str, str] = {"medium": "Memory"}
        if shm.size_limit is not None:
            empty_dir["sizeLimit"] = shm.size_limit.text
        out["volumes"] = [{"name": name, "emptyDir": empty_dir}]
        out["volumeMounts"] = [{"name": name, "mountPath": shm.mount_path}]
    return Conversion(out, tuple(findings))


def to_k8s(spec: ResourceSpec, *, policy: Policy | PolicyName = Policy.STRICT) -> dict[str, Any]:
    """The container's `resources` plus the shared-memory volume and mount, as plain dicts.

    >>> from flyteres import ResourceSpec
    >>> to_k8s(ResourceSpec(limits={"gpu": "1"}))
    {'resources': {'requests': {'nvidia.com/gpu': '1'}, 'limits': {'nvidia.com/gpu': '1'}}}
    """
    return convert_to_k8s(spec, policy=policy).unwrap("Kubernetes")
