"""A flytekit `@task(...)`'s other arguments in Flyte 2: on `@env.task(...)` or on the environment.

Every target name is the installed flyte SDK's own (`flyte.TaskEnvironment`,
`TaskEnvironment.task`, `flyte.Cache`), read from their signatures:

On `@env.task(...)`:

- `retries`, `timeout`, `interruptible`: the same;
- `cache=True, cache_version=V[, cache_serialize=S]`:
  `cache=flyte.Cache(behavior="override", version_override=V[, serialize=S])`;
- `cache=False` (with or without a version): nothing (Flyte 2 does not cache by default);
- `enable_deck=X`: `report=X`; `pod_template_name=N`: `pod_template=N` (a name).

On `flyte.TaskEnvironment(...)`:

- `container_image="uri"` (a literal): `image="uri"`;
- `environment={...}` (a literal): `env_vars={...}`.

Values that stay on the decorator keep their expression as written (the
decorator does not move); values that move to the environment must be
literals, since the environment is written above the first task. Anything
else (`ImageSpec` images, templated image strings, `secret_requests`,
`task_config`, `cache=Cache(...)`, deck fields, `docs`, labels...) has no
exact Flyte 2 form here, and the task stays with its reason.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import libcst as cst

from flyteres.migrate.cst_edits import with_commas
from flyteres.source.names import RESOURCE_ARGUMENTS

__all__ = ["Carried", "carry", "rewrite_arguments"]

# Kept as written on `@env.task(...)`: same name and meaning in both SDKs.
_KEPT = ("retries", "timeout", "interruptible")
_RENAMED = {"enable_deck": "report", "pod_template_name": "pod_template"}
_CACHE = ("cache", "cache_version", "cache_serialize")


@dataclass(frozen=True)
class Carried:
    """Where a task's other arguments go: `environment` holds `keyword=value` sources for the
    `TaskEnvironment`; `task` maps each original keyword to its `@env.task` replacement
    (`(keyword, value source)`, or None to drop it); keywords absent from it stay as written."""

    environment: tuple[str, ...] = ()
    task: Mapping[str, tuple[str, str] | None] = field(default_factory=dict)


def _literal(node: ast.expr) -> object:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _NOT_LITERAL


_NOT_LITERAL = object()


def carry(
    call: ast.expr | None, *, flyte: str, quote: str, code: Callable[[ast.expr], str], skip: Sequence[str] = ()
) -> Carried | str:
    """How a `@task(...)`'s arguments (other than `skip` and the resources) move, or why they cannot."""
    if not isinstance(call, ast.Call):
        return Carried()
    if call.args:
        return "a positional argument has no Flyte 2 equivalent this codemod knows"
    given: dict[str, ast.expr] = {}
    for kw in call.keywords:
        if kw.arg is None:
            return f"**{code(kw.value)} cannot be read without running the module"
        if kw.arg not in RESOURCE_ARGUMENTS and kw.arg not in skip:
            given[kw.arg] = kw.value
    environment: list[str] = []
    task: dict[str, tuple[str, str] | None] = {}
    unknown = [k for k in given if k not in (*_KEPT, *_RENAMED, *_CACHE, "container_image", "environment")]
    if unknown:
        return f"{', '.join(f'{k}=' for k in unknown)} has no Flyte 2 equivalent this codemod knows"
    for key, new in _RENAMED.items():
        if key in given:
            task[key] = (new, code(given[key]))
    if any(k in given for k in _CACHE):
        cache = _literal(given["cache"]) if "cache" in given else False
        if cache is _NOT_LITERAL or not isinstance(cache, bool):
            return "cache= is not a literal True or False (flytekit's Cache objects have no exact Flyte 2 form here)"
        for key in _CACHE:
            task[key] = None
        if cache:
            if "cache_version" not in given:
                return "cache=True without cache_version= (flytekit refuses it)"
            parts = [f"behavior={quote}override{quote}", f"version_override={code(given['cache_version'])}"]
            if "cache_serialize" in given:
                parts.append(f"serialize={code(given['cache_serialize'])}")
            task["cache"] = ("cache", f"{flyte}.Cache({', '.join(parts)})")
    if "container_image" in given:
        image = _literal(given["container_image"])
        if not isinstance(image, str) or "{{" in image:
            return (
                "container_image= is not a literal image name (an ImageSpec or a templated name has no exact "
                "Flyte 2 form here)"
            )
        environment.append(f"image={code(given['container_image'])}")
        task["container_image"] = None
    if "environment" in given:
        env = _literal(given["environment"])
        if not isinstance(env, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
            return "environment= is not a literal dict of strings"
        environment.append(f"env_vars={code(given['environment'])}")
        task["environment"] = None
    return Carried(tuple(environment), task)


def rewrite_arguments(node: cst.Call, carried: Carried, parse: Callable[[str], cst.BaseExpression]) -> list[cst.Arg]:
    """The `@env.task(...)` arguments for a `@task(...)` call: resources dropped, the rest
    kept, renamed or dropped as `carried` says, in their original order."""
    kept: list[cst.Arg] = []
    for arg in node.args:
        keyword = arg.keyword.value if arg.keyword is not None else None
        if keyword is None or keyword in RESOURCE_ARGUMENTS:
            continue
        if keyword in carried.task:
            replacement = carried.task[keyword]
            if replacement is None:
                continue
            name, value = replacement
            kept.append(arg.with_changes(keyword=cst.Name(name), value=parse(value)))
            continue
        kept.append(arg)
    return with_commas(kept, node.args)
