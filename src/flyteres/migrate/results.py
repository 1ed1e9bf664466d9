"""What migrating a module reports: findings with stable rule ids, sites, environments, the result."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, Literal

from flyteres.migrate.rules import MigrateRule

__all__ = [
    "Environment",
    "MigrationFinding",
    "MigrationResult",
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
