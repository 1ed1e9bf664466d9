"""Field-by-field override of one spec by another, and the `flyte.Resources` to hand to Flyte 2's `override`.

flytekit's ``with_overrides`` is merged per key by the backend
(flyteplugins ``flytek8s/container_helper.go`` ``MergeResources`` for requests
and limits, flytepropeller's ``applyExtendedResourcesOverrides`` for the
accelerator and shared memory). Flyte 2's ``task.override(resources=...)`` is
not: ``flyte/_task.py`` keeps ``resources or self.resources``, so the new
``Resources`` replaces the old one whole, and overriding the GPU alone drops
the CPU and memory. `merge` computes the per-key result users expect, and
`override_resources` turns it into the ``flyte.Resources`` to pass.

Request/limit consistency after merging. The v1 backend quietly lowers a
request above its limit to the limit (``ensureResourceRange``; flytekit logs
"Requests are clamped to original limits"), which turns "give it 4Gi" into
"keep 1Gi". `merge` refuses that by default and names the field; the
``conflict`` argument chooses otherwise:

- ``"error"`` (default): raise `ResourceSpecError`;
- ``"backend"``: do what the v1 backend does (the request is lowered to the limit);
- ``"follow"``: the side the override did not set follows the one it set (a
  raised request raises the limit with it; a lowered limit lowers the request).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from flyteres._errors import ResourceSpecError
from flyteres._extras import missing_extra
from flyteres.convert.flyte import from_flyte, to_flyte
from flyteres.convert.flytekit import from_flytekit, from_flytekit_overrides
from flyteres.core.options import DeviceLabels, DeviceLabelsName, Policy, PolicyName
from flyteres.core.quantity import Quantity
from flyteres.core.spec import Resource, ResourceSpec

__all__ = ["Conflict", "merge", "override_resources"]

Conflict = Literal["error", "backend", "follow"]
CONFLICTS: tuple[Conflict, ...] = ("error", "backend", "follow")

_FLYTEKIT_KWARGS = frozenset({"requests", "limits", "resources", "accelerator", "shared_memory"})
_FLYTE_KWARGS = frozenset({"cpu", "memory", "gpu", "disk", "shm"})


def merge(base: ResourceSpec, override: ResourceSpec, *, conflict: Conflict = "error") -> ResourceSpec:
    """``base`` with every value ``override`` sets replaced, one resource and one side at a time.

    The accelerator and the shared-memory volume are replaced only when the
    override sets them, so an override of the GPU count keeps the accelerator
    and an override of the accelerator keeps the count (docs/semantics.md, rows 29-30).
    A GPU count is one number: the override's count replaces the base's on
    every side where either has one (devices need request == limit).

    >>> base = ResourceSpec(requests={"cpu": "1", "memory": "1Gi"}, limits={"cpu": "2", "memory": "2Gi"})
    >>> merge(base, ResourceSpec(limits={"cpu": "6", "memory": "500Mi"}), conflict="backend")
    ResourceSpec(requests={cpu='1', memory='500Mi'}, limits={cpu='6', memory='500Mi'})
    >>> try:
    ...     merge(base, ResourceSpec(requests={"memory": "4Gi"}))
    ... except ResourceSpecError as exc:
    ...     print(exc.field, exc.value)
    requests.memory 4Gi
    """
    if conflict not in CONFLICTS:
        raise ResourceSpecError("conflict", conflict, f"must be one of {', '.join(CONFLICTS)}")
    requests: dict[Resource, Quantity] = dict(base.requests)
    limits: dict[Resource, Quantity] = dict(base.limits)
    requests.update(override.requests)
    limits.update(override.limits)

    o_gpu = override.requests.get(Resource.GPU, override.limits.get(Resource.GPU))
    if o_gpu is not None:
        for side in (requests, limits):
            if Resource.GPU in side:
                side[Resource.GPU] = o_gpu

    for r in list(requests):
        req, lim = requests[r], limits.get(r)
        if r is Resource.GPU or lim is None or req <= lim:
            continue
        raised_request = r in override.requests and r not in override.limits
        if conflict == "backend":
            requests[r] = lim
        elif conflict == "follow":
            if raised_request:
                limits[r] = req
            else:
                requests[r] = lim
        elif raised_request:
            raise ResourceSpecError(
                f"requests.{r}",
                req.text,
                f"the override raises the request above the base's limit {lim.text!r} (the v1 backend would "
                f"lower it back to {lim.text!r}); override limits.{r} too, or pass conflict='follow' or "
                "conflict='backend'",
            )
        else:
            raise ResourceSpecError(
                f"limits.{r}",
                lim.text,
                f"the override lowers the limit below the base's request {req.text!r} (the v1 backend would "
                f"lower the request to {lim.text!r}); override requests.{r} too, or pass conflict='follow' or "
                "conflict='backend'",
            )

    accelerator = override.accelerator if override.accelerator is not None else base.accelerator
    shared_memory = override.shared_memory if override.shared_memory is not None else base.shared_memory
    return ResourceSpec._from_parts(
        requests, limits, accelerator, shared_memory, tuple(base.findings) + tuple(override.findings)
    )


def _as_spec(value: Any, where: str) -> ResourceSpec:
    """A ResourceSpec from what users hold: a spec, a flyte.Resources, a Flyte 2 task, None."""
    if value is None:
        return ResourceSpec()
    if isinstance(value, ResourceSpec):
        return value
    if type(value).__name__ == "Resources" and type(value).__module__.startswith("flyte."):
        return from_flyte(value)
    if isinstance(value, Mapping):
        return _from_kwargs(dict(value), where)
    resources = getattr(value, "resources", _MISSING)
    if resources is not _MISSING and (resources is None or type(resources).__module__.startswith("flyte.")):
        # A Flyte 2 task (TaskTemplate) carries its environment's flyte.Resources, or None.
        return _as_spec(resources, where)
    raise ResourceSpecError(
        where, value, "must be a ResourceSpec, a flyte.Resources, a Flyte 2 task or a mapping of arguments"
    )


_MISSING = object()


def _from_kwargs(kwargs: dict[str, Any], where: str) -> ResourceSpec:
    keys = set(kwargs)
    if not keys:
        return ResourceSpec()
    if keys <= _FLYTEKIT_KWARGS:
        # Changes are with_overrides arguments, which flytekit reads otherwise than a task's (0 and "" are sent).
        return from_flytekit_overrides(**kwargs) if where == "override" else from_flytekit(**kwargs)
    if keys <= _FLYTE_KWARGS:
        try:
            import flyte  # noqa: PLC0415 - optional extra, only needed for Flyte 2 spellings
        except ModuleNotFoundError as exc:
            raise missing_extra(exc, "overrides in flyte.Resources spellings", "flyte") from None

        try:
            return from_flyte(flyte.Resources(**kwargs))
        except (TypeError, ValueError) as exc:
            if isinstance(exc, ResourceSpecError):
                raise
            raise ResourceSpecError(where, kwargs, f"flyte.Resources refuses it: {exc}") from None
    raise ResourceSpecError(
        where,
        sorted(keys),
        "use either flytekit's arguments (requests, limits, resources, accelerator, shared_memory) or "
        "flyte.Resources' (cpu, memory, gpu, disk, shm), not a mix",
    )


def override_resources(
    base: Any,
    override: Any = None,
    /,
    *,
    conflict: Conflict = "error",
    policy: Policy | PolicyName = Policy.STRICT,
    device_labels: DeviceLabels | DeviceLabelsName = DeviceLabels.KEEP,
    **changes: Any,
) -> Any:
    """The ``flyte.Resources`` to pass to ``task.override(resources=...)`` so that only the changes change.

    ``base`` is a Flyte 2 task, its ``.resources``, a ``flyte.Resources`` or a
    ResourceSpec. The changes are a ResourceSpec or ``flyte.Resources`` given
    positionally, or keyword arguments in flytekit's spelling (``requests=``,
    ``limits=``, ``accelerator=``...) or flyte's (``cpu=``, ``memory=``,
    ``gpu=``...). See `merge` for ``conflict``; ``policy`` and
    ``device_labels`` go to `to_flyte`.

    >>> import flyte
    >>> env_resources = flyte.Resources(cpu=(1, 2), memory=("4Gi", "8Gi"), gpu="A100:1")
    >>> override_resources(env_resources, gpu="A100:2")
    Resources(cpu=('1', '2'), memory=('4Gi', '8Gi'), gpu='A100:2', disk=None, shm=None)
    """
    if override is not None and changes:
        raise ResourceSpecError(
            "override", override, "give the changes either positionally or as keyword arguments, not both"
        )
    base_spec = _as_spec(base, "base")
    change_spec = _as_spec(changes if override is None else override, "override")
    return to_flyte(merge(base_spec, change_spec, conflict=conflict), policy=policy, device_labels=device_labels)
