"""Rewrite flytekit resource declarations: plan each site, then edit the tree.

Every semantic decision comes from flyteres' converters
(`from_flytekit`, `flytekit_arguments`, `flyte_arguments`); this module only
decides *where* the result goes and *how it is spelled*:

- values that pass through unchanged keep the expression as written (the
  literal with its quotes, the module constant, the import-time choice), so a
  diff shows only what really changes;
- a declaration whose value is chosen at import time is rewritten only when
  every possible value renders to the same code (then the expression is kept
  verbatim), otherwise it is left alone and reported;
- anything lossy under the policy, anything not static, any argument the
  target cannot carry leaves the site exactly as written, with the reason.

The edit touches only the nodes on the path to a rewritten call (everything
else, comments and line endings included, is the original text), and the
result must parse with libcst and compile before it is returned.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from pathlib import PurePath
from typing import Any, Literal

import libcst as cst

from flyteres.backend.merge import merge
from flyteres.convert.flyte import FlyteArguments, flyte_arguments
from flyteres.convert.flytekit import FlytekitArguments, flytekit_arguments, from_flytekit
from flyteres.core.findings import Conversion
from flyteres.core.options import Policy, PolicyName
from flyteres.core.spec import ResourceSpec
from flyteres.migrate.index import TaskIndex, TaskInfo, resolve_import
from flyteres.migrate.rules import MigrateRule
from flyteres.source.analysis import (
    Analysis,
    DeclarationKind,
    Found,
    SourceParseError,
    evaluate_spec,
    flytekit_kwargs,
)
from flyteres.source.names import RESOURCE_ARGUMENTS, canonical
from flyteres.source.values import Combo, Leaf, ResourcesValue, combinations, leaf_value

__all__ = ["Environment", "MigrationFinding", "MigrationResult", "Site", "Target", "index_sources", "migrate_source"]

Target = Literal["flytekit", "flyte"]
Status = Literal["changed", "unchanged", "skipped", "failed"]
TARGETS: tuple[Target, ...] = ("flytekit", "flyte")

# Marker LibCST also honours; spelled in two parts so this file is not itself "marked".
GENERATED_MARKER = "@" + "generated"
_GENERATED_LINES = 10

# Non-resource arguments that mean the same thing on `@env.task(...)` and `.override(...)`.
CARRIED_ARGUMENTS = ("retries", "timeout", "interruptible")
_TASK_KINDS = (DeclarationKind.TASK, DeclarationKind.DYNAMIC, DeclarationKind.EAGER)
_DEFINING_KINDS = (*_TASK_KINDS, DeclarationKind.CONTAINER_TASK)


# ---------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class MigrationFinding:
    """Something a site needs a reviewer to know, with a stable rule id.

    `source` is "converter" (the id is a `flyteres.Rule`) or "codemod" (a
    `MigrateRule`). `lossy` means it kept the site from being rewritten;
    `decided_by_policy` means the chosen policy made a decision `strict`
    would have refused (the rewrite is runtime-equivalent, not wire-identical).
    """

    rule: str
    source: Literal["converter", "codemod"]
    field: str
    value: str
    reason: str
    line: int
    lossy: bool = False
    decided_by_policy: bool = False
    actions: Mapping[str, str] = dataclass_field(default_factory=dict, compare=False, hash=False)

    @property
    def kind(self) -> str:
        """ "lossy", "policy" or "info"."""
        return "lossy" if self.lossy else "policy" if self.decided_by_policy else "info"

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "source": self.source,
            "kind": self.kind,
            "field": self.field,
            "value": self.value,
            "reason": self.reason,
            "line": self.line,
            "lossy": self.lossy,
            "decided_by_policy": self.decided_by_policy,
            "actions": dict(self.actions),
        }

    def __str__(self) -> str:
        where = f"{self.field} = {self.value}: " if self.field else f"{self.value}: " if self.value else ""
        return f"[{self.rule}] {where}{self.reason}"


@dataclass(frozen=True)
class Site:
    """One declaration: rewritten (`new` is its new source) or left as written (`reason`)."""

    kind: str
    name: str
    line: int
    action: Literal["rewritten", "untouched"]
    old: str
    new: str | None
    reason: str | None
    decided_by_policy: bool
    findings: tuple[MigrationFinding, ...]
    environment: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "line": self.line,
            "action": self.action,
            "old": self.old,
            "new": self.new,
            "reason": self.reason,
            "decided_by_policy": self.decided_by_policy,
            "environment": self.environment,
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(frozen=True)
class Environment:
    """A `flyte.TaskEnvironment` the Flyte 2 rewrite declares (one per distinct resources)."""

    variable: str
    name: str
    resources: str
    line: int  # the line (in the original) of the first task that uses it
    tasks: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "variable": self.variable,
            "name": self.name,
            "resources": self.resources,
            "line": self.line,
            "tasks": list(self.tasks),
        }


@dataclass(frozen=True)
class MigrationResult:
    """What migrating one module did.

    `status` is "changed", "unchanged", "skipped" (generated file) or
    "failed" (`reason` says why; `code` is then the input, untouched).
    """

    path: str
    code: str
    status: Status
    sites: tuple[Site, ...] = ()
    environments: tuple[Environment, ...] = ()
    reason: str | None = None

    @property
    def changed(self) -> bool:
        return self.status == "changed"

    @property
    def findings(self) -> tuple[MigrationFinding, ...]:
        return tuple(f for s in self.sites for f in s.findings)

    @property
    def rewritten(self) -> tuple[Site, ...]:
        return tuple(s for s in self.sites if s.action == "rewritten")

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "status": self.status,
            "reason": self.reason,
            "sites": [s.to_dict() for s in self.sites],
            "environments": [e.to_dict() for e in self.environments],
        }


# ---------------------------------------------------------------------------------------------
# Rendering


_REPR_STRING = re.compile(r"'([^'\"\\\n]*)'")


class _Renderer:
    """Spells converter output as source, reusing the original expressions where
    the value passes through unchanged."""

    def __init__(self, quote: str, forbidden: frozenset[str]) -> None:
        self.quote = quote
        self.forbidden = forbidden
        self.kept: list[Leaf] = []

    def string(self, text: str) -> str:
        if self.quote in text or "\\" in text or "\n" in text:
            return repr(text)
        return f"{self.quote}{text}{self.quote}"

    def requote(self, source: str) -> str:
        # The converters spell strings with repr(): use the module's quote instead.
        if self.quote == "'":
            return source
        return _REPR_STRING.sub(lambda m: f'"{m.group(1)}"', source)

    @staticmethod
    def _matches(value: object, text: str) -> bool:
        # Only a string passes through as written: the converters write ints and
        # floats as strings (flytekit's task serializer crashes on them).
        return isinstance(value, str) and value == text

    def slot(self, text: str, candidates: Sequence[Leaf | None], combo: Combo) -> str:
        for leaf in candidates:
            if leaf is None or leaf.node is None or not leaf.static or leaf.names & self.forbidden:
                continue
            if self._matches(leaf_value(leaf, combo), text):
                self.kept.append(leaf)
                return leaf.code
        return self.string(text)

    def pair(
        self,
        value: tuple[str, str],
        request: Leaf | None,
        limit: Leaf | None,
        whole: Leaf | None,
        combo: Combo,
    ) -> str:
        if whole is not None and whole.static and not whole.names & self.forbidden:
            written = leaf_value(whole, combo)
            if isinstance(written, tuple) and all(isinstance(v, str) for v in written) and written == value:
                self.kept.append(whole)
                return whole.code
        return f"({self.slot(value[0], [request, limit], combo)}, {self.slot(value[1], [limit, request], combo)})"


@dataclass
class Slots:
    """Where each request and limit came from in the source, per flytekit field."""

    requests: dict[str, Leaf] = dataclass_field(default_factory=dict)
    limits: dict[str, Leaf] = dataclass_field(default_factory=dict)
    pairs: dict[str, Leaf] = dataclass_field(default_factory=dict)
    accelerator: Leaf | None = None
    shared_memory: Leaf | None = None

    @classmethod
    def of(cls, found: Found, keys: Sequence[str] = RESOURCE_ARGUMENTS) -> Slots:
        out = cls()
        if "requests" in keys and found.requests is not None:
            out.requests = {n: fv.whole for n, fv in found.requests.fields.items()}
        if "limits" in keys and found.limits is not None:
            out.limits = {n: fv.whole for n, fv in found.limits.fields.items()}
        if "resources" in keys and found.resources is not None:
            for name, fv in found.resources.fields.items():
                if fv.parts is not None:
                    out.requests[name], out.limits[name] = fv.parts
                elif fv.whole.static and fv.whole.values and isinstance(fv.whole.values[0], (tuple, list)):
                    out.pairs[name] = fv.whole
                else:
                    out.requests[name] = fv.whole
        if "accelerator" in keys:
            out.accelerator = found.accelerator
        if "shared_memory" in keys:
            out.shared_memory = found.shared_memory
        return out

    def over(self, base: Slots) -> Slots:
        """These slots laid over `base` key by key, the way a node override merges."""
        pairs = {k: v for k, v in base.pairs.items() if k not in self.requests and k not in self.limits}
        requests = {k: v for k, v in base.requests.items() if k not in self.pairs}
        limits = {k: v for k, v in base.limits.items() if k not in self.pairs}
        return Slots(
            requests={**requests, **self.requests},
            limits={**limits, **self.limits},
            pairs={**pairs, **self.pairs},
            accelerator=self.accelerator if self.accelerator is not None else base.accelerator,
            shared_memory=self.shared_memory if self.shared_memory is not None else base.shared_memory,
        )


def render_flytekit(
    args: FlytekitArguments, callee: str, slots: Slots, combo: Combo, r: _Renderer, *, order: Sequence[str] = ()
) -> str:
    """`Resources(...)` in flytekit's unified form, fields in the order they were written."""
    parts = []
    fields = args.resources or {}
    rank = {name: i for i, name in enumerate(order)}
    for name in sorted(fields, key=lambda n: rank.get(n, len(rank))):
        value = fields[name]
        req, lim = slots.requests.get(name), slots.limits.get(name)
        if isinstance(value, tuple):
            parts.append(f"{name}={r.pair(value, req, lim, slots.pairs.get(name), combo)}")
        else:
            parts.append(f"{name}={r.slot(value, [req, lim], combo)}")
    return f"{callee}({', '.join(parts)})"


def render_flyte(args: FlyteArguments, module: str, slots: Slots, combo: Combo, r: _Renderer) -> str:
    parts = []
    for key, name in (("cpu", "cpu"), ("memory", "mem")):
        value = getattr(args, key)
        if value is None:
            continue
        req, lim = slots.requests.get(name), slots.limits.get(name)
        if isinstance(value, tuple):
            parts.append(f"{key}={r.pair(value, req, lim, slots.pairs.get(name), combo)}")
        else:
            parts.append(f"{key}={r.slot(value, [req, lim], combo)}")
    if args.gpu is not None:
        parts.append(f"gpu={r.requote(args.gpu.source(module))}")
    if args.disk is not None:
        es = "ephemeral_storage"
        parts.append(f"disk={r.slot(args.disk, [slots.requests.get(es), slots.limits.get(es)], combo)}")
    if args.shm is not None:
        parts.append(f"shm={r.slot(args.shm, [slots.shared_memory], combo)}")
    return f"{module}.Resources({', '.join(parts)})"


# ---------------------------------------------------------------------------------------------
# Deciding one site


@dataclass
class _Decision:
    render: str | None = None
    findings: list[MigrationFinding] = dataclass_field(default_factory=list)
    reason: str | None = None
    decided: bool = False
    kept: list[Leaf] = dataclass_field(default_factory=list)
    inlined: list[Leaf] = dataclass_field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.render is not None


def _converter_findings(conv: Conversion[Any], strict: Conversion[Any] | None, line: int) -> list[MigrationFinding]:
    decided = {(f.rule, f.field) for f in strict.lossy} if strict is not None else set()
    return [
        MigrationFinding(
            rule=f.rule.value,
            source="converter",
            field=f.field,
            value=f.value,
            reason=f.reason,
            line=line,
            lossy=f.lossy,
            decided_by_policy=not f.lossy and (f.rule, f.field) in decided,
            actions=dict(f.actions),
        )
        for f in conv.findings
    ]


def _codemod(
    rule: MigrateRule, line: int, reason: str, *, field: str = "", value: str = "", lossy: bool = False
) -> MigrationFinding:
    return MigrationFinding(rule.value, "codemod", field, value, reason, line, lossy=lossy)


def _merge_findings(groups: Sequence[Sequence[MigrationFinding]]) -> list[MigrationFinding]:
    seen: dict[tuple[str, str, str, bool], MigrationFinding] = {}
    for group in groups:
        for f in group:
            seen.setdefault((f.rule, f.field, f.value, f.lossy), f)
    return list(seen.values())


def _decide(
    leaves: Sequence[Leaf],
    build: Callable[[Combo], ResourceSpec],
    convert: Callable[[ResourceSpec, Policy], Conversion[Any]],
    render: Callable[[Any, Combo, _Renderer], str],
    *,
    policy: Policy,
    line: int,
    renderer: Callable[[], _Renderer],
) -> _Decision:
    """Convert every combination of import-time values; rewrite only if all agree."""
    out = _Decision()
    combos = combinations(leaves)
    varying = [leaf for leaf in leaves if len(leaf.values) > 1]
    if combos is None:
        out.reason = "too many values chosen at import time to check them all"
        out.findings.append(_codemod(MigrateRule.ENVIRONMENT_DEPENDENT, line, out.reason, lossy=True))
        return out
    renders: list[str] = []
    per_combo: list[list[MigrationFinding]] = []
    kept: list[Leaf] = []
    for combo in combos:
        try:
            spec = build(combo)
        except (ValueError, TypeError) as exc:
            choice = _describe(combo, varying)
            out.reason = f"{exc}{choice}"
            out.findings.append(_codemod(MigrateRule.INVALID_VALUE, line, out.reason, lossy=True))
            return out
        conv = convert(spec, policy)
        strict = convert(spec, Policy.STRICT) if policy is not Policy.STRICT else None
        findings = _converter_findings(conv, strict, line)
        per_combo.append(findings)
        if conv.lossy:
            out.findings = _merge_findings(per_combo)
            rules = ", ".join(sorted({f.rule.value for f in conv.lossy}))
            out.reason = f"lossy under the {policy} policy ({rules}){_describe(combo, varying)}"
            return out
        if strict is not None and strict.lossy:
            out.decided = True
        r = renderer()
        renders.append(render(conv.value, combo, r))
        kept.extend(r.kept)
    out.findings = _merge_findings(per_combo)
    if len(set(renders)) > 1:
        names = ", ".join(leaf.code for leaf in varying)
        out.reason = f"the converted code depends on a value chosen at import time ({names})"
        out.findings.append(_codemod(MigrateRule.ENVIRONMENT_DEPENDENT, line, out.reason, lossy=True))
        return out
    out.render = renders[0]
    kept_ids = {id(leaf) for leaf in kept}
    out.kept = kept
    for leaf in varying:
        out.findings.append(
            _codemod(
                MigrateRule.CONDITIONAL_KEPT,
                line,
                "chosen at import time; kept as written because every possible value converts the same way",
                value=leaf.code,
            )
        )
    out.inlined = [leaf for leaf in leaves if leaf.names and id(leaf) not in kept_ids]
    return out


def _describe(combo: Combo, varying: Sequence[Leaf]) -> str:
    if not varying:
        return ""
    return " (when " + ", ".join(f"{leaf.code} is {combo[id(leaf)]!r}" for leaf in varying) + ")"


def _flyte_convert(spec: ResourceSpec, policy: Policy) -> Conversion[FlyteArguments]:
    return flyte_arguments(spec, policy=policy)


def _flytekit_convert(spec: ResourceSpec, policy: Policy) -> Conversion[FlytekitArguments]:
    return flytekit_arguments(spec, policy=policy, form="resources")


def _merge_specs(task: ResourceSpec, override: ResourceSpec) -> ResourceSpec:
    """The v1 backend's per-key merge of a node override onto the task's resources."""
    return merge(task, override).replace(findings=(*task.findings, *override.findings))


# ---------------------------------------------------------------------------------------------
# Tree edits


Builder = Callable[[cst.CSTNode], cst.CSTNode]


def _with_commas(kept: Sequence[cst.Arg], original: Sequence[cst.Arg]) -> list[cst.Arg]:
    """`kept` (a subsequence of `original`, possibly with new values) ending the
    way the original argument list ended (trailing comma, whitespace before `)`)."""
    if not kept:
        return []
    out = list(kept)
    if out[-1] is not original[-1]:
        out[-1] = out[-1].with_changes(comma=original[-1].comma, whitespace_after_arg=original[-1].whitespace_after_arg)
    return out


def comments(node: cst.CSTNode) -> list[str]:
    """Every comment inside a node, in source order."""
    out: list[str] = []

    def visit(n: cst.CSTNode) -> None:
        if isinstance(n, cst.Comment):
            out.append(n.value)
            return
        for name in n.__dataclass_fields__:
            value = getattr(n, name)
            if isinstance(value, cst.CSTNode):
                visit(value)
            elif isinstance(value, (list, tuple)):
                for item in value:
                    if isinstance(item, cst.CSTNode):
                        visit(item)

    visit(node)
    return out


def lost_comments(old: cst.CSTNode, new: cst.CSTNode) -> list[str]:
    """Comments of `old` that `new` no longer has (a rewrite must not drop them)."""
    remaining = Counter(comments(new))
    out = []
    for c in comments(old):
        if remaining[c]:
            remaining[c] -= 1
        else:
            out.append(c)
    return out


def _comment_lines(texts: Sequence[str], whitespace: str = "") -> list[cst.EmptyLine]:
    return [
        cst.EmptyLine(indent=True, whitespace=cst.SimpleWhitespace(whitespace), comment=cst.Comment(t)) for t in texts
    ]


def _argument_indent(call: cst.Call) -> str | None:
    candidates: list[cst.BaseParenthesizableWhitespace | cst.MaybeSentinel] = [call.whitespace_before_args]
    candidates += [a.comma.whitespace_after for a in call.args if isinstance(a.comma, cst.Comma)]
    for ws in candidates:
        if isinstance(ws, cst.ParenthesizedWhitespace):
            return ws.last_line.value
    return None


def _attach_after(call: cst.Call, index: int, texts: Sequence[str]) -> cst.Call:
    """Put comments on their own lines after argument `index`, when the call spans lines."""
    indent = _argument_indent(call)
    if not texts or indent is None:
        return call
    arg = call.args[index]
    lines = _comment_lines(texts, indent)
    if isinstance(arg.comma, cst.Comma) and isinstance(arg.comma.whitespace_after, cst.ParenthesizedWhitespace):
        ws = arg.comma.whitespace_after
        arg = arg.with_changes(
            comma=arg.comma.with_changes(whitespace_after=ws.with_changes(empty_lines=[*lines, *ws.empty_lines]))
        )
    elif isinstance(arg.whitespace_after_arg, cst.ParenthesizedWhitespace):
        ws = arg.whitespace_after_arg
        arg = arg.with_changes(whitespace_after_arg=ws.with_changes(empty_lines=[*lines, *ws.empty_lines]))
    else:
        return call
    args = list(call.args)
    args[index] = arg
    return call.with_changes(args=args)


def _rebuild(node: cst.CSTNode, targets: Mapping[int, Builder], ancestors: set[int]) -> cst.CSTNode:
    nid = id(node)
    if nid in ancestors:
        changes: dict[str, Any] = {}
        for name in node.__dataclass_fields__:
            value = getattr(node, name)
            if isinstance(value, cst.CSTNode):
                new = _rebuild(value, targets, ancestors)
                if new is not value:
                    changes[name] = new
            elif isinstance(value, (list, tuple)) and value and isinstance(value[0], cst.CSTNode):
                items = [_rebuild(v, targets, ancestors) if isinstance(v, cst.CSTNode) else v for v in value]
                if any(a is not b for a, b in zip(items, value, strict=True)):
                    changes[name] = type(value)(items)
        if changes:
            node = node.with_changes(**changes)
    if nid in targets:
        node = targets[nid](node)
    return node


# ---------------------------------------------------------------------------------------------
# Planning


@dataclass
class _Plan:
    sites: list[Site] = dataclass_field(default_factory=list)
    targets: dict[int, Builder] = dataclass_field(default_factory=dict)
    ancestors: set[int] = dataclass_field(default_factory=set)
    # Statements to add before a top-level statement: their source and leading lines.
    inserts: dict[int, list[tuple[str, list[cst.EmptyLine]]]] = dataclass_field(default_factory=dict)
    environments: list[Environment] = dataclass_field(default_factory=list)
    need_import: bool = False


class _Migration:
    def __init__(
        self,
        analysis: Analysis,
        target: Target,
        policy: Policy,
        *,
        index: TaskIndex | None = None,
        module: str | None = None,
    ) -> None:
        self.a = analysis
        self.target = target
        self.policy = policy
        self.index = index
        self.module = module
        # Tasks of this module moved to a Flyte 2 environment, by name.
        self.converted: dict[str, Found] = {}
        # Absolute names of tasks of other modules that overrides here needed.
        self.wanted: set[str] = set()
        self.plan = _Plan()
        self.quote = analysis.walk.quote or '"'
        self.sites_by_call = {id(s.call): s for s in analysis.walk.calls}
        # Module-level tasks by function name (a name defined twice is ambiguous).
        counts: dict[str, int] = {}
        for f in analysis.found:
            if f.kind in _TASK_KINDS and not f.site.scopes:
                counts[f.name] = counts.get(f.name, 0) + 1
        self.tasks = {
            f.name: f for f in analysis.found if f.kind in _TASK_KINDS and not f.site.scopes and counts[f.name] == 1
        }

    # -- helpers --------------------------------------------------------------------------------

    def external(self, found: Found) -> tuple[str, TaskInfo | None] | None:
        """The absolute name of the task of another module an override's call names, and
        what the index knows about it (None: nothing); None when it names no such task."""
        callee = found.callee
        if callee is None:
            return None
        head = callee
        while isinstance(head, cst.Attribute):
            head = head.value
        if not isinstance(head, cst.Name) or head.value in self.a.local_names(found.site.scopes):
            return None
        if len(self.a.names.bindings.get(head.value, ())) != 1:
            return None  # imported, then bound again (or not imported at all): not known to be the import
        if isinstance(callee, cst.Name) and callee.value in self.tasks:
            return None
        qualified = self.a.names.qualified(callee)
        if qualified is None or canonical(qualified) is not None:
            return None
        absolute = resolve_import(qualified, self.module, self.a.path)
        if absolute is None:
            return None
        module, _, name = absolute.rpartition(".")
        if not module or module == self.module:
            return None
        self.wanted.add(absolute)
        if self.index is None:
            return absolute, None
        return absolute, self.index.get(module, {}).get(name)

    def exported_tasks(self) -> tuple[TaskInfo, ...]:
        """This module's tasks as other modules' overrides see them (needs `module`)."""
        if self.module is None:
            return ()
        out = []
        for name, found in self.tasks.items():
            spec, reason = evaluate_spec(found)
            converted = self.converted.get(name) is found
            out.append(TaskInfo(self.module, name, self.a.path, spec, converted, reason))
        return tuple(out)

    def forbidden(self, found: Found, *, module_level: bool) -> frozenset[str]:
        """Constants a rewrite must not refer to there: shadowed by a local, or
        (for code placed at module level) bound only after that point."""
        out = set(self.a.local_names(found.site.scopes))
        if module_level or not found.site.scopes:
            for name, bindings in self.a.names.bindings.items():
                if max(b.top for b in bindings) >= found.site.top:
                    out.add(name)
        return frozenset(out)

    def renderer(self, forbidden: frozenset[str]) -> Callable[[], _Renderer]:
        return lambda: _Renderer(self.quote, forbidden)

    def untouched(
        self, found: Found, reason: str, findings: Sequence[MigrationFinding] = (), *, decided: bool = False
    ) -> None:
        self.plan.sites.append(
            Site(
                kind=found.kind.value,
                name=found.name,
                line=found.line,
                action="untouched",
                old=self.a.call_text(found.call),
                new=None,
                reason=reason,
                decided_by_policy=decided,
                findings=tuple(findings),
            )
        )

    def blocked(self, found: Found, rule: MigrateRule, reason: str, findings: Sequence[MigrationFinding] = ()) -> None:
        self.untouched(found, reason, [*findings, _codemod(rule, found.line, reason, lossy=True)])

    def replace(self, call: cst.Call, builder: Builder, *, keep_comments: bool = True) -> cst.CSTNode:
        """Register the rewrite of a call; returns the new node (as built from the original).

        Comments the rewrite would drop are moved above the enclosing statement
        (or decorator) when they cannot stay next to the new argument."""
        site = self.sites_by_call[id(call)]
        self._add(id(call), builder)
        self.plan.ancestors.update(id(n) for n in site.ancestors)
        new = builder(call)
        lost = lost_comments(call, new) if keep_comments and self.a.multiline(call) else []
        if lost:
            holder = next(
                (
                    n
                    for n in reversed(site.ancestors)
                    if isinstance(n, (cst.Decorator, cst.SimpleStatementLine, cst.BaseCompoundStatement))
                ),
                None,
            )
            if holder is not None:
                lines = _comment_lines(lost)
                self._add(id(holder), lambda n: n.with_changes(leading_lines=[*_leading(n), *lines]))
        return new

    def _add(self, key: int, builder: Builder) -> None:
        previous = self.plan.targets.get(key)
        if previous is None:
            self.plan.targets[key] = builder
        else:
            self.plan.targets[key] = lambda n: builder(previous(n))

    def parse(self, text: str) -> cst.BaseExpression:
        return cst.parse_expression(text, config=self.a.module.config_for_parsing)

    def storage_findings(self, found: Found, keys: Sequence[str]) -> list[MigrationFinding]:
        out = []
        for key, rv in found.resource_values():
            if key in keys and "storage" in rv.fields:
                out.append(
                    _codemod(
                        MigrateRule.STORAGE_REMOVED,
                        found.line,
                        "storage= was removed from the source: flytekit 1.10.3 and later reject it, "
                        "and the backend ignored it",
                        field=f"{key}.storage",
                        value=rv.fields["storage"].whole.code,
                    )
                )
        return out

    def inline_findings(self, found: Found, decision: _Decision, keys: Sequence[str]) -> list[MigrationFinding]:
        out = []
        for key, rv in found.resource_values():
            if key in keys and rv.through is not None:
                out.append(
                    _codemod(
                        MigrateRule.CONSTANT_INLINED,
                        found.line,
                        f"the values of {rv.through} were written here; {rv.through} itself is unchanged",
                        field=key,
                        value=rv.through,
                    )
                )
        for leaf in decision.inlined:
            names = ", ".join(sorted(leaf.names))
            out.append(
                _codemod(
                    MigrateRule.CONSTANT_INLINED,
                    found.line,
                    f"the target needs a different value or type than {names}; it was written out",
                    value=leaf.code,
                )
            )
        return _merge_findings([out])

    def rewritten(
        self,
        found: Found,
        new: cst.CSTNode,
        decision: _Decision,
        extra: Sequence[MigrationFinding] = (),
        environment: str | None = None,
    ) -> None:
        self.plan.sites.append(
            Site(
                kind=found.kind.value,
                name=found.name,
                line=found.line,
                action="rewritten",
                old=self.a.call_text(found.call),
                new=self.a.module.code_for_node(new),
                reason=None,
                decided_by_policy=decision.decided,
                findings=tuple(_merge_findings([decision.findings, extra])),
                environment=environment,
            )
        )

    # -- flytekit: requests=/limits= -> resources= ----------------------------------------------

    def flytekit(self) -> None:
        candidates: list[Found] = []
        for found in self.a.found:
            if found.requests is None and found.limits is None:
                if found.problem is not None and found.kind is not DeclarationKind.OTHER:
                    self.blocked(found, MigrateRule.NOT_STATIC, found.problem)
                continue
            if found.kind is DeclarationKind.OTHER:
                self.blocked(
                    found,
                    MigrateRule.UNSUPPORTED_CONSTRUCT,
                    f"{found.name} is not a flytekit task or override; it may not accept resources=",
                )
                continue
            if found.resources is not None:
                self.blocked(
                    found,
                    MigrateRule.INVALID_VALUE,
                    "resources= cannot be combined with requests=/limits= (flytekit refuses it)",
                )
                continue
            why = self._not_static(found, ("requests", "limits"))
            if why is not None:
                self.blocked(found, MigrateRule.NOT_STATIC, why)
                continue
            candidates.append(found)
        shared = self._shared_definitions(candidates)
        for found in candidates:
            self._flytekit_site(found, shared)

    def _not_static(self, found: Found, keys: Sequence[str]) -> str | None:
        if found.problem is not None:
            return found.problem
        for key, rv in found.resource_values():
            if key not in keys:
                continue
            if rv.reason is not None:
                return f"{key}= {rv.reason}"
            for name, fv in rv.fields.items():
                for leaf in fv.leaves():
                    if leaf.reason is not None:
                        return f"{key}.{name}: {leaf.reason}"
        for key in ("accelerator", "shared_memory"):
            leaf = getattr(found, key)
            if key in keys and leaf is not None and leaf.reason is not None:
                return f"{key}: {leaf.reason}"
        return None

    def _role(self, found: Found) -> tuple[str, tuple[str, ...]] | None:
        """(constant, sides) when the declaration's requests/limits are one shared constant."""
        req, lim = found.requests, found.limits
        if req is not None and lim is not None:
            if req.through is not None and req.through == lim.through:
                return req.through, ("requests", "limits")
            return None
        rv = req or lim
        if rv is not None and rv.through is not None:
            return rv.through, ("requests",) if req is not None else ("limits",)
        return None

    def _definition_render(self, rv: ResourcesValue, sides: tuple[str, ...], line: int) -> _Decision:
        """What the constant's own Resources(...) must become for one role."""
        fake = Found(DeclarationKind.OTHER, rv.through or "", line, self.sites_by_call[id(rv.call)], {}, [])
        for side in sides:
            setattr(fake, side, rv)
        leaves = list(rv.leaves())
        return _decide(
            leaves,
            lambda combo: from_flytekit(**flytekit_kwargs(fake, combo, keys=sides)),
            _flytekit_convert,
            lambda args, combo, r: render_flytekit(
                args, rv.callee or "Resources", Slots.of(fake, sides), combo, r, order=list(rv.fields)
            ),
            policy=self.policy,
            line=line,
            renderer=self.renderer(frozenset()),
        )

    def _as_written(self, rv: ResourcesValue) -> str:
        """The constant's definition spelled like a render (to see whether a role changes it)."""
        parts = [f"{name}={fv.whole.code}" for name, fv in rv.fields.items()]
        return f"{rv.callee or 'Resources'}({', '.join(parts)})"

    def _shared_definitions(self, candidates: Sequence[Found]) -> dict[int, str]:
        """Decide, per shared module constant, whether uses become `resources=X`.

        Returns {id(found): constant} for the declarations that can say
        `resources=X`; the constants whose definition must change are
        rewritten here (when every use in the module agrees and the name is
        not exported); the other declarations get the values inline.
        """
        roles: dict[str, list[tuple[Found, tuple[str, ...]]]] = {}
        for found in candidates:
            role = self._role(found)
            if role is not None:
                roles.setdefault(role[0], []).append((found, role[1]))
        out: dict[int, str] = {}
        for name, uses in roles.items():
            first = uses[0][0]
            rv = first.requests if first.requests is not None else first.limits
            assert rv is not None
            assert rv.call is not None
            renders: dict[tuple[str, ...], _Decision] = {}
            for _, sides in uses:
                if sides not in renders:
                    renders[sides] = self._definition_render(rv, sides, self.a.line(rv.call))
            as_written = self._as_written(rv)
            # Overrides count among all the uses but never let the definition change: an
            # override can still be refused after this (override-limit-merge).
            use_count = sum(len(sides) for f, sides in uses if f.kind in _DEFINING_KINDS)
            all_uses = self.a.walk.name_uses[name] - len(self.a.names.bindings.get(name, ()))
            decisions = {d.render for d in renders.values()}
            if (
                len(renders) == 1
                and None not in decisions
                and use_count == all_uses
                and name not in self.a.names.exported
            ):
                decision = next(iter(renders.values()))
                assert decision.render is not None
                if decision.render != as_written:
                    self._rewrite_definition(name, rv, decision, [f.name for f, _ in uses])
                for found, _ in uses:
                    out[id(found)] = name
                continue
            for found, sides in uses:
                decision = renders[sides]
                if decision.render is not None and decision.render == as_written:
                    out[id(found)] = name
        return out

    def _rewrite_definition(self, name: str, rv: ResourcesValue, decision: _Decision, tasks: list[str]) -> None:
        assert rv.call is not None
        assert decision.render is not None
        new = self.parse(decision.render)
        self.replace(rv.call, lambda _node: new)
        line = self.a.line(rv.call)
        note = _codemod(
            MigrateRule.DEFINITION_REWRITTEN,
            line,
            f"{name} is used only as this role in this module ({', '.join(tasks)}); check modules that import it",
            value=name,
        )
        self.plan.sites.append(
            Site(
                kind="resources",
                name=name,
                line=line,
                action="rewritten",
                old=self.a.call_text(rv.call),
                new=decision.render,
                reason=None,
                decided_by_policy=decision.decided,
                findings=(*decision.findings, note),
            )
        )

    def _flytekit_site(self, found: Found, shared: Mapping[int, str]) -> None:
        keys = ("requests", "limits")
        callee = next(
            (rv.callee for _, rv in found.resource_values() if rv.callee is not None and rv.through is None),
            None,
        ) or next((rv.callee for _, rv in found.resource_values() if rv.callee), "Resources")
        slots = Slots.of(found, keys)
        order = list(dict.fromkeys(n for key, rv in found.resource_values() if key in keys for n in rv.fields))
        constant = shared.get(id(found))
        # `resources=X` refers to the constant, so the site is decided like its definition.
        in_place = frozenset() if constant is not None else self.forbidden(found, module_level=False)
        decision = _decide(
            [leaf for key, rv in found.resource_values() if key in keys for leaf in rv.leaves()],
            lambda combo: from_flytekit(**flytekit_kwargs(found, combo, keys=keys)),
            _flytekit_convert,
            lambda args, combo, r: render_flytekit(args, callee, slots, combo, r, order=order),
            policy=self.policy,
            line=found.line,
            renderer=self.renderer(in_place),
        )
        if not decision.ok:
            self.untouched(found, decision.reason or "", decision.findings)
            return
        extra = self.storage_findings(found, keys)
        if found.kind in (DeclarationKind.WITH_OVERRIDES, DeclarationKind.MAP_TASK_OVERRIDES):
            problem = self._override_limits(found, decision)
            if problem is not None:
                self.blocked(found, MigrateRule.OVERRIDE_LIMIT_MERGE, problem, decision.findings)
                return
        requests = found.requests
        if constant is not None:
            new_value = self.parse(constant)
        elif found.limits is None and requests is not None and decision.render == self._as_written(requests):
            # requests=Resources(...) means the same as resources=Resources(...): keep it as written.
            new_value = found.resource_args["requests"].value
        else:
            assert decision.render is not None
            new_value = self.parse(decision.render)
            extra += self.inline_findings(found, decision, keys)
        builder = self._resources_argument_builder(new_value, comments=self.a.multiline(found.call))
        new_call = self.replace(found.call, builder)
        self.rewritten(found, new_call, decision, extra)

    def _override_limits(self, found: Found, decision: _Decision) -> str | None:
        """A limit-only key in an override is (limit, limit) only if the task has no request for it."""
        keys = [f.field.partition(".")[2] for f in decision.findings if f.rule == "limit-without-request"]
        if not keys:
            return None
        task = self.tasks.get(found.target or "")
        external = self.external(found) if task is None else None
        if external is not None and external[1] is not None:
            info = external[1]
            if info.spec is None:
                return (
                    f"the override sets a limit without a request for {', '.join(keys)}; the requests of the "
                    f"task {info.qualified} are not static"
                )
            clash = [k for k in keys if k in {str(r) for r in info.spec.requests}]
            if clash:
                return (
                    f"the override sets a limit without a request for {', '.join(clash)} and the task "
                    f"{info.qualified} requests it: writing (limit, limit) would replace the task's request"
                )
            return None
        if task is None:
            return (
                f"the override sets a limit without a request for {', '.join(keys)}; the task "
                f"{found.target or '?'} is not declared in this module, so its own requests are unknown"
            )
        spec = self._task_spec(task, ("requests", "limits", "resources"))
        if spec is None:
            return (
                f"the override sets a limit without a request for {', '.join(keys)}; the task's requests are not static"
            )
        clash = [k for k in keys if k in {str(r) for r in spec.requests}]
        if clash:
            return (
                f"the override sets a limit without a request for {', '.join(clash)} and the task {task.name} "
                "requests it: writing (limit, limit) would replace the task's request"
            )
        return None

    def _task_spec(self, task: Found, keys: Sequence[str]) -> ResourceSpec | None:
        if self._not_static(task, keys) is not None:
            return None
        combos = combinations([leaf for k, rv in task.resource_values() if k in keys for leaf in rv.leaves()])
        if combos is None or len(combos) != 1:
            return None
        try:
            return from_flytekit(**flytekit_kwargs(task, combos[0], keys=keys))
        except (ValueError, TypeError):
            return None

    def _resources_argument_builder(self, value: cst.BaseExpression, *, comments: bool) -> Builder:
        def build(node: cst.CSTNode) -> cst.CSTNode:
            assert isinstance(node, cst.Call)
            kept: list[cst.Arg] = []
            placed = -1
            for arg in node.args:
                if arg.keyword is not None and arg.keyword.value in ("requests", "limits"):
                    if placed < 0:
                        kept.append(arg.with_changes(keyword=cst.Name("resources"), value=value))
                        placed = len(kept) - 1
                    continue
                kept.append(arg)
            new = node.with_changes(args=_with_commas(kept, node.args))
            return _attach_after(new, placed, lost_comments(node, new)) if comments else new

        return build

    # -- flyte: TaskEnvironment + @env.task, .override(resources=...) ----------------------------

    def flyte(self) -> None:
        module = self._flyte_module()
        if module is None:
            for found in self.a.found:
                self.blocked(
                    found,
                    MigrateRule.NAME_CONFLICT,
                    "the name 'flyte' is already used in this module for something else than the flyte package",
                )
            return
        groups: dict[str, list[tuple[Found, _Decision]]] = {}
        overrides: list[Found] = []
        for found in self.a.found:
            if found.kind in (DeclarationKind.WITH_OVERRIDES, DeclarationKind.MAP_TASK_OVERRIDES):
                overrides.append(found)
                continue
            decision = self._flyte_task(found, module)
            if decision is not None:
                assert decision.render is not None
                groups.setdefault(decision.render, []).append((found, decision))
        converted = self._environments(groups, module)
        self.converted = {f.name: f for f in converted.values() if self.tasks.get(f.name) is f}
        for found in overrides:
            self._flyte_override(found, module, converted)
        if self.plan.targets:
            self.plan.need_import = module not in self.a.names.imports

    def _flyte_module(self) -> str | None:
        for local, qualified in sorted(self.a.names.imports.items()):
            if qualified == "flyte":
                return local
        if self.a.walk.name_uses["flyte"] or "flyte" in self.a.names.bindings:
            return None
        return "flyte"

    def _unsupported_arguments(self, found: Found) -> list[str]:
        out = []
        for arg in found.other_args:
            if arg.keyword is None:
                out.append(self.a.code(arg).strip() if arg.star else "a positional argument")
            elif arg.keyword.value not in CARRIED_ARGUMENTS:
                out.append(f"{arg.keyword.value}=")
        return out

    def _flyte_task(self, found: Found, module: str) -> _Decision | None:
        if found.kind in (DeclarationKind.DYNAMIC, DeclarationKind.EAGER):
            self.blocked(
                found,
                MigrateRule.UNSUPPORTED_DECORATOR,
                f"@{found.kind.value} has no like-for-like Flyte 2 decorator (a Flyte 2 task may call tasks); "
                "migrate it by hand",
            )
            return None
        if found.kind is DeclarationKind.CONTAINER_TASK:
            self.blocked(
                found,
                MigrateRule.UNSUPPORTED_CONSTRUCT,
                "ContainerTask takes different arguments in Flyte 2 (flyte.extras.ContainerTask); migrate it by hand",
            )
            return None
        if found.kind is DeclarationKind.OTHER:
            self.blocked(
                found,
                MigrateRule.UNSUPPORTED_CONSTRUCT,
                f"{found.name} is not a flytekit task; this codemod rewrites tasks and overrides only",
            )
            return None
        why = self._not_static(found, RESOURCE_ARGUMENTS)
        if why is not None:
            self.blocked(found, MigrateRule.NOT_STATIC, why)
            return None
        if found.resources is not None and (found.requests is not None or found.limits is not None):
            self.blocked(
                found,
                MigrateRule.INVALID_VALUE,
                "resources= cannot be combined with requests=/limits= (flytekit refuses it)",
            )
            return None
        slots = Slots.of(found)
        decision = _decide(
            found.leaves(),
            lambda combo: from_flytekit(**flytekit_kwargs(found, combo)),
            _flyte_convert,
            lambda args, combo, r: render_flyte(args, module, slots, combo, r),
            policy=self.policy,
            line=found.line,
            renderer=self.renderer(self.forbidden(found, module_level=True)),
        )
        if not decision.ok:
            self.untouched(found, decision.reason or "", decision.findings)
            return None
        unsupported = self._unsupported_arguments(found)
        if unsupported:
            self.blocked(
                found,
                MigrateRule.UNSUPPORTED_ARGUMENT,
                f"{', '.join(unsupported)} has no Flyte 2 equivalent this codemod knows; the task is left as it is",
                decision.findings,
            )
            return None
        decision.findings += self.storage_findings(found, RESOURCE_ARGUMENTS)
        decision.findings += self.inline_findings(found, decision, RESOURCE_ARGUMENTS)
        return decision

    def _environments(self, groups: Mapping[str, list[tuple[Found, _Decision]]], module: str) -> dict[str, Found]:
        stem = _module_stem(self.a.path)
        taken = set(self.a.names.bindings) | set(self.a.walk.name_uses)
        names_taken = set(self.a.walk.environment_names)
        converted: dict[str, Found] = {}
        ordered = sorted(groups.items(), key=lambda item: min(f.site.top for f, _ in item[1]))
        for render, members in ordered:
            first = min(members, key=lambda m: (m[0].site.top, m[0].line))[0]
            if len(ordered) == 1:
                variable = "env" if "env" not in taken else f"{stem}_env"
                env_name = stem
            else:
                task = _snake(first.name) or "task"
                variable, env_name = f"{task}_env", f"{stem}_{task}"
            variable = _unique(variable, taken)
            taken.add(variable)
            env_name = _unique(env_name, names_taken)
            names_taken.add(env_name)
            statement = (
                f"{variable} = {module}.TaskEnvironment(name={self.quote}{env_name}{self.quote}, resources={render})\n"
            )
            top = first.site.top
            anchor = self.a.module.body[top]
            blank = []
            for line in anchor.leading_lines:
                if line.comment is not None:
                    break
                blank.append(line)
            moved: list[str] = []
            for found, decision in members:
                builder = self._decorator_builder(variable)
                # Comments written next to the resources move with them, above the environment.
                new = self.replace(found.call, builder, keep_comments=False)
                if self.a.multiline(found.call):
                    moved += [c for c in lost_comments(found.call, new) if c not in moved]
                self.rewritten(found, new, decision, environment=variable)
                converted[found.name] = found
            self.plan.inserts.setdefault(top, []).append((statement, [*blank, *_comment_lines(moved)]))
            self.plan.environments.append(
                Environment(variable, env_name, render, first.line, tuple(f.name for f, _ in members))
            )
        return converted

    def _decorator_builder(self, variable: str) -> Builder:
        def build(node: cst.CSTNode) -> cst.CSTNode:
            assert isinstance(node, cst.Call)
            func = cst.Attribute(value=cst.Name(variable), attr=cst.Name("task"))
            kept = [a for a in node.args if a.keyword is not None and a.keyword.value in CARRIED_ARGUMENTS]
            if not kept:
                return func
            return node.with_changes(func=func, args=_with_commas(kept, node.args))

        return build

    def _flyte_override(self, found: Found, module: str, converted: Mapping[str, Found]) -> None:
        # The task itself may have moved to Flyte 2 even though this call cannot: say so.
        moved = (
            f"; {found.target} itself now runs in a Flyte 2 environment, so migrate this call by hand"
            if found.target in converted
            else ""
        )
        if found.kind is DeclarationKind.MAP_TASK_OVERRIDES:
            self.blocked(
                found,
                MigrateRule.MAP_TASK_OVERRIDE,
                f"Flyte 2 maps with flyte.map(task.override(resources=...), ...){moved}",
            )
            return
        if found.target_shape == "chained":
            self.blocked(
                found,
                MigrateRule.CHAINED_OVERRIDES,
                "chained with_overrides: flytekit keeps only the last call's accelerator and shared memory, "
                f"so there is no faithful single override{moved}",
            )
            return
        base = self._override_base(found, converted)
        if base is None:
            return
        task, info = base
        why = self._not_static(found, RESOURCE_ARGUMENTS)
        if why is not None:
            self.blocked(found, MigrateRule.NOT_STATIC, why + moved)
            return
        unsupported = self._unsupported_arguments(found)
        for arg in found.other_args:
            zero = isinstance(arg.value, cst.Integer) and arg.value.evaluated_value == 0
            if zero and arg.keyword is not None and arg.keyword.value in ("retries", "timeout"):
                unsupported.append(f"{arg.keyword.value}=0 (Flyte 2's override cannot reset it to 0)")
        if unsupported:
            self.blocked(
                found,
                MigrateRule.UNSUPPORTED_ARGUMENT,
                f"{', '.join(unsupported)} has no Flyte 2 override equivalent this codemod knows{moved}",
            )
            return
        if info is not None:
            # A task of another module: its values are written out (its constants are not in scope here).
            assert info.spec is not None
            spec, base_name = info.spec, info.qualified
            slots = Slots.of(found)
            leaves = found.leaves()

            def build(combo: Combo) -> ResourceSpec:
                return _merge_specs(spec, from_flytekit(**flytekit_kwargs(found, combo)))

        else:
            assert task is not None
            local, base_name = task, task.name
            slots = Slots.of(found).over(Slots.of(task))
            leaves = [*task.leaves(), *found.leaves()]

            def build(combo: Combo) -> ResourceSpec:
                base = from_flytekit(**flytekit_kwargs(local, combo))
                return _merge_specs(base, from_flytekit(**flytekit_kwargs(found, combo)))

        decision = _decide(
            leaves,
            build,
            _flyte_convert,
            lambda args, combo, r: render_flyte(args, module, slots, combo, r),
            policy=self.policy,
            line=found.line,
            renderer=self.renderer(self.forbidden(found, module_level=False)),
        )
        if not decision.ok:
            self.untouched(found, (decision.reason or "") + moved, decision.findings)
            return
        assert decision.render is not None
        value = self.parse(decision.render)
        builder = self._override_builder(value, comments=self.a.multiline(found.call))
        new = self.replace(found.call, builder)
        extra = [
            *self.storage_findings(found, RESOURCE_ARGUMENTS),
            _codemod(
                MigrateRule.OVERRIDE_MERGED,
                found.line,
                f"merged with the resources of {base_name}: Flyte 2's override replaces them all",
                field="resources",
                value=base_name,
            ),
        ]
        self.rewritten(found, new, decision, extra)

    def _override_base(
        self, found: Found, converted: Mapping[str, Found]
    ) -> tuple[Found | None, TaskInfo | None] | None:
        """The task an override applies to: one of this module (a Found) or of another
        module of the run (a TaskInfo); None when the site was reported as left alone."""
        task = converted.get(found.target or "") if found.target_shape == "task" else None
        info: TaskInfo | None = None
        if task is None and not (found.target_shape == "task" and found.target in self.tasks):
            external = self.external(found)
            if external is not None and (external[1] is not None or self.index is not None):
                absolute, info = external
                problem = self._external_problem(absolute, info)
                if problem is not None:
                    self.blocked(found, MigrateRule.OVERRIDE_TASK_UNKNOWN, problem)
                    return None
                return None, info
        if found.target_shape != "task" or task is None:
            if found.target_shape != "task":
                reason = "the override is not applied directly to a task call (t(...).with_overrides(...))"
            elif found.target in self.tasks:
                reason = f"the task {found.target} stays a flytekit task (see its findings)"
            else:
                reason = (
                    f"the task {found.target} is not declared in this module "
                    "(Flyte 2's override replaces all resources)"
                )
            self.blocked(found, MigrateRule.OVERRIDE_TASK_UNKNOWN, reason)
            return None
        if found.target in self.a.local_names(found.site.scopes):
            self.blocked(found, MigrateRule.OVERRIDE_TASK_UNKNOWN, f"{found.target} is a local name here")
            return None
        return task, None

    @staticmethod
    def _external_problem(absolute: str, info: TaskInfo | None) -> str | None:
        """Why an override cannot be merged with a task of another module, or None."""
        if info is None:
            return (
                f"{absolute} is not a task with resources in this module or in the files migrated with it "
                "(Flyte 2's override replaces all resources)"
            )
        if not info.converted:
            return f"the task {absolute} stays a flytekit task (see its findings in {info.path})"
        if info.spec is None:
            return f"the resources of the task {absolute} are not known statically: {info.reason}"
        return None

    def _override_builder(self, value: cst.BaseExpression, *, comments: bool) -> Builder:
        def build(node: cst.CSTNode) -> cst.CSTNode:
            assert isinstance(node, cst.Call)
            assert isinstance(node.func, cst.Attribute)
            inner = node.func.value
            assert isinstance(inner, cst.Call)
            kept: list[cst.Arg] = []
            placed = -1
            for arg in node.args:
                if arg.keyword is not None and arg.keyword.value in RESOURCE_ARGUMENTS:
                    if placed < 0:
                        kept.append(arg.with_changes(keyword=cst.Name("resources"), value=value))
                        placed = len(kept) - 1
                    continue
                kept.append(arg)
            override = node.with_changes(
                func=cst.Attribute(value=inner.func, attr=cst.Name("override")),
                args=_with_commas(kept, node.args),
                lpar=(),
                rpar=(),
            )
            if comments:
                lost = lost_comments(node.with_changes(func=inner.func), override)
                override = _attach_after(override, placed, lost)
            return inner.with_changes(func=override, lpar=(*node.lpar, *inner.lpar), rpar=(*inner.rpar, *node.rpar))

        return build

    # -- applying ---------------------------------------------------------------------------------

    def apply(self, *, splice: bool = True) -> str:
        """The new source. Only the top-level statements that changed are generated
        again (`splice`); every other line is copied from the original text."""
        module = self.a.module
        if not self.plan.targets and not self.plan.inserts:
            return self.a.source
        # One parse for every new statement (a parse per statement costs more than the rest).
        texts = [text for items in self.plan.inserts.values() for text, _ in items]
        if self.plan.need_import:
            texts.append("import flyte\n")
        parsed = iter(cst.parse_module("".join(texts)).body)
        inserts: dict[int, list[cst.BaseStatement]] = {
            top: [next(parsed).with_changes(leading_lines=lead) for _, lead in items]
            for top, items in self.plan.inserts.items()
        }
        if self.plan.need_import:
            inserts.setdefault(_import_position(module.body), []).insert(0, next(parsed))
        rebuilt = [_rebuild(stmt, self.plan.targets, self.plan.ancestors) for stmt in module.body]
        lone_cr = "\r" in self.a.source.replace("\r\n", "")
        if splice and self.a.top_lines is not None and module.has_trailing_newline and not lone_cr:
            return self._splice(rebuilt, inserts)
        body: list[cst.BaseStatement] = []
        for index, stmt in enumerate(rebuilt):
            body.extend(inserts.get(index, ()))
            assert isinstance(stmt, cst.BaseStatement)
            body.append(stmt)
        body.extend(inserts.get(len(rebuilt), ()))
        return module.with_changes(body=body).code

    def _splice(self, rebuilt: Sequence[cst.CSTNode], inserts: Mapping[int, Sequence[cst.BaseStatement]]) -> str:
        module, lines, starts = self.a.module, self.a.lines, self.a.top_lines
        assert starts is not None
        count = len(rebuilt)
        end = len(lines) - len(module.footer)
        out = ["".join(lines[: starts[0] - 1])]
        for index, (old, new) in enumerate(zip(module.body, rebuilt, strict=True)):
            out.extend(module.code_for_node(s) for s in inserts.get(index, ()))
            if new is old:
                stop = starts[index + 1] - 1 if index + 1 < count else end
                out.append("".join(lines[starts[index] - 1 : stop]))
            else:
                out.append(module.code_for_node(new))
        out.extend(module.code_for_node(s) for s in inserts.get(count, ()))
        out.append("".join(lines[end:]))
        return "".join(out)


_STRINGS = (cst.SimpleString, cst.ConcatenatedString)


def _leading(node: cst.CSTNode) -> Sequence[cst.EmptyLine]:
    lines: Sequence[cst.EmptyLine] = getattr(node, "leading_lines", ())
    return lines


def _import_position(body: Sequence[cst.BaseStatement]) -> int:
    """Just after the module's leading docstring, __future__ and import statements."""
    at = 0
    for index, stmt in enumerate(body):
        if not isinstance(stmt, cst.SimpleStatementLine):
            break
        first = stmt.body[0]
        if index == 0 and len(stmt.body) == 1 and isinstance(first, cst.Expr) and isinstance(first.value, _STRINGS):
            at = 1
            continue
        if all(isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body):
            at = index + 1
            continue
        break
    return at


_SNAKE = re.compile(r"[^a-z0-9]+")


def _snake(text: str) -> str:
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text).lower()
    return _SNAKE.sub("_", text).strip("_")


def _module_stem(path: str) -> str:
    p = PurePath(path)
    stem = p.parent.name if p.stem == "__init__" else p.stem
    out = _snake(stem) if not stem.startswith("<") else ""
    if not out:
        return "module"
    return out if out[0].isalpha() else f"m_{out}"


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    n = 2
    while f"{name}_{n}" in taken:
        n += 1
    return f"{name}_{n}"


# ---------------------------------------------------------------------------------------------
# Entry point


def is_generated(source: str) -> bool:
    """True when the first lines carry LibCST's generated-code marker."""
    head = source.split("\n", _GENERATED_LINES)[:_GENERATED_LINES]
    return any(GENERATED_MARKER in line for line in head)


def migrate_source(
    source: str,
    *,
    path: str = "<string>",
    target: Target = "flyte",
    policy: Policy | PolicyName = Policy.KUBERNETES,
    module: str | None = None,
    index: TaskIndex | None = None,
) -> MigrationResult:
    """Rewrite the flytekit resource declarations in one module's source.

    Never raises for a bad input: a file that does not parse comes back with
    status "failed" and its reason; a file marked generated is "skipped".

    `index` holds the tasks of other modules (see `flyteres.migrate.index_sources`),
    so an override on an imported task can be merged with its resources;
    `module` is this source's dotted name (needed for relative imports).

    >>> src = '''from flytekit import Resources, task
    ...
    ... @task(requests=Resources(cpu="1"), limits=Resources(cpu="2"))
    ... def fit() -> None: ...
    ... '''
    >>> print(migrate_source(src, target="flytekit").code)
    from flytekit import Resources, task
    <BLANKLINE>
    @task(resources=Resources(cpu=("1", "2")))
    def fit() -> None: ...
    <BLANKLINE>
    """
    return migrate(source, path=path, target=target, policy=policy, module=module, index=index).result


def index_sources(
    sources: Mapping[str, str], *, target: Target = "flyte", policy: Policy | PolicyName = Policy.KUBERNETES
) -> dict[str, dict[str, TaskInfo]]:
    """The tasks of several modules, by dotted module name, for `migrate_source(index=...)`.

    `sources` maps each module's dotted name to its source (the codemod's
    first pass over a run, for callers that hold sources rather than files).

    >>> index = index_sources({"etl": "from flytekit import Resources, task\\n"
    ...     "@task(requests=Resources(cpu='1'))\\ndef extract() -> None: ...\\n"})
    >>> index["etl"]["extract"].spec, index["etl"]["extract"].converted
    (ResourceSpec(requests={cpu='1'}), True)
    """
    out: dict[str, dict[str, TaskInfo]] = {}
    for module, source in sorted(sources.items()):
        path = module.replace(".", "/") + ".py"
        outcome = migrate(source, path=path, target=target, policy=policy, reparse=False, module=module)
        out[module] = {t.name: t for t in outcome.tasks}
    return out


@dataclass(frozen=True)
class ModuleOutcome:
    """`migrate`'s result, with what a run needs to resolve overrides across modules:
    this module's tasks, and the absolute names of other modules' tasks its overrides named."""

    result: MigrationResult
    tasks: tuple[TaskInfo, ...] = ()
    wanted: frozenset[str] = frozenset()


def migrate(
    source: str,
    *,
    path: str,
    target: Target,
    policy: Policy | PolicyName,
    reparse: bool = True,
    module: str | None = None,
    index: TaskIndex | None = None,
) -> ModuleOutcome:
    """`migrate_source`, with the libcst re-parse of the output optional.

    `--check` writes nothing, so it only compiles the output (a third of the
    time goes to parsing it again); `--diff`, `--write` and the API re-parse.
    """
    if target not in TARGETS:
        raise ValueError(f"target must be one of {', '.join(TARGETS)}, not {target!r}")
    policy = Policy.parse(policy)
    if is_generated(source):
        return ModuleOutcome(MigrationResult(path, source, "skipped", reason=f"marked {GENERATED_MARKER}"))
    try:
        analysis = Analysis(source, path)
    except SourceParseError as exc:
        return ModuleOutcome(MigrationResult(path, source, "failed", reason=str(exc)))
    except RecursionError:
        return ModuleOutcome(MigrationResult(path, source, "failed", reason=f"{path}: too deeply nested to analyse"))
    migration = _Migration(analysis, target, policy, index=index, module=module)
    try:
        if target == "flytekit":
            migration.flytekit()
        else:
            migration.flyte()
        code = migration.apply()
    except RecursionError:
        return ModuleOutcome(MigrationResult(path, source, "failed", reason=f"{path}: too deeply nested to rewrite"))
    except Exception as exc:  # a bug here must cost one file, not the run; the reason says what broke
        return ModuleOutcome(
            MigrationResult(path, source, "failed", reason=f"{path}: internal error: {type(exc).__name__}: {exc}")
        )
    sites = tuple(sorted(migration.plan.sites, key=lambda s: (s.line, s.kind, s.name)))
    envs = tuple(migration.plan.environments)
    tasks, wanted = migration.exported_tasks(), frozenset(migration.wanted)
    if code == source:
        return ModuleOutcome(MigrationResult(path, source, "unchanged", sites, envs), tasks, wanted)
    problem = _check_output(code, path, reparse=reparse)
    if problem is not None:
        reason = f"the rewritten code does not parse: {problem}"
        # Nothing is written, so no task of this module moves to Flyte 2.
        tasks = tuple(replace(t, converted=False) for t in tasks)
        return ModuleOutcome(MigrationResult(path, source, "failed", sites, envs, reason=reason), tasks, wanted)
    return ModuleOutcome(MigrationResult(path, code, "changed", sites, envs), tasks, wanted)


def _check_output(code: str, path: str, *, reparse: bool = True) -> str | None:
    try:
        if reparse:
            cst.parse_module(code)
        compile(code, path, "exec", dont_inherit=True)
    except cst.ParserSyntaxError as exc:
        return f"line {exc.raw_line}: {exc.message}"
    except (SyntaxError, ValueError) as exc:
        return str(exc)
    return None
