"""Kubernetes' API validation of a container's resources and volumes, for tests.

An independent re-reading of kube-apiserver's rules (k8s.io/kubernetes
`pkg/apis/core/validation/validation.go`: `ValidateResourceRequirements`,
`validateContainerResourceName`, `ValidateResourceQuantityValue`, and the
helpers `IsExtendedResourceName`, `IsOvercommitAllowed`, `IsQualifiedName`),
with quantities parsed by the `kubernetes` client (`parse_quantity`), not by
flyteres. `problems(...)` returns what the API server would answer, one line
each; an empty list means it accepts the pod.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from kubernetes.utils import parse_quantity

STANDARD_CONTAINER_RESOURCES = frozenset({"cpu", "memory", "ephemeral-storage"})
_QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
# Extended resources are validated through MilliValue(), an int64 of thousandths.
_MAX_MILLI = 2**63 - 1


def is_qualified_name(value: str) -> bool:
    """apimachinery's IsQualifiedName: an optional DNS-1123 subdomain prefix, '/', and a name of at most 63."""
    parts = value.split("/")
    if len(parts) == 2:
        prefix, name = parts
        if not prefix or len(prefix) > 253 or not _DNS1123_SUBDOMAIN.fullmatch(prefix):
            return False
    elif len(parts) == 1:
        name = parts[0]
    else:
        return False
    return 0 < len(name) <= 63 and _QUALIFIED_NAME.fullmatch(name) is not None


def is_hugepages(name: str) -> bool:
    return name.startswith("hugepages-")


def is_native(name: str) -> bool:
    """In the kubernetes.io namespace: no domain at all, or a kubernetes.io one."""
    return "/" not in name or "kubernetes.io/" in name


def is_extended(name: str) -> bool:
    """Any name with a domain other than kubernetes.io (nvidia.com/gpu, google.com/tpu, ...)."""
    return not is_native(name) and not name.startswith("requests.") and is_qualified_name("requests." + name)


def overcommit_allowed(name: str) -> bool:
    return is_native(name) and not is_hugepages(name)


def name_problems(name: str) -> list[str]:
    if not is_qualified_name(name):
        return [f"{name}: not a qualified name"]
    if "/" not in name:
        if name not in STANDARD_CONTAINER_RESOURCES and not is_hugepages(name):
            return [f"{name}: must be a standard resource for containers"]
    elif not is_native(name) and not is_extended(name):
        return [f"{name}: doesn't follow extended resource name standard"]
    return []


def quantity_problems(where: str, name: str, text: Any) -> tuple[Decimal | None, list[str]]:
    if not isinstance(text, str):
        return None, [f"{where}: {text!r} is not a quantity string"]
    try:
        value = Decimal(parse_quantity(text))
    except ValueError as exc:
        return None, [f"{where}: {text!r} is not a quantity ({exc})"]
    found = []
    if value < 0:
        found.append(f"{where}: {text!r} must be greater than or equal to 0")
    if is_extended(name):
        milli = value * 1000
        if milli != milli.to_integral_value() or milli % 1000 != 0 or milli > _MAX_MILLI:
            found.append(f"{where}: {text!r} must be an integer")
    return value, found


def resource_problems(resources: dict[str, Any]) -> list[str]:
    """What ValidateResourceRequirements says about a container's `resources`."""
    found: list[str] = []
    unknown = set(resources) - {"requests", "limits"}
    if unknown:
        found.append(f"resources: unknown fields {sorted(unknown)}")
    requests: dict[str, str] = resources.get("requests") or {}
    limits: dict[str, str] = resources.get("limits") or {}
    limit_values: dict[str, Decimal | None] = {}
    for name, text in limits.items():
        found += name_problems(name)
        limit_values[name], more = quantity_problems(f"limits[{name}]", name, text)
        found += more
    for name, text in requests.items():
        found += name_problems(name)
        value, more = quantity_problems(f"requests[{name}]", name, text)
        found += more
        if name in limits:
            limit = limit_values[name]
            if value is None or limit is None:
                continue
            if value != limit and not overcommit_allowed(name):
                found.append(f"requests[{name}]: {text} must be equal to {name} limit")
            elif value > limit:
                found.append(f"requests[{name}]: {text} must be less than or equal to {name} limit")
        elif not overcommit_allowed(name):
            found.append(f"limits[{name}]: Limit must be set for non overcommitable resources")
    return found


def volume_problems(volumes: list[dict[str, Any]], mounts: list[dict[str, Any]]) -> list[str]:
    """The emptyDir volumes and their mounts: DNS-1123 label names, a quantity size, a mount path."""
    found = []
    names = set()
    for volume in volumes:
        name = volume.get("name", "")
        names.add(name)
        if not (0 < len(name) <= 63 and _DNS1123_LABEL.fullmatch(name)):
            found.append(f"volumes[{name!r}]: a volume name must be a DNS-1123 label")
        size = volume.get("emptyDir", {}).get("sizeLimit")
        if size is not None:
            found += quantity_problems(f"volumes[{name!r}].sizeLimit", "memory", size)[1]
    for mount in mounts:
        if mount.get("name") not in names:
            found.append(f"volumeMounts[{mount.get('name')!r}]: not found")
        if not mount.get("mountPath"):
            found.append(f"volumeMounts[{mount.get('name')!r}].mountPath: Required value")
    return found


def problems(k8s: dict[str, Any]) -> list[str]:
    """Everything kube-apiserver would refuse in `flyteres.to_k8s` output (empty: accepted)."""
    return resource_problems(k8s.get("resources", {})) + volume_problems(
        k8s.get("volumes", []), k8s.get("volumeMounts", [])
    )
