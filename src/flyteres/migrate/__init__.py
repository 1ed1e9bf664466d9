"""`flyteres migrate`: rewrite flytekit resource declarations in source code.

Two targets:

- `flytekit` (stay on flytekit): each `requests=`/`limits=` pair becomes
  flytekit's single `resources=Resources(cpu=(req, lim), ...)`; `accelerator=`
  and `shared_memory=` stay as written. flytekit serializes the result to the
  same bytes, except where the policy decided something (reported per site).
- `flyte` (Flyte 2): a task's resources move to a `flyte.TaskEnvironment`
  (one per distinct resource set) and the decorator becomes `@<env>.task`,
  a whole program at a time (see "Whole programs");
  `.with_overrides(...)` becomes `.override(resources=...)` merged with the
  task's own resources, because Flyte 2 replaces the whole object where
  flytekit merged per key. The task may be declared in another module of the
  same run (see "Overrides across modules" below).

Every mapping decision is flyteres' converters' (`from_flytekit`,
`flytekit_arguments`, `flyte_arguments`). What cannot be carried faithfully
stays exactly as written, with the reason: values not known without running
the module, anything lossy under the policy, arguments the target has no
equivalent for. Converter findings keep their `flyteres.Rule` ids; the
codemod's own reasons are `MigrateRule`s.

Decisions:

- Values are evaluated statically through the module's imports and
  constants; the module is never imported. A value that passes through
  unchanged keeps the expression as written (literal quotes, constant name).
- A constant chosen at import time (`MEM = "100Mi" if os.getenv(...) else
  "30Gi"`, or assigned in `if`/`else` branches) is converted for every value
  it can take; if all give the same code, the expression is kept verbatim
  (`conditional-kept`), otherwise the site is left (`environment-dependent`).
- A module-level `Resources(...)` shared by several declarations: for
  `flytekit`, `requests=X` alone becomes `resources=X` (a scalar is a request);
  when X itself must change (a `requests=X, limits=X` pair becomes pairs), it
  is rewritten where it is defined only if every use in the module agrees and
  X is not in `__all__` (`definition-rewritten`: check modules that import it);
  otherwise the values are written at each use. For `flyte`, the environment
  is the shared definition and X stays as it was.
- Whole programs (`flyte`): Flyte 2 cannot run half a program (a flytekit
  workflow calling a Flyte 2 task runs it while compiling). Modules that
  import one another's tasks and workflows form a group, which moves
  completely or stays exactly as written; each construct that keeps it
  (a site left as written, a workflow that cannot become a driver task,
  `conditional`, any other flytekit name) is a `Blocker`, reported once
  where it is (`flyteres.migrate.program`). Tasks without resources move
  too; `@workflow`/`@dynamic` become driver tasks; a `@dynamic`'s or
  `@eager`'s resources and arguments go to its driver as a task's would.
- Environments: one per distinct resources, image and environment
  variables; one per module is `env`, named after the module's dotted path
  (`pkg_a.tasks` is `pkg_a_tasks`, so names are unique across a run); with
  several, `<first task>_env`, named `<module>_<first task>`; names already
  taken get a numeric suffix. Each goes just above its first task. Comments
  next to the moved resources move above the environment.
- Task arguments (`flyteres.migrate.task_args`): `retries`, `timeout`,
  `interruptible` stay; `cache`/`cache_version`/`cache_serialize` become
  `flyte.Cache(...)`, `enable_deck` `report`, `pod_template_name`
  `pod_template`; a literal `container_image` and `environment` go to the
  environment as `image` and `env_vars`. Any other argument (`task_config=`,
  an `ImageSpec`, a secret without an exact form, ...) blocks (`unsupported-argument`);
  `secret_requests=` with a named mount goes to the environment as `secrets=`;
  a module-level `ImageSpec` used only as `container_image=` becomes a
  `flyte.Image` where exact (`flyteres.migrate.images`).
  ContainerTask and map_task overrides are reported, not guessed; an
  `@eager` becomes an async driver task whose calls of synchronous tasks
  are `(await t.aio(...))` (`flyteres.migrate.driver_bodies`);
  `map_task(f)(...)` in a driver becomes `flyte.map(...)` where exact
  (`flyteres.migrate.map_calls`); `>>` statements whose edges all go
  forward in the driver's call order are dropped (`flyteres.migrate.ordering`);
  bare `FlyteFile`/`FlyteDirectory` types, `FlyteFile(path=...)` returned from a
  task, `download()` and the one working-directory read of a task body take
  their exact Flyte 2 forms (`flyteres.migrate.io_types`).
- Output (`flyteres.migrate.tidy`): the imports the rewrite made unused go,
  `import flyte` goes where isort puts it, and lines longer than the
  project's line length are wrapped (the runner passes it; the library
  wraps only when given `line_length`).
- The flytekit target is wire-identical whatever the policy: what a policy
  would decide (a limit-only site) stays as written.
- Overrides across modules: a run (`flyteres migrate PATH...`) makes two
  passes. The first migrates every file and records each module-level task's
  static resources and whether it moved to a TaskEnvironment (`TaskInfo`),
  keyed by the module's dotted name: the path below the nearest directory
  without `__init__.py` (`project/etl.py` in package `project` is
  `project.etl`), whatever PATHs were given; a name two files share is left
  out. Files whose overrides call a task of another module (`from pkg.mod
  import t [as a]`, `from .mod import t`, `from . import mod` + `mod.t`,
  `import pkg.mod` + `pkg.mod.t`) are held back and migrated in the second
  pass with those records, exactly like a task of their own: merged
  (`override-merged`, the task's values written out), or left with
  `override-task-unknown` when the task stays on flytekit, its resources are
  not one static value, or the name is no task of the run. Re-exports
  through a package's `__init__` are not followed. `migrate_source` takes
  the same records as `index=` (`index_sources` builds them) and its
  module's dotted name as `module=`.

>>> from flyteres.migrate import migrate_source
>>> result = migrate_source(
...     "from flytekit import Resources, task\\n"
...     "@task(limits=Resources(mem='600Mi'))\\n"
...     "def fit() -> None: ...\\n",
...     target="flyte",
... )
>>> print(result.code)
import flyte
env = flyte.TaskEnvironment(name='module', resources=flyte.Resources(memory=('600Mi', '600Mi')))
@env.task
def fit() -> None: ...
<BLANKLINE>
>>> [f.rule for f in result.findings if f.decided_by_policy]
['limit-without-request']
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from flyteres._extras import missing_extra
from flyteres.migrate.options import MigrationTarget, MigrationTargetName
from flyteres.migrate.rules import MigrateRule

if TYPE_CHECKING:
    from flyteres.migrate.index import TaskIndex, TaskInfo
    from flyteres.migrate.results import (
        Environment,
        MigrationChanged,
        MigrationFailed,
        MigrationFinding,
        MigrationResult,
        MigrationSkipped,
        MigrationUnchanged,
        Site,
    )
    from flyteres.migrate.runner import FileReport, Options, RunReport, run
    from flyteres.migrate.transform import index_sources, migrate_source
    from flyteres.source.analysis import Declaration, DeclarationKind, SourceParseError, find_declarations

#: The name this enum had when it was a Literal; existing imports keep working.
Target = MigrationTarget

# Everything that needs libcst (and what comes with it) is imported on first use,
# so importing `flyteres.migrate.rules` or registering the CLI command stays cheap.
_LAZY = {
    **dict.fromkeys(["TaskIndex", "TaskInfo"], "flyteres.migrate.index"),
    **dict.fromkeys(
        [
            "Environment",
            "MigrationChanged",
            "MigrationFailed",
            "MigrationFinding",
            "MigrationResult",
            "MigrationSkipped",
            "MigrationUnchanged",
            "Site",
        ],
        "flyteres.migrate.results",
    ),
    **dict.fromkeys(["FileReport", "Options", "RunReport", "run"], "flyteres.migrate.runner"),
    **dict.fromkeys(["index_sources", "migrate_source"], "flyteres.migrate.transform"),
    **dict.fromkeys(
        ["Declaration", "DeclarationKind", "SourceParseError", "find_declarations"], "flyteres.source.analysis"
    ),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'flyteres.migrate' has no attribute {name!r}")
    try:
        value = getattr(importlib.import_module(module), name)
    except ModuleNotFoundError as exc:
        raise missing_extra(exc, f"flyteres.migrate.{name}", "migrate") from None
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "Declaration",
    "DeclarationKind",
    "Environment",
    "FileReport",
    "MigrateRule",
    "MigrationChanged",
    "MigrationFailed",
    "MigrationFinding",
    "MigrationResult",
    "MigrationSkipped",
    "MigrationTarget",
    "MigrationTargetName",
    "MigrationUnchanged",
    "Options",
    "RunReport",
    "Site",
    "SourceParseError",
    "Target",
    "TaskIndex",
    "TaskInfo",
    "find_declarations",
    "index_sources",
    "migrate_source",
    "run",
]
