"""The Flyte 2 target: tasks move to `flyte.TaskEnvironment`s, overrides become `.override(resources=...)`.

One class, the Flyte 2 planner: tasks, drivers and environments share its per-module
state. Overrides are planned by its base, `flyteres.migrate.overrides.OverridePlanning`; the
stateless parts live in `flyte_layout`, `task_args`, `map_calls`, `images`,
`driver_bodies`, `named_outputs`, `coercions`, `ordering` and `io_types`.
"""

from __future__ import annotations

import ast
import functools
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import libcst as cst

from flyteres.convert.flytekit import from_flytekit
from flyteres.migrate.coercions import as_float, int_for_float
from flyteres.migrate.cst_edits import (
    Builder,
    comment_lines,
    import_position,
    leading,
    lost_comments,
)
from flyteres.migrate.decide import Decision, decide, flyte_convert
from flyteres.migrate.driver_bodies import awaiting, eager_calls, flyte_map, image_assignments
from flyteres.migrate.flyte_layout import (
    aliased_import,
    environment_stem,
    flytekit_decorator,
    import_statement,
    importing,
    is_import,
    isort_key,
    module_stem,
    snake,
    top_function,
    top_index,
    unique,
)
from flyteres.migrate.images import image_source, render_image
from flyteres.migrate.io_types import IoPlan, import_inserts, plan_io, rewrite_function
from flyteres.migrate.map_calls import MapRewrite, map_calls
from flyteres.migrate.named_outputs import named_reads, namedtuple_fields, read_by_position
from flyteres.migrate.ordering import Ordering, drop_ordering, plan_ordering
from flyteres.migrate.overrides import OverridePlanning
from flyteres.migrate.planner import OVERRIDE_KINDS
from flyteres.migrate.render import Slots, render_flyte
from flyteres.migrate.results import Environment
from flyteres.migrate.rules import MigrateRule
from flyteres.migrate.task_args import Carried, carry, eager_dropped, rewrite_arguments
from flyteres.migrate.tidy import flyte_import_position, spread, wrap_call
from flyteres.source.model import DeclarationKind, Found, TaskDef, flytekit_kwargs
from flyteres.source.names import RESOURCE_ARGUMENTS
from flyteres.source.text import span_of

__all__ = ["FlytePlanner"]


class FlytePlanner(OverridePlanning):
    """Plans the Flyte 2 target for one module (see `flyteres.migrate`)."""

    def plan(self) -> None:
        """Tasks first (grouped into environments by their resources), then the overrides on them."""
        # The `map_task(f)(...)` calls of each driver-to-be that become `flyte.map`, by id() of its
        # function, each with the name flyte is imported as.
        self._maps: dict[int, list[tuple[MapRewrite, str]]] = {}
        # The named-output reads of each driver-to-be that change, by id() of its function: the
        # libcst attribute, the nodes down to it, and the position read (None: the only field).
        self._reads: dict[int, list[tuple[cst.Attribute, tuple[cst.CSTNode, ...], int | None]]] = {}
        self._named_types: tuple[dict[str, tuple[str, ...] | None], frozenset[str]] | None = None
        # The ints each driver gives to float parameters (libcst nodes, with their ancestors).
        self._floats: dict[int, list[tuple[cst.BaseExpression, tuple[cst.CSTNode, ...]]]] = {}
        # The task names whose calls become `(await t.aio(...))` in each `@eager` driver, by id() of its function.
        self._eager_calls: dict[int, frozenset[str]] = {}
        # How the `>>` of each workflow or `@dynamic` driver go, by id() of its function.
        self._orderings: dict[int, Ordering] = {}
        # The environments of other modules the drivers reach through a module name
        # (`etl.extract(...)`): the module expression as written, by (module, variable).
        self._through_module: dict[tuple[str, str], str] = {}
        self.io = IoPlan()
        # The imports added before each statement, in order.
        self._io_inserted: dict[int, list[str]] = {}
        module = self._flyte_module()
        if module is None:
            for found in self.a.found:
                self.blocked(
                    found,
                    MigrateRule.NAME_CONFLICT,
                    "the name 'flyte' is already used in this module for something else than the flyte package",
                )
            return
        self._images = self._plan_images(module)
        groups: dict[tuple[str | None, tuple[str, ...]], list[_Member]] = {}
        overrides: list[Found] = []
        # The @dynamics and @eagers with resources, decided like tasks; they become drivers.
        self._driver_members: dict[int, _Member] = {}
        for found in self.a.found:
            if found.kind in OVERRIDE_KINDS:
                overrides.append(found)
                continue
            decided = self._flyte_task(found, module)
            if decided is not None:
                decision, carried = decided
                assert decision.render is not None
                if found.kind in (DeclarationKind.DYNAMIC, DeclarationKind.EAGER):
                    self._driver_members[id(found)] = (found, decision, carried)
                else:
                    groups.setdefault((decision.render, carried.environment), []).append((found, decision, carried))
        plain, drivers = self._whole_program_defs(module)
        converted = self._environments(groups, module, plain, drivers)
        self._unmoved_drivers()
        self._plan_io(module)
        self.converted = {f.name: f for f in converted.values() if self.tasks.get(f.name) is f}
        for found in overrides:
            self._flyte_override(found, module, converted)
        if self.planned.targets:
            self.planned.need_import = module not in self.a.names.imports

    def _plan_io(self, module: str) -> None:
        """FlyteFile, FlyteDirectory and the working directory in the functions that moved
        (`flyteres.migrate.io_types`): their edits, the imports they need, and why the rest stays."""
        moving = [
            t
            for t in self.a.model.tasks
            if t.sdk == "flytekit"
            and t.module_level
            and (id(t.function) in self.converted_defs or (t.found is not None and id(t.found) in self.rewritten_ids))
        ]
        body = self.a.module.body
        places = import_inserts(body, stdlib=_STDLIB, sdk=("flytekit", "union", "unionai"))
        taken = set(self.a.names.bindings) | set(self.a.name_uses)
        taken |= {a.arg for n in ast.walk(self.a.model.tree) if isinstance(n, ast.arguments) for a in _args(n)}
        unavailable: dict[str, str] = {}
        # `File` and `Dir` as imported from flyte.io, or through `import flyte.io` when the name is taken.
        spelled = {"File": "File", "Dir": "Dir"}
        through = module == "flyte" and (self.a.names.imports.get("flyte") == "flyte" or "flyte" not in taken)
        if "tempfile" in taken and self.a.names.imports.get("tempfile") != "tempfile":
            unavailable["tempfile"] = "the name tempfile is already used in this module for something else"
        for name in ("File", "Dir"):
            if name in taken and self.a.names.imports.get(name) != f"flyte.io.{name}":
                if through and (self._flyte_statement() is not None or "flyte" not in self.a.names.imports):
                    spelled[name] = f"flyte.io.{name}"
                else:
                    unavailable[name] = f"the name {name} is already used in this module for something else"
            elif places["flyte.io"] is None and self.a.names.imports.get(name) is None:
                unavailable[name] = "the module has no flytekit import block for from flyte.io to join"
        if places["tempfile"] is None and places["sdk"] is None:
            unavailable.setdefault("tempfile", "the module has no import block for import tempfile to go above")
        io = plan_io(
            self.a.model.tree,
            self.a.names,
            [(t.function, t.kind) for t in moving],
            segment=self.a.text.segment,
            tasks=frozenset(t.name for t in self.a.model.tasks if t.module_level),
            unavailable=unavailable,
            spelled=spelled,
            lines=self.a.lines,
            staying=[t.function for t in self.a.model.tasks if t.sdk == "flytekit" and t not in moving],
        )
        self.io = io
        for t in moving:
            edits = io.edits.get(id(t.function))
            node = top_function(self.a, t)
            if not edits or node is None:
                continue
            self._add(id(node), functools.partial(_io_rewrite, edits=edits, module=self.a.module))
        self._io_imports(io, places, spelled)

    def _io_imports(
        self, io: IoPlan, places: Mapping[str, tuple[int, bool] | None], spelled: Mapping[str, str]
    ) -> None:
        """The imports the edits of `_plan_io` need, where isort puts them."""
        body = self.a.module.body
        wanted = sorted(
            n for n in ("Dir", "File") if n in io.needs and self.a.names.imports.get(n) is None and spelled[n] == n
        )
        if any(n in io.needs and spelled[n] != n for n in spelled) and "flyte.io" not in self.a.names.imports.values():
            statement = self._flyte_statement()
            if statement is None:
                self.planned.submodules.append("flyte.io")  # after the `import flyte` the rewrite adds
            else:
                self.planned.inserts.setdefault(statement + 1, []).insert(0, ("import flyte.io\n", []))
                self._io_inserted.setdefault(statement + 1, []).insert(0, "import flyte.io\n")
                self.planned.early[statement + 1] = self.planned.early.get(statement + 1, 0) + 1
        additions: list[tuple[tuple[int, bool] | None, str]] = []
        if "tempfile" in io.needs and self.a.names.imports.get("tempfile") is None:
            if places["tempfile"] is None:
                self._new_block("import tempfile\n", places["sdk"])
            else:
                additions.append((places["tempfile"], "import tempfile\n"))
        if wanted:
            additions.append((places["flyte.io"], f"from flyte.io import {', '.join(wanted)}\n"))
        for place, text in additions:
            assert place is not None
            at, starts = place
            lines: list[cst.EmptyLine] = []
            if starts and at not in self.lines_taken and not self._flyte_starts_at(at):
                lines = list(leading(body[at]))
                self.lines_taken.add(at)
                self._add(id(body[at]), lambda n: n.with_changes(leading_lines=[]))
            elif not starts and text.startswith("import tempfile"):
                # It closes the standard library's block: before whatever opens the next one here.
                self.planned.early[at] = self.planned.early.get(at, 0) + 1
            self.planned.inserts.setdefault(at, []).insert(len(self._io_inserted.get(at, ())), (text, lines))
            self._io_inserted.setdefault(at, []).append(text)

    def _new_block(self, text: str, place: tuple[int, bool] | None) -> None:
        """`text` as a block of its own above the block starting at `place` (the standard
        library's block goes above the third-party one): it takes that block's blank lines, and
        one blank line separates the two."""
        assert place is not None
        at = place[0]
        body = self.a.module.body
        self.planned.inserts.setdefault(at, []).insert(0, (text, list(leading(body[at]))))
        self._io_inserted.setdefault(at, []).insert(0, text)
        self.planned.early[at] = self.planned.early.get(at, 0) + 1
        self.lines_taken.add(at)
        self.planned.separated.add(at)
        self._add(id(body[at]), lambda n: n.with_changes(leading_lines=[cst.EmptyLine()]))

    def _flyte_statement(self) -> int | None:
        """The index of the module's top-level `import flyte` statement, if it has one."""
        for index, stmt in enumerate(self.a.module.body):
            if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
                node = stmt.body[0]
                single = isinstance(node, cst.Import) and len(node.names) == 1 and node.names[0].asname is None
                if single and isinstance(node, cst.Import) and self.a.code(node.names[0].name) == "flyte":
                    return index
        return None

    def _flyte_starts_at(self, at: int) -> bool:
        """Whether `import flyte` will open the import block at statement `at` (it takes its blank lines)."""
        if "flyte" in self.a.names.imports:
            return False
        position, starts = flyte_import_position(self.a.module.body, import_position(self.a.module.body))
        return starts and position == at

    def _flyte_module(self) -> str | None:
        for local, qualified in sorted(self.a.names.imports.items()):
            if qualified == "flyte":
                return local
        if self.a.name_uses["flyte"] or "flyte" in self.a.names.bindings:
            return None
        return "flyte"

    def _flyte_task(self, found: Found, module: str) -> tuple[Decision, Carried] | None:
        """A task's (or a @dynamic's or @eager's) resources and other arguments, decided; None
        when it stays (recorded with its reason)."""
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
        why = self.not_static(found, RESOURCE_ARGUMENTS)
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
        decision = decide(
            found.leaves(),
            lambda combo: from_flytekit(**flytekit_kwargs(found, combo)),
            flyte_convert,
            lambda args, spelling: render_flyte(args, module, spelling),
            policy=self.policy,
            line=found.line,
            spelling=self.spelling(self.forbidden(found, module_level=True), slots),
        )
        if not decision.ok:
            self.untouched(found, decision.reason or "", decision.findings)
            return None
        carried = self._carry(found.call, module)
        if found.kind is DeclarationKind.EAGER:
            carried = eager_dropped(found.call) or carried
        if isinstance(carried, str):
            self.blocked(found, MigrateRule.UNSUPPORTED_ARGUMENT, carried, decision.findings)
            return None
        decision.findings += self.storage_findings(found, RESOURCE_ARGUMENTS)
        decision.findings += self.inline_findings(found, decision, RESOURCE_ARGUMENTS)
        return decision, carried

    def _carry(self, call: ast.expr | None, module: str) -> Carried | str:
        pathlib = next((local for local, q in sorted(self.a.names.imports.items()) if q == "pathlib"), None)
        return carry(
            call,
            flyte=module,
            quote=self.quote,
            code=lambda n: self.a.text.segment(span_of(n)),
            qualify=self.a.names.qualified,
            pathlib=pathlib,
            images=self._images,
        )

    def _plan_images(self, module: str) -> frozenset[str]:
        """The module-level `X = ImageSpec(...)` that become `flyte.Image`s (`flyteres.migrate.images`):
        the names of those rewritten; why the others cannot be is said where they are."""
        out: set[str] = set()
        for call, target, why in image_assignments(self.a.model, self.a.names):
            reason = why
            if reason is None:
                assert target is not None
                try:
                    new = image_source(
                        call, flyte=module, quote=self.quote, code=lambda n: self.a.text.segment(span_of(n))
                    )
                except ValueError as e:
                    reason = str(e)
                else:
                    text = render_image(target, new, unit=self.a.module.default_indent, width=self.line_length)
                    if self._rewrite_assignment(target, text):
                        self.mapped.append(call)
                        out.add(target)
                        continue
                    reason = "the ImageSpec statement could not be found to rewrite"
            self.map_reasons[id(call.func)] = reason
        return frozenset(out)

    def _rewrite_assignment(self, name: str, statement: str) -> bool:
        """Replace the module-level `name = ...` statement by `statement` (its comments above stay);
        False when it is not one simple statement."""
        for stmt in self.a.module.body:
            if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
                continue
            assign = stmt.body[0]
            if not isinstance(assign, cst.Assign) or len(assign.targets) != 1:
                continue
            target = assign.targets[0].target
            if isinstance(target, cst.Name) and target.value == name:
                replacement = cst.parse_statement(statement, config=self.a.module.config_for_parsing)

                def build(n: cst.CSTNode, replacement: cst.BaseStatement = replacement) -> cst.CSTNode:
                    assert isinstance(n, cst.SimpleStatementLine)
                    return replacement.with_changes(leading_lines=n.leading_lines)

                self._add(id(stmt), build)
                return True
        return False

    def _whole_program_defs(self, module: str) -> tuple[dict[tuple[str, ...], list[_Def]], list[_Def]]:
        """The module-level flytekit tasks without resources (they move too), by the
        environment arguments they need, and the `@workflow`s, `@dynamic`s and `@eager`s
        that become driver tasks (those with resources were decided in `_flyte_task`).
        Why one cannot move goes to `def_reasons`."""
        plain: dict[tuple[str, ...], list[_Def]] = {}
        drivers: list[_Def] = []
        for t in self.a.model.tasks:
            member = None if t.found is None else self._driver_members.get(id(t.found))
            if t.sdk != "flytekit" or (t.found is not None and member is None) or not t.module_level:
                continue
            if top_function(self.a, t) is None:
                self.def_reasons[id(t.function)] = "it is not defined at the top level of the module"
                continue
            decorator = flytekit_decorator(self.a, t)
            if decorator is None:
                continue
            if t.kind == "task":
                carried = self._carry(decorator, module)
                if isinstance(carried, str):
                    self.def_reasons[id(t.function)] = carried
                else:
                    plain.setdefault(carried.environment, []).append((t, carried))
            elif t.kind == "eager":
                driver = member[2] if member is not None else self._driver_arguments(t, decorator, module)
                why = driver if isinstance(driver, str) else self._plan_eager(t) or self._plan_values(t)
                if why is not None:
                    self.def_reasons[id(t.function)] = why
                else:
                    assert isinstance(driver, Carried)
                    drivers.append((t, driver))
            elif t.kind in ("workflow", "dynamic"):
                driver = member[2] if member is not None else self._driver_arguments(t, decorator, module)
                if isinstance(driver, str):
                    self.def_reasons[id(t.function)] = driver
                    continue
                ordering = plan_ordering(
                    t.function,
                    functools.partial(self._moving_calls, t.name),
                    self.a.names,
                    values=t.kind == "dynamic",
                )
                if isinstance(ordering, str):
                    self.def_reasons[id(t.function)] = ordering
                elif (why := self._plan_values(t)) is not None:
                    self.def_reasons[id(t.function)] = why
                else:
                    if ordering is not None:
                        self._orderings[id(t.function)] = ordering
                    drivers.append((t, driver))
                    self._plan_maps(t, module)
        return plain, drivers

    def _driver_arguments(self, t: TaskDef, decorator: ast.expr, module: str) -> Carried | str:
        """Where the arguments of a `@workflow`, `@dynamic` or `@eager` without resources go on
        its driver task, or why they cannot: a `@dynamic`'s and an `@eager`'s as a task's
        (`flyteres.migrate.task_args`), a `@workflow`'s nowhere yet."""
        if t.kind == "workflow":
            if isinstance(decorator, ast.Call) and (decorator.args or decorator.keywords):
                return "@workflow(...)'s arguments have no Flyte 2 driver-task equivalent this codemod knows"
            return Carried()
        carried = self._carry(decorator, module)
        if t.kind == "eager":
            return eager_dropped(decorator) or carried
        return carried

    def _unmoved_drivers(self) -> None:
        """Record each @dynamic or @eager with resources whose definition did not become a
        driver task as left as written, with the reason its definition stayed."""
        functions = {id(t.found): t for t in self.a.model.tasks if t.found is not None}
        for found, decision, _ in self._driver_members.values():
            if id(found) in self.rewritten_ids:
                continue
            t = functions.get(id(found))
            if t is None:
                why = f"this @{found.kind.value} is not a decorated function this codemod can move"
            elif not t.module_level:
                why = "it is not defined at the top level of the module"
            else:
                why = self.def_reasons.get(id(t.function)) or f"this @{found.kind.value} has no driver-task form here"
            self.blocked(found, MigrateRule.UNSUPPORTED_DECORATOR, why, decision.findings)

    def _plan_values(self, t: TaskDef) -> str | None:
        """How a driver-to-be's values change (`_plan_reads`, `_plan_floats`); why it cannot move, or None."""
        return self._plan_reads(t) or self._plan_floats(t)

    def _plan_floats(self, t: TaskDef) -> str | None:
        """The ints a driver-to-be gives to `float` parameters, as `float(...)`
        (`flyteres.migrate.coercions`); why it cannot move, or None."""
        local = [d for d in self.a.model.tasks if d.module_level and d.sdk == "flytekit" and d.kind == "task"]
        parameters = {
            d.name: {
                a.arg: a.annotation
                for a in (*d.function.args.posonlyargs, *d.function.args.args, *d.function.args.kwonlyargs)
            }
            for d in local
        }
        values = int_for_float(t.function, parameters=parameters, returns={d.name: d.function.returns for d in local})
        if not values:
            return None
        if "float" in self.a.names.bindings:
            return "an int given to a float parameter must become float(...), and this module rebinds the name float"
        nodes = self.a.locate(values, cst.BaseExpression)  # type: ignore[type-abstract]  # any expression: matched by span
        for value in values:
            if id(value) not in nodes:  # the two parsers disagree (should not happen)
                return f"the value at line {value.lineno} could not be found in libcst's tree to write as float(...)"
        self._floats[id(t.function)] = [nodes[id(v)] for v in values]
        return None

    def _plan_reads(self, t: TaskDef) -> str | None:
        """The named-output reads of a driver-to-be in Flyte 2's form
        (`flyteres.migrate.named_outputs`); why it cannot move, or None."""
        if self._named_types is None:
            self._named_types = namedtuple_fields(self.a.model.tree, self.a.names)
        types, records = self._named_types
        returns = {d.name: d.function.returns for d in self.a.model.tasks if d.module_level and d.sdk == "flytekit"}
        reads = named_reads(
            t.function,
            returns=returns,
            types=types,
            records=records,
            names=self.a.names,
        )
        if isinstance(reads, str):
            return reads
        nodes = self.a.locate([node for node, _ in reads], cst.Attribute)
        for node, _ in reads:
            if id(node) not in nodes:  # the two parsers disagree (should not happen)
                return f"the read .{node.attr} (line {node.lineno}) could not be found in libcst's tree to rewrite"
        if reads:
            self._reads[id(t.function)] = [(*nodes[id(node)], index) for node, index in reads]
        return None

    def _moving_calls(self, caller: str) -> set[tuple[int, int]]:
        """Where `caller` calls a task or workflow of this module, or one of another module known
        to move to Flyte 2 in the run: (line, column) of each call."""
        out = set()
        for c in self.a.model.task_calls():
            if c.caller != caller:
                continue
            imported = None if c.qualified is None else self.imported_task(c.qualified)
            if c.qualified is None or (imported is not None and imported[1] is not None and imported[1].converted):
                out.add((c.line, c.col))
        return out

    def _plan_eager(self, t: TaskDef) -> str | None:
        """An `@eager` becomes an async driver task (`flyteres.migrate.driver_bodies.eager_calls`);
        why it cannot, or None."""
        local = [d for d in self.a.model.tasks if d.module_level and d.sdk == "flytekit"]
        sync = frozenset(d.name for d in local if d.kind != "eager" and d.name != t.name)
        planned = eager_calls(t.function, sync)
        if isinstance(planned, str):
            return planned
        if planned:
            self._eager_calls[id(t.function)] = planned
        return None

    def _plan_maps(self, t: TaskDef, module: str) -> None:
        """The `map_task(f)(...)` calls of a driver-to-be: each becomes `flyte.map(...)`, or says
        why not where it is (a blocker, `flyteres.migrate.map_calls`)."""
        parameters = {
            d.name: [a.arg for a in (*d.function.args.posonlyargs, *d.function.args.args)]
            for d in self.a.model.tasks
            if d.module_level and d.kind == "task"
        }
        flyte = module if "list" not in self.a.names.bindings else None
        planned = map_calls(
            t.function,
            self.a.names,
            flyte=module,
            code=lambda n: self.a.text.segment(span_of(n)),
            parameters=parameters,
        )
        self.a.index_calls([m.call for m in planned if m.new is not None])
        for m in planned:
            if flyte is None:
                self.map_reasons[id(m.inner.func)] = "the name 'list' is rebound in this module"
            elif m.new is None:
                self.map_reasons[id(m.inner.func)] = m.reason
            elif not self.a.has_call(m.call):  # the two parsers disagree (should not happen)
                self.map_reasons[id(m.inner.func)] = "the call could not be found in libcst's tree to rewrite"
            else:
                self.mapped.append(m.call)
                self._maps.setdefault(id(t.function), []).append((m, module))

    def _environments(
        self,
        groups: Mapping[tuple[str | None, tuple[str, ...]], list[_Member]],
        module: str,
        plain: Mapping[tuple[str, ...], list[_Def]],
        drivers: Sequence[_Def],
    ) -> dict[str, Found]:
        envs: list[_Env] = []
        for (render, extras), members in groups.items():
            first = min(members, key=lambda m: (m[0].site.top, m[0].line))[0]
            envs.append(_Env(render, first.site.top, first.line, first.name, extras, members=members))
        for defs in plain.values():
            tops = {t.name: top_index(self.a, t) for t, _ in defs}
            first_def = min(defs, key=lambda d: tops[d[0].name])[0]
            envs.append(
                _Env(None, tops[first_def.name], first_def.line, first_def.name, defs[0][1].environment, defs=defs)
            )
        envs.extend(self._driver_environments(envs, drivers))
        envs.sort(key=lambda e: (e.top, e.line))
        self._name_environments(envs)
        imported = self._imported_environments(envs)
        converted: dict[str, Found] = {}
        for env in envs:
            for name in env.names:
                self.environment_of[name] = env.variable
            depends = [d.variable for d in sorted(env.depends.values(), key=lambda e: (e.top, e.line))]
            depends += sorted({imported[key] for key in env.external if key in imported})
            arguments = [f"name={self.quote}{env.name}{self.quote}"]
            if env.render is not None:
                arguments.append(f"resources={env.render}")
            arguments.extend(env.extras)
            if depends:
                arguments.append(f"depends_on=[{', '.join(depends)}]")
            statement = f"{env.variable} = {module}.TaskEnvironment({', '.join(arguments)})\n"
            if self.line_length is not None:
                statement = wrap_call(statement, self.a.module.default_indent, self.line_length)
            anchor = self.a.module.body[env.top]
            blank = []
            for line in anchor.leading_lines:
                if line.comment is not None:
                    break
                blank.append(line)
            if env.top > 0 and is_import(self.a.module.body[env.top - 1]):
                blank = blank[:1]  # isort puts one blank line after imports before code (I001)
            moved: list[str] = []
            for found, decision, carried in env.members:
                text = self.a.lines[found.line - 1]
                builder = self._decorator_builder(env.variable, carried, len(text) - len(text.lstrip()))
                # Comments written next to the resources move with them, above the environment.
                new = self.replace(found.call, builder, keep_comments=False)
                if self.a.multiline(found.call):
                    moved += [c for c in lost_comments(self.a.call(found), new) if c not in moved]
                self.rewritten(found, new, decision, environment=env.variable)
                converted[found.name] = found
            for t, carried in env.defs:
                self._move_definition(t, env.variable, carried)
            self.planned.inserts.setdefault(env.top, []).append((statement, [*blank, *comment_lines(moved)]))
            self.planned.environments.append(Environment(env.variable, env.name, env.render or "", env.line, env.names))
        return converted

    def _driver_environments(self, envs: Sequence[_Env], drivers: Sequence[_Def]) -> list[_Env]:
        """Environments for the driver tasks: one per distinct resources and environment
        arguments, as for tasks; each goes above its first driver and `depends_on` the
        environments of the tasks its drivers call, so a driver calling a task defined after
        an earlier driver starts a new one; a driver calling a task defined after itself stays
        (flytekit would not have compiled it either)."""
        env_of = {name: env for env in envs for name in env.names}
        calls: dict[str, set[str]] = {}
        external: dict[str, set[tuple[str, str]]] = {}
        driver_names = {t.name for t, _ in drivers}
        for call in self.a.model.task_calls():
            if call.qualified is None:
                calls.setdefault(call.caller, set()).add(call.callee)
            elif call.caller in driver_names:
                key = self._external_environment(call.qualified)
                if key is not None:
                    external.setdefault(call.caller, set()).add(key)
                    if "." in call.callee:  # `etl.extract(...)`: its environment is `etl.<variable>`
                        self._through_module.setdefault(key, call.callee.rpartition(".")[0])
        out: list[_Env] = []
        for t, carried in sorted(drivers, key=lambda d: top_index(self.a, d[0])):
            top = top_index(self.a, t)
            deps = {id(env_of[c]): env_of[c] for c in calls.get(t.name, ()) if c in env_of}
            if any(d.top > top for d in deps.values()):
                self.def_reasons[id(t.function)] = "it calls a task defined after it"
                continue
            member = None if t.found is None else self._driver_members.get(id(t.found))
            render = None if member is None else member[1].render
            members = [] if member is None else [member]
            same = [e for e in out if (e.render, e.extras) == (render, carried.environment)]
            current = same[-1] if same else None
            if current is not None and all(d.top < current.top or d is current for d in deps.values()):
                current.defs = [*current.defs, (t, carried)]
                current.members = [*current.members, *members]
                current.depends = {**current.depends, **{k: v for k, v in deps.items() if v is not current}}
            else:
                current = _Env(render, top, t.line, t.name, carried.environment, members, [(t, carried)], driver=True)
                current.depends = {k: v for k, v in deps.items() if v is not current}
                out.append(current)
            current.external |= external.get(t.name, set())
            env_of[t.name] = current
        return out

    def _external_environment(self, qualified: str) -> tuple[str, str] | None:
        """For a task a driver imports (`.etl.extract`): the module its import names and the
        variable of the task's environment there (`(".etl", "extract_env")`), when the task
        moved to Flyte 2 in the run."""
        imported = self.imported_task(qualified)
        info = None if imported is None else imported[1]
        if info is None or not info.converted or info.environment is None:
            return None
        return qualified.rpartition(".")[0], info.environment

    def _imported_environments(self, envs: Sequence[_Env]) -> dict[tuple[str, str], str]:
        """Import the environments of other modules the drivers call tasks of, into the
        `from x import ...` statement that imports those tasks (names sorted as isort sorts
        them); the local name of each, by (module as imported, variable)."""
        wanted = sorted({key for env in envs for key in env.external})
        if not wanted:
            return {}
        taken = set(self.a.names.bindings) | set(self.a.name_uses) | {e.variable for e in envs}
        out: dict[tuple[str, str], str] = {}
        additions: dict[int, list[tuple[str, str]]] = {}
        for module, variable in wanted:
            index = import_statement(self.a.module, module)
            if index is None:
                through = self._through_module.get((module, variable))
                if through is not None:  # the module itself is imported: no import to add
                    out[(module, variable)] = f"{through}.{variable}"
                continue
            local = variable
            if local in taken:
                local = unique(f"{snake(module.rpartition('.')[2]) or 'module'}_{variable}", taken)
            taken.add(local)
            out[(module, variable)] = local
            additions.setdefault(index, []).append((variable, local))
        for index, names in additions.items():
            stmt = self.a.module.body[index]
            # isort and ruff join only names that are not renamed, in a statement that renames none.
            joined = [] if aliased_import(stmt) else [(v, local) for v, local in names if v == local]
            alone = [n for n in names if n not in joined]
            if joined:
                self._add(id(stmt), importing(joined, self.line_length, self.a.module))
            if alone:
                self._separate_imports(index, alone)
        return out

    def _separate_imports(self, index: int, names: Sequence[tuple[str, str]]) -> None:
        """`from x import variable as local`, each a statement of its own beside statement `index`
        (isort and ruff write an aliased name alone, and that statement joins no alias), above it
        or below it as they sort by name."""
        body = self.a.module.body
        stmt = body[index]
        assert isinstance(stmt, cst.SimpleStatementLine)
        node = stmt.body[0]
        assert isinstance(node, cst.ImportFrom)
        assert not isinstance(node.names, cst.ImportStar)
        spelled = "".join("." for _ in node.relative) + (self.a.code(node.module) if node.module is not None else "")
        first = min(isort_key(a) for a in node.names)
        for variable, local in sorted(names, key=lambda n: isort_key(cst.ImportAlias(name=cst.Name(n[0])))):
            text = f"from {spelled} import {variable}{'' if local == variable else f' as {local}'}\n"
            if isort_key(cst.ImportAlias(name=cst.Name(variable))) < first:
                lines: list[cst.EmptyLine] = []
                if index not in self.lines_taken and not self._flyte_starts_at(index):
                    lines = list(leading(stmt))  # the blank lines above the statement go above the new one
                    self.lines_taken.add(index)
                    self._add(id(stmt), lambda n: n.with_changes(leading_lines=[]))
                self.planned.inserts.setdefault(index, []).append((text, lines))
            else:
                after = self.planned.inserts.setdefault(index + 1, [])
                after.insert(self.planned.early.get(index + 1, 0), (text, []))
                self.planned.early[index + 1] = self.planned.early.get(index + 1, 0) + 1

    def _name_environments(self, envs: Sequence[_Env]) -> None:
        """One environment per module is `env`, named after the module; with several,
        `<first task>_env` named `<module>_<first task>`; taken names get a suffix."""
        stem = environment_stem(self.naming, self.a.path)
        taken = set(self.a.names.bindings) | set(self.a.name_uses)
        names_taken = set(self.a.environment_names)
        for env in envs:
            if len(envs) == 1:
                variable = "env" if "env" not in taken else f"{module_stem(self.a.path)}_env"
                env_name = stem
            else:
                task = snake(env.first) or "task"
                variable, env_name = f"{task}_env", f"{stem}_{task}"
            env.variable = unique(variable, taken)
            taken.add(env.variable)
            env.name = unique(env_name, names_taken)
            names_taken.add(env.name)

    def _move_definition(self, t: TaskDef, variable: str, carried: Carried) -> None:
        """`@task`/`@workflow`/`@dynamic` on a module-level function becomes `@<variable>.task`."""
        node = top_function(self.a, t)
        assert node is not None
        decorator = flytekit_decorator(self.a, t)
        assert decorator is not None
        index = t.function.decorator_list.index(decorator)
        self.converted_defs.add(id(t.function))
        # A driver with resources had its decorator rewritten as a task's (`_environments`).
        member = t.found is not None and id(t.found) in self._driver_members
        if t.kind == "task":
            self.plain_converted.add(t.name)
        elif not member:
            self.drivers_converted.add(t.name)

        for m, flyte in self._maps.get(id(t.function), ()):
            self.replace(m.call, self._map_builder(t, m, flyte))
        for attribute, ancestors, position in self._reads.get(id(t.function), ()):
            self._add(id(attribute), read_by_position(position))
            self.planned.ancestors.update(id(n) for n in ancestors)
        for value, ancestors in self._floats.get(id(t.function), ()):
            self._add(id(value), as_float())
            self.planned.ancestors.update(id(n) for n in ancestors)
        eager = self._eager_calls.get(id(t.function), frozenset())
        ordering = self._orderings.get(id(t.function))

        def build(n: cst.CSTNode) -> cst.CSTNode:
            assert isinstance(n, cst.FunctionDef)
            if ordering is not None:
                n = drop_ordering(n, ordering)
            if eager:
                n = awaiting(n, eager)
            if member:
                return n
            decorators = list(n.decorators)
            old = decorators[index].decorator
            func = cst.Attribute(value=cst.Name(variable), attr=cst.Name("task"))
            new: cst.BaseExpression = func
            if isinstance(old, cst.Call):
                args = rewrite_arguments(old, carried, self.parse)
                if args:
                    new = self._fit(old.with_changes(func=func, args=args), 0)
            decorators[index] = decorators[index].with_changes(decorator=new)
            return n.with_changes(decorators=decorators)

        self._add(id(node), build)

    def _map_builder(self, t: TaskDef, m: MapRewrite, flyte: str) -> Builder:
        """How a `map_task(f)(...)` of `t` becomes `list(flyte.map(...))`: one argument per line
        when it does not fit on its line (or held a line break already)."""
        build = flyte_map(m.task, m.order, concurrency=m.concurrency, flyte=self.parse(flyte))
        width = self.line_length
        if width is None:
            return build
        # The statement holding the call sets the block's indentation.
        indent = max(
            (
                s.col_offset
                for s in ast.walk(t.function)
                if isinstance(s, ast.stmt) and s.lineno <= m.call.lineno <= (s.end_lineno or s.lineno)
            ),
            default=0,
        )
        unit = self.a.module.default_indent

        def fitted(node: cst.CSTNode) -> cst.CSTNode:
            new = build(node)
            assert isinstance(new, cst.Call)
            return spread(new, unit=unit, width=width, indent=indent, column=m.call.col_offset)

        return fitted

    def _decorator_builder(self, variable: str, carried: Carried, indent: int = 0) -> Builder:
        def build(node: cst.CSTNode) -> cst.CSTNode:
            assert isinstance(node, cst.Call)
            func = cst.Attribute(value=cst.Name(variable), attr=cst.Name("task"))
            kept = rewrite_arguments(node, carried, self.parse)
            if not kept:
                return func
            return self._fit(node.with_changes(func=func, args=kept), indent)

        return build

    def _fit(self, decorator: cst.Call, indent: int) -> cst.Call:
        """A rewritten `@env.task(...)` (in a block indented by `indent`), one argument per
        line when it is longer than the line length (`cache=flyte.Cache(...)` grows)."""
        if self.line_length is None or "\n" in self.a.code(decorator):
            return decorator
        unit = self.a.module.default_indent
        return spread(decorator, unit=unit, width=self.line_length, indent=indent, column=indent + 1)


_STDLIB = frozenset(sys.stdlib_module_names) - {"__future__"}


def _args(arguments: ast.arguments) -> list[ast.arg]:
    every = [*arguments.posonlyargs, *arguments.args, arguments.vararg, *arguments.kwonlyargs, arguments.kwarg]
    return [a for a in every if a is not None]


def _io_rewrite(node: cst.CSTNode, *, edits: Mapping[tuple[str, str, int], str], module: cst.Module) -> cst.CSTNode:
    assert isinstance(node, cst.FunctionDef)
    return rewrite_function(node, edits, module)


# A task with resources (its declaration, decision and other arguments), a definition without.
_Member = tuple[Found, Decision, Carried]
_Def = tuple[TaskDef, Carried]


@dataclass
class _Env:
    """An environment the rewrite declares: its resources (None: none), where it goes (the
    top-level statement of its first member) and its members (decorators or definitions)."""

    render: str | None
    top: int
    line: int
    first: str
    extras: tuple[str, ...] = ()  # `image=...`, `env_vars=...` (flyteres.migrate.task_args)
    members: Sequence[_Member] = ()
    defs: Sequence[_Def] = ()
    driver: bool = False
    # The environments its driver tasks call tasks of, by id() (`depends_on`), and those
    # of other modules, as (module as imported, variable).
    depends: dict[int, _Env] = field(default_factory=dict)
    external: set[tuple[str, str]] = field(default_factory=set)
    variable: str = ""
    name: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        # A driver with resources is both a member (its decorator) and a definition (its body).
        return tuple(dict.fromkeys((*(f.name for f, _, _ in self.members), *(t.name for t, _ in self.defs))))
