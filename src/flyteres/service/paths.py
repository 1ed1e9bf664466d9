"""Field paths of a request: the library's field names as paths the request message has.

The library names a bad field by its place in the neutral model
(`requests.cpu`, `accelerator.partition`, `memory[1]`), whatever form the
spec was given in. A BadRequest must name a field of the request (AIP-193),
so each input form maps those names onto its own message: Flyte 2's
`requests.cpu` is `cpu.request` of a FlyteSpec, flytekit's `requests.memory`
is `requests.mem` (or `resources.mem.request`), an accelerator given as
`custom_accelerator` is that field. `existing` then cuts a path back to the
longest part the message descriptor has, so no answer names a field that
does not exist.

Path syntax (AIP-161): fields joined by `.`, a map entry by its key
(`requests.cpu`), a list item by its index (`resources.requests[0]`).

>>> from flyteres_pb.v2 import service_pb2 as pb
>>> request_path("flyte", pb.FlyteSpec(cpu=pb.RequestLimit(request="2", limit="1")), "requests.cpu")
'cpu.request'
>>> existing(pb.ConvertRequest, "input.flyte.requests.cpu")
'input.flyte'
"""

from __future__ import annotations

import re
from typing import cast

from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

from flyteres_pb.v2 import service_pb2

# flytekit's Resources field name of each resource name of the neutral model.
_FLYTEKIT_NAME = {"memory": "mem"}
_INDEX = re.compile(r"^(?P<name>[^\[\]]+)(?P<index>(\[\d+\])*)$")
_PAIR = {"[0]": "request", "[1]": "limit"}


def existing(root: type[Message], path: str) -> str:
    """The longest leading part of `path` that names a field (or map entry, or list item) of message `root`."""
    parts = path.split(".")
    kept: list[str] = []
    current: Descriptor | None = cast("Descriptor", root.DESCRIPTOR)
    i = 0
    while i < len(parts) and current is not None:
        match = _INDEX.match(parts[i])
        field = current.fields_by_name.get(match["name"]) if match else None
        if match is None or field is None:
            break
        entry = field.message_type
        if entry is not None and entry.GetOptions().map_entry:
            kept.append(match["name"])
            if match["index"] or i + 1 == len(parts):
                break
            kept.append(parts[i + 1])  # the key
            current = entry.fields_by_name["value"].message_type
            i += 2
            continue
        if match["index"] and not _is_list(current, field.name):
            kept.append(match["name"])
            break
        kept.append(parts[i])
        current = entry
        i += 1
    return ".".join(kept)


def _is_list(descriptor: Descriptor, name: str) -> bool:
    # Portable across protobuf 6.30-7.x (FieldDescriptor.is_repeated is 6.31+, `label`
    # is gone in 7): a list field's default value is a container, not a scalar or message.
    default = getattr(GetMessageClass(descriptor)(), name)
    return not isinstance(default, (Message, str, bytes, int, float))


def request_path(form: str, message: Message, field: str) -> str:
    """The path, relative to the SpecInput case `form`, of the library's `field` in `message`."""
    match form:
        case "flytekit":
            assert isinstance(message, service_pb2.FlytekitSpec)
            return _flytekit(message, field)
        case "flyte":
            assert isinstance(message, service_pb2.FlyteSpec)
            return _flyte(message, field)
    return field


def _flytekit(m: service_pb2.FlytekitSpec, field: str) -> str:
    head, _, rest = field.partition(".")
    match head:
        case "requests" | "limits":
            key = _FLYTEKIT_NAME.get(rest, rest)
            if key in (m.requests if head == "requests" else m.limits):
                return f"{head}.{key}"
            if key in m.resources:
                return f"resources.{key}.{'request' if head == 'requests' else 'limit'}"
            return f"{head}.{key}"
        case "resources":
            name = _INDEX.match(rest)
            if name is not None and name["index"] in _PAIR:
                return f"resources.{_FLYTEKIT_NAME.get(name['name'], name['name'])}.{_PAIR[name['index']]}"
            return field
        case "accelerator":
            if m.WhichOneof("accelerator_value") == "custom_accelerator":
                inner = {"partition": "partition_size"}.get(rest, rest)
                return f"custom_accelerator.{inner}" if inner else "custom_accelerator"
            return "accelerator"
        case "shared_memory":
            return m.WhichOneof("shared_memory") or "shared_memory_size"
    return field


def _flyte(m: service_pb2.FlyteSpec, field: str) -> str:
    head, _, rest = field.partition(".")
    gpu = m.WhichOneof("gpu")
    name = _INDEX.match(head)
    match name["name"] if name else head, rest:
        case (("requests" | "limits"), ("cpu" | "memory")):
            return f"{rest}.{'request' if head == 'requests' else 'limit'}"
        case (("cpu" | "memory"), _) if name is not None and name["index"] in _PAIR:
            return f"{name['name']}.{_PAIR[name['index']]}"
        case "gpu", ("device" | "partition" | "device_class") if gpu == "gpu_device":
            return f"gpu_device.{rest}"
        case (("requests" | "limits" | "gpu"), _) if gpu is not None and (head == "gpu" or rest == "gpu"):
            return "gpu_device.quantity" if gpu == "gpu_device" else gpu
        case (("requests" | "limits"), "ephemeral_storage"):
            return "disk"
        case "accelerator", _ if gpu == "gpu_device":
            return f"gpu_device.{rest}" if rest in {"device", "partition", "device_class"} else "gpu_device"
        case "accelerator", _ if gpu is not None:
            return str(gpu)
        case "shared_memory", _:
            return "shm"
    return field


__all__ = ["existing", "request_path"]
