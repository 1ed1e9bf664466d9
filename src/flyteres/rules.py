"""Every rule id any command reports, with its default level and one line: what ``flyteres rules`` lists.

The ids and their descriptions have one source: the rule enums themselves
(`flyteres.Rule` for conversions, `PlatformRule` for the backend's replay,
`CheckRule`, `VerifyRule`, `MigrateRule`, `CommonRule`), each member
documented by the ``#:`` comment above it. The first sentence of that comment
is the rule's one line here, in ``flyteres rules`` and in docs/rules.md (a test
regenerates that page and fails when it drifts).

A finding's level is decided where it is made (a platform finding carries
its severity; a conversion finding is an error when it is lossy under the
policy); the level listed here is the usual one.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Mapping
from enum import Enum
from functools import cache

from flyteres.backend.results import PlatformRule
from flyteres.check import CheckRule
from flyteres.core.findings import Rule
from flyteres.migrate.rules import MigrateRule
from flyteres.report.model import CommonRule, Level
from flyteres.report.render import RuleInfo
from flyteres.verify import VerifyRule

__all__ = ["by_id", "catalog", "markdown", "rule"]

_ERROR, _WARNING, _NOTE = Level.ERROR, Level.WARNING, Level.NOTE

# The usual level of each platform rule (the backend sets it per finding): what refuses the pod is an
# error, what runs it with other values a warning, what only explains a value a note.
_PLATFORM_LEVELS: Mapping[PlatformRule, Level] = {
    PlatformRule.TASK: _NOTE,
    PlatformRule.OVERRIDE: _NOTE,
    PlatformRule.REQUEST_FROM_LIMIT: _NOTE,
    PlatformRule.LIMIT_FROM_REQUEST: _NOTE,
    PlatformRule.PLATFORM_DEFAULT: _NOTE,
    PlatformRule.NO_VALUE: _WARNING,
    PlatformRule.CAPPED_AT_PLATFORM_LIMIT: _WARNING,
    PlatformRule.REQUEST_CLAMPED_TO_LIMIT: _WARNING,
    PlatformRule.ZERO_DROPPED: _NOTE,
    PlatformRule.STORAGE_IGNORED: _WARNING,
    PlatformRule.OVERRIDE_REPLACES_RESOURCES: _WARNING,
    PlatformRule.REJECTED_AT_REGISTRATION: _ERROR,
    PlatformRule.GPU_REQUEST_LIMIT_DIFFER: _ERROR,
    PlatformRule.SHM_ABOVE_MEMORY_LIMIT: _WARNING,
    PlatformRule.QUOTA_REQUIRES_VALUE: _ERROR,
    PlatformRule.QUOTA_EXCEEDED: _ERROR,
    PlatformRule.LIMITRANGE_DEFAULT: _WARNING,
    PlatformRule.LIMITRANGE_REJECTED: _ERROR,
}
_CHECK_LEVELS: Mapping[CheckRule, Level] = {
    CheckRule.FLYTE_REFUSES: _ERROR,
    CheckRule.OVERRIDE_ON_REUSABLE: _ERROR,
    CheckRule.GPU_LABEL_NOT_ON_NODES: _WARNING,
    CheckRule.DEVICE_LABEL_DIFFERS: _NOTE,
    CheckRule.DEVICE_CLASS_UNSCHEDULABLE: _WARNING,
}
# What the codemod did beyond converting is a note; every other reason left a declaration as written.
_MIGRATE_NOTES = frozenset(
    {
        MigrateRule.CONDITIONAL_KEPT,
        MigrateRule.STORAGE_REMOVED,
        MigrateRule.OVERRIDE_MERGED,
        MigrateRule.CONSTANT_INLINED,
        MigrateRule.DEFINITION_REWRITTEN,
    }
)


def _level(member: Enum) -> Level:
    if isinstance(member, PlatformRule):
        return _PLATFORM_LEVELS[member]
    if isinstance(member, CheckRule):
        return _CHECK_LEVELS[member]
    if isinstance(member, MigrateRule):
        return _NOTE if member in _MIGRATE_NOTES else _WARNING
    if isinstance(member, CommonRule):
        return _NOTE
    if isinstance(member, VerifyRule):
        return _NOTE if member is VerifyRule.BECAME_TASK else _WARNING
    return _WARNING  # a conversion finding: an error when lossy under the policy, a note when no policy differs


# (enum, the commands that report its rules, where it is defined)
_SOURCES: tuple[tuple[type[Enum], tuple[str, ...], str], ...] = (
    (Rule, ("convert", "migrate"), "flyteres.Rule"),
    (PlatformRule, ("check",), "flyteres.backend.results.PlatformRule"),
    (CheckRule, ("check",), "flyteres.check.CheckRule"),
    (VerifyRule, ("verify",), "flyteres.verify.VerifyRule"),
    (MigrateRule, ("migrate",), "flyteres.migrate.rules.MigrateRule"),
    (CommonRule, ("check", "verify"), "flyteres.report.model.CommonRule"),
)


def _comments(enum: type[Enum]) -> dict[str, str]:
    """Each member's ``#:`` comment, joined into one string, by member name."""
    out: dict[str, str] = {}
    pending: list[str] = []
    for line in inspect.getsource(enum).splitlines():
        stripped = line.strip()
        if stripped.startswith("#:"):
            pending.append(stripped[2:].strip())
            continue
        member = re.match(r"([A-Z][A-Z0-9_]*)\s*=", stripped)
        if member and pending:
            out[member.group(1)] = " ".join(pending)
        pending = []
    return out


def _first_sentence(text: str) -> str:
    """The comment up to its first full stop followed by a space (or the whole of it)."""
    match = re.search(r"(?<![.][a-z])\.(\s|$)", text)
    return text if match is None else text[: match.start() + 1]


@cache
def catalog() -> tuple[RuleInfo, ...]:
    """Every rule once, in the order of the enums above, each with its default level and one line."""
    seen: dict[str, RuleInfo] = {}
    for enum, commands, origin in _SOURCES:
        docs = _comments(enum)
        for member in enum:
            rule_id = str(member.value)
            text = _first_sentence(docs.get(member.name, rule_id))
            if rule_id in seen:
                raise RuntimeError(f"rule id {rule_id!r} is defined by {seen[rule_id].origin} and {origin}")
            seen[rule_id] = RuleInfo(rule_id, _level(member), text, commands, origin)
    return tuple(seen.values())


def rule(rule_id: str) -> RuleInfo | None:
    """One rule by id."""
    return {r.id: r for r in catalog()}.get(rule_id)


def by_id() -> dict[str, RuleInfo]:
    """The catalog by rule id (what the SARIF output looks descriptions up in)."""
    return {r.id: r for r in catalog()}


def markdown() -> str:
    """docs/rules.md: every rule, grouped by where it is defined, with an anchor per id."""
    lines = [
        "# Rules",
        "",
        (
            "<!-- Generated from the rule enums by `flyteres rules --output-format markdown`; "
            "tests/test_cli_rules.py fails when this page drifts. Do not edit by hand. -->"
        ),
        "",
        (
            "Every finding of every command carries one of these ids. Select or ignore them with `select`/`ignore` "
            "in `[tool.flyteres]` (ids or prefixes), silence one line with `# flyteres: ignore[id]`. The level is "
            'the usual one; where a finding is made decides its own (docs/cli.md, "Levels").'
        ),
        "",
    ]
    for _, commands, origin in _SOURCES:
        rows = [r for r in catalog() if r.origin == origin]
        lines += [f"## {origin} ({', '.join(commands)})", "", "| id | level | what it means |", "| --- | --- | --- |"]
        lines += [f'| <a id="{r.id}"></a>`{r.id}` | {r.level.value} | {_cell(r.summary)} |' for r in rows]
        lines.append("")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
