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
    to_flytekit,
)
from flyteres.convert.idl import from_idl, to_idl
from flyteres.convert.k8s import convert_to_k8s, to_k8s
from flyteres.core.findings import Conversion, Finding, Rule
from flyteres.core.quantity import Quantity
from flyteres.core.spec import AcceleratorSpec, Resource, ResourceSpec, SharedMemorySpec

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
    "from_idl",
    "merge",
    "override_resources",
    "platform",
    "to_flyte",
    "to_flytekit",
    "to_idl",
    "to_k8s",
]

__version__ = "0.1.0"
