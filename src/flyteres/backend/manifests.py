"""A namespace's ResourceQuotas, read from manifests as ``kubectl get -o yaml`` prints them.

A file may hold one object, several documents, or a ``kind: List`` (what
``kubectl get resourcequota -o yaml`` prints); objects of other kinds are
skipped. Values keep their lines, so every refusal names the object, the
file and the line.

"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import yaml

from flyteres.backend.files import (
    PlatformConfigError,
    PlatformNote,
    Source,
    child,
    compose,
    manifests,
    name_of,
    pairs,
    quantity,
    read_text,
    shown,
)
from flyteres.core.quantity import Quantity

__all__ = ["POD_QUOTA_KEYS", "QuotaSpec", "load_quotas", "parse_quotas", "quota_from_node"]


# -- ResourceQuota ---------------------------------------------------------------------------------------------


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
        """``path:line`` of a key of ``spec.hard`` (or of the quota)."""
        path = self.path or "<quota>"
        line = self.lines.get(key, self.line) if key is not None else self.line
        return path if line is None else f"{path}:{line}"


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


def quota_from_node(node: yaml.Node, src: Source) -> QuotaSpec:
    """One ``kind: ResourceQuota`` manifest."""
    name = name_of(node, src)
    spec = child(node, "spec", src)
    if spec is None:
        raise src.error(node, "spec", f"the ResourceQuota {shown(name)} has no spec")
    hard_node = child(spec, "hard", src)
    if hard_node is None:
        raise src.error(spec, "spec.hard", f"the ResourceQuota {shown(name)} has no spec.hard")
    hard: dict[str, Quantity] = {}
    lines: dict[str, int] = {}
    notes: list[PlatformNote] = []
    for key, key_node, q_node in pairs(hard_node, src, "spec.hard"):
        hard[key] = quantity(q_node, src, f"spec.hard.{key}")
        lines[key] = src.line(q_node)
        if key.startswith("limits.") and key not in POD_QUOTA_KEYS:
            notes.append(
                src.note(
                    key_node,
                    f"spec.hard.{key}",
                    "Kubernetes quotas an extended resource only as requests.<name>; this key is not checked",
                )
            )
        elif not _quota_key_applies(key):
            notes.append(src.note(key_node, f"spec.hard.{key}", "does not count task pods"))
    scoped = child(spec, "scopes", src) is not None or child(spec, "scopeSelector", src) is not None
    if scoped:
        notes.append(
            src.note(spec, "spec.scopes", "a scoped quota applies only to matching pods; checked as if it applied")
        )
    return QuotaSpec(name, hard, path=src.path, line=src.line(node), notes=tuple(notes), lines=lines, scoped=scoped)


def _objects(text: str, src: Source) -> tuple[list[yaml.Node], list[tuple[str | None, yaml.Node]]]:
    docs = compose(text, src)
    return docs, list(manifests(docs, src))


def _none_found(docs: list[yaml.Node], src: Source, kind: str) -> PlatformConfigError:
    line = src.line(docs[0]) if docs else None
    return PlatformConfigError(src.path, line, "kind", f"no {kind} in this file (expected kind: {kind})")


def parse_quotas(text: str, path: str = "<quota>") -> tuple[QuotaSpec, ...]:
    """Every ResourceQuota in YAML text (one or several documents, or a ``kind: List``).

    >>> (q,) = parse_quotas("kind: ResourceQuota\\nmetadata: {name: team}\\nspec:\\n  hard: {limits.memory: 64Gi}\\n")
    >>> q.name, str(q.hard["limits.memory"]), q.lines["limits.memory"]
    ('team', '64Gi', 4)
    """
    src = Source(path)
    docs, objects = _objects(text, src)
    quotas = tuple(quota_from_node(node, src) for kind, node in objects if kind == "ResourceQuota")
    if not quotas:
        raise _none_found(docs, src, "ResourceQuota")
    return quotas


def load_quotas(path: str | Path) -> tuple[QuotaSpec, ...]:
    """Read every ResourceQuota from a manifest file (see `parse_quotas`)."""
    return parse_quotas(read_text(path), str(path))
