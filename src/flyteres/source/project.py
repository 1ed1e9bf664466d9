"""A tree of modules read together: every task's declared resources, resolved across modules.

`read_project` discovers the files (`flyteres.source.files`), reads each with
`SourceModule` and keeps a compact record of it (`ModuleRecord`): the public
declarations, every task with the spec its pod is declared with
(`TaskRecord`), every override (`OverrideRecord`) and Flyte 2 environment.
What one module imports from another is then resolved across the tree: a
Flyte 2 task whose environment is imported (`from config import env`) gets
that environment's resources, and a clone of an imported environment keeps
them. `flyteres check` and `flyteres verify` read trees through it.

A file the running Python cannot parse (newer syntax read by an older
Python, or nesting too deep for `ast`), that is not a regular file, is too
large or is not text is *skipped* with the reason; one that cannot be read
at all is an *error*. With `jobs`, a worker process that dies on a file
(`flyteres.source.workers`) costs that file, skipped with the reason.
"""

from __future__ import annotations

import ast
import contextlib
import gc
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from flyteres.core.spec import ResourceSpec
from flyteres.source.analysis import SourceModule, with_template
from flyteres.source.files import discover, read_source
from flyteres.source.model import Declaration, DeclarationKind, FlyteOverride, SourceParseError
from flyteres.source.modules import import_root, module_names, nearest, resolve_import
from flyteres.source.pod_templates import under_template

__all__ = ["EnvRecord", "ModuleRecord", "OverrideRecord", "Project", "TaskRecord", "read_module", "read_project"]

_OVERRIDE_KINDS = frozenset({DeclarationKind.WITH_OVERRIDES, DeclarationKind.MAP_TASK_OVERRIDES})
_NOTHING = ResourceSpec()  # a task that declares no resources (immutable, so shared)


@dataclass
class TaskRecord:
    """A task (or flytekit workflow) and the resources its pod is declared with.

    `line` is where those resources are written: the decorator for flytekit,
    the environment for Flyte 2 (`env_line`, `env_path`, `environment`). `spec` is
    None with `reason` when they are not known statically (`refused` when
    the SDK itself refuses them); a task that declares nothing has an empty spec.
    """

    path: str
    module: str | None
    name: str
    sdk: str
    kind: str
    line: int
    spec: ResourceSpec | None
    reason: str | None = None
    refused: bool = False
    environment: str | None = None
    env_path: str | None = None
    env_line: int | None = None
    env_qualified: str | None = None  # an environment imported from another module, until resolved
    reusable: bool = False
    module_level: bool = True
    #: Flyte 2: the pod template's primary-container resources that flyte lays the task's over
    #: (docs/semantics.md, row 33; `spec` includes them). An override replaces the task's, not these.
    template: ResourceSpec | None = None
    #: Flyte 2 with such a template: the task's own resources, before the template's are added.
    own: ResourceSpec | None = None

    def overridden(self, override: ResourceSpec) -> ResourceSpec:
        """What a Flyte 2 override's resources become in the pod: laid over the task's pod template
        like the task's own were. Raises `ResourceSpecError` when the result is not valid."""
        return override if self.template is None else under_template(self.template, override)

    @property
    def declared_at(self) -> tuple[str, int]:
        """Where the task's resources are written (its environment, for Flyte 2)."""
        if self.env_path is not None and self.env_line is not None:
            return self.env_path, self.env_line
        return self.path, self.line


@dataclass
class OverrideRecord:
    """A call that runs a task with other resources: flytekit's `with_overrides` (merged with
    the task's per key) or Flyte 2's `override` (replaces them whole).

    `function` is the function it is written in and `ordinal` its rank among
    the overrides of the same task in that function; `dynamic` says the
    function is a flytekit `@dynamic` (the backend does not fill limits in
    before merging there).
    """

    path: str
    module: str | None
    line: int
    sdk: str
    kind: str
    target: str | None
    function: str | None
    ordinal: int
    spec: ResourceSpec | None
    reason: str | None = None
    refused: bool = False
    dynamic: bool = False
    reusable_off: bool = False
    target_qualified: str | None = None  # the task, when the module imports it


@dataclass
class EnvRecord:
    """A Flyte 2 environment of a module, by the name it is bound to."""

    path: str
    label: str
    line: int
    spec: ResourceSpec | None
    reason: str | None = None
    refused: bool = False
    base_qualified: str | None = None  # cloned from an environment of another module
    reusable: bool = False


@dataclass
class ModuleRecord:
    """What one module declares, without its syntax tree."""

    path: str
    module: str | None
    declarations: list[Declaration] = field(default_factory=list)
    tasks: list[TaskRecord] = field(default_factory=list)
    overrides: list[OverrideRecord] = field(default_factory=list)
    environments: dict[str, EnvRecord] = field(default_factory=dict)


@dataclass
class Project:
    """Every module read, in path order, and the files that could not be."""

    modules: list[ModuleRecord] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _modules: dict[str, list[ModuleRecord]] | None = field(default=None, repr=False)
    _count: int = field(default=0, repr=False)

    def tasks(self) -> Iterable[TaskRecord]:
        for m in self.modules:
            yield from m.tasks

    def environment(self, qualified: str, importer: ModuleRecord) -> tuple[EnvRecord, ModuleRecord] | None:
        """The environment an import names (`pkg.config.env`, or relative `.config.env`), and its module."""
        absolute = resolve_import(qualified, importer.module, importer.path)
        if absolute is None:
            return None
        module, _, name = absolute.rpartition(".")
        # A namesake module of another project of the tree is not the one imported.
        for m in self._candidates(module, importer):
            if name in m.environments:
                return m.environments[name], m
        return None

    def task(self, qualified: str, importer: ModuleRecord) -> TaskRecord | None:
        """The task an import names, when exactly one module of the tree defines it."""
        absolute = resolve_import(qualified, importer.module, importer.path)
        if absolute is None:
            return None
        module, _, name = absolute.rpartition(".")
        found = [t for m in self._candidates(module, importer) for t in m.tasks if t.name == name and t.module_level]
        return found[0] if len(found) == 1 else None

    def _candidates(self, module: str, importer: ModuleRecord) -> list[ModuleRecord]:
        """The modules of that dotted name an import from `importer` may load (`nearest`); the
        roots are worked out only when the name is more than one module's."""
        found = self._by_module().get(module, [])
        if len(found) < 2:
            return found
        root = import_root(importer.path, importer.module)
        return nearest(found, lambda m: import_root(m.path, m.module), root)

    def _by_module(self) -> dict[str, list[ModuleRecord]]:
        """The modules by dotted name (built once, when the tree has been read)."""
        if self._modules is None or self._count != len(self.modules):
            self._modules, self._count = {}, len(self.modules)
            for m in self.modules:
                if m.module is not None:
                    self._modules.setdefault(m.module, []).append(m)
        return self._modules

    def resolve(self) -> None:
        """Give tasks and clones the resources of the environments they import."""
        for m in self.modules:
            for own in m.environments.values():
                self._resolve_env(own, m, 0)
            for t in m.tasks:
                if t.env_qualified is None:
                    continue
                found = self.environment(t.env_qualified, m)
                if found is None:
                    continue
                env, owner = found
                self._resolve_env(env, owner, 0)
                t.spec, t.reason, t.refused = env.spec, env.reason, env.refused
                t.environment, t.env_path, t.env_line, t.reusable = env.label, env.path, env.line, env.reusable
                t.env_qualified = None

    def _resolve_env(self, env: EnvRecord, m: ModuleRecord, depth: int) -> None:
        """A clone of another module's environment gets its resources (through clones of clones)."""
        if env.base_qualified is None or depth > 16:
            return
        found = self.environment(env.base_qualified, m)
        if found is None:
            return
        base, owner = found
        self._resolve_env(base, owner, depth + 1)
        env.spec, env.reason, env.refused, env.base_qualified = base.spec, base.reason, base.refused, None


def read_module(source: str, path: str, module: str | None = None) -> ModuleRecord:
    """The record of one module's source (raises `SourceParseError` when it does not parse)."""
    m = SourceModule(source, path)
    record = ModuleRecord(path, module, m.declarations())
    dynamic: list[tuple[int, int]] = []
    for t in m.tasks:
        if t.sdk == "flytekit":
            if t.kind == "dynamic":
                dynamic.append((t.function.lineno, t.function.end_lineno or t.function.lineno))
            spec: ResourceSpec | None = _NOTHING
            reason = None
            if t.found is not None:
                d = m.declaration(t.found)
                spec, reason = d.spec, d.reason
            elif t.pod_template is not None:  # no resources of its own: its pod template's stand (P30)
                template = m.pod_template(t.pod_template, t.scopes)
                if template is not None:
                    spec, reason = (
                        template.spec,
                        None if template.reason is None else f"pod_template: {template.reason}",
                    )
            record.tasks.append(TaskRecord(path, module, t.name, "flytekit", t.kind, t.line, spec, reason,
                                           module_level=t.module_level))  # fmt: skip
            continue
        assert t.flyte is not None
        env = t.flyte.environment
        if env is None:
            record.tasks.append(
                TaskRecord(path, module, t.name, "flyte", "task", t.line, None, t.flyte.reason,
                           env_qualified=t.flyte.env_qualified, module_level=t.module_level)
            )  # fmt: skip
            continue
        fs, qualified = m.environment_spec(env)
        spec, reason, refused = fs.spec, fs.reason, fs.refused
        template = m.task_template(t)
        laid_over: ResourceSpec | None = None
        if template is not None:
            spec, reason, _, by_template = with_template(spec, reason, template)
            refused = refused or by_template
            if spec is not None and template.spec is not None and (template.spec.requests or template.spec.limits):
                laid_over = template.spec
        record.tasks.append(
            TaskRecord(path, module, t.name, "flyte", "task", t.line, spec, reason, refused, env.label,
                       path, env.line, qualified, env.reusable, t.module_level, laid_over,
                       fs.spec if laid_over is not None else None)
        )  # fmt: skip
    for env in m.environments:
        if env.variable is None:
            continue
        fs, qualified = m.environment_spec(env)
        record.environments[env.variable] = EnvRecord(
            path, env.label, env.line, fs.spec, fs.reason, fs.refused, qualified, env.reusable
        )
    record.overrides = _overrides(m, record, dynamic)
    return record


def _overrides(m: SourceModule, record: ModuleRecord, dynamic: list[tuple[int, int]]) -> list[OverrideRecord]:
    out: list[OverrideRecord] = []
    ranks: dict[tuple[str | None, str | None], int] = {}

    def rank(function: str | None, target: str | None) -> int:
        n = ranks.get((function, target), 0)
        ranks[(function, target)] = n + 1
        return n

    flytekit = {d.line: d for d in record.declarations if d.kind in _OVERRIDE_KINDS}
    for found in m.found:
        if found.kind not in _OVERRIDE_KINDS:
            continue
        d = flytekit.get(found.line)
        function = _function(found.site.scopes)
        qualified = m.names.imports.get(found.target) if found.target else None
        out.append(
            OverrideRecord(
                record.path, record.module, found.line, "flytekit", found.kind.value, found.target, function,
                rank(function, found.target), d.spec if d else None, d.reason if d else None,
                dynamic=any(a <= found.line <= b for a, b in dynamic), target_qualified=qualified,
            )
        )  # fmt: skip
    for o in m.overrides:
        fs = m.override_spec(o)
        qualified = _override_import(m, o)
        out.append(
            OverrideRecord(
                record.path, record.module, o.line, "flyte", DeclarationKind.OVERRIDE.value, o.target, o.function,
                rank(o.function, o.target), None if fs is None else fs.spec, None if fs is None else fs.reason,
                False if fs is None else fs.refused, reusable_off=o.reusable_off, target_qualified=qualified,
            )
        )  # fmt: skip
    out.sort(key=lambda o: o.line)
    return out


def _override_import(m: SourceModule, o: FlyteOverride) -> str | None:
    expr = o.target_expr
    if isinstance(expr, ast.Name):
        return m.names.imports.get(expr.id)
    return m.names.qualified(expr)


def _function(scopes: Sequence[ast.AST]) -> str | None:
    return next((s.name for s in reversed(scopes) if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))), None)


# Below this many files, starting worker processes costs more than it saves.
_PARALLEL_FROM = 200


def read_project(
    paths: Sequence[str | Path],
    *,
    exclude: Sequence[str] = (),
    include: Sequence[str] = (),
    jobs: int | None = None,
) -> Project:
    """Read every module under `paths` (see the module notes) and resolve what they import.

    With `jobs` above 1, a large tree is read by that many worker processes;
    the records come back in path order, the same for any number of workers.
    One process is the default: sending the records back costs about as much
    as reading the modules, so more processes pay off only with idle cores
    (`make bench` prints both on the machine at hand).
    """
    project = Project()
    found = discover(paths, exclude=exclude, include=include)
    project.errors += [f"{p}: no such file or directory" for p in found.missing]
    project.skipped += [(str(p), reason) for p, reason in found.skipped]
    names = module_names(found.files)
    items = [(path, names.get(path)) for path in found.files]
    workers = jobs or 1
    with _no_cycle_collection():
        if workers > 1 and len(items) >= _PARALLEL_FROM:
            # multiprocessing loads only when worker processes are asked for (check starts light).
            from flyteres.source.workers import run_isolated  # noqa: PLC0415

            _picklable_mapping_proxies()
            # A worker that dies (out of memory) costs its file, reported as not read; the rest go on.
            outcomes: Iterable[ModuleRecord | tuple[str, str]] = run_isolated(
                _read_item,
                items,
                workers=workers,
                died=_died,
                initializer=_worker_start,
                preload=[__name__],
                batch=max(1, min(64, len(items) // (workers * 8))),
            )
        else:
            outcomes = map(_read_item, items)
        for (path, _), outcome in zip(items, outcomes, strict=True):
            if isinstance(outcome, ModuleRecord):
                project.modules.append(outcome)
            elif outcome[0] == "error":
                project.errors.append(f"{path}: {outcome[1]}")
            else:
                project.skipped.append((str(path), outcome[1]))
    project.resolve()
    return project


def _worker_start() -> None:
    """A reading worker: records travel back with their mapping proxies; no cycle collection."""
    _picklable_mapping_proxies()
    gc.disable()


def _died(item: tuple[Path, str | None], reason: str) -> tuple[str, str]:
    return "skipped", f"not read: {reason}"


def _picklable_mapping_proxies() -> None:
    """Let records travel back from worker processes.

    A ResourceSpec keeps its values in read-only mapping proxies, which do not
    pickle. multiprocessing's own pickler (not `pickle` itself: nothing else
    changes) is taught to send one as the dict it shows and to rebuild the proxy.
    """
    from multiprocessing.reduction import ForkingPickler  # noqa: PLC0415 - only with worker processes

    ForkingPickler.register(MappingProxyType, _reduce_proxy)


def _reduce_proxy(proxy: MappingProxyType[Any, Any]) -> tuple[Any, tuple[Any, ...]]:
    return _proxy, (dict(proxy),)


def _proxy(values: dict[Any, Any]) -> MappingProxyType[Any, Any]:
    return MappingProxyType(values)


def _read_item(item: tuple[Path, str | None]) -> ModuleRecord | tuple[str, str]:
    """One file's record, or ("error" | "skipped", reason)."""
    path, module = item
    source = read_source(path)
    if source.error is not None:
        return "error", source.error
    if source.text is None:
        return "skipped", source.skipped or "not read"
    try:
        return read_module(source.text, str(path), module)
    except SourceParseError as exc:
        if exc.line is None and ("recursion" in exc.reason or exc.reason == "MemoryError"):
            return "skipped", f"too deeply nested to read with Python {_python()}: {exc.reason}"
        where = f" (line {exc.line})" if exc.line is not None else ""
        return "skipped", f"cannot parse with Python {_python()}: {exc.reason}{where}"
    except (RecursionError, MemoryError) as exc:
        return "skipped", f"too deeply nested to read ({type(exc).__name__})"


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause Python's cycle collector while a tree is read.

    Reading creates no reference cycles (tests/test_source_project.py checks
    that nothing is left for the collector), so every object goes when its
    last reference does, and the collector would only walk the growing set of
    records again and again: with it running, reading a tree took two to three
    times as long.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if gc.get_freeze_count() == 0:
                # Everything allocated while paused would otherwise be walked by the next
                # collection, by the one after, and again by a full one: a tenth of a check's
                # time, for objects that hold no cycles. Freezing and unfreezing at once moves
                # them straight to the oldest generation unwalked (cycles there are still found
                # by the next full collection). Skipped when the caller froze objects of its
                # own: unfreezing would hand those back.
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def _python() -> str:
    import sys  # noqa: PLC0415 - only for this message

    return f"{sys.version_info.major}.{sys.version_info.minor}"
