"""The unified diff `--diff` prints, in time about linear in the file's lines.

`difflib.unified_diff` is quadratic on a long module whose lines repeat (a
file of 4,000 tasks, where every body ends in `return total`, took 19 s of a
27 s run). A migration changes a few lines here and there and leaves most
lines alone, many of them unique (every `def` line), so the lines that occur
exactly once in both texts anchor the alignment (the "patience" diff): their
longest increasing run is found in O(n log n), and only the short stretches
between two anchors are compared line by line, with `difflib.SequenceMatcher`.
A stretch too long to compare that way (no unique line inside) is shown as
replaced whole, so the time stays bounded whatever the input.

The output is a standard unified diff with three lines of context (as
`difflib.unified_diff` and `diff -u` print it), including the `\\ No newline
at end of file` marker, so `patch` and `git apply` take it and give exactly
the new text.
"""

from __future__ import annotations

import bisect
import difflib
from collections.abc import Iterator, Sequence

__all__ = ["split_lines", "unified_diff"]

# Stretches between anchors up to this many lines on both sides together are
# compared with SequenceMatcher; longer ones (rare: no unique line inside) are
# shown as replaced whole, so no stretch costs more than this squared.
_COMPARED = 4000
_CONTEXT = 3

Opcode = tuple[str, int, int, int, int]


def unified_diff(a: Sequence[str], b: Sequence[str], fromfile: str, tofile: str) -> str:
    """The unified diff of two lists of lines (`split_lines`), "" when they are equal.

    >>> print(unified_diff(["a\\n", "b\\n"], ["a\\n", "c"], "f.py", "f.py"), end="")
    --- f.py
    +++ f.py
    @@ -1,2 +1,2 @@
     a
    -b
    +c
    \\ No newline at end of file
    """
    opcodes = _opcodes(a, b)
    if all(tag == "equal" for tag, *_ in opcodes):
        return ""
    out = [f"--- {fromfile}\n", f"+++ {tofile}\n"]
    for group in _groups(opcodes):
        first, last = group[0], group[-1]
        out.append(f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@\n")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out += (_line(" ", line) for line in a[i1:i2])
                continue
            out += (_line("-", line) for line in a[i1:i2])
            out += (_line("+", line) for line in b[j1:j2])
    return "".join(out)


def split_lines(text: str) -> list[str]:
    """The text's lines as `diff` and `patch` see them: each ends at `\\n` (kept, with any `\\r` before it).

    Not `str.splitlines`, which also ends a line at a form feed, `\\x1c` or
    `\\u2028`: a diff of those pieces would not apply to the file.

    >>> split_lines("a\\r\\nb\\x0cc\\nd")
    ['a\\r\\n', 'b\\x0cc\\n', 'd']
    """
    lines = text.split("\n")
    out = [line + "\n" for line in lines[:-1]]
    if lines[-1]:
        out.append(lines[-1])
    return out


def _line(prefix: str, line: str) -> str:
    if line.endswith("\n"):
        return prefix + line
    return f"{prefix}{line}\n\\ No newline at end of file\n"


def _range(start: int, stop: int) -> str:
    """A hunk's range as `diff -u` writes it: `start,length`, 1-based (`start-1,0` when empty)."""
    length = stop - start
    if length == 1:
        return str(start + 1)
    if length == 0:
        return f"{start},0"
    return f"{start + 1},{length}"


def _groups(opcodes: list[Opcode]) -> Iterator[list[Opcode]]:
    """The opcodes in hunks with `_CONTEXT` lines around each change (as SequenceMatcher groups them)."""
    codes = list(opcodes)
    if codes[0][0] == "equal":
        tag, i1, i2, j1, j2 = codes[0]
        codes[0] = (tag, max(i1, i2 - _CONTEXT), i2, max(j1, j2 - _CONTEXT), j2)
    if codes[-1][0] == "equal":
        tag, i1, i2, j1, j2 = codes[-1]
        codes[-1] = (tag, i1, min(i2, i1 + _CONTEXT), j1, min(j2, j1 + _CONTEXT))
    group: list[Opcode] = []
    for tag, i1, i2, j1, j2 in codes:
        start_i, start_j = i1, j1
        if tag == "equal" and i2 - i1 > 2 * _CONTEXT:
            group.append((tag, i1, min(i2, i1 + _CONTEXT), j1, min(j2, j1 + _CONTEXT)))
            yield group
            group = []
            start_i, start_j = max(i1, i2 - _CONTEXT), max(j1, j2 - _CONTEXT)
        group.append((tag, start_i, i2, start_j, j2))
    if group and not (len(group) == 1 and group[0][0] == "equal"):
        yield group


def _opcodes(a: Sequence[str], b: Sequence[str]) -> list[Opcode]:
    """How to turn `a` into `b`, as SequenceMatcher's opcodes, from the matching blocks."""
    out: list[Opcode] = []
    i = j = 0
    for ai, bj, size in [*_matches(a, b), (len(a), len(b), 0)]:
        if i < ai and j < bj:
            out.append(("replace", i, ai, j, bj))
        elif i < ai:
            out.append(("delete", i, ai, j, bj))
        elif j < bj:
            out.append(("insert", i, ai, j, bj))
        if size:
            out.append(("equal", ai, ai + size, bj, bj + size))
        i, j = ai + size, bj + size
    return out or [("equal", 0, 0, 0, 0)]


def _matches(a: Sequence[str], b: Sequence[str]) -> list[tuple[int, int, int]]:
    """Matching blocks (i, j, size), in order, merged where adjacent."""
    blocks: list[tuple[int, int, int]] = []
    stack = [(0, len(a), 0, len(b))]
    while stack:
        alo, ahi, blo, bhi = stack.pop()
        # The common head and tail of the stretch match as they are.
        head = 0
        while alo + head < ahi and blo + head < bhi and a[alo + head] == b[blo + head]:
            head += 1
        tail = 0
        while ahi - tail > alo + head and bhi - tail > blo + head and a[ahi - tail - 1] == b[bhi - tail - 1]:
            tail += 1
        if head:
            blocks.append((alo, blo, head))
        if tail:
            blocks.append((ahi - tail, bhi - tail, tail))
        alo, blo, ahi, bhi = alo + head, blo + head, ahi - tail, bhi - tail
        if alo == ahi or blo == bhi:
            continue
        anchors = _anchors(a, b, (alo, ahi, blo, bhi))
        if not anchors:
            if (ahi - alo) + (bhi - blo) <= _COMPARED:
                matcher = difflib.SequenceMatcher(None, a[alo:ahi], b[blo:bhi], autojunk=False)
                blocks += [(alo + i, blo + j, n) for i, j, n in matcher.get_matching_blocks() if n]
            continue  # too long to compare line by line: shown as replaced
        previous_i, previous_j = alo, blo
        for i, j in anchors:
            stack.append((previous_i, i, previous_j, j))
            blocks.append((i, j, 1))
            previous_i, previous_j = i + 1, j + 1
        stack.append((previous_i, ahi, previous_j, bhi))
    blocks.sort()
    merged: list[tuple[int, int, int]] = []
    for i, j, n in blocks:
        if merged and merged[-1][0] + merged[-1][2] == i and merged[-1][1] + merged[-1][2] == j:
            merged[-1] = (merged[-1][0], merged[-1][1], merged[-1][2] + n)
        else:
            merged.append((i, j, n))
    return merged


def _once(lines: Sequence[str], lo: int, hi: int) -> dict[str, int]:
    """The lines of `lines[lo:hi]` that occur there exactly once, with their index."""
    seen: dict[str, int] = {}
    for k in range(lo, hi):
        seen[lines[k]] = -1 if lines[k] in seen else k
    return {line: k for line, k in seen.items() if k >= 0}


def _anchors(a: Sequence[str], b: Sequence[str], stretch: tuple[int, int, int, int]) -> list[tuple[int, int]]:
    """Lines once in each stretch, paired, keeping the longest run in the same order (patience sorting)."""
    alo, ahi, blo, bhi = stretch
    once_b = _once(b, blo, bhi)
    pairs = sorted((i, once_b[line]) for line, i in _once(a, alo, ahi).items() if line in once_b)
    # Longest increasing subsequence of the j's: piles hold the smallest tail of each length.
    tails: list[int] = []
    tail_at: list[int] = []
    before: list[int] = []
    for k, (_, j) in enumerate(pairs):
        pile = bisect.bisect_left(tails, j)
        if pile == len(tails):
            tails.append(j)
            tail_at.append(k)
        else:
            tails[pile] = j
            tail_at[pile] = k
        before.append(tail_at[pile - 1] if pile else -1)
    out: list[tuple[int, int]] = []
    k = tail_at[-1] if tail_at else -1
    while k >= 0:
        out.append(pairs[k])
        k = before[k]
    out.reverse()
    return out
