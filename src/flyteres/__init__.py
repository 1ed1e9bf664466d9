"""flyteres: one truth for Flyte task resources.

Generated protobuf types are re-exported with a ``Pb`` suffix so they never
collide with the hand-written model.
"""

from __future__ import annotations

from flyteres._errors import FlyteresError
from flyteres._idl import (
    AcceleratorModelPb,
    DeviceClassPb,
    ExtendedResourcesPb,
    GPUAcceleratorPb,
    ResourceEntryPb,
    ResourceNamePb,
    ResourcesPb,
    SharedMemoryPb,
)

__all__ = [
    "AcceleratorModelPb",
    "DeviceClassPb",
    "ExtendedResourcesPb",
    "FlyteresError",
    "GPUAcceleratorPb",
    "ResourceEntryPb",
    "ResourceNamePb",
    "ResourcesPb",
    "SharedMemoryPb",
    "__version__",
]

__version__ = "0.1.0"
