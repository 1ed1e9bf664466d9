"""The accelerator catalog: every device, and how each SDK spells it and puts it on the wire.

The catalog is data (``data/accelerators.json``, readable from any language);
`flyteres.accelerators.catalog` reads it. This package is the lowest layer of
flyteres besides the errors: the neutral model validates devices against it.

>>> resolve("nvidia-tesla-h100").v1_device
'nvidia-h100'
"""

from __future__ import annotations

from flyteres.accelerators.catalog import (
    SCHEMA_VERSION,
    Accelerator,
    DeviceClass,
    DeviceClassMismatchError,
    DeviceClassName,
    InvalidPartitionError,
    Match,
    NodeLabel,
    Role,
    UnknownAcceleratorError,
    catalog,
    entries,
    explain,
    from_wire,
    resolve,
)

__all__ = [
    "SCHEMA_VERSION",
    "Accelerator",
    "DeviceClass",
    "DeviceClassMismatchError",
    "DeviceClassName",
    "InvalidPartitionError",
    "Match",
    "NodeLabel",
    "Role",
    "UnknownAcceleratorError",
    "catalog",
    "entries",
    "explain",
    "from_wire",
    "resolve",
]
