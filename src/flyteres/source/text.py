"""A module's source text, addressed the way the standard `ast` module addresses it.

`ast` gives every node a span: first and last line (1-based) and first and end
column, where the columns count UTF-8 **bytes** of the line, not characters.
`SourceText` slices by those spans, and adds what `ast` leaves out:

- an expression's own parentheses (`cpu=("1")` is `("1")`, as written; `ast`
  keeps no trace of them), without taking a call's parentheses for the
  argument's (`f(x)` is `x`);
- an argument as a whole, the way a concrete syntax tree holds it: from its
  first character (`*`, `**` or the keyword) to the next argument, so the comma
  and the spaces after it belong to it, and the last argument ends at the call's
  closing parenthesis.

Lines are split the way Python's tokenizer splits them (`\\n`, `\\r\\n` and a
lone `\\r`), with their endings kept, so a slice is exactly the original text.
"""

from __future__ import annotations

import ast
import bisect
import io
import tokenize
from typing import Literal

__all__ = ["SourceText", "Span", "span_of"]

#: (first line, first column, last line, end column): ast's coordinates, columns in UTF-8 bytes.
Span = tuple[int, int, int, int]

_SPACE = frozenset(b" \t\f\r\n")


def span_of(node: ast.AST) -> Span:
    """A node's span (every node `flyteres.source` keeps has one)."""
    line: int = getattr(node, "lineno", 0)
    end: int | None = getattr(node, "end_lineno", None)
    end_col: int | None = getattr(node, "end_col_offset", None)
    return (line, getattr(node, "col_offset", 0), line if end is None else end, 0 if end_col is None else end_col)


class SourceText:
    """The text of one module, sliced by `ast` spans."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._lines: list[str] | None = None
        self._bytes: list[bytes] | None = None
        self._tokens: list[tuple[tuple[int, int], str]] | None = None

    def __getstate__(self) -> dict[str, object]:
        # Only the text travels between processes; the line and token tables are rebuilt on demand.
        return {"source": self.source, "_lines": None, "_bytes": None, "_tokens": None}

    @property
    def lines(self) -> list[str]:
        """The source split into lines the way Python counts them, line endings kept."""
        if self._lines is None:
            self._lines = io.StringIO(self.source, newline="").readlines()
        return self._lines

    @property
    def byte_lines(self) -> list[bytes]:
        """`lines`, each encoded as UTF-8 (ast's columns index these)."""
        if self._bytes is None:
            # One split of the encoded text, the same lines as encoding each of `lines`: bytes split
            # at \n, \r\n and a lone \r only, as Python does, and UTF-8 writes no other character
            # with those bytes.
            self._bytes = self.source.encode("utf-8", "surrogatepass").splitlines(keepends=True)
        return self._bytes

    # -- raw slices ----------------------------------------------------------------------------

    def _raw(self, first: int, col: int, last: int, end: int) -> bytes:
        lines = self.byte_lines
        if first < 1 or last > len(lines) or first > last:
            return b""
        if first == last:
            return lines[first - 1][col:end]
        return lines[first - 1][col:] + b"".join(lines[first : last - 1]) + lines[last - 1][:end]

    def segment(self, span: Span) -> str:
        """The text of a span, exactly as written."""
        return self._raw(*span).decode("utf-8", "surrogatepass")

    def node(self, node: ast.AST) -> str:
        """A node's text as `ast` delimits it (without enclosing parentheses)."""
        return self.segment(span_of(node))

    # -- scanning between tokens ---------------------------------------------------------------

    def _char(self, line: int, col: int) -> int | None:
        lines = self.byte_lines
        if 1 <= line <= len(lines) and 0 <= col < len(lines[line - 1]):
            return lines[line - 1][col]
        return None

    def _next(self, line: int, col: int) -> tuple[int, int, int] | None:
        """The first significant byte at or after (line, col), skipping blanks, comments and
        backslash continuations: (line, col, byte)."""
        lines = self.byte_lines
        while line <= len(lines):
            text = lines[line - 1]
            while col < len(text):
                c = text[col]
                if c in _SPACE:
                    col += 1
                elif c == 0x23 or (
                    c == 0x5C and text[col + 1 : col + 2] in (b"\n", b"\r")
                ):  # '#': the rest of the line is a comment
                    col = len(text)
                else:
                    return line, col, c
            line, col = line + 1, 0
        return None

    def _previous(self, line: int, col: int) -> tuple[int, int, int] | Literal[False] | None:
        """The last significant byte before (line, col): (line, col, byte); None at the start of
        the text; False when a comment may lie in between (the caller must tokenize)."""
        lines = self.byte_lines
        text = lines[line - 1] if 1 <= line <= len(lines) else b""
        while True:
            col -= 1
            while col >= 0:
                c = text[col]
                if c not in _SPACE:
                    if c == 0x5C and col == len(text.rstrip(b"\r\n")) - 1:
                        col -= 1  # a continuation backslash at the end of a line
                        continue
                    return line, col, c
                col -= 1
            line -= 1
            if line < 1:
                return None
            text = lines[line - 1]
            if b"#" in text:
                return False
            col = len(text)

    # -- expressions ---------------------------------------------------------------------------

    def expression_span(self, node: ast.AST | Span, call_open: tuple[int, int] | None = None) -> Span:
        """A node's span (or a span) widened over the parentheses that are its own.

        `call_open` is the position of the opening parenthesis of the call the
        node is an argument of: a parenthesis there is the call's, not the node's.
        """
        span = node if isinstance(node, tuple) else span_of(node)
        first, col, last, end = span
        while True:
            before = self._previous(first, col)
            if before is False:
                return self._expression_span_tokenized(span, call_open)
            after = self._next(last, end)
            if not before or after is None or before[2] != 0x28 or after[2] != 0x29:  # '(' ... ')'
                return first, col, last, end
            if call_open is not None and (before[0], before[1]) == call_open:
                return first, col, last, end
            first, col, last, end = before[0], before[1], after[0], after[1] + 1

    def _expression_span_tokenized(self, span: Span, call_open: tuple[int, int] | None) -> Span:
        """`expression_span` when a comment may lie around the node: read the module's tokens."""
        first, col, last, end = span
        tokens = self.tokens()
        positions = [pos for pos, _ in tokens]
        before = bisect.bisect_left(positions, (first, col)) - 1
        after = bisect.bisect_left(positions, (last, end))
        while before >= 0 and after < len(tokens):
            (b_pos, b_text), (a_pos, a_text) = tokens[before], tokens[after]
            if b_text != "(" or a_text != ")" or (call_open is not None and b_pos == call_open):
                break
            first, col, last, end = b_pos[0], b_pos[1], a_pos[0], a_pos[1] + 1
            before -= 1
            after += 1
        return first, col, last, end

    def tokens(self) -> list[tuple[tuple[int, int], str]]:
        """The module's tokens other than comments, blanks and line ends, with their byte positions
        (read once, and only when a comment makes the quick scan unsure)."""
        if self._tokens is None:
            self._tokens = _significant_tokens(self.source)
        return self._tokens

    def expression(self, node: ast.AST | Span, call_open: tuple[int, int] | None = None) -> str:
        """A node's text with its own parentheses, as written (see `expression_span`)."""
        return self.segment(self.expression_span(node, call_open))

    def call_open(self, call: ast.Call) -> tuple[int, int] | None:
        """Where a call's opening parenthesis is (after its callee and the callee's parentheses)."""
        func = call.func
        return self.call_open_after(func.end_lineno or func.lineno, func.end_col_offset or 0)

    def call_open_after(self, line: int, col: int) -> tuple[int, int] | None:
        """The first `(` after a callee that ends at (line, col)."""
        while True:
            found = self._next(line, col)
            if found is None:
                return None
            line, col, c = found
            if c == 0x28:  # '('
                return line, col
            col += 1  # a ')' closing the callee's own parentheses

    def arguments(self, call: ast.Call) -> list[ast.expr | ast.keyword]:
        """A call's positional and keyword arguments in source order (ast keeps them apart)."""
        args: list[ast.expr | ast.keyword] = [*call.args, *call.keywords]
        if call.keywords and call.args and any(isinstance(a, ast.Starred) for a in call.args):
            # `f(a=1, *rest)` is legal: a starred argument may follow keywords.
            args.sort(key=lambda a: (a.lineno, a.col_offset))
        return args

    def argument_spans(self, call: ast.Call) -> list[Span]:
        """Each argument from its first character to the next argument's (or the closing
        parenthesis), the way a concrete syntax tree holds an argument with its comma."""
        args = self.arguments(call)
        opened = self.call_open(call)
        starts: list[tuple[int, int]] = []
        for arg in args:
            if isinstance(arg, ast.keyword):
                starts.append((arg.lineno, arg.col_offset))  # the keyword, or the `**`
            else:
                s = self.expression_span(arg.value if isinstance(arg, ast.Starred) else arg, opened)
                if isinstance(arg, ast.Starred):
                    s = (arg.lineno, arg.col_offset, s[2], s[3])
                starts.append((s[0], s[1]))
        close = (call.end_lineno or call.lineno, (call.end_col_offset or 1) - 1)
        ends = [*starts[1:], close]
        return [(a[0], a[1], b[0], b[1]) for a, b in zip(starts, ends, strict=True)]

    def quote_at(self, line: int, col: int) -> str | None:
        """The quote character of a plain string literal starting at (line, col); None for an
        f-string (or anything else)."""
        lines = self.byte_lines
        if not 1 <= line <= len(lines):
            return None
        text = lines[line - 1]
        i = col
        while i < len(text) and chr(text[i]).isalpha():
            if text[i] in b"fF":
                return None
            i += 1
        if i < len(text) and text[i] in b"'\"":
            return chr(text[i])
        return None


def _significant_tokens(source: str) -> list[tuple[tuple[int, int], str]]:
    """Every token but comments, blanks and line ends, with its (line, byte column)."""
    out: list[tuple[tuple[int, int], str]] = []
    lines = io.StringIO(source, newline="").readlines()
    skipped = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source, newline="").readline):
            if tok.type in skipped:
                continue
            row, char_col = tok.start
            text = lines[row - 1] if row - 1 < len(lines) else ""
            out.append(((row, len(text[:char_col].encode("utf-8", "surrogatepass"))), tok.string))
    except (tokenize.TokenError, SyntaxError):
        pass  # the module parsed, so this does not happen; what was read is still right
    return out
