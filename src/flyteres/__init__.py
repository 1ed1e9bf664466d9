"""flyteres: one truth for Flyte task resources.

Generated protobuf types are re-exported with a ``Pb`` suffix so they never
collide with the hand-written model.
"""

from __future__ import annotations

from flyteres import accelerators
from flyteres._errors import FlyteresError, InvalidPartitionError, UnknownAcceleratorError
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
    "InvalidPartitionError",
    "ResourceEntryPb",
    "ResourceNamePb",
    "ResourcesPb",
    "SharedMemoryPb",
    "UnknownAcceleratorError",
    "__version__",
    "accelerators",
]

__version__ = "0.1.0"
