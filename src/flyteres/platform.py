"""Platform files: flyteadmin's task resource defaults and limits, and Kubernetes ResourceQuotas.

>>> from flyteres.platform import parse_platform
>>> str(parse_platform("task_resources:\\n  limits:\\n    memory: 8Gi\\n").limit("memory"))
'8Gi'
"""

from __future__ import annotations

from flyteres.backend.config import (
    PLATFORM_RESOURCES,
    PlatformConfig,
    PlatformConfigError,
    PlatformNote,
    QuotaSpec,
    load_platform,
    load_quotas,
    parse_platform,
    parse_quotas,
)

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
