"""Run the codemod over files: discovery, prefilter, worker processes, verified writes, reports.

Two passes, so an override can be merged with a task of another module of
the run. The first migrates every file and records its module-level tasks
(`flyteres.migrate.index`); a file whose overrides name a task of another
module is held back (neither diffed nor written) and migrated again in the
second pass with the tasks of the modules it named. Both passes run in
worker processes that may die (`flyteres.source.workers`): a file that
crashes libcst's native parser costs that file, reported as failed, and the
run goes on. Results are the same for any number of workers.

Each file is read as bytes (`flyteres.source.files.read_source`: never
blocking, at most `MAX_FILE_BYTES`) and decoded with the encoding its coding
cookie (or BOM) names, so line endings are never translated. The new text is
encoded back only when that gives exactly what the diff shows
(`flyteres.migrate.writes.encode_exactly`); otherwise the file fails with the
reason, in every mode. Workers never write: this process writes each file
(`flyteres.migrate.writes.replace_file`) once every group is decided (below),
after checking that it still holds the bytes that were read.

Which path is written: a file is migrated once, whatever names lead to it. A
symbolic link is followed only when its real path is inside the tree being
processed (a directory given on the command line, or the directory of a file
given); the real file is written, so the link stays a link. A link that
leads out of the tree is reported and left alone. Names that are the same file
(links, hard links) after the first are reported as such.

`--target flyte` decides groups of modules after both passes
(`flyteres.migrate.program`): a group moves completely or stays as written.
Then every file of a group is checked (unchanged since it was read, writable:
`flyteres.migrate.writes.check_file`) before any of them is written, so a
group is written whole or not at all; under `--target flytekit` each file is
a group of its own. Only a file that changes between that check and its own
write can leave its group partly written; its reason says so.

A file that cannot be read, decoded or parsed is reported as failed and left
alone; nothing raises.

(Longer than most modules: the run's one pipeline, from discovery through the
passes and grouping to the writes, reads best in one place.)
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import functools
import gc
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from flyteres.core.options import Policy
from flyteres.migrate.diffs import split_lines, unified_diff
from flyteres.migrate.index import TaskIndex, TaskInfo, module_names
from flyteres.migrate.options import MigrationTarget
from flyteres.migrate.program import groups, import_links
from flyteres.migrate.results import (
    Blocker,
    Environment,
    MigrationChanged,
    MigrationFailed,
    MigrationResult,
    Site,
    Status,
)
from flyteres.migrate.rules import MigrateRule
from flyteres.migrate.tidy import project_line_length
from flyteres.migrate.transform import migrate_module, stay
from flyteres.migrate.writes import WriteResult, check_file, encode_exactly, replace_file
from flyteres.source import files as discovery
from flyteres.source.files import Fingerprint, read_source
from flyteres.source.modules import ModuleTable
from flyteres.source.workers import memory_share, run_isolated

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
#: The reason given for a file the prefilter leaves out (the CLI does not list these).
NO_DECLARATION = "no flytekit resource declaration"


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
    #: --write: the migration changed the file, but it was not written (`reason` says why).
    unwritten: bool = False
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
            "unwritten": self.unwritten,
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
            "written": sum(1 for f in self.files if f.written),
            "unwritten": sum(1 for f in self.files if f.unwritten),
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
        """0: nothing to change (or all written); 1: --check/--diff found changes, or sites that
        could not be migrated remain, or --write left changes unwritten (a file edited during
        the run, read-only); 2: a file failed."""
        if self.count("failed"):
            return 2
        if self.options.mode != "write" and (self.count("changed") or self.remaining()):
            return 1
        if any(f.unwritten for f in self.files):
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


@dataclass(frozen=True)
class _Outcome:
    """A worker's answer: the migration (None while the file waits for the second pass, or
    `report` when reading failed), the module's tasks, the other modules' tasks its
    overrides named, what grouping needs (`flyteres.migrate.program`), and in --write mode
    the bytes that were read with their fingerprint (the parent writes, see `_write_groups`)."""

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
    #: --write, when the migration changed the file: what was read, and its fingerprint.
    data: bytes | None = None
    fingerprint: Fingerprint | None = None


@dataclass(frozen=True)
class _Pending:
    """A file to write once its group is decided: where its report is, its real path, the bytes."""

    position: int
    target: Path
    new: bytes
    fingerprint: Fingerprint
    group: str


def process_file(
    path: Path, options: Options, *, module: str | None = None, index: TaskIndex | None = None
) -> FileReport:
    """Migrate one file according to `options`, in this process; never raises.

    `module` is the file's dotted name and `index` the tasks of other modules
    (see `flyteres.migrate.index`); without them, overrides on imported tasks
    are left as written. The file is a group of its own. In --write mode the
    file is written as `run` writes it.
    """
    outcome = _process_file(path, options, module, index, defer=False)
    if outcome.report is not None:
        return outcome.report
    report, new = _settle(path, options, outcome)
    if outcome.blockers and report.reason is None:
        report = dataclasses.replace(report, reason=_blocked(outcome.blockers))
    if new is None or outcome.fingerprint is None:
        return report
    return _written(report, replace_file(Path(os.path.realpath(path)), new, outcome.fingerprint))


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
    naming: str | None = None,
) -> _Outcome:
    name = str(path)
    source = read_source(path, keep_bytes=True)
    if source.error is not None:
        return _Outcome(
            FileReport(name, "failed", reason=f"cannot read: {source.error.removeprefix('cannot be read: ')}")
        )
    if source.text is None:
        if source.data is not None:  # read, but not text in the encoding it declares
            return _Outcome(FileReport(name, "failed", reason=f"cannot decode: {source.skipped}"))
        return _Outcome(FileReport(name, "skipped", reason=source.skipped))
    text, encoding = source.text, source.encoding
    if not might_declare(text, options.target):
        imports: frozenset[str] = frozenset()
        if options.target == MigrationTarget.FLYTE:
            # It may re-export another module's task (a package's __init__): grouping follows it.
            with contextlib.suppress(SyntaxError, ValueError, RecursionError, MemoryError):
                imports = import_links(ast.parse(text), module, name)
        return _Outcome(FileReport(name, "skipped", reason=NO_DECLARATION), links=imports)
    try:
        with _collection_paused():
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
                naming=naming,
            )
    except Exception as exc:  # one bad file must not stop a repository-wide run
        return _Outcome(FileReport(name, "failed", reason=f"internal error: {type(exc).__name__}: {exc}"))
    if defer and outcome.wanted:
        return _Outcome(None, outcome.tasks, outcome.wanted)
    result = outcome.result
    data: bytes | None = None
    if isinstance(result, MigrationChanged):
        assert source.data is not None
        # Checked here, in every mode, so a file that could not be written as its diff shows
        # fails before groups are decided (and keeps its group as written).
        encoded = encode_exactly(source.data, text, result.code, encoding)
        if isinstance(encoded, str):
            result = MigrationFailed(name, text, encoded, result.sites, result.environments)
        elif options.mode == "write":
            data = source.data
    tasks = outcome.tasks
    if result.status == "failed":
        # The file stays as it was, so none of its tasks moved to Flyte 2.
        tasks = _unconverted(tasks)
    return _Outcome(
        None,
        tasks,
        outcome.wanted,
        result,
        text,
        encoding,
        outcome.blockers,
        outcome.links,
        outcome.flytekit,
        data=data,
        fingerprint=source.fingerprint if data is not None else None,
    )


def _unconverted(tasks: tuple[TaskInfo, ...]) -> tuple[TaskInfo, ...]:
    return tuple(dataclasses.replace(t, converted=False) for t in tasks)


# Python's cycle collector, run again and again while a large module's trees grow, walks every
# node each time (it made time grow faster than the file); migrating creates no cycles worth
# chasing mid-file, so it waits until the file is done.
@contextlib.contextmanager
def _collection_paused() -> Iterator[None]:
    """Pause Python's cycle collector while one file is migrated, and collect after it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
            gc.collect(0)


def _finish(path: Path, options: Options, text: str, result: MigrationResult) -> FileReport:
    name = str(path)
    match result:
        case MigrationChanged(code=code, sites=sites, environments=environments) if options.mode == "diff":
            diff = unified_diff(split_lines(text), split_lines(code), name, name)
            return FileReport(name, result.status, None, sites, environments, diff=diff, blockers=result.blockers)
        case MigrationChanged(sites=sites, environments=environments):
            # --write: the run writes the bytes once groups are decided (see _write_groups); --check: nothing to write.
            return FileReport(name, result.status, None, sites, environments, blockers=result.blockers)
        case _:  # no new code
            return FileReport(
                name, result.status, result.reason, result.sites, result.environments, blockers=result.blockers
            )


def _settle(path: Path, options: Options, outcome: _Outcome) -> tuple[FileReport, bytes | None]:
    """A migrated file's report once its group is decided, and in --write mode the bytes to write."""
    assert outcome.result is not None
    result = outcome.result
    report = _finish(path, options, outcome.source, result)
    if options.mode != "write" or not isinstance(result, MigrationChanged):
        return report, None
    if outcome.data is None:  # the worker keeps what it read for every change it made
        return dataclasses.replace(report, status="failed", reason="internal error: the bytes read were lost"), None
    encoded = encode_exactly(outcome.data, outcome.source, result.code, outcome.encoding)
    if isinstance(encoded, str):
        return dataclasses.replace(report, status="failed", reason=encoded), None
    return report, encoded


def _written(report: FileReport, done: WriteResult) -> FileReport:
    """The report of a file once `replace_file` (or the check before it) said what became of it."""
    match done.status:
        case "written":
            return dataclasses.replace(report, written=True)
        case "skipped":
            return dataclasses.replace(report, status="skipped", reason=done.reason, unwritten=True)
        case _:
            return dataclasses.replace(report, status="failed", reason=done.reason)


def _write_groups(reports: list[FileReport], pending: Sequence[_Pending]) -> None:
    """Write every pending file, a group at a time: each file of a group is checked first (unchanged
    since it was read, writable), and none is written unless all of them may be."""
    by_group: dict[str, list[_Pending]] = {}
    for p in pending:
        by_group.setdefault(p.group, []).append(p)
    for group, members in by_group.items():
        refused = [(p, r) for p in members if (r := check_file(p.target, p.fingerprint)) is not None]
        if refused:
            first, why = refused[0]
            for p in members:
                own = next((r for q, r in refused if q is p), None)
                if own is None:
                    own = WriteResult(
                        "skipped",
                        f"its group of modules ({group}) is not written: {reports[first.position].path}: {why.reason}",
                    )
                reports[p.position] = _written(reports[p.position], own)
            continue
        for p in members:
            done = replace_file(p.target, p.new, p.fingerprint)
            if done.status != "written" and len(members) > 1:
                # Changed between the check and its write: the rest of the group is written.
                done = dataclasses.replace(
                    done, reason=f"{done.reason}; its group of modules ({group}) is partly written"
                )
            reports[p.position] = _written(reports[p.position], done)


def _first(item: tuple[Path, Options, str | None, str | None]) -> _Outcome:
    path, options, module, naming = item
    return _process_file(path, options, module, None, defer=True, naming=naming)


def _second(item: tuple[Path, Options, str | None, str | None, TaskIndex]) -> _Outcome:
    path, options, module, naming, index = item
    return _process_file(path, options, module, index, defer=False, naming=naming)


def _died(item: tuple[Any, ...], reason: str, *, memory: int | None = None) -> _Outcome:
    """The report of a file whose worker process died on it (or raised)."""
    cap = ""
    if memory is not None and any(sign in reason for sign in ("SIGABRT", "SIGKILL", "MemoryError")):
        # Running out of the cap ends in MemoryError, or in an abort inside libcst's native code
        # (SIGKILL: the system's out-of-memory killer); a crash (SIGSEGV) is no memory matter.
        cap = f" (a worker may use {memory // (1024 * 1024)} MiB)"
    return _Outcome(FileReport(str(item[0]), "failed", reason=f"{reason} while migrating it{cap}; left as it was"))


# Files handed to a worker at a time: fewer messages for many small files (a crash costs only
# the file the worker was on; the rest of its batch goes back to the queue).
_BATCH = 16


def run(
    paths: Sequence[Path],
    options: Options,
    *,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    exclude: Sequence[str] = (),
    include: Sequence[str] = (),
    memory_limit: int | None = None,
) -> RunReport:
    """Migrate every file under `paths`; results come back in path order.

    `exclude` and `include` are git-style patterns (see `discover`). `jobs` is
    the number of worker processes (default: one per CPU); there is always at
    least one, so a file that crashes its worker never takes the run with it.
    `memory_limit` caps each worker's memory in bytes (default: three quarters
    of the machine's memory, shared among the workers); a file that needs more
    fails with the reason.

    >>> report = run([], Options(mode="check"))
    >>> report.exit_code(), report.summary()["files"]
    (0, 0)
    """
    found = discovery.discover(paths, exclude=exclude, include=include)
    chosen = _choose(sorted([*found.files, *found.missing], key=os.path.normpath), _roots(paths))
    files = chosen.files
    table = ModuleTable(module_names(files))
    report = RunReport(options)
    workers = max(1, jobs or os.cpu_count() or 1)
    total = len(files)
    done = 0
    first: list[_Outcome] = []

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    def arrived(outcomes: list[_Outcome], positions: Sequence[int]) -> Callable[[int, _Outcome], None]:
        def store(i: int, outcome: _Outcome) -> None:
            if outcome.report is not None or outcome.result is not None:
                tick()
            outcomes[positions[i]] = outcome

        return store

    # Each worker may use its share of the machine's memory: a file too large for it fails
    # alone instead of the whole run (or the machine) running out.
    memory = memory_limit if memory_limit is not None else memory_share(min(workers, max(1, total)))
    died = functools.partial(_died, memory=memory)
    first = [_Outcome(None)] * len(files)
    run_isolated(
        _first,
        [(f, options, table.names[f], table.naming(f)) for f in files],
        workers=workers,
        died=died,
        done=arrived(first, range(len(files))),
        preload=[__name__],
        batch=_BATCH,
        memory=memory,
    )
    index = _index(first, files)
    held = [i for i, o in enumerate(first) if o.report is None and o.result is None]
    items = [
        (f, options, table.names[f], table.naming(f), _wanted(index, table, f, first[i].wanted))
        for i, f in ((i, files[i]) for i in held)
    ]
    run_isolated(
        _second,
        items,
        workers=workers,
        died=died,
        done=arrived(first, held),
        preload=[__name__],
        batch=_BATCH,
        memory=memory,
    )
    if options.target == MigrationTarget.FLYTE:
        outcomes = _whole_groups(first, table, files, options)
    else:
        outcomes = _shared_constants(first, table.names, files, options)
    # Nothing is written before every group is decided (a group moves whole or not at all).
    reports: list[FileReport] = []
    pending: list[_Pending] = []
    for path, o in zip(files, outcomes, strict=True):
        if o.report is not None:
            reports.append(o.report)
            continue
        if o.result is None:
            continue
        done_report, new = _settle(path, options, o)
        if o.group_reason is not None:
            done_report = dataclasses.replace(done_report, reason=o.group_reason)
        if o.group is not None:
            done_report = dataclasses.replace(done_report, group=o.group)
        if new is not None and o.fingerprint is not None:
            # A file outside any group (`--target flytekit`) is a group of its own.
            pending.append(_Pending(len(reports), chosen.targets[path], new, o.fingerprint, o.group or str(path)))
        reports.append(done_report)
    _write_groups(reports, pending)
    # Anything that is not a regular file (a FIFO named *.py) is reported, never opened.
    skipped = [FileReport(str(p), "skipped", reason=reason) for p, reason in found.skipped]
    for r in sorted([*reports, *skipped, *chosen.skipped], key=lambda r: os.path.normpath(r.path)):
        report.files.append(r)
    return report


@dataclass
class _Chosen:
    """The files to migrate (each file once), where each is written, and the names left out."""

    files: list[Path] = field(default_factory=list)
    targets: dict[Path, Path] = field(default_factory=dict)
    skipped: list[FileReport] = field(default_factory=list)


def _roots(paths: Iterable[Path]) -> list[str]:
    """The real paths of the trees being processed: each directory given, and the directory of each file."""
    out = []
    for given in paths:
        path = Path(given)
        directory = path if path.is_dir() else Path(os.path.abspath(path)).parent
        out.append(os.path.realpath(directory))
    return out


def _inside(real: str, roots: Sequence[str]) -> bool:
    return any(real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def _choose(files: Sequence[Path], roots: Sequence[str]) -> _Chosen:
    """Each file once, through its real path, and only when that path is inside the tree."""
    out = _Chosen()
    first_name: dict[tuple[int, int], Path] = {}
    candidates: list[tuple[Path, str, tuple[int, int] | None, bool]] = []
    for path in files:
        real = os.path.realpath(path)
        linked = real != os.path.abspath(path)
        try:
            st = os.stat(path)
        except OSError:
            candidates.append((path, real, None, linked))  # missing: reported as failed by the worker
            continue
        if linked and not _inside(real, roots):
            out.skipped.append(
                FileReport(str(path), "skipped", reason=f"a symbolic link to {real}, outside the tree; not followed")
            )
            continue
        candidates.append((path, real, (st.st_dev, st.st_ino), linked))
    # The name written is the file's own (not a link) when the run found it under that name.
    for path, _real, key, _linked in sorted(candidates, key=lambda c: c[3]):
        if key is not None and key not in first_name:
            first_name[key] = path
    for path, real, key, linked in candidates:
        if key is not None and first_name[key] != path:
            kind = "a symbolic link to" if linked else "a hard link of"
            out.skipped.append(
                FileReport(str(path), "skipped", reason=f"{kind} {first_name[key]}, which is migrated once, as itself")
            )
            continue
        out.files.append(path)
        out.targets[path] = Path(real)
    return out


def _whole_groups(
    outcomes: Sequence[_Outcome], table: ModuleTable, files: Sequence[Path], options: Options
) -> list[_Outcome]:
    """Every module of a group any of whose modules keeps a blocker stays as written (see
    `flyteres.migrate.program`). Imports join files (`ModuleTable.targets`: the file of that
    name under the importer's root, else every file of that name); a group is named by its
    first module's dotted name, or its file when that name is not the file's alone."""
    keys = [str(path) for path in files]
    linked = {
        str(path): frozenset(str(t) for name in o.links for t in table.targets(name, path))
        for path, o in zip(files, outcomes, strict=True)
    }
    joined = groups(linked, frozenset(k for k, o in zip(keys, outcomes, strict=True) if o.flytekit))
    label = {str(p): n if n is not None and not table.shared(p) else f"<file>{p}" for p, n in table.names.items()}
    group_of = {k: label[g] for k, g in joined.items()}
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


def _index(outcomes: Sequence[_Outcome], files: Sequence[Path]) -> dict[Path, dict[str, TaskInfo]]:
    """The tasks of every module of the run, by file."""
    return {path: {t.name: t for t in o.tasks} for path, o in zip(files, outcomes, strict=True) if o.tasks}


def _wanted(
    index: Mapping[Path, Mapping[str, TaskInfo]], table: ModuleTable, importer: Path, wanted: Iterable[str]
) -> TaskIndex:
    """The part of the index a file needs (it travels to a worker process), by dotted module
    name: the module an import of it loads (`ModuleTable.targets`); none when that is not one file."""
    out: dict[str, Mapping[str, TaskInfo]] = {}
    for name in sorted(wanted):
        module = name.rpartition(".")[0]
        found = [f for f in table.targets(module, importer) if table.names.get(f) == module]
        if len(found) == 1 and found[0] in index:
            out[module] = index[found[0]]
    return out
