"""Tasks known across the modules of one run, so an override can find a task declared elsewhere.

A run migrates several files. The first pass records, per module, each
module-level task's statically known resources and whether the task itself
was moved to a Flyte 2 environment (`TaskInfo`); the second pass migrates
again only the files whose overrides name a task of another module, with
those records (`TaskIndex`) at hand.

Module names: a file's dotted name is its path below the nearest directory
that has no `__init__.py` (the directory Python would need on `sys.path` to
import it as a package module): `examples/project/etl.py`, with
`examples/project/__init__.py` and no `examples/__init__.py`, is
`project.etl`; a package's `__init__.py` is the package itself. The rule
does not depend on the paths given on the command line, so a file gets the
same name whichever directory the run starts from. Two files with the same
name (two roots holding the same package) make that name ambiguous: it is
left out of the index, and overrides on its tasks stay unresolved.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flyteres.core.findings import Finding
from flyteres.core.spec import ResourceSpec
from flyteres.source.modules import module_names, resolve_import

__all__ = ["TaskIndex", "TaskInfo", "module_names", "resolve_import"]


@dataclass(frozen=True)
class TaskInfo:
    """A module-level task as another module's override sees it.

    `spec` is the task's own resources as flytekit serializes them, or None
    when they are not one statically known value (`reason` says why);
    `converted` is True when the Flyte 2 rewrite moved the task to a
    `flyte.TaskEnvironment` (an override can then become `.override(...)`);
    `environment` is then the module-level variable of that environment (a
    driver task of another module `depends_on` it).
    """

    module: str
    name: str
    path: str
    spec: ResourceSpec | None
    converted: bool
    reason: str | None = None
    environment: str | None = None

    @property
    def qualified(self) -> str:
        return f"{self.module}.{self.name}"

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # A ResourceSpec holds read-only mapping views, which do not pickle; the
        # records travel between processes as the spec's dict and its findings.
        spec = None if self.spec is None else (self.spec.to_dict(), self.spec.findings)
        state = (self.module, self.name, self.path, spec, self.converted, self.reason, self.environment)
        return _task_info, (state,)


_State = tuple[str, str, str, tuple[dict[str, Any], tuple[Finding, ...]] | None, bool, str | None, str | None]


def _task_info(state: _State) -> TaskInfo:
    module, name, path, spec, converted, reason, environment = state
    resources = None if spec is None else ResourceSpec.from_dict(spec[0]).replace(findings=spec[1])
    return TaskInfo(module, name, path, resources, converted, reason, environment)


#: Module dotted name -> task name -> what is known about the task.
TaskIndex = Mapping[str, Mapping[str, TaskInfo]]
