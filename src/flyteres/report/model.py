"""The shape every command's findings take: `Issue`, its `Level`, and the `Selection` that filters them."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

__all__ = [
    "CommonRule",
    "Issue",
    "Level",
    "Selected",
    "Selection",
    "exit_code",
    "hidden_text",
    "suppression",
]


class Level(str, Enum):
    """How much a finding matters, in SARIF's words (GitHub calls ``note`` ``notice``).

    ``error``: the task will not run as written (or a conversion is lossy);
    ``warning``: it runs with other values than written, or a change to review;
    ``note``: worth knowing, never fails a run.
    """

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def of(cls, severity: str) -> Level:
        """The level of a library severity (``error``, ``warning``, ``info``)."""
        return {"error": cls.ERROR, "warning": cls.WARNING}.get(severity, cls.NOTE)


class CommonRule(str, Enum):
    """What more than one command reports about the files it reads."""

    #: A file was not read: newer Python syntax, not a regular file, too large, not text.
    FILE_NOT_READ = "file-not-read"
    #: A declaration whose resources cannot be known without running the code (or that is no container task).
    NOT_EVALUATED = "not-evaluated"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Issue:
    """One finding of any command: a stable rule id, a level, a one-line message and where it points.

    ``title`` is the short heading of what the finding is about (``task 'train'``);
    ``text`` is the line the text format prints for it (the message when empty);
    ``group`` ties the findings of one declaration together for the text summary.
    """

    rule: str
    level: Level
    message: str
    path: str | None = None
    line: int | None = None
    column: int | None = None
    title: str = ""
    text: str = ""
    group: int = -1

    def to_dict(self) -> dict[str, object]:
        """The finding as the JSON formats write it (every command's `findings` list)."""
        return {
            "rule": self.rule,
            "level": self.level.value,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "title": self.title,
            "message": self.message,
        }


# `# flyteres: ignore` or `# flyteres: ignore[rule-a, rule-b]`, anywhere in a comment on the line.
_SUPPRESS = re.compile(r"#.*?\bflyteres:\s*ignore(?:\[([^\]]*)\])?", re.IGNORECASE)


def suppression(line: str) -> frozenset[str] | None:
    """The rule ids an inline comment on `line` suppresses: None for none, an empty set for all.

    >>> sorted(suppression("x = 1  # flyteres: ignore[no-value, quota-exceeded]"))
    ['no-value', 'quota-exceeded']
    >>> suppression("x = 1  # flyteres: ignore") == frozenset()
    True
    >>> suppression("x = '# not a comment'") is None
    True
    """
    if "flyteres" not in line.lower():
        return None
    match = _SUPPRESS.search(line)
    if match is None or not _in_comment(line, match.start()):
        return None
    listed = match.group(1)
    if listed is None:
        return frozenset()
    return frozenset(r.strip() for r in listed.split(",") if r.strip())


def _in_comment(line: str, at: int) -> bool:
    """Whether the `#` at `at` starts a comment, not a character inside a string literal."""
    quote: str | None = None
    i = 0
    while i < at:
        ch = line[i]
        if quote is None:
            if line.startswith(('"""', "'''"), i):
                quote = line[i : i + 3]
                i += 3
                continue
            if ch in "\"'":
                quote = ch
        elif ch == "\\":
            i += 1
        elif line.startswith(quote, i):
            i += len(quote) - 1
            quote = None
        i += 1
    return quote is None


@dataclass
class Selected:
    """The findings a run reports, and how many the selection left out."""

    kept: list[Issue]
    suppressed: int = 0
    ignored: int = 0

    @property
    def hidden(self) -> int:
        return self.suppressed + self.ignored


def _matches(rule: str, patterns: Iterable[str]) -> int:
    """The length of the longest pattern that is `rule` or a prefix of it (ruff's rule: the more specific wins)."""
    best = -1
    for p in patterns:
        if p in ("ALL", "all"):
            best = max(best, 0)
        elif rule == p or rule.startswith(p):
            best = max(best, len(p))
    return best


@dataclass
class Selection:
    """Which findings a run reports: rule ids (or prefixes) selected and ignored, and inline suppressions.

    An empty ``select`` selects every rule. When a rule matches both lists the longer
    (more specific) entry wins, as in ruff; on a tie ``ignore`` wins.
    ``read_line`` gives the text of a file's line (tests pass their own; by default the file is read once).
    """

    select: Sequence[str] = ()
    ignore: Sequence[str] = ()
    inline: bool = True
    read_line: Callable[[str, int], str | None] | None = None
    _files: dict[str, list[str] | None] = field(default_factory=dict, repr=False)

    def selects(self, rule: str) -> bool:
        """Whether `rule` is reported under ``select``/``ignore``."""
        chosen = _matches(rule, self.select) if self.select else 0
        if chosen < 0:
            return False
        return _matches(rule, self.ignore) < chosen

    def suppressed(self, issue: Issue) -> bool:
        """Whether a ``# flyteres: ignore`` comment on the issue's line suppresses it."""
        if not self.inline or issue.path is None or issue.line is None:
            return False
        text = self._line(issue.path, issue.line)
        rules = None if text is None else suppression(text)
        return rules is not None and (not rules or issue.rule in rules)

    def apply(self, issues: Iterable[Issue]) -> Selected:
        """The issues this selection keeps, with the counts it left out."""
        out = Selected([])
        for issue in issues:
            if not self.selects(issue.rule):
                out.ignored += 1
            elif self.suppressed(issue):
                out.suppressed += 1
            else:
                out.kept.append(issue)
        return out

    def _line(self, path: str, line: int) -> str | None:
        if self.read_line is not None:
            return self.read_line(path, line)
        if path not in self._files:
            try:
                # Finding lines point into files the command just parsed: text it could read.
                self._files[path] = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                self._files[path] = None
        lines = self._files[path]
        return lines[line - 1] if lines is not None and 0 < line <= len(lines) else None


def exit_code(kept: Iterable[Issue], errors: Sequence[str] = ()) -> int:
    """Every command's exit code: 2 on an input error, 1 when a kept finding is an error or warning, else 0."""
    if errors:
        return 2
    return 1 if any(i.level is not Level.NOTE for i in kept) else 0


def hidden_text(suppressed: int, ignored: int) -> str:
    """A text summary's tail for the findings a selection left out (empty when it left out none).

    >>> hidden_text(1, 2)
    '; 1 suppressed inline, 2 not selected'
    """
    parts = [f"{suppressed} suppressed inline"] * bool(suppressed) + [f"{ignored} not selected"] * bool(ignored)
    return f"; {', '.join(parts)}" if parts else ""
