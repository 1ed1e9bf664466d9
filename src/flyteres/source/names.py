"""The SDKs' names and a module's own: imports, aliases, module-level bindings and local scopes.

A declaration is recognised through the module's imports (`from flytekit
import Resources as R`, `import flytekit.extras.accelerators as acc`,
`from union import task`, `import flyte as fl`, `from flyte import
TaskEnvironment`) and never by importing anything: `canonical` maps a
qualified name to flytekit's public name and `flyte_canonical` to flyte's;
`ModuleNames` reads the imports and every module-level binding (each with the
top-level statement it belongs to and whether a branch chooses it at import
time) from the module's statements alone; `bound_in` lists the names a
function or class body binds (they shadow module constants).

Top-level statements are numbered the way a concrete syntax tree numbers them:
one number per logical line, so `x = 1; y = 2` is one statement (the codemod
inserts new statements by that number).
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Container, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import cast

from flyteres import accelerators

__all__ = [
    "FLYTE_POSITIONAL_FIELDS",
    "POSITIONAL_FIELDS",
    "RESOURCE_ARGUMENTS",
    "Binding",
    "Local",
    "LocalNames",
    "ModuleNames",
    "bound_in",
    "canonical",
    "dotted_name",
    "flyte_canonical",
    "function_locals",
    "top_groups",
]

#: Keyword arguments that carry resources on flytekit's task and override APIs.
RESOURCE_ARGUMENTS = ("requests", "limits", "resources", "accelerator", "shared_memory")
#: flytekit's Resources fields in positional order.
POSITIONAL_FIELDS = ("cpu", "mem", "gpu", "ephemeral_storage")
#: flyte's Resources fields in positional order (the dataclass's field order).
FLYTE_POSITIONAL_FIELDS = ("cpu", "memory", "gpu", "disk", "shm")


def canonical(qualified: str | None) -> str | None:
    """flytekit's public name for a qualified name, or None when it is not flytekit's.

    `union` re-exports flytekit's task API (`union.Resources`, `union.task`).

    >>> canonical("flytekit.core.resources.Resources"), canonical("union.task"), canonical("flyte.Resources")
    ('Resources', 'task', None)
    """
    if qualified is None:
        return None
    head, _, rest = qualified.partition(".")
    if head not in ("flytekit", "union", "unionai"):
        return None
    if head == "flytekit" and (rest == "extras.accelerators" or rest.startswith("extras.accelerators.")):
        return "accelerators" + rest[len("extras.accelerators") :]
    return _KNOWN.get(rest)


_KNOWN = {
    "Resources": "Resources",
    "core.resources.Resources": "Resources",
    "task": "task",
    "core.task.task": "task",
    "dynamic": "dynamic",
    "core.dynamic_workflow_task.dynamic": "dynamic",
    "eager": "eager",
    "core.task.eager": "eager",
    "experimental.eager": "eager",
    "ContainerTask": "ContainerTask",
    "core.container_task.ContainerTask": "ContainerTask",
    "map_task": "map_task",
    "core.array_node_map_task.map_task": "map_task",
    "experimental.map_task": "map_task",
    "workflow": "workflow",
    "core.workflow.workflow": "workflow",
    "PodTemplate": "PodTemplate",
    "core.pod_template.PodTemplate": "PodTemplate",
}
# What `from flytekit import *` (or the accelerators module's *) makes available.
_STAR_NAMES = {
    "flytekit": {"Resources", "task", "dynamic", "eager", "ContainerTask", "map_task"},
    "flytekit.extras.accelerators": {
        *(e.flytekit_constant for e in accelerators.catalog() if e.flytekit_constant),
        "GPUAccelerator",
    },
    "flyte": {
        "Resources",
        "TaskEnvironment",
        "GPU",
        "TPU",
        "Device",
        "Neuron",
        "AMD_GPU",
        "HABANA_GAUDI",
        "APPLE_SILICON",
        "PodTemplate",
    },
}

# flyte's public names for resources, by where `flyte/__init__.py` imports them from.
_FLYTE_KNOWN = {
    "Resources": "Resources",
    "_resources.Resources": "Resources",
    "TaskEnvironment": "TaskEnvironment",
    "_task_environment.TaskEnvironment": "TaskEnvironment",
    "PodTemplate": "PodTemplate",
    "_pod.PodTemplate": "PodTemplate",
    "extras.ContainerTask": "ContainerTask",
    "extras._container.ContainerTask": "ContainerTask",
    "map": "map",
    "_map.map": "map",
    **{
        f"{prefix}{helper}": helper
        for helper in ("GPU", "TPU", "Device", "Neuron", "AMD_GPU", "HABANA_GAUDI", "APPLE_SILICON")
        for prefix in ("", "_resources.")
    },
}


def flyte_canonical(qualified: str | None) -> str | None:
    """flyte's (Flyte 2's) public name for a qualified name, or None when it is not flyte's.

    >>> flyte_canonical("flyte.TaskEnvironment"), flyte_canonical("flyte._resources.GPU")
    ('TaskEnvironment', 'GPU')
    >>> flyte_canonical("flytekit.task") is None
    True
    """
    if qualified is None:
        return None
    head, _, rest = qualified.partition(".")
    if head != "flyte":
        return None
    return _FLYTE_KNOWN.get(rest)


@dataclass
class Binding:
    """One module-level binding of a name: the expression assigned (when it is a plain
    assignment), the top-level statement it belongs to, and whether a branch
    (`if`, `try`, `match`) chooses it at import time."""

    value: ast.expr | None  # None: bound by an import, def, loop, unpacking...
    top: int
    conditional: bool
    line: int = 0


def dotted_name(node: ast.AST) -> str | None:
    """`a.b.c` for a name or an attribute chain of names; None for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted_name(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def top_groups(body: Sequence[ast.stmt]) -> list[int]:
    """The number of each top-level statement, one per logical line (`a = 1; b = 2` share one)."""
    out: list[int] = []
    top = -1
    previous: ast.stmt | None = None
    for stmt in body:
        joined = (
            previous is not None
            and stmt.lineno == previous.end_lineno
            and not isinstance(stmt, _COMPOUND)
            and not isinstance(previous, _COMPOUND)
        )
        if not joined:
            top += 1
        out.append(top)
        previous = stmt
    return out


_TRY_STAR: tuple[type[ast.stmt], ...] = (ast.TryStar,) if hasattr(ast, "TryStar") else ()  # Python 3.11+
_COMPOUND: tuple[type[ast.stmt], ...] = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.If,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.With,
    ast.AsyncWith,
    ast.Try,
    ast.Match,
    *_TRY_STAR,
)
_BRANCHES: tuple[type[ast.stmt], ...] = (ast.If, ast.Try, ast.Match, *_TRY_STAR)


class ModuleNames:
    """Imports and module-level bindings, from the module's statements only."""

    def __init__(self, tree: ast.Module) -> None:
        self.imports: dict[str, str] = {}
        self.star: set[str] = set()
        self.bindings: dict[str, list[Binding]] = {}
        self.exported: set[str] = set()
        self.tops = top_groups(tree.body)
        for top, stmt in zip(self.tops, tree.body, strict=True):
            self._statement(stmt, top, conditional=False, loop=False)

    def _bind(self, name: str, value: ast.expr | None, top: int, conditional: bool, line: int) -> None:
        self.bindings.setdefault(name, []).append(Binding(value, top, conditional, line))

    def _targets(self, target: ast.AST, top: int, conditional: bool) -> None:
        for name in names_in(target):
            self._bind(name.id, None, top, conditional, name.lineno)

    def _statement(self, stmt: ast.stmt, top: int, *, conditional: bool, loop: bool) -> None:
        match stmt:
            case ast.FunctionDef() | ast.AsyncFunctionDef() | ast.ClassDef():
                self._bind(stmt.name, None, top, conditional, stmt.lineno)
                return
            case ast.For() | ast.AsyncFor():
                self._targets(stmt.target, top, conditional)
                self._blocks((stmt.body, stmt.orelse), top, conditional, loop=True)
                return
            case ast.While():
                self._blocks((stmt.body, stmt.orelse), top, conditional, loop=True)
                return
            case ast.With() | ast.AsyncWith():
                for item in stmt.items:
                    if item.optional_vars is not None:
                        self._targets(item.optional_vars, top, conditional)
                self._blocks((stmt.body,), top, conditional, loop=loop)
                return
            case ast.If():
                self._blocks((stmt.body, stmt.orelse), top, True, loop=loop)
                return
            case ast.Match():
                self._blocks([case.body for case in stmt.cases], top, True, loop=loop)
                return
        if isinstance(stmt, _BRANCHES):  # try / try*
            blocks = [stmt.body, *(h.body for h in stmt.handlers), stmt.orelse, stmt.finalbody]  # type: ignore[attr-defined]
            self._blocks(blocks, top, True, loop=loop)
            return
        self._simple(stmt, top, conditional=conditional, loop=loop)

    def _blocks(self, blocks: Iterable[Sequence[ast.stmt]], top: int, conditional: bool, *, loop: bool) -> None:
        for block in blocks:
            for inner in block:
                self._statement(inner, top, conditional=conditional, loop=loop)

    def _simple(self, stmt: ast.stmt, top: int, *, conditional: bool, loop: bool) -> None:
        match stmt:
            case ast.Import():
                for alias in stmt.names:
                    if alias.asname is not None:
                        local = alias.asname
                        self.imports[local] = alias.name
                    else:
                        local = alias.name.partition(".")[0]
                        self.imports[local] = local
                    self._bind(local, None, top, conditional, stmt.lineno)
            case ast.ImportFrom():
                # A relative import keeps its leading dots (`.etl.extract`): never an SDK's,
                # but the codemod resolves it against the other modules of a run.
                dots = "." * stmt.level
                module = dots + (stmt.module or "")
                if stmt.names and stmt.names[0].name == "*":
                    if not dots:
                        self.star.add(module)
                    return
                for alias in stmt.names:
                    local = alias.asname or alias.name
                    self.imports[local] = f"{module}{'' if module.endswith('.') else '.'}{alias.name}"
                    self._bind(local, None, top, conditional, stmt.lineno)
            case ast.Assign():
                for t in stmt.targets:
                    if isinstance(t, ast.Name) and not loop:
                        self._bind(t.id, stmt.value, top, conditional, t.lineno)
                        if t.id == "__all__":
                            self.exported |= _strings(stmt.value)
                    else:
                        self._targets(t, top, conditional)
            case ast.AnnAssign(value=value) if value is not None:
                if isinstance(stmt.target, ast.Name) and not loop:
                    self._bind(stmt.target.id, value, top, conditional, stmt.target.lineno)
                else:
                    self._targets(stmt.target, top, conditional)
            case ast.AugAssign():
                self._targets(stmt.target, top, conditional)
                if isinstance(stmt.target, ast.Name) and stmt.target.id == "__all__":
                    self.exported |= _strings(stmt.value)
            case ast.Delete():
                for t in stmt.targets:
                    self._targets(t, top, conditional)

    def qualified(self, node: ast.AST) -> str | None:
        """The dotted name an expression refers to through the imports, if any."""
        if isinstance(node, ast.Name):
            if node.id in self.imports:
                return self.imports[node.id]
            for module in sorted(self.star):
                if node.id in _STAR_NAMES.get(module, ()) and node.id not in self.bindings:
                    return f"{module}.{node.id}"
            return None
        if isinstance(node, ast.Attribute):
            base = self.qualified(node.value)
            return None if base is None else f"{base}.{node.attr}"
        return None

    def canonical(self, node: ast.AST) -> str | None:
        """flytekit's public name for what an expression refers to, if it is flytekit's."""
        return canonical(self.qualified(node))

    def flyte(self, node: ast.AST) -> str | None:
        """flyte's public name for what an expression refers to, if it is flyte's."""
        return flyte_canonical(self.qualified(node))

    def sdk_imported(self) -> tuple[bool, bool]:
        """Whether the module imports flytekit (or union) and whether it imports flyte."""
        roots = {q.lstrip(".").partition(".")[0] for q in self.imports.values() if not q.startswith(".")}
        roots |= {m.partition(".")[0] for m in self.star}
        return bool(roots & {"flytekit", "union", "unionai"}), "flyte" in roots


def _strings(node: ast.expr) -> set[str]:
    out: set[str] = set()
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        for el in node.elts:
            if isinstance(el, ast.Constant) and isinstance(el.value, str):
                out.add(el.value)
    return out


def names_in(node: ast.AST) -> Iterator[ast.Name]:
    """The names an assignment target binds (`a`, `a, b`, `[a, *b]`; not `a.b` or `a[0]`)."""
    if isinstance(node, ast.Name):
        yield node
    elif isinstance(node, (ast.Tuple, ast.List)):
        for el in node.elts:
            yield from names_in(el)
    elif isinstance(node, ast.Starred):
        yield from names_in(node.value)


Scope = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda
#: The names bound around an expression: anything that answers `name in local`.
Local = Container[str]
_NO_NAMES: frozenset[str] = frozenset()


class LocalNames:
    """Names bound in enclosing functions and classes (they shadow module constants), each
    scope read once. A callable object rather than a method of the module's model, so the
    finders that hold it form no reference cycle with the model (whose syntax tree would then
    wait for the garbage collector instead of going when the model does)."""

    def __init__(self) -> None:
        self._cache: dict[int, frozenset[str]] = {}

    def __call__(self, scopes: Sequence[ast.AST]) -> Local:
        """The names, read when first asked about: most declarations never read a name."""
        return _LazyLocal(self, scopes) if scopes else _NO_NAMES

    def names(self, scopes: Sequence[ast.AST]) -> frozenset[str]:
        """The names bound in `scopes`, read now."""
        out: set[str] = set()
        for scope in scopes:
            cached = self._cache.get(id(scope))
            if cached is None:
                assert isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda))
                cached = self._cache[id(scope)] = bound_in(scope)
            out |= cached
        return frozenset(out)


class _LazyLocal:
    __slots__ = ("_names", "_owner", "_scopes")

    def __init__(self, owner: LocalNames, scopes: Sequence[ast.AST]) -> None:
        self._owner = owner
        self._scopes = scopes
        self._names: frozenset[str] | None = None

    def __contains__(self, name: object) -> bool:
        if self._names is None:
            self._names = self._owner.names(self._scopes)
        return name in self._names


def bound_in(scope: Scope) -> frozenset[str]:
    """Every name a function or class body binds (a cheap, conservative superset):
    parameters, assignment and loop targets, `with ... as`, imports, nested defs and
    classes, `global`/`nonlocal` names. Nested functions and lambdas are not entered."""
    out: set[str] = set()
    if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        a = scope.args
        for p in (*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg):
            if p is not None:
                out.add(p.arg)
    stack: list[object] = [scope.body] if isinstance(scope, ast.Lambda) else list(scope.body)
    pop, push, extend, fields = stack.pop, stack.append, stack.extend, _CHILD_FIELDS
    while stack:
        node = pop()
        kind = type(node)
        names = fields.get(kind)
        if names is None:
            if not isinstance(node, ast.AST):
                continue  # None, a string or a number in a node's field or list
            names = fields[kind] = tuple(f for f in node._fields if f != "ctx")
        # Most nodes bind nothing: only their children are looked at.
        if kind in _BINDERS and _binds(cast(ast.AST, node), out):
            continue
        for name in names:
            value = getattr(node, name, None)
            if type(value) is list:
                extend(value)
            elif value is not None:
                push(value)
    return frozenset(out)


def _binds(node: ast.AST, out: set[str]) -> bool:
    """Add the names `node` binds to `out`; True when what is inside it binds nothing here
    (a nested scope, an import, `global`)."""
    match node:
        case ast.FunctionDef() | ast.AsyncFunctionDef() | ast.ClassDef():
            out.add(node.name)
            return True
        case ast.Lambda():
            return True
        case ast.Assign():
            for t in node.targets:
                out.update(n.id for n in names_in(t))
        case ast.AugAssign() | ast.AnnAssign() | ast.For() | ast.AsyncFor() | ast.comprehension():
            out.update(n.id for n in names_in(node.target))
        case ast.NamedExpr():
            out.add(node.target.id)
        case ast.withitem(optional_vars=target) if target is not None:
            out.update(n.id for n in names_in(target))
        case ast.Import() | ast.ImportFrom():
            for alias in node.names:
                if alias.name == "*":
                    continue
                if alias.asname is not None:
                    out.add(alias.asname)
                elif isinstance(node, ast.Import):
                    out.add(alias.name.partition(".")[0])
                else:
                    out.add(alias.name)
            return True
        case ast.Global() | ast.Nonlocal():
            out.update(node.names)
            return True
    return False


# The node types `bound_in` reads names from; it only walks through the others.
_BINDERS: frozenset[type] = frozenset(
    {
        ast.FunctionDef,
        ast.AsyncFunctionDef,
        ast.ClassDef,
        ast.Lambda,
        ast.Assign,
        ast.AugAssign,
        ast.AnnAssign,
        ast.For,
        ast.AsyncFor,
        ast.comprehension,
        ast.NamedExpr,
        ast.withitem,
        ast.Import,
        ast.ImportFrom,
        ast.Global,
        ast.Nonlocal,
    }
)
# Each node type's fields that may hold nodes; names and constants hold none.
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {ast.Name: (), ast.Constant: ()}


_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _own_bindings(function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> set[str]:
    """The names local to `function`: its parameters and what its own body binds (not what a
    nested function, class or comprehension binds), less those it declares global or nonlocal."""
    a = function.args
    names = {p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg) if p is not None}
    declared: set[str] = set()
    stack: list[ast.AST] = list(function.body) if isinstance(function.body, list) else [function.body]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            names.add(node.id)
        elif isinstance(node, ast.Global | ast.Nonlocal):
            declared.update(node.names)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
            continue  # its body is another scope
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((n.asname or n.name).partition(".")[0] for n in node.names if n.name != "*")
        elif isinstance(node, ast.ExceptHandler | ast.MatchAs | ast.MatchStar) and node.name:
            names.add(node.name)
        if isinstance(node, (ast.Lambda, *_COMPREHENSIONS)):
            continue  # another scope
        stack.extend(ast.iter_child_nodes(node))
    return names - declared


def function_locals(tree: ast.Module) -> list[ast.Name]:
    """Each name (read or written) that is a function's local, not the module's: a parameter or
    what the function's own body binds, in that function, the functions nested in it and
    comprehensions over it. A function's decorators, defaults and annotations belong to the
    scope it is defined in; a class body's names to the module's (which keeps to the safe side)."""
    out: list[ast.Name] = []

    def visit(node: ast.AST, local: frozenset[str]) -> None:
        for child in ast.iter_child_nodes(node):
            inner = local
            if isinstance(child, _FUNCTIONS):
                # Decorators, defaults and annotations are read where the function is defined.
                header = [*getattr(child, "decorator_list", ()), child.args, getattr(child, "returns", None)]
                for part in header:
                    if part is not None:
                        count(part, local)
                # A method does not see its class body's names.
                inner = (frozenset() if isinstance(node, ast.ClassDef) else local) | _own_bindings(child)
                for part in child.body if isinstance(child.body, list) else [child.body]:
                    count(part, inner)
                continue
            if isinstance(child, _COMPREHENSIONS):
                inner = local | {n.id for g in child.generators for n in ast.walk(g.target) if isinstance(n, ast.Name)}
            elif isinstance(child, ast.ClassDef):
                inner = frozenset()  # its body reads the module's names (or its own)
            elif isinstance(child, ast.Name) and child.id in local:
                out.append(child)
            visit(child, inner)

    def count(node: ast.AST, local: frozenset[str]) -> None:
        if isinstance(node, ast.Name) and node.id in local:
            out.append(node)
        visit(node, local)

    visit(tree, frozenset())
    return out


def name_uses(tree: ast.AST) -> Counter[str]:
    """How often each name appears as a name in the module (reads and writes), the way a
    concrete syntax tree counts them: `with ... as x` targets are not uses, a mapping
    pattern's `**rest` is."""
    out: Counter[str] = Counter()
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name):
            out[node.id] += 1
            continue
        if isinstance(node, ast.withitem):
            stack.append(node.context_expr)
            continue
        if isinstance(node, ast.MatchMapping) and node.rest is not None:
            out[node.rest] += 1
        elif isinstance(node, ast.MatchClass):
            out.update(node.kwd_attrs)
        stack.extend(ast.iter_child_nodes(node))
    return out
