"""What migrating a module reports: findings with stable rule ids, sites, environments, the result.

The result is one class per outcome (`MigrationChanged`, `MigrationUnchanged`,
`MigrationSkipped`, `MigrationFailed`), each with only its own fields, so
callers `match` on the class; `status`, `reason`, `sites` and `to_dict()`
answer the same on every class for the JSON report and existing callers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, ClassVar, Literal, Protocol

from flyteres.migrate.rules import MigrateRule

__all__ = [
    "Blocker",
    "Environment",
    "MigrationChanged",
    "MigrationFailed",
    "MigrationFinding",
    "MigrationResult",
    "MigrationSkipped",
    "MigrationUnchanged",
    "Site",
    "Status",
    "codemod_finding",
    "merge_findings",
]

Status = Literal["changed", "unchanged", "skipped", "failed"]


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
class Blocker:
    """A construct that keeps its module's group on flytekit (`--target flyte`).

    Flyte 2 cannot run half a program: a flytekit workflow calling a Flyte 2
    task runs it while compiling and bakes the result in. So a group of
    modules (tasks, the workflows that call them, the modules importing them)
    moves completely or not at all, and each construct that cannot move is
    reported once, where it is: `construct` names it (`@workflow nightly`,
    `conditional`), `rule` is a `MigrateRule` id, `reason` says why.
    """

    path: str
    line: int
    construct: str
    rule: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.line,
            "construct": self.construct,
            "rule": self.rule,
            "reason": self.reason,
        }

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.construct}: {self.reason} [{self.rule}]"


class _Outcome(Protocol):
    """What every outcome answers, as a field or derived from its class."""

    @property
    def path(self) -> str: ...
    @property
    def status(self) -> Status: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def sites(self) -> tuple[Site, ...]: ...
    @property
    def environments(self) -> tuple[Environment, ...]: ...
    @property
    def blockers(self) -> tuple[Blocker, ...]: ...


class _Reported:
    """The views every outcome shares: the findings, the rewritten sites, the report entry."""

    @property
    def changed(self: _Outcome) -> bool:
        """Whether the module's code changed."""
        return self.status == "changed"

    @property
    def findings(self: _Outcome) -> tuple[MigrationFinding, ...]:
        """Every site's findings, in site order."""
        return tuple(f for s in self.sites for f in s.findings)

    @property
    def rewritten(self: _Outcome) -> tuple[Site, ...]:
        """The sites that were rewritten."""
        return tuple(s for s in self.sites if s.action == "rewritten")

    def to_dict(self: _Outcome) -> dict[str, Any]:
        """The module's entry in the JSON report (`flyteres.migrate/1`)."""
        return {
            "path": self.path,
            "status": self.status,
            "reason": self.reason,
            "sites": [s.to_dict() for s in self.sites],
            "environments": [e.to_dict() for e in self.environments],
            "blockers": [b.to_dict() for b in self.blockers],
        }


@dataclass(frozen=True)
class MigrationChanged(_Reported):
    """The module was rewritten: `code` is the new source (it parses and compiles).

    With `blockers`, the module stayed on flytekit and only `# TODO(flyteres)`
    comments were added at each blocking construct (`mark`).
    """

    status: ClassVar[Literal["changed"]] = "changed"
    reason: ClassVar[None] = None

    path: str
    code: str
    sites: tuple[Site, ...]
    environments: tuple[Environment, ...] = ()
    blockers: tuple[Blocker, ...] = ()


@dataclass(frozen=True)
class MigrationUnchanged(_Reported):
    """Nothing to rewrite: `code` is the input; `sites` lists what was left as written, and why;
    `blockers` the constructs that kept the module (and its group) on flytekit."""

    status: ClassVar[Literal["unchanged"]] = "unchanged"
    reason: ClassVar[None] = None
    environments: ClassVar[tuple[Environment, ...]] = ()

    path: str
    code: str
    sites: tuple[Site, ...] = ()
    blockers: tuple[Blocker, ...] = ()


@dataclass(frozen=True)
class MigrationSkipped(_Reported):
    """The module was not looked at (`reason`: it is marked generated); `code` is the input."""

    status: ClassVar[Literal["skipped"]] = "skipped"
    sites: ClassVar[tuple[Site, ...]] = ()
    environments: ClassVar[tuple[Environment, ...]] = ()
    blockers: ClassVar[tuple[Blocker, ...]] = ()

    path: str
    code: str
    reason: str


@dataclass(frozen=True)
class MigrationFailed(_Reported):
    """The module could not be migrated (`reason` says why); `code` is the input, untouched.

    When the rewrite itself would not parse, `sites` and `environments` are
    what had been planned (nothing was written).
    """

    status: ClassVar[Literal["failed"]] = "failed"
    blockers: ClassVar[tuple[Blocker, ...]] = ()

    path: str
    code: str
    reason: str
    sites: tuple[Site, ...] = ()
    environments: tuple[Environment, ...] = ()


#: What migrating one module did: one class per outcome, like libcst.codemod's
#: `TransformSuccess | TransformFailure | TransformSkip`; `status` names the class.
MigrationResult = MigrationChanged | MigrationUnchanged | MigrationSkipped | MigrationFailed


def codemod_finding(
    rule: MigrateRule, line: int, reason: str, *, field: str = "", value: str = "", lossy: bool = False
) -> MigrationFinding:
    """A finding of the codemod itself (not of a converter)."""
    return MigrationFinding(rule.value, "codemod", field, value, reason, line, lossy=lossy)


def merge_findings(groups: Sequence[Sequence[MigrationFinding]]) -> list[MigrationFinding]:
    """The findings of several groups, each (rule, field, value, lossy) once, in first-seen order."""
    seen: dict[tuple[str, str, str, bool], MigrationFinding] = {}
    for group in groups:
        for f in group:
            seen.setdefault((f.rule, f.field, f.value, f.lossy), f)
    return list(seen.values())
