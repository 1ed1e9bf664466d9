"""Run the codemod over files: discovery, prefilter, processes, atomic writes, reports.

Each file is read as bytes and decoded with the encoding its coding cookie
(or BOM) names, so line endings are never translated, and written back the
same way through a temporary file in the same directory and `os.replace`
(keeping the file's permissions). A file that cannot be read, decoded or
parsed is reported as failed and left alone; nothing raises.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import os
import stat
import tempfile
import tokenize
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from flyteres._model import Policy
from flyteres.migrate._transform import Environment, Site, Status, Target, migrate

__all__ = ["SKIPPED_DIRECTORIES", "FileReport", "Options", "RunReport", "discover", "might_declare", "run"]

Mode = Literal["diff", "check", "write"]

#: Directories never searched (besides hidden ones).
SKIPPED_DIRECTORIES = frozenset({".venv", "venv", "node_modules", "__pycache__", "build", "dist"})

REPORT_SCHEMA = "flyteres.migrate/1"

# A file needs a flytekit (or Union) import for any declaration to resolve, and
# one of these words for there to be a declaration at all.
_PACKAGES = ("flytekit", "union")
_WORDS = ("Resources", "with_overrides", "accelerator", "shared_memory", "requests", "limits")


def might_declare(text: str) -> bool:
    """Cheap prefilter: False when the text cannot hold a flytekit resource declaration.

    >>> might_declare("import os\\nprint(os.getcwd())\\n")
    False
    >>> might_declare("from flytekit import Resources\\n")
    True
    """
    return any(p in text for p in _PACKAGES) and any(w in text for w in _WORDS)


@dataclass(frozen=True)
class Options:
    """What to do with each file."""

    target: Target = "flyte"
    policy: Policy = "kubernetes"
    mode: Mode = "diff"


@dataclass(frozen=True)
class FileReport:
    """The outcome for one file (picklable: it comes back from worker processes)."""

    path: str
    status: Status
    reason: str | None = None
    sites: tuple[Site, ...] = ()
    environments: tuple[Environment, ...] = ()
    diff: str | None = None
    written: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path,
            "status": self.status,
            "reason": self.reason,
            "written": self.written,
            "sites": [s.to_dict() for s in self.sites],
            "environments": [e.to_dict() for e in self.environments],
        }
        if self.diff is not None:
            out["diff"] = self.diff
        return out


@dataclass
class RunReport:
    """Every file's outcome in path order, and the totals."""

    options: Options
    files: list[FileReport] = field(default_factory=list)

    def count(self, status: Status) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def sites(self) -> Iterator[tuple[FileReport, Site]]:
        for f in self.files:
            for s in f.sites:
                yield f, s

    def summary(self) -> dict[str, Any]:
        by_rule: Counter[str] = Counter()
        by_kind: Counter[str] = Counter()
        by_source: Counter[str] = Counter()
        rewritten = untouched = decided = 0
        for _, site in self.sites:
            if site.action == "rewritten":
                rewritten += 1
                decided += site.decided_by_policy
            else:
                untouched += 1
            for finding in site.findings:
                by_rule[finding.rule] += 1
                by_kind[finding.kind] += 1
                by_source[finding.source] += 1
        return {
            "files": len(self.files),
            "changed": self.count("changed"),
            "unchanged": self.count("unchanged"),
            "skipped": self.count("skipped"),
            "failed": self.count("failed"),
            "sites_rewritten": rewritten,
            "sites_untouched": untouched,
            "sites_decided_by_policy": decided,
            "findings_by_rule": dict(sorted(by_rule.items())),
            "findings_by_kind": dict(sorted(by_kind.items())),
            "findings_by_source": dict(sorted(by_source.items())),
        }

    def exit_code(self) -> int:
        """0: nothing to change (or written); 1: --check/--diff found changes; 2: a file failed."""
        if self.count("failed"):
            return 2
        if self.options.mode != "write" and self.count("changed"):
            return 1
        return 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": REPORT_SCHEMA,
            "target": self.options.target,
            "policy": self.options.policy,
            "mode": self.options.mode,
            "exit_code": self.exit_code(),
            "summary": self.summary(),
            "files": [f.to_dict() for f in self.files],
        }


# ---------------------------------------------------------------------------------------------
# Files


def discover(paths: Iterable[Path]) -> list[Path]:
    """The files to process: files as given, `*.py` under directories, sorted, once each.

    Hidden directories and SKIPPED_DIRECTORIES are not entered. A path that
    does not exist is kept (it is reported as failed).
    """
    found: dict[str, Path] = {}
    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRECTORIES)
                for name in files:
                    if name.endswith(".py"):
                        p = Path(root) / name
                        found.setdefault(os.path.normpath(p), p)
        else:
            found.setdefault(os.path.normpath(path), path)
    return [found[k] for k in sorted(found)]


def _decode(data: bytes) -> tuple[str, str]:
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return data.decode(encoding), encoding


def write_atomic(path: Path, text: str, encoding: str) -> None:
    """Replace `path` with `text` in one step, keeping its permissions and line endings."""
    mode = stat.S_IMODE(path.stat().st_mode)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # newline="" writes the text's own line endings (CRLF stays CRLF).
        with os.fdopen(fd, "w", encoding=encoding, newline="") as fh:
            fh.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def process_file(path: Path, options: Options) -> FileReport:
    """Migrate one file according to `options`; never raises."""
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return FileReport(name, "failed", reason=f"cannot read: {exc.strerror or exc}")
    try:
        text, encoding = _decode(data)
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        return FileReport(name, "failed", reason=f"cannot decode: {exc}")
    if not might_declare(text):
        return FileReport(name, "skipped", reason="no flytekit resource declaration")
    try:
        result = migrate(text, path=name, target=options.target, policy=options.policy, reparse=options.mode != "check")
    except Exception as exc:  # one bad file must not stop a repository-wide run
        return FileReport(name, "failed", reason=f"internal error: {type(exc).__name__}: {exc}")
    diff = None
    written = False
    if result.changed and options.mode == "diff":
        diff = "".join(
            difflib.unified_diff(
                text.splitlines(keepends=True),
                result.code.splitlines(keepends=True),
                fromfile=name,
                tofile=name,
            )
        )
    if result.changed and options.mode == "write":
        try:
            write_atomic(path, result.code, encoding)
            written = True
        except OSError as exc:
            return FileReport(name, "failed", f"cannot write: {exc.strerror or exc}", result.sites, result.environments)
    return FileReport(name, result.status, result.reason, result.sites, result.environments, diff, written)


def _process(item: tuple[Path, Options]) -> FileReport:
    return process_file(*item)


# Below this many files, starting worker processes costs more than it saves.
_PARALLEL_FROM = 24


def run(
    paths: Sequence[Path],
    options: Options,
    *,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RunReport:
    """Migrate every file under `paths`; results come back in path order.

    >>> report = run([], Options(mode="check"))
    >>> report.exit_code(), report.summary()["files"]
    (0, 0)
    """
    files = discover(paths)
    report = RunReport(options)
    workers = jobs or os.cpu_count() or 1
    items = [(f, options) for f in files]
    if workers <= 1 or len(files) < _PARALLEL_FROM:
        results: Iterable[FileReport] = map(_process, items)
        for done, r in enumerate(results, 1):
            report.files.append(r)
            if progress is not None:
                progress(done, len(files))
        return report
    chunk = max(1, min(32, len(files) // (workers * 8)))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for done, r in enumerate(pool.map(_process, items, chunksize=chunk), 1):
            report.files.append(r)
            if progress is not None:
                progress(done, len(files))
    return report
