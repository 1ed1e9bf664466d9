"""Whole programs for `--target flyte`: what blocks a module, which modules form a group, TODO marks.

Flyte 2 cannot run half a program. A flytekit `@workflow` that calls a Flyte 2
task runs the task while compiling the workflow and bakes its result in (the
node and its resources are lost), so the codemod moves a *group* of modules
completely or leaves it exactly as written:

- a module's blockers (`find_blockers`) are the flytekit constructs its
  rewrite would leave behind: every declaration left as written, every
  task, workflow, `@dynamic` or `@eager` not moved, and every other use of a
  flytekit name (`conditional`, `LaunchPlan`, `FlyteFile`, ...) outside the
  calls the rewrite replaces (`Resources` and accelerator constants are data,
  not constructs, and may stay), and every import of a flytekit plugin
  (`flytekitplugins.*`: its decorators, types, task configs and type
  transformers, often registered by the import alone, work with flytekit only);
- a group (`groups`) is a connected set of modules of the run: a module is
  joined to each module of the run it imports from (`links`), when that
  module holds flytekit constructs; an import of a plain module (a package's
  `__init__` that re-exports tasks) joins what that module imports;
- `mark` writes a `# TODO(flyteres): ...` line above each blocking construct
  (as bump-pydantic does), once: a second run adds nothing.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from flyteres.migrate.results import Blocker, Site
from flyteres.migrate.rules import MigrateRule
from flyteres.source.analysis import SourceModule
from flyteres.source.modules import resolve_import
from flyteres.source.names import canonical, function_locals

__all__ = ["MARK", "demote", "find_blockers", "groups", "has_flytekit", "import_links", "links", "mark"]

#: The prefix of every comment `mark` writes.
MARK = "# TODO(flyteres):"

_PLUGINS = "flytekitplugins"
_FLYTEKIT = frozenset({"flytekit", "union", "unionai", _PLUGINS})
# flytekitplugins-airflow makes every Airflow operator a flytekit task: in a flytekit module,
# `BashOperator(...)` in a workflow is a node, and in a Flyte 2 driver a plain object.
_AIRFLOW = "airflow"
# Values, not constructs: a `Resources` constant or an accelerator constant left in the
# module is plain data that Flyte 2 code never reads (its environments carry the values).
_DATA = ("Resources",)
_ACCELERATORS = "flytekit.extras.accelerators"


def _is_flytekit(qualified: str | None, plugins: frozenset[str] = frozenset()) -> bool:
    return qualified is not None and qualified.partition(".")[0] in _FLYTEKIT | plugins


# Why a flytekit name has no Flyte 2 form, where there is more to say than that (read from
# flyte 2.12's `flyte.ctx()`, a `flyte.models.TaskContext`, and `flyte.Secret`).
_NO_FORM = {
    "current_context": (
        "only current_context().working_directory migrates (read once in a synchronous task body, outside "
        "loops, comprehensions, lambdas and nested functions: tempfile.mkdtemp()); flyte.ctx() (a TaskContext) "
        "has no secrets.get: Flyte 2 mounts each secret as an env var or file named on flyte.Secret; its "
        "action ids are not flytekit's execution_id"
    ),
    "ImageSpec": "only a module-level ImageSpec used as container_image= maps to flyte.Image",
}


_OVERRIDE_REASON = (
    "`.with_overrides(...)` without requests=, limits=, resources=, accelerator= or shared_memory= is not "
    "rewritten to Flyte 2's `.override(...)` here; in a driver task it would be called on the task's value"
)

_STAR_REASON = (
    "a star import of flytekit hides which names of the module are flytekit's (workflow, FlyteFile, "
    "current_context, ...), so what would stay on flytekit cannot be told; import the names it uses by name first"
)


def _plugin_reason(module: str) -> str:
    if module.partition(".")[0] == _AIRFLOW:
        return (
            f"{module}: flytekitplugins-airflow runs Airflow operators as flytekit tasks; Flyte 2 has no "
            "such plugin, and in a driver an operator is a plain object that runs nothing; migrate it by hand"
        )
    return (
        f"{module} is a flytekit plugin: its decorators, types, task configs and type transformers "
        "work with flytekit only (Flyte 2 has its own plugins, flyteplugins-*, or none); migrate it by hand"
    )


def _import_blockers(node: ast.Import | ast.ImportFrom, plugins: frozenset[str], path: str) -> list[Blocker]:
    """An import statement's blockers: each module of a package of `plugins` it imports, and
    `from flytekit import *`, which hides which names are flytekit's (`workflow`, `FlyteFile`,
    ...), so a construct read through it could stay behind, calling tasks that moved."""
    rule = MigrateRule.UNSUPPORTED_CONSTRUCT.value
    if isinstance(node, ast.Import):
        modules = [a.name for a in node.names]
    elif node.level == 0 and node.module:
        modules = [node.module]
    else:
        return []
    out = [
        Blocker(path, node.lineno, f"import {m}", rule, _plugin_reason(m))
        for m in modules
        if m.partition(".")[0] in plugins
    ]
    if (
        isinstance(node, ast.ImportFrom)
        and _is_flytekit(node.module)
        and node.module != _ACCELERATORS  # its names are all data
        and any(a.name == "*" for a in node.names)
    ):
        out.append(Blocker(path, node.lineno, f"from {node.module} import *", rule, _STAR_REASON))
    return out


def _is_data(qualified: str) -> bool:
    name = canonical(qualified)
    return name is not None and (name in _DATA or name.startswith("accelerators"))


def has_flytekit(model: SourceModule) -> bool:
    """Whether the module imports flytekit (or Union's re-export of it), by name or with `*`."""
    return any(_is_flytekit(q) for q in (*model.names.imports.values(), *model.names.star))


def _spans(nodes: Iterable[ast.AST]) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    out = []
    for n in nodes:
        start = (getattr(n, "lineno", 0), getattr(n, "col_offset", 0))
        end = (getattr(n, "end_lineno", 0) or 0, getattr(n, "end_col_offset", 0) or 0)
        out.append((start, end))
    return out


def _name_blockers(
    model: SourceModule, spans: Sequence[tuple[tuple[int, int], tuple[int, int]]], construct_reasons: Mapping[int, str]
) -> list[Blocker]:
    """A blocker per use of a flytekit name outside `spans` (what the rewrite replaces), once a
    line, per resource-less `.with_overrides(...)` outside them, and per import of a flytekit
    plugin or `*` of flytekit (`_import_blockers`): one walk of the tree."""
    path = model.path
    out: list[Blocker] = []
    seen: set[tuple[int, str]] = set()
    plugins = frozenset({_PLUGINS, _AIRFLOW} if has_flytekit(model) else {_PLUGINS})
    # The inner parts of `flytekit.core.x` are read as the whole chain, once.
    inner = {id(n.value) for n in ast.walk(model.tree) if isinstance(n, ast.Attribute)}
    # A function's own `task` (a parameter or local) is not the module's import.
    shadowed = {id(n) for n in function_locals(model.tree)}
    rule = MigrateRule.UNSUPPORTED_CONSTRUCT.value

    def rewritten(node: ast.AST) -> bool:
        pos = (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))
        return any(start <= pos < end for start, end in spans)

    for node in ast.walk(model.tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            out.extend(_import_blockers(node, plugins, path))
            continue
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "with_overrides"
            and not rewritten(node)
        ):
            # A promise's `.with_overrides(...)` that names no resources is no declaration the
            # rewrite reads; left in a driver it would be called on a value.
            out.append(Blocker(path, node.lineno, "with_overrides", rule, _OVERRIDE_REASON))
        if id(node) in inner or id(node) in shadowed:
            continue
        if isinstance(node, ast.Attribute):
            qualified = model.names.qualified(node)
            head: ast.expr = node
            while isinstance(head, ast.Attribute):
                head = head.value
            if not isinstance(head, ast.Name) or id(head) in shadowed or not _is_flytekit(qualified, plugins):
                continue
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            qualified = model.names.imports.get(node.id)
            if not _is_flytekit(qualified, plugins) or len(model.names.bindings.get(node.id, ())) > 1:
                continue
        else:
            continue
        assert qualified is not None
        if _is_data(qualified):
            continue
        if rewritten(node):
            continue
        package, _, name = qualified.partition(".")  # `LaunchPlan.get_or_create`, without the package
        if package in plugins:
            name, reason = qualified, _plugin_reason(".".join(qualified.split(".")[:2]))
        else:
            reason = (
                construct_reasons.get(id(node))
                or _NO_FORM.get(name)
                or f"{qualified} has no Flyte 2 equivalent this codemod writes"
            )
        if (node.lineno, name) in seen:
            continue
        seen.add((node.lineno, name))
        out.append(Blocker(path, node.lineno, name, rule, reason))
    return out


def find_blockers(
    model: SourceModule,
    sites: Sequence[Site],
    *,
    converted_defs: frozenset[int],
    rewritten: frozenset[int],
    untouched: frozenset[int],
    reasons: Mapping[int, str] | None = None,
    mapped: Sequence[ast.AST] = (),
    construct_reasons: Mapping[int, str] | None = None,
    uses: Sequence[tuple[int, str, str]] = (),
) -> list[Blocker]:
    """The constructs that keep this module on flytekit, in line order.

    `converted_defs` holds `id()` of the function definitions whose decorator
    became `@env.task`; `rewritten` and `untouched` the `id()` of the
    declarations (`Found`) rewritten and left as written; `reasons` why a
    definition did not move, by `id()` of its function; `mapped` the `map_task(f)(...)` calls
    rewritten to `flyte.map`; `construct_reasons` why a flytekit name stays, by `id()` of its
    node, where the codemod knows better than "no equivalent"; `uses` the (line, construct, reason)
    of other code that has no exact Flyte 2 form (a FlyteFile parameter's `.path`).
    """
    path = model.path
    out: list[Blocker] = []
    for site in sites:
        if site.action != "untouched":
            continue
        lossy = next((f.rule for f in site.findings if f.lossy), MigrateRule.UNSUPPORTED_CONSTRUCT.value)
        out.append(Blocker(path, site.line, f"{site.kind} {site.name}", lossy, site.reason or "left as written"))
    consumed: list[ast.AST] = [*(f.call for f in model.found), *mapped]
    for t in model.tasks:
        if t.sdk != "flytekit":
            continue
        # The decorator that makes it a task is the rewrite's; any other flytekit one (a plugin's) is not.
        consumed.extend(
            d
            for d in t.function.decorator_list
            if model.names.canonical(d.func if isinstance(d, ast.Call) else d) == t.kind
        )
        if id(t.function) in converted_defs or (t.found is not None and id(t.found) in rewritten):
            continue
        if t.found is not None and id(t.found) in untouched:
            continue  # reported above, with the reason its declaration stayed
        out.append(
            Blocker(
                path,
                t.line,
                f"@{t.kind} {t.name}",
                MigrateRule.UNSUPPORTED_DECORATOR.value
                if (reasons or {}).get(id(t.function)) is None
                else MigrateRule.UNSUPPORTED_ARGUMENT.value,
                (reasons or {}).get(id(t.function)) or f"this @{t.kind} has no Flyte 2 rewrite here",
            )
        )
    out.extend(_name_blockers(model, _spans(consumed), construct_reasons or {}))
    rule = MigrateRule.UNSUPPORTED_CONSTRUCT.value
    out.extend(Blocker(path, line, construct, rule, why) for line, construct, why in uses)
    out.sort(key=lambda b: (b.line, b.construct))
    return out


def links(model: SourceModule, module: str | None) -> frozenset[str]:
    """The absolute dotted names the module imports (`from .etl import extract` in
    `project.pipeline` is `project.etl.extract`), wherever the import statement is."""
    return import_links(model.tree, module, model.path)


def import_links(tree: ast.Module, module: str | None, path: str) -> frozenset[str]:
    """`links` of a module read with `ast` only (one that holds nothing of flytekit, whose
    imports may still re-export a task)."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            for alias in node.names:
                name = f"{base}.{alias.name}" if node.module else f"{base}{alias.name}"
                absolute = resolve_import(name, module, path)
                if absolute is not None:
                    out.add(absolute)
        elif isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
    return frozenset(n for n in out if n.partition(".")[0] not in _FLYTEKIT | {"flyte"})


def groups(members: Mapping[str, frozenset[str]], joins: frozenset[str]) -> dict[str, str]:
    """Each module's group, named by its first module in sorted order.

    `members` maps each module of the run to the absolute names it imports;
    a module is joined to the module of the run an import names (the longest
    prefix that is one) when that module is in `joins` (it holds flytekit
    constructs); an import of a module that holds none joins what that module
    imports, the same way (it may re-export a task, as a package's `__init__` does).

    >>> g = groups({"p.etl": frozenset(), "p.flows": frozenset({"p.etl.extract"}), "p.util": frozenset()},
    ...            frozenset({"p.etl", "p.flows"}))
    >>> g["p.flows"], g["p.util"]
    ('p.etl', 'p.util')
    >>> g = groups({"p": frozenset({"p.etl.extract"}), "p.etl": frozenset(), "flows": frozenset({"p.extract"})},
    ...            frozenset({"p.etl", "flows"}))
    >>> g["p.etl"]  # flows imports extract through p, which re-exports it
    'flows'
    """
    parent = {m: m for m in members}

    def find(m: str) -> str:
        while parent[m] != m:
            parent[m] = parent[parent[m]]
            m = parent[m]
        return m

    def target(name: str) -> str | None:
        parts = name.split(".")
        for n in range(len(parts), 0, -1):
            if ".".join(parts[:n]) in parent:
                return ".".join(parts[:n])
        return None

    for module, imported in members.items():
        names, passed = list(imported), {module}
        while names:
            found = target(names.pop())
            if found is None or found in passed:
                continue
            if found in joins:
                a, b = sorted((find(module), find(found)))
                parent[b] = a
            else:  # a module without flytekit may re-export a task (`from .tasks import t` in an __init__)
                passed.add(found)
                names.extend(members[found])
    first: dict[str, str] = {}
    for m in sorted(members):
        first.setdefault(find(m), m)
    return {m: first[find(m)] for m in members}


def demote(sites: Sequence[Site], reason: str) -> tuple[Site, ...]:
    """The sites of a module left as written with its group: none is rewritten."""
    return tuple(
        replace(s, action="untouched", new=None, reason=reason, environment=None) if s.action == "rewritten" else s
        for s in sites
    )


def _statement_lines(tree: ast.Module) -> list[tuple[int, int]]:
    return [
        (n.lineno, n.end_lineno or n.lineno)
        for n in ast.walk(tree)
        if isinstance(n, ast.stmt) and not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    ]


def mark(source: str, blockers: Sequence[Blocker], *, width: int = 88) -> str:
    """`source` with a `# TODO(flyteres): ...` comment above each blocking construct's line
    (the first line of its statement, or its decorator), wrapped to `width`; a line that
    already has one above it gets no second."""
    if not blockers:
        return source
    tree = ast.parse(source)
    statements = _statement_lines(tree)
    lines = source.splitlines(keepends=True)
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    by_line: dict[int, list[Blocker]] = {}
    for b in blockers:
        # The innermost simple statement holding the line (comments cannot go inside one that spans lines).
        holders = [s for s in statements if s[0] <= b.line <= s[1]]
        line = max(holders)[0] if holders else b.line
        by_line.setdefault(line, []).append(b)
    for line in sorted(by_line, reverse=True):
        if line < 1 or line > len(lines):
            continue
        target = lines[line - 1]
        above = line - 2
        while above >= 0 and lines[above].strip().startswith("#   "):
            above -= 1  # a wrapped TODO's continuation lines
        if above >= 0 and lines[above].strip().startswith(MARK):
            continue
        indent = target[: len(target) - len(target.lstrip())]
        text = "; ".join(dict.fromkeys(f"{b.construct}: {b.reason}" for b in by_line[line]))
        wrapped = textwrap.wrap(
            text,
            width=max(40, width - len(indent)),
            initial_indent=f"{MARK} ",
            subsequent_indent="#   ",
            break_long_words=False,
            break_on_hyphens=False,
        )
        lines[line - 1 : line - 1] = [f"{indent}{w}{newline}" for w in wrapped]
    return "".join(lines)
