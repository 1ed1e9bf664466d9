"""The library behind ``flyteres check``: which tasks a platform will refuse, cap or leave without limits.

Every flytekit task declaration in the given files is found statically (the
codemod's finder; the modules are never imported) and replayed through
`effective` under the platform's flyteadmin defaults and limits (with the
built-ins a platform file leaves in place) and, optionally, the namespace's
ResourceQuotas and LimitRanges. ``with_overrides`` calls are checked against
the task they override, inside a ``@dynamic`` as the backend runs them there.
Each declaration gets one verdict: what refuses it first (flyteadmin at
registration, else Kubernetes at admission), and nothing after that.

Exit codes: 0 nothing found, 1 something found, 2 a usage or input error (a
file that cannot be read or parsed, a malformed platform or quota file).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flyteres.backend.config import PlatformConfig, PlatformNote, QuotaSpec
from flyteres.backend.effective import effective
from flyteres.backend.manifests import LimitRangeSpec
from flyteres.backend.results import EffectiveResources, Launch, PlatformFinding, Severity

if TYPE_CHECKING:
    from flyteres.core.spec import ResourceSpec
    from flyteres.source.analysis import Declaration

__all__ = ["CheckReport", "CheckedDeclaration", "check_paths"]

# DeclarationKind values (a str enum); the finder (and libcst) is imported only when a check runs,
# so registering the command keeps the CLI's start-up light.
_TASK_KINDS = frozenset({"task", "dynamic", "eager", "container_task"})
_OVERRIDE_KINDS = frozenset({"with_overrides", "map_task_overrides"})
_SKIP_DIRS = frozenset({".git", ".venv", "venv", "__pycache__", "node_modules", ".tox", ".mypy_cache"})


@dataclass(frozen=True)
class CheckedDeclaration:
    """One declaration and what the platform does to it (``result`` is None when it was not evaluated)."""

    declaration: Declaration
    launch: Launch
    result: EffectiveResources | None
    skipped: str | None = None

    @property
    def problems(self) -> tuple[PlatformFinding, ...]:
        if self.result is None:
            return ()
        return tuple(f for f in self.result.findings if f.severity is not Severity.INFO)

    @property
    def location(self) -> str:
        return f"{self.declaration.path}:{self.declaration.line}"

    @property
    def title(self) -> str:
        d = self.declaration
        if d.kind.value in _OVERRIDE_KINDS:
            return f"{d.kind.value} of {d.target or d.name!r}"
        return f"{d.kind.value} {d.name!r}"

    def to_dict(self) -> dict[str, Any]:
        d = self.declaration
        out: dict[str, Any] = {
            "path": d.path,
            "line": d.line,
            "kind": d.kind.value,
            "name": d.name,
            "target": d.target,
            "launch": self.launch,
            "spec": None if d.spec is None else d.spec.to_dict(),
        }
        if self.skipped is not None:
            out["skipped"] = self.skipped
        if self.result is not None:
            out["rejected"] = self.result.rejected
            out["resources"] = self.result.to_k8s()
            out["findings"] = [f.to_dict() for f in self.result.findings]
            out["explanations"] = [str(e) for e in self.result.explanations]
        return out


@dataclass
class CheckReport:
    """Everything ``check`` found, in file order."""

    checked: list[CheckedDeclaration] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[PlatformNote] = field(default_factory=list)

    @property
    def problems(self) -> list[CheckedDeclaration]:
        return [c for c in self.checked if c.problems]

    @property
    def exit_code(self) -> int:
        if self.errors:
            return 2
        return 1 if self.problems else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "exit_code": self.exit_code,
            "summary": {
                "declarations": len(self.checked),
                "with_problems": len(self.problems),
                "rejected": sum(1 for c in self.checked if c.result is not None and c.result.rejected),
                "skipped": sum(1 for c in self.checked if c.skipped is not None),
            },
            "declarations": [c.to_dict() for c in self.checked],
            "errors": list(self.errors),
            "notes": [str(n) for n in self.notes],
        }

    def lines(self) -> Iterator[str]:
        """The plain-text report: one line per finding, ``path:line: what: [rule] field = value: reason``."""
        for n in self.notes:
            yield f"note: {n}"
        for c in self.checked:
            for f in c.problems:
                yield f"{c.location}: {c.title}: {f.severity}: {f}"
        for c in self.checked:
            if c.skipped is not None:
                yield f"{c.location}: {c.title}: not checked: {c.skipped}"
        for e in self.errors:
            yield f"error: {e}"
        rejected = sum(1 for c in self.checked if c.result is not None and c.result.rejected)
        yield (
            f"{len(self.problems)} of {len(self.checked)} declaration(s) would be refused, changed or left "
            f"without limits ({rejected} refused at registration)"
        )


def _python_files(paths: Sequence[Path], errors: list[str]) -> Iterator[Path]:
    for p in paths:
        if p.is_dir():
            for f in sorted(p.rglob("*.py")):
                if not _SKIP_DIRS.intersection(f.relative_to(p).parts):
                    yield f
        elif p.is_file():
            yield p
        else:
            errors.append(f"{p}: no such file or directory")


def _dynamic_spans(source: str) -> list[tuple[int, int]]:
    """Line spans of functions decorated with ``@dynamic`` (their overrides run without flyteadmin's launch step)."""
    spans: list[tuple[int, int]] = []
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return spans
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for dec in node.decorator_list:
                target = dec.func if isinstance(dec, ast.Call) else dec
                name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
                if name == "dynamic":
                    spans.append((node.lineno, node.end_lineno or node.lineno))
    return spans


def check_paths(
    paths: Sequence[str | Path],
    platform: PlatformConfig,
    quotas: Sequence[QuotaSpec] = (),
    limitranges: Sequence[LimitRangeSpec] = (),
) -> CheckReport:
    """Check every task declaration under ``paths`` against a platform (and the namespace's quotas and LimitRanges).

    >>> from flyteres.platform import parse_platform
    >>> report = check_paths([], parse_platform("task_resources: {limits: {memory: 8Gi}}"))
    >>> report.exit_code
    0
    """
    from flyteres.source.analysis import SourceParseError, find_declarations  # noqa: PLC0415 - see _TASK_KINDS

    builtins = platform.builtins_note()
    report = CheckReport(
        notes=[
            *platform.notes,
            *(() if builtins is None else (builtins,)),
            *(n for q in quotas for n in q.notes),
            *(n for lr in limitranges for n in lr.notes),
        ]
    )
    found: list[tuple[Declaration, list[tuple[int, int]]]] = []
    for path in _python_files([Path(p) for p in paths], report.errors):
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            report.errors.append(f"{path}: cannot be read: {exc}")
            continue
        try:
            declarations = find_declarations(source, str(path))
        except SourceParseError as exc:
            report.errors.append(str(exc))
            continue
        spans = _dynamic_spans(source) if any(d.kind.value in _OVERRIDE_KINDS for d in declarations) else []
        found += [(d, spans) for d in declarations]

    tasks: dict[str, list[Declaration]] = {}
    for d, _ in found:
        if d.kind.value in _TASK_KINDS:
            tasks.setdefault(d.name, []).append(d)

    for d, spans in found:
        report.checked.append(_check_one(d, spans, tasks, _Target(platform, tuple(quotas), tuple(limitranges))))
    return report


@dataclass(frozen=True)
class _Target:
    """Where the tasks run: the platform and the namespace's quotas and LimitRanges."""

    platform: PlatformConfig
    quotas: tuple[QuotaSpec, ...]
    limitranges: tuple[LimitRangeSpec, ...]

    def run(
        self, spec: ResourceSpec, overrides: ResourceSpec | None = None, launch: Launch = Launch.WORKFLOW
    ) -> EffectiveResources:
        """`effective` of one declaration here."""
        return effective(
            spec, self.platform, overrides, launch=launch, quotas=self.quotas, limitranges=self.limitranges
        )


def _check_one(
    d: Declaration, spans: list[tuple[int, int]], tasks: dict[str, list[Declaration]], target: _Target
) -> CheckedDeclaration:
    if d.kind.value not in _TASK_KINDS and d.kind.value not in _OVERRIDE_KINDS:
        return CheckedDeclaration(d, Launch.WORKFLOW, None, "not a container task whose resources flyteres can replay")
    if d.spec is None:
        return CheckedDeclaration(d, Launch.WORKFLOW, None, d.reason or "cannot be evaluated statically")
    if d.kind.value in _TASK_KINDS:
        return CheckedDeclaration(d, Launch.WORKFLOW, target.run(d.spec))
    launch = Launch.DYNAMIC if any(a <= d.line <= b for a, b in spans) else Launch.WORKFLOW
    name = (d.target or d.name).rsplit(".", 1)[-1]
    candidates = tasks.get(name, [])
    same_file = [t for t in candidates if t.path == d.path]
    chosen = same_file or candidates
    if len(chosen) != 1:
        why = "is not declared in the checked files" if not chosen else "is declared more than once"
        return CheckedDeclaration(d, launch, None, f"the overridden task {name!r} {why}")
    base = chosen[0]
    if base.spec is None:
        return CheckedDeclaration(
            d, launch, None, f"the overridden task's resources cannot be evaluated statically: {base.reason}"
        )
    return CheckedDeclaration(d, launch, target.run(base.spec, d.spec, launch))
