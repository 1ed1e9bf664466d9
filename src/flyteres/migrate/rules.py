"""Stable ids of what the codemod itself reports.

Converter findings keep the library's `flyteres.Rule` ids; these are the
codemod's own (source-level) reasons, one member each, never renamed.
"""

from __future__ import annotations

from enum import Enum


class MigrateRule(str, Enum):
    """Why the codemod left a declaration alone, or what it did beyond converting."""

    #: A value cannot be evaluated without running the module: a function
    #: argument, a call, an f-string with names, `**kwargs`, an imported name.
    NOT_STATIC = "not-static"
    #: A value is chosen at import time (`"100Mi" if os.getenv(...) else "30Gi"`)
    #: and the converted code would differ between the choices.
    ENVIRONMENT_DEPENDENT = "environment-dependent"
    #: A value chosen at import time was kept as written, because every
    #: possible value converts the same way.
    CONDITIONAL_KEPT = "conditional-kept"
    #: flyteres rejected the value (not a quantity, request above limit, an
    #: unknown accelerator constant, `resources=` beside `requests=`...).
    INVALID_VALUE = "invalid-value"
    #: The legacy `storage=` argument was removed from the source (flytekit
    #: 1.10.3 and later raise TypeError on it; the backend ignored it).
    STORAGE_REMOVED = "storage-removed"
    #: An argument next to the resources has no exact Flyte 2 equivalent the codemod
    #: writes (task_config=, an ImageSpec it cannot map, a Secret Flyte 2 sends differently, positional...),
    #: or one flytekit's `@eager` drops (retries=, cache=...), which a Flyte 2 driver would start to apply.
    UNSUPPORTED_ARGUMENT = "unsupported-argument"
    #: A `@dynamic`/`@eager` with resources that cannot become a Flyte 2 driver task where it is (not at the
    #: module's top level, calling a task defined after it, an `@eager` body without an exact async form).
    UNSUPPORTED_DECORATOR = "unsupported-decorator"
    #: A construct that carries resources but that this codemod does not
    #: rewrite for the target (ContainerTask for Flyte 2, NotebookTask, plugin
    #: configs, Union's ActorEnvironment, ...).
    UNSUPPORTED_CONSTRUCT = "unsupported-construct"
    #: `map_task(t)(...).with_overrides(...)`: Flyte 2 needs `flyte.map`.
    MAP_TASK_OVERRIDE = "map-task-override"
    #: `.with_overrides(...).with_overrides(...)`: flytekit drops the first
    #: call's accelerator and shared memory, so no conversion is faithful.
    CHAINED_OVERRIDES = "chained-overrides"
    #: An override whose task is not a task rewritten in the same module or in
    #: another module of the run (or whose resources are not one static value),
    #: so the full resources (Flyte 2's override replaces them all) are unknown.
    OVERRIDE_TASK_UNKNOWN = "override-task-unknown"
    #: A limit-only key in `with_overrides` next to a task request for the same
    #: key: writing (limit, limit) would replace the task's request. (The flytekit
    #: target now leaves every limit-only site as written, so it no longer reports it.)
    OVERRIDE_LIMIT_MERGE = "override-limit-merge"
    #: A Flyte 2 override was merged with the task's own resources, because
    #: `override(resources=...)` replaces them all where flytekit merged per key.
    OVERRIDE_MERGED = "override-merged"
    #: A module constant was written out literally because the target needs a
    #: different value or type (a GPU count, a shared Resources object).
    CONSTANT_INLINED = "constant-inlined"
    #: A module-level `Resources(...)` shared by several declarations was
    #: rewritten where it is defined; check modules that import it.
    DEFINITION_REWRITTEN = "definition-rewritten"
    #: The name `flyte` (or an environment name) is already taken in the module.
    NAME_CONFLICT = "name-conflict"
    #: `--write` left a file it would change as it was: edited during the run,
    #: or read-only (the file's reason says which).
    FILE_NOT_WRITTEN = "file-not-written"
    #: `--target flytekit`: a module constant holds the removed `storage=`; the site
    #: stays as written rather than getting the constant's other values inline.
    STORAGE_CONSTANT = "storage-constant"

    #: `--target flyte`: an environment written without resources gets the k8s
    #: plugin's cpu and memory defaults, no longer flyteadmin's. flyteadmin's
    #: `task_resources` defaults no longer apply: the k8s plugin fills in
    #: its own cpu and memory requests (`plugins.k8s.default-cpus`/`default-memory`,
    #: 1000m and 1024Mi unless configured; docs/platform.md). Reported so a
    #: reviewer decides; the codemod never invents resources.
    K8S_PLUGIN_DEFAULTS = "k8s-plugin-defaults"

    def __str__(self) -> str:
        return self.value
