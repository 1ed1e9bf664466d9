"""One pass over a module's tree: the calls that may declare resources, and what surrounds them.

Speed matters (the codemod runs over whole repositories), so the tree is
walked with a small hand-written traversal instead of libcst's visitor
machinery, and line numbers come from the standard `ast` parse of the same
text instead of libcst's position metadata: each statement and each call is
matched by its order of appearance (`ast_lines`, keyed like `CallSite`).
"""

from __future__ import annotations

import ast
import dataclasses
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

from flyteres.source.names import RESOURCE_ARGUMENTS, ModuleNames, dotted_name

__all__ = ["CallSite", "Span", "Walk", "ast_lines", "bound_in", "call_key"]


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
    """A node's child fields worth visiting, in source order."""
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
    """How a call is keyed among its statement's calls: `n:name`, `a:attribute` or `x`."""
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


class Walk:
    """One pass over the tree: interesting calls, name uses, global statements."""

    def __init__(self, module: cst.Module, names: ModuleNames) -> None:
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


def ast_lines(tree: ast.Module) -> tuple[list[int], list[int], dict[tuple[int, str, int], Span]]:
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


def bound_in(scope: cst.CSTNode) -> frozenset[str]:
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
                dotted = dotted_name(node.name)
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
                    dotted = dotted_name(alias.name)
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
