"""Find flytekit resource declarations in source code and evaluate them statically.

The module is never imported. Names are resolved through its own imports
(`from flytekit import Resources as R`, `import flytekit.extras.accelerators
as acc`, ...) and module-level constants; anything that needs running code
(function arguments, calls, f-strings with names, `**kwargs`, imported
values) is reported with the reason instead of guessed.

A constant chosen at import time (`MEM = "100Mi" if os.getenv("X") else
"30Gi"`, or assigned in the branches of a module-level `if`) is evaluated to
every value it can take, so the codemod can check that all of them convert
the same way.

Speed matters (the codemod runs over whole repositories), so the tree is
walked with a small hand-written traversal instead of libcst's visitor
machinery, and line numbers come from the standard `ast` parse of the same
text instead of libcst's position metadata (each statement and each call is
matched by its order of appearance).
"""

from __future__ import annotations

import ast
import dataclasses
import io
import itertools
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import libcst as cst

from flyteres import accelerators
from flyteres._errors import FlyteresError, UnknownAcceleratorError
from flyteres.convert._shared import implied_device_class
from flyteres.convert.flytekit import from_flytekit
from flyteres.core.spec import AcceleratorSpec, ResourceSpec

__all__ = ["Declaration", "DeclarationKind", "SourceParseError", "find_declarations"]

#: Keyword arguments that carry resources on flytekit's task and override APIs.
RESOURCE_ARGUMENTS = ("requests", "limits", "resources", "accelerator", "shared_memory")
#: flytekit's Resources fields in positional order, then the removed one.
POSITIONAL_FIELDS = ("cpu", "mem", "gpu", "ephemeral_storage")
RESOURCES_FIELDS = (*POSITIONAL_FIELDS, "storage")

# The most values one declaration is evaluated for (each import-time choice
# multiplies them); beyond this the declaration is reported, not converted.
MAX_COMBINATIONS = 64
_MAX_DEPTH = 16
_CODE_SHOWN = 60


class SourceParseError(FlyteresError, ValueError):
    """The source does not parse (with libcst or with Python's own parser)."""

    def __init__(self, path: str, line: int | None, reason: str) -> None:
        self.path = path
        self.line = line
        self.reason = reason
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: cannot parse: {reason}")


class DeclarationKind(str, Enum):
    """What kind of construct declares the resources."""

    TASK = "task"
    DYNAMIC = "dynamic"
    EAGER = "eager"
    WITH_OVERRIDES = "with_overrides"
    MAP_TASK_OVERRIDES = "map_task_overrides"
    CONTAINER_TASK = "container_task"
    #: Anything else given flytekit Resources: NotebookTask, plugin replica
    #: configs, Union's ActorEnvironment, an unknown decorator...
    OTHER = "other"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Declaration:
    """One place in a module that declares flytekit resources.

    `spec` is what flytekit would put on the wire, evaluated statically, or
    None with `reason` saying why it cannot be known without running the
    module. `arguments` holds the resource arguments' source as written;
    `other_arguments` the rest of the call's arguments (positional ones under
    `"*0"`, `"*1"`, ...). For an override, `target` is the task it applies to.

    >>> [d.name for d in find_declarations("from flytekit import task, Resources\\n"
    ...     "@task(requests=Resources(cpu='1'))\\ndef f(): ...\\n")]
    ['f']
    """

    kind: DeclarationKind
    name: str
    line: int
    spec: ResourceSpec | None
    reason: str | None
    arguments: Mapping[str, str]
    other_arguments: Mapping[str, str]
    path: str = "<string>"
    target: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "name": self.name,
            "path": self.path,
            "line": self.line,
            "spec": None if self.spec is None else self.spec.to_dict(),
            "reason": self.reason,
            "arguments": dict(self.arguments),
            "other_arguments": dict(self.other_arguments),
            "target": self.target,
        }


# ---------------------------------------------------------------------------------------------
# Static values


@dataclass(frozen=True)
class RawDevice:
    """`GPUAccelerator("<device>")`: a device string as written."""

    device: str


@dataclass(eq=False)
class Leaf:
    """One expression of a declaration and the values it can take.

    `values` has one element for a constant, several for a value chosen at
    import time; `reason` is set (and `values` empty) when it is not static.
    `names` are the module constants the expression reads.
    """

    node: cst.BaseExpression | None
    text: str | Callable[[], str]  # the source, or how to get it (codegen is slow; most never need it)
    values: tuple[object, ...]
    reason: str | None = None
    names: frozenset[str] = frozenset()

    @property
    def code(self) -> str:
        if not isinstance(self.text, str):
            self.text = self.text()
        return self.text

    @property
    def static(self) -> bool:
        return self.reason is None

    @property
    def is_name(self) -> bool:
        return isinstance(self.node, cst.Name)


@dataclass(eq=False)
class FieldValue:
    """One `Resources(...)` field: a leaf, or a (request, limit) pair of leaves."""

    whole: Leaf
    parts: tuple[Leaf, Leaf] | None = None
    is_list: bool = False

    def leaves(self) -> tuple[Leaf, ...]:
        return self.parts if self.parts is not None else (self.whole,)


@dataclass(eq=False)
class ResourcesValue:
    """A `requests=`/`limits=`/`resources=` argument: a `Resources(...)` call,
    written inline or through a module constant (`through`)."""

    text: str | Callable[[], str]
    fields: dict[str, FieldValue] = field(default_factory=dict)
    callee: str | None = None
    through: str | None = None
    call: cst.Call | None = None
    reason: str | None = None

    @property
    def code(self) -> str:
        if not isinstance(self.text, str):
            self.text = self.text()
        return self.text

    def leaves(self) -> Iterator[Leaf]:
        for fv in self.fields.values():
            yield from fv.leaves()


Combo = Mapping[int, object]


def leaf_value(leaf: Leaf, combo: Combo) -> object:
    return combo.get(id(leaf), leaf.values[0])


def field_value(fv: FieldValue, combo: Combo) -> object:
    if fv.parts is None:
        return leaf_value(fv.whole, combo)
    pair = (leaf_value(fv.parts[0], combo), leaf_value(fv.parts[1], combo))
    return list(pair) if fv.is_list else pair


# What a static reader returns: the values an expression can take, or the reason
# it has none, and the module-level names it went through.
_Read = tuple[tuple[object, ...], str | None, set[str]]
_Reader = Callable[[cst.BaseExpression, frozenset[str], int], _Read]


def _dedupe(values: Sequence[object]) -> tuple[object, ...]:
    # 1, 1.0 and True compare equal in Python but mean different things here.
    seen: dict[tuple[str, str], object] = {}
    for v in values:
        seen.setdefault((type(v).__name__, repr(v)), v)
    return tuple(seen.values())


def _shorten(code: str) -> str:
    code = " ".join(code.split())
    return code if len(code) <= _CODE_SHOWN else code[: _CODE_SHOWN - 3] + "..."


# ---------------------------------------------------------------------------------------------
# Names: imports, module-level bindings


def canonical(qualified: str | None) -> str | None:
    """flytekit's public name for a qualified name, or None when it is not flytekit's.

    `union` re-exports flytekit's task API (`union.Resources`, `union.task`).
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
}
# What `from flytekit import *` (or the accelerators module's *) makes available.
_STAR_NAMES = {
    "flytekit": {"Resources", "task", "dynamic", "eager", "ContainerTask", "map_task"},
    "flytekit.extras.accelerators": {
        *(e.flytekit_constant for e in accelerators.catalog() if e.flytekit_constant),
        "GPUAccelerator",
    },
}


@dataclass
class _Binding:
    value: cst.BaseExpression | None  # None: bound by an import, def, loop, unpacking...
    top: int
    conditional: bool


def _dotted(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr.value}"
    return None


class _ModuleNames:
    """Imports and module-level bindings, from the module's statements only."""

    def __init__(self, module: cst.Module) -> None:
        self.imports: dict[str, str] = {}
        self.star: set[str] = set()
        self.bindings: dict[str, list[_Binding]] = {}
        self.exported: set[str] = set()
        for top, stmt in enumerate(module.body):
            self._statement(stmt, top, conditional=False, loop=False)

    def _bind(self, name: str, value: cst.BaseExpression | None, top: int, conditional: bool) -> None:
        self.bindings.setdefault(name, []).append(_Binding(value, top, conditional))

    def _targets(self, target: cst.BaseExpression, top: int, conditional: bool) -> None:
        if isinstance(target, cst.Name):
            self._bind(target.value, None, top, conditional)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for el in target.elements:
                self._targets(el.value, top, conditional)
        elif isinstance(target, cst.StarredElement):
            self._targets(target.value, top, conditional)

    def _statement(self, stmt: cst.CSTNode, top: int, *, conditional: bool, loop: bool) -> None:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                self._small(small, top, conditional=conditional, loop=loop)
            return
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            self._bind(stmt.name.value, None, top, conditional)
            return
        cond = conditional
        if isinstance(stmt, (cst.For, cst.While)):
            if isinstance(stmt, cst.For):
                self._targets(stmt.target, top, conditional)
            inner_loop = True
        else:
            inner_loop = loop
            if isinstance(stmt, (cst.If, cst.Try, cst.TryStar, cst.Match)):
                cond = True
            if isinstance(stmt, cst.With):
                for item in stmt.items:
                    if item.asname is not None:
                        self._targets(item.asname.name, top, conditional)
        for block in _blocks(stmt):
            for inner in block:
                self._statement(inner, top, conditional=cond, loop=inner_loop)

    def _small(self, small: cst.BaseSmallStatement, top: int, *, conditional: bool, loop: bool) -> None:
        if isinstance(small, cst.Import):
            for alias in small.names:
                dotted = _dotted(alias.name)
                if dotted is None:
                    continue
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    local = alias.asname.name.value
                    self.imports[local] = dotted
                else:
                    local = dotted.partition(".")[0]
                    self.imports[local] = local
                self._bind(local, None, top, conditional)
        elif isinstance(small, cst.ImportFrom):
            # A relative import keeps its leading dots (`.etl.extract`): never flytekit's,
            # but the codemod resolves it against the other modules of a run.
            dots = "." * len(small.relative)
            module = dots if small.module is None else _dotted(small.module)
            if module is None:
                return
            if small.module is not None and dots:
                module = dots + module
            if isinstance(small.names, cst.ImportStar):
                if not dots:
                    self.star.add(module)
                return
            for alias in small.names:
                if not isinstance(alias.name, cst.Name):
                    continue
                local = alias.name.value
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    local = alias.asname.name.value
                self.imports[local] = f"{module}{'' if module.endswith('.') else '.'}{alias.name.value}"
                self._bind(local, None, top, conditional)
        elif isinstance(small, cst.Assign):
            for t in small.targets:
                if isinstance(t.target, cst.Name) and not loop:
                    self._bind(t.target.value, small.value, top, conditional)
                    if t.target.value == "__all__":
                        self.exported |= _strings(small.value)
                else:
                    self._targets(t.target, top, conditional)
        elif isinstance(small, cst.AnnAssign):
            if small.value is not None:
                if isinstance(small.target, cst.Name) and not loop:
                    self._bind(small.target.value, small.value, top, conditional)
                else:
                    self._targets(small.target, top, conditional)
        elif isinstance(small, cst.AugAssign):
            self._targets(small.target, top, conditional)
            if isinstance(small.target, cst.Name) and small.target.value == "__all__":
                self.exported |= _strings(small.value)
        elif isinstance(small, cst.Del):
            self._targets(small.target, top, conditional)

    def qualified(self, node: cst.BaseExpression) -> str | None:
        """The dotted name an expression refers to through the imports, if any."""
        if isinstance(node, cst.Name):
            if node.value in self.imports:
                return self.imports[node.value]
            for module in sorted(self.star):
                if node.value in _STAR_NAMES.get(module, ()) and node.value not in self.bindings:
                    return f"{module}.{node.value}"
            return None
        if isinstance(node, cst.Attribute):
            base = self.qualified(node.value)
            return None if base is None else f"{base}.{node.attr.value}"
        return None

    def canonical(self, node: cst.BaseExpression) -> str | None:
        return canonical(self.qualified(node))


def _strings(node: cst.BaseExpression) -> set[str]:
    out: set[str] = set()
    if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        for el in node.elements:
            if isinstance(el.value, cst.SimpleString):
                value = el.value.evaluated_value
                if isinstance(value, str):
                    out.add(value)
    return out


def _blocks(stmt: cst.CSTNode) -> Iterator[Sequence[cst.CSTNode]]:
    """The statement lists directly inside a compound statement, in source order."""
    if isinstance(stmt, cst.If):
        yield _body(stmt.body)
        if stmt.orelse is not None:
            if isinstance(stmt.orelse, cst.If):
                yield (stmt.orelse,)
            else:
                yield _body(stmt.orelse.body)
    elif isinstance(stmt, (cst.Try, cst.TryStar)):
        yield _body(stmt.body)
        for handler in stmt.handlers:
            yield _body(handler.body)
        if stmt.orelse is not None:
            yield _body(stmt.orelse.body)
        if stmt.finalbody is not None:
            yield _body(stmt.finalbody.body)
    elif isinstance(stmt, (cst.For, cst.While, cst.With)):
        yield _body(stmt.body)
        if not isinstance(stmt, cst.With) and stmt.orelse is not None:
            yield _body(stmt.orelse.body)
    elif isinstance(stmt, cst.Match):
        for case in stmt.cases:
            yield _body(case.body)


def _body(suite: cst.BaseSuite) -> Sequence[cst.CSTNode]:
    return suite.body


# ---------------------------------------------------------------------------------------------
# The walk


@dataclass(eq=False)
class CallSite:
    """A call the codemod may care about, with what it needs to rewrite it."""

    call: cst.Call
    ancestors: tuple[cst.CSTNode, ...]  # from the top-level statement down to the call's parent
    top: int
    scopes: tuple[cst.CSTNode, ...]
    statement: int
    key: str
    ordinal: int
    function: cst.FunctionDef | None = None  # set for a decorator call


# Fields that never hold a statement, a call or a name worth counting.
_SKIPPED_FIELDS = frozenset(
    {
        "leading_lines",
        "lines_after_decorators",
        "header",
        "footer",
        "lpar",
        "rpar",
        "comma",
        "semicolon",
        "trailing_whitespace",
        "colon",
        "equal",
        "dot",
        "operator",
        "lbracket",
        "rbracket",
        "lbrace",
        "rbrace",
        "asynchronous",
        "newline",
        "default_indent",
        "default_newline",
        "encoding",
        "keyword",  # Arg.keyword: the parameter name, not a use of a name
        "attr",  # Attribute.attr
        "name",  # FunctionDef/ClassDef/Param/ImportAlias names are bindings
        "whitespace",
    }
)
# Nodes whose fields are not declared in source order.
_SOURCE_ORDER: dict[type[cst.CSTNode], tuple[str, ...]] = {
    cst.FunctionDef: ("decorators", "type_parameters", "params", "returns", "body"),
    cst.ClassDef: ("decorators", "type_parameters", "bases", "keywords", "body"),
    cst.IfExp: ("body", "test", "orelse"),
    cst.ExceptHandler: ("type", "body"),
    cst.ExceptStarHandler: ("type", "body"),
    cst.Parameters: ("posonly_params", "params", "star_arg", "kwonly_params", "star_kwarg"),
    cst.MatchCase: ("pattern", "guard", "body"),
    cst.Import: (),
    cst.ImportFrom: (),
}
_FIELDS_CACHE: dict[type[cst.CSTNode], tuple[str, ...]] = {}


def _fields(node: cst.CSTNode) -> tuple[str, ...]:
    cls = type(node)
    names = _FIELDS_CACHE.get(cls)
    if names is None:
        names = _SOURCE_ORDER.get(cls)
        if names is None:
            names = tuple(
                f.name
                for f in dataclasses.fields(cls)
                if f.name not in _SKIPPED_FIELDS and not f.name.startswith("whitespace")
            )
        _FIELDS_CACHE[cls] = names
    return names


def call_key(func: cst.BaseExpression) -> str:
    if isinstance(func, cst.Name):
        return "n:" + func.value
    if isinstance(func, cst.Attribute):
        return "a:" + func.attr.value
    return "x"


def _ast_call_key(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return "n:" + func.id
    if isinstance(func, ast.Attribute):
        return "a:" + func.attr
    return "x"


class _Walk:
    """One pass over the tree: interesting calls, name uses, global statements."""

    def __init__(self, module: cst.Module, names: _ModuleNames) -> None:
        self.names = names
        self.calls: list[CallSite] = []
        self.name_uses: Counter[str] = Counter()
        self.globals: set[str] = set()
        self.quote: str | None = None
        self.environment_names: set[str] = set()  # name= of TaskEnvironment(...) calls already there
        self.statements = 0
        self._keys: Counter[str] = Counter()
        self._statement = -1
        self._path: list[cst.CSTNode] = []
        self._scopes: list[cst.CSTNode] = []
        self._decorators: dict[int, cst.FunctionDef] = {}
        self._top = 0
        self.top_ordinals: list[int] = []  # the ordinal of each top-level statement's first statement
        for top, stmt in enumerate(module.body):
            self._top = top
            self.top_ordinals.append(self.statements)
            self._visit(stmt)

    def _visit(self, node: cst.CSTNode) -> None:
        is_statement = isinstance(node, (cst.BaseSmallStatement, cst.BaseCompoundStatement))
        outer = (self._statement, self._keys)
        if is_statement:
            self._statement = self.statements
            self.statements += 1
            self._keys = Counter()
        if isinstance(node, cst.Name):
            self.name_uses[node.value] += 1
        elif isinstance(node, cst.SimpleString):
            if self.quote is None:
                self.quote = node.quote[0]
        elif isinstance(node, cst.Global):
            self.globals.update(n.name.value for n in node.names)
        elif isinstance(node, cst.Call):
            self._call(node)
        elif isinstance(node, cst.FunctionDef):
            for dec in node.decorators:
                if isinstance(dec.decorator, cst.Call):
                    self._decorators[id(dec.decorator)] = node
        self._path.append(node)
        scoped = isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda))
        for name in _fields(node):
            value = getattr(node, name)
            # A def's decorators, defaults and annotations run in the enclosing scope.
            inner = scoped and name == "body"
            if inner:
                self._scopes.append(node)
            if isinstance(value, cst.CSTNode):
                self._visit(value)
            elif isinstance(value, (list, tuple)):
                for item in value:
                    if isinstance(item, cst.CSTNode):
                        self._visit(item)
            if inner:
                self._scopes.pop()
        self._path.pop()
        if is_statement:
            self._statement, self._keys = outer

    def _call(self, node: cst.Call) -> None:
        key = call_key(node.func)
        ordinal = self._keys[key]
        self._keys[key] = ordinal + 1
        function = self._decorators.get(id(node))
        if key.endswith(":TaskEnvironment"):
            for arg in node.args:
                if arg.keyword is not None and arg.keyword.value == "name" and isinstance(arg.value, cst.SimpleString):
                    value = arg.value.evaluated_value
                    if isinstance(value, str):
                        self.environment_names.add(value)
        interesting = (
            function is not None
            or key == "a:with_overrides"
            or any(a.keyword is not None and a.keyword.value in RESOURCE_ARGUMENTS for a in node.args)
            or (key != "x" and self.names.canonical(node.func) == "Resources")
        )
        if interesting:
            self.calls.append(
                CallSite(
                    call=node,
                    ancestors=tuple(self._path),
                    top=self._top,
                    scopes=tuple(self._scopes),
                    statement=self._statement,
                    key=key,
                    ordinal=ordinal,
                    function=function,
                )
            )


Span = tuple[int, int, int, int]  # first line, first column (UTF-8 bytes), last line, end column


def _ast_lines(tree: ast.Module) -> tuple[list[int], list[int], dict[tuple[int, str, int], Span]]:
    """In source order: each statement's line, its first line (decorators included), and
    each call's span by (statement, key, ordinal)."""
    lines: list[int] = []
    firsts: list[int] = []
    calls: dict[tuple[int, str, int], Span] = {}

    def statement(stmt: ast.stmt) -> None:
        index = len(lines)
        lines.append(stmt.lineno)
        decorators = getattr(stmt, "decorator_list", None) or ()
        firsts.append(min([stmt.lineno, *(d.lineno for d in decorators)]))
        nested: list[ast.stmt] = []
        found: list[ast.Call] = []
        stack: list[ast.AST] = list(ast.iter_child_nodes(stmt))
        while stack:
            node = stack.pop()
            if isinstance(node, ast.stmt):
                nested.append(node)
                continue
            if isinstance(node, ast.Call):
                found.append(node)
            stack.extend(ast.iter_child_nodes(node))
        found.sort(key=lambda c: (c.lineno, c.col_offset, -(c.end_lineno or 0), -(c.end_col_offset or 0)))
        seen: Counter[str] = Counter()
        for c in found:
            key = _ast_call_key(c.func)
            calls[(index, key, seen[key])] = (c.lineno, c.col_offset, c.end_lineno or c.lineno, c.end_col_offset or 0)
            seen[key] += 1
        for inner in sorted(nested, key=lambda s: (s.lineno, s.col_offset)):
            statement(inner)

    for stmt in tree.body:
        statement(stmt)
    return lines, firsts, calls


# ---------------------------------------------------------------------------------------------
# Analysis of one module


@dataclass(eq=False)
class Found:
    """A declaration with everything the transform needs (internal)."""

    kind: DeclarationKind
    name: str
    line: int
    site: CallSite
    resource_args: dict[str, cst.Arg]
    other_args: list[cst.Arg]
    requests: ResourcesValue | None = None
    limits: ResourcesValue | None = None
    resources: ResourcesValue | None = None
    accelerator: Leaf | None = None
    shared_memory: Leaf | None = None
    problem: str | None = None  # structural: **kwargs, positional arguments...
    target: str | None = None
    target_shape: str | None = None  # for overrides: "task", "map_task", "chained", "other"
    # For an override on a call (`t(...)`, `mod.t(...)`): the called expression, which may
    # name a task of another module.
    callee: cst.BaseExpression | None = None

    @property
    def call(self) -> cst.Call:
        return self.site.call

    def resource_values(self) -> Iterator[tuple[str, ResourcesValue]]:
        for key in ("requests", "limits", "resources"):
            rv = getattr(self, key)
            if rv is not None:
                yield key, rv

    def leaves(self) -> list[Leaf]:
        out: list[Leaf] = []
        for _, rv in self.resource_values():
            out.extend(rv.leaves())
        if self.accelerator is not None:
            out.append(self.accelerator)
        if self.shared_memory is not None:
            out.append(self.shared_memory)
        return out

    def not_static(self) -> str | None:
        """Why the declaration cannot be evaluated statically, or None."""
        if self.problem is not None:
            return self.problem
        for key, rv in self.resource_values():
            if rv.reason is not None:
                return f"{key}= {rv.reason}"
        for key, rv in self.resource_values():
            for name, fv in rv.fields.items():
                for leaf in fv.leaves():
                    if leaf.reason is not None:
                        return f"{key}.{name}: {leaf.reason}"
        for key in ("accelerator", "shared_memory"):
            leaf = getattr(self, key)
            if leaf is not None and leaf.reason is not None:
                return f"{key}: {leaf.reason}"
        return None


class Analysis:
    """A parsed module: its names, the declarations found, and helpers to
    evaluate expressions the way the codemod needs."""

    def __init__(self, source: str, path: str = "<string>") -> None:
        self.source = source
        self.path = path
        try:
            self.module = cst.parse_module(source)
        except cst.ParserSyntaxError as exc:
            raise SourceParseError(path, exc.raw_line, exc.message) from None
        try:
            tree = ast.parse(source, filename=path)
        except SyntaxError as exc:
            raise SourceParseError(path, exc.lineno, exc.msg) from None
        except ValueError as exc:  # e.g. NUL bytes
            raise SourceParseError(path, None, str(exc)) from None
        self.names = _ModuleNames(self.module)
        self.walk = _Walk(self.module, self.names)
        self._spans: dict[int, Span] = {}
        self._source_lines: list[str] | None = None
        self.top_lines: list[int] | None = None
        self._lines = self._line_table(tree)
        self._locals: dict[int, frozenset[str]] = {}
        # Receivers of a .with_overrides() whose result gets another .with_overrides().
        self._chained: set[int] = set()
        for site in self.walk.calls:
            if site.key == "a:with_overrides":
                receiver = site.call.func.value  # type: ignore[attr-defined]
                if isinstance(receiver, cst.Call) and call_key(receiver.func) == "a:with_overrides":
                    self._chained.add(id(receiver))
        self.found: list[Found] = []
        for site in self.walk.calls:
            found = self._declaration(site)
            if found is not None:
                self.found.append(found)

    # -- lines --------------------------------------------------------------------------------

    def _line_table(self, tree: ast.Module) -> dict[int, int]:
        stmt_lines, first_lines, call_spans = _ast_lines(tree)
        out: dict[int, int] = {}
        if len(stmt_lines) == self.walk.statements:
            for site in self.walk.calls:
                span = call_spans.get((site.statement, site.key, site.ordinal))
                if span is None:
                    out[id(site.call)] = stmt_lines[site.statement]
                else:
                    out[id(site.call)] = span[0]
                    self._spans[id(site.call)] = span
            # Where each top-level statement's text starts (its leading blank and comment lines included).
            self.top_lines = [
                first_lines[ordinal] - len(stmt.leading_lines)
                for ordinal, stmt in zip(self.walk.top_ordinals, self.module.body, strict=True)
            ]
            return out
        # The two parsers disagree on the statements (should not happen): ask libcst.
        from libcst.metadata import MetadataWrapper, PositionProvider  # noqa: PLC0415 - rare path

        positions = MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(PositionProvider)
        for site in self.walk.calls:
            out[id(site.call)] = positions[site.call].start.line
        return out

    def line(self, call: cst.Call) -> int:
        return self._lines.get(id(call), 0)

    def code(self, node: cst.CSTNode) -> str:
        # Most leaves are a bare name or literal: their text is their value (codegen is slow).
        if isinstance(node, _ATOMS) and not node.lpar:
            return node.value
        return self.module.code_for_node(node)

    def multiline(self, call: cst.Call) -> bool:
        """Whether the call spans lines (only then can it hold comments)."""
        span = self._spans.get(id(call))
        return span is None or span[0] != span[2]

    @property
    def lines(self) -> list[str]:
        """The source split into lines the way Python counts them, line endings kept."""
        if self._source_lines is None:
            self._source_lines = io.StringIO(self.source, newline="").readlines()
        return self._source_lines

    def call_text(self, call: cst.Call) -> str:
        """A call's source as written (sliced from the text; codegen only as a fallback)."""
        span = self._spans.get(id(call))
        if span is None:
            return self.code(call)
        first, col, last, end = span
        chunk = [line.encode() for line in self.lines[first - 1 : last]]
        if len(chunk) == 1:
            return chunk[0][col:end].decode()
        return (chunk[0][col:] + b"".join(chunk[1:-1]) + chunk[-1][:end]).decode()

    # -- scopes ---------------------------------------------------------------------------------

    def local_names(self, scopes: Sequence[cst.CSTNode]) -> frozenset[str]:
        """Names bound in the enclosing functions/classes (they shadow module constants)."""
        out: set[str] = set()
        for scope in scopes:
            cached = self._locals.get(id(scope))
            if cached is None:
                cached = _bound_in(scope)
                self._locals[id(scope)] = cached
            out |= cached
        return frozenset(out)

    # -- static evaluation ------------------------------------------------------------------------

    def binding_values(self, name: str) -> tuple[list[cst.BaseExpression] | None, str | None]:
        """The expressions a module constant is assigned, or the reason it is not a constant."""
        bindings = self.names.bindings.get(name)
        if not bindings:
            return None, f"{name!r} is not defined in this module"
        if name in self.names.imports:
            return None, f"{name!r} is imported; its value is not known here"
        if name in self.walk.globals:
            return None, f"{name!r} is reassigned inside a function (global statement)"
        values = [b.value for b in bindings if b.value is not None]
        if len(values) != len(bindings):
            return None, f"{name!r} is bound by a def, class, loop, import or unpacking"
        if len(bindings) > 1 and sum(1 for b in bindings if not b.conditional) > 1:
            return None, f"{name!r} is assigned {len(bindings)} times at module level"
        return values, None

    def binding_top(self, name: str) -> int | None:
        bindings = self.names.bindings.get(name)
        return None if not bindings else max(b.top for b in bindings)

    def leaf(self, node: cst.BaseExpression, local: frozenset[str]) -> Leaf:
        values, reason, names = self._values(node, local, 0)
        code = self.lazy_code(node)
        if reason is not None:
            return Leaf(node, code, (), reason, frozenset(names))
        if len(values) > MAX_COMBINATIONS:
            return Leaf(node, code, (), f"{_shorten(self.code(node))} can take too many values", frozenset(names))
        return Leaf(node, code, values, None, frozenset(names))

    def lazy_code(self, node: cst.CSTNode) -> str | Callable[[], str]:
        if isinstance(node, _ATOMS) and not node.lpar:
            return node.value
        return lambda: self.code(node)

    def _through_name(self, node: cst.Name, local: frozenset[str], depth: int, read: _Reader) -> _Read:
        """Every value a module-level name can hold, read with `read` (a local name is not static)."""
        if node.value in local:
            return (), f"{node.value!r} is bound in the enclosing function or class (an argument or a local)", set()
        exprs, why = self.binding_values(node.value)
        if exprs is None:
            return (), why, set()
        out: list[object] = []
        names = {node.value}
        for expr in exprs:
            values, reason, inner = read(expr, frozenset(), depth + 1)
            if reason is not None:
                return (), reason, names
            out.extend(values)
            names |= inner
        return _dedupe(out), None, names

    @staticmethod
    def _through_ifexp(node: cst.IfExp, local: frozenset[str], depth: int, read: _Reader) -> _Read:
        """Both branches of an import-time conditional, read with `read`."""
        body, r1, n1 = read(node.body, local, depth + 1)
        orelse, r2, n2 = read(node.orelse, local, depth + 1)
        if r1 is not None or r2 is not None:
            return (), r1 or r2, n1 | n2
        return _dedupe([*body, *orelse]), None, n1 | n2

    def _values(
        self, node: cst.BaseExpression, local: frozenset[str], depth: int
    ) -> tuple[tuple[object, ...], str | None, set[str]]:
        if depth > _MAX_DEPTH:
            return (), "constants refer to each other too deeply", set()
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
            value = node.evaluated_value
            if value is None:
                return (), f"an f-string with names ({_shorten(self.code(node))})", set()
            return (value,), None, set()
        if isinstance(node, cst.FormattedString):
            text = _plain_fstring(self.code(node))
            if text is None:
                return (), f"an f-string with names ({_shorten(self.code(node))})", set()
            return (text,), None, set()
        if isinstance(node, (cst.Integer, cst.Float, cst.Imaginary, cst.UnaryOperation)):
            try:
                return (ast.literal_eval(self.code(node).strip()),), None, set()
            except (ValueError, SyntaxError):
                return (), f"a computed value ({_shorten(self.code(node))})", set()
        if isinstance(node, cst.Name):
            if node.value in ("True", "False", "None"):
                return ({"True": True, "False": False, "None": None}[node.value],), None, set()
            return self._through_name(node, local, depth, self._values)
        if isinstance(node, cst.IfExp):
            return self._through_ifexp(node, local, depth, self._values)
        if isinstance(node, (cst.Tuple, cst.List)):
            parts: list[tuple[object, ...]] = []
            names: set[str] = set()
            for el in node.elements:
                if not isinstance(el, cst.Element):
                    return (), f"a starred element ({_shorten(self.code(node))})", names
                values, reason, inner = self._values(el.value, local, depth + 1)
                names |= inner
                if reason is not None:
                    return (), reason, names
                parts.append(values)
            combos = list(itertools.islice(itertools.product(*parts), MAX_COMBINATIONS + 1))
            kind: type[Any] = list if isinstance(node, cst.List) else tuple
            return tuple(kind(c) for c in combos), None, names
        return (), f"a computed value ({_shorten(self.code(node))})", set()

    def resources_value(self, node: cst.BaseExpression, local: frozenset[str]) -> ResourcesValue | None:
        """A `Resources(...)` argument; None for a literal `None` (the argument is absent)."""
        code = self.lazy_code(node)
        if isinstance(node, cst.Name) and node.value == "None":
            return None
        if isinstance(node, cst.Name):
            if node.value in local:
                return ResourcesValue(
                    code, reason=f"{node.value!r} is bound in the enclosing function or class (an argument or a local)"
                )
            exprs, why = self.binding_values(node.value)
            if exprs is None:
                return ResourcesValue(code, reason=why)
            if len(exprs) > 1:
                return ResourcesValue(code, reason=f"{node.value!r} is chosen at import time")
            inner = exprs[0]
            if not (isinstance(inner, cst.Call) and self.names.canonical(inner.func) == "Resources"):
                return ResourcesValue(code, reason=f"{node.value!r} is not a Resources(...) call")
            value = self._resources_call(inner, frozenset())
            value.text = code
            value.through = node.value
            return value
        if isinstance(node, cst.Call) and self.names.canonical(node.func) == "Resources":
            return self._resources_call(node, local)
        return ResourcesValue(code, reason=f"not a Resources(...) call ({_shorten(self.code(node))})")

    def _resources_call(self, call: cst.Call, local: frozenset[str]) -> ResourcesValue:
        out = ResourcesValue(self.lazy_code(call), callee=self.code(call.func).strip(), call=call)
        positional = 0
        for arg in call.args:
            if arg.star:
                out.reason = f"unpacks arguments ({_shorten(self.code(arg))})"
                return out
            if arg.keyword is None:
                if positional >= len(POSITIONAL_FIELDS):
                    out.reason = "has more than four positional arguments"
                    return out
                name = POSITIONAL_FIELDS[positional]
                positional += 1
            else:
                name = arg.keyword.value
            if name in out.fields:
                out.reason = f"gives {name} twice"
                return out
            out.fields[name] = self._field(arg.value, local)
        return out

    def _field(self, node: cst.BaseExpression, local: frozenset[str]) -> FieldValue:
        if isinstance(node, (cst.Tuple, cst.List)) and len(node.elements) == 2:
            elements = node.elements
            if all(isinstance(el, cst.Element) for el in elements):
                parts = (self.leaf(elements[0].value, local), self.leaf(elements[1].value, local))
                whole = Leaf(node, self.lazy_code(node), (), None, parts[0].names | parts[1].names)
                return FieldValue(whole, parts, isinstance(node, cst.List))
        return FieldValue(self.leaf(node, local))

    def accelerator_leaf(self, node: cst.BaseExpression, local: frozenset[str], depth: int = 0) -> Leaf:
        values, reason, names = self._accelerator(node, local, depth)
        return Leaf(node, self.lazy_code(node), values, reason, frozenset(names))

    def _accelerator(
        self, node: cst.BaseExpression, local: frozenset[str], depth: int
    ) -> tuple[tuple[object, ...], str | None, set[str]]:
        if depth > _MAX_DEPTH:
            return (), "constants refer to each other too deeply", set()
        if isinstance(node, cst.Name) and node.value == "None":
            return (None,), None, set()
        name = self.names.canonical(node)
        if name is not None and name.startswith("accelerators."):
            return (name[len("accelerators.") :],), None, set()
        if isinstance(node, cst.Call) and self.names.canonical(node.func) == "accelerators.GPUAccelerator":
            args = [a for a in node.args if a.keyword is None or a.keyword.value == "device"]
            if len(args) != 1 or len(node.args) != 1 or args[0].star:
                return (), f"GPUAccelerator with unexpected arguments ({_shorten(self.code(node))})", set()
            values, reason, names = self._values(args[0].value, local, depth + 1)
            if reason is not None:
                return (), reason, names
            if not all(isinstance(v, str) for v in values):
                return (), f"GPUAccelerator needs a device string ({_shorten(self.code(node))})", names
            return tuple(RawDevice(str(v)) for v in values), None, names
        if isinstance(node, cst.Name):
            return self._through_name(node, local, depth, self._accelerator)
        if isinstance(node, cst.IfExp):
            return self._through_ifexp(node, local, depth, self._accelerator)
        return (), f"not a flytekit accelerator constant ({_shorten(self.code(node))})", set()

    # -- declarations ---------------------------------------------------------------------------

    def _declaration(self, site: CallSite) -> Found | None:
        call = site.call
        canonical_func = self.names.canonical(call.func)
        if site.function is not None and canonical_func in ("task", "dynamic", "eager"):
            kind = DeclarationKind(canonical_func)
            name = site.function.name.value
        elif site.key == "a:with_overrides":
            kind = DeclarationKind.WITH_OVERRIDES
            name = ""
        elif canonical_func == "ContainerTask":
            kind = DeclarationKind.CONTAINER_TASK
            name = "ContainerTask"
        elif canonical_func == "Resources":
            return None
        else:
            kind = DeclarationKind.OTHER
            name = self.code(call.func).strip()
        resource_args: dict[str, cst.Arg] = {}
        other: list[cst.Arg] = []
        problem = None
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value in RESOURCE_ARGUMENTS:
                resource_args[arg.keyword.value] = arg
            else:
                other.append(arg)
                if arg.star == "**":
                    problem = f"unpacks keyword arguments ({_shorten(self.code(arg))}); they may hold resources"
        if not resource_args and problem is None:
            return None
        local = self.local_names(site.scopes)
        found = Found(kind, name, self.line(call), site, resource_args, other, problem=problem)
        for key in ("requests", "limits", "resources"):
            if key in resource_args:
                setattr(found, key, self.resources_value(resource_args[key].value, local))
        if kind is DeclarationKind.OTHER and not any(v.call is not None for _, v in found.resource_values()):
            # Some unrelated call that happens to take requests=/limits= (an HTTP client...).
            return None
        if "accelerator" in resource_args:
            found.accelerator = self.accelerator_leaf(resource_args["accelerator"].value, local)
        if "shared_memory" in resource_args:
            found.shared_memory = self.leaf(resource_args["shared_memory"].value, local)
        if kind is DeclarationKind.WITH_OVERRIDES:
            self._override_target(found)
        if kind is DeclarationKind.CONTAINER_TASK:
            name_arg = next((a for a in call.args if a.keyword is not None and a.keyword.value == "name"), None)
            if name_arg is not None and isinstance(name_arg.value, cst.SimpleString):
                value = name_arg.value.evaluated_value
                found.name = value if isinstance(value, str) else found.name
        return found

    def _override_target(self, found: Found) -> None:
        func = found.call.func
        assert isinstance(func, cst.Attribute)
        receiver = func.value
        found.name = _shorten(self.code(receiver).strip())
        if id(found.call) in self._chained or (
            isinstance(receiver, cst.Call) and call_key(receiver.func) == "a:with_overrides"
        ):
            found.target_shape = "chained"
            inner = receiver
            while isinstance(inner, cst.Call) and call_key(inner.func) == "a:with_overrides":
                inner = inner.func.value  # type: ignore[attr-defined]
            self._set_target(found, inner)
            return
        self._set_target(found, receiver)

    def _set_target(self, found: Found, receiver: cst.BaseExpression) -> None:
        if isinstance(receiver, cst.Call) and isinstance(receiver.func, (cst.Name, cst.Attribute)):
            found.callee = receiver.func
            dotted = _dotted(receiver.func)
            if dotted is not None and found.target_shape != "chained":
                found.name = dotted  # `mod.task(...)`: named like the task it may be
        if isinstance(receiver, cst.Call) and isinstance(receiver.func, cst.Name):
            found.target = receiver.func.value
            found.target_shape = found.target_shape or "task"
        elif (
            isinstance(receiver, cst.Call)
            and isinstance(receiver.func, cst.Call)
            and self.names.canonical(receiver.func.func) == "map_task"
            and receiver.func.args
            and isinstance(receiver.func.args[0].value, cst.Name)
        ):
            found.target = receiver.func.args[0].value.value
            found.target_shape = found.target_shape or "map_task"
            if found.kind is DeclarationKind.WITH_OVERRIDES:
                found.kind = DeclarationKind.MAP_TASK_OVERRIDES
        else:
            found.target_shape = found.target_shape or "other"
        if found.target is not None:
            found.name = found.target

    # -- the public view ------------------------------------------------------------------------

    def declaration(self, found: Found) -> Declaration:
        spec, reason = evaluate_spec(found)
        other: dict[str, str] = {}
        for i, arg in enumerate(found.other_args):
            key = arg.keyword.value if arg.keyword is not None else f"{arg.star or '*'}{i}"
            other[key] = self.code(arg.value).strip()
        return Declaration(
            kind=found.kind,
            name=found.name,
            line=found.line,
            spec=spec,
            reason=reason,
            arguments={k: self.code(a.value).strip() for k, a in found.resource_args.items()},
            other_arguments=other,
            path=self.path,
            target=found.target,
        )


_ATOMS = (cst.Name, cst.SimpleString, cst.Integer, cst.Float)


def _plain_fstring(code: str) -> str | None:
    try:
        tree = ast.parse(code.strip(), mode="eval")
    except SyntaxError:
        return None
    body = tree.body
    if isinstance(body, ast.JoinedStr) and all(isinstance(v, ast.Constant) for v in body.values):
        return "".join(str(v.value) for v in body.values)  # type: ignore[attr-defined]
    return None


def _bound_in(scope: cst.CSTNode) -> frozenset[str]:
    """Every name a function or class body binds (a cheap, conservative superset)."""
    out: set[str] = set()
    if isinstance(scope, (cst.FunctionDef, cst.Lambda)):
        params = scope.params
        for p in (*params.posonly_params, *params.params, *params.kwonly_params):
            out.add(p.name.value)
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                out.add(star.name.value)
    body = getattr(scope, "body", None)
    stack: list[cst.CSTNode] = [body] if isinstance(body, cst.CSTNode) else []
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            out.add(node.name.value)
            continue
        if isinstance(node, cst.Lambda):
            continue
        if isinstance(node, (cst.AssignTarget, cst.AugAssign, cst.AnnAssign, cst.For, cst.CompFor, cst.NamedExpr)):
            target = node.target
            out.update(n.value for n in _names_in(target))
        elif isinstance(node, cst.AsName):
            out.update(n.value for n in _names_in(node.name))
        elif isinstance(node, cst.ImportAlias):
            if node.asname is None:
                dotted = _dotted(node.name)
                if dotted:
                    out.add(dotted.partition(".")[0])
        elif isinstance(node, (cst.Global, cst.Nonlocal)):
            out.update(n.name.value for n in node.names)
        for name in _fields(node):
            value = getattr(node, name, None)
            if isinstance(value, cst.CSTNode):
                stack.append(value)
            elif isinstance(value, (list, tuple)):
                stack.extend(v for v in value if isinstance(v, cst.CSTNode))
        if isinstance(node, cst.ImportFrom) and not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                target_name = alias.asname.name if alias.asname is not None else alias.name
                out.update(n.value for n in _names_in(target_name))
        elif isinstance(node, cst.Import):
            for alias in node.names:
                if alias.asname is not None:
                    out.update(n.value for n in _names_in(alias.asname.name))
                else:
                    dotted = _dotted(alias.name)
                    if dotted:
                        out.add(dotted.partition(".")[0])
    return frozenset(out)


def _names_in(node: cst.CSTNode) -> Iterator[cst.Name]:
    if isinstance(node, cst.Name):
        yield node
    elif isinstance(node, (cst.Tuple, cst.List)):
        for el in node.elements:
            yield from _names_in(el.value)
    elif isinstance(node, cst.StarredElement):
        yield from _names_in(node.value)


# ---------------------------------------------------------------------------------------------
# Evaluating a declaration


def combinations(leaves: Sequence[Leaf]) -> list[dict[int, object]] | None:
    """Every assignment of values to the leaves that can take several; None if too many."""
    varying = [leaf for leaf in leaves if len(leaf.values) > 1]
    total = 1
    for leaf in varying:
        total *= len(leaf.values)
        if total > MAX_COMBINATIONS:
            return None
    return [
        {id(leaf): value for leaf, value in zip(varying, values, strict=True)}
        for values in itertools.product(*(leaf.values for leaf in varying))
    ]


def accelerator_argument(value: object) -> object:
    """What `from_flytekit(accelerator=...)` takes for a statically known accelerator."""
    if isinstance(value, RawDevice):
        try:
            accelerators.from_wire(value.device)
            custom = False
        except UnknownAcceleratorError:
            custom = True
        return AcceleratorSpec(device=value.device, device_class=implied_device_class(value.device), custom=custom)
    return value


def flytekit_kwargs(found: Found, combo: Combo, *, keys: Sequence[str] = RESOURCE_ARGUMENTS) -> dict[str, object]:
    """The `from_flytekit` keyword arguments of a declaration for one combination of values."""
    out: dict[str, object] = {}
    for key, rv in found.resource_values():
        if key in keys:
            out[key] = {name: field_value(fv, combo) for name, fv in rv.fields.items()}
    if "accelerator" in keys and found.accelerator is not None:
        out["accelerator"] = accelerator_argument(leaf_value(found.accelerator, combo))
    if "shared_memory" in keys and found.shared_memory is not None:
        out["shared_memory"] = leaf_value(found.shared_memory, combo)
    return out


def evaluate_spec(found: Found) -> tuple[ResourceSpec | None, str | None]:
    """The declaration's ResourceSpec, or None and why it cannot be known statically."""
    why = found.not_static()
    if why is not None:
        return None, why
    combos = combinations(found.leaves())
    if combos is None or len(combos) != 1:
        varying = [leaf.code for leaf in found.leaves() if len(leaf.values) > 1]
        return None, f"chosen at import time: {', '.join(_shorten(c) for c in varying)}"
    try:
        return from_flytekit(**flytekit_kwargs(found, combos[0])), None
    except (ValueError, TypeError) as exc:
        return None, str(exc)


def find_declarations(source: str, path: str = "<string>") -> list[Declaration]:
    """Every flytekit resource declaration in `source`, statically evaluated.

    Raises `SourceParseError` when the source does not parse.

    >>> src = '''
    ... from flytekit import Resources, task
    ... from flytekit.extras.accelerators import T4
    ...
    ... @task(limits=Resources(gpu="1"), accelerator=T4)
    ... def embed() -> None: ...
    ... '''
    >>> d = find_declarations(src)[0]
    >>> d.kind.value, d.name, d.line, d.spec
    ('task', 'embed', 5, ResourceSpec(limits={gpu='1'}, accelerator=nvidia-tesla-t4))
    """
    analysis = Analysis(source, path)
    return [analysis.declaration(f) for f in analysis.found]
