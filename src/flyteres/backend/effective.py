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

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from flyteres.accelerators import DeviceClass
from flyteres.backend.admission import admit
from flyteres.backend.config import K8S_PLUGIN_BUILTINS, PLATFORM_RESOURCES, PlatformConfig, PlatformForm
from flyteres.backend.manifests import LimitRangeSpec, QuotaSpec, limitranges_of
from flyteres.backend.results import (
    EffectiveResources,
    Explanation,
    Launch,
    LaunchName,
    PlatformFinding,
    PlatformRule,
    Severity,
    Side,
)
from flyteres.core.quantity import Quantity
from flyteres.core.spec import Resource, ResourceSpec

__all__ = ["effective"]

_ZERO = Quantity.parse("0")
# flyteidl's ResourceName, which is how flyteadmin names a resource in its errors.
_ADMIN_NAMES = {
    Resource.CPU: "CPU",
    Resource.MEMORY: "MEMORY",
    Resource.GPU: "GPU",
    Resource.EPHEMERAL_STORAGE: "EPHEMERAL_STORAGE",
}


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


class _View:
    """The platform values one launch sees, and how to say where each comes from.

    flyteadmin's launches see the platform's defaults and limits (a file's
    own values and the built-ins it leaves in place). A Flyte 2 task has no
    flyteadmin: it sees a config built in code as given, never a file's
    flyteadmin sections, and cpu and memory without a default fall back to
    the k8s plugin's ``default-cpus``/``default-memory`` (``resolvePlatformDefaults``).
    """

    def __init__(self, platform: PlatformConfig | None, launch: Launch) -> None:
        self.defaults: dict[Resource, Quantity] = {}
        self.limits: dict[Resource, Quantity] = {}
        self.default_reason: dict[Resource, str] = {}
        # " (admin.yaml:11)" for a file's limit, " (flyteadmin's built-in limit: ...)" for a built-in one.
        self.limit_where: dict[Resource, str] = {}
        self.limit_origin: dict[Resource, str] = {}
        admin = platform is not None and (launch is not Launch.FLYTE2 or platform.form is PlatformForm.CODE)
        if platform is not None and admin:
            self._admin(platform)
        if launch is Launch.FLYTE2:
            self._plugin(platform)

    def _admin(self, p: PlatformConfig) -> None:
        for r in PLATFORM_RESOURCES:
            d, lim = p.default(r), p.limit(r)
            if d is not None:
                self.defaults[r] = d
                self.default_reason[r] = p.origin(f"defaults.{r}") or "platform default"
            if lim is not None:
                self.limits[r] = lim
                origin = p.origins.get(f"limits.{r}")
                self.limit_origin[r] = "" if origin is None else f" ({origin[0]} limit: {origin[1]})"
                self.limit_where[r] = self.limit_origin[r] or (f" ({p.where(f'limits.{r}')})" if p.path else "")

    def _plugin(self, p: PlatformConfig | None) -> None:
        for r in (Resource.CPU, Resource.MEMORY):
            if r in self.defaults or (p is not None and p.form is PlatformForm.CODE and r in p.defaults):
                continue  # resolvePlatformDefaults keeps a platform value that is present, even a zero
            setting = "default-cpus" if r is Resource.CPU else "default-memory"
            q = None if p is None else p.plugin_defaults.get(r)
            if p is not None and q is not None:
                origin = p.origins.get(f"k8s.{r}")
                where = f"{p.where(f'k8s.{r}')}" if origin is None else f"{origin[0]}: {origin[1]}"
                reason = f"platform default: the k8s plugin's {setting} ({where})"
            elif p is not None and p.complete:
                continue
            else:
                q = K8S_PLUGIN_BUILTINS[r]
                if p is None:
                    why = "no platform given"
                elif p.form is PlatformForm.CODE:
                    why = f"the platform has no {r} default"
                else:
                    why = f"the file does not set {setting}; flyteadmin's task_resources do not reach Flyte 2"
                reason = f"the k8s plugin's built-in {setting} ({why})"
            if not q.is_zero():
                self.defaults[r] = q
                self.default_reason[r] = reason


class _Run:
    """One evaluation: the platform, the findings so far, and helpers that record them once."""

    def __init__(self, platform: PlatformConfig | None, launch: Launch) -> None:
        self.platform = platform
        self.launch = launch
        self.view = _View(platform, launch)
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
        return self.view.defaults.get(r)

    def limit(self, r: Resource) -> Quantity | None:
        return self.view.limits.get(r)

    def where(self, r: Resource) -> str:
        """Where the platform limit of ``r`` is set, as " (file:line)" or " (flyteadmin's built-in limit: ...)"."""
        return self.view.limit_where.get(r, "")

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
                    req = _V(default, PlatformRule.PLATFORM_DEFAULT, self.view.default_reason[r], None)
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
                Severity.WARNING,
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
        origin = self.view.limit_origin.get(r, "")
        if v.rule in (PlatformRule.TASK, PlatformRule.OVERRIDE):
            reason = f"capped at the platform limit {plimit}{origin}; the {v.who} asked for {v.q}"
        else:
            reason = f"{v.reason}, then capped at the platform limit {plimit}{origin} (it was {v.q})"
        field = f"{side}.{r}"
        # One finding per value someone wrote; a copy of it is capped for the same reason. A value
        # flyteadmin refuses at registration never runs, so its cap is not news.
        refused = (PlatformRule.REJECTED_AT_REGISTRATION, field) in self._seen
        if v.rule in (PlatformRule.TASK, PlatformRule.OVERRIDE, PlatformRule.PLATFORM_DEFAULT) and not refused:
            self.add(
                PlatformRule.CAPPED_AT_PLATFORM_LIMIT,
                Severity.WARNING,
                field,
                v.q,
                f"above the platform limit {plimit}{self.where(r)}: the pod silently gets {plimit}"
                + self._why_not_refused(r, side, v, plimit),
            )
        return _V(plimit, PlatformRule.CAPPED_AT_PLATFORM_LIMIT, reason, v.who)

    def _why_not_refused(self, r: Resource, side: Side, v: _V, plimit: Quantity) -> str:
        if self.launch is Launch.FLYTE2 or v.rule is PlatformRule.PLATFORM_DEFAULT:
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
            Severity.WARNING,
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
                Severity.ERROR,
                f"limits.{r}",
                lim,
                f"flyteadmin refuses to register the task: the limit {lim} is above the platform limit "
                f'{plimit}{run.where(r)} ("Requested {name} limit [{lim}] is greater than '
                f'current limit set in the platform configuration [{plimit}]")',
            )
        if plimit is not None and req.value() > plimit.value():
            run.add(
                PlatformRule.REJECTED_AT_REGISTRATION,
                Severity.ERROR,
                f"requests.{r}",
                req,
                f"flyteadmin refuses to register the task: the request {req} is above the platform limit "
                f'{plimit}{run.where(r)} ("Requested {name} default [{req}] is greater than '
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
                    Severity.INFO,
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
                        Severity.WARNING,
                        field,
                        q,
                        f"the {who}'s zero is dropped before merging, so the {kept.q} already there stays",
                    )
                else:
                    run.add(PlatformRule.ZERO_DROPPED, Severity.INFO, field, q, "a zero quantity never reaches the pod")
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


def _replace_flyte2(
    run: _Run, spec: ResourceSpec, overrides: ResourceSpec
) -> tuple[dict[Resource, _V], dict[Resource, _V]]:
    """Flyte 2's override(resources=...): the override's values replace the task's, whole."""
    finding = flyte2_override_drops(spec, spec_fields(overrides))
    if finding is not None:
        run.add(finding.rule, finding.severity, finding.field, finding.value, finding.reason)
    return _read(run, overrides, "override")


def spec_fields(spec: ResourceSpec) -> frozenset[str]:
    """The fields a spec sets: `requests.cpu`, `limits.memory`, ..., `accelerator`, `shared_memory`."""
    fields = {f"{s}.{r.value}" for s, m in (("requests", spec.requests), ("limits", spec.limits)) for r in m}
    if spec.accelerator is not None:
        fields.add("accelerator")
    if spec.shared_memory is not None:
        fields.add("shared_memory")
    return frozenset(fields)


def flyte2_override_drops(spec: ResourceSpec, given: Collection[str]) -> PlatformFinding | None:
    """The warning for a Flyte 2 `override(resources=...)` that gives only the fields `given`
    (named as `spec_fields` names them): every field of the task's `spec` it does not give is gone,
    since the override replaces the whole `Resources`. None when nothing is dropped.

    Takes field names rather than a spec so a caller that knows which parameters an override passes,
    but not their values, can still tell what it drops.
    """
    dropped = sorted(spec_fields(spec) - set(given), key=_FIELD_ORDER.index)
    if not dropped:
        return None
    return PlatformFinding(
        PlatformRule.OVERRIDE_REPLACES_RESOURCES,
        Severity.WARNING,
        "resources",
        ", ".join(dropped),
        "Flyte 2's override(resources=...) replaces the whole Resources: the task's "
        f"{', '.join(dropped)} are gone (use flyteres.merge or override_resources to keep them)",
    )


# The order in which the warning names dropped fields (it used to sort requests/limits pairs by name).
_FIELD_ORDER = (
    *sorted(f"{s}.{r.value}" for s in ("requests", "limits") for r in Resource),
    "accelerator",
    "shared_memory",
)


def effective(
    spec: ResourceSpec,
    platform: PlatformConfig | None = None,
    overrides: ResourceSpec | None = None,
    *,
    launch: Launch | LaunchName = Launch.WORKFLOW,
    quotas: QuotaSpec | Sequence[QuotaSpec] = (),
    limitranges: LimitRangeSpec | Sequence[LimitRangeSpec] = (),
) -> EffectiveResources:
    """The container's final requests and limits after the backend's defaulting, checks and override clamping.

    ``launch`` says how the task is started: ``"workflow"`` (a registered
    workflow or single-task execution: flyteadmin fills defaults in at launch,
    then node overrides are merged), ``"dynamic"`` (inside a ``@dynamic``: no
    launch-time filling) or ``"flyte2"`` (no flyteadmin; an override replaces
    the whole spec; cpu and memory without a default take the k8s plugin's).
    ``platform=None`` applies only the task-level rules (and, for Flyte 2,
    the k8s plugin's built-in defaults).

    ``quotas`` and ``limitranges`` are the namespace's: the pod Flyte built
    then goes through Kubernetes' admission (`flyteres.backend.admission`).
    One verdict: a task flyteadmin refuses to register is reported with that
    refusal only, and a pod Kubernetes refuses with the first step that
    refuses it; the values shown are what it would have got.

    >>> platform = PlatformConfig(defaults={"cpu": "500m", "memory": "1Gi"}, limits={"memory": "8Gi"})
    >>> e = effective(ResourceSpec(requests={"cpu": "1"}, limits={"memory": "16Gi"}), platform)
    >>> e.explain("requests.memory").rule.value
    'capped-at-platform-limit'
    >>> print(e.explain("limits.memory"))
    limits.memory = 8Gi (capped at the platform limit 8Gi; the task asked for 16Gi)
    """
    launch = Launch.parse(launch)
    run = _Run(platform, launch)
    run.task_requests = {r for r, q in spec.requests.items() if not q.is_zero()}
    if launch is not Launch.FLYTE2 and platform is not None:
        _registration(run, spec)
    # Nothing after a refusal at registration happens: no launch, no pod.
    registered = len(run.findings)
    refused = registered > 0
    req, lim = _read(run, spec, "task")
    accelerator, shared_memory = spec.accelerator, spec.shared_memory

    overridden: set[Resource] = set()
    if overrides is not None:
        overridden = {*overrides.requests, *overrides.limits}
    if launch is Launch.WORKFLOW:
        req, lim = _admin_fill(run, req, lim, overridden)

    if overrides is not None:
        if launch is Launch.FLYTE2:
            req, lim = _replace_flyte2(run, spec, overrides)
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

    gpu_class = (
        accelerator.device_class if accelerator is not None and launch is Launch.FLYTE2 else DeviceClass.NVIDIA_GPU
    )
    gpu_name = gpu_class.kubernetes_resource or "nvidia.com/gpu"
    requests = {r: v.q for r, v in final_req.items()}
    limits = {r: v.q for r, v in final_lim.items()}
    findings = run.findings
    if refused:
        findings = findings[:registered]
    else:
        admitted = admit(
            requests,
            limits,
            gpu_name=gpu_name,
            limitranges=limitranges_of(limitranges),
            quotas=(quotas,) if isinstance(quotas, QuotaSpec) else tuple(quotas),
            shared_memory=shared_memory,
        )
        requests, limits = admitted.requests, admitted.limits
        set_at_admission = {e.field: e for e in admitted.explanations}
        explanations = [set_at_admission.pop(e.field, e) for e in explanations] + list(set_at_admission.values())
        findings = [*findings, *admitted.findings]
    return EffectiveResources(
        MappingProxyType({r: requests[r] for r in Resource if r in requests}),
        MappingProxyType({r: limits[r] for r in Resource if r in limits}),
        tuple(explanations),
        tuple(findings),
        accelerator,
        shared_memory,
        launch,
        gpu_name,
    )
