"""Migrate one module: analyse it, plan each site for the target, then edit the tree.

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

The work is split by concern: `flyteres.source.analysis` reads the module,
`decide` converts each site, `render` spells the result, `cst_edits` edits the
tree, and one planner per target (`to_flyte`, `to_flytekit`, on the shared
`planner`) decides where everything goes. This module holds the entry points.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import libcst as cst

from flyteres.core.options import Policy, PolicyName
from flyteres.migrate.cst_index import Analysis
from flyteres.migrate.index import TaskIndex, TaskInfo
from flyteres.migrate.io_types import IoPlan
from flyteres.migrate.options import MigrationTarget, MigrationTargetName
from flyteres.migrate.planner import Planner
from flyteres.migrate.program import demote, find_blockers, has_flytekit, links, mark
from flyteres.migrate.results import (
    Blocker,
    Environment,
    MigrationChanged,
    MigrationFailed,
    MigrationResult,
    MigrationSkipped,
    MigrationUnchanged,
    Site,
)
from flyteres.migrate.tidy import unused_imports
from flyteres.migrate.to_flyte import FlytePlanner
from flyteres.migrate.to_flytekit import FlytekitPlanner
from flyteres.source.model import SourceParseError

__all__ = ["ModuleOutcome", "index_sources", "is_generated", "migrate_module", "migrate_source"]

# Marker LibCST also honours; spelled in two parts so this file is not itself "marked".
GENERATED_MARKER = "@" + "generated"
_GENERATED_LINES = 10


def is_generated(source: str) -> bool:
    """True when the first lines carry LibCST's generated-code marker."""
    head = source.split("\n", _GENERATED_LINES)[:_GENERATED_LINES]
    return any(GENERATED_MARKER in line for line in head)


def migrate_source(
    source: str,
    *,
    path: str = "<string>",
    target: MigrationTarget | MigrationTargetName = MigrationTarget.FLYTE,
    policy: Policy | PolicyName = Policy.KUBERNETES,
    module: str | None = None,
    index: TaskIndex | None = None,
    partial: bool = False,
    todo: bool = False,
    line_length: int | None = None,
) -> MigrationResult:
    """Rewrite the flytekit resource declarations in one module's source.

    For `target="flyte"` the module moves whole or not at all: when any
    flytekit construct would stay (a workflow, a declaration left as written,
    `conditional`, ...), the module is left as written and `blockers` says
    what and where (`todo=True` adds a `# TODO(flyteres): ...` comment at each).
    `partial=True` rewrites every site that can move on its own instead, which
    leaves a half-migrated module: only for reading what each site becomes.
    With `line_length` (the runner passes the project's), environments and
    overrides longer than it are wrapped one argument per line.

    The result is one class per outcome (`MigrationChanged`, `MigrationUnchanged`,
    `MigrationSkipped`, `MigrationFailed`; `status` names it). Never raises for a
    bad input: a file that does not parse comes back failed with its reason; a
    file marked generated is skipped.

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
    return migrate_module(
        source,
        path=path,
        target=target,
        policy=policy,
        module=module,
        index=index,
        partial=partial,
        todo=todo,
        line_length=line_length,
    ).result


def index_sources(
    sources: Mapping[str, str],
    *,
    target: MigrationTarget | MigrationTargetName = MigrationTarget.FLYTE,
    policy: Policy | PolicyName = Policy.KUBERNETES,
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
        outcome = migrate_module(source, path=path, target=target, policy=policy, reparse=False, module=module)
        out[module] = {t.name: t for t in outcome.tasks}
    return out


@dataclass(frozen=True)
class ModuleOutcome:
    """`migrate_module`'s result, with what a run needs to resolve overrides across modules:
    this module's tasks, and the absolute names of other modules' tasks its overrides named."""

    result: MigrationResult
    tasks: tuple[TaskInfo, ...] = ()
    wanted: frozenset[str] = frozenset()
    #: `--target flyte`: what keeps the module on flytekit, and the absolute names it imports.
    blockers: tuple[Blocker, ...] = ()
    links: frozenset[str] = frozenset()
    #: The source as read (the runner marks or keeps it when the module's group stays).
    source: str = ""
    #: Whether the module holds flytekit constructs (it joins the group of modules importing it).
    flytekit: bool = False


def migrate_module(
    source: str,
    *,
    path: str,
    target: MigrationTarget | MigrationTargetName,
    policy: Policy | PolicyName,
    reparse: bool = True,
    module: str | None = None,
    index: TaskIndex | None = None,
    partial: bool = False,
    todo: bool = False,
    line_length: int | None = None,
    imported_elsewhere: frozenset[str] = frozenset(),
    naming: str | None = None,
) -> ModuleOutcome:
    """`migrate_source`, with the libcst re-parse of the output optional.

    `--check` writes nothing, so it only compiles the output (a third of the
    time goes to parsing it again); `--diff`, `--write` and the API re-parse.
    For `--target flyte`, a module with blockers stays as written (with `todo`,
    marked) unless `partial` asks for every site that can move on its own.
    For `--target flytekit`, `imported_elsewhere` names the module's constants
    other modules of the run import: their definitions are never rewritten. `naming` is the
    dotted name environments are named after, when not `module` (see `ModuleTable.root_label`).
    """
    target = MigrationTarget.parse(target)
    policy = Policy.parse(policy)
    if is_generated(source):
        return ModuleOutcome(MigrationSkipped(path, source, reason=f"marked {GENERATED_MARKER}"))
    try:
        analysis = Analysis(source, path)
    except SourceParseError as exc:
        return ModuleOutcome(MigrationFailed(path, source, reason=str(exc)))
    except RecursionError:
        return ModuleOutcome(MigrationFailed(path, source, reason=f"{path}: too deeply nested to analyse"))
    planner: Planner
    match target:
        case MigrationTarget.FLYTEKIT:
            # Wire-identical whatever the policy: what a policy would decide changes the bytes.
            planner = FlytekitPlanner(analysis, Policy.STRICT, index=index, module=module)
            planner.imported_elsewhere = imported_elsewhere
        case MigrationTarget.FLYTE:
            planner = FlytePlanner(analysis, policy, index=index, module=module, line_length=line_length, naming=naming)
    planner.partial = partial
    try:
        planner.plan()
        code = planner.apply()
        if target is MigrationTarget.FLYTE and code != source and reparse:
            # --check (reparse=False) writes and shows nothing: tidying would not change its answer.
            unused = unused_imports(analysis.module, analysis.name_uses, code)
            if unused:
                planner.drop_imports(unused)
                code = planner.apply()
    except RecursionError:
        return ModuleOutcome(MigrationFailed(path, source, reason=f"{path}: too deeply nested to rewrite"))
    except Exception as exc:  # a bug here must cost one file, not the run; the reason says what broke
        return ModuleOutcome(
            MigrationFailed(path, source, reason=f"{path}: internal error: {type(exc).__name__}: {exc}")
        )
    sites = tuple(sorted(planner.planned.sites, key=lambda s: (s.line, s.kind, s.name)))
    envs = tuple(planner.planned.environments)
    tasks, wanted = planner.exported_tasks(), frozenset(planner.wanted)
    outcome = _finish(code, source, path, sites, envs, tasks=tasks, wanted=wanted, reparse=reparse)
    model = analysis.model
    if target is not MigrationTarget.FLYTE:
        return replace(outcome, links=links(model, module), source=source)
    flytekit = has_flytekit(model)
    blockers: tuple[Blocker, ...] = ()
    if flytekit:
        io = planner.io if isinstance(planner, FlytePlanner) else IoPlan()
        blockers = tuple(
            find_blockers(
                model,
                sites,
                converted_defs=frozenset(planner.converted_defs),
                rewritten=frozenset(planner.rewritten_ids),
                untouched=frozenset(planner.untouched_ids),
                reasons=planner.def_reasons,
                mapped=[*planner.mapped, *io.consumed],
                construct_reasons={**io.reasons, **planner.map_reasons},
                uses=[(u.line, u.construct, u.reason) for u in io.uses],
            )
        )
    outcome = replace(outcome, blockers=blockers, links=links(model, module), source=source, flytekit=flytekit)
    if blockers and not partial:
        result = stay(path, source, sites, blockers, _blocked_reason(blockers), todo=todo)
        return replace(outcome, result=result, tasks=tuple(replace(t, converted=False) for t in tasks))
    return outcome


def _blocked_reason(blockers: tuple[Blocker, ...]) -> str:
    first = blockers[0]
    more = f" and {len(blockers) - 1} more" if len(blockers) > 1 else ""
    return (
        f"the module stays on flytekit (line {first.line}: {first.construct}{more} cannot move, "
        "and Flyte 2 cannot run half a program)"
    )


def stay(
    path: str, source: str, sites: tuple[Site, ...], blockers: tuple[Blocker, ...], reason: str, *, todo: bool
) -> MigrationResult:
    """A module left on flytekit with its group: every site untouched, the blockers reported,
    and with `todo` a `# TODO(flyteres)` comment above each blocker of this module."""
    demoted = demote(sites, reason)
    code = mark(source, blockers) if todo else source
    if code != source:
        return MigrationChanged(path, code, demoted, (), blockers)
    return MigrationUnchanged(path, source, demoted, blockers)


def _finish(
    code: str,
    source: str,
    path: str,
    sites: tuple[Site, ...],
    envs: tuple[Environment, ...],
    *,
    tasks: tuple[TaskInfo, ...],
    wanted: frozenset[str],
    reparse: bool,
) -> ModuleOutcome:
    if code == source:
        # Every environment comes with a rewritten decorator, so there is none here.
        return ModuleOutcome(MigrationUnchanged(path, source, sites), tasks, wanted)
    problem = _check_output(code, path, reparse=reparse)
    if problem is not None:
        reason = f"the rewritten code does not parse: {problem}"
        # Nothing is written, so no task of this module moves to Flyte 2.
        tasks = tuple(replace(t, converted=False) for t in tasks)
        return ModuleOutcome(MigrationFailed(path, source, reason, sites, envs), tasks, wanted)
    return ModuleOutcome(MigrationChanged(path, code, sites, envs), tasks, wanted)


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
