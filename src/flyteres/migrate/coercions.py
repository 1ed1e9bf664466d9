"""An int given where a task takes a float, written as the float flytekit made of it.

flytekit binds an int to a `float` input (the literal becomes its float value);
Flyte 2 refuses it ("Type conversion failed ... Expected float"), in a local run
and a remote one alike. So in a driver-to-be, each keyword argument of a call of
one of the module's tasks whose parameter is annotated `float`, and whose value
is known to be an int, becomes `float(value)`: a parameter of the driver annotated
`int`, a name the driver binds once (`x = ...` or `x: T = ...`) to a call of a task of the
module returning `int`, or such a call itself. A value whose type cannot be told
here is left as written; so is an int literal, which flytekit refuses to bind to a
float input.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping

import libcst as cst

from flyteres.migrate.driver_bodies import bound_once

__all__ = ["as_float", "int_for_float"]


def _is(annotation: ast.expr | None, name: str) -> bool:
    return isinstance(annotation, ast.Name) and annotation.id == name


def int_for_float(
    function: ast.FunctionDef | ast.AsyncFunctionDef,
    *,
    parameters: Mapping[str, Mapping[str, ast.expr | None]],
    returns: Mapping[str, ast.expr | None],
) -> list[ast.expr]:
    """The argument values in `function` that are ints given to a task's `float` parameter.

    `parameters` maps each task of the module to its parameters' annotations, `returns` to
    its return annotation."""
    args = function.args
    ints = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs) if _is(a.annotation, "int")}
    stores, bound = bound_once(function)

    def is_int(value: ast.expr) -> bool:
        # An int literal is not here: flytekit refuses to bind it to a float input.
        if isinstance(value, ast.Name) and stores[value.id] == 1:
            if value.id in ints:
                return True
            value = bound.get(value.id, value)
        return (
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Name)
            and value.func.id in returns
            and _is(returns[value.func.id], "int")
        )

    out: list[ast.expr] = []
    for node in ast.walk(function):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in parameters):
            continue
        taken = parameters[node.func.id]
        out.extend(
            kw.value
            for kw in node.keywords
            if kw.arg is not None and _is(taken.get(kw.arg), "float") and is_int(kw.value)
        )
    return out


def as_float() -> Callable[[cst.CSTNode], cst.CSTNode]:
    """A builder writing a libcst expression `x` as `float(x)`."""

    def build(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, cst.BaseExpression)
        return cst.Call(func=cst.Name("float"), args=[cst.Arg(node.with_changes(lpar=[], rpar=[]))])

    return build
