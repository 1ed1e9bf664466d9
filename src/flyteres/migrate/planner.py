"""What both targets' planners share: the plan, the site records, replacing a call, applying the edits.

A planner walks one module's declarations (`flyteres.source.analysis`),
decides each site (`flyteres.migrate.decide`) and records the edits in a
`Plan`; `apply` turns the plan into the new source, generating again only the
top-level statements that changed.
"""

from __future__ import annotations

import ast
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import TypeVar

import libcst as cst

from flyteres.core.options import Policy
from flyteres.core.spec import ResourceSpec
from flyteres.migrate.cst_edits import Builder, comment_lines, import_position, leading, lost_comments, rebuild
from flyteres.migrate.cst_index import Analysis
from flyteres.migrate.decide import Decision
from flyteres.migrate.index import TaskIndex, TaskInfo, resolve_import
from flyteres.migrate.render import FileSpelling, Slots
from flyteres.migrate.results import Environment, MigrationFinding, Site, codemod_finding, merge_findings
from flyteres.migrate.rules import MigrateRule
from flyteres.migrate.tidy import drop_names, flyte_import_position, imports_left
from flyteres.source.model import DeclarationKind, Found, evaluate_spec
from flyteres.source.names import canonical
from flyteres.source.values import Combo

__all__ = ["OVERRIDE_KINDS", "TASK_KINDS", "Forbidden", "Plan", "Planner"]

TASK_KINDS = (DeclarationKind.TASK, DeclarationKind.DYNAMIC, DeclarationKind.EAGER)
OVERRIDE_KINDS = (DeclarationKind.WITH_OVERRIDES, DeclarationKind.MAP_TASK_OVERRIDES)


_S = TypeVar("_S")


class Forbidden(AbstractSet[str]):
    """The names a rewrite at one site must not refer to: `local` ones, and module-level
    ones last bound at or after top-level statement `top` (None: none of those).

    Only asked whether a name is in it (`leaf.names & forbidden`), so nothing is
    built per site: listing every late name for every site made a module's
    migration quadratic in its tasks (each task's function is a binding).
    """

    def __init__(self, local: frozenset[str], last: Mapping[str, int], top: int | None) -> None:
        self._local, self._last, self._top = local, last, top

    def __contains__(self, name: object) -> bool:
        if name in self._local:
            return True
        return self._top is not None and isinstance(name, str) and self._last.get(name, -1) >= self._top

    def __iter__(self) -> Iterator[str]:
        yield from self._local
        yield from (n for n in self._last if n not in self._local and n in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    @classmethod
    def _from_iterable(cls, it: Iterable[_S]) -> frozenset[_S]:
        # `names & forbidden` builds a plain frozenset of the names in both.
        return frozenset(it)


@dataclass
class Plan:
    """The edits planned for one module, and the sites and environments to report."""

    sites: list[Site] = dataclass_field(default_factory=list)
    # How to rebuild each node that changes, by id() of the original node.
    targets: dict[int, Builder] = dataclass_field(default_factory=dict)
    # id() of every node on the way down to a target: only these are copied.
    ancestors: set[int] = dataclass_field(default_factory=set)
    # Statements to add before a top-level statement: their source and leading lines.
    inserts: dict[int, list[tuple[str, list[cst.EmptyLine]]]] = dataclass_field(default_factory=dict)
    environments: list[Environment] = dataclass_field(default_factory=list)
    need_import: bool = False  # `import flyte` goes after the module's own imports
    # How many of the statements inserted before a top-level statement go before `import flyte`
    # there (an `import tempfile` closing the standard library's block), by index.
    early: dict[int, int] = dataclass_field(default_factory=dict)
    # Statements a block inserted above now follows after one blank line, by index: `import flyte`
    # opening the block there takes that blank line instead of the statement's own lines.
    separated: set[int] = dataclass_field(default_factory=set)
    # Submodules imported right after the `import flyte` the rewrite adds (`import flyte.io`).
    submodules: list[str] = dataclass_field(default_factory=list)
    # Top-level statements the rewrite removes (imports it made unused), by index.
    removed: set[int] = dataclass_field(default_factory=set)


class Planner(ABC):
    """Plans one module's rewrite for one target; `plan` fills `planned`, `apply` writes it.

    `index` holds the tasks of other modules of the run and `module` is this
    module's dotted name (see `flyteres.migrate.index`).
    """

    def __init__(
        self,
        analysis: Analysis,
        policy: Policy,
        *,
        index: TaskIndex | None = None,
        module: str | None = None,
        line_length: int | None = None,
        naming: str | None = None,
    ) -> None:
        self.a = analysis
        # The dotted name environments are named after (`module` unless a run gives another:
        # two files of one dotted name, in two projects, get names that differ).
        self.naming = naming or module
        # None: nothing is wrapped (the library's default; runs pass the project's).
        self.line_length = line_length
        self.policy = policy
        self.index = index
        self.module = module
        # Tasks of this module moved to a Flyte 2 environment, by name.
        self.converted: dict[str, Found] = {}
        # Absolute names of tasks of other modules that overrides here needed.
        self.wanted: set[str] = set()
        # `migrate_source(partial=True)`: each site moves on its own, so a task may move while a call of it stays.
        self.partial = False
        self.planned = Plan()
        self._last: dict[str, int] | None = None
        # id() of the declarations rewritten and left as written, and of the function
        # definitions whose decorator was replaced (what `flyteres.migrate.program` reads).
        self.rewritten_ids: set[int] = set()
        self.untouched_ids: set[int] = set()
        self.converted_defs: set[int] = set()
        # What `apply` generated, per top-level statement, so `drop_imports` regenerates only
        # the statements it touches (`_splice_again`).
        self._chunks: list[str] | None = None
        self._inserted: dict[int, list[str]] = {}
        self._dirty: set[int] = set()
        # Import statements whose blank lines above an added import took over (they stay there).
        self.lines_taken: set[int] = set()
        # Why a definition without resources could not move, by id() of its function.
        self.def_reasons: dict[int, str] = {}
        # `map_task(...)` calls: those rewritten to `flyte.map` (their outer calls) and why the
        # others cannot be, by id() of the `map_task` name (`flyteres.migrate.map_calls`).
        self.mapped: list[ast.Call] = []
        self.map_reasons: dict[int, str] = {}
        # Module-level tasks without resources that moved to Flyte 2 (overrides merge with nothing).
        self.plain_converted: set[str] = set()
        # Module-level workflows and @dynamics that became driver tasks.
        self.drivers_converted: set[str] = set()
        # The environment variable of each task that moved, by task name.
        self.environment_of: dict[str, str] = {}
        self.quote = analysis.quote or '"'
        # Module-level tasks by function name (a name defined twice is ambiguous).
        counts: dict[str, int] = {}
        for f in analysis.found:
            if f.kind in TASK_KINDS and not f.site.scopes:
                counts[f.name] = counts.get(f.name, 0) + 1
        self.tasks = {
            f.name: f for f in analysis.found if f.kind in TASK_KINDS and not f.site.scopes and counts[f.name] == 1
        }

    @abstractmethod
    def plan(self) -> None:
        """Decide every declaration of the module, recording the edits in `planned`."""

    # -- helpers --------------------------------------------------------------------------------

    def external(self, found: Found) -> tuple[str, TaskInfo | None] | None:
        """The absolute name of the task of another module an override's call names, and
        what the index knows about it (None: nothing); None when it names no such task."""
        callee = found.callee
        if callee is None:
            return None
        head = callee
        while isinstance(head, ast.Attribute):
            head = head.value
        if not isinstance(head, ast.Name) or head.id in self.a.local_names(found.site.scopes):
            return None
        if len(self.a.names.bindings.get(head.id, ())) != 1:
            return None  # imported, then bound again (or not imported at all): not known to be the import
        if isinstance(callee, ast.Name) and callee.id in self.tasks:
            return None
        qualified = self.a.names.qualified(callee)
        if qualified is None or canonical(qualified) is not None:
            return None
        return self.imported_task(qualified)

    def imported_task(self, qualified: str) -> tuple[str, TaskInfo | None] | None:
        """The absolute name of what `qualified` (a name as this module imports it) names in another
        module, and what the index knows of it (None: nothing); None when it is not another module's.
        The absolute name goes to `wanted` either way, so a run migrates this module again with the
        other modules' records."""
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
            env = self.environment_of.get(name) if converted else None
            out.append(TaskInfo(self.module, name, self.a.path, spec, converted, reason, env))
        for name in sorted(self.plain_converted | self.drivers_converted):
            env = self.environment_of.get(name)
            out.append(TaskInfo(self.module, name, self.a.path, ResourceSpec(), True, None, env))
        return tuple(out)

    def forbidden(self, found: Found, *, module_level: bool) -> Forbidden:
        """Constants a rewrite must not refer to there: shadowed by a local, or
        (for code placed at module level) bound only after that point."""
        local = self.a.local_names(found.site.scopes)
        if module_level or not found.site.scopes:
            return Forbidden(local, self._last_bound(), found.site.top)
        return Forbidden(local, {}, None)

    def _last_bound(self) -> Mapping[str, int]:
        """The last top-level statement binding each module-level name (computed once per module)."""
        if self._last is None:
            self._last = {name: max(b.top for b in bindings) for name, bindings in self.a.names.bindings.items()}
        return self._last

    def spelling(self, forbidden: AbstractSet[str], slots: Slots) -> Callable[[Combo], FileSpelling]:
        """How to spell a site's values for each combination of import-time values."""
        return lambda combo: FileSpelling(self.quote, forbidden, slots, combo)

    def untouched(
        self, found: Found, reason: str, findings: Sequence[MigrationFinding] = (), *, decided: bool = False
    ) -> None:
        """Record a site left as written, with the reason."""
        self.untouched_ids.add(id(found))
        self.planned.sites.append(
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
        """Record a site left as written because of a codemod rule (a lossy finding)."""
        self.untouched(found, reason, [*findings, codemod_finding(rule, found.line, reason, lossy=True)])

    def replace(self, call: ast.Call, builder: Builder, *, keep_comments: bool = True) -> cst.CSTNode:
        """Register the rewrite of a call the model found; returns the new libcst node (as built
        from the original).

        Comments the rewrite would drop are moved above the enclosing statement
        (or decorator) when they cannot stay next to the new argument."""
        node = self.a.cst_call(call)
        ancestors = self.a.ancestors(node)
        self._add(id(node), builder)
        self.planned.ancestors.update(id(n) for n in ancestors)
        new = builder(node)
        lost = lost_comments(node, new) if keep_comments and self.a.multiline(call) else []
        if lost:
            holder = next(
                (
                    n
                    for n in reversed(ancestors)
                    if isinstance(n, (cst.Decorator, cst.SimpleStatementLine, cst.BaseCompoundStatement))
                ),
                None,
            )
            if holder is not None:
                lines = comment_lines(lost)
                self._add(id(holder), lambda n: n.with_changes(leading_lines=[*leading(n), *lines]))
        return new

    def _add(self, key: int, builder: Builder) -> None:
        previous = self.planned.targets.get(key)
        if previous is None:
            self.planned.targets[key] = builder
        else:
            self.planned.targets[key] = lambda n: builder(previous(n))

    def parse(self, text: str) -> cst.BaseExpression:
        """An expression parsed with the module's own parser configuration."""
        return cst.parse_expression(text, config=self.a.module.config_for_parsing)

    def storage_findings(self, found: Found, keys: Sequence[str]) -> list[MigrationFinding]:
        """A finding per `storage=` the rewrite removes."""
        out = []
        for key, rv in found.resource_values():
            if key in keys and "storage" in rv.fields:
                out.append(
                    codemod_finding(
                        MigrateRule.STORAGE_REMOVED,
                        found.line,
                        "storage= was removed from the source: flytekit 1.10.3 and later reject it, "
                        "and the backend ignored it",
                        field=f"{key}.storage",
                        value=rv.fields["storage"].whole.code,
                    )
                )
        return out

    def inline_findings(self, found: Found, decision: Decision, keys: Sequence[str]) -> list[MigrationFinding]:
        """A finding per module constant whose value was written out instead of its name."""
        out = []
        for key, rv in found.resource_values():
            if key in keys and rv.through is not None:
                out.append(
                    codemod_finding(
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
                codemod_finding(
                    MigrateRule.CONSTANT_INLINED,
                    found.line,
                    f"the target needs a different value or type than {names}; it was written out",
                    value=leaf.code,
                )
            )
        return merge_findings([out])

    def rewritten(
        self,
        found: Found,
        new: cst.CSTNode,
        decision: Decision,
        extra: Sequence[MigrationFinding] = (),
        environment: str | None = None,
    ) -> None:
        """Record a rewritten site with its new source."""
        self.rewritten_ids.add(id(found))
        self.planned.sites.append(
            Site(
                kind=found.kind.value,
                name=found.name,
                line=found.line,
                action="rewritten",
                old=self.a.call_text(found.call),
                new=self.a.module.code_for_node(new),
                reason=None,
                decided_by_policy=decision.decided,
                findings=tuple(merge_findings([decision.findings, extra])),
                environment=environment,
            )
        )

    def not_static(self, found: Found, keys: Sequence[str]) -> str | None:
        """Why the arguments `keys` of a declaration are not static, or None."""
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

    # -- applying ---------------------------------------------------------------------------------

    def drop_imports(self, unused: Mapping[int, frozenset[str]]) -> None:
        """Remove the imported names the rewrite made unused (see `tidy.unused_imports`);
        a statement left with none goes, and the lines above it (comments and the blank lines
        between them, as written) go above the next statement that stays, unless `import flyte`
        takes them (it then opens the import block in that statement's place)."""
        body = self.a.module.body
        taken = None
        if self.planned.need_import:
            at, starts = flyte_import_position(body, import_position(body))
            taken = at if starts else None
        gone = {i for i, names in unused.items() if not imports_left(body[i], names)}
        moved: dict[int, list[cst.EmptyLine]] = {}
        for index, names in sorted(unused.items()):
            stmt = body[index]
            self._dirty.add(index)
            if index not in gone:
                self._add(id(stmt), _dropping(names))
                continue
            self.planned.removed.add(index)
            following = next((i for i in range(index + 1, len(body)) if i not in gone), None)
            if index != taken and index not in self.lines_taken and following is not None and leading(stmt):
                moved.setdefault(following, []).extend(leading(stmt))
        for index, lines in moved.items():
            self._dirty.add(index)
            self._add(id(body[index]), _prefixed(lines))

    def apply(self, *, splice: bool = True) -> str:
        """The new source. Only the top-level statements that changed are generated
        again (`splice`); every other line is copied from the original text."""
        module = self.a.module
        if not self.planned.targets and not self.planned.inserts:
            return self.a.source
        if self._chunks is not None and splice:
            return self._splice_again()
        # One parse for every new statement (a parse per statement costs more than the rest).
        texts = [text for items in self.planned.inserts.values() for text, _ in items]
        if self.planned.need_import:
            texts.append("import flyte\n")
            texts.extend(f"import {name}\n" for name in self.planned.submodules)
        parsed = iter(cst.parse_module("".join(texts)).body)
        inserts: dict[int, list[cst.BaseStatement]] = {
            top: [next(parsed).with_changes(leading_lines=lead) for _, lead in items]
            for top, items in self.planned.inserts.items()
        }
        if self.planned.need_import:
            at, starts = flyte_import_position(module.body, import_position(module.body))
            statement = next(parsed)
            if starts:
                # It opens the import block: the blank lines above the block go above it.
                lines = [cst.EmptyLine()] if at in self.planned.separated else leading(module.body[at])
                statement = statement.with_changes(leading_lines=lines)
                self._add(id(module.body[at]), lambda n: n.with_changes(leading_lines=[]))
            place = self.planned.early.get(at, 0)
            inserts.setdefault(at, [])[place:place] = [statement, *(next(parsed) for _ in self.planned.submodules)]
        rebuilt = [rebuild(stmt, self.planned.targets, self.planned.ancestors) for stmt in module.body]
        lone_cr = "\r" in self.a.source.replace("\r\n", "")
        if splice and self.a.top_lines is not None and module.has_trailing_newline and not lone_cr:
            return self._splice(rebuilt, inserts)
        body: list[cst.BaseStatement] = []
        for index, stmt in enumerate(rebuilt):
            body.extend(inserts.get(index, ()))
            assert isinstance(stmt, cst.BaseStatement)
            if index not in self.planned.removed:
                body.append(stmt)
        body.extend(inserts.get(len(rebuilt), ()))
        return module.with_changes(body=body).code

    def _splice(self, rebuilt: Sequence[cst.CSTNode], inserts: Mapping[int, Sequence[cst.BaseStatement]]) -> str:
        module, lines, starts = self.a.module, self.a.lines, self.a.top_lines
        assert starts is not None
        count = len(rebuilt)
        end = len(lines) - len(module.footer)
        self._inserted = {i: [module.code_for_node(s) for s in items] for i, items in inserts.items()}
        self._chunks = []
        for index, (old, new) in enumerate(zip(module.body, rebuilt, strict=True)):
            if new is old:
                stop = starts[index + 1] - 1 if index + 1 < count else end
                self._chunks.append("".join(lines[starts[index] - 1 : stop]))
            else:
                self._chunks.append(module.code_for_node(new))
        return self._joined()

    def _splice_again(self) -> str:
        """`_splice` after `drop_imports`: only the statements it touched are generated again."""
        module = self.a.module
        assert self._chunks is not None
        for index in sorted(i for i in self._dirty if i < len(module.body)):
            old = module.body[index]
            new = rebuild(old, self.planned.targets, self.planned.ancestors)
            if new is not old:
                self._chunks[index] = module.code_for_node(new)
        return self._joined()

    def _joined(self) -> str:
        module, lines, starts = self.a.module, self.a.lines, self.a.top_lines
        assert starts is not None
        assert self._chunks is not None
        end = len(lines) - len(module.footer)
        out = ["".join(lines[: starts[0] - 1])]
        for index, chunk in enumerate(self._chunks):
            out.extend(self._inserted.get(index, ()))
            if index not in self.planned.removed:
                out.append(chunk)
        out.extend(self._inserted.get(len(self._chunks), ()))
        out.append("".join(lines[end:]))
        return "".join(out)


def _dropping(names: frozenset[str]) -> Builder:
    return lambda node: drop_names(node, names)


def _prefixed(lines: Sequence[cst.EmptyLine]) -> Builder:
    return lambda node: node.with_changes(leading_lines=[*lines, *leading(node)])
