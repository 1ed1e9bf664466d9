"""The codemod's view of a module: the source model, and the libcst nodes it edits.

What a module declares is read once, by `flyteres.source` (the standard
`ast`). The codemod also needs libcst's concrete tree, to edit it without
losing a comment or a space; this module finds, for each call the model
reports, the libcst `Call` node it edits and the nodes on the way down to it.

Matching is by order, not by position: both trees are walked statement by
statement in source order, and within a statement each call is keyed by how
it is called (`n:<name>`, `a:<attribute>` or `x`) and its rank among the
statement's calls with that key. That is cheaper than libcst's position
metadata (which regenerates the code) and needs no conversion between ast's
UTF-8 byte columns and libcst's character columns. If the two parsers ever
disagree on the statements, positions are used instead (`_by_position`).
"""

from __future__ import annotations

import ast
import dataclasses
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, TypeVar

import libcst as cst

from flyteres.source.analysis import SourceModule
from flyteres.source.model import Argument, Found, SourceParseError
from flyteres.source.text import Span, span_of

if TYPE_CHECKING:
    from libcst.metadata import CodeRange

__all__ = ["Analysis", "CstSite", "ast_lines", "call_key"]


@dataclasses.dataclass(eq=False)
class CstSite:
    """A libcst call the codemod may edit, with the nodes from its top-level statement down to it."""

    call: cst.Call
    ancestors: tuple[cst.CSTNode, ...]


_N = TypeVar("_N", bound=cst.CSTNode)

Key = tuple[int, str, int]  # (statement ordinal, call key, rank among the statement's calls with that key)

# Fields that never hold a statement or a call.
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
        "keyword",
        "attr",
        "name",
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


def call_key(func: cst.BaseExpression | ast.expr) -> str:
    """How a call is keyed among its statement's calls: `n:name`, `a:attribute` or `x`."""
    if isinstance(func, cst.Name):
        return "n:" + func.value
    if isinstance(func, cst.Attribute):
        return "a:" + func.attr.value
    if isinstance(func, ast.Name):
        return "n:" + func.id
    if isinstance(func, ast.Attribute):
        return "a:" + func.attr
    return "x"


class _CstWalk:
    """One pass over the libcst tree: the statements, and the wanted calls with their ancestors."""

    def __init__(self, module: cst.Module, wanted: set[Key]) -> None:
        self.wanted = wanted
        self.sites: dict[Key, CstSite] = {}
        self.statements = 0
        self.top_ordinals: list[int] = []  # the ordinal of each top-level statement's first statement
        self._statement = -1
        self._keys: Counter[str] = Counter()
        self._path: list[cst.CSTNode] = []
        for stmt in module.body:
            self.top_ordinals.append(self.statements)
            self._visit(stmt)

    def _visit(self, node: cst.CSTNode) -> None:
        is_statement = isinstance(node, (cst.BaseSmallStatement, cst.BaseCompoundStatement))
        outer = (self._statement, self._keys)
        if is_statement:
            self._statement = self.statements
            self.statements += 1
            self._keys = Counter()
        if isinstance(node, cst.Call):
            key = call_key(node.func)
            ordinal = self._keys[key]
            self._keys[key] = ordinal + 1
            full = (self._statement, key, ordinal)
            if full in self.wanted:
                self.sites[full] = CstSite(node, tuple(self._path))
        self._path.append(node)
        for name in _fields(node):
            value = getattr(node, name)
            if isinstance(value, cst.CSTNode):
                self._visit(value)
            elif isinstance(value, (list, tuple)):
                for item in value:
                    if isinstance(item, cst.CSTNode):
                        self._visit(item)
        self._path.pop()
        if is_statement:
            self._statement, self._keys = outer


def ast_lines(tree: ast.Module) -> tuple[list[int], list[int], dict[Key, Span]]:
    """In source order: each statement's line, its first line (decorators included), and
    each call's span by (statement, key, ordinal)."""
    lines: list[int] = []
    firsts: list[int] = []
    calls: dict[Key, Span] = {}

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
            key = call_key(c.func)
            calls[(index, key, seen[key])] = span_of(c)
            seen[key] += 1
        for inner in sorted(nested, key=lambda s: (s.lineno, s.col_offset)):
            statement(inner)

    for stmt in tree.body:
        statement(stmt)
    return lines, firsts, calls


class Analysis:
    """A module for the codemod: `model` (what `flyteres.source` found) and `module`
    (libcst's tree), with the libcst call of each declaration.

    Raises `SourceParseError` when either parser refuses the source (libcst's
    reason first, as the codemod has always reported it).
    """

    def __init__(self, source: str, path: str = "<string>") -> None:
        self.source = source
        self.path = path
        try:
            self.module = cst.parse_module(source)
        except cst.ParserSyntaxError as exc:
            raise SourceParseError(path, exc.raw_line, exc.message) from None
        self.model = SourceModule(source, path)
        self.names = self.model.names
        self.values = self.model.values
        self.found: list[Found] = self.model.found
        self.text = self.model.text
        stmt_lines, first_lines, call_spans = ast_lines(self.model.tree)
        by_span = {span: key for key, span in call_spans.items()}
        self._by_span = by_span
        self._positions: Mapping[cst.CSTNode, CodeRange] | None = None
        calls = [f.call for f in self.found]
        calls += [rv.call for f in self.found for _, rv in f.resource_values() if rv.call is not None and rv.through]
        self._keys: dict[int, Key] = {}
        for call in calls:
            key = by_span.get(span_of(call))
            if key is not None:
                self._keys[id(call)] = key
        walk = _CstWalk(self.module, set(self._keys.values()))
        self._sites: dict[int, CstSite] = {}  # by id() of the ast call
        self._by_cst: dict[int, CstSite] = {}  # by id() of the libcst call
        #: Where each top-level statement's text starts (its leading blank and comment lines included).
        self.top_lines: list[int] | None = None
        self._agree = len(stmt_lines) == walk.statements
        if self._agree:
            for call_id, key in self._keys.items():
                site = walk.sites.get(key)
                if site is not None:
                    self._sites[call_id] = site
            self.top_lines = [
                first_lines[ordinal] - len(stmt.leading_lines)
                for ordinal, stmt in zip(walk.top_ordinals, self.module.body, strict=True)
            ]
        else:  # the two parsers disagree on the statements (should not happen)
            self._by_position(calls)
        for site in self._sites.values():
            self._by_cst[id(site.call)] = site

    def _by_position(self, calls: Sequence[ast.Call]) -> None:
        """Match calls by where they start, through libcst's position metadata (slow, rare)."""
        for call_id, (node, ancestors) in self.locate(calls, cst.Call).items():
            self._sites[call_id] = CstSite(node, ancestors)

    def locate(self, nodes: Sequence[ast.AST], kind: type[_N]) -> dict[int, tuple[_N, tuple[cst.CSTNode, ...]]]:
        """The libcst node of `kind` at the span of each ast node, with the nodes from its
        top-level statement down to it, by id() of the ast node (a node not found is left out).
        Through libcst's position metadata, which spans a node without its own parentheses as
        ast does: slower than the order walk, so only for the few nodes beyond the calls."""
        from libcst.metadata import MetadataWrapper, PositionProvider  # noqa: PLC0415 - rare path

        wanted = {span_of(n): n for n in nodes}
        out: dict[int, tuple[_N, tuple[cst.CSTNode, ...]]] = {}
        if not wanted:
            return out
        if self._positions is None:  # resolved once: the tree is not edited while planning
            self._positions = MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(PositionProvider)
        positions = self._positions
        lines = self.text.lines
        path: list[cst.CSTNode] = []

        def byte_col(line: int, char_col: int) -> int:
            return len(lines[line - 1][:char_col].encode("utf-8", "surrogatepass")) if line <= len(lines) else char_col

        def visit(node: cst.CSTNode) -> None:
            if isinstance(node, kind):
                r = positions[node]
                start, end = r.start, r.end
                span = (start.line, byte_col(start.line, start.column), end.line, byte_col(end.line, end.column))
                found = wanted.get(span)
                if found is not None:
                    out[id(found)] = (node, tuple(path))
            path.append(node)
            for child in node.children:
                visit(child)
            path.pop()

        for stmt in self.module.body:
            visit(stmt)
        return out

    def index_calls(self, calls: Sequence[ast.Call]) -> None:
        """Find the libcst nodes of more calls than the declarations (a `map_task(f)(...)` the
        codemod rewrites), matched the same way; `has_call` says which were found."""
        wanted = [c for c in calls if id(c) not in self._sites]
        if not wanted:
            return
        if not self._agree:
            self._by_position(wanted)
        else:
            keys = {id(c): self._by_span.get(span_of(c)) for c in wanted}
            walk = _CstWalk(self.module, {k for k in keys.values() if k is not None})
            for c in wanted:
                key = keys[id(c)]
                site = None if key is None else walk.sites.get(key)
                if site is not None:
                    self._sites[id(c)] = site
        for c in wanted:
            site = self._sites.get(id(c))
            if site is not None:
                self._by_cst[id(site.call)] = site

    def has_call(self, call: ast.Call) -> bool:
        """Whether the libcst node of an ast call is known."""
        return id(call) in self._sites

    # -- the libcst side ------------------------------------------------------------------------

    def cst_call(self, call: ast.Call) -> cst.Call:
        """The libcst node of a call the model found."""
        return self._sites[id(call)].call

    def call(self, found: Found) -> cst.Call:
        """The libcst node of a declaration's call."""
        return self.cst_call(found.call)

    def ancestors(self, call: cst.Call) -> tuple[cst.CSTNode, ...]:
        """The nodes from a libcst call's top-level statement down to its parent."""
        return self._by_cst[id(call)].ancestors

    def arg(self, argument: Argument) -> cst.Arg:
        """The libcst node of one of a call's own arguments."""
        return self.cst_call(argument.call).args[argument.index]

    def code(self, node: cst.CSTNode) -> str:
        """A libcst node's source as libcst writes it."""
        return self.module.code_for_node(node)

    # -- the model side -------------------------------------------------------------------------

    @property
    def lines(self) -> list[str]:
        """The source split into lines the way Python counts them, line endings kept."""
        return self.text.lines

    @property
    def quote(self) -> str | None:
        return self.model.quote

    @property
    def name_uses(self) -> Counter[str]:
        return self.model.name_uses

    @property
    def environment_names(self) -> frozenset[str]:
        return self.model.environment_names

    def local_names(self, scopes: Sequence[ast.AST]) -> frozenset[str]:
        return self.model.local_names.names(scopes)

    def call_text(self, call: ast.Call) -> str:
        """A call's source as written."""
        return self.text.segment(span_of(call))

    @staticmethod
    def multiline(call: ast.Call) -> bool:
        """Whether the call spans lines (only then can it hold comments)."""
        return call.lineno != call.end_lineno
