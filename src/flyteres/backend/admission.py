"""Kubernetes' side of a task pod: what its namespace does to the pod Flyte built, and the one verdict.

The API server handles the pod in a fixed order, and the first step that
refuses it is the answer: nothing after it happens.

1. **LimitRange defaults** (the LimitRanger's mutating pass): values the
   container leaves out are set (`flyteres.backend.limitrange.apply_defaults`).
2. **Pod validation** (``pkg/apis/core/validation`` ``ValidatePod``): a device
   such as a GPU cannot be overcommitted, so its request must equal its limit.
3. **LimitRange checks** (the LimitRanger's validating pass): min, max and
   maxLimitRequestRatio, first refusing LimitRange only.
4. **ResourceQuota** (``plugin/pkg/admission/resourcequota`` ``CheckRequest``):
   first a quota that tracks a value the container leaves out ("must
   specify"), checked over every quota; then the first quota the pod would
   take past ``spec.hard`` ("exceeded quota"), with every key it exceeds.
5. **Running**: what a pod that was admitted meets (shared memory counted
   against the memory limit).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from flyteres.backend.limitrange import Defaulted, apply_defaults, validate
from flyteres.backend.manifests import LimitRangeSpec, QuotaSpec
from flyteres.backend.quota import check_quota
from flyteres.backend.results import Explanation, PlatformFinding, PlatformRule, Severity
from flyteres.core.quantity import Quantity
from flyteres.core.spec import Resource, SharedMemorySpec

__all__ = ["Admission", "admit"]

_ZERO = Quantity.parse("0")
_K8S_NAMES = {Resource.CPU: "cpu", Resource.MEMORY: "memory", Resource.EPHEMERAL_STORAGE: "ephemeral-storage"}


@dataclass
class Admission:
    """The pod's values after admission, the explanations of values admission set, and what it found."""

    requests: dict[Resource, Quantity]
    limits: dict[Resource, Quantity]
    explanations: list[Explanation] = field(default_factory=list)
    findings: list[PlatformFinding] = field(default_factory=list)


class _Names:
    """Kubernetes resource names of the pod's resources (the GPU's depends on the accelerator)."""

    def __init__(self, gpu_name: str) -> None:
        self.to_k8s = {**_K8S_NAMES, Resource.GPU: gpu_name}
        self.from_k8s = {v: k for k, v in self.to_k8s.items()}

    def field(self, side: str, name: str) -> str:
        """``limits.memory`` for a resource flyteres models, ``limits.<kubernetes name>`` for any other."""
        r = self.from_k8s.get(name)
        return f"{side}.{r if r is not None else name}"


def admit(
    requests: Mapping[Resource, Quantity],
    limits: Mapping[Resource, Quantity],
    *,
    gpu_name: str,
    limitranges: Sequence[LimitRangeSpec] = (),
    quotas: Sequence[QuotaSpec] = (),
    shared_memory: SharedMemorySpec | None = None,
) -> Admission:
    """Run the pod Flyte built through its namespace's admission, in Kubernetes' order, up to the first refusal.

    >>> from flyteres.backend.manifests import LimitRangeItem
    >>> lr = LimitRangeSpec("mem", (LimitRangeItem("Container", max={"memory": "4Gi"}),))
    >>> a = admit({Resource.MEMORY: Quantity("8Gi")}, {Resource.MEMORY: Quantity("8Gi")},
    ...           gpu_name="nvidia.com/gpu", limitranges=[lr])
    >>> [(f.rule.value, f.field) for f in a.findings]
    [('limitrange-rejected', 'limits.memory')]
    """
    names = _Names(gpu_name)
    out = Admission(dict(requests), dict(limits))
    req_k8s = {names.to_k8s[r]: q for r, q in requests.items() if r in names.to_k8s}
    lim_k8s = {names.to_k8s[r]: q for r, q in limits.items() if r in names.to_k8s}

    for d in apply_defaults(req_k8s, lim_k8s, limitranges):
        _record_default(out, names, d)

    # Each step runs only when the ones before it admitted the pod.
    if _devices(out) or _limitranges(out, names, req_k8s, lim_k8s, limitranges) or _quotas(out, gpu_name, quotas):
        return out
    mem = out.limits.get(Resource.MEMORY)
    shm = None if shared_memory is None else shared_memory.size_limit
    if shm is not None and mem is not None and shm > mem > _ZERO:
        out.findings.append(
            PlatformFinding(
                PlatformRule.SHM_ABOVE_MEMORY_LIMIT,
                Severity.WARNING,
                "shared_memory.size_limit",
                str(shm),
                f"larger than the memory limit the pod gets ({mem}); shared memory counts against it",
            )
        )
    return out


def _record_default(out: Admission, names: _Names, d: Defaulted) -> None:
    field_name = names.field(d.side, d.name)
    r = names.from_k8s.get(d.name)
    if r is not None:
        (out.requests if d.side == "requests" else out.limits)[r] = d.value
        out.explanations.append(Explanation(field_name, d.value, PlatformRule.LIMITRANGE_DEFAULT, d.describe()))
    # A default limit is a ceiling the task never asked for (an OOM kill or an eviction); a request only reserves.
    severity = Severity.WARNING if d.side == "limits" else Severity.INFO
    shown = "" if r is not None else " (a resource flyteres does not model; the container gets it too)"
    out.findings.append(
        PlatformFinding(
            PlatformRule.LIMITRANGE_DEFAULT,
            severity,
            field_name,
            str(d.value),
            f"the task sets no {d.name} {d.side[:-1]}; {d.describe()}{shown}",
        )
    )


def _devices(out: Admission) -> bool:
    g_req, g_lim = out.requests.get(Resource.GPU), out.limits.get(Resource.GPU)
    if g_req is None or g_lim is None or g_req == g_lim:
        return False
    out.findings.append(
        PlatformFinding(
            PlatformRule.GPU_REQUEST_LIMIT_DIFFER,
            Severity.ERROR,
            "requests.gpu",
            str(g_req),
            f"differs from the limit {g_lim} after merging; Kubernetes refuses a pod whose device request "
            "and limit differ (override both sides)",
        )
    )
    return True


def _limitranges(
    out: Admission,
    names: _Names,
    req: Mapping[str, Quantity],
    lim: Mapping[str, Quantity],
    limitranges: Sequence[LimitRangeSpec],
) -> bool:
    violations = validate(req, lim, limitranges)
    for v in violations:
        per = "the pod" if v.item.type == "Pod" else "the container"
        out.findings.append(
            PlatformFinding(
                PlatformRule.LIMITRANGE_REJECTED,
                Severity.ERROR,
                names.field(v.side, v.name),
                "not set" if v.value is None else str(v.value),
                f"the LimitRange {v.limitrange.name!r} ({v.where}) refuses {per} at admission, so Kubernetes "
                f'never creates the pod ("{v.message}")',
            )
        )
    return bool(violations)


def _quotas(out: Admission, gpu_name: str, quotas: Sequence[QuotaSpec]) -> bool:
    per_quota = [check_quota(out.requests, out.limits, q, gpu_resource_name=gpu_name) for q in quotas]
    # CheckRequest checks every quota's "must specify" constraints before any usage.
    for rule in (PlatformRule.QUOTA_REQUIRES_VALUE, PlatformRule.QUOTA_EXCEEDED):
        for found in per_quota:
            failing = [f for f in found if f.rule is rule]
            if failing:
                out.findings += failing
                return True
    return False
