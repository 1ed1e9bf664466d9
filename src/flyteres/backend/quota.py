"""What a namespace's ResourceQuota refuses about a one-container pod.

Kubernetes checks a pod against every ResourceQuota of its namespace at
admission (``pkg/quota/v1/evaluator/core/pods.go``): a quota that tracks cpu
or memory refuses a container that leaves that value out, and any tracked
value past ``spec.hard`` is refused.
"""

from __future__ import annotations

from collections.abc import Mapping

from flyteres.backend.manifests import QuotaSpec
from flyteres.backend.results import PlatformFinding, PlatformRule, Severity, Side
from flyteres.core.quantity import Quantity
from flyteres.core.spec import Resource

__all__ = ["check_quota"]


# kubernetes pkg/quota/v1/evaluator/core/pods.go validationSet: the only quota keys that require a value to be set.
_REQUIRED_KEYS: dict[str, tuple[Side, Resource]] = {
    "cpu": ("requests", Resource.CPU),
    "requests.cpu": ("requests", Resource.CPU),
    "limits.cpu": ("limits", Resource.CPU),
    "memory": ("requests", Resource.MEMORY),
    "requests.memory": ("requests", Resource.MEMORY),
    "limits.memory": ("limits", Resource.MEMORY),
}
# podComputeUsageHelper: which container value each quota key counts.
_USAGE_KEYS: dict[str, tuple[Side, Resource]] = {
    **_REQUIRED_KEYS,
    "ephemeral-storage": ("requests", Resource.EPHEMERAL_STORAGE),
    "requests.ephemeral-storage": ("requests", Resource.EPHEMERAL_STORAGE),
    "limits.ephemeral-storage": ("limits", Resource.EPHEMERAL_STORAGE),
}


def check_quota(
    requests: Mapping[Resource, Quantity],
    limits: Mapping[Resource, Quantity],
    quota: QuotaSpec,
    *,
    gpu_resource_name: str = "nvidia.com/gpu",
) -> tuple[PlatformFinding, ...]:
    """What a ResourceQuota refuses about a one-container pod with these requests and limits.

    Kubernetes refuses a pod when the quota tracks cpu or memory (``cpu``,
    ``requests.memory``, ``limits.memory``...) and a container leaves that
    value out ("must specify limits.memory"), and when the pod's usage would
    take a tracked value past ``spec.hard``. Only the hard value is compared
    here: what other pods already use is not known.

    >>> q = QuotaSpec("team", {"limits.memory": Quantity("8Gi")})
    >>> [f.rule.value for f in check_quota({}, {Resource.MEMORY: Quantity("16Gi")}, q)]
    ['quota-exceeded']
    """
    out: list[PlatformFinding] = []
    for key, hard in quota.hard.items():
        usage: Quantity | None
        if key in ("pods", "count/pods"):
            field, usage = "pods", Quantity.parse("1")
        elif key in _USAGE_KEYS:
            side, r = _USAGE_KEYS[key]
            field = f"{side}.{r}"
            usage = (requests if side == "requests" else limits).get(r)
            if usage is None and key in _REQUIRED_KEYS:
                out.append(
                    PlatformFinding(
                        PlatformRule.QUOTA_REQUIRES_VALUE,
                        Severity.ERROR,
                        field,
                        "not set",
                        f"the ResourceQuota {quota.name!r} ({quota.where(key)}) tracks {key}, so Kubernetes refuses "
                        f'a container without a {r} {side[:-1]} ("must specify {key}")',
                    )
                )
                continue
        elif key == f"requests.{gpu_resource_name}":
            field, usage = "requests.gpu", requests.get(Resource.GPU)
        else:
            continue
        if usage is not None and usage > hard:
            out.append(
                PlatformFinding(
                    PlatformRule.QUOTA_EXCEEDED,
                    Severity.ERROR,
                    field,
                    str(usage),
                    f"the pod alone needs {key}={usage} but the ResourceQuota {quota.name!r} ({quota.where(key)}) "
                    f'allows {key}={hard} in the whole namespace, so Kubernetes refuses it ("exceeded quota")',
                )
            )
    return tuple(out)
