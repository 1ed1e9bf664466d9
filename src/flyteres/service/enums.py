"""The service's enums ⇄ the library's: one table per closed set, used both ways.

The client writes ConvertOptions and IdlSpec.dialect from the library's enums
(`Policy`, `DeviceLabels`, `FlytekitForm`, `IdlTarget`) through these tables;
the server reads them back through their inverses, where the UNSPECIFIED
value (a field left unset) means the library's default. Kept free of gRPC and
of the converters, so the client does not load the server's side.

>>> POLICY[Policy.KUBERNETES] == service_pb2.POLICY_KUBERNETES
True
>>> OUTPUT_FORM["flyte_source"] == service_pb2.OUTPUT_FORM_FLYTE_SOURCE
True
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal, cast

from flyteres.accelerators import DeviceClass
from flyteres.core.findings import Rule
from flyteres.core.options import DeviceLabels, FlytekitForm, IdlTarget, Policy
from flyteres_pb.v2 import service_pb2, spec_pb2

POLICY: Mapping[Policy, service_pb2.Policy] = MappingProxyType(
    {
        Policy.STRICT: service_pb2.POLICY_STRICT,
        Policy.KUBERNETES: service_pb2.POLICY_KUBERNETES,
    }
)

DEVICE_LABELS: Mapping[DeviceLabels, service_pb2.DeviceLabels] = MappingProxyType(
    {
        DeviceLabels.KEEP: service_pb2.DEVICE_LABELS_KEEP,
        DeviceLabels.IDIOMATIC: service_pb2.DEVICE_LABELS_IDIOMATIC,
    }
)

FLYTEKIT_FORM: Mapping[FlytekitForm, service_pb2.FlytekitForm] = MappingProxyType(
    {
        FlytekitForm.SPLIT: service_pb2.FLYTEKIT_FORM_SPLIT,
        FlytekitForm.RESOURCES: service_pb2.FLYTEKIT_FORM_RESOURCES,
    }
)

#: The dialect an IdlSpec's messages are read as; IDL_UNSPECIFIED ("auto") is not a target.
DIALECT: Mapping[IdlTarget, service_pb2.Idl] = MappingProxyType(
    {
        IdlTarget.FLYTERES: service_pb2.IDL_FLYTERES,
        IdlTarget.FLYTEIDL: service_pb2.IDL_FLYTEIDL,
        IdlTarget.FLYTEIDL2: service_pb2.IDL_FLYTEIDL2,
    }
)

#: The output form that carries each IDL's messages (ConvertResponse's field of the same name).
IDL_OUTPUT: Mapping[IdlTarget, service_pb2.OutputForm] = MappingProxyType(
    {
        IdlTarget.FLYTERES: service_pb2.OUTPUT_FORM_FLYTERES,
        IdlTarget.FLYTEIDL: service_pb2.OUTPUT_FORM_FLYTEIDL,
        IdlTarget.FLYTEIDL2: service_pb2.OUTPUT_FORM_FLYTEIDL2,
    }
)

#: The device classes: DEVICE_CLASS_<the DeviceClass value>. UNSPECIFIED is left
#: out: each field says what it means there.
DEVICE_CLASS: Mapping[DeviceClass, spec_pb2.DeviceClass] = MappingProxyType(
    {
        member: cast("spec_pb2.DeviceClass", spec_pb2.DeviceClass.Value(f"DEVICE_CLASS_{member.value}"))
        for member in DeviceClass
    }
)
DEVICE_CLASS_OF: Mapping[spec_pb2.DeviceClass, DeviceClass] = MappingProxyType(
    {number: member for member, number in DEVICE_CLASS.items()}
)

#: The rule ids: RULE_<the Rule's name>. A rule the IDL lacks is RULE_UNSPECIFIED on
#: the wire (tests/test_service_messages.py keeps the two lists equal).
RULE: Mapping[Rule, service_pb2.Rule] = MappingProxyType(
    {
        member: cast("service_pb2.Rule", service_pb2.Rule.Value(f"RULE_{member.name}"))
        for member in Rule
        if f"RULE_{member.name}" in service_pb2.Rule.keys()  # noqa: SIM118 - keys() is the enum wrapper's API
    }
)

#: The client's names of the output forms: the IDL targets' names, then the others.
OutputName = Literal["flyteres", "flyteidl", "flyteidl2", "kubernetes", "flyte_source", "flytekit_source"]

OUTPUT_FORM: Mapping[str, service_pb2.OutputForm] = MappingProxyType(
    {
        **{target.value: form for target, form in IDL_OUTPUT.items()},
        "kubernetes": service_pb2.OUTPUT_FORM_KUBERNETES,
        "flyte_source": service_pb2.OUTPUT_FORM_FLYTE_SOURCE,
        "flytekit_source": service_pb2.OUTPUT_FORM_FLYTEKIT_SOURCE,
    }
)

#: Every output form: what a ConvertOptions without outputs asks for.
ALL_OUTPUTS: frozenset[service_pb2.OutputForm] = frozenset(OUTPUT_FORM.values())


__all__ = [
    "ALL_OUTPUTS",
    "DEVICE_CLASS",
    "DEVICE_CLASS_OF",
    "DEVICE_LABELS",
    "DIALECT",
    "FLYTEKIT_FORM",
    "IDL_OUTPUT",
    "OUTPUT_FORM",
    "POLICY",
    "RULE",
    "OutputName",
]
