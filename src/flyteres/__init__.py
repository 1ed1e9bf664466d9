"""flyteres: one truth for Flyte task resources.

The neutral model is `ResourceSpec`; converters read and write flytekit's
arguments (`from_flytekit`/`to_flytekit`), `flyte.Resources`
(`from_flyte`/`to_flyte`), protobuf messages of flyteres.v1, flyteidl and
flyteidl2 (`from_idl`/`to_idl`) and Kubernetes container resources
(`to_k8s`). A conversion is lossless or raises `LossyConversionError`; the
`convert_to_*` variants return the value together with every finding.

Generated protobuf types are re-exported with a ``Pb`` suffix so they never
collide with the hand-written model.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from flyteres._version import __version__

if TYPE_CHECKING:
    from flyteres import accelerators, platform
    from flyteres._errors import (
        FlyteresError,
        InvalidPartitionError,
        LossyConversionError,
        QuantityError,
        ResourceSpecError,
        UnknownAcceleratorError,
    )
    from flyteres._pb import (
        AcceleratorModelPb,
        DeviceClassPb,
        ExtendedResourcesPb,
        GPUAcceleratorPb,
        ResourceEntryPb,
        ResourceNamePb,
        ResourcesPb,
        SharedMemoryPb,
    )
    from flyteres.backend.config import PlatformConfig, PlatformConfigError, QuotaSpec
    from flyteres.backend.effective import effective
    from flyteres.backend.escalate import EscalationCeilingError, escalate
    from flyteres.backend.manifests import LimitRangeItem, LimitRangeSpec
    from flyteres.backend.merge import merge, override_resources
    from flyteres.backend.quota import check_quota
    from flyteres.backend.results import EffectiveResources, Explanation, PlatformFinding, PlatformRule
    from flyteres.convert.flyte import FlyteArguments, FlyteGpu, convert_to_flyte, flyte_arguments, from_flyte, to_flyte
    from flyteres.convert.flytekit import (
        FlytekitAccelerator,
        FlytekitArguments,
        convert_to_flytekit,
        flytekit_arguments,
        from_flytekit,
        from_flytekit_overrides,
        to_flytekit,
    )
    from flyteres.convert.idl import from_idl, to_idl
    from flyteres.convert.k8s import convert_to_k8s, to_k8s
    from flyteres.core.findings import Conversion, Finding, Rule
    from flyteres.core.quantity import Quantity
    from flyteres.core.spec import AcceleratorSpec, Resource, ResourceSpec, SharedMemorySpec

# Every public name loads on first use (PEP 562), so `import flyteres` and the
# CLI's start-up pay only for what they touch. The imports above say the same
# to type checkers and IDEs; tests/test_import_profile.py keeps both in step.
_SUBMODULES = ("accelerators", "platform")
_EXPORTS: dict[str, tuple[str, ...]] = {
    "flyteres._errors": (
        "FlyteresError",
        "InvalidPartitionError",
        "LossyConversionError",
        "QuantityError",
        "ResourceSpecError",
        "UnknownAcceleratorError",
    ),
    "flyteres._pb": (
        "AcceleratorModelPb",
        "DeviceClassPb",
        "ExtendedResourcesPb",
        "GPUAcceleratorPb",
        "ResourceEntryPb",
        "ResourceNamePb",
        "ResourcesPb",
        "SharedMemoryPb",
    ),
    "flyteres.backend.config": ("PlatformConfig", "PlatformConfigError", "QuotaSpec"),
    "flyteres.backend.effective": ("effective",),
    "flyteres.backend.escalate": ("EscalationCeilingError", "escalate"),
    "flyteres.backend.manifests": ("LimitRangeItem", "LimitRangeSpec"),
    "flyteres.backend.merge": ("merge", "override_resources"),
    "flyteres.backend.quota": ("check_quota",),
    "flyteres.backend.results": ("EffectiveResources", "Explanation", "PlatformFinding", "PlatformRule"),
    "flyteres.convert.flyte": (
        "FlyteArguments",
        "FlyteGpu",
        "convert_to_flyte",
        "flyte_arguments",
        "from_flyte",
        "to_flyte",
    ),
    "flyteres.convert.flytekit": (
        "FlytekitAccelerator",
        "FlytekitArguments",
        "convert_to_flytekit",
        "flytekit_arguments",
        "from_flytekit",
        "from_flytekit_overrides",
        "to_flytekit",
    ),
    "flyteres.convert.idl": ("from_idl", "to_idl"),
    "flyteres.convert.k8s": ("convert_to_k8s", "to_k8s"),
    "flyteres.core.findings": ("Conversion", "Finding", "Rule"),
    "flyteres.core.quantity": ("Quantity",),
    "flyteres.core.spec": ("AcceleratorSpec", "Resource", "ResourceSpec", "SharedMemorySpec"),
}
_LAZY = {name: module for module, names in _EXPORTS.items() for name in names}


def _load(name: str) -> object:
    """Import a public name's module on first access and keep the value here."""
    if name in _SUBMODULES:
        value: object = importlib.import_module(f"{__name__}.{name}")
    elif name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def _public_dir() -> list[str]:
    """The module's dunders and every public name, loaded or not (the lazy machinery stays out)."""
    return sorted({*__all__, *(name for name in globals() if name.startswith("__") and name.endswith("__"))})


# Hidden from type checkers: they see every name in the imports above, and a
# module-level __getattr__ would make them accept any misspelt name as well.
if not TYPE_CHECKING:
    __getattr__ = _load
    __dir__ = _public_dir


__all__ = [
    "AcceleratorModelPb",
    "AcceleratorSpec",
    "Conversion",
    "DeviceClassPb",
    "EffectiveResources",
    "EscalationCeilingError",
    "Explanation",
    "ExtendedResourcesPb",
    "Finding",
    "FlyteArguments",
    "FlyteGpu",
    "FlytekitAccelerator",
    "FlytekitArguments",
    "FlyteresError",
    "GPUAcceleratorPb",
    "InvalidPartitionError",
    "LimitRangeItem",
    "LimitRangeSpec",
    "LossyConversionError",
    "PlatformConfig",
    "PlatformConfigError",
    "PlatformFinding",
    "PlatformRule",
    "Quantity",
    "QuantityError",
    "QuotaSpec",
    "Resource",
    "ResourceEntryPb",
    "ResourceNamePb",
    "ResourceSpec",
    "ResourceSpecError",
    "ResourcesPb",
    "Rule",
    "SharedMemoryPb",
    "SharedMemorySpec",
    "UnknownAcceleratorError",
    "__version__",
    "accelerators",
    "check_quota",
    "convert_to_flyte",
    "convert_to_flytekit",
    "convert_to_k8s",
    "effective",
    "escalate",
    "flyte_arguments",
    "flytekit_arguments",
    "from_flyte",
    "from_flytekit",
    "from_flytekit_overrides",
    "from_idl",
    "merge",
    "override_resources",
    "platform",
    "to_flyte",
    "to_flytekit",
    "to_idl",
    "to_k8s",
]
