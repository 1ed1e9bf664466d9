"""Run the codemod over files: discovery, prefilter, processes, atomic writes, reports.

Two passes, so an override can be merged with a task of another module of
the run. The first migrates every file and records its module-level tasks
(`flyteres.migrate.index`); a file whose overrides name a task of another
module is held back (neither diffed nor written) and migrated again in the
second pass with the tasks of the modules it named. Both passes run in
worker processes; results are the same for any number of workers.

Each file is read as bytes and decoded with the encoding its coding cookie
(or BOM) names, so line endings are never translated, and written back the
same way through a temporary file in the same directory and `os.replace`
(keeping the file's permissions). A file that cannot be read, decoded or
parsed is reported as failed and left alone; nothing raises.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import io
import os
import stat
import tempfile
import tokenize
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from flyteres.core.options import Policy
from flyteres.migrate.index import TaskIndex, TaskInfo, module_names
from flyteres.migrate.options import MigrationTarget
from flyteres.migrate.program import groups
from flyteres.migrate.results import Blocker, Environment, MigrationChanged, MigrationResult, Site, Status
from flyteres.migrate.rules import MigrateRule
from flyteres.migrate.tidy import project_line_length
from flyteres.migrate.transform import migrate_module, stay
from flyteres.source import files as discovery

__all__ = ["SKIPPED_DIRECTORIES", "FileReport", "Options", "RunReport", "discover", "might_declare", "run"]

Mode = Literal["diff", "check", "write"]

#: Directories never searched (besides hidden ones, virtualenvs and site-packages; see flyteres.source.files).
SKIPPED_DIRECTORIES = discovery.SKIPPED_DIRECTORIES

REPORT_SCHEMA = "flyteres.migrate/1"

#: flytekit's `@task(resources=...)` form, which `--target flytekit` writes, needs this release or later.
FLYTEKIT_RESOURCES_FORM = "1.15.3"

# A file needs a flytekit (or Union) import for any declaration to resolve, and
# one of these words for there to be a declaration at all.
_PACKAGES = ("flytekit", "union")
_WORDS = ("Resources", "with_overrides", "accelerator", "shared_memory", "requests", "limits")


def might_declare(text: str, target: MigrationTarget = MigrationTarget.FLYTEKIT) -> bool:
    """Cheap prefilter: False when the text cannot hold a flytekit resource declaration
    (for `--target flyte`, anything of flytekit: a plain task moves with its group too).

    >>> might_declare("import os\\nprint(os.getcwd())\\n")
    False
    >>> might_declare("from flytekit import Resources\\n")
    True
    >>> plain = "from flytekit import task\\n"
    >>> might_declare(plain), might_declare(plain, MigrationTarget.FLYTE)
    (False, True)
    """
    if not any(p in text for p in _PACKAGES):
        return False
    return target == MigrationTarget.FLYTE or any(w in text for w in _WORDS)


@dataclass(frozen=True)
class Options:
    """What to do with each file."""

    target: MigrationTarget = MigrationTarget.FLYTE
    policy: Policy = Policy.KUBERNETES
    mode: Mode = "diff"
    #: `--mark`: a `# TODO(flyteres): ...` comment at each construct that keeps a group on flytekit.
    mark: bool = False


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
    #: `--target flyte`: the constructs of this file that keep its group on flytekit.
    blockers: tuple[Blocker, ...] = ()
    #: `--target flyte`: the group of modules it moves (or stays) with, named by its first module.
    group: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path,
            "status": self.status,
            "reason": self.reason,
            "written": self.written,
            "sites": [s.to_dict() for s in self.sites],
            "environments": [e.to_dict() for e in self.environments],
            "blockers": [b.to_dict() for b in self.blockers],
            "group": self.group,
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
            "blockers": sum(1 for _ in self.blockers),
            "remaining": self.remaining(),
            "findings_by_rule": dict(sorted(by_rule.items())),
            "findings_by_kind": dict(sorted(by_kind.items())),
            "findings_by_source": dict(sorted(by_source.items())),
        }

    @property
    def blockers(self) -> Iterator[Blocker]:
        """Every construct that keeps a group on flytekit (`--target flyte`), in file order."""
        for f in self.files:
            yield from f.blockers

    def remaining(self) -> int:
        """Sites and constructs that could not be migrated (what CI fails `--check` on)."""
        untouched = sum(1 for _, s in self.sites if s.action == "untouched")
        # A blocker that is not a site (a workflow, `conditional`...) counts once more.
        sites = {(f.path, s.line) for f, s in self.sites if s.action == "untouched"}
        return untouched + sum(1 for b in self.blockers if (b.path, b.line) not in sites)

    def exit_code(self) -> int:
        """0: nothing to change (or written); 1: --check/--diff found changes, or sites that
        could not be migrated remain; 2: a file failed."""
        if self.count("failed"):
            return 2
        if self.options.mode != "write" and (self.count("changed") or self.remaining()):
            return 1
        return 0

    def requires(self) -> dict[str, str]:
        """The SDK releases the rewritten code needs (`{"flytekit": ">=1.15.3"}`), when any."""
        rewritten = any(s.action == "rewritten" for _, s in self.sites)
        if self.options.target == MigrationTarget.FLYTEKIT and rewritten:
            return {"flytekit": f">={FLYTEKIT_RESOURCES_FORM}"}
        return {}

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": REPORT_SCHEMA,
            "target": self.options.target,
            "policy": self.options.policy,
            "mode": self.options.mode,
            "exit_code": self.exit_code(),
            "requires": self.requires(),
            "summary": self.summary(),
            "files": [f.to_dict() for f in self.files],
        }


# ---------------------------------------------------------------------------------------------
# Files


def discover(paths: Iterable[Path], *, exclude: Sequence[str] = (), include: Sequence[str] = ()) -> list[Path]:
    """The files to process: files as given, `*.py` under directories, sorted, once each.

    The discovery every command shares (`flyteres.source.files.discover`:
    `.gitignore`, virtualenvs, site-packages, hidden and build directories
    and `exclude` patterns are left out). A path that does not exist is
    kept (it is reported as failed); one that is not a regular file is not
    (`run` reports it as skipped).
    """
    found = discovery.discover(paths, exclude=exclude, include=include)
    return sorted([*found.files, *found.missing], key=os.path.normpath)


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


@dataclass(frozen=True)
class _Outcome:
    """A worker's answer: the migration (None while the file waits for the second pass, or
    `report` when reading failed), the module's tasks, the other modules' tasks its
    overrides named, and what grouping needs (`flyteres.migrate.program`)."""

    report: FileReport | None
    tasks: tuple[TaskInfo, ...] = ()
    wanted: frozenset[str] = frozenset()
    result: MigrationResult | None = None
    source: str = ""
    encoding: str = "utf-8"
    blockers: tuple[Blocker, ...] = ()
    links: frozenset[str] = frozenset()
    flytekit: bool = False
    #: Why the file stays as written with its group (`--target flyte`), when it does.
    group_reason: str | None = None
    #: Its group (`--target flyte`), when it holds flytekit constructs.
    group: str | None = None


def process_file(
    path: Path, options: Options, *, module: str | None = None, index: TaskIndex | None = None
) -> FileReport:
    """Migrate one file according to `options`; never raises.

    `module` is the file's dotted name and `index` the tasks of other modules
    (see `flyteres.migrate.index`); without them, overrides on imported tasks
    are left as written. The file is a group of its own.
    """
    outcome = _process_file(path, options, module, index, defer=False)
    if outcome.report is not None:
        return outcome.report
    assert outcome.result is not None
    report = _finish(path, options, outcome.source, outcome.encoding, outcome.result)
    if outcome.blockers and report.reason is None:
        report = dataclasses.replace(report, reason=_blocked(outcome.blockers))
    return report


def _blocked(blockers: Sequence[Blocker]) -> str:
    first = blockers[0]
    more = f" and {len(blockers) - 1} more" if len(blockers) > 1 else ""
    return (
        f"its group of modules stays on flytekit ({first.path}:{first.line}: {first.construct}{more} "
        "cannot move, and Flyte 2 cannot run half a program)"
    )


def _process_file(
    path: Path,
    options: Options,
    module: str | None,
    index: TaskIndex | None,
    *,
    defer: bool,
    imported_elsewhere: frozenset[str] = frozenset(),
) -> _Outcome:
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return _Outcome(FileReport(name, "failed", reason=f"cannot read: {exc.strerror or exc}"))
    try:
        text, encoding = _decode(data)
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        return _Outcome(FileReport(name, "failed", reason=f"cannot decode: {exc}"))
    if not might_declare(text, options.target):
        return _Outcome(FileReport(name, "skipped", reason="no flytekit resource declaration"))
    try:
        outcome = migrate_module(
            text,
            path=name,
            target=options.target,
            policy=options.policy,
            reparse=options.mode != "check",
            module=module,
            index=index,
            todo=options.mark,
            # --check shows no code, so nothing is wrapped (whether a file changes does not depend on it).
            line_length=project_line_length(path) if options.mode != "check" else None,
            imported_elsewhere=imported_elsewhere,
        )
    except Exception as exc:  # one bad file must not stop a repository-wide run
        return _Outcome(FileReport(name, "failed", reason=f"internal error: {type(exc).__name__}: {exc}"))
    if defer and outcome.wanted:
        return _Outcome(None, outcome.tasks, outcome.wanted)
    tasks = outcome.tasks
    if outcome.result.status == "failed":
        # The file stays as it was, so none of its tasks moved to Flyte 2.
        tasks = tuple(dataclasses.replace(t, converted=False) for t in tasks)
    return _Outcome(
        None,
        tasks,
        outcome.wanted,
        outcome.result,
        text,
        encoding,
        outcome.blockers,
        outcome.links,
        outcome.flytekit,
    )


def _finish(path: Path, options: Options, text: str, encoding: str, result: MigrationResult) -> FileReport:
    name = str(path)
    match result:
        case MigrationChanged(code=code, sites=sites, environments=environments) if options.mode == "diff":
            lines = difflib.unified_diff(
                text.splitlines(keepends=True), code.splitlines(keepends=True), fromfile=name, tofile=name
            )
            return FileReport(
                name, result.status, None, sites, environments, diff="".join(lines), blockers=result.blockers
            )
        case MigrationChanged(code=code, sites=sites, environments=environments) if options.mode == "write":
            try:
                write_atomic(path, code, encoding)
            except OSError as exc:
                reason = f"cannot write: {exc.strerror or exc}"
                return FileReport(name, "failed", reason, sites, environments, blockers=result.blockers)
            return FileReport(name, result.status, None, sites, environments, written=True, blockers=result.blockers)
        case _:  # --check, or no new code
            return FileReport(
                name, result.status, result.reason, result.sites, result.environments, blockers=result.blockers
            )


def _first(item: tuple[Path, Options, str | None]) -> _Outcome:
    path, options, module = item
    return _process_file(path, options, module, None, defer=True)


def _second(item: tuple[Path, Options, str | None, TaskIndex]) -> _Outcome:
    path, options, module, index = item
    return _process_file(path, options, module, index, defer=False)


# Below this many files, starting worker processes costs more than it saves.
_PARALLEL_FROM = 24


def run(
    paths: Sequence[Path],
    options: Options,
    *,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    exclude: Sequence[str] = (),
    include: Sequence[str] = (),
) -> RunReport:
    """Migrate every file under `paths`; results come back in path order.

    `exclude` and `include` are git-style patterns (see `discover`).

    >>> report = run([], Options(mode="check"))
    >>> report.exit_code(), report.summary()["files"]
    (0, 0)
    """
    found = discovery.discover(paths, exclude=exclude, include=include)
    files = sorted([*found.files, *found.missing], key=os.path.normpath)
    names = module_names(files)
    report = RunReport(options)
    workers = jobs or os.cpu_count() or 1
    total = len(files)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    with contextlib.ExitStack() as stack:
        pool: ProcessPoolExecutor | None = None

        def mapped(func: Callable[[Any], _Outcome], items: Sequence[Any]) -> Iterator[_Outcome]:
            nonlocal pool
            if workers <= 1 or len(items) < _PARALLEL_FROM:
                return map(func, items)
            if pool is None:
                pool = stack.enter_context(ProcessPoolExecutor(max_workers=workers))
            chunk = max(1, min(32, len(items) // (workers * 8)))
            return pool.map(func, items, chunksize=chunk)

        first: list[_Outcome] = []
        for outcome in mapped(_first, [(f, options, names[f]) for f in files]):
            first.append(outcome)
            if outcome.report is not None or outcome.result is not None:
                tick()
        index = _index(first, names, files)
        held = [i for i, o in enumerate(first) if o.report is None and o.result is None]
        items = [(files[i], options, names[files[i]], _wanted(index, first[i].wanted)) for i in held]
        outcomes = list(first)
        for i, outcome in zip(held, mapped(_second, items), strict=True):
            outcomes[i] = outcome
            tick()
    if options.target == MigrationTarget.FLYTE:
        outcomes = _whole_groups(outcomes, names, files, options)
    else:
        outcomes = _shared_constants(outcomes, names, files, options)
    reports = []
    for path, o in zip(files, outcomes, strict=True):
        if o.report is not None:
            reports.append(o.report)
        elif o.result is not None:
            done_report = _finish(path, options, o.source, o.encoding, o.result)
            if o.group_reason is not None:
                done_report = dataclasses.replace(done_report, reason=o.group_reason)
            if o.group is not None:
                done_report = dataclasses.replace(done_report, group=o.group)
            reports.append(done_report)
    # Anything that is not a regular file (a FIFO named *.py) is reported, never opened.
    skipped = [FileReport(str(p), "skipped", reason=reason) for p, reason in found.skipped]
    for r in sorted([*reports, *skipped], key=lambda r: os.path.normpath(r.path)):
        report.files.append(r)
    return report


def _whole_groups(
    outcomes: Sequence[_Outcome], names: Mapping[Path, str | None], files: Sequence[Path], options: Options
) -> list[_Outcome]:
    """Every module of a group any of whose modules keeps a blocker stays as written (see
    `flyteres.migrate.program`); a file without a dotted name of its own is a group alone."""
    counts = Counter(n for n in names.values() if n is not None)
    keys = []
    for path in files:
        module = names[path]
        keys.append(module if module is not None and counts[module] == 1 else f"<file>{path}")
    group_of = groups(
        {k: o.links for k, o in zip(keys, outcomes, strict=True)},
        frozenset(k for k, o in zip(keys, outcomes, strict=True) if o.flytekit),
    )
    blocked: dict[str, list[Blocker]] = {}
    for key, path, o in zip(keys, files, outcomes, strict=True):
        if o.flytekit and o.result is not None and o.result.status == "failed":
            # Nothing of a file that cannot be rewritten moves, so nothing of its group may.
            reason = o.result.reason or "the file cannot be migrated"
            blocked.setdefault(group_of[key], []).append(
                Blocker(str(path), 1, "the file", MigrateRule.UNSUPPORTED_CONSTRUCT.value, reason)
            )
        blocked.setdefault(group_of[key], []).extend(o.blockers)
    out = []
    for key, o in zip(keys, outcomes, strict=True):
        found = blocked.get(group_of[key])
        result = o.result
        if o.flytekit:
            o = dataclasses.replace(o, group=group_of[key])  # noqa: PLW2901 - the same file, with its group
        if not found or result is None or result.status in ("failed", "skipped"):
            out.append(o)
            continue
        reason = _blocked(found)
        if not o.blockers:
            result = stay(result.path, o.source, result.sites, (), reason, todo=options.mark)
        out.append(dataclasses.replace(o, result=result, tasks=(), group_reason=reason))
    return out


def _shared_constants(
    outcomes: Sequence[_Outcome], names: Mapping[Path, str | None], files: Sequence[Path], options: Options
) -> list[_Outcome]:
    """`--target flytekit`: a module whose rewrite changed the definition of a constant another
    module of the run imports is migrated again with that definition left as written (the
    values go inline at its own uses), so the constant means the same everywhere."""
    imported: set[str] = set()
    for o in outcomes:
        imported |= o.links
    out = list(outcomes)
    for i, (path, o) in enumerate(zip(files, outcomes, strict=True)):
        module = names[path]
        if module is None or o.result is None:
            continue
        defined = {s.name for s in o.result.sites if s.kind == "resources" and s.action == "rewritten"}
        # `import pkg.consts` (then `pkg.consts.X`) may use any of them.
        shared = frozenset(d for d in defined if f"{module}.{d}" in imported or module in imported)
        if shared:
            out[i] = _process_file(path, options, module, None, defer=False, imported_elsewhere=shared)
    return out


def _index(outcomes: Sequence[_Outcome], names: Mapping[Path, str | None], files: Sequence[Path]) -> TaskIndex:
    """The tasks of every module of the run, leaving out names two files share."""
    counts = Counter(n for n in names.values() if n is not None)
    out: dict[str, dict[str, TaskInfo]] = {}
    for path, outcome in zip(files, outcomes, strict=True):
        module = names[path]
        if module is None or counts[module] > 1:
            continue
        for task in outcome.tasks:
            out.setdefault(module, {})[task.name] = task
    return out


def _wanted(index: TaskIndex, wanted: Iterable[str]) -> TaskIndex:
    """The part of the index a file needs (it travels to a worker process)."""
    out: dict[str, Mapping[str, TaskInfo]] = {}
    for name in sorted(wanted):
        module = name.rpartition(".")[0]
        if module in index:
            out[module] = index[module]
    return out
