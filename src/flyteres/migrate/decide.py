"""Deciding one site: convert every combination of import-time values, rewrite only if all agree."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, TypeVar

from flyteres._errors import ResourceSpecError
from flyteres.backend.merge import merge
from flyteres.convert.flyte import FlyteArguments, flyte_arguments
from flyteres.convert.flytekit import FlytekitArguments, flytekit_arguments
from flyteres.core.findings import Conversion
from flyteres.core.options import Policy
from flyteres.core.spec import ResourceSpec
from flyteres.migrate.render import FileSpelling
from flyteres.migrate.results import MigrationFinding, codemod_finding, merge_findings
from flyteres.migrate.rules import MigrateRule
from flyteres.source.values import Combo, Leaf, combinations

__all__ = ["Decision", "decide", "flyte_convert", "flytekit_convert", "merge_specs"]

# The target's arguments (`FlyteArguments` or `FlytekitArguments`), from convert to render.
_Arguments = TypeVar("_Arguments")


@dataclass
class Decision:
    """A site's outcome: the rendered resources (None: left as written, `reason` says why),
    the findings, whether the policy decided something, and which leaves were kept or written out."""

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


def decide(
    leaves: Sequence[Leaf],
    build: Callable[[Combo], ResourceSpec],
    convert: Callable[[ResourceSpec, Policy], Conversion[_Arguments]],
    render: Callable[[_Arguments, FileSpelling], str],
    *,
    policy: Policy,
    line: int,
    spelling: Callable[[Combo], FileSpelling],
) -> Decision:
    """Convert every combination of import-time values; rewrite only if all agree.

    `build` makes the spec for one combination, `convert` the target's
    arguments, and `render` spells them with `spelling(combo)`."""
    out = Decision()
    combos = combinations(leaves)
    varying = [leaf for leaf in leaves if len(leaf.values) > 1]
    if combos is None:
        out.reason = "too many values chosen at import time to check them all"
        out.findings.append(codemod_finding(MigrateRule.ENVIRONMENT_DEPENDENT, line, out.reason, lossy=True))
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
            out.findings.append(codemod_finding(MigrateRule.INVALID_VALUE, line, out.reason, lossy=True))
            return out
        conv = convert(spec, policy)
        strict = convert(spec, Policy.STRICT) if policy is not Policy.STRICT else None
        findings = _converter_findings(conv, strict, line)
        per_combo.append(findings)
        if conv.lossy:
            out.findings = merge_findings(per_combo)
            rules = ", ".join(sorted({f.rule.value for f in conv.lossy}))
            out.reason = f"lossy under the {policy} policy ({rules}){_describe(combo, varying)}"
            return out
        if strict is not None and strict.lossy:
            out.decided = True
        spelled = spelling(combo)
        renders.append(render(conv.value, spelled))
        kept.extend(spelled.kept)
    out.findings = merge_findings(per_combo)
    if len(set(renders)) > 1:
        names = ", ".join(leaf.code for leaf in varying)
        out.reason = f"the converted code depends on a value chosen at import time ({names})"
        out.findings.append(codemod_finding(MigrateRule.ENVIRONMENT_DEPENDENT, line, out.reason, lossy=True))
        return out
    out.render = renders[0]
    kept_ids = {id(leaf) for leaf in kept}
    out.kept = kept
    for leaf in varying:
        out.findings.append(
            codemod_finding(
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


def flyte_convert(spec: ResourceSpec, policy: Policy) -> Conversion[FlyteArguments]:
    """`flyte.Resources` arguments for the Flyte 2 target."""
    return flyte_arguments(spec, policy=policy)


def flytekit_convert(spec: ResourceSpec, policy: Policy) -> Conversion[FlytekitArguments]:
    """flytekit arguments in the single `resources=` form, for the flytekit target."""
    return flytekit_arguments(spec, policy=policy, form="resources")


def merge_specs(task: ResourceSpec, override: ResourceSpec) -> ResourceSpec:
    """The v1 backend's per-key merge of a node override onto the task's resources.

    An override that crosses the task's other side (a request above its limit, a limit below its request) is
    refused with advice a reader of the code can follow: the library's own advice names `merge`'s `conflict=`
    argument, which the command line does not have.
    """
    try:
        return merge(task, override).replace(findings=(*task.findings, *override.findings))
    except ResourceSpecError as exc:
        side, _, resource = exc.field.partition(".")
        other = "limits" if side == "requests" else "requests"
        keyword = {"memory": "mem"}.get(resource, resource)  # flytekit's spelling
        raise ResourceSpecError(
            exc.field,
            exc.value,
            f"{exc.reason.split(');', 1)[0]}); set {other}=Resources({keyword}=...) in with_overrides(...) "
            "too, so the override states both sides and the migration can keep what the pod gets",
        ) from None
