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
from typing import cast

from flyteres.source.names import Scope

__all__ = ["CallSite", "FunctionSite", "Walk"]

# The words a declaration needs, and `global` (it makes a module constant variable, so a body
# that says it must be entered). One alternation of plain words: the regular expression engine
# skips ahead by their first letters, six times faster than with a line-start alternative for
# decorators beside them (those are found with `str.find`). No \b, which costs four times as
# much: `_word` checks the boundaries after.
_WORDS = re.compile(
    r"requests|limits|resources|accelerator|shared_memory|with_overrides|override|clone_with|TaskEnvironment"
    r"|pod_template|global"
)
_NEWLINES = re.compile(r"\r\n|\r|\n")
# Each node type's fields that may hold nodes (`ctx` never holds a call). The commonest nodes of
# a declaration are given here, without the fields that hold only names or constants, so the walk
# does not look into them; any other type gets its fields when first met.
_FIELDS: dict[type, tuple[str, ...]] = {
    ast.Constant: (),
    ast.Name: (),
    ast.Attribute: ("value",),
    ast.keyword: ("value",),
    ast.Call: ("func", "args", "keywords"),
}


@dataclass(eq=False)
class CallSite:
    """A call that may declare resources, with where it is."""

    call: ast.Call
    scopes: tuple[Scope, ...]  # the enclosing defs, classes and lambdas, outermost first
    top: int  # the top-level statement it is in (one number per logical line)
    function: ast.FunctionDef | ast.AsyncFunctionDef | None = None  # set for a decorator call
    root: ast.AST | None = None  # the expression (or statement) the walk found it in
    loop: bool = False  # inside a for or while loop of its function
    _around: tuple[ast.AST | None, ast.AST | None] | None = None

    @property
    def line(self) -> int:
        return self.call.lineno

    @property
    def parent(self) -> ast.AST | None:
        """The node directly around the call (looked up when asked: few callers need it)."""
        return self._lineage()[0]

    @property
    def grandparent(self) -> ast.AST | None:
        return self._lineage()[1]

    def _lineage(self) -> tuple[ast.AST | None, ast.AST | None]:
        if self._around is None:
            self._around = (None, None)
            stack: list[tuple[ast.AST, ast.AST | None, ast.AST | None]] = []
            if self.root is not None:
                stack.append((self.root, None, None))
            while stack:
                node, parent, grand = stack.pop()
                if node is self.call:
                    self._around = (parent, grand)
                    break
                stack.extend((child, node, parent) for child in ast.iter_child_nodes(node))
        return self._around


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
        self._lines, self._enter = self._candidate_lines(source)
        for top, stmt in zip(tops, tree.body, strict=True):
            self._statement(stmt, (), top, loop=False)
        self._calls.sort(
            key=lambda s: (s.call.lineno, s.call.col_offset, -(s.call.end_lineno or 0), -(s.call.end_col_offset or 0))
        )
        self.calls = self._calls

    @staticmethod
    def _candidate_lines(source: str) -> tuple[list[int], list[int]]:
        """The lines (1-based, in order) holding a declaration's word, and those the walk must
        enter a body for (the same, plus decorators and `global`)."""
        # (position, is a declaration's word): the words, then each `@` that starts a line's code
        # (a decorator: a task may be defined inside a function).
        hits: list[tuple[int, bool]] = []
        for m in _WORDS.finditer(source):
            start, end = m.span()
            if _word(source, start, end):
                hits.append((start, end - start != 6 or m[0] != "global"))
        at = source.find("@")
        while at >= 0:
            if _line_start(source, at):
                hits.append((at, False))
            at = source.find("@", at + 1)
        hits.sort()
        words: list[int] = []
        enter: list[int] = []
        lone_cr = "\r" in source
        starts = [0, *(m.end() for m in _NEWLINES.finditer(source))] if lone_cr else []
        line, position = 1, 0
        for start, word in hits:
            if lone_cr:  # Python also ends a line at a lone carriage return
                line = bisect.bisect_right(starts, start)
            else:
                line += source.count("\n", position, start)
                position = start
            if word and (not words or words[-1] != line):
                words.append(line)
            if not enter or enter[-1] != line:
                enter.append(line)
        return words, enter

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
                    self._calls.append(CallSite(dec, scopes, top, stmt, dec, loop=loop))
                    continue
            elif type(dec) is ast.Name or (type(dec) is ast.Attribute and type(dec.value) is ast.Name):
                continue  # `@task`, `@env.task`: no call in it
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
            if root is not None and (force or self._wanted(root)):
                self._collect(root, root, scopes, top, loop)

    def _collect(self, root: ast.AST, start: ast.AST, scopes: tuple[Scope, ...], top: int, loop: bool) -> None:
        """Every call under `start` (a lambda's body in the lambda's own scope)."""
        calls, decorators, fields = self._calls, self._decorators, _FIELDS
        call, lambda_ = ast.Call, ast.Lambda
        stack: list[object] = [start]
        pop, append, extend = stack.pop, stack.append, stack.extend
        while stack:
            node = pop()
            kind = type(node)
            names = fields.get(kind)
            if names is None:
                if not isinstance(node, ast.AST):
                    continue  # None, a string or a number in a node's field or list (a dict's `**` key, a name)
                names = fields[kind] = tuple(f for f in node._fields if f != "ctx")
            if kind is call:
                calls.append(CallSite(cast(ast.Call, node), scopes, top, decorators.get(id(node)), root, loop))
            elif kind is lambda_:
                # Defaults run where the lambda is written; the body in the lambda's own scope.
                fn = cast(ast.Lambda, node)
                extend(d for d in (*fn.args.defaults, *fn.args.kw_defaults) if d is not None)
                self._collect(root, fn.body, (*scopes, fn), top, loop)
                continue
            for name in names:
                value = getattr(node, name, None)
                if type(value) is list:
                    extend(value)
                elif value is not None:
                    append(value)


def _word(source: str, start: int, end: int) -> bool:
    """Whether `source[start:end]` is a whole word."""
    before = source[start - 1] if start else " "
    after = source[end] if end < len(source) else " "
    return not (before.isalnum() or before == "_" or after.isalnum() or after == "_")


def _line_start(source: str, at: int) -> bool:
    """Whether only spaces and tabs stand between a line's start and `at`."""
    i = at - 1
    while i >= 0 and source[i] in " \t":
        i -= 1
    return i < 0 or source[i] in "\r\n"


_TRIES: tuple[type[ast.stmt], ...] = (ast.Try, *((ast.TryStar,) if hasattr(ast, "TryStar") else ()))
