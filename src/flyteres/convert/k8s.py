"""ResourceSpec → the Kubernetes container resources and shared-memory volume, as plain dicts.

This is what both SDKs' `pod_spec_from_resources` build for the primary
container (keys `cpu`, `memory`, `ephemeral-storage` and the device class's
resource name; a missing requests map copied from limits and vice versa), plus
the `emptyDir` volume the Flyte backend adds for shared memory. Backend
defaulting (per-key request/limit filling, platform limits) is not applied
here; `flyteres.effective` does that.
"""

from __future__ import annotations

import re
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
    if gpu_key is not None and (gpu_key in requests) != (gpu_key in limits):
        # Devices are extended resources: kube-apiserver refuses a request without a limit ("Limit
        # must be set for non overcommitable resources"), which both SDKs' builders write for a
        # count in requests only (flyte always puts it there). The spec holds one count, so it
        # goes on both sides, where the SDKs would have put it.
        count = requests.get(gpu_key) or limits[gpu_key]
        requests, limits = _with_device(requests, gpu_key, count), _with_device(limits, gpu_key, count)
    resources: dict[str, Any] = {}
    if requests:
        resources["requests"] = dict(requests)
    if limits:
        resources["limits"] = dict(limits)
    out: dict[str, Any] = {"resources": resources}
    shm = spec.shared_memory
    if shm is not None:
        name = shm.mount_name or "flyte-shm"
        if not _is_dns1123_label(name):
            findings.append(
                finding(
                    Rule.VOLUME_NAME_INVALID,
                    "shared_memory.mount_name",
                    name,
                    "Kubernetes refuses a volume name that is not a DNS-1123 label (lower-case letters, digits "
                    "and '-', at most 63 characters)",
                    policy=policy,
                )
            )
        empty_dir: dict[str, str] = {"medium": "Memory"}
        if shm.size_limit is not None:
            empty_dir["sizeLimit"] = shm.size_limit.text
        out["volumes"] = [{"name": name, "emptyDir": empty_dir}]
        out["volumeMounts"] = [{"name": name, "mountPath": shm.mount_path}]
    return Conversion(out, tuple(findings))


_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def _is_dns1123_label(name: str) -> bool:
    return _DNS1123_LABEL.fullmatch(name) is not None


def _with_device(section: dict[str, str], key: str, count: str) -> dict[str, str]:
    """`section` with the device count at its place in the resources' order (after cpu and memory)."""
    if key in section:
        return section
    head = {k: v for k, v in section.items() if k in ("cpu", "memory")}
    return {**head, key: count, **{k: v for k, v in section.items() if k not in head}}


def to_k8s(spec: ResourceSpec, *, policy: Policy | PolicyName = Policy.STRICT) -> dict[str, Any]:
    """The container's `resources` plus the shared-memory volume and mount, as plain dicts.

    >>> from flyteres import ResourceSpec
    >>> to_k8s(ResourceSpec(limits={"gpu": "1"}))
    {'resources': {'requests': {'nvidia.com/gpu': '1'}, 'limits': {'nvidia.com/gpu': '1'}}}
    """
    return convert_to_k8s(spec, policy=policy).unwrap("Kubernetes")
