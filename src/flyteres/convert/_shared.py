"""Shared pieces of the converters: policy handling, findings, catalog lookups."""

from __future__ import annotations

import functools
from collections.abc import Mapping

from flyteres import accelerators
from flyteres._errors import UnknownAcceleratorError, shown
from flyteres.convert._memo import register_cache
from flyteres.core import spec as spec_module
from flyteres.core.findings import Finding, Rule
from flyteres.core.options import Policy
from flyteres.core.spec import (
    DEFAULT_SHM_PATH,
    AcceleratorSpec,
    Resource,
    ResourceSpec,
    SharedMemorySpec,
)

STRICT_RAISES = "raises LossyConversionError"


def finding(
    rule: Rule,
    field: str,
    value: object,
    reason: str,
    *,
    policy: Policy,
    strict: str | None = None,
    kubernetes: str | None = None,
) -> Finding:
    """Build a finding. An action of None means that policy cannot decide it
    (the finding is lossy there); give the same text for both when the
    conversion is faithful either way and the finding is informational."""
    actions = {
        Policy.STRICT.value: strict if strict is not None else STRICT_RAISES,
        Policy.KUBERNETES.value: kubernetes if kubernetes is not None else STRICT_RAISES,
    }
    lossy = actions[policy.value] == STRICT_RAISES
    return Finding(rule, field, value if isinstance(value, str) else shown(value), reason, actions, lossy)


def info(
    rule: Rule,
    field: str,
    value: object,
    reason: str,
    action: str,
    *,
    policy: Policy,  # kept so every finding is built alike; no policy blocks this one
    target: str | None = None,
) -> Finding:
    """A finding that does not block under any policy; `target` limits it to one target."""
    # Built directly, not through finding(): notes are made on every read of common input.
    text = value if isinstance(value, str) else shown(value)
    return Finding.note(rule, field, text, reason, action=action, target=target)


def request_limit_pair(
    spec: ResourceSpec, resource: Resource, *, why_not: str, policy: Policy
) -> tuple[str | tuple[str, str] | None, list[Finding]]:
    """How a (request, limit) form writes one resource: a scalar request, a pair,
    or, for a limit alone (which such a form cannot say), a finding; the
    kubernetes policy then writes (limit, limit), as Kubernetes would run it."""
    req, lim = spec.get(resource)
    if req is not None:
        return (req.text if lim is None else (req.text, lim.text)), []
    if lim is None:
        return None, []
    found = finding(
        Rule.LIMIT_WITHOUT_REQUEST,
        f"limits.{resource}",
        lim.text,
        why_not,
        policy=policy,
        kubernetes=f"writes ({lim.text!r}, {lim.text!r}): Kubernetes sets a missing request to the limit",
    )
    return ((lim.text, lim.text) if policy is Policy.KUBERNETES else None), [found]


def storage_findings(spec: ResourceSpec, why_not: str, *, policy: Policy) -> list[Finding]:
    """The legacy STORAGE entry, which no target writes: lossy under strict,
    dropped under kubernetes (the Flyte backend ignores it)."""
    storage = spec.requests.get(Resource.STORAGE, spec.limits.get(Resource.STORAGE))
    if storage is None:
        return []
    return [
        finding(
            Rule.STORAGE_DROPPED,
            "storage",
            storage.text,
            why_not,
            policy=policy,
            kubernetes="dropped: the Flyte backend ignores it",
        )
    ]


def shared_memory_findings(shm: SharedMemorySpec, sdk: str, volume: str, *, policy: Policy) -> list[Finding]:
    """What an SDK changes about a shared-memory volume: its own name, always /dev/shm."""
    out = []
    if shm.mount_name is not None:  # either SDK's own name reads as None
        out.append(
            info(
                Rule.SHM_MOUNT_NAME,
                "shared_memory.mount_name",
                shm.mount_name,
                f"{sdk} names the volume {volume!r}; the size and mount path are unchanged",
                f"renamed to {volume!r}",
                policy=policy,
            )
        )
    if shm.mount_path != DEFAULT_SHM_PATH:
        out.append(
            finding(
                Rule.SHM_MOUNT_PATH,
                "shared_memory.mount_path",
                shm.mount_path,
                f"{sdk} always mounts shared memory at {DEFAULT_SHM_PATH}",
                policy=policy,
            )
        )
    return out


def catalog_entry(acc: AcceleratorSpec) -> accelerators.Accelerator | None:
    """The catalog entry for a wire device string, or None for a custom device."""
    return catalog_entry_for(acc.device)


@functools.lru_cache(maxsize=1024)
def catalog_entry_for(device: str) -> accelerators.Accelerator | None:
    """The catalog entry for a wire device string, or None when the catalog does not know it."""
    try:
        return accelerators.from_wire(device)
    except UnknownAcceleratorError:
        return None


register_cache(catalog_entry_for.cache_clear)
# The neutral model's own lookup of the same kind (core cannot register itself: it sits below convert).
register_cache(spec_module.catalog_entry_cached.cache_clear)


def implied_device_class(device: str) -> accelerators.DeviceClass:
    """The device class a device string implies: the catalog's, or NVIDIA_GPU."""
    entry = catalog_entry_for(device)
    return accelerators.DeviceClass.NVIDIA_GPU if entry is None else entry.device_class


@functools.cache
def v2_device_map() -> Mapping[str, str]:
    """flyte's name → wire device mapping, from the catalog.

    flyte maps a device name through its table and sends any other name
    verbatim; the catalog holds that table (its tests compare it with flyte's).
    """
    out: dict[str, str] = {}
    for entry in accelerators.catalog():
        if entry.v2_name is None or entry.v2_device is None:
            continue
        for name in (entry.v2_name, *entry.deprecated_aliases):
            if name != entry.v2_device:
                out[name] = entry.v2_device
    return out


register_cache(v2_device_map.cache_clear)


def v2_wire_device(name: str) -> str:
    """What flyte puts on the wire for a device name."""
    return v2_device_map().get(name, name)


def class_from_flyte(name: str) -> accelerators.DeviceClass:
    """The device class for flyte's own spelling ("TPU"); any other raises ValueError (flyte would send NVIDIA_GPU)."""
    return accelerators.DeviceClass.from_flyte(name)
