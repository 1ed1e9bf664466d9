"""The generated IDL modules, under the names the library uses.

The generated code lives in two packages shipped beside this one:
`flyteres_pb` (protobuf messages and gRPC stubs: `v1` the resource messages,
`v2` the neutral model and the service) and `flyteres_betterproto`
(betterproto dataclasses). Hand-written code imports
them from here only, so a regenerated layout changes one file.
"""

from __future__ import annotations

from flyteres_pb.v1 import resources_pb2
from flyteres_pb.v2 import spec_pb2

ResourcesPb = resources_pb2.Resources
ResourceEntryPb = resources_pb2.Resources.ResourceEntry
ResourceNamePb = resources_pb2.Resources.ResourceName
GPUAcceleratorPb = resources_pb2.GPUAccelerator
DeviceClassPb = resources_pb2.GPUAccelerator.DeviceClass
SharedMemoryPb = resources_pb2.SharedMemory
ExtendedResourcesPb = resources_pb2.ExtendedResources
AcceleratorModelPb = resources_pb2.AcceleratorModel
# The neutral model as a message (flyteres/v2/spec.proto), for the service and its client.
ResourceSpecPb = spec_pb2.ResourceSpec
AcceleratorSpecPb = spec_pb2.AcceleratorSpec
SpecDeviceClassPb = spec_pb2.DeviceClass
