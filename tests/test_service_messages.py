"""The service's messages without a server: the one spec <-> ResourceSpec message
mapping (convert.idl), the enum tables between the wire and the library, and
the examples in the service modules' docstrings."""

from __future__ import annotations

import doctest
from collections.abc import Mapping
from types import ModuleType
from typing import Any, cast

import grpc
import pytest

from flyteres import AcceleratorSpec, ResourceSpec, SharedMemorySpec, accelerators
from flyteres._errors import ResourceSpecError
from flyteres.convert.idl import from_idl_spec, to_idl_spec
from flyteres.core.options import DeviceLabels, FlytekitForm, IdlTarget, Policy
from flyteres.service import bounds, client, enums, errors, guard, handlers, logs, paths, read, reflection, write
from flyteres.service.errors import InvalidRequestError
from flyteres_pb.v1 import resources_pb2 as res_pb
from flyteres_pb.v2 import service_pb2 as pb
from flyteres_pb.v2 import spec_pb2 as spec_pb

# A DeviceClass number no value has (an enum field of a message may hold any number on the wire).
UNKNOWN_CLASS = cast("spec_pb.DeviceClass", 99)


def catalog_specs() -> list[ResourceSpec]:
    """A spec per catalog entry (with its first partition, when it has one)."""
    out = []
    for entry in accelerators.catalog():
        device = entry.v1_device or entry.v2_device or entry.name
        partition = entry.partitions[0] if entry.partitions else None
        out.append(
            ResourceSpec(
                requests={"gpu": "1"},
                accelerator=AcceleratorSpec(device, entry.device_class, partition=partition, custom=entry.is_custom),
            )
        )
    return out


SPECS = [
    ResourceSpec(),
    ResourceSpec(requests={"cpu": "500m", "memory": "1Gi"}, limits={"memory": "2Gi", "ephemeral_storage": "3Gi"}),
    ResourceSpec(
        limits={"gpu": "2", "memory": "8Gi"},
        accelerator=AcceleratorSpec("nvidia-h100", model="NVIDIA_H100"),
        shared_memory=SharedMemorySpec(size_limit="1Gi", mount_name="scratch", mount_path="/scratch"),
    ),
    ResourceSpec(
        requests={"gpu": "1"},
        accelerator=AcceleratorSpec("my-chip", "AMAZON_NEURON", unpartitioned=True, custom=True),
        shared_memory=SharedMemorySpec(),
    ),
    *catalog_specs(),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.to_json())
def test_the_spec_message_round_trips_and_matches_the_json_form(spec: ResourceSpec) -> None:
    message = to_idl_spec(spec)
    assert from_idl_spec(message) == spec
    assert from_idl_spec(spec_pb.ResourceSpec.FromString(message.SerializeToString())) == spec
    # The message carries exactly the fields of to_dict, under the same names.
    data = spec.to_dict()
    assert dict(message.requests) == data.get("requests", {})
    assert dict(message.limits) == data.get("limits", {})
    assert message.HasField("accelerator") == ("accelerator" in data)
    assert message.HasField("shared_memory") == ("shared_memory" in data)


def test_shared_memory_with_every_default_is_still_present() -> None:
    message = to_idl_spec(ResourceSpec(shared_memory=SharedMemorySpec()))
    assert message.HasField("shared_memory")
    assert message.shared_memory == spec_pb.SharedMemorySpec()
    assert from_idl_spec(message).shared_memory == SharedMemorySpec()


@pytest.mark.parametrize(
    ("message", "field"),
    [
        (spec_pb.ResourceSpec(requests={"cpu": "-1"}), "requests.cpu"),
        (
            spec_pb.ResourceSpec(accelerator=spec_pb.AcceleratorSpec(device="x", custom=True, model=999)),
            "accelerator.model",
        ),
        (
            spec_pb.ResourceSpec(
                accelerator=spec_pb.AcceleratorSpec(device="x", custom=True, device_class=UNKNOWN_CLASS)
            ),
            "accelerator.device_class",
        ),
        (
            spec_pb.ResourceSpec(shared_memory=spec_pb.SharedMemorySpec(mount_path="relative")),
            "shared_memory.mount_path",
        ),
    ],
)
def test_a_bad_spec_message_names_its_field(message: spec_pb.ResourceSpec, field: str) -> None:
    with pytest.raises(ResourceSpecError) as info:
        from_idl_spec(message)
    assert info.value.field == field


# -- enums: every wire value has its library option, and back --------------------------------------


@pytest.mark.parametrize(
    ("table", "library", "wire"),
    [
        (enums.POLICY, Policy, pb.Policy),
        (enums.DEVICE_LABELS, DeviceLabels, pb.DeviceLabels),
        (enums.FLYTEKIT_FORM, FlytekitForm, pb.FlytekitForm),
        (enums.DIALECT, IdlTarget, pb.Idl),
        (enums.IDL_OUTPUT, IdlTarget, None),
    ],
)
def test_each_library_option_has_one_wire_value(table: Mapping[Any, int], library: type, wire: Any) -> None:
    assert set(table) == set(library)
    assert len(set(table.values())) == len(table)
    if wire is not None:
        # Every value but UNSPECIFIED, which the server reads as the default.
        assert set(table.values()) == set(wire.values()) - {0}


def test_every_output_form_has_a_name_and_is_the_default() -> None:
    assert set(enums.OUTPUT_FORM.values()) == set(pb.OutputForm.values()) - {pb.OUTPUT_FORM_UNSPECIFIED}
    assert frozenset(enums.OUTPUT_FORM.values()) == enums.ALL_OUTPUTS
    assert read.read_options(pb.ConvertOptions()).outputs == enums.ALL_OUTPUTS


def test_unset_options_read_as_the_library_defaults() -> None:
    options = read.read_options(pb.ConvertOptions())
    assert (options.policy, options.device_labels, options.form) == (
        Policy.STRICT,
        DeviceLabels.KEEP,
        FlytekitForm.SPLIT,
    )


def test_the_client_writes_what_the_server_reads() -> None:
    for policy in Policy:
        for labels in DeviceLabels:
            for form in FlytekitForm:
                message = client.convert_options(
                    ["kubernetes"], policy=policy.value, device_labels=labels, flytekit_form=form
                )
                options = read.read_options(message)
                assert (options.policy, options.device_labels, options.form) == (policy, labels, form)
                assert options.outputs == {pb.OUTPUT_FORM_KUBERNETES}


def test_unknown_wire_numbers_are_named() -> None:
    with pytest.raises(InvalidRequestError) as info:
        read.read_options(pb.ConvertOptions(outputs=[9], policy=7, device_labels=8, flytekit_form=9))
    assert info.value.malformed
    assert [v.field for v in info.value.violations] == [
        "options.outputs[0]",
        "options.policy",
        "options.device_labels",
        "options.flytekit_form",
    ]


def test_refusals_carry_google_rpc_codes() -> None:
    assert errors.InvalidRequestError("x").code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert errors.NotFoundError("x").code == grpc.StatusCode.NOT_FOUND.value[0]
    assert errors.UnavailableError("x").code == grpc.StatusCode.FAILED_PRECONDITION.value[0]
    assert errors.RequestError("x").code == grpc.StatusCode.INTERNAL.value[0]


@pytest.mark.parametrize(
    "module",
    [enums, errors, read, write, handlers, client, reflection, guard, bounds, logs, paths],
    ids=lambda m: m.__name__,
)
def test_docstring_examples(module: ModuleType) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


# -- the AIP review: typed enums and field paths that exist -------------------------------------------


def test_every_rule_has_its_enum_value() -> None:
    from flyteres.core.findings import Rule  # noqa: PLC0415

    assert set(enums.RULE) == set(Rule), "add RULE_<NAME> to proto/flyteres/v2/service.proto and run make gen"
    assert {pb.Rule.Name(n) for n in enums.RULE.values()} == set(pb.Rule.keys()) - {"RULE_UNSPECIFIED"}


def test_every_device_class_has_its_enum_value() -> None:
    assert {spec_pb.DeviceClass.Name(n) for n in enums.DEVICE_CLASS.values()} == {
        f"DEVICE_CLASS_{m.value}" for m in accelerators.DeviceClass
    }


_fk, _fl = pb.FlytekitSpec, pb.FlyteSpec
BAD_REQUESTS = {
    "flytekit request above limit": pb.SpecInput(flytekit=_fk(requests={"mem": "2Gi"}, limits={"mem": "1Gi"})),
    "flytekit resources pair": pb.SpecInput(flytekit=_fk(resources={"cpu": pb.RequestLimit(request="2", limit="1")})),
    "flytekit resources quantity": pb.SpecInput(
        flytekit=_fk(resources={"mem": pb.RequestLimit(request="1", limit="x")})
    ),
    "flytekit constant": pb.SpecInput(flytekit=_fk(requests={"gpu": "1"}, accelerator="Z900")),
    "flytekit custom partition": pb.SpecInput(
        flytekit=_fk(requests={"gpu": "1"}, custom_accelerator=res_pb.GPUAccelerator(device="", partition_size="1g"))
    ),
    "flytekit shared memory": pb.SpecInput(flytekit=_fk(shared_memory_size="lots")),
    "flyte cpu pair": pb.SpecInput(flyte=_fl(cpu=pb.RequestLimit(request="2", limit="1"))),
    "flyte memory limit": pb.SpecInput(flyte=_fl(memory=pb.RequestLimit(request="1Gi", limit="x"))),
    "flyte gpu string": pb.SpecInput(flyte=_fl(gpu_accelerator="Z900:1")),
    "flyte device partition": pb.SpecInput(
        flyte=_fl(gpu_device=pb.FlyteDevice(quantity=1, device="A100", partition="9g"))
    ),
    "flyte device class": pb.SpecInput(flyte=_fl(gpu_device=pb.FlyteDevice(quantity=1, device_class=UNKNOWN_CLASS))),
    "flyte disk": pb.SpecInput(flyte=_fl(disk="x")),
    "flyte shm above memory": pb.SpecInput(flyte=_fl(memory=pb.RequestLimit(request="1Gi", limit="2Gi"), shm="8Gi")),
    "canonical resource name": pb.SpecInput(canonical=spec_pb.ResourceSpec(requests={"bogus": "1"})),
    "canonical unknown device": pb.SpecInput(
        canonical=spec_pb.ResourceSpec(requests={"gpu": "1"}, accelerator=spec_pb.AcceleratorSpec(device="z900"))
    ),
    "idl entry": pb.SpecInput(
        idl=pb.IdlSpec(resources=res_pb.Resources(requests=[res_pb.Resources.ResourceEntry(name=1, value="x")]))
    ),
    "idl bytes": pb.SpecInput(idl_binary=pb.IdlBinarySpec(resources=b"\xff\xff")),
}


@pytest.mark.parametrize("spec", BAD_REQUESTS.values(), ids=BAD_REQUESTS.keys())
def test_bad_request_paths_exist_in_the_request_and_advice_is_for_callers(spec: pb.SpecInput) -> None:
    from flyteres.service.paths import existing  # noqa: PLC0415

    request = pb.ConvertRequest(input=spec)
    with pytest.raises(InvalidRequestError) as info:
        handlers.convert(request)
    assert info.value.violations
    for violation in info.value.violations:
        assert existing(pb.ConvertRequest, violation.field) == violation.field, violation
        assert violation.field.startswith(f"input.{spec.WhichOneof('spec')}"), violation
    status = errors.to_status(info.value)
    text = status.message + "".join(v.description for v in info.value.violations)
    for python_only in ("custom=True", "LossyConversionError", "pass custom", "build the spec"):
        assert python_only not in text


def test_finding_actions_are_typed_and_name_no_python_exception() -> None:
    request = pb.ConvertRequest(
        input=pb.SpecInput(flytekit=pb.FlytekitSpec(limits={"cpu": "2"}, requests={"storage": "1Gi"})),
    )
    answer = handlers.convert(request)
    findings = [*answer.findings, *answer.flyte.findings, *answer.flytekit.findings, *answer.kubernetes.findings]
    assert findings
    for finding in findings:
        assert finding.rule != pb.RULE_UNSPECIFIED
        assert [a.policy for a in finding.actions] == [pb.POLICY_STRICT, pb.POLICY_KUBERNETES]
        for action in finding.actions:
            assert "LossyConversionError" not in action.action
            assert action.lossy == (action.action == "")
