"""The platform a task runs on: flyteadmin's task resource defaults and limits, and namespace ResourceQuotas.

Both are read from YAML with the line of every value kept, so a bad file is
refused with the line and the key at fault, and within the bounds of
`flyteres.backend.files` (size, documents, nesting, aliases; YAML merge keys
resolved). Shapes accepted for the admin
block, all as real deployments write them:

- flyteadmin's own config file: a top-level ``task_resources:`` section
  (flyteadmin ``pkg/runtime/task_resource_provider.go`` registers the section
  under that key, with ``defaults`` and ``limits``);
- Helm values for the flyte-core chart: ``configmap.task_resource_defaults.task_resources``
  (or the same without ``configmap:``);
- ``task_resource_defaults:`` holding ``defaults``/``limits`` directly (how the
  flytekit guide abbreviates it);
- a bare ``defaults``/``limits`` mapping, such as a flytectl
  ``task-resource-attribute`` file (with ``project``/``domain``/``workflow``).

Inside ``defaults``/``limits`` flyteadmin knows ``cpu``, ``gpu``, ``memory``,
``storage`` and ``ephemeralStorage`` (the JSON tags of ``TaskResourceSet`` in
``flyteadmin/pkg/runtime/interfaces/task_resource_configuration.go``; keys match
without regard to case). A flytectl attribute file is protobuf
``TaskResourceSpec``, where the field is ``ephemeral_storage``. Any other key is
refused: flyteadmin would silently ignore it, so the value would never apply.
``storage`` is read but nothing in flyteadmin applies it to a task any more
(only ``ephemeralStorage`` reaches ``setCompiledTaskDefaults`` and the
registration checks); loading it leaves a note.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from flyteres._errors import ResourceSpecError
from flyteres.backend.files import (
    PlatformConfigError,
    PlatformNote,
    Source,
    child,
    compose,
    is_null,
    join,
    kind_of,
    manifests,
    name_of,
    pairs,
    quantity,
    read_text,
    shown,
)
from flyteres.core.quantity import Quantity
from flyteres.core.spec import Resource, resource_name

__all__ = [
    "PLATFORM_RESOURCES",
    "PlatformConfig",
    "PlatformConfigError",
    "PlatformNote",
    "QuotaSpec",
    "load_platform",
    "load_quotas",
    "parse_platform",
    "parse_quotas",
]

#: The resources flyteadmin defaults and limits, in Flyte's order.
PLATFORM_RESOURCES: tuple[Resource, ...] = (
    Resource.CPU,
    Resource.MEMORY,
    Resource.GPU,
    Resource.EPHEMERAL_STORAGE,
)

# flyteadmin's TaskResourceSet JSON tags, lower-cased (the config loader matches keys without case).
_ADMIN_KEYS: dict[str, Resource] = {
    "cpu": Resource.CPU,
    "gpu": Resource.GPU,
    "memory": Resource.MEMORY,
    "storage": Resource.STORAGE,
    "ephemeralstorage": Resource.EPHEMERAL_STORAGE,
}
# A flytectl attribute file is the admin TaskResourceSpec message: protobuf's
# JSON mapping takes the field name and its lowerCamelCase form.
_ATTRIBUTE_KEYS: dict[str, Resource] = {**_ADMIN_KEYS, "ephemeral_storage": Resource.EPHEMERAL_STORAGE}
_ATTRIBUTE_SCOPE_KEYS = frozenset({"project", "domain", "workflow", "launch_plan", "launchplan", "org"})
_KNOWN_SPELLINGS = "cpu, gpu, memory, storage, ephemeralStorage"


def _freeze(where: str, values: Mapping[Any, Any] | None) -> Mapping[Resource, Quantity]:
    out: dict[Resource, Quantity] = {}
    for key, value in (values or {}).items():
        name = resource_name(key)
        try:
            out[name] = Quantity.from_value(value)
        except (ValueError, TypeError) as exc:
            raise ResourceSpecError(f"{where}.{name}", value, str(exc)) from None
    return MappingProxyType({r: out[r] for r in Resource if r in out})


@dataclass(frozen=True)
class PlatformConfig:
    """flyteadmin's task resource defaults and limits.

    A zero or missing value means "none": flyteadmin skips zero limits
    (``taskResourceSetToMap``) and the backend treats a zero default as unset
    (``AdjustOrDefaultResource`` tests ``IsZero``).

    >>> p = PlatformConfig(defaults={"cpu": "500m", "memory": "1Gi"}, limits={"memory": "8Gi"})
    >>> str(p.limit("memory")), p.default("gpu")
    ('8Gi', None)
    """

    defaults: Mapping[Resource, Quantity] = field(default_factory=dict)
    limits: Mapping[Resource, Quantity] = field(default_factory=dict)
    path: str | None = None
    notes: tuple[PlatformNote, ...] = ()
    # "defaults.cpu" -> line, for messages that point into the file.
    lines: Mapping[str, int] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "defaults", _freeze("defaults", self.defaults))
        object.__setattr__(self, "limits", _freeze("limits", self.limits))
        object.__setattr__(self, "lines", MappingProxyType(dict(self.lines)))
        object.__setattr__(self, "notes", tuple(self.notes))

    def default(self, name: str | Resource) -> Quantity | None:
        """The platform default for one resource, or None when there is none (or it is zero)."""
        q = self.defaults.get(resource_name(name))
        return None if q is None or q.is_zero() else q

    def limit(self, name: str | Resource) -> Quantity | None:
        """The platform limit for one resource, or None when there is none (or it is zero)."""
        q = self.limits.get(resource_name(name))
        return None if q is None or q.is_zero() else q

    def where(self, key: str) -> str:
        """``path:line`` of a value (``"limits.memory"``), or just the path when unknown."""
        line = self.lines.get(key)
        path = self.path or "<platform>"
        return path if line is None else f"{path}:{line}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "defaults": {str(k): v.text for k, v in self.defaults.items()},
            "limits": {str(k): v.text for k, v in self.limits.items()},
        }


@dataclass(frozen=True)
class QuotaSpec:
    """One Kubernetes ResourceQuota: its name and ``spec.hard`` as quantities.

    Keys stay as Kubernetes spells them (``requests.cpu``, ``limits.memory``,
    ``requests.nvidia.com/gpu``, ``count/pods``...).

    >>> q = QuotaSpec("team", {"limits.memory": Quantity("64Gi")})
    >>> str(q.hard["limits.memory"])
    '64Gi'
    """

    name: str
    hard: Mapping[str, Quantity]
    path: str | None = None
    line: int | None = None
    notes: tuple[PlatformNote, ...] = ()
    lines: Mapping[str, int] = field(default_factory=dict, repr=False, compare=False)
    scoped: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "hard", MappingProxyType(dict(self.hard)))
        object.__setattr__(self, "lines", MappingProxyType(dict(self.lines)))
        object.__setattr__(self, "notes", tuple(self.notes))

    def where(self, key: str | None = None) -> str:
        path = self.path or "<quota>"
        line = self.lines.get(key, self.line) if key is not None else self.line
        return path if line is None else f"{path}:{line}"


# -- the admin block -------------------------------------------------------------------------------------------


def _find_block(root: yaml.Node, src: Source) -> tuple[yaml.Node, str, bool]:
    """The node holding defaults/limits, its key path, and whether it is a flytectl attribute file."""
    if not isinstance(root, yaml.MappingNode):
        raise PlatformConfigError(src.path, src.line(root), None, f"the file must hold a mapping, not {kind_of(root)}")
    prefix = ""
    node: yaml.Node = root
    configmap = child(node, "configmap", src)
    if configmap is not None and (
        child(configmap, "task_resource_defaults", src) is not None
        or child(configmap, "task_resources", src) is not None
    ):
        node, prefix = configmap, "configmap"
    trd = child(node, "task_resource_defaults", src)
    if trd is not None:
        prefix = join(prefix, "task_resource_defaults")
        inner = child(trd, "task_resources", src)
        if inner is not None:
            return inner, join(prefix, "task_resources"), False
        return trd, prefix, False
    tr = child(node, "task_resources", src)
    if tr is not None:
        return tr, join(prefix, "task_resources"), False
    if child(root, "defaults", src) is not None or child(root, "limits", src) is not None:
        keys = {str(k.value).lower() for k, _ in root.value if isinstance(k, yaml.ScalarNode)}
        return root, "", bool(keys & _ATTRIBUTE_SCOPE_KEYS)
    raise PlatformConfigError(
        src.path,
        src.line(root),
        None,
        "no task resource defaults found: expected task_resources: (flyteadmin config), "
        "task_resource_defaults: (Helm values) or top-level defaults:/limits: (a flytectl attribute file)",
    )


def parse_platform(text: str, path: str = "<platform>") -> PlatformConfig:
    """Read flyteadmin's task resource defaults and limits from YAML text.

    >>> p = parse_platform("task_resources:\\n  defaults: {cpu: 500m, memory: 1Gi}\\n  limits: {memory: 8Gi}\\n")
    >>> str(p.default("cpu")), str(p.limit("memory")), p.lines["limits.memory"]
    ('500m', '8Gi', 3)
    """
    src = Source(path)
    docs = compose(text, src)
    if not docs:
        raise PlatformConfigError(path, None, None, "the file is empty")
    if len(docs) > 1:
        raise PlatformConfigError(path, src.line(docs[1]), None, "holds several YAML documents; keep the one config")
    block, prefix, attribute_file = _find_block(docs[0], src)
    allowed = _ATTRIBUTE_KEYS if attribute_file else _ADMIN_KEYS
    values: dict[str, dict[Resource, Quantity]] = {"defaults": {}, "limits": {}}
    lines: dict[str, int] = {}
    notes: list[PlatformNote] = []
    for section, key_node, value_node in pairs(block, src, prefix):
        where = join(prefix, section)
        if section not in values:
            if block is docs[0] and section.lower() in _ATTRIBUTE_SCOPE_KEYS:
                # Which project/domain/workflow an attribute file targets does not change the values.
                continue
            raise PlatformConfigError(path, src.line(key_node), where, "unknown key; expected defaults or limits")
        if is_null(value_node):
            continue
        for name, name_node, q_node in pairs(value_node, src, where):
            key = join(where, name)
            resource = allowed.get(name.lower())
            if resource is None:
                raise PlatformConfigError(path, src.line(name_node), key, _unknown_resource(name, attribute_file))
            if is_null(q_node):
                continue
            if resource in values[section]:
                raise PlatformConfigError(path, src.line(name_node), key, "given twice under different spellings")
            values[section][resource] = quantity(q_node, src, key)
            lines[f"{section}.{resource}"] = src.line(q_node)
            if resource is Resource.STORAGE:
                notes.append(
                    PlatformNote(
                        path,
                        src.line(name_node),
                        key,
                        "flyteadmin reads 'storage' but applies it to no task; ephemeral storage is 'ephemeralStorage'",
                    )
                )
    for resource in PLATFORM_RESOURCES:
        d, lim = values["defaults"].get(resource), values["limits"].get(resource)
        if d is not None and lim is not None and not lim.is_zero() and d > lim:
            notes.append(
                PlatformNote(
                    path,
                    lines[f"defaults.{resource}"],
                    join(prefix, f"defaults.{resource}"),
                    f"the default {d.text} is above the limit {lim.text}; tasks that use the default get {lim.text}",
                )
            )
    return PlatformConfig(values["defaults"], values["limits"], path=path, notes=tuple(notes), lines=lines)


def _unknown_resource(name: str, attribute_file: bool) -> str:
    low = name.lower().replace("-", "").replace("_", "")
    hint = ""
    if low in ("ephemeralstorage", "disk"):
        hint = f"; flyteadmin spells it {'ephemeral_storage or ' if attribute_file else ''}ephemeralStorage"
    elif low == "mem":
        hint = "; flyteadmin spells it memory"
    elif low in ("nvidiacom/gpu", "gpus"):
        hint = "; flyteadmin spells it gpu"
    return f"unknown resource {shown(name)} (flyteadmin would ignore it, so it would never apply){hint}; known: " + (
        f"{_KNOWN_SPELLINGS}, ephemeral_storage" if attribute_file else _KNOWN_SPELLINGS
    )


def load_platform(path: str | Path) -> PlatformConfig:
    """Read a flyteadmin config, Helm values or flytectl attribute file (see `parse_platform`)."""
    return parse_platform(read_text(path), str(path))


# -- ResourceQuota ---------------------------------------------------------------------------------------------

# Quota keys that count something a task pod uses (kubernetes pkg/quota/v1/evaluator/core/pods.go podResources);
# requests.<extended resource> and hugepages are recognised by prefix there too.
POD_QUOTA_KEYS = frozenset(
    {
        "pods",
        "count/pods",
        "cpu",
        "memory",
        "ephemeral-storage",
        "requests.cpu",
        "requests.memory",
        "requests.ephemeral-storage",
        "limits.cpu",
        "limits.memory",
        "limits.ephemeral-storage",
    }
)
_NATIVE_PREFIXES = ("kubernetes.io/", "requests.kubernetes.io/")


def _quota_key_applies(key: str) -> bool:
    if key in POD_QUOTA_KEYS:
        return True
    # An extended resource is quota'd only as requests.<name> (isExtendedResourceNameForQuota).
    return key.startswith("requests.") and "/" in key and not key.startswith(_NATIVE_PREFIXES)


def parse_quotas(text: str, path: str = "<quota>") -> tuple[QuotaSpec, ...]:
    """Every ResourceQuota in YAML text (one or several documents, or a ``kind: List``).

    >>> (q,) = parse_quotas("kind: ResourceQuota\\nmetadata: {name: team}\\nspec:\\n  hard: {limits.memory: 64Gi}\\n")
    >>> q.name, str(q.hard["limits.memory"]), q.lines["limits.memory"]
    ('team', '64Gi', 4)
    """
    src = Source(path)
    docs = compose(text, src)
    quotas = [_one_quota(node, src) for kind, node in manifests(docs, src) if kind == "ResourceQuota"]
    if not quotas:
        line = src.line(docs[0]) if docs else None
        raise PlatformConfigError(path, line, "kind", "no ResourceQuota in this file (expected kind: ResourceQuota)")
    return tuple(quotas)


def _one_quota(node: yaml.Node, src: Source) -> QuotaSpec:
    name = name_of(node, src)
    spec = child(node, "spec", src)
    if spec is None:
        raise PlatformConfigError(src.path, src.line(node), "spec", f"the ResourceQuota {shown(name)} has no spec")
    hard_node = child(spec, "hard", src)
    if hard_node is None:
        raise PlatformConfigError(
            src.path, src.line(spec), "spec.hard", f"the ResourceQuota {shown(name)} has no spec.hard"
        )
    hard: dict[str, Quantity] = {}
    lines: dict[str, int] = {}
    notes: list[PlatformNote] = []
    for key, key_node, q_node in pairs(hard_node, src, "spec.hard"):
        q = quantity(q_node, src, f"spec.hard.{key}")
        hard[key] = q
        lines[key] = src.line(q_node)
        if key.startswith("limits.") and key not in POD_QUOTA_KEYS:
            notes.append(
                PlatformNote(
                    src.path,
                    src.line(key_node),
                    f"spec.hard.{key}",
                    "Kubernetes quotas an extended resource only as requests.<name>; this key is not checked",
                )
            )
        elif not _quota_key_applies(key):
            notes.append(PlatformNote(src.path, src.line(key_node), f"spec.hard.{key}", "does not count task pods"))
    scoped = child(spec, "scopes", src) is not None or child(spec, "scopeSelector", src) is not None
    if scoped:
        notes.append(
            PlatformNote(
                src.path,
                src.line(spec),
                "spec.scopes",
                "a scoped quota applies only to matching pods; checked as if it applied",
            )
        )
    return QuotaSpec(name, hard, path=src.path, line=src.line(node), notes=tuple(notes), lines=lines, scoped=scoped)


def load_quotas(path: str | Path) -> tuple[QuotaSpec, ...]:
    """Read every ResourceQuota from a manifest file (see `parse_quotas`)."""
    return parse_quotas(read_text(path), str(path))
