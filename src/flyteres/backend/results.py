"""What `effective` reports: the pod's final values, why each is what it is, and what the platform refuses.

These are results only; `flyteres.backend.effective` computes them and
`flyteres.backend.quota` adds what a namespace's ResourceQuotas refuse.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal

from flyteres.core.options import Choice
from flyteres.core.quantity import Quantity
from flyteres.core.spec import AcceleratorSpec, Resource, ResourceSpec, SharedMemorySpec

__all__ = [
    "EffectiveResources",
    "Explanation",
    "Launch",
    "LaunchName",
    "PlatformFinding",
    "PlatformRule",
    "Severity",
]


class Launch(Choice):
    """How a task is started, which decides the backend steps it goes through.

    `WORKFLOW`: a registered workflow or single-task execution (flyteadmin fills
    defaults in at launch, then node overrides are merged). `DYNAMIC`: inside a
    `@dynamic` (no launch-time filling). `FLYTE2`: a Flyte 2 task (no
    flyteadmin; an override replaces the whole spec).
    """

    WORKFLOW = "workflow"
    DYNAMIC = "dynamic"
    FLYTE2 = "flyte2"


LaunchName = Literal["workflow", "dynamic", "flyte2"]


class Severity(Choice):
    """How much a finding matters: the task will not run (`ERROR`), runs with other values than it
    asks for (`WARNING`), or nothing changes that its author would notice (`INFO`)."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


Side = Literal["requests", "limits"]


def _in_order(values: Mapping[Resource, Quantity]) -> dict[Resource, Quantity]:
    return {r: values[r] for r in Resource if r in values}


_K8S_NAMES = {Resource.CPU: "cpu", Resource.MEMORY: "memory", Resource.EPHEMERAL_STORAGE: "ephemeral-storage"}


class PlatformRule(str, Enum):
    """Stable identifiers for what set or changed a value, and what a platform refuses."""

    #: The value is the task's own.
    TASK = "task"
    #: The value comes from a node override (flytekit's with_overrides, Flyte 2's override).
    OVERRIDE = "override"
    #: A missing request was set to the limit.
    REQUEST_FROM_LIMIT = "request-from-limit"
    #: A missing limit was set to the request.
    LIMIT_FROM_REQUEST = "limit-from-request"
    #: Nothing set the request; the platform default did.
    PLATFORM_DEFAULT = "platform-default"
    #: Nothing sets cpu or memory and the platform has no default: the pod gets an explicit 0.
    NO_VALUE = "no-value"
    #: A value above the platform limit was lowered to it at run time, silently.
    CAPPED_AT_PLATFORM_LIMIT = "capped-at-platform-limit"
    #: A request above its limit was lowered to the limit.
    REQUEST_CLAMPED_TO_LIMIT = "request-clamped-to-limit"
    #: A zero quantity never reaches the pod.
    ZERO_DROPPED = "zero-dropped"
    #: The legacy storage resource: the backend drops it.
    STORAGE_IGNORED = "storage-ignored"
    #: Flyte 2's override(resources=...) replaced everything the task had.
    OVERRIDE_REPLACES_RESOURCES = "override-replaces-resources"
    #: flyteadmin refuses to register the task.
    REJECTED_AT_REGISTRATION = "rejected-at-registration"
    #: The GPU request and limit differ after merging: Kubernetes refuses the pod.
    GPU_REQUEST_LIMIT_DIFFER = "gpu-request-limit-differ"
    #: The shared-memory volume is larger than the memory limit the pod gets.
    SHM_ABOVE_MEMORY_LIMIT = "shm-above-memory-limit"
    #: A ResourceQuota tracks a value the container does not set: Kubernetes refuses the pod.
    QUOTA_REQUIRES_VALUE = "quota-requires-value"
    #: The pod alone asks for more than a ResourceQuota's hard limit: Kubernetes refuses it.
    QUOTA_EXCEEDED = "quota-exceeded"
    #: A LimitRange of the namespace set a value the container left out, at admission.
    LIMITRANGE_DEFAULT = "limitrange-default"
    #: A LimitRange's min, max or maxLimitRequestRatio refuses the pod at admission.
    LIMITRANGE_REJECTED = "limitrange-rejected"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class PlatformFinding:
    """Something the platform does to a task that its author would not see in the code.

    ``severity`` is ``"error"`` when the task will not run as written
    (refused at registration or by a quota), ``"warning"`` when it runs with
    other values than it asks for, ``"info"`` otherwise.
    """

    rule: PlatformRule
    severity: Severity
    field: str
    value: str
    reason: str

    def __str__(self) -> str:
        return f"[{self.rule.value}] {self.field} = {self.value}: {self.reason}"

    def to_dict(self) -> dict[str, str]:
        return {
            "rule": self.rule.value,
            "severity": self.severity.value,
            "field": self.field,
            "value": self.value,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Explanation:
    """Why one value of the pod is what it is.

    >>> str(Explanation("requests.cpu", Quantity("500m"), PlatformRule.TASK, "from the task's request"))
    "requests.cpu = 500m (from the task's request)"
    """

    field: str
    value: Quantity | None
    rule: PlatformRule
    reason: str

    def __str__(self) -> str:
        shown = "not set" if self.value is None else str(self.value)
        return f"{self.field} = {shown} ({self.reason})"

    def to_dict(self) -> dict[str, str | None]:
        return {
            "field": self.field,
            "value": None if self.value is None else str(self.value),
            "rule": self.rule.value,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class EffectiveResources:
    """The container's final requests and limits, with one explanation per value and every finding.

    Quantities are what the backend writes: Kubernetes' canonical spelling
    (``str(q)``). ``requests``/``limits`` hold every value the pod gets,
    including an explicit ``0`` where nothing sets cpu or memory.
    """

    requests: Mapping[Resource, Quantity]
    limits: Mapping[Resource, Quantity]
    explanations: tuple[Explanation, ...]
    findings: tuple[PlatformFinding, ...]
    accelerator: AcceleratorSpec | None = None
    shared_memory: SharedMemorySpec | None = None
    launch: Launch = Launch.WORKFLOW
    gpu_resource_name: str = "nvidia.com/gpu"

    @property
    def rejected(self) -> bool:
        """Whether flyteadmin refuses to register the task."""
        return any(f.rule is PlatformRule.REJECTED_AT_REGISTRATION for f in self.findings)

    @property
    def errors(self) -> tuple[PlatformFinding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[PlatformFinding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.WARNING)

    def explain(self, field: str) -> Explanation:
        """The explanation of one value, by field name (``"limits.memory"``).

        >>> from flyteres.backend.config import PlatformConfig
        >>> from flyteres.backend.effective import effective
        >>> e = effective(ResourceSpec(requests={"cpu": "500m"}), PlatformConfig(defaults={"memory": "1Gi"}))
        >>> str(e.explain("limits.cpu"))
        'limits.cpu = 500m (copied from the request: a missing limit is set to the request)'
        """
        for e in self.explanations:
            if e.field == field:
                return e
        raise KeyError(field)

    def to_spec(self) -> ResourceSpec:
        """The result as a ResourceSpec (explicit zeros left out: Kubernetes treats them as none)."""
        requests = {r: q for r, q in self.requests.items() if not q.is_zero()}
        limits = {r: q for r, q in self.limits.items() if not q.is_zero()}
        return ResourceSpec._from_parts(requests, limits, self.accelerator, self.shared_memory)

    def to_k8s(self) -> dict[str, dict[str, str]]:
        """The container's ``resources`` as Kubernetes names and canonical quantities.

        A device count is written on both sides: devices are extended resources, and the API
        server refuses a request without a limit.
        """
        requests, limits = dict(self.requests), dict(self.limits)
        gpu = requests.get(Resource.GPU, limits.get(Resource.GPU))
        if gpu is not None:
            requests.setdefault(Resource.GPU, gpu)
            limits.setdefault(Resource.GPU, gpu)
        return {
            "requests": {self._k8s_name(r): str(q) for r, q in _in_order(requests).items()},
            "limits": {self._k8s_name(r): str(q) for r, q in _in_order(limits).items()},
        }

    def _k8s_name(self, r: Resource) -> str:
        return self.gpu_resource_name if r is Resource.GPU else _K8S_NAMES.get(r, str(r))

    def to_dict(self) -> dict[str, Any]:
        return {
            "launch": self.launch.value,
            "rejected": self.rejected,
            "resources": self.to_k8s(),
            "explanations": [e.to_dict() for e in self.explanations],
            "findings": [f.to_dict() for f in self.findings],
        }

    def __str__(self) -> str:
        lines = [str(e) for e in self.explanations]
        lines += [f"{f.severity}: {f}" for f in self.findings if f.severity is not Severity.INFO]
        return "\n".join(lines)
