"""What the pod really gets: the Flyte backend's defaulting, checks and clamping, value by value.

A task's declared resources pass three places before a container runs, and
each one can change them. ``effective`` replays all three and says, for every
value, which rule set it and from which input.

1. **Registration** (flyteadmin ``CreateTask`` → ``validation/task_validator.go``
   ``validateTaskResources``/``validateResource``, flyteorg/flyte v1.16). The
   task is *refused* when, for a resource the task **requests**, the request
   or the task's own limit is above the platform limit. Three quirks decide
   what slips through, and ``effective`` keeps them:

   - only requested resources are checked, so a limit without a request is
     never refused (it is capped later, silently);
   - values are compared with ``Quantity.Value()``, which rounds up to a whole
     number, so ``cpu=800m`` passes a ``500m`` limit (both count as 1);
   - a zero platform limit means "no limit" (``taskResourceSetToMap``).

2. **Launch** (flyteadmin ``execution_manager.go`` ``setCompiledTaskDefaults``,
   for every container task of a workflow or a single-task execution). Each
   resource goes through flyteplugins ``flytek8s/container_helper.go``
   ``AdjustOrDefaultResource`` with the platform defaults and limits: cpu and
   memory always; ephemeral storage and gpu when the task sets either side or
   the platform has a default. The template now holds a request *and* a limit
   for each, before any node override is looked at.

3. **Run** (flytepropeller → ``container_helper.go`` ``AddFlyteCustomizationsToContainer``
   in ``ResourceCustomizationModeMergeExistingResources``). Zero quantities
   are dropped when the template is read (``utils.go`` ``ToK8sResourceList``);
   the node's overrides (flytekit's ``with_overrides``) are merged key by key
   (``MergeResources``); then ``ApplyResourceOverrides`` runs
   ``AdjustOrDefaultResource`` again — cpu and memory always, ephemeral storage
   and gpu only when present — with the execution's platform values (which
   always carry a cpu and memory entry, so a missing default is written to the
   pod as an explicit ``0``; ``taskexec_context.go``
   ``convertTaskResourcesToRequirements``).

``AdjustOrDefaultResource`` itself: a missing (or zero) request becomes the
limit, else the platform default; a missing limit becomes the request; then
``ensureResourceRange`` caps the request and the limit at the platform limit
and the request at the limit, in that order.

Because step 2 fills in limits before step 3 merges overrides, an override of
requests alone is clamped to the limit flyteadmin copied from the old request
("Requests are clamped to original limits", flytekit ``core/node.py``). Inside
a ``@dynamic`` (``launch="dynamic"``) step 2 does not happen: the override's
request stands and the limit follows it. Flyte 2 (``launch="flyte2"``) has no
flyteadmin and no node overrides: ``task.override(resources=...)`` replaces the
whole ``Resources``, so anything the override leaves out falls back to the
platform defaults.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType
from typing import Any, Literal

from flyteres.accelerators import DeviceClass
from flyteres.backend.config import PLATFORM_RESOURCES, PlatformConfig, QuotaSpec
from flyteres.core.quantity import Quantity
from flyteres.core.spec import AcceleratorSpec, Resource, ResourceSpec, SharedMemorySpec

__all__ = [
    "EffectiveResources",
    "Explanation",
    "Launch",
    "PlatformFinding",
    "PlatformRule",
    "Severity",
    "check_quota",
    "effective",
]

Launch = Literal["workflow", "dynamic", "flyte2"]
LAUNCHES: tuple[Launch, ...] = ("workflow", "dynamic", "flyte2")
Severity = Literal["error", "warning", "info"]
Side = Literal["requests", "limits"]

_ZERO = Quantity.parse("0")
_K8S_NAMES = {Resource.CPU: "cpu", Resource.MEMORY: "memory", Resource.EPHEMERAL_STORAGE: "ephemeral-storage"}
# flyteidl's ResourceName, which is how flyteadmin names a resource in its errors.
_ADMIN_NAMES = {
    Resource.CPU: "CPU",
    Resource.MEMORY: "MEMORY",
    Resource.GPU: "GPU",
    Resource.EPHEMERAL_STORAGE: "EPHEMERAL_STORAGE",
}


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
            "severity": self.severity,
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
    launch: Launch = "workflow"
    gpu_resource_name: str = "nvidia.com/gpu"

    @property
    def rejected(self) -> bool:
        """Whether flyteadmin refuses to register the task."""
        return any(f.rule is PlatformRule.REJECTED_AT_REGISTRATION for f in self.findings)

    @property
    def errors(self) -> tuple[PlatformFinding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> tuple[PlatformFinding, ...]:
        return tuple(f for f in self.findings if f.severity == "warning")

    def explain(self, field: str) -> Explanation:
        """The explanation of one value, by field name (``"limits.memory"``).

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
        """The container's ``resources`` as Kubernetes names and canonical quantities."""
        return {
            "requests": {self._k8s_name(r): str(q) for r, q in self.requests.items()},
            "limits": {self._k8s_name(r): str(q) for r, q in self.limits.items()},
        }

    def _k8s_name(self, r: Resource) -> str:
        return self.gpu_resource_name if r is Resource.GPU else _K8S_NAMES.get(r, str(r))

    def to_dict(self) -> dict[str, Any]:
        return {
            "launch": self.launch,
            "rejected": self.rejected,
            "resources": self.to_k8s(),
            "explanations": [e.to_dict() for e in self.explanations],
            "findings": [f.to_dict() for f in self.findings],
        }

    def __str__(self) -> str:
        lines = [str(e) for e in self.explanations]
        lines += [f"{f.severity}: {f}" for f in self.findings if f.severity != "info"]
        return "\n".join(lines)


# -- tracked values --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _V:
    """A value on its way to the pod: the quantity, the rule that set it last and the story so far."""

    q: Quantity
    rule: PlatformRule
    reason: str
    # Who wrote the value the story starts from ("task", "override"), for "the task asked for ...".
    who: str | None = None


def _side_word(side: Side) -> str:
    return "request" if side == "requests" else "limit"


def _given(q: Quantity, who: str, side: Side) -> _V:
    rule = PlatformRule.TASK if who == "task" else PlatformRule.OVERRIDE
    reason = f"from the {who}'s {_side_word(side)}"
    if q.text != str(q):
        reason += f", written {q.text!r}"
    return _V(q, rule, reason, who)


class _Run:
    """One evaluation: the platform, the findings so far, and helpers that record them once."""

    def __init__(self, platform: PlatformConfig | None, launch: Launch) -> None:
        self.platform = platform
        self.launch = launch
        self.findings: list[PlatformFinding] = []
        self._seen: set[tuple[PlatformRule, str]] = set()
        self.task_requests: set[Resource] = set()

    def add(self, rule: PlatformRule, severity: Severity, field: str, value: object, reason: str) -> None:
        if (rule, field) in self._seen:
            return
        self._seen.add((rule, field))
        shown = str(value) if isinstance(value, Quantity) else value if isinstance(value, str) else repr(value)
        self.findings.append(PlatformFinding(rule, severity, field, shown, reason))

    def default(self, r: Resource) -> Quantity | None:
        return None if self.platform is None else self.platform.default(r)

    def limit(self, r: Resource) -> Quantity | None:
        return None if self.platform is None else self.platform.limit(r)

    def where(self, key: str) -> str:
        if self.platform is None or self.platform.path is None:
            return ""
        return f" ({self.platform.where(key)})"

    # -- AdjustOrDefaultResource + ensureResourceRange -----------------------------------------------------------

    def adjust(self, r: Resource, req: _V | None, lim: _V | None, *, stage: str) -> tuple[_V | None, _V | None]:
        if req is None:
            if lim is not None:
                req = _V(
                    lim.q,
                    PlatformRule.REQUEST_FROM_LIMIT,
                    "copied from the limit: a missing request is set to the limit",
                    lim.who,
                )
            else:
                default = self.default(r)
                if default is not None:
                    req = _V(default, PlatformRule.PLATFORM_DEFAULT, "platform default", None)
        if lim is None and req is not None:
            lim = _V(
                req.q,
                PlatformRule.LIMIT_FROM_REQUEST,
                "copied from the request: a missing limit is set to the request",
                req.who,
            )
        if req is None or lim is None:
            # Only cpu and memory get here: the execution's platform values always have an entry for them,
            # so the backend writes an explicit zero (propeller taskexec_context.go convertTaskResourcesToRequirements).
            return self._no_value(r, stage)
        plimit = self.limit(r)
        if plimit is not None:
            req = self._cap(r, "requests", req, plimit)
            lim = self._cap(r, "limits", lim, plimit)
        if req.q > lim.q:
            req = self._clamp(r, req, lim)
        return req, lim

    def _no_value(self, r: Resource, stage: str) -> tuple[_V | None, _V | None]:
        if self.platform is None:
            return None, None
        if stage == "run":
            self.add(
                PlatformRule.NO_VALUE,
                "warning",
                str(r),
                "0",
                f"the task sets no {r} and the platform has no default for it, so the pod gets {r} 0 as request "
                "and limit: nothing is reserved and nothing is limited",
            )
        zero = _V(
            _ZERO,
            PlatformRule.NO_VALUE,
            "nothing sets it and the platform has no default: the backend writes 0 (no reservation, no limit)",
            None,
        )
        return zero, zero

    def _cap(self, r: Resource, side: Side, v: _V, plimit: Quantity) -> _V:
        if v.q <= plimit:
            return v
        if v.rule in (PlatformRule.TASK, PlatformRule.OVERRIDE):
            reason = f"capped at the platform limit {plimit}; the {v.who} asked for {v.q}"
        else:
            reason = f"{v.reason}, then capped at the platform limit {plimit} (it was {v.q})"
        field = f"{side}.{r}"
        # One finding per value someone wrote; a copy of it is capped for the same reason. A value
        # flyteadmin refuses at registration never runs, so its cap is not news.
        refused = (PlatformRule.REJECTED_AT_REGISTRATION, field) in self._seen
        if v.rule in (PlatformRule.TASK, PlatformRule.OVERRIDE, PlatformRule.PLATFORM_DEFAULT) and not refused:
            self.add(
                PlatformRule.CAPPED_AT_PLATFORM_LIMIT,
                "warning",
                field,
                v.q,
                f"above the platform limit {plimit}{self.where(f'limits.{r}')}: the pod silently gets {plimit}"
                + self._why_not_refused(r, side, v, plimit),
            )
        return _V(plimit, PlatformRule.CAPPED_AT_PLATFORM_LIMIT, reason, v.who)

    def _why_not_refused(self, r: Resource, side: Side, v: _V, plimit: Quantity) -> str:
        if self.launch == "flyte2" or v.rule is PlatformRule.PLATFORM_DEFAULT:
            return ""
        if v.who == "override":
            return " (flyteadmin never checks node overrides)"
        if side == "limits" and r not in self.task_requests:
            return " (flyteadmin checks a limit at registration only when the task also sets a request)"
        return (
            f" (flyteadmin compares whole numbers at registration: {v.q} and {plimit} both round up to "
            f"{plimit.value()}, so it did not refuse it)"
        )

    def _clamp(self, r: Resource, req: _V, lim: _V) -> _V:
        if req.rule in (PlatformRule.TASK, PlatformRule.OVERRIDE):
            reason = f"clamped to the limit {lim.q}: a request cannot exceed its limit; the {req.who} asked for {req.q}"
        else:
            reason = f"{req.reason}, then clamped to the limit {lim.q} (it was {req.q})"
        hint = ""
        if req.who == "override" and lim.who != "override":
            hint = f"; override limits.{r} too (flytekit warns 'Requests are clamped to original limits')"
        self.add(
            PlatformRule.REQUEST_CLAMPED_TO_LIMIT,
            "warning",
            f"requests.{r}",
            req.q,
            f"above the limit {lim.q}, so the pod gets a request of {lim.q}{hint}",
        )
        return _V(lim.q, PlatformRule.REQUEST_CLAMPED_TO_LIMIT, reason, req.who)


# -- the three stages ------------------------------------------------------------------------------------------


def _registration(run: _Run, spec: ResourceSpec) -> None:
    """flyteadmin validateResource: what refuses the task at registration (only requested resources are checked)."""
    for r, req in spec.requests.items():
        if r not in PLATFORM_RESOURCES:
            continue
        plimit = run.limit(r)
        lim = spec.limits.get(r)
        name = _ADMIN_NAMES[r]
        # flyteadmin compares Quantity.Value(): rounded up to a whole number.
        if lim is not None and r is not Resource.GPU and plimit is not None and lim.value() > plimit.value():
            run.add(
                PlatformRule.REJECTED_AT_REGISTRATION,
                "error",
                f"limits.{r}",
                lim,
                f"flyteadmin refuses to register the task: the limit {lim} is above the platform limit "
                f'{plimit}{run.where(f"limits.{r}")} ("Requested {name} limit [{lim}] is greater than '
                f'current limit set in the platform configuration [{plimit}]")',
            )
        if plimit is not None and req.value() > plimit.value():
            run.add(
                PlatformRule.REJECTED_AT_REGISTRATION,
                "error",
                f"requests.{r}",
                req,
                f"flyteadmin refuses to register the task: the request {req} is above the platform limit "
                f'{plimit}{run.where(f"limits.{r}")} ("Requested {name} default [{req}] is greater than '
                f'current limit set in the platform configuration [{plimit}]")',
            )


def _read(
    run: _Run, spec: ResourceSpec, who: str, below: tuple[dict[Resource, _V], dict[Resource, _V]] | None = None
) -> tuple[dict[Resource, _V], dict[Resource, _V]]:
    """The values the backend sees: zeros and the legacy storage resource are dropped (ToK8sResourceList).

    ``below`` holds the values an override is merged onto, to say when a zero in it changes nothing.
    """
    out: tuple[dict[Resource, _V], dict[Resource, _V]] = ({}, {})
    prefix = "" if who == "task" else f"{who}."
    sides: tuple[tuple[Side, Mapping[Resource, Quantity], int], ...] = (
        ("requests", spec.requests, 0),
        ("limits", spec.limits, 1),
    )
    for side, values, i in sides:
        for r, q in values.items():
            field = f"{prefix}{side}.{r}"
            if r is Resource.STORAGE:
                run.add(
                    PlatformRule.STORAGE_IGNORED,
                    "info",
                    field,
                    q,
                    "the legacy storage resource never reaches the pod (the backend has no mapping for it)",
                )
                continue
            if q.is_zero():
                kept = below[i].get(r) if below is not None else None
                if kept is not None:
                    run.add(
                        PlatformRule.ZERO_DROPPED,
                        "warning",
                        field,
                        q,
                        f"the {who}'s zero is dropped before merging, so the {kept.q} already there stays",
                    )
                else:
                    run.add(PlatformRule.ZERO_DROPPED, "info", field, q, "a zero quantity never reaches the pod")
                continue
            out[i][r] = _given(q, who, side)
    return out


def _admin_fill(
    run: _Run, req: dict[Resource, _V], lim: dict[Resource, _V], overridden: set[Resource]
) -> tuple[dict[Resource, _V], dict[Resource, _V]]:
    """flyteadmin setCompiledTaskDefaults: defaults and caps written into the template at launch."""
    new_req: dict[Resource, _V] = {}
    new_lim: dict[Resource, _V] = {}
    for r in PLATFORM_RESOURCES:
        if r in (Resource.GPU, Resource.EPHEMERAL_STORAGE) and r not in req and r not in lim and run.default(r) is None:
            continue
        a, b = run.adjust(r, req.get(r), lim.get(r), stage="launch")
        for v, target in ((a, new_req), (b, new_lim)):
            if v is None or v.q.is_zero():
                # flyteadmin writes "0", which the next read drops again.
                continue
            note = ""
            if r in overridden and v.rule not in (PlatformRule.TASK, PlatformRule.OVERRIDE):
                note = " (flyteadmin sets it at launch, before node overrides are merged)"
            target[r] = _V(v.q, v.rule, v.reason + note, v.who)
    return new_req, new_lim


def _merge_overrides(run: _Run, req: dict[Resource, _V], lim: dict[Resource, _V], overrides: ResourceSpec) -> None:
    """MergeResources: the override's non-zero entries replace the template's, key by key."""
    o_req, o_lim = _read(run, overrides, "override", (req, lim))
    req.update(o_req)
    lim.update(o_lim)


def effective(
    spec: ResourceSpec,
    platform: PlatformConfig | None = None,
    overrides: ResourceSpec | None = None,
    *,
    launch: Launch = "workflow",
    quotas: QuotaSpec | Sequence[QuotaSpec] = (),
) -> EffectiveResources:
    """The container's final requests and limits after the backend's defaulting, checks and override clamping.

    ``launch`` says how the task is started: ``"workflow"`` (a registered
    workflow or single-task execution: flyteadmin fills defaults in at launch,
    then node overrides are merged), ``"dynamic"`` (inside a ``@dynamic``: no
    launch-time filling) or ``"flyte2"`` (no flyteadmin; an override replaces
    the whole spec). ``platform=None`` applies only the task-level rules.

    >>> platform = PlatformConfig(defaults={"cpu": "500m", "memory": "1Gi"}, limits={"memory": "8Gi"})
    >>> e = effective(ResourceSpec(requests={"cpu": "1"}, limits={"memory": "16Gi"}), platform)
    >>> e.explain("requests.memory").rule.value
    'capped-at-platform-limit'
    >>> print(e.explain("limits.memory"))
    limits.memory = 8Gi (capped at the platform limit 8Gi; the task asked for 16Gi)
    """
    if launch not in LAUNCHES:
        raise ValueError(f"launch must be one of {', '.join(LAUNCHES)}, not {launch!r}")
    run = _Run(platform, launch)
    run.task_requests = {r for r, q in spec.requests.items() if not q.is_zero()}
    if launch != "flyte2" and platform is not None:
        _registration(run, spec)
    req, lim = _read(run, spec, "task")
    accelerator, shared_memory = spec.accelerator, spec.shared_memory

    overridden: set[Resource] = set()
    if overrides is not None:
        overridden = {*overrides.requests, *overrides.limits}
    if launch == "workflow":
        req, lim = _admin_fill(run, req, lim, overridden)

    if overrides is not None:
        if launch == "flyte2":
            dropped = sorted(
                {f"{s}.{r}" for s, m in (("requests", spec.requests), ("limits", spec.limits)) for r in m}
                - {f"{s}.{r}" for s, m in (("requests", overrides.requests), ("limits", overrides.limits)) for r in m}
            )
            if spec.accelerator is not None and overrides.accelerator is None:
                dropped.append("accelerator")
            if spec.shared_memory is not None and overrides.shared_memory is None:
                dropped.append("shared_memory")
            if dropped:
                run.add(
                    PlatformRule.OVERRIDE_REPLACES_RESOURCES,
                    "warning",
                    "resources",
                    ", ".join(dropped),
                    "Flyte 2's override(resources=...) replaces the whole Resources: the task's "
                    f"{', '.join(dropped)} are gone (use flyteres.merge or override_resources to keep them)",
                )
            req, lim = _read(run, overrides, "override")
            accelerator, shared_memory = overrides.accelerator, overrides.shared_memory
        else:
            _merge_overrides(run, req, lim, overrides)
            # applyExtendedResourcesOverrides: each extended resource is replaced only when the override sets it.
            if overrides.accelerator is not None:
                accelerator = overrides.accelerator
            if overrides.shared_memory is not None:
                shared_memory = overrides.shared_memory

    final_req: dict[Resource, _V] = {}
    final_lim: dict[Resource, _V] = {}
    explanations: list[Explanation] = []
    for r in PLATFORM_RESOURCES:
        if r in (Resource.GPU, Resource.EPHEMERAL_STORAGE) and r not in req and r not in lim:
            continue
        a, b = run.adjust(r, req.get(r), lim.get(r), stage="run")
        for side, v, target in (("requests", a, final_req), ("limits", b, final_lim)):
            field_name = f"{side}.{r}"
            if v is None:
                explanations.append(
                    Explanation(
                        field_name, None, PlatformRule.PLATFORM_DEFAULT, "nothing sets it; the platform default applies"
                    )
                )
                continue
            target[r] = v
            explanations.append(Explanation(field_name, v.q, v.rule, v.reason))

    gpu_class = accelerator.device_class if accelerator is not None and launch == "flyte2" else DeviceClass.NVIDIA_GPU
    gpu_name = gpu_class.kubernetes_resource or "nvidia.com/gpu"
    _post_checks(run, final_req, final_lim, shared_memory)
    requests = MappingProxyType({r: v.q for r, v in final_req.items()})
    limits = MappingProxyType({r: v.q for r, v in final_lim.items()})
    for quota in (quotas,) if isinstance(quotas, QuotaSpec) else quotas:
        for f in check_quota(requests, limits, quota, gpu_resource_name=gpu_name):
            run.add(f.rule, f.severity, f.field, f.value, f.reason)
    return EffectiveResources(
        requests,
        limits,
        tuple(explanations),
        tuple(run.findings),
        accelerator,
        shared_memory,
        launch,
        gpu_name,
    )


def _post_checks(
    run: _Run, req: Mapping[Resource, _V], lim: Mapping[Resource, _V], shm: SharedMemorySpec | None
) -> None:
    g_req, g_lim = req.get(Resource.GPU), lim.get(Resource.GPU)
    if g_req is not None and g_lim is not None and g_req.q != g_lim.q:
        run.add(
            PlatformRule.GPU_REQUEST_LIMIT_DIFFER,
            "error",
            "requests.gpu",
            g_req.q,
            f"differs from the limit {g_lim.q} after merging; Kubernetes refuses a pod whose device request "
            "and limit differ (override both sides)",
        )
    mem = lim.get(Resource.MEMORY)
    if shm is not None and shm.size_limit is not None and mem is not None and shm.size_limit > mem.q > _ZERO:
        run.add(
            PlatformRule.SHM_ABOVE_MEMORY_LIMIT,
            "warning",
            "shared_memory.size_limit",
            shm.size_limit,
            f"larger than the memory limit the pod gets ({mem.q}); shared memory counts against it",
        )


# -- ResourceQuota -----------------------------------------------------------------------------------------------

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
                        "error",
                        field,
                        "not set",
                        f"the ResourceQuota {quota.name!r} ({quota.where(key)}) tracks {key}, so Kubernetes refuses "
                        f'a container without a {r} {_side_word(side)} ("must specify {key}")',
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
                    "error",
                    field,
                    str(usage),
                    f"the pod alone needs {key}={usage} but the ResourceQuota {quota.name!r} ({quota.where(key)}) "
                    f'allows {key}={hard} in the whole namespace, so Kubernetes refuses it ("exceeded quota")',
                )
            )
    return tuple(out)
