"""One pass over a module's `ast`: every function with its decorators, and the calls that may declare resources.

Speed matters (`flyteres check` reads whole repositories), so the pass does not
visit every node. Statements are visited all the way down (they are few), and
every decorator is read; the expressions of a statement are read only when its
lines hold one of the words a resource declaration needs (`requests`,
`limits`, `resources`, `accelerator`, `shared_memory`, `with_overrides`,
`override`, `clone_with`, `TaskEnvironment`, `pod_template`), found once with
a regular expression over the text. A call the pass skips holds none of those
words on any of its lines, so it cannot be a declaration.

Calls come back in source order, an outer call before the calls inside it,
which is the order a concrete syntax tree visits them in.
"""

from __future__ import annotations

import ast
import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from flyteres.source.names import Scope

__all__ = ["CallSite", "FunctionSite", "Walk"]

# No \b: the regular expression engine is four times faster without it; `_candidate_lines`
# checks the word boundaries of what it finds instead.
_WORDS = re.compile(
    r"requests|limits|resources|accelerator|shared_memory|with_overrides|override|clone_with|TaskEnvironment"
    r"|pod_template"
)
_NEWLINES = re.compile(r"\r\n|\r|\n")
# Lines a function or class body must be entered for besides those: a decorator (a task may be
# defined inside a function) or a `global` statement (it makes a module constant variable).
_ENTER = re.compile(r"(?:\A|[\r\n])[ \t]*(@)|global")
# Each node type's fields that may hold nodes (`ctx` never holds a call).
_FIELDS: dict[type[ast.AST], tuple[str, ...]] = {}


@dataclass(eq=False)
class CallSite:
    """A call that may declare resources, with where it is."""

    call: ast.Call
    scopes: tuple[Scope, ...]  # the enclosing defs, classes and lambdas, outermost first
    top: int  # the top-level statement it is in (one number per logical line)
    function: ast.FunctionDef | ast.AsyncFunctionDef | None = None  # set for a decorator call
    parent: ast.AST | None = None  # the node directly around the call
    grandparent: ast.AST | None = None
    loop: bool = False  # inside a for or while loop of its function

    @property
    def line(self) -> int:
        return self.call.lineno


@dataclass(eq=False)
class FunctionSite:
    """A function definition, with where it is."""

    node: ast.FunctionDef | ast.AsyncFunctionDef
    scopes: tuple[Scope, ...]
    top: int

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def module_level(self) -> bool:
        return not self.scopes


class Walk:
    """Functions, candidate calls and `global` names of one module."""

    def __init__(self, tree: ast.Module, source: str, tops: Sequence[int]) -> None:
        self.functions: list[FunctionSite] = []
        self.globals: set[str] = set()
        self._calls: list[CallSite] = []
        self._decorators: dict[int, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        self._lines = self._candidate_lines(source, _WORDS)
        self._enter = sorted({*self._lines, *self._candidate_lines(source, _ENTER)})
        for top, stmt in zip(tops, tree.body, strict=True):
            self._statement(stmt, (), top, loop=False)
        self._calls.sort(
            key=lambda s: (s.call.lineno, s.call.col_offset, -(s.call.end_lineno or 0), -(s.call.end_col_offset or 0))
        )
        self.calls = self._calls

    @staticmethod
    def _candidate_lines(source: str, pattern: re.Pattern[str]) -> list[int]:
        """The lines (1-based) that `pattern` matches on, in order."""
        if not pattern.search(source):
            return []
        out: list[int] = []
        if "\r" in source:
            # Python also ends a line at a lone carriage return.
            starts = [0, *(m.end() for m in _NEWLINES.finditer(source))]
            for m in pattern.finditer(source):
                if not _word(source, m.start(m.lastindex or 0), m.end()):
                    continue
                line = bisect.bisect_right(starts, m.start(m.lastindex or 0))
                if not out or out[-1] != line:
                    out.append(line)
            return out
        line, position = 1, 0
        for m in pattern.finditer(source):
            start = m.start(m.lastindex or 0)
            if not _word(source, start, m.end()):
                continue
            line += source.count("\n", position, start)
            position = start
            if not out or out[-1] != line:
                out.append(line)
        return out

    def _candidate(self, first: int, last: int, lines: list[int] | None = None) -> bool:
        lines = self._lines if lines is None else lines
        i = bisect.bisect_left(lines, first)
        return i < len(lines) and lines[i] <= last

    def _enters(self, stmt: ast.stmt) -> bool:
        """Whether a def's or class's lines hold anything the walk looks for (else its body is skipped)."""
        return self._candidate(stmt.lineno, stmt.end_lineno or stmt.lineno, self._enter)

    def _wanted(self, node: ast.AST) -> bool:
        first = getattr(node, "lineno", 0)
        return self._candidate(first, getattr(node, "end_lineno", None) or first)

    # -- statements ----------------------------------------------------------------------------

    def _statement(self, stmt: ast.stmt, scopes: tuple[Scope, ...], top: int, *, loop: bool) -> None:
        match stmt:
            case ast.FunctionDef() | ast.AsyncFunctionDef():
                self._function(stmt, scopes, top, loop=loop)
            case ast.ClassDef():
                self._expressions(stmt.decorator_list, scopes, top, loop=loop, force=True)
                self._expressions([*stmt.bases, *stmt.keywords], scopes, top, loop=loop)
                if self._enters(stmt):
                    self._body(stmt.body, (*scopes, stmt), top, loop=False)
            case ast.For() | ast.AsyncFor():
                self._expressions((stmt.target, stmt.iter), scopes, top, loop=loop)
                self._body(stmt.body, scopes, top, loop=True)
                self._body(stmt.orelse, scopes, top, loop=loop)
            case ast.While():
                self._expressions((stmt.test,), scopes, top, loop=loop)
                self._body(stmt.body, scopes, top, loop=True)
                self._body(stmt.orelse, scopes, top, loop=loop)
            case ast.If():
                self._expressions((stmt.test,), scopes, top, loop=loop)
                self._body(stmt.body, scopes, top, loop=loop)
                self._body(stmt.orelse, scopes, top, loop=loop)
            case ast.With() | ast.AsyncWith():
                items = [e for item in stmt.items for e in (item.context_expr, item.optional_vars)]
                self._expressions(items, scopes, top, loop=loop)
                self._body(stmt.body, scopes, top, loop=loop)
            case ast.Match():
                self._expressions((stmt.subject,), scopes, top, loop=loop)
                for case in stmt.cases:
                    self._expressions((case.guard,), scopes, top, loop=loop)
                    self._body(case.body, scopes, top, loop=loop)
            case ast.Global():
                self.globals.update(stmt.names)
            case _ if isinstance(stmt, _TRIES):
                self._body(stmt.body, scopes, top, loop=loop)  # type: ignore[attr-defined]
                for handler in stmt.handlers:  # type: ignore[attr-defined]
                    self._expressions((handler.type,), scopes, top, loop=loop)
                    self._body(handler.body, scopes, top, loop=loop)
                self._body(stmt.orelse, scopes, top, loop=loop)  # type: ignore[attr-defined]
                self._body(stmt.finalbody, scopes, top, loop=loop)  # type: ignore[attr-defined]
            case _:
                self._expressions((stmt,), scopes, top, loop=loop)

    def _function(
        self, stmt: ast.FunctionDef | ast.AsyncFunctionDef, scopes: tuple[Scope, ...], top: int, *, loop: bool
    ) -> None:
        """A def: its decorators (always read), its header (when it holds a word), its body."""
        self.functions.append(FunctionSite(stmt, scopes, top))
        for dec in stmt.decorator_list:
            if isinstance(dec, ast.Call):
                self._decorators[id(dec)] = stmt
                if not self._wanted(dec):  # no call inside it can declare anything
                    self._calls.append(CallSite(dec, scopes, top, stmt, None, None, loop=loop))
                    continue
            self._expressions((dec,), scopes, top, loop=loop, force=True)
        if self._candidate(stmt.lineno, stmt.body[0].lineno):  # defaults and annotations
            a = stmt.args
            header: list[ast.AST | None] = [*a.defaults, *a.kw_defaults, stmt.returns]
            header += [p.annotation for p in (*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg) if p]
            self._expressions(header, scopes, top, loop=loop)
        if self._enters(stmt):
            self._body(stmt.body, (*scopes, stmt), top, loop=False)

    def _body(self, body: Sequence[ast.stmt], scopes: tuple[Scope, ...], top: int, *, loop: bool) -> None:
        for stmt in body:
            self._statement(stmt, scopes, top, loop=loop)

    # -- expressions ---------------------------------------------------------------------------

    def _expressions(
        self, nodes: Iterable[ast.AST | None], scopes: tuple[Scope, ...], top: int, *, loop: bool, force: bool = False
    ) -> None:
        """Record the calls in `nodes` (only where their lines hold a candidate word, unless `force`)."""
        for root in nodes:
            if root is None or not (force or self._wanted(root)):
                continue
            # (node, parent, grandparent, scopes, inside a comprehension or loop)
            stack: list[tuple[ast.AST, ast.AST | None, ast.AST | None, tuple[Scope, ...]]] = [
                (root, None, None, scopes)
            ]
            while stack:
                node, parent, grand, inner = stack.pop()
                if isinstance(node, ast.Call):
                    self._calls.append(
                        CallSite(node, inner, top, self._decorators.get(id(node)), parent, grand, loop=loop)
                    )
                if isinstance(node, ast.Lambda):
                    # Defaults run where the lambda is written; the body in the lambda's own scope.
                    stack.extend((d, node, parent, inner) for d in (*node.args.defaults, *node.args.kw_defaults) if d)
                    stack.append((node.body, node, parent, (*inner, node)))
                    continue
                names = _FIELDS.get(type(node))
                if names is None:
                    names = _FIELDS[type(node)] = tuple(f for f in node._fields if f != "ctx")
                for name in names:
                    value = getattr(node, name, None)
                    if isinstance(value, list):
                        stack.extend((v, node, parent, inner) for v in value if isinstance(v, ast.AST))
                    elif isinstance(value, ast.AST):
                        stack.append((value, node, parent, inner))


def _word(source: str, start: int, end: int) -> bool:
    """Whether `source[start:end]` is a whole word (a decorator's `@` always is)."""
    if source[start] == "@":
        return True
    before = source[start - 1] if start else " "
    after = source[end] if end < len(source) else " "
    return not (before.isalnum() or before == "_" or after.isalnum() or after == "_")


_TRIES: tuple[type[ast.stmt], ...] = (ast.Try, *((ast.TryStar,) if hasattr(ast, "TryStar") else ()))
