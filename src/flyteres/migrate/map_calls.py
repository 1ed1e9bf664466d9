"""`map_task(f)(...)` in a workflow or `@dynamic` that becomes a Flyte 2 driver task: `flyte.map(...)`.

Read from both SDKs' sources: flytekit's `map_task(f, concurrency=None,
min_success_ratio=1.0)` returns a task called with one list per input of `f`
(by keyword); the node fails when any item fails (the default ratio) and
returns the outputs in input order. flyte's `flyte.map(func, *args,
group_name=None, concurrency=0, return_exceptions=True)` zips its positional
iterables in the order of `func`'s parameters and yields the results in
order; with `return_exceptions=False` the first failure raises, so

    map_task(f, concurrency=N)(x=xs, y=ys)

becomes

    list(flyte.map(f, xs, ys, concurrency=N, return_exceptions=False))

A `concurrency` left out (flytekit: the execution's parallelism decides) stays
out (Flyte 2 then runs every item at once; it has no per-execution limit to
inherit). A name bound once in the driver to `functools.partial(task, k=v,
...)` is mapped as it is when it leaves exactly one parameter, the task's
first: flyte.map accepts only such a partial and passes the item by
position. Anything else has no exact form and blocks: a `min_success_ratio`
below 1 (flytekit gives None for a failed item where flyte.map yields the
exception), any other partial or callable, other
`map_task` arguments, positional or `**` inputs, a method called on the
map's result (`.with_overrides(...)`, which overrides the map's node where
flyte.map's result is its outputs), and a task whose parameter
order this module does not show (one of another module, or one with inputs
left to their defaults): flyte.map passes even a single input positionally.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from flyteres.source.names import ModuleNames
from flyteres.source.values import NOT_LITERAL, literal

__all__ = ["MapRewrite", "map_calls"]


@dataclass(frozen=True)
class MapRewrite:
    """One `map_task(f)(...)` call: `call` is the outer call, `inner` the `map_task(...)` part;
    `new` is its Flyte 2 source, or None with `reason` when it has none. When there is one,
    `task` is the mapped name, `order` the keywords of `call` in the order flyte.map takes
    them, and `concurrency` whether `inner`'s `concurrency=` is carried over."""

    call: ast.Call
    inner: ast.Call
    new: str | None
    reason: str = ""
    task: str = ""
    order: tuple[str, ...] = ()
    concurrency: bool = False


def _why(reason: str) -> tuple[str]:
    return (reason,)


def map_calls(
    function: ast.AST,
    names: ModuleNames,
    *,
    flyte: str,
    code: Callable[[ast.expr], str],
    parameters: Mapping[str, Sequence[str]],
) -> list[MapRewrite]:
    """Every `map_task(f)(...)` call in `function`, with its `flyte.map` form or why it has none.
    `parameters` holds the parameter names of the module's own tasks, in order."""
    outer_of = {
        id(node.func): node
        for node in ast.walk(function)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Call)
    }
    # `map_task(f)(...).with_overrides(...)`: the attribute read on each call's result.
    attribute_of = {id(node.value): node.attr for node in ast.walk(function) if isinstance(node, ast.Attribute)}
    out: list[MapRewrite] = []
    for node in ast.walk(function):
        if not isinstance(node, ast.Call) or names.canonical(node.func) != "map_task":
            continue
        outer = outer_of.get(id(node))
        if outer is None:
            continue  # `m = map_task(f)` then `m(...)`: reported as a flytekit name
        attribute = attribute_of.get(id(outer))
        if attribute is not None:
            out.append(MapRewrite(outer, node, None, _on_result(attribute)))
            continue
        new = _rewrite(
            node, outer, names, flyte=flyte, code=code, parameters=_with_partials(function, names, parameters)
        )
        if isinstance(new, tuple):
            out.append(MapRewrite(outer, node, None, new[0]))
        else:
            out.append(new)
    return sorted(out, key=lambda m: (m.call.lineno, m.call.col_offset))


def _on_result(attribute: str) -> str:
    if attribute == "with_overrides":
        return (
            "map_task(...)(...).with_overrides(...) overrides the map's node; flyte.map returns the outputs, which "
            "have no with_overrides (Flyte 2 writes flyte.map(task.override(...), ...), by hand)"
        )
    return f"map_task(...)(...).{attribute}: flyte.map returns the outputs, which have no .{attribute}"


def _with_partials(
    function: ast.AST, names: ModuleNames, parameters: Mapping[str, Sequence[str]]
) -> Mapping[str, Sequence[str]]:
    """`parameters` plus, for each name the function binds once to `functools.partial(task,
    k=v, ...)`, the one parameter it leaves: flyte.map maps a partial that leaves exactly one,
    the task's first (`_Mapper.validate_partial`), which is then passed by position."""
    assigned: dict[str, list[ast.expr]] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assigned.setdefault(target.id, []).append(node.value)
        elif isinstance(node, ast.AnnAssign | ast.AugAssign | ast.NamedExpr) and isinstance(node.target, ast.Name):
            assigned.setdefault(node.target.id, []).append(ast.Constant(None))  # bound otherwise: not read
    out = dict(parameters)
    for name, values in assigned.items():
        if name in parameters or len(values) != 1:
            continue
        value = values[0]
        if not isinstance(value, ast.Call) or names.qualified(value.func) != "functools.partial":
            continue
        if (
            len(value.args) != 1
            or not isinstance(value.args[0], ast.Name)
            or any(k.arg is None for k in value.keywords)
        ):
            continue
        params = parameters.get(value.args[0].id)
        bound = {k.arg for k in value.keywords}
        if params and bound <= set(params[1:]) and len(params) - len(bound) == 1:
            out[name] = params[:1]
    return out


def _rewrite(
    inner: ast.Call,
    outer: ast.Call,
    names: ModuleNames,
    *,
    flyte: str,
    code: Callable[[ast.expr], str],
    parameters: Mapping[str, Sequence[str]],
) -> MapRewrite | tuple[str]:
    """The rewrite to `flyte.map`, or a 1-tuple holding why there is none."""
    task = inner.args[0] if len(inner.args) == 1 else None
    if not isinstance(task, ast.Name):  # a task of this module, or one imported (`from .tasks import f`)
        return _why("map_task over something other than a task name (a partial, a call) has no exact form here")
    options: list[str] = []
    for kw in inner.keywords:
        value = literal(kw.value) if kw.arg is not None else NOT_LITERAL
        if kw.arg == "concurrency" and (value is None or (type(value) is int and value >= 0)):
            if value is not None:
                options.append(f"concurrency={code(kw.value)}")
        elif kw.arg == "min_success_ratio" and type(value) in (int, float) and value == 1:
            pass  # the default: every item must succeed, as return_exceptions=False
        elif kw.arg == "min_success_ratio":
            return _why(
                "map_task(min_success_ratio=...) below 1 gives None for a failed item; flyte.map yields the "
                "exception instead"
            )
        else:
            what = f"{kw.arg}=" if kw.arg is not None else "**"
            return _why(f"map_task({what}...) has no flyte.map equivalent this codemod knows")
    if outer.args or any(kw.arg is None for kw in outer.keywords) or not outer.keywords:
        return _why("the mapped inputs are not all given by keyword")
    given = {kw.arg: kw.value for kw in outer.keywords if kw.arg is not None}
    # Even one input needs the order: flyte.map passes it as the first parameter.
    known = parameters.get(task.id)
    if known is None or set(known) != set(given):
        return _why(
            f"flyte.map zips its inputs by position, and {task.id}'s parameter order is not known here "
            "(a task of another module, inputs with defaults left out, or a partial that leaves more than "
            "one parameter or not the first: flyte.map maps a partial leaving exactly the first)"
        )
    order = tuple(known)
    args = [task.id, *(code(given[name]) for name in order), *options, "return_exceptions=False"]
    new = f"list({flyte}.map({', '.join(args)}))"
    return MapRewrite(outer, inner, new, task=task.id, order=order, concurrency=bool(options))
