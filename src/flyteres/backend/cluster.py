"""What a namespace holds, from any mix of manifests: ResourceQuotas, LimitRanges and Flyte's ConfigMaps.

``kubectl get resourcequota,limitrange -n NS -o yaml`` and
``kubectl get configmap -n flyte -o yaml`` print ``kind: List`` documents;
saved together or apart, each object is taken by its kind. ConfigMaps that
hold no Flyte config (no ``task_resources``, no ``plugins.k8s``) and objects
of other kinds are skipped with a note.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from flyteres.backend.config import PlatformConfig, platform_from_configmaps
from flyteres.backend.files import PlatformConfigError, PlatformNote, Source, compose, manifests, read_text
from flyteres.backend.manifests import LimitRangeSpec, QuotaSpec, limitrange_from_node, quota_from_node

__all__ = ["ClusterConfig", "load_cluster", "parse_cluster"]

_KINDS = ("ResourceQuota", "LimitRange", "ConfigMap")


@dataclass(frozen=True)
class ClusterConfig:
    """The ResourceQuotas, LimitRanges and Flyte platform config found in some manifests."""

    quotas: tuple[QuotaSpec, ...] = ()
    limitranges: tuple[LimitRangeSpec, ...] = ()
    platform: PlatformConfig | None = None
    notes: tuple[PlatformNote, ...] = ()

    def __add__(self, other: ClusterConfig) -> ClusterConfig:
        if self.platform is not None and other.platform is not None:
            raise PlatformConfigError(
                other.platform.path or "<cluster>",
                None,
                None,
                f"holds Flyte's config too (so does {self.platform.path}); pass one of them",
            )
        return ClusterConfig(
            self.quotas + other.quotas,
            self.limitranges + other.limitranges,
            self.platform or other.platform,
            self.notes + other.notes,
        )


def parse_cluster(text: str, path: str = "<cluster>", *, complete: bool = False) -> ClusterConfig:
    """Every ResourceQuota, LimitRange and Flyte ConfigMap in YAML text.

    ``complete`` is passed on to the platform a ConfigMap holds (see `flyteres.backend.config`).

    >>> c = parse_cluster("kind: List\\nitems:\\n- kind: LimitRange\\n  metadata: {name: lr}\\n"
    ...                   "  spec: {limits: [{type: Container, max: {memory: 4Gi}}]}\\n")
    >>> [lr.name for lr in c.limitranges], c.quotas, c.platform
    (['lr'], (), None)
    """
    src = Source(path)
    docs = compose(text, src)
    quotas: list[QuotaSpec] = []
    limitranges: list[LimitRangeSpec] = []
    configmaps = []
    skipped: dict[str, int] = {}
    for kind, node in manifests(docs, src):
        match kind:
            case "ResourceQuota":
                quotas.append(quota_from_node(node, src))
            case "LimitRange":
                limitranges.append(limitrange_from_node(node, src))
            case "ConfigMap":
                configmaps.append(node)
            case _:
                skipped.setdefault(str(kind), src.line(node))
    platform = platform_from_configmaps(configmaps, src, complete=complete, require=False) if configmaps else None
    if not quotas and not limitranges and platform is None:
        line = src.line(docs[0]) if docs else None
        raise PlatformConfigError(path, line, "kind", f"no {', '.join(_KINDS[:-1])} or Flyte {_KINDS[-1]} in this file")
    notes = [n for q in quotas for n in q.notes] + [n for lr in limitranges for n in lr.notes]
    notes += [
        PlatformNote(path, line, f"kind: {kind}", "skipped: not a quota, LimitRange or ConfigMap")
        for kind, line in skipped.items()
    ]
    return ClusterConfig(tuple(quotas), tuple(limitranges), platform, tuple(notes))


def load_cluster(paths: str | Path | Sequence[str | Path], *, complete: bool = False) -> ClusterConfig:
    """Read the manifests of one file or several (see `parse_cluster`)."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    out = ClusterConfig()
    for path in paths:
        out = out + parse_cluster(read_text(path), str(path), complete=complete)
    return out
