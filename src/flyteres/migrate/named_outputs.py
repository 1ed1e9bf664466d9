"""A driver's reads of a task's named outputs (`t(...).field`), in Flyte 2's form.

In a flytekit workflow, a task declared `-> NamedTuple("Out", [("a", float), ...])`
gives a promise whose outputs are read by name: `x = t(...)`, then `x.a`. A
Flyte 2 run (local or remote) hands a driver the task's outputs as literals turn
them back into Python values: the one value itself when the NamedTuple has one
field, a plain `tuple` when it has several (checked with flyte 2.12's
`flyte.run`), so `x.a` fails. Reading by position is the same in both: `x` for the
only field, `x[i]` for field `i`.

`named_reads` finds those reads in a driver-to-be and says how each changes, or
why the function cannot move: a read of a task whose output type cannot be read
here (another module's task, an annotation that is not a module-level
NamedTuple or a known other type), or of a name bound more than once.
`read_by_position` rewrites one of them in the driver's libcst tree.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping

import libcst as cst

from flyteres.migrate.driver_bodies import bound_once, without_overrides
from flyteres.source.names import ModuleNames

__all__ = ["named_reads", "namedtuple_fields", "read_by_position"]

_NAMEDTUPLE = ("typing.NamedTuple", "typing_extensions.NamedTuple", "collections.namedtuple")


def _fields_of_call(call: ast.Call) -> tuple[str, ...] | None:
    """`NamedTuple("X", [("a", T), ...])`, `NamedTuple("X", a=T)` or `namedtuple("X", ["a", ...])`."""
    if call.keywords and len(call.args) == 1:
        names = [k.arg for k in call.keywords]
        return None if None in names else tuple(n for n in names if n is not None)
    if len(call.args) != 2 or call.keywords:
        return None
    items = call.args[1]
    if not isinstance(items, ast.List | ast.Tuple):
        return None
    out = []
    for item in items.elts:
        name = item.elts[0] if isinstance(item, ast.Tuple) and item.elts else item
        if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
            return None
        out.append(name.value)
    return tuple(out)


def namedtuple_fields(tree: ast.Module, names: ModuleNames) -> tuple[dict[str, tuple[str, ...] | None], frozenset[str]]:
    """Each module-level NamedTuple type by name with its fields in order (None: they cannot be
    read), and the module's other top-level classes."""
    out: dict[str, tuple[str, ...] | None] = {}
    records: set[str] = set()
    for stmt in tree.body:
        if isinstance(stmt, ast.ClassDef) and any(names.qualified(b) in _NAMEDTUPLE for b in stmt.bases):
            fields = [s.target.id for s in stmt.body if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)]
            out[stmt.name] = tuple(fields)
        elif isinstance(stmt, ast.ClassDef):
            records.add(stmt.name)
        elif (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
            and isinstance(stmt.value, ast.Call)
            and names.qualified(stmt.value.func) in _NAMEDTUPLE
        ):
            out[stmt.targets[0].id] = _fields_of_call(stmt.value)
    return out, frozenset(records - set(out))


def named_reads(
    function: ast.FunctionDef | ast.AsyncFunctionDef,
    *,
    returns: Mapping[str, ast.expr | None],
    types: Mapping[str, tuple[str, ...] | None],
    records: frozenset[str],
    names: ModuleNames,
) -> list[tuple[ast.Attribute, int | None]] | str:
    """The attribute reads of task outputs in `function` whose form changes, in source order,
    each with None for `x.a` -> `x` (one field) or `i` for `x.a` -> `x[i]`; or why the
    function cannot move. A name read this way is bound once.

    `returns` maps each task the module defines to its return annotation; `types` is
    `namedtuple_fields` of the module, `records` its other module-level classes (a
    dataclass output keeps its attributes in both SDKs). A read of any other output, or
    of an imported name's result, cannot be told apart from a named output here."""
    stores, values = bound_once(function)
    methods = {id(n.func) for n in ast.walk(function) if isinstance(n, ast.Call)}
    out: list[tuple[ast.Attribute, int | None]] = []
    for node in ast.walk(function):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "getattr"
            and "getattr" not in names.bindings
            and node.args
            and _task_call(_unaliased(node.args[0], values), returns, names) is not None
        ):
            return (
                f"getattr(...) reads a task's outputs by name (line {node.lineno}), and a Flyte 2 run hands a "
                "NamedTuple output over as a value or a tuple"
            )
        if not isinstance(node, ast.Attribute) or not isinstance(node.ctx, ast.Load) or id(node) in methods:
            continue  # `t(...).with_overrides(...)` and other methods are not outputs
        source: ast.expr | None = node.value
        seen: set[str] = set()
        while isinstance(source, ast.Name) and source.id in values and source.id not in seen:
            # `y = x` hands `y` the same outputs as `x`: follow the chain of plain names
            seen.add(source.id)
            if stores[source.id] != 1:
                if _task_call(_unaliased(values[source.id], values), returns, names) is None:
                    source = None
                    break
                return f"{source.id} holds a task's outputs and is bound more than once (line {node.lineno})"
            source = values[source.id]
        if source is None or isinstance(source, ast.Name):
            continue
        called = _task_call(source, returns, names)
        if called is None:
            continue
        name, annotation = called
        if name not in returns:
            return (
                f"{name}(...).{node.attr} (line {node.lineno}) reads an output of a task of another module by "
                "name; whether Flyte 2 hands it over as a NamedTuple cannot be told here"
            )
        if isinstance(annotation, ast.Name) and annotation.id in records:
            continue  # a dataclass keeps its attributes
        fields = types.get(annotation.id) if isinstance(annotation, ast.Name) else None
        if fields is None or node.attr not in fields:
            return (
                f"{name}(...).{node.attr} (line {node.lineno}) reads an output by name, and its type is not "
                "a NamedTuple or a class of this module whose fields can be read here"
            )
        out.append((node, None if len(fields) == 1 else fields.index(node.attr)))
    return sorted(out, key=lambda r: (r[0].lineno, r[0].col_offset))


def _unaliased(node: ast.expr, values: Mapping[str, ast.expr]) -> ast.expr:
    """The value a chain of plain-name assignments (`y = x`, `x = t(...)`) starts from."""
    seen: set[str] = set()
    while isinstance(node, ast.Name) and node.id in values and node.id not in seen:
        seen.add(node.id)
        node = values[node.id]
    return node


def _task_call(
    node: ast.expr, returns: Mapping[str, ast.expr | None], names: ModuleNames
) -> tuple[str, ast.expr | None] | None:
    """(the callee, its return annotation) when `node` calls a task of the module or an imported name,
    through `.with_overrides(...)` too (an override changes how it runs, not its outputs)."""
    node = without_overrides(node)
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        return None
    name = node.func.id
    if name in returns:
        return name, returns[name]
    if name in names.imports:
        return name, None
    return None


def read_by_position(index: int | None) -> Callable[[cst.CSTNode], cst.CSTNode]:
    """A builder turning a libcst read `x.a` into `x` (`index` None: the only field) or
    `x[index]`; it works on the node, so a read written over several lines, or holding
    another edit, changes the same."""

    def build(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, cst.Attribute)
        if index is None:
            value = node.value
            return value.with_changes(lpar=[*node.lpar, *value.lpar], rpar=[*value.rpar, *node.rpar])
        position = cst.SubscriptElement(cst.Index(cst.Integer(str(index))))
        return cst.Subscript(value=node.value, slice=[position], lpar=node.lpar, rpar=node.rpar)

    return build
