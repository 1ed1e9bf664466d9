"""The bodies of the Flyte 2 driver tasks and the module-level statements they rely on.

Pure helpers of `flyteres.migrate.to_flyte` (kept apart so that planner stays
near its size): which `@eager` calls change and how (`eager_calls`,
`awaiting`), how a `map_task` call of a driver is rebuilt as `flyte.map`
(`flyte_map`, planned by `flyteres.migrate.map_calls`), and which
module-level `ImageSpec`s may become `flyte.Image`s (`image_assignments`,
written by `flyteres.migrate.images`).
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Callable, Iterator, Sequence

import libcst as cst

from flyteres.migrate.images import IMAGE_SPEC
from flyteres.source.analysis import SourceModule
from flyteres.source.names import ModuleNames

__all__ = ["awaiting", "bound_once", "eager_calls", "flyte_map", "image_assignments", "without_overrides"]


def bound_once(function: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[Counter[str], dict[str, ast.expr]]:
    """How many times each name is bound in a driver-to-be (its parameters count once each),
    and the value of each `x = ...` or `x: T = ...`; a name counted once holds that value
    everywhere in the body."""
    args = function.args
    stores = Counter(n.id for n in ast.walk(function) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load))
    stores.update(a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs))
    values: dict[str, ast.expr] = {}
    for n in ast.walk(function):
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name):
            values[n.targets[0].id] = n.value
        elif isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name) and n.value is not None:
            values[n.target.id] = n.value
    return stores, values


def without_overrides(expr: ast.expr) -> ast.expr:
    """`t(...)` for `t(...).with_overrides(...)` (any number of them): the call that runs the
    task; an override changes how it runs, not what it returns. Anything else as it is."""
    while (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr == "with_overrides"
        and isinstance(expr.func.value, ast.Call)
    ):
        expr = expr.func.value
    return expr


def eager_calls(function: ast.AST, sync: frozenset[str]) -> frozenset[str] | str:
    """An `@eager` async function becomes an async driver task, Flyte 2's own form. In
    flytekit 1.16's eager mode a call of a synchronous task returns its value
    (`flyte_entity_call_handler` runs it to completion); Flyte 2 refuses that call inside an
    async task (`SyncTaskCallInAsyncContextError`) and gives the value as
    `await t.aio(...)`, so each such call of a task, workflow or `@dynamic` of this module
    becomes `(await t.aio(...))`. Calls of other `@eager`s (coroutines in both) stay.
    `sync` names the module's synchronous tasks, workflows and `@dynamic`s; the answer is
    the names whose calls change (empty: none), or why the function cannot move."""
    if not isinstance(function, ast.AsyncFunctionDef):
        return "@eager on a function that is not async"
    parents = {id(c): p for p in ast.walk(function) for c in ast.iter_child_nodes(p)}
    calls: set[int] = set()
    for node in ast.walk(function):
        if not (isinstance(node, ast.Name) and node.id in sync):
            continue
        call = parents.get(id(node))
        if not isinstance(node.ctx, ast.Load) or not isinstance(call, ast.Call) or call.func is not node:
            return f"{node.id} is used in @eager other than called by name (line {node.lineno})"
        if isinstance(parents.get(id(call)), ast.Await):
            return (
                f"await {node.id}(...) (line {node.lineno}): flytekit 1.16's eager mode returns a synchronous "
                "task's value, which cannot be awaited; write the call without await first"
            )
        scope = parents.get(id(call))
        while scope is not None and scope is not function:
            if isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef | ast.GeneratorExp):
                return (
                    f"{node.id}(...) (line {node.lineno}) is inside a nested function or generator, where "
                    "Flyte 2's await t.aio(...) cannot go"
                )
            scope = parents.get(id(scope))
        calls.add(id(call))
    return sync if calls else frozenset()


def image_assignments(model: SourceModule, names: ModuleNames) -> Iterator[tuple[ast.Call, str | None, str | None]]:
    """Each module-level `X = ImageSpec(...)`: its call, `X`, and why it cannot become a
    `flyte.Image` (None: it can, as far as its uses go)."""
    # Where a task names its image (`container_image=X`): the only use a flyte.Image can take over.
    allowed = {
        id(kw.value)
        for t in model.tasks
        for d in t.function.decorator_list
        if isinstance(d, ast.Call)
        for kw in d.keywords
        if kw.arg == "container_image" and isinstance(kw.value, ast.Name)
    }
    for stmt in model.tree.body:
        if not (isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call)):
            continue
        call = stmt.value
        if names.qualified(call.func) not in IMAGE_SPEC:
            continue
        target = stmt.targets[0] if len(stmt.targets) == 1 else None
        if not isinstance(target, ast.Name) or len(names.bindings.get(target.id, ())) != 1:
            yield call, None, "an ImageSpec not bound once to one module-level name"
            continue
        other = [
            n.lineno
            for n in ast.walk(model.tree)
            if isinstance(n, ast.Name) and n.id == target.id and isinstance(n.ctx, ast.Load) and id(n) not in allowed
        ]
        if other:
            yield (
                call,
                target.id,
                (
                    f"{target.id} is used other than as a task's container_image= (line {other[0]}); "
                    "Flyte 2's Image has other methods (no is_container())"
                ),
            )
            continue
        yield call, target.id, None


def flyte_map(
    task: str, order: Sequence[str], *, concurrency: bool, flyte: cst.BaseExpression
) -> Callable[[cst.CSTNode], cst.CSTNode]:
    """A builder turning a `map_task(task, ...)(k=v, ...)` libcst call into
    `list(flyte.map(task, v..., return_exceptions=False))`, as planned by
    `flyteres.migrate.map_calls`: the values of the keywords in `order`, and the
    `map_task`'s own `concurrency=` when `concurrency`. It works on the call's nodes, not its
    text, so a call written over several lines, or holding another edit, is rewritten the same."""
    no_space = cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace(""))

    def keywords(call: cst.Call) -> dict[str, cst.BaseExpression]:
        return {a.keyword.value: a.value for a in call.args if a.keyword is not None}

    def build(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, cst.Call)
        assert isinstance(node.func, cst.Call)
        given = keywords(node)
        args = [cst.Arg(cst.Name(task)), *(cst.Arg(given[name]) for name in order)]
        if concurrency:
            args.append(cst.Arg(keywords(node.func)["concurrency"], keyword=cst.Name("concurrency"), equal=no_space))
        args.append(cst.Arg(cst.Name("False"), keyword=cst.Name("return_exceptions"), equal=no_space))
        mapped = cst.Call(cst.Attribute(value=flyte, attr=cst.Name("map")), args)
        return cst.Call(cst.Name("list"), [cst.Arg(mapped)], lpar=node.lpar, rpar=node.rpar)

    return build


def awaiting(function: cst.FunctionDef, names: frozenset[str]) -> cst.FunctionDef:
    """`function` (an `@eager` body) with each call `t(...)` of a name in `names` as
    `(await t.aio(...))`, without the parentheses where a statement holds it whole."""

    class _Aio(cst.CSTTransformer):
        def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:  # noqa: N802 - libcst's name
            if isinstance(updated.func, cst.Name) and updated.func.value in names:
                call = updated.with_changes(func=cst.Attribute(value=updated.func, attr=cst.Name("aio")))
                return cst.Await(expression=call, lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
            return updated

        def _bare(self, value: cst.BaseExpression | None) -> cst.BaseExpression | None:
            if isinstance(value, cst.Await) and value.lpar:
                return value.with_changes(lpar=(), rpar=())
            return value

        def leave_Assign(self, original: cst.Assign, updated: cst.Assign) -> cst.Assign:  # noqa: N802 - libcst's name
            value = self._bare(updated.value)
            assert value is not None
            return updated.with_changes(value=value)

        def leave_Return(self, original: cst.Return, updated: cst.Return) -> cst.Return:  # noqa: N802 - libcst's name
            return updated.with_changes(value=self._bare(updated.value))

        def leave_Expr(self, original: cst.Expr, updated: cst.Expr) -> cst.Expr:  # noqa: N802 - libcst's name
            value = self._bare(updated.value)
            assert value is not None
            return updated.with_changes(value=value)

    out = function.visit(_Aio())
    assert isinstance(out, cst.FunctionDef)
    return out
