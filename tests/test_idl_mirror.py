"""Our IDL is Flyte's: a descriptor walk against the installed flyteidl2 and flyteidl.

The comparison is structural (numbers, types, labels, oneofs, JSON names, enum
values), with the package prefix of type references taken out, because the
package is the one thing that differs on purpose.
"""

from __future__ import annotations

from typing import Any

import pytest
from flyteidl.core import tasks_pb2 as v1_tasks
from flyteidl2.core import tasks_pb2 as v2_tasks
from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import Descriptor, EnumDescriptor

from flyteres_pb.v1 import resources_pb2 as ours

MESSAGES = ["Resources", "GPUAccelerator", "SharedMemory", "ExtendedResources"]
ENUMS = ["AcceleratorModel"]

Shape = dict[str, Any]


def _relative(type_name: str, package: str) -> str:
    prefix = f".{package}."
    return type_name.removeprefix(prefix) if type_name.startswith(prefix) else type_name


def enum_shape(enum: EnumDescriptor) -> Shape:
    return {f"value {v.name}": v.number for v in enum.values}


def message_shape(msg: Descriptor, package: str) -> Shape:
    proto = descriptor_pb2.DescriptorProto()
    msg.CopyToProto(proto)
    shape: Shape = {}
    for field, field_proto in zip(msg.fields, proto.field, strict=True):
        shape[f"field {field.name}"] = {
            "number": field.number,
            "type": descriptor_pb2.FieldDescriptorProto.Type.Name(field_proto.type),
            "label": descriptor_pb2.FieldDescriptorProto.Label.Name(field_proto.label),
            "type_name": _relative(field_proto.type_name, package),
            "json_name": field.json_name,
            "oneof": field.containing_oneof.name if field.containing_oneof else None,
            "proto3_optional": field_proto.proto3_optional,
        }
    for oneof in msg.oneofs:
        shape[f"oneof {oneof.name}"] = sorted(f.name for f in oneof.fields)
    for nested in msg.nested_types:
        shape[f"message {nested.name}"] = message_shape(nested, package)
    for enum in msg.enum_types:
        shape[f"enum {enum.name}"] = enum_shape(enum)
    return shape


def file_shape(module: Any, package: str) -> Shape:
    shape: Shape = {}
    for name in MESSAGES:
        shape[f"message {name}"] = message_shape(module.DESCRIPTOR.message_types_by_name[name], package)
    for name in ENUMS:
        if name in module.DESCRIPTOR.enum_types_by_name:
            shape[f"enum {name}"] = enum_shape(module.DESCRIPTOR.enum_types_by_name[name])
    return shape


def differences(expected: Shape, actual: Shape, path: str = "", *, subset: bool = False) -> list[str]:
    """Readable paths where `actual` differs from `expected`.

    With subset=True, keys missing from `expected` are allowed in `actual`
    (ours is a superset of flyteidl.core)."""
    out: list[str] = []
    for key in sorted(expected.keys() | actual.keys()):
        here = f"{path}/{key}" if path else key
        if key not in actual:
            out.append(f"{here}: missing from flyteres.v1 (Flyte has {expected[key]!r})")
        elif key not in expected:
            if not subset:
                out.append(f"{here}: flyteres.v1 has {actual[key]!r}, Flyte does not")
        elif isinstance(expected[key], dict) and isinstance(actual[key], dict):
            out += differences(expected[key], actual[key], here, subset=subset)
        elif expected[key] != actual[key]:
            out.append(f"{here}: Flyte has {expected[key]!r}, flyteres.v1 has {actual[key]!r}")
    return out


def test_every_message_field_and_enum_value_matches_flyteidl2() -> None:
    diff = differences(file_shape(v2_tasks, "flyteidl2.core"), file_shape(ours, "flyteres.v1"))
    assert not diff, "flyteres.v1 differs from flyteidl2.core:\n" + "\n".join(diff)


def test_every_field_flyteidl_v1_has_matches_ours() -> None:
    v1 = file_shape(v1_tasks, "flyteidl.core")
    assert "enum AcceleratorModel" not in v1, "flyteidl.core gained AcceleratorModel: mirror it"
    diff = differences(v1, file_shape(ours, "flyteres.v1"), subset=True)
    assert not diff, "flyteres.v1 differs from flyteidl.core:\n" + "\n".join(diff)


def test_ours_is_a_strict_superset_of_flyteidl_v1_only_in_the_v2_fields() -> None:
    v1 = file_shape(v1_tasks, "flyteidl.core")
    extra = [d.split(":")[0] for d in differences(v1, file_shape(ours, "flyteres.v1"))]
    assert extra == [
        "enum AcceleratorModel",
        "message GPUAccelerator/enum DeviceClass",
        "message GPUAccelerator/field accelerator_model",
        "message GPUAccelerator/field device_class",
    ]


def test_accelerator_model_names_match_flyteidl2_option_by_option() -> None:
    theirs = {
        v.name: v.GetOptions().Extensions[v2_tasks.accelerator_name]
        for v in v2_tasks.AcceleratorModel.DESCRIPTOR.values
    }
    mine = {v.name: v.GetOptions().Extensions[ours.accelerator_name] for v in ours.AcceleratorModel.DESCRIPTOR.values}
    assert mine == theirs


def test_package_is_ours_so_both_load_in_one_process() -> None:
    assert ours.DESCRIPTOR.package == "flyteres.v1"
    assert ours.Resources.DESCRIPTOR.full_name == "flyteres.v1.Resources"
    # Both Flyte packages are imported in this module, beside ours.
    assert v1_tasks.Resources.DESCRIPTOR.full_name == "flyteidl.core.Resources"
    assert v2_tasks.Resources.DESCRIPTOR.full_name == "flyteidl2.core.Resources"


def test_difference_report_names_the_changed_field() -> None:
    # The walk must catch a renumbered field: change one in a copy of the shape.
    theirs = file_shape(v2_tasks, "flyteidl2.core")
    mine = file_shape(ours, "flyteres.v1")
    mine["message SharedMemory"]["field size_limit"] = {
        **mine["message SharedMemory"]["field size_limit"],
        "number": 7,
    }
    assert differences(theirs, mine) == [
        "message SharedMemory/field size_limit/number: Flyte has 3, flyteres.v1 has 7",
    ]


@pytest.mark.parametrize("name", MESSAGES)
def test_generated_classes_live_under_the_shipped_package(name: str) -> None:
    assert getattr(ours, name).__module__ == "flyteres_pb.v1.resources_pb2"
