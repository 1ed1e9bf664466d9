"""Editing the libcst tree: rebuild only the path to a changed call, keep every comment.

A rewrite replaces a call through a `Builder`; `rebuild` copies the nodes on
the way down to it (and nothing else), so the rest of the module is the
original tree. Comments a rewrite would drop are put back next to the new
argument or above the statement (`lost_comments`, `attach_after`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import libcst as cst

__all__ = [
    "Builder",
    "attach_after",
    "comment_lines",
    "comments",
    "import_position",
    "leading",
    "lost_comments",
    "rebuild",
    "with_commas",
]

Builder = Callable[[cst.CSTNode], cst.CSTNode]


def with_commas(kept: Sequence[cst.Arg], original: Sequence[cst.Arg]) -> list[cst.Arg]:
    """`kept` (a subsequence of `original`, possibly with new values) ending the
    way the original argument list ended (trailing comma, whitespace before `)`)."""
    if not kept:
        return []
    out = list(kept)
    if out[-1] is not original[-1]:
        out[-1] = out[-1].with_changes(comma=original[-1].comma, whitespace_after_arg=original[-1].whitespace_after_arg)
    return out


def comments(node: cst.CSTNode) -> list[str]:
    """Every comment inside a node, in source order."""
    out: list[str] = []

    def visit(n: cst.CSTNode) -> None:
        if isinstance(n, cst.Comment):
            out.append(n.value)
            return
        for name in n.__dataclass_fields__:
            value = getattr(n, name)
            if isinstance(value, cst.CSTNode):
                visit(value)
            elif isinstance(value, (list, tuple)):
                for item in value:
                    if isinstance(item, cst.CSTNode):
                        visit(item)

    visit(node)
    return out


def lost_comments(old: cst.CSTNode, new: cst.CSTNode) -> list[str]:
    """Comments of `old` that `new` no longer has (a rewrite must not drop them)."""
    remaining = Counter(comments(new))
    out = []
    for c in comments(old):
        if remaining[c]:
            remaining[c] -= 1
        else:
            out.append(c)
    return out


def comment_lines(texts: Sequence[str], whitespace: str = "") -> list[cst.EmptyLine]:
    """Comment lines for `texts`, indented by `whitespace`."""
    return [
        cst.EmptyLine(indent=True, whitespace=cst.SimpleWhitespace(whitespace), comment=cst.Comment(t)) for t in texts
    ]


def _argument_indent(call: cst.Call) -> str | None:
    candidates: list[cst.BaseParenthesizableWhitespace | cst.MaybeSentinel] = [call.whitespace_before_args]
    candidates += [a.comma.whitespace_after for a in call.args if isinstance(a.comma, cst.Comma)]
    for ws in candidates:
        if isinstance(ws, cst.ParenthesizedWhitespace):
            return ws.last_line.value
    return None


def attach_after(call: cst.Call, index: int, texts: Sequence[str]) -> cst.Call:
    """Put comments on their own lines after argument `index`, when the call spans lines."""
    indent = _argument_indent(call)
    if not texts or indent is None:
        return call
    arg = call.args[index]
    lines = comment_lines(texts, indent)
    if isinstance(arg.comma, cst.Comma) and isinstance(arg.comma.whitespace_after, cst.ParenthesizedWhitespace):
        ws = arg.comma.whitespace_after
        arg = arg.with_changes(
            comma=arg.comma.with_changes(whitespace_after=ws.with_changes(empty_lines=[*lines, *ws.empty_lines]))
        )
    elif isinstance(arg.whitespace_after_arg, cst.ParenthesizedWhitespace):
        ws = arg.whitespace_after_arg
        arg = arg.with_changes(whitespace_after_arg=ws.with_changes(empty_lines=[*lines, *ws.empty_lines]))
    else:
        return call
    args = list(call.args)
    args[index] = arg
    return call.with_changes(args=args)


def rebuild(node: cst.CSTNode, targets: Mapping[int, Builder], ancestors: set[int]) -> cst.CSTNode:
    """A copy of `node` with `targets` applied, copying only the nodes in `ancestors` on the way."""
    nid = id(node)
    if nid in ancestors:
        changes: dict[str, Any] = {}
        for name in node.__dataclass_fields__:
            value = getattr(node, name)
            if isinstance(value, cst.CSTNode):
                new = rebuild(value, targets, ancestors)
                if new is not value:
                    changes[name] = new
            elif isinstance(value, (list, tuple)) and value and isinstance(value[0], cst.CSTNode):
                items = [rebuild(v, targets, ancestors) if isinstance(v, cst.CSTNode) else v for v in value]
                if any(a is not b for a, b in zip(items, value, strict=True)):
                    changes[name] = type(value)(items)
        if changes:
            node = node.with_changes(**changes)
    if nid in targets:
        node = targets[nid](node)
    return node


_STRINGS = (cst.SimpleString, cst.ConcatenatedString)


def leading(node: cst.CSTNode) -> Sequence[cst.EmptyLine]:
    """A statement's or decorator's leading lines (none for other nodes)."""
    lines: Sequence[cst.EmptyLine] = getattr(node, "leading_lines", ())
    return lines


def import_position(body: Sequence[cst.BaseStatement]) -> int:
    """Just after the module's leading docstring, __future__ and import statements."""
    at = 0
    for index, stmt in enumerate(body):
        if not isinstance(stmt, cst.SimpleStatementLine):
            break
        first = stmt.body[0]
        if index == 0 and len(stmt.body) == 1 and isinstance(first, cst.Expr) and isinstance(first.value, _STRINGS):
            at = 1
            continue
        if all(isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body):
            at = index + 1
            continue
        break
    return at
