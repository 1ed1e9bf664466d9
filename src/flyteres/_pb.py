"""The generated IDL modules, under the names the library uses.

The generated code lives in two packages shipped beside this one:
`flyteres_pb.v1` (protobuf messages and gRPC stubs) and
`flyteres_betterproto.v1` (betterproto dataclasses). Hand-written code imports
them from here only, so a regenerated layout changes one file.
"""

from __future__ import annotations

from flyteres_pb.v1 import resources_pb2, service_pb2

ResourcesPb = resources_pb2.Resources
ResourceEntryPb = resources_pb2.Resources.ResourceEntry
ResourceNamePb = resources_pb2.Resources.ResourceName
GPUAcceleratorPb = resources_pb2.GPUAccelerator
DeviceClassPb = resources_pb2.GPUAccelerator.DeviceClass
SharedMemoryPb = resources_pb2.SharedMemory
ExtendedResourcesPb = resources_pb2.ExtendedResources
AcceleratorModelPb = resources_pb2.AcceleratorModel
# The neutral model as a message (service.proto), for the service and its client.
ResourceSpecPb = service_pb2.ResourceSpec
AcceleratorSpecPb = service_pb2.AcceleratorSpec
