"""`t(...).with_overrides(...)` for `--target flyte`: merged into Flyte 2's `t.override(resources=...)(...)`.

The half of `FlytePlanner` that plans overrides (`flyteres.migrate.to_flyte`
plans tasks, environments and drivers): the override's resources merged with the
task's own the way flytekit's backend merges them (row 29 of docs/semantics.md),
for a task of this module or, through the run's index, of another; whatever
cannot be merged exactly stays as written with its reason.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping

import libcst as cst

from flyteres.convert.flytekit import from_flytekit
from flyteres.core.spec import ResourceSpec
from flyteres.migrate.cst_edits import Builder, attach_after, lost_comments, with_commas
from flyteres.migrate.decide import decide, flyte_convert, merge_specs
from flyteres.migrate.flyte_layout import wrapped
from flyteres.migrate.index import TaskInfo
from flyteres.migrate.planner import Planner
from flyteres.migrate.render import Slots, render_flyte
from flyteres.migrate.results import codemod_finding
from flyteres.migrate.rules import MigrateRule
from flyteres.source.model import DeclarationKind, Found, flytekit_kwargs
from flyteres.source.names import RESOURCE_ARGUMENTS
from flyteres.source.values import Combo

__all__ = ["CARRIED_ARGUMENTS", "OverridePlanning"]

# Non-resource arguments that mean the same thing on `@env.task(...)` and `.override(...)`.
CARRIED_ARGUMENTS = ("retries", "timeout", "interruptible")


class OverridePlanning(Planner):
    """Plans each override of a flytekit task for Flyte 2 (see the module notes)."""

    def _unsupported_arguments(self, found: Found) -> list[str]:
        out = []
        for arg in found.other_args:
            if arg.keyword is None:
                out.append(arg.code.strip() if arg.star else "a positional argument")
            elif arg.keyword not in CARRIED_ARGUMENTS:
                out.append(f"{arg.keyword}=")
        return out

    def _flyte_override(self, found: Found, module: str, converted: Mapping[str, Found]) -> None:
        # Site by site, the task itself may have moved to Flyte 2 even though this call cannot: say so.
        # (Whole programs never get there: this call keeps the task's group on flytekit.)
        moved = (
            f"; {found.target} itself now runs in a Flyte 2 environment, so migrate this call by hand"
            if self.partial and found.target in converted
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
        why = self.not_static(found, RESOURCE_ARGUMENTS)
        if why is not None:
            self.blocked(found, MigrateRule.NOT_STATIC, why + moved)
            return
        unsupported = self._unsupported_arguments(found)
        for arg in found.other_args:
            given = arg.value
            zero = isinstance(given, ast.Constant) and type(given.value) is int and given.value == 0
            if zero and arg.keyword in ("retries", "timeout"):
                unsupported.append(f"{arg.keyword}=0 (Flyte 2's override cannot reset it to 0)")
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
                return merge_specs(spec, from_flytekit(**flytekit_kwargs(found, combo)))

        else:
            assert task is not None
            local, base_name = task, task.name
            slots = Slots.of(found).over(Slots.of(task))
            leaves = [*task.leaves(), *found.leaves()]

            def build(combo: Combo) -> ResourceSpec:
                base = from_flytekit(**flytekit_kwargs(local, combo))
                return merge_specs(base, from_flytekit(**flytekit_kwargs(found, combo)))

        decision = decide(
            leaves,
            build,
            flyte_convert,
            lambda args, spelling: render_flyte(args, module, spelling),
            policy=self.policy,
            line=found.line,
            spelling=self.spelling(self.forbidden(found, module_level=False), slots),
        )
        if not decision.ok:
            self.untouched(found, (decision.reason or "") + moved, decision.findings)
            return
        assert decision.render is not None
        value = self.parse(decision.render)
        builder = self._override_builder(value, comments=self.a.multiline(found.call))
        if self.line_length is not None and not self.a.multiline(found.call):
            line = self.a.lines[found.line - 1].rstrip("\r\n")
            old = self.a.call_text(found.call)
            new_text = self.a.code(builder(self.a.call(found)))
            if len(line) - len(old) + len(new_text) > self.line_length:
                builder = wrapped(builder, self.a.module.default_indent)
        new = self.replace(found.call, builder)
        extra = [
            *self.storage_findings(found, RESOURCE_ARGUMENTS),
            codemod_finding(
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
        target = found.target or ""
        if found.target_shape == "task" and target in self.plain_converted:
            if target in self.a.local_names(found.site.scopes):
                self.blocked(found, MigrateRule.OVERRIDE_TASK_UNKNOWN, f"{target} is a local name here")
                return None
            # A task of this module without resources: the override's are all it has.
            return None, TaskInfo(self.module or "", target, self.a.path, ResourceSpec(), True)
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
                args=with_commas(kept, node.args),
                lpar=(),
                rpar=(),
            )
            if comments:
                lost = lost_comments(node.with_changes(func=inner.func), override)
                override = attach_after(override, placed, lost)
            return inner.with_changes(func=override, lpar=(*node.lpar, *inner.lpar), rpar=(*inner.rpar, *node.rpar))

        return build
