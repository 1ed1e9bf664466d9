"""The flytekit target: `requests=`/`limits=` become flytekit's single `resources=`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import libcst as cst

from flyteres.convert.flytekit import from_flytekit
from flyteres.core.spec import ResourceSpec
from flyteres.migrate.cst_edits import Builder, attach_after, lost_comments, with_commas
from flyteres.migrate.decide import Decision, decide, flytekit_convert
from flyteres.migrate.planner import OVERRIDE_KINDS, TASK_KINDS, Planner
from flyteres.migrate.render import Slots, render_flytekit
from flyteres.migrate.results import Site, codemod_finding
from flyteres.migrate.rules import MigrateRule
from flyteres.source.model import DeclarationKind, Found, flytekit_kwargs
from flyteres.source.values import ResourcesValue, combinations
from flyteres.source.walk import CallSite

__all__ = ["FlytekitPlanner"]

_DEFINING_KINDS = (*TASK_KINDS, DeclarationKind.CONTAINER_TASK)


class FlytekitPlanner(Planner):
    """Plans the flytekit target for one module (see `flyteres.migrate`)."""

    #: Constants of this module that other modules of the run import: their definitions stay
    #: as written (rewriting them would change those modules too), the values go inline here.
    imported_elsewhere: frozenset[str] = frozenset()

    def plan(self) -> None:
        """Each task and override with `requests=`/`limits=`; the shared constants first."""
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
            why = self.not_static(found, ("requests", "limits"))
            if why is not None:
                self.blocked(found, MigrateRule.NOT_STATIC, why)
                continue
            candidates.append(found)
        shared = self._shared_definitions(candidates)
        for found in candidates:
            self._flytekit_site(found, shared)

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

    def _definition_render(self, rv: ResourcesValue, sides: tuple[str, ...], line: int) -> Decision:
        """What the constant's own Resources(...) must become for one role."""
        assert rv.call is not None
        fake = Found(DeclarationKind.OTHER, rv.through or "", line, CallSite(rv.call, (), 0), {}, [])
        for side in sides:
            setattr(fake, side, rv)
        leaves = list(rv.leaves())
        return decide(
            leaves,
            lambda combo: from_flytekit(**flytekit_kwargs(fake, combo, keys=sides)),
            flytekit_convert,
            lambda args, spelling: render_flytekit(args, rv.callee or "Resources", spelling, order=list(rv.fields)),
            policy=self.policy,
            line=line,
            spelling=self.spelling(frozenset(), Slots.of(fake, sides)),
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
            renders: dict[tuple[str, ...], Decision] = {}
            for _, sides in uses:
                if sides not in renders:
                    renders[sides] = self._definition_render(rv, sides, rv.call.lineno)
            as_written = self._as_written(rv)
            # Overrides count among all the uses but never let the definition change: an
            # override can still be refused after this (override-limit-merge).
            use_count = sum(len(sides) for f, sides in uses if f.kind in _DEFINING_KINDS)
            all_uses = self.a.name_uses[name] - len(self.a.names.bindings.get(name, ()))
            decisions = {d.render for d in renders.values()}
            if (
                len(renders) == 1
                and None not in decisions
                and use_count == all_uses
                and name not in self.a.names.exported
                and name not in self.imported_elsewhere
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

    def _rewrite_definition(self, name: str, rv: ResourcesValue, decision: Decision, tasks: list[str]) -> None:
        assert rv.call is not None
        assert decision.render is not None
        new = self.parse(decision.render)
        self.replace(rv.call, lambda _node: new)
        line = rv.call.lineno
        note = codemod_finding(
            MigrateRule.DEFINITION_REWRITTEN,
            line,
            f"{name} is used only as this role in this module ({', '.join(tasks)}); check modules that import it",
            value=name,
        )
        self.planned.sites.append(
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
        decision = decide(
            [leaf for key, rv in found.resource_values() if key in keys for leaf in rv.leaves()],
            lambda combo: from_flytekit(**flytekit_kwargs(found, combo, keys=keys)),
            flytekit_convert,
            lambda args, spelling: render_flytekit(args, callee, spelling, order=order),
            policy=self.policy,
            line=found.line,
            spelling=self.spelling(in_place, slots),
        )
        if not decision.ok:
            self.untouched(found, decision.reason or "", decision.findings)
            return
        for key, rv in found.resource_values():
            if key in keys and rv.through is not None and "storage" in rv.fields and constant is None:
                self.blocked(
                    found,
                    MigrateRule.STORAGE_CONSTANT,
                    f"{rv.through} uses the removed storage= (flytekit 1.10.3 and later reject it); "
                    f"remove it from {rv.through} itself rather than writing the other values around it",
                    decision.findings,
                )
                return
        extra = self.storage_findings(found, keys)
        if found.kind in OVERRIDE_KINDS:
            problem = self._override_limits(found, decision)
            if problem is not None:
                self.blocked(found, MigrateRule.OVERRIDE_LIMIT_MERGE, problem, decision.findings)
                return
        requests = found.requests
        if constant is not None:
            new_value = self.parse(constant)
        elif found.limits is None and requests is not None and decision.render == self._as_written(requests):
            # requests=Resources(...) means the same as resources=Resources(...): keep it as written.
            new_value = self.a.arg(found.resource_args["requests"]).value
        else:
            assert decision.render is not None
            new_value = self.parse(decision.render)
            extra += self.inline_findings(found, decision, keys)
        builder = self._resources_argument_builder(new_value, comments=self.a.multiline(found.call))
        new_call = self.replace(found.call, builder)
        self.rewritten(found, new_call, decision, extra)

    def _override_limits(self, found: Found, decision: Decision) -> str | None:
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
        if self.not_static(task, keys) is not None:
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
            new = node.with_changes(args=with_commas(kept, node.args))
            return attach_after(new, placed, lost_comments(node, new)) if comments else new

        return build
