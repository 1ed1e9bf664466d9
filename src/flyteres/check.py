"""The library behind ``flyteres check``: which tasks a platform will refuse, cap or leave without limits.

Every declaration in the given files, flytekit's and Flyte 2's, is read
statically (`flyteres.source`; the modules are never imported, libcst is
never loaded) and replayed through `effective` under the platform's values
and, optionally, the namespace's ResourceQuotas and LimitRanges. One run
checks a project that mixes both SDKs:

- flytekit tasks under the launch of a registered workflow (flyteadmin fills
  defaults in); ``with_overrides`` calls against the task they override,
  inside a ``@dynamic`` as the backend runs them there;
- Flyte 2 environments (and ``clone_with``) under Flyte 2's launch
  (``launch="flyte2"``: no flyteadmin, the k8s plugin's defaults), a finding
  pointing at the environment's line; ``task.override(resources=...)``
  against the task's environment, with the merged ``flyte.Resources`` that
  would keep what the override drops. Values flyte itself refuses (the module
  fails to import, such as a ``"NAME:N"`` count flyte does not allow) and
  overrides a reusable environment refuses are errors.

With the accelerator labels the platform's nodes carry (``node_labels``), a
task that asks for a device label no node has is reported, including a
Flyte 2 spelling whose label differs from flytekit's (flyte sends ``"H100"``
as ``nvidia-tesla-h100``). Each declaration gets one verdict: what refuses it
first, and nothing after that.

Exit codes: 0 nothing found, 1 something found, 2 a usage or input error (a
file that cannot be read, a malformed platform or quota file). A file the
running Python cannot parse is listed as not checked and changes neither.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from flyteres._errors import FlyteresError
from flyteres.backend.config import PlatformConfig, PlatformNote, QuotaSpec
from flyteres.backend.effective import effective, flyte2_override_drops
from flyteres.backend.manifests import LimitRangeSpec
from flyteres.backend.results import EffectiveResources, Launch, PlatformFinding, PlatformRule, Severity
from flyteres.core.spec import Resource, ResourceSpec
from flyteres.report.model import CommonRule, Issue, Level, Selected, exit_code, hidden_text
from flyteres.source.analysis import TEMPLATE_UNKNOWN
from flyteres.source.model import Declaration, DeclarationKind
from flyteres.source.project import ModuleRecord, OverrideRecord, Project, TaskRecord, read_project

__all__ = ["CheckFinding", "CheckReport", "CheckRule", "CheckedDeclaration", "check_paths"]

_TASK_KINDS = frozenset({DeclarationKind.TASK, DeclarationKind.DYNAMIC, DeclarationKind.EAGER})
_FLYTEKIT_TASKS = frozenset({*_TASK_KINDS, DeclarationKind.CONTAINER_TASK})
_OVERRIDE_KINDS = frozenset({DeclarationKind.WITH_OVERRIDES, DeclarationKind.MAP_TASK_OVERRIDES})
_ENVIRONMENT_KINDS = frozenset(
    {DeclarationKind.ENVIRONMENT, DeclarationKind.CLONE_WITH, DeclarationKind.TASK_POD_TEMPLATE}
)


class CheckRule(str, Enum):
    """What ``check`` reports beyond the backend's replay (`PlatformRule`): what the SDK refuses,
    and what the platform's nodes cannot give."""

    #: flyte refuses the values: the module fails when it is imported.
    FLYTE_REFUSES = "flyte-refuses"
    #: ``override(resources=...)`` on a reusable environment raises unless the call passes ``reusable="off"``.
    OVERRIDE_ON_REUSABLE = "override-on-reusable"
    #: The pod asks for nodes with an accelerator label that no node of the platform carries.
    GPU_LABEL_NOT_ON_NODES = "gpu-label-not-on-nodes"
    #: flyte sends this device under another label than flytekit does.
    DEVICE_LABEL_DIFFERS = "device-label-differs"
    #: A device class the cluster has no resource name for (Apple Silicon runs on a devbox only).
    DEVICE_CLASS_UNSCHEDULABLE = "device-class-unschedulable"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class CheckFinding:
    """A finding of ``check`` itself, shaped like the backend's `PlatformFinding`."""

    rule: CheckRule
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


Finding = PlatformFinding | CheckFinding


@dataclass(frozen=True)
class CheckedDeclaration:
    """One declaration and what the platform does to it (``result`` is None when it was not evaluated).

    ``findings`` are check's own (`CheckFinding`), and for an override whose values are not known, the
    backend's warning about what it drops; ``hint`` is source that
    would avoid a problem (the merged resources for an override that drops some).
    """

    declaration: Declaration
    launch: Launch
    result: EffectiveResources | None
    skipped: str | None = None
    findings: tuple[Finding, ...] = ()
    hint: str | None = None

    @property
    def problems(self) -> tuple[Finding, ...]:
        own = tuple(f for f in self.findings if f.severity is not Severity.INFO)
        if self.result is None:
            return own
        return own + tuple(f for f in self.result.findings if f.severity is not Severity.INFO)

    @property
    def location(self) -> str:
        return f"{self.declaration.path}:{self.declaration.line}"

    @property
    def title(self) -> str:
        d = self.declaration
        if d.kind in _OVERRIDE_KINDS or d.kind is DeclarationKind.OVERRIDE:
            return f"{d.kind.value} of {d.target or d.name!r}"
        return f"{d.kind.value} {d.name!r}"

    def to_dict(self) -> dict[str, Any]:
        d = self.declaration
        out: dict[str, Any] = {
            "path": d.path,
            "line": d.line,
            "kind": d.kind.value,
            "name": d.name,
            "target": d.target,
            "launch": self.launch,
            "spec": None if d.spec is None else d.spec.to_dict(),
        }
        if d.sdk == "flyte":
            out["sdk"] = "flyte"
            out["tasks"] = list(d.tasks)
        if d.notes:  # how the source was read (a pod template's part, say): context for the reader
            out["notes"] = list(d.notes)
        if self.skipped is not None:
            out["skipped"] = self.skipped
        findings = [f.to_dict() for f in self.findings]
        if self.result is not None:
            out["rejected"] = self.result.rejected
            out["resources"] = self.result.to_k8s()
            findings += [f.to_dict() for f in self.result.findings]
            out["explanations"] = [str(e) for e in self.result.explanations]
        if findings or self.result is not None:
            out["findings"] = findings
        if self.hint is not None:
            out["hint"] = self.hint
        return out


@dataclass
class CheckReport:
    """Everything ``check`` found, in file order."""

    checked: list[CheckedDeclaration] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[PlatformNote] = field(default_factory=list)
    #: Files not read, with the reason (newer Python syntax, not a regular file, too large, not text).
    skipped_files: list[tuple[str, str]] = field(default_factory=list)

    @property
    def problems(self) -> list[CheckedDeclaration]:
        return [c for c in self.checked if c.problems]

    @property
    def exit_code(self) -> int:
        """0 nothing found, 1 a problem (an error or warning finding), 2 an input error."""
        return exit_code(self.issues(), self.errors)

    def issues(self) -> list[Issue]:
        """Every finding as an `Issue`, in the order the text report prints them.

        Problems (errors and warnings) first, each carrying its rule; then the
        declarations not checked (`CommonRule.NOT_EVALUATED`) and the files not
        read (`CommonRule.FILE_NOT_READ`), as notes.
        """
        out: list[Issue] = []
        for n, c in enumerate(self.checked):
            d = c.declaration
            for f in c.problems:
                out.append(
                    Issue(
                        f.rule.value,
                        Level.of(f.severity.value),
                        f"{f.field} = {f.value}: {f.reason}",
                        d.path,
                        d.line,
                        title=c.title,
                        text=f"{c.location}: {c.title}: {f.severity}: {f}",
                        group=n,
                    )
                )
        for n, c in enumerate(self.checked):
            if c.skipped is not None:
                d = c.declaration
                out.append(
                    Issue(
                        CommonRule.NOT_EVALUATED.value,
                        Level.NOTE,
                        f"not checked: {c.skipped}",
                        d.path,
                        d.line,
                        title=c.title,
                        text=f"{c.location}: {c.title}: not checked: {c.skipped}",
                        group=n,
                    )
                )
        for path, reason in self.skipped_files:
            out.append(
                Issue(
                    CommonRule.FILE_NOT_READ.value,
                    Level.NOTE,
                    f"not checked: {reason}",
                    path,
                    text=f"{path}: not checked: {reason}",
                )
            )
        return out

    def to_dict(self, selected: Selected | None = None) -> dict[str, Any]:
        """The JSON report (schema flyteres.check/1 once the CLI adds ``schema`` and ``findings``).

        ``declarations[].findings`` hold everything the replay found, notes and
        suppressed findings included; the counts and ``exit_code`` follow
        `selected` (the findings the run reports), every finding when None.
        """
        kept = self.issues() if selected is None else selected.kept
        return {
            "exit_code": exit_code(kept, self.errors),
            "summary": self._summary(kept),
            "declarations": [c.to_dict() for c in self.checked],
            "skipped_files": [{"path": p, "reason": r} for p, r in self.skipped_files],
            "errors": list(self.errors),
            "notes": [str(n) for n in self.notes],
        }

    def _summary(self, kept: Sequence[Issue]) -> dict[str, int]:
        groups = {i.group for i in kept if i.level is not Level.NOTE}
        return {
            "declarations": len(self.checked),
            "with_problems": len(groups),
            "rejected": sum(
                1 for n, c in enumerate(self.checked) if n in groups and c.result is not None and c.result.rejected
            ),
            "skipped": sum(1 for c in self.checked if c.skipped is not None),
        }

    def lines(self, selected: Selected | None = None, *, quiet: bool = False) -> Iterator[str]:
        """The plain-text report: one line per finding, ``path:line: what: [rule] field = value: reason``.

        With `selected`, only its kept findings (and the hidden counts in the summary);
        `quiet` leaves out the platform notes and the summary.
        """
        kept = self.issues() if selected is None else selected.kept
        if not quiet:
            for n in self.notes:
                yield f"note: {n}"
        for i, issue in enumerate(kept):
            yield issue.text or issue.message
            last = i + 1 == len(kept) or kept[i + 1].group != issue.group
            hint = self.checked[issue.group].hint if issue.group >= 0 and issue.level is not Level.NOTE else None
            if last and hint is not None:
                yield f"{self.checked[issue.group].location}: {self.checked[issue.group].title}: hint: {hint}"
        if not quiet:
            for c in self.checked:
                for note in c.declaration.notes:
                    # A pod template only the running code knows may add resources to those checked.
                    if note.startswith(TEMPLATE_UNKNOWN):
                        yield f"{c.location}: {c.title}: note: {note}"
        for e in self.errors:
            yield f"error: {e}"
        if quiet:
            return
        if self.errors and not self.checked:
            # Nothing was checked: a count of none would read as a clean result.
            yield f"{len(self.errors)} input error(s); nothing checked"
            return
        s = self._summary(kept)
        hidden_counts = (0, 0) if selected is None else (selected.suppressed, selected.ignored)
        hidden = hidden_text(*hidden_counts)
        errors = f"; {len(self.errors)} input error(s)" if self.errors else ""
        yield (
            f"{s['with_problems']} of {s['declarations']} declaration(s) would be refused, changed or left "
            f"without limits ({s['rejected']} refused at registration){hidden}{errors}"
        )


def check_paths(
    paths: Sequence[str | Path],
    platform: PlatformConfig,
    quotas: Sequence[QuotaSpec] = (),
    limitranges: Sequence[LimitRangeSpec] = (),
    *,
    exclude: Sequence[str] = (),
    include: Sequence[str] = (),
    node_labels: Collection[str] | None = None,
    jobs: int | None = None,
) -> CheckReport:
    """Check every task declaration under ``paths`` against a platform (and the namespace's quotas and LimitRanges).

    ``exclude``/``include`` are git-style patterns for the files read (see
    `flyteres.source.files`); ``node_labels`` are the accelerator labels the
    platform's nodes carry (by default what the platform file says:
    `PlatformConfig.node_accelerators`), None when unknown. `jobs` worker processes read a large
    tree (see `flyteres.source.project.read_project`).

    >>> from flyteres.platform import parse_platform
    >>> report = check_paths([], parse_platform("task_resources: {limits: {memory: 8Gi}}"))
    >>> report.exit_code
    0
    """
    builtins = platform.builtins_note()
    report = CheckReport(
        notes=[
            *platform.notes,
            *(() if builtins is None else (builtins,)),
            *(n for q in quotas for n in q.notes),
            *(n for lr in limitranges for n in lr.notes),
        ]
    )
    project = read_project(paths, exclude=exclude, include=include, jobs=jobs)
    report.errors += project.errors
    report.skipped_files += project.skipped
    labels = platform.node_accelerators if node_labels is None else frozenset(node_labels)
    target = _Target(platform, tuple(quotas), tuple(limitranges), labels)
    checker = _Checker(project, target)
    for module in project.modules:
        report.checked += checker.module(module)
    return report


@dataclass
class _Target:
    """Where the tasks run: the platform, the namespace's quotas and LimitRanges, the nodes' labels."""

    platform: PlatformConfig
    quotas: tuple[QuotaSpec, ...]
    limitranges: tuple[LimitRangeSpec, ...]
    node_labels: frozenset[str] | None
    # By identity: the reader hands out one object for equal specs it reads the same way, and a
    # spec's hash is dear; specs equal but distinct only cost a second replay.
    _memo: dict[tuple[int, int, Launch], tuple[EffectiveResources, ResourceSpec, ResourceSpec | None]] = field(
        default_factory=dict
    )

    def run(
        self, spec: ResourceSpec, overrides: ResourceSpec | None = None, launch: Launch = Launch.WORKFLOW
    ) -> EffectiveResources:
        """`effective` of one declaration here (the same spec recurs across a project: once each)."""
        key = (id(spec), id(overrides), launch)
        known = self._memo.get(key)
        if known is None:
            result = effective(
                spec, self.platform, overrides, launch=launch, quotas=self.quotas, limitranges=self.limitranges
            )
            # The specs are kept with the result, so their ids stay theirs for the run.
            known = self._memo[key] = (result, spec, overrides)
        return known[0]


class _Checker:
    """Checks the declarations of a project's modules."""

    def __init__(self, project: Project, target: _Target) -> None:
        self.project = project
        self.target = target
        # flytekit tasks by bare name (an override names the task it calls), and Flyte 2's.
        self.flytekit: dict[str, list[TaskRecord]] = {}
        self.flyte: dict[str, list[TaskRecord]] = {}
        for t in project.tasks():
            if t.module_level and t.kind != "workflow":
                (self.flyte if t.sdk == "flyte" else self.flytekit).setdefault(t.name, []).append(t)

    def module(self, m: ModuleRecord) -> list[CheckedDeclaration]:
        overrides = {o.line: o for o in m.overrides}
        out = []
        for d in m.declarations:
            if d.kind in _ENVIRONMENT_KINDS:
                out.append(self._environment(d))
            elif d.kind is DeclarationKind.OVERRIDE:
                out.append(self._flyte_override(d, m, overrides.get(d.line)))
            else:
                out.append(self._flytekit(d, overrides.get(d.line)))
        return out

    # -- flytekit -------------------------------------------------------------------------------

    def _flytekit(self, d: Declaration, o: OverrideRecord | None) -> CheckedDeclaration:
        if d.kind not in _FLYTEKIT_TASKS and d.kind not in _OVERRIDE_KINDS:
            return CheckedDeclaration(
                d, Launch.WORKFLOW, None, "not a container task whose resources flyteres can replay"
            )
        if d.spec is None:
            return CheckedDeclaration(d, Launch.WORKFLOW, None, d.reason or "cannot be evaluated statically")
        if d.kind in _FLYTEKIT_TASKS:
            return self._finish(d, Launch.WORKFLOW, d.spec)
        launch = Launch.DYNAMIC if o is not None and o.dynamic else Launch.WORKFLOW
        name = (d.target or d.name).rsplit(".", 1)[-1]
        candidates = self.flytekit.get(name, [])
        same_file = [t for t in candidates if t.path == d.path]
        chosen = same_file or candidates
        if len(chosen) != 1:
            why = "is not declared in the checked files" if not chosen else "is declared more than once"
            return CheckedDeclaration(d, launch, None, f"the overridden task {name!r} {why}")
        base = chosen[0]
        if base.spec is None:
            return CheckedDeclaration(
                d, launch, None, f"the overridden task's resources cannot be evaluated statically: {base.reason}"
            )
        return self._finish(d, launch, base.spec, d.spec)

    # -- Flyte 2 --------------------------------------------------------------------------------

    def _environment(self, d: Declaration) -> CheckedDeclaration:
        if d.spec is None:
            return self._not_evaluated(d)
        return self._finish(d, Launch.FLYTE2, d.spec)

    def _not_evaluated(self, d: Declaration) -> CheckedDeclaration:
        reason = d.reason or "cannot be evaluated statically"
        if d.refused:
            # A pod template without its primary container is refused too (docs/semantics.md, row 34).
            field = "resources" if "resources" in d.arguments or "pod_template" not in d.arguments else "pod_template"
            finding = CheckFinding(
                CheckRule.FLYTE_REFUSES,
                Severity.ERROR,
                field,
                d.arguments.get(field, ""),
                # flyte checks Resources when the module is imported, the pod template when it serializes the task.
                f"{reason}; "
                + (
                    "the module fails when it is imported"
                    if field == "resources"
                    else "deploying or running the task fails"
                ),
            )
            return CheckedDeclaration(d, Launch.FLYTE2, None, findings=(finding,))
        return CheckedDeclaration(d, Launch.FLYTE2, None, reason)

    def _flyte_override(self, d: Declaration, m: ModuleRecord, o: OverrideRecord | None) -> CheckedDeclaration:
        if d.spec is None:
            return self._unknown_override(d, m, o)
        base = self._overridden(d, m, o)
        if isinstance(base, str):
            return CheckedDeclaration(d, Launch.FLYTE2, None, base)
        if base.spec is None:
            return CheckedDeclaration(
                d, Launch.FLYTE2, None, f"the overridden task's resources cannot be evaluated statically: {base.reason}"
            )
        own: list[CheckFinding] = []
        if base.reusable and not (o is not None and o.reusable_off):
            own.append(
                CheckFinding(
                    CheckRule.OVERRIDE_ON_REUSABLE,
                    Severity.ERROR,
                    "resources",
                    d.arguments.get("resources", ""),
                    f"the environment {base.environment!r} is reusable: flyte raises 'Cannot override resources "
                    'when reusable is set\' unless this call also passes reusable="off"',
                )
            )
        try:
            # flyte lays the override's resources over the task's pod template, as it did the task's.
            override = base.overridden(d.spec)
        except FlyteresError as exc:
            return CheckedDeclaration(d, Launch.FLYTE2, None, f"with the task's pod template: {exc}")
        checked = self._finish(d, Launch.FLYTE2, base.spec, override, own)
        result = checked.result
        if result is not None and any(f.rule is PlatformRule.OVERRIDE_REPLACES_RESOURCES for f in result.findings):
            hint = _merged_hint(base.own or base.spec, d.spec)
            return CheckedDeclaration(d, checked.launch, result, findings=checked.findings, hint=hint)
        return checked

    def _unknown_override(self, d: Declaration, m: ModuleRecord, o: OverrideRecord | None) -> CheckedDeclaration:
        """An override whose values are known only when the code runs (an OOM retry's `f"{mb}Mi"`):
        which parameters it passes is usually plain, and that alone tells what it takes from the task."""
        checked = self._not_evaluated(d)
        given = None if d.refused else _override_fields(d.arguments.get("resources", ""))
        base = None if given is None else self._overridden(d, m, o)
        if given is None or base is None or isinstance(base, str) or base.spec is None:
            return checked
        # What a pod template adds stays (flyte lays the override over the template), so compare the task's own.
        finding = flyte2_override_drops(base.own if base.own is not None else base.spec, given)
        if finding is None:
            return checked
        return CheckedDeclaration(d, Launch.FLYTE2, None, checked.skipped, findings=(finding,))

    def _overridden(self, d: Declaration, m: ModuleRecord, o: OverrideRecord | None) -> TaskRecord | str:
        """The Flyte 2 task an override applies to, or why it is not known."""
        if d.target is None:
            return f"the task it overrides ({d.name}) is only known when the code runs"
        name = d.target
        own = [t for t in m.tasks if t.name == name and t.sdk == "flyte" and t.module_level]
        if len(own) == 1:
            return own[0]
        if o is not None and o.target_qualified is not None:
            imported = self.project.task(o.target_qualified, m)
            if imported is not None:
                return imported
        candidates = self.flyte.get(name, [])
        if len(candidates) == 1:
            return candidates[0]
        why = "is not declared in the checked files" if not candidates else "is declared more than once"
        return f"the overridden task {name!r} {why}"

    # -- both -----------------------------------------------------------------------------------

    def _finish(
        self,
        d: Declaration,
        launch: Launch,
        spec: ResourceSpec,
        overrides: ResourceSpec | None = None,
        own: Sequence[CheckFinding] = (),
    ) -> CheckedDeclaration:
        result = self.target.run(spec, overrides, launch)
        findings = [*own]
        if not result.rejected:
            findings += _device_findings(result, launch, self.target.node_labels, d)
        return CheckedDeclaration(d, launch, result, findings=tuple(findings))


# flyte.Resources' parameters in order, and the fields each may set. A plain value (a string, a number, an
# f-string) sets the request only; a tuple sets both; anything else may set both. A gpu value may carry the
# accelerator too.
_FLYTE2_PARAMETERS = ("cpu", "memory", "gpu", "disk", "shm")
_FLYTE2_FIELDS = {"cpu": "cpu", "memory": "memory", "gpu": "gpu", "disk": "ephemeral_storage"}


def _override_fields(source: str) -> frozenset[str] | None:
    """The fields an override's `resources=flyte.Resources(...)` may set, read from the call's shape alone;
    None when the shape is not plain (a variable, a helper's result, `*args` or `**kwargs`)."""
    try:
        call = ast.parse(source.strip(), mode="eval").body
    except SyntaxError:
        return None
    if not isinstance(call, ast.Call):
        return None
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if name != "Resources" or len(call.args) > len(_FLYTE2_PARAMETERS):
        return None
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return None
    values = {
        **dict(zip(_FLYTE2_PARAMETERS, call.args, strict=False)),
        **{k.arg: k.value for k in call.keywords if k.arg},
    }
    fields: set[str] = set()
    for parameter, value in values.items():
        if isinstance(value, ast.Constant) and value.value is None:
            continue
        if parameter == "shm":
            fields.add("shared_memory")
            continue
        if parameter not in _FLYTE2_FIELDS:
            return None
        resource = _FLYTE2_FIELDS[parameter]
        fields.add(f"requests.{resource}")
        if not isinstance(value, ast.Constant | ast.JoinedStr):
            fields.add(f"limits.{resource}")
        if parameter == "gpu":
            fields.update(("limits.gpu", "accelerator"))
    return frozenset(fields)


def _device_findings(
    result: EffectiveResources, launch: Launch, labels: frozenset[str] | None, d: Declaration
) -> list[CheckFinding]:
    """What the pod's accelerator asks of the nodes."""
    from flyteres import accelerators  # noqa: PLC0415 - loaded already; kept beside its only use
    from flyteres.accelerators import DeviceClass  # noqa: PLC0415

    acc = result.accelerator
    if acc is None:
        return []
    out: list[CheckFinding] = []
    if acc.device_class is DeviceClass.APPLE_SILICON:
        out.append(
            CheckFinding(
                CheckRule.DEVICE_CLASS_UNSCHEDULABLE,
                Severity.WARNING,
                "accelerator",
                acc.device,
                "an Apple Silicon device runs only on a devbox on a Mac; on a cluster flyte fails with "
                "AppleSiliconNotAvailableError",
            )
        )
        return out
    try:
        entry = accelerators.from_wire(acc.device, acc.device_class)
    except (accelerators.UnknownAcceleratorError, accelerators.DeviceClassMismatchError):
        entry = None
    v1 = entry.v1_device if entry is not None else None
    if launch is Launch.FLYTE2 and v1 is not None and v1 != acc.device:
        out.append(
            CheckFinding(
                CheckRule.DEVICE_LABEL_DIFFERS,
                Severity.INFO,
                "accelerator",
                acc.device,
                f"flyte sends this device as {acc.device!r}; flytekit's {entry.flytekit_constant if entry else ''} "
                f"sent {v1!r} (docs/semantics.md, rows 10-11)",
            )
        )
    if labels is not None and acc.device not in labels:
        known = sorted(labels)
        hint = ""
        if entry is not None:
            other = [s for s, _ in entry.spellings() if s in labels]
            if other and launch is Launch.FLYTE2:
                cls = acc.device_class.flyte_name
                count = result.requests.get(Resource.GPU)
                quantity = count.value() if count is not None else "N"
                hint = (
                    f"; the nodes carry {other[0]!r}: flyte.Device(quantity={quantity}, device_class={cls!r}, "
                    f"device={other[0]!r}) sends that label"
                )
            elif other:
                hint = f"; the nodes carry {other[0]!r} for this device"
        out.append(
            CheckFinding(
                CheckRule.GPU_LABEL_NOT_ON_NODES,
                Severity.WARNING,
                "accelerator",
                acc.device,
                f"the pod asks for nodes labelled {acc.device!r} and no node of the platform has that label "
                f"(they carry {', '.join(known) or 'none'}): the pod stays pending{hint}",
            )
        )
    return out


def _merged_hint(task: ResourceSpec, override: ResourceSpec) -> str | None:
    """`resources=flyte.Resources(...)` keeping the task's values the override leaves out."""
    from flyteres.backend.merge import merge  # noqa: PLC0415
    from flyteres.convert.flyte import flyte_arguments  # noqa: PLC0415
    from flyteres.convert.source import flyte_resources  # noqa: PLC0415

    try:
        merged = merge(task, override, conflict="follow")
    except FlyteresError:
        return None
    decided = flyte_arguments(merged, policy="kubernetes")
    if decided.lossy:
        return None
    return f"to keep the task's other resources, pass resources={flyte_resources(decided.value)}"
