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

- `container_image="uri"` (a literal): `image="uri"`; `container_image=X` where `X = ImageSpec(...)`
  became a `flyte.Image` (`flyteres.migrate.images`): `image=X`;
- `environment={...}` (a literal): `env_vars={...}`;
- `secret_requests=[Secret(...), ...]` (flytekit's `Secret`, literal values):
  `secrets=[flyte.Secret(...), ...]`, only where both SDKs serialize the same
  IDL `Secret` (group, key, mount requirement, env var; `get_security_context`
  in flyte's task_serde, `Secret.to_flyte_idl` in flytekit). Flyte 2 always
  asks for an env var or a file, so a flytekit secret must name its mount:
  `mount_requirement=ENV_VAR, env_var=E` is `flyte.Secret(key, group=G,
  as_env_var=E)`; `mount_requirement=FILE` (no env var) is `flyte.Secret(key,
  group=G, mount=pathlib.Path("/etc/flyte/secrets"))` when the module imports
  `pathlib`. The default `ANY` (the platform decides), `ENV_VAR` without a name
  (Flyte 2 would name it `GROUP_KEY`), `group_version=` (no Flyte 2 field) and a
  secret without a key block.

Values that stay on the decorator keep their expression as written (the
decorator does not move); values that move to the environment must be
literals, since the environment is written above the first task. Anything
else (`ImageSpec` images, templated image strings, secrets without an
exact form, `task_config`, `cache=Cache(...)`, deck fields, `docs`, labels...) has no
exact Flyte 2 form here, and the task stays with its reason.

A `@dynamic(...)` is a `@task(...)` that runs its body as a workflow, so its arguments
move the same way onto its driver task. flytekit 1.16's `@eager(...)` drops `retries`,
`timeout`, `interruptible`, the cache arguments and `enable_deck` (`eager_dropped`):
written on the driver they would start to apply, so they block; its other arguments move.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import libcst as cst

from flyteres.migrate.cst_edits import with_commas
from flyteres.source.names import RESOURCE_ARGUMENTS
from flyteres.source.values import NOT_LITERAL, literal

__all__ = ["Carried", "carry", "eager_dropped", "rewrite_arguments"]

# Kept as written on `@env.task(...)`: same name and meaning in both SDKs.
_KEPT = ("retries", "timeout", "interruptible")
_RENAMED = {"enable_deck": "report", "pod_template_name": "pod_template"}
_CACHE = ("cache", "cache_version", "cache_serialize")
# What flytekit 1.16's `eager` takes and then drops: it hands its keywords to the task class, whose
# base accepts them unused (only `@task` turns these into task metadata), and it deletes
# `enable_deck` (an eager task always writes a deck).
_EAGER_DROPPED = (*_KEPT, *_CACHE, "enable_deck")
# flytekit's Secret, by the qualified names it is imported under, and its dataclass field order.
_SECRET = ("flytekit.Secret", "flytekit.models.security.Secret")
_SECRET_FIELDS = ("group", "key", "group_version", "mount_requirement", "env_var")
_MOUNTS = {f"{s}.MountType.{m}": m for s in _SECRET for m in ("ANY", "ENV_VAR", "FILE")}
# The one mount path Flyte 2's Secret accepts (flyte/_secret.py refuses any other).
FLYTE_SECRET_MOUNT = "/etc/flyte/secrets"  # noqa: S105 - a path, not a password


@dataclass(frozen=True)
class Carried:
    """Where a task's other arguments go: `environment` holds `keyword=value` sources for the
    `TaskEnvironment`; `task` maps each original keyword to its `@env.task` replacement
    (`(keyword, value source)`, or None to drop it); keywords absent from it stay as written."""

    environment: tuple[str, ...] = ()
    task: Mapping[str, tuple[str, str] | None] = field(default_factory=dict)


def secret(
    node: ast.expr, *, flyte: str, quote: str, qualify: Callable[[ast.expr], str | None], pathlib: str | None
) -> str:
    """The `flyte.Secret(...)` source for one flytekit `Secret(...)` call, or raise
    `ValueError` with why there is no exact one (see the module docstring)."""
    if not isinstance(node, ast.Call) or qualify(node.func) not in _SECRET:
        raise ValueError("an item is not a flytekit Secret(...) call")
    if len(node.args) > len(_SECRET_FIELDS) or any(kw.arg is None for kw in node.keywords):
        raise ValueError("a Secret(...) takes arguments this codemod cannot read")
    given = dict(zip(_SECRET_FIELDS, node.args, strict=False))
    given.update({kw.arg: kw.value for kw in node.keywords if kw.arg is not None})
    values: dict[str, str | None] = {}
    for name in ("group", "key", "group_version", "env_var"):
        value = literal(given[name]) if name in given else None
        if value is not None and not isinstance(value, str):
            raise ValueError(f"Secret({name}=...) is not a literal string")
        values[name] = value or None  # the IDL writes "" for None: both are unset
    mount = "ANY" if "mount_requirement" not in given else _MOUNTS.get(qualify(given["mount_requirement"]) or "")
    if mount is None:
        raise ValueError("Secret(mount_requirement=...) is not a Secret.MountType member")
    if values["key"] is None:
        raise ValueError("a Secret without a key (Flyte 2's Secret needs one)")
    if values["group_version"] is not None:
        raise ValueError("Secret(group_version=...) has no Flyte 2 field")
    if mount == "ANY":
        raise ValueError(
            "a Secret without mount_requirement= lets the platform choose (ANY); Flyte 2 always asks for an "
            "env var or a file: name the mount (ENV_VAR with env_var=, or FILE) to migrate it"
        )
    parts = [f"key={quote}{values['key']}{quote}"]
    if values["group"] is not None:
        parts.append(f"group={quote}{values['group']}{quote}")
    if mount == "ENV_VAR":
        if values["env_var"] is None:
            raise ValueError(
                "Secret(mount_requirement=ENV_VAR) without env_var=: Flyte 2 would name the variable GROUP_KEY"
            )
        parts.append(f"as_env_var={quote}{values['env_var']}{quote}")
    else:
        if values["env_var"] is not None:
            raise ValueError("a FILE Secret with env_var= (Flyte 2 mounts it as an env var then)")
        if pathlib is None:
            raise ValueError(
                "a FILE Secret needs Flyte 2's mount=pathlib.Path(...) and this module does not import pathlib"
            )
        parts.append(f"mount={pathlib}.Path({quote}{FLYTE_SECRET_MOUNT}{quote})")
    return f"{flyte}.Secret({', '.join(parts)})"


def carry(
    call: ast.expr | None,
    *,
    flyte: str,
    quote: str,
    code: Callable[[ast.expr], str],
    skip: Sequence[str] = (),
    qualify: Callable[[ast.expr], str | None] | None = None,
    pathlib: str | None = None,
    images: frozenset[str] = frozenset(),
) -> Carried | str:
    """How a `@task(...)`'s arguments (other than `skip` and the resources) move, or why they
    cannot. `qualify` names what an expression refers to through the module's imports (secrets
    are read only with it); `pathlib` is the module's local name for `pathlib`, if any; `images`
    the module-level names of the `ImageSpec`s rewritten to `flyte.Image`s."""
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
    unknown = [
        k for k in given if k not in (*_KEPT, *_RENAMED, *_CACHE, "container_image", "environment", "secret_requests")
    ]
    if unknown:
        return f"{', '.join(f'{k}=' for k in unknown)} has no Flyte 2 equivalent this codemod knows"
    for key, new in _RENAMED.items():
        if key in given:
            task[key] = (new, code(given[key]))
    if any(k in given for k in _CACHE):
        cache = literal(given["cache"]) if "cache" in given else False
        if cache is NOT_LITERAL or not isinstance(cache, bool):
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
        image = literal(given["container_image"])
        named = given["container_image"]
        if isinstance(named, ast.Name) and named.id in images:
            image = named.id  # a flyte.Image now (flyteres.migrate.images)
        elif not isinstance(image, str) or "{{" in image:
            return (
                "container_image= is not a literal image name (an ImageSpec or a templated name has no exact "
                "Flyte 2 form here)"
            )
        environment.append(f"image={code(given['container_image'])}")
        task["container_image"] = None
    if "environment" in given:
        env = literal(given["environment"])
        if not isinstance(env, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
            return "environment= is not a literal dict of strings"
        environment.append(f"env_vars={code(given['environment'])}")
        task["environment"] = None
    if "secret_requests" in given:
        secrets = given["secret_requests"]
        if qualify is None or not isinstance(secrets, ast.List | ast.Tuple):
            return "secret_requests= is not a literal list of flytekit Secret(...) calls"
        try:
            items = [secret(s, flyte=flyte, quote=quote, qualify=qualify, pathlib=pathlib) for s in secrets.elts]
        except ValueError as e:
            return f"secret_requests=: {e}"
        if items:  # an empty list asks for nothing, as no secrets=
            environment.append(f"secrets=[{', '.join(items)}]")
        task["secret_requests"] = None
    return Carried(tuple(environment), task)


def eager_dropped(call: ast.expr | None) -> str | None:
    """Why an `@eager(...)`'s arguments cannot move as a `@task(...)`'s do, or None: those
    flytekit drops would start to apply on the Flyte 2 driver."""
    if not isinstance(call, ast.Call):
        return None
    dropped = [kw.arg for kw in call.keywords if kw.arg in _EAGER_DROPPED]
    if not dropped:
        return None
    it = "them" if len(dropped) > 1 else "it"
    return (
        f"{', '.join(f'{k}=' for k in dropped)} on @eager: flytekit 1.16 drops {it} (its eager task is "
        f"serialized without {it}), so the Flyte 2 driver would change what runs; remove {it} or migrate by hand"
    )


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
