"""The library behind ``flyteres verify OLD NEW``: did a migration keep every task's resources?

Teams migrate with many tools (by hand, the official migration guide, agent
skills, a runtime shim, ``flyteres migrate``). Given the tree before (OLD)
and after (NEW), ``verify`` reads both statically (`flyteres.source`), pairs
what runs in a pod by module and name, and replays each side through the
backend under its own launch: a flytekit task as a registered workflow's node
(``launch="workflow"``: flyteadmin fills defaults in), a Flyte 2 task under
Flyte 2's (``launch="flyte2"``: no flyteadmin, the k8s plugin's defaults), with
the platform file when one is given and with no platform otherwise. Then it
compares what the pods get, value by value:

- tasks pair by module (their path below OLD and NEW, as a dotted name) and
  function name; a flytekit ``@workflow`` that became a Flyte 2 task is
  listed (it now runs in a pod of its own), not counted as a change;
- overrides pair by module, the function they are written in, the task they
  run and their rank among that task's overrides there: flytekit's
  ``with_overrides`` (merged per key by the backend) against Flyte 2's
  ``override`` (which replaces the task's resources whole).

Every difference comes with both values and, for each side, the rule that
set the value (`PlatformRule`: the task's own value, copied from the limit,
a platform or plugin default, capped, clamped...), plus what the catalog knows
about a device whose label changed. Pairs that cannot be compared (values
only known at run time) and tasks on one side only are listed too.

Exit codes: 0 every pair matches; 1 something changed, appeared, disappeared
or could not be compared; 2 a usage or input error.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path, PurePath
from typing import Any

from flyteres._errors import FlyteresError
from flyteres.backend.config import PlatformConfig, QuotaSpec
from flyteres.backend.effective import effective
from flyteres.backend.manifests import LimitRangeSpec
from flyteres.backend.results import EffectiveResources, Launch, PlatformRule, Severity
from flyteres.core.spec import Resource, ResourceSpec
from flyteres.report.model import CommonRule, Issue, Level, Selected, exit_code, hidden_text
from flyteres.source.project import ModuleRecord, OverrideRecord, Project, TaskRecord, read_project

__all__ = ["Difference", "PodSide", "VerifiedPair", "VerifyReport", "VerifyRule", "verify_paths"]

_SIDES = ("requests", "limits")


class VerifyRule(str, Enum):
    """What ``verify`` reports about a task or override between OLD and NEW."""

    #: A value of the pod differs between OLD and NEW (changed, appeared or disappeared).
    RESOURCES_CHANGED = "resources-changed"
    #: A pair whose resources are only known at run time on one side, so the two cannot be compared.
    NOT_COMPARED = "not-compared"
    #: A task or override in OLD has no counterpart of that module and name in NEW.
    ONLY_IN_OLD = "only-in-old"
    #: A task or override in NEW has no counterpart of that module and name in OLD.
    ONLY_IN_NEW = "only-in-new"
    #: A flytekit workflow became a Flyte 2 task, which runs in a pod of its own.
    BECAME_TASK = "became-task"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class PodSide:
    """One side of a pair: where it is declared and what its pod gets (None: not evaluated)."""

    path: str
    line: int
    sdk: str
    kind: str
    launch: Launch
    result: EffectiveResources | None
    reason: str | None = None

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"

    def values(self) -> dict[str, str]:
        """What the pod gets, as comparable text by field."""
        out: dict[str, str] = {}
        r = self.result
        if r is None:
            return out
        for side, values in (("requests", r.requests), ("limits", r.limits)):
            for res, q in values.items():
                if not q.is_zero():
                    out[f"{side}.{res}"] = str(q)
        acc = r.accelerator
        if acc is not None:
            out["accelerator.device"] = acc.device
            if acc.partition is not None:
                out["accelerator.partition"] = acc.partition
            if acc.unpartitioned:
                out["accelerator.unpartitioned"] = "True"
        if Resource.GPU in r.requests or Resource.GPU in r.limits:
            out["gpu.resource"] = r.gpu_resource_name
        shm = r.shared_memory
        if shm is not None:
            out["shared_memory"] = "auto" if shm.size_limit is None else str(shm.size_limit)
        verdict = _verdict(r)
        if verdict is not None:
            out["verdict"] = verdict
        return out

    def why(self, name: str) -> str:
        """The rule that set a value of the pod, as `[rule] reason`."""
        r = self.result
        if r is None:
            return ""
        if name.startswith(_SIDES):
            try:
                e = r.explain(name)
            except KeyError:
                return "[not-set] nothing sets it"
            return f"[{e.rule.value}] {e.reason}"
        if name == "verdict":
            first = next((f for f in r.findings if f.severity is Severity.ERROR), None)
            return "" if first is None else f"[{first.rule.value}] {first.reason}"
        replaced = next((f for f in r.findings if f.rule is PlatformRule.OVERRIDE_REPLACES_RESOURCES), None)
        if replaced is not None:
            return f"[{replaced.rule.value}] {replaced.reason}"
        return ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path,
            "line": self.line,
            "sdk": self.sdk,
            "kind": self.kind,
            "launch": self.launch.value,
        }
        if self.reason is not None:
            out["not_evaluated"] = self.reason
        if self.result is not None:
            out["pod"] = self.values()
        return out


def _verdict(r: EffectiveResources) -> str | None:
    """What refuses the task, if anything: registration or admission."""
    if r.rejected:
        return "refused at registration"
    errors = [f for f in r.findings if f.severity is Severity.ERROR]
    return None if not errors else f"refused at admission ({errors[0].rule.value})"


@dataclass(frozen=True)
class Difference:
    """One value of the pod that the migration changed, with the rule behind each side."""

    field: str
    old: str | None
    new: str | None
    old_rule: str
    new_rule: str
    note: str | None = None

    @property
    def change(self) -> str:
        if self.old is None:
            return "appeared"
        if self.new is None:
            return "disappeared"
        return "changed"

    def __str__(self) -> str:
        old = "not set" if self.old is None else self.old
        new = "not set" if self.new is None else self.new
        text = f"{self.field}: {old} -> {new}"
        if self.old_rule:
            text += f"; before: {self.old_rule}"
        if self.new_rule:
            text += f"; after: {self.new_rule}"
        if self.note:
            text += f" ({self.note})"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "change": self.change,
            "old": self.old,
            "new": self.new,
            "old_rule": self.old_rule,
            "new_rule": self.new_rule,
            "note": self.note,
        }


@dataclass(frozen=True)
class VerifiedPair:
    """A task (or an override) on both sides, and every value its pod gets differently."""

    kind: str  # "task" or "override"
    key: str
    old: PodSide
    new: PodSide
    differences: tuple[Difference, ...] = ()
    not_compared: str | None = None
    note: str | None = None

    @property
    def changed(self) -> bool:
        return bool(self.differences) or self.not_compared is not None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "key": self.key,
            "status": "not-compared" if self.not_compared else "changed" if self.differences else "same",
            "old": self.old.to_dict(),
            "new": self.new.to_dict(),
            "differences": [d.to_dict() for d in self.differences],
        }
        if self.not_compared is not None:
            out["not_compared"] = self.not_compared
        if self.note is not None:
            out["note"] = self.note
        return out


@dataclass
class VerifyReport:
    """The pairs, what is on one side only, and the files that could not be read."""

    pairs: list[VerifiedPair] = field(default_factory=list)
    only_old: list[tuple[str, PodSide]] = field(default_factory=list)
    only_new: list[tuple[str, PodSide]] = field(default_factory=list)
    became_tasks: list[tuple[str, PodSide]] = field(default_factory=list)
    skipped_files: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def changed(self) -> list[VerifiedPair]:
        return [p for p in self.pairs if p.changed]

    @property
    def exit_code(self) -> int:
        """0 every pair matches, 1 something changed, appeared or disappeared, 2 an input error."""
        return exit_code(self.issues(), self.errors)

    def issues(self) -> list[Issue]:
        """Every finding as an `Issue` (pointing at the NEW side where there is one), in text order."""
        out: list[Issue] = []
        for n, p in enumerate(self.pairs):
            where = f"{p.new.location}: {p.kind} {p.key} (was {p.old.location})"
            title = f"{p.kind} {p.key}"
            if p.not_compared is not None:
                out.append(
                    Issue(
                        VerifyRule.NOT_COMPARED.value,
                        Level.WARNING,
                        f"not compared: {p.not_compared}",
                        p.new.path,
                        p.new.line,
                        title=title,
                        text=f"{where}: not compared: {p.not_compared}",
                        group=n,
                    )
                )
            for d in p.differences:
                out.append(
                    Issue(
                        VerifyRule.RESOURCES_CHANGED.value,
                        Level.WARNING,
                        f"{d.change}: {d} (was {p.old.location})",
                        p.new.path,
                        p.new.line,
                        title=title,
                        text=f"{where}: {d.change}: {d}",
                        group=n,
                    )
                )
        for rule, level, sides, tail in (
            (
                VerifyRule.ONLY_IN_OLD,
                Level.WARNING,
                self.only_old,
                "only in OLD (no task of that module and name in NEW)",
            ),
            (
                VerifyRule.ONLY_IN_NEW,
                Level.WARNING,
                self.only_new,
                "only in NEW (no task of that module and name in OLD)",
            ),
            (VerifyRule.BECAME_TASK, Level.NOTE, self.became_tasks, ""),
        ):
            for key, side in sides:
                text = tail or f"was a @workflow; now a task with a pod of its own ({_pod_text(side)})"
                out.append(
                    Issue(
                        rule.value, level, text, side.path, side.line, title=key, text=f"{side.location}: {key}: {text}"
                    )
                )
        for path, reason in self.skipped_files:
            out.append(
                Issue(
                    CommonRule.FILE_NOT_READ.value,
                    Level.NOTE,
                    f"not read: {reason}",
                    path,
                    text=f"{path}: not read: {reason}",
                )
            )
        return out

    def _summary(self, kept: Sequence[Issue]) -> dict[str, int]:
        groups = {i.group for i in kept if i.group >= 0}
        counts = {
            r: sum(1 for i in kept if i.rule == r.value) for r in (VerifyRule.ONLY_IN_OLD, VerifyRule.ONLY_IN_NEW)
        }
        return {
            "pairs": len(self.pairs),
            "same": sum(1 for p in self.pairs if not p.changed),
            "changed": sum(
                1 for n, p in enumerate(self.pairs) if n in groups and p.differences and p.not_compared is None
            ),
            "not_compared": sum(1 for n, p in enumerate(self.pairs) if n in groups and p.not_compared is not None),
            "only_old": counts[VerifyRule.ONLY_IN_OLD],
            "only_new": counts[VerifyRule.ONLY_IN_NEW],
            "became_tasks": len(self.became_tasks),
        }

    def to_dict(self, selected: Selected | None = None) -> dict[str, Any]:
        """The JSON report (schema flyteres.verify/1 once the CLI adds ``schema`` and ``findings``).

        ``pairs`` and the one-side lists hold everything compared; the counts and
        ``exit_code`` follow `selected` (every finding when None).
        """
        kept = self.issues() if selected is None else selected.kept
        return {
            "exit_code": exit_code(kept, self.errors),
            "summary": self._summary(kept),
            "pairs": [p.to_dict() for p in self.pairs],
            "only_old": [{"key": k, **s.to_dict()} for k, s in self.only_old],
            "only_new": [{"key": k, **s.to_dict()} for k, s in self.only_new],
            "became_tasks": [{"key": k, **s.to_dict()} for k, s in self.became_tasks],
            "skipped_files": [{"path": p, "reason": r} for p, r in self.skipped_files],
            "errors": list(self.errors),
        }

    def lines(self, selected: Selected | None = None, *, quiet: bool = False) -> Iterator[str]:
        """The plain-text report: one line per difference, naming both places (`quiet`: no summary)."""
        kept = self.issues() if selected is None else selected.kept
        for issue in kept:
            yield issue.text or issue.message
        for e in self.errors:
            yield f"error: {e}"
        if quiet:
            return
        s = self._summary(kept)
        hidden_counts = (0, 0) if selected is None else (selected.suppressed, selected.ignored)
        changed = s["changed"] + s["not_compared"]  # what is left once suppressed findings are taken out
        yield (
            f"{s['same']} of {s['pairs']} pair(s) get the same resources; {changed} changed or not "
            f"compared, {s['only_old']} only in OLD, {s['only_new']} only in NEW" + hidden_text(*hidden_counts)
        )


def _pod_text(side: PodSide) -> str:
    values = side.values()
    return ", ".join(f"{k}={v}" for k, v in values.items()) or side.reason or "nothing set"


def verify_paths(
    old: str | Path,
    new: str | Path,
    platform: PlatformConfig | None = None,
    quotas: Sequence[QuotaSpec] = (),
    limitranges: Sequence[LimitRangeSpec] = (),
    *,
    exclude: Sequence[str] = (),
    include: Sequence[str] = (),
    jobs: int | None = None,
) -> VerifyReport:
    """Compare what every task's pod gets in the tree `old` and the tree `new`.

    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (root / "old").mkdir(), (root / "new").mkdir()
    >>> _ = (root / "old" / "t.py").write_text(
    ...     "from flytekit import Resources, task\\n@task(requests=Resources(cpu='1', mem='1Gi'))\\ndef f(): ...\\n")
    >>> _ = (root / "new" / "t.py").write_text("import flyte\\n"
    ...     "env = flyte.TaskEnvironment(name='t', resources=flyte.Resources(cpu=1, memory='1Gi'))\\n"
    ...     "@env.task\\nasync def f(): ...\\n")
    >>> report = verify_paths(root / "old", root / "new")
    >>> report.exit_code, [p.key for p in report.pairs]
    (0, ['t.f'])
    """
    report = VerifyReport()
    sides = []
    for label, root in (("OLD", old), ("NEW", new)):
        missing = not Path(root).exists()
        if missing:
            report.errors.append(f"{label} {root}: no such file or directory")
        project = read_project([root], exclude=exclude, include=include, jobs=jobs)
        # The discovery says the same of a missing root: once is enough.
        report.errors += [f"{label}: {e}" for e in project.errors if not missing or str(root) not in e]
        report.skipped_files += project.skipped
        sides.append(_Side(Path(root), project))
    if report.errors:
        return report
    replay = _Replay(platform, tuple(quotas), tuple(limitranges))
    before, after = sides
    old_tasks, new_tasks = before.tasks(), after.tasks()
    for key in sorted(set(old_tasks) | set(new_tasks)):
        o, n = old_tasks.get(key), new_tasks.get(key)
        if o is not None and n is not None:
            if o.kind == "workflow" and n.kind != "workflow":
                report.became_tasks.append((key, replay.task(n)))
            elif o.kind == "workflow" and n.kind == "workflow":
                continue
            else:
                report.pairs.append(replay.pair("task", key, replay.task(o), replay.task(n)))
        elif o is not None and o.kind != "workflow":
            report.only_old.append((key, replay.task(o)))
        elif n is not None and n.kind != "workflow":
            report.only_new.append((key, replay.task(n)))
    old_overrides, new_overrides = before.overrides(), after.overrides()
    for key in sorted(set(old_overrides) | set(new_overrides)):
        o_o, n_o = old_overrides.get(key), new_overrides.get(key)
        if o_o is not None and n_o is not None:
            report.pairs.append(replay.pair("override", key, replay.override(o_o, before), replay.override(n_o, after)))
        elif o_o is not None:
            report.only_old.append((key, replay.override(o_o, before)))
        elif n_o is not None:
            report.only_new.append((key, replay.override(n_o, after)))
    return report


class _Side:
    """One tree: its tasks and overrides by pairing key."""

    def __init__(self, root: Path, project: Project) -> None:
        self.root = root
        self.project = project
        self._by_path = {m.path: m for m in project.modules}
        self._is_dir = root.is_dir()
        # By path: every task and override of a module asks (pathlib's parsing is dear).
        self._keys: dict[str, str] = {}

    def module_key(self, m: ModuleRecord) -> str:
        """A module's path below the tree's root, as a dotted name (the file's stem for a lone file)."""
        key = self._keys.get(m.path)
        if key is None:
            key = self._keys[m.path] = self._module_key(m.path)
        return key

    def _module_key(self, where: str) -> str:
        path = PurePath(where)
        try:
            parts = list(path.relative_to(self.root).with_suffix("").parts) if self._is_dir else [path.stem]
        except ValueError:
            parts = [path.stem]
        if parts and parts[-1] == "__init__":
            parts.pop()
        return ".".join(parts)

    def tasks(self) -> dict[str, TaskRecord]:
        out: dict[str, TaskRecord] = {}
        for m in self.project.modules:
            for t in m.tasks:
                if t.module_level:
                    out.setdefault(f"{self.module_key(m)}.{t.name}".lstrip("."), t)
        return out

    def overrides(self) -> dict[str, OverrideRecord]:
        out: dict[str, OverrideRecord] = {}
        for m in self.project.modules:
            for o in m.overrides:
                where = f"{self.module_key(m)}.{o.function or '<module>'}".lstrip(".")
                out.setdefault(f"{where}: {o.target or '?'} #{o.ordinal + 1}", o)
        return out

    def task_of(self, o: OverrideRecord) -> TaskRecord | None:
        """The task an override runs: the module's own, the one it imports, or the only one so named."""
        module = self._by_path.get(o.path)
        if module is not None:
            own = [t for t in module.tasks if t.name == o.target and t.module_level and t.kind != "workflow"]
            if len(own) == 1:
                return own[0]
            if o.target_qualified is not None:
                imported = self.project.task(o.target_qualified, module)
                if imported is not None:
                    return imported
        named = [
            t for t in self.project.tasks() if t.name == o.target and t.module_level and t.kind != "workflow"
        ]  # fmt: skip
        return named[0] if len(named) == 1 else None


@dataclass
class _Replay:
    """The backend replay of each side under its own launch (memoized: specs recur)."""

    platform: PlatformConfig | None
    quotas: tuple[QuotaSpec, ...]
    limitranges: tuple[LimitRangeSpec, ...]
    _memo: dict[tuple[int, int, Launch], tuple[EffectiveResources, Any, Any]] = field(default_factory=dict)
    # The differences of two pods, by the results' identities (the memo above keeps the results):
    # a migration repeats the same few pairs of resources over and over.
    _differences: dict[tuple[int, int], tuple[Difference, ...]] = field(default_factory=dict)

    def pair(self, kind: str, key: str, old: PodSide, new: PodSide) -> VerifiedPair:
        """Two sides compared value by value (`_pair`), each pair of results once."""
        if old.result is None or new.result is None:
            return _pair(kind, key, old, new)
        ids = (id(old.result), id(new.result))
        known = self._differences.get(ids)
        if known is None:
            known = self._differences[ids] = _pair(kind, key, old, new).differences
        return VerifiedPair(kind, key, old, new, known)

    def run(self, spec: ResourceSpec, overrides: ResourceSpec | None, launch: Launch) -> EffectiveResources:
        key = (id(spec), id(overrides), launch)
        known = self._memo.get(key)
        if known is None:
            result = effective(
                spec, self.platform, overrides, launch=launch, quotas=self.quotas, limitranges=self.limitranges
            )
            known = self._memo[key] = (result, spec, overrides)
        return known[0]

    def task(self, t: TaskRecord) -> PodSide:
        path, line = t.declared_at
        launch = Launch.FLYTE2 if t.sdk == "flyte" else Launch.WORKFLOW
        if t.spec is None:
            return PodSide(path, line, t.sdk, t.kind, launch, None, t.reason or "cannot be evaluated statically")
        return PodSide(path, line, t.sdk, t.kind, launch, self.run(t.spec, None, launch))

    def override(self, o: OverrideRecord, side: _Side) -> PodSide:
        launch = Launch.FLYTE2 if o.sdk == "flyte" else Launch.DYNAMIC if o.dynamic else Launch.WORKFLOW
        base = side.task_of(o)
        if o.spec is None and o.reason is None:  # an override that sets no resources keeps the task's
            if base is None or base.spec is None:
                return PodSide(o.path, o.line, o.sdk, o.kind, launch, None, _unknown(o, base))
            return PodSide(o.path, o.line, o.sdk, o.kind, launch, self.run(base.spec, None, launch))
        if o.spec is None:
            return PodSide(o.path, o.line, o.sdk, o.kind, launch, None, o.reason)
        if base is None or base.spec is None:
            return PodSide(o.path, o.line, o.sdk, o.kind, launch, None, _unknown(o, base))
        try:
            # flyte lays a Flyte 2 override over the task's pod template, as it did the task's resources.
            overrides = base.overridden(o.spec) if o.sdk == "flyte" else o.spec
        except FlyteresError as exc:
            return PodSide(o.path, o.line, o.sdk, o.kind, launch, None, f"with the task's pod template: {exc}")
        return PodSide(o.path, o.line, o.sdk, o.kind, launch, self.run(base.spec, overrides, launch))


def _unknown(o: OverrideRecord, base: TaskRecord | None) -> str:
    if base is None:
        return f"the task {o.target!r} it runs is not found in the tree"
    return f"the resources of the task {o.target!r} are not known statically: {base.reason}"


def _pair(kind: str, key: str, old: PodSide, new: PodSide) -> VerifiedPair:
    if old.result is None or new.result is None:
        why = "; ".join(f"{label}: {s.reason}" for label, s in (("OLD", old), ("NEW", new)) if s.result is None)
        return VerifiedPair(kind, key, old, new, not_compared=why)
    before, after = old.values(), new.values()
    count = after.get("requests.gpu") or before.get("requests.gpu")
    differences = []
    for name in sorted(set(before) | set(after), key=_field_order):
        a, b = before.get(name), after.get(name)
        if a == b or (name == "gpu.resource" and (a is None or b is None)):  # the GPU count says it
            continue
        differences.append(Difference(name, a, b, old.why(name), new.why(name), _note(name, a, b, count)))
    return VerifiedPair(kind, key, old, new, tuple(differences))


_ORDER = ("requests.", "limits.", "accelerator.", "gpu.", "shared_memory", "verdict")


def _field_order(name: str) -> tuple[int, str]:
    return next((i for i, p in enumerate(_ORDER) if name.startswith(p)), len(_ORDER)), name


def _note(name: str, old: str | None, new: str | None, count: str | None) -> str | None:
    """What the catalog says about a device whose label changed."""
    if name != "accelerator.device" or old is None or new is None:
        return None
    from flyteres import accelerators  # noqa: PLC0415 - loaded already; kept beside its only use

    try:
        a, b = accelerators.from_wire(old), accelerators.from_wire(new)
    except accelerators.UnknownAcceleratorError:
        return None
    if a.name != b.name:
        return f"a different device: {a.name} became {b.name}"
    device = f"flyte.Device(quantity={count or 'N'}, device_class={a.device_class.flyte_name!r}, device={old!r})"
    return (
        f"the same {a.name}, under another node label (docs/semantics.md, rows 10-11): "
        f"nodes labelled {old!r} will not take the pod; {device} keeps the label"
    )
