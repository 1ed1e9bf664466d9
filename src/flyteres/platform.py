"""Platform files: flyteadmin's task resource defaults and limits, the k8s plugin's defaults, and a namespace's
ResourceQuotas and LimitRanges, read from the files and ``kubectl get -o yaml`` output real clusters have.

>>> from flyteres.platform import parse_platform
>>> str(parse_platform("task_resources:\\n  limits:\\n    memory: 8Gi\\n").limit("memory"))
'8Gi'
"""

from __future__ import annotations

from flyteres.backend.cluster import ClusterConfig, load_cluster, parse_cluster
from flyteres.backend.config import (
    FLYTE_CORE_CHART_DEFAULTS,
    FLYTEADMIN_BUILTINS,
    K8S_PLUGIN_BUILTINS,
    PLATFORM_RESOURCES,
    PlatformConfig,
    PlatformConfigError,
    PlatformForm,
    PlatformNote,
    QuotaSpec,
    load_platform,
    load_quotas,
    parse_platform,
    parse_quotas,
)
from flyteres.backend.files import MAX_DEPTH, MAX_DOCUMENTS, MAX_FILE_BYTES, MAX_NODES
from flyteres.backend.manifests import LimitRangeItem, LimitRangeSpec, load_limitranges, parse_limitranges

__all__ = [
    "FLYTEADMIN_BUILTINS",
    "FLYTE_CORE_CHART_DEFAULTS",
    "K8S_PLUGIN_BUILTINS",
    "MAX_DEPTH",
    "MAX_DOCUMENTS",
    "MAX_FILE_BYTES",
    "MAX_NODES",
    "PLATFORM_RESOURCES",
    "ClusterConfig",
    "LimitRangeItem",
    "LimitRangeSpec",
    "PlatformConfig",
    "PlatformConfigError",
    "PlatformForm",
    "PlatformNote",
    "QuotaSpec",
    "load_cluster",
    "load_limitranges",
    "load_platform",
    "load_quotas",
    "parse_cluster",
    "parse_limitranges",
    "parse_platform",
    "parse_quotas",
]
