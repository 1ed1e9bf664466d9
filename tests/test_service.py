"""flyteres.v2.ResourceService over a real server on 127.0.0.1, port 0: every RPC,
every input form, answers that agree with the library and with the SDKs' own
serializers, field-level errors, batching limits, health, reflection, graceful
shutdown and the `serve` command."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

import flyte
import grpc
import pytest
from flytekit import Resources
from flytekit.extras import accelerators as fk
from google.protobuf import descriptor_pb2, json_format
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

import flyteres
from flyteres import AcceleratorSpec, ResourceSpec
from flyteres.convert.idl import from_idl_spec
from flyteres.service import (
    BackgroundServer,
    Client,
    ServerConfig,
    ServiceError,
    flyte_input,
    flytekit_input,
    idl_input,
)
from flyteres.service.server import JsonFormatter
from flyteres_pb.v1 import resources_pb2 as res_pb
from flyteres_pb.v2 import service_pb2 as pb
from flyteres_pb.v2 import spec_pb2 as spec_pb

from .oracle import flytekit_wire

# A DeviceClass number no value has (an enum field of a message may hold any number on the wire).
UNKNOWN_CLASS = cast("spec_pb.DeviceClass", 99)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def server() -> Iterator[BackgroundServer]:
    config = ServerConfig(max_batch_items=5, max_message_bytes=256 * 1024, log_calls=False)
    with BackgroundServer("127.0.0.1:0", config) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: BackgroundServer) -> Iterator[Client]:
    with Client(server.address, timeout=10) as c:
        yield c


def k8s_dict(message: Any) -> dict[str, Any]:
    return json_format.MessageToDict(message)


# -- Convert: every input form, checked against the library ----------------------------------------

FLYTEKIT_CASES: dict[str, dict[str, Any]] = {
    "split with MIG and shm": {
        "requests": {"cpu": "1", "mem": "2Gi", "gpu": "1"},
        "limits": {"mem": "4Gi", "gpu": "1"},
        "accelerator": "A100.partition_1g_5gb",
        "shared_memory": True,
    },
    "resources pairs and a TPU slice": {
        "resources": {"cpu": ("500m", "2"), "mem": "1Gi", "gpu": "4"},
        "accelerator": "V5P.slice_2x2x2",
        "shared_memory": "2Gi",
    },
    "unpartitioned": {"requests": {"gpu": "2"}, "accelerator": "A100.unpartitioned"},
    "ephemeral storage limit": {"requests": {"ephemeral_storage": "1Gi"}, "limits": {"ephemeral_storage": "2Gi"}},
}


@pytest.mark.parametrize("kwargs", FLYTEKIT_CASES.values(), ids=FLYTEKIT_CASES.keys())
def test_convert_of_flytekit_arguments_agrees_with_the_library(client: Client, kwargs: dict[str, Any]) -> None:
    answer = client.convert(flytekit_input(**kwargs))
    spec = flyteres.from_flytekit(**kwargs)
    assert from_idl_spec(answer.spec) == spec
    for target in ("flyteres", "flyteidl", "flyteidl2"):
        res, ext = flyteres.to_idl(spec, target)  # type: ignore[arg-type]
        out = getattr(answer, target)
        assert out.resources_binary == res.SerializeToString()
        assert out.extended_resources_binary == (b"" if ext is None else ext.SerializeToString())
    k8s = flyteres.convert_to_k8s(spec)
    assert answer.kubernetes.lossy == bool(k8s.lossy)
    if not k8s.lossy:
        assert k8s_dict(answer.kubernetes.value) == k8s.value
    v2 = flyteres.flyte_arguments(spec)
    assert answer.flyte.lossy == bool(v2.lossy)
    assert answer.flyte.source == ("" if v2.lossy else v2.value.source())
    assert answer.lossy == (answer.flyte.lossy or answer.flytekit.lossy or answer.kubernetes.lossy)


def _flytekit_namespace() -> dict[str, Any]:
    namespace: dict[str, Any] = {"Resources": Resources}
    namespace.update({name: getattr(fk, name) for name in dir(fk) if not name.startswith("_")})
    return namespace


@pytest.mark.parametrize(
    "spec",
    [
        ResourceSpec(requests={"cpu": "1", "memory": "1Gi"}, limits={"memory": "2Gi"}),
        flyteres.from_flytekit(**FLYTEKIT_CASES["split with MIG and shm"]),
        flyteres.from_flytekit(**FLYTEKIT_CASES["resources pairs and a TPU slice"]),
        ResourceSpec(requests={"gpu": "1"}, accelerator=AcceleratorSpec("vendor-x", partition="p1", custom=True)),
        ResourceSpec(requests={"gpu": "1"}, accelerator=AcceleratorSpec("vendor-x", unpartitioned=True, custom=True)),
        ResourceSpec(requests={"gpu": "1"}, accelerator=AcceleratorSpec("nvidia-rtx-a6000", custom=True)),
    ],
    ids=["split", "mig", "tpu", "custom partition", "custom unpartitioned", "raw device"],
)
@pytest.mark.parametrize("form", ["split", "resources"])
def test_flytekit_source_runs_in_flytekit_and_serializes_to_the_flyteidl_output(
    client: Client, spec: ResourceSpec, form: str
) -> None:
    answer = client.convert(spec, ["flytekit_source", "flyteidl"], flytekit_form=form)  # type: ignore[arg-type]
    if answer.flytekit.lossy:
        pytest.skip("not expressible in this form")
    kwargs = eval(f"dict({answer.flytekit.source})", _flytekit_namespace())  # noqa: S307 - our own output
    res, ext = flytekit_wire(**kwargs)
    if form == "split":
        assert res.SerializeToString() == answer.flyteidl.resources_binary
    else:
        assert flyteres.from_idl(res).equivalent(flyteres.from_idl(answer.flyteidl.resources_binary))
    assert (b"" if ext is None else ext.SerializeToString()) == answer.flyteidl.extended_resources_binary


def test_flyte_source_builds_the_same_spec(client: Client) -> None:
    spec = flyteres.from_flytekit(
        requests={"cpu": "1", "mem": "2Gi", "gpu": "1"},
        limits={"mem": "4Gi"},
        accelerator="A100.partition_1g_5gb",
        shared_memory=True,
    )
    answer = client.convert(spec, ["flyte_source"])
    built = eval(answer.flyte.source, {"flyte": flyte})  # noqa: S307 - our own output
    assert flyteres.from_flyte(built).equivalent(spec)


@pytest.mark.parametrize(
    ("kwargs", "resources"),
    [
        ({"cpu": ("1", "2"), "memory": "4Gi", "gpu": "A100:1", "shm": "auto"}, None),
        ({"cpu": "500m", "gpu": 3, "disk": "10Gi", "shm": "4Gi"}, None),
        (
            {"gpu": pb.FlyteDevice(quantity=2, device_class=spec_pb.DEVICE_CLASS_AMD_GPU, device="mi-x")},
            flyte.Resources(gpu=flyte.Device(quantity=2, device_class="AMD_GPU", device="mi-x")),
        ),
        (
            {
                "gpu": pb.FlyteDevice(
                    quantity=2, device_class=spec_pb.DEVICE_CLASS_NVIDIA_GPU, device="H100", partition="3g.40gb"
                )
            },
            flyte.Resources(gpu=flyte.GPU("H100", 2, "3g.40gb")),
        ),
    ],
    ids=["pairs and string gpu", "count, disk, shm size", "raw device", "MIG helper"],
)
def test_convert_of_flyte_arguments_agrees_with_from_flyte(
    client: Client, kwargs: dict[str, Any], resources: Any
) -> None:
    answer = client.convert(flyte_input(**kwargs), ["flyteidl2"])
    expected = flyteres.from_flyte(resources if resources is not None else flyte.Resources(**kwargs))
    assert from_idl_spec(answer.spec) == expected
    res, ext = flyteres.to_idl(expected, "flyteidl2")
    assert answer.flyteidl2.resources_binary == res.SerializeToString()
    assert answer.flyteidl2.extended_resources_binary == (b"" if ext is None else ext.SerializeToString())
    assert not answer.HasField("flyteidl")


def test_idl_messages_and_bytes_read_like_from_idl(client: Client) -> None:
    spec = ResourceSpec(
        requests={"gpu": "1"}, accelerator=AcceleratorSpec("tpu-v5-lite-podslice", "GOOGLE_TPU", partition="2x2")
    )
    res, ext = flyteres.to_idl(spec, "flyteidl")
    # flytekit's bytes carry no class: named as flyteidl, the TPU class is inferred.
    as_v1 = client.convert(idl_input(res, ext, dialect="flyteidl"), ["flyteres"])
    assert from_idl_spec(as_v1.spec) == spec
    as_bytes = client.convert(idl_input(res.SerializeToString(), ext.SerializeToString(), dialect="flyteidl"))
    assert from_idl_spec(as_bytes.spec) == spec
    # Read as flyteidl2, the missing class is the proto default.
    as_v2 = client.convert(idl_input(res, ext), ["flyteres"])
    assert as_v2.spec.accelerator.device_class == spec_pb.DEVICE_CLASS_NVIDIA_GPU


def test_canonical_spec_round_trips(client: Client) -> None:
    spec = ResourceSpec(
        requests={"cpu": "1", "ephemeral_storage": "1Gi"},
        limits={"cpu": "2"},
        accelerator=AcceleratorSpec("nvidia-tesla-a100", unpartitioned=True, model="NVIDIA_A100"),
        shared_memory=flyteres.SharedMemorySpec(flyteres.Quantity.parse("1Gi"), mount_name="m", mount_path="/m"),
    )
    answer = client.convert(spec, ["flyteres"])
    assert from_idl_spec(answer.spec) == spec
    again = client.convert(pb.SpecInput(canonical=answer.spec), ["flyteres"])
    assert again.spec == answer.spec
    assert json_format.MessageToDict(answer.spec, preserving_proto_field_name=True) == {
        **spec.to_dict(),
        # The device class is an enum on the wire: DEVICE_CLASS_ and the library's name.
        "accelerator": {**spec.to_dict()["accelerator"], "device_class": "DEVICE_CLASS_NVIDIA_GPU"},
    }


def test_betterproto_and_pb2_write_the_same_spec_bytes() -> None:
    # The betterproto dataclasses cover the resource messages and the neutral model;
    # the service itself uses google.rpc.Status, which betterproto has no package for.
    from flyteres_betterproto import v1 as bp1  # noqa: PLC0415
    from flyteres_betterproto import v2 as bp  # noqa: PLC0415

    ours = spec_pb.ResourceSpec(
        requests={"cpu": "1", "gpu": "4"},
        limits={"cpu": "2"},
        accelerator=spec_pb.AcceleratorSpec(
            device="tpu-v5p-slice",
            device_class=spec_pb.DEVICE_CLASS_GOOGLE_TPU,
            partition="2x2x1",
            model="GOOGLE_TPU_V5P",
        ),
        shared_memory=spec_pb.SharedMemorySpec(size_limit="1Gi"),
    )
    theirs = bp.ResourceSpec(
        requests={"cpu": "1", "gpu": "4"},
        limits={"cpu": "2"},
        accelerator=bp.AcceleratorSpec(
            device="tpu-v5p-slice",
            device_class=bp.DeviceClass.GOOGLE_TPU,
            partition="2x2x1",
            model=bp1.AcceleratorModel.GOOGLE_TPU_V5P,
        ),
        shared_memory=bp.SharedMemorySpec(size_limit="1Gi"),
    )
    assert bp.ResourceSpec().parse(ours.SerializeToString()) == theirs
    assert spec_pb.ResourceSpec.FromString(bytes(theirs)) == ours


# -- lossy conversions are answers, with findings ------------------------------------------------


def test_lossy_output_is_withheld_and_explained(client: Client) -> None:
    answer = client.convert(flytekit_input(limits={"cpu": "2"}), ["flyte_source", "flyteidl2"])
    assert answer.lossy
    assert answer.flyte.lossy
    assert answer.flyte.source == ""
    (finding,) = [f for f in answer.flyte.findings if f.lossy]
    assert (finding.rule, finding.field, finding.value) == (pb.RULE_LIMIT_WITHOUT_REQUEST, "limits.cpu", "2")
    # What each policy does, typed: strict withholds the output, kubernetes decides.
    strict, kubernetes = finding.actions
    assert (strict.policy, strict.lossy, strict.action) == (pb.POLICY_STRICT, True, "")
    assert (kubernetes.policy, kubernetes.lossy) == (pb.POLICY_KUBERNETES, False)
    assert kubernetes.action
    # Wire outputs never lose anything, so they are always there.
    assert answer.flyteidl2.resources_binary


def test_kubernetes_policy_decides_what_strict_refuses(client: Client) -> None:
    answer = client.convert(flytekit_input(limits={"cpu": "2"}), ["flyte_source"], policy="kubernetes")
    assert not answer.lossy
    assert answer.flyte.source == "flyte.Resources(cpu=('2', '2'))"
    assert [f.rule for f in answer.flyte.findings] == [pb.RULE_LIMIT_WITHOUT_REQUEST]


def test_reading_findings_are_listed_once(client: Client) -> None:
    answer = client.convert(flytekit_input(requests={"cpu": "1", "gpu": "1"}, accelerator="V5E.slice_2x2"))
    rules = [f.rule for f in answer.findings]
    assert pb.RULE_DEVICE_CLASS_INFERRED in rules
    for output in (answer.flyte, answer.flytekit, answer.kubernetes):
        assert not {f.rule for f in output.findings} & set(rules)


# -- invalid input: INVALID_ARGUMENT naming every bad field -------------------------------------------


def test_every_bad_field_is_named_in_a_bad_request_detail(client: Client) -> None:
    with pytest.raises(ServiceError) as info:
        client.convert(flytekit_input(requests={"cpu": "-1", "mem": "2GB"}, limits={"gpu": "x"}, accelerator="Z100"))
    assert info.value.code is grpc.StatusCode.INVALID_ARGUMENT
    fields = {v.field for v in info.value.violations}
    assert fields == {
        "input.flytekit.requests.cpu",
        "input.flytekit.requests.mem",
        "input.flytekit.limits.gpu",
        "input.flytekit.accelerator",
    }
    mem = next(v for v in info.value.violations if v.field.endswith("mem"))
    assert "'2GB'" in mem.description


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (flytekit_input(requests={"cpu": "2"}, limits={"cpu": "1"}), "input.flytekit.requests.cpu"),
        (flyte_input(cpu="abc"), "input.flyte.cpu"),
        (
            flyte_input(gpu=pb.FlyteDevice(quantity=1, device_class=UNKNOWN_CLASS, device="x")),
            "input.flyte.gpu_device.device_class",
        ),
        (
            idl_input(res_pb.Resources(requests=[res_pb.Resources.ResourceEntry(name=1, value="1 Gi")])),
            "input.idl.resources.requests[0].value",
        ),
        (idl_input(b"\xff\xff\xff"), "input.idl_binary.resources"),
        (
            pb.SpecInput(canonical=spec_pb.ResourceSpec(requests={"cpu": "1", "bogus": "1"})),
            "input.canonical.requests.bogus",
        ),
        (pb.SpecInput(), "input"),
    ],
    ids=["request above limit", "quantity", "device class", "idl entry", "bytes", "resource name", "empty"],
)
def test_invalid_input_is_invalid_argument_naming_the_field(client: Client, spec: Any, field: str) -> None:
    with pytest.raises(ServiceError) as info:
        client.convert(spec)
    assert info.value.code is grpc.StatusCode.INVALID_ARGUMENT
    assert field in {v.field for v in info.value.violations}, info.value.violations


def test_unknown_enum_numbers_in_options_are_refused(client: Client) -> None:
    request = pb.ConvertRequest(input=flytekit_input(requests={"cpu": "1"}))
    request.options.policy = 7  # type: ignore[assignment]
    request.options.outputs.append(42)  # type: ignore[arg-type]
    raw = client._channel.unary_unary("/flyteres.v2.ResourceService/Convert")  # bytes in, bytes out
    with pytest.raises(grpc.RpcError) as info:
        raw(request.SerializeToString(), timeout=10)
    error: Any = info.value
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "options.policy" in error.details()
    assert "options.outputs[0]" in error.details()


# -- Validate ------------------------------------------------------------------------------------------


def test_validate_answers_invalid_specs_with_their_violations(client: Client) -> None:
    answer = client.validate(flytekit_input(requests={"cpu": "-1"}, limits={"mem": "1x"}))
    assert not answer.valid
    assert {v.field for v in answer.violations} == {"input.flytekit.requests.cpu", "input.flytekit.limits.mem"}
    assert not answer.HasField("spec")


def test_validate_reports_lossiness_per_policy(client: Client) -> None:
    spec = flytekit_input(limits={"cpu": "2"})
    strict = client.validate(spec, ["flyte_source"])
    assert strict.valid
    assert strict.lossy
    assert [f.rule for f in strict.findings] == [pb.RULE_LIMIT_WITHOUT_REQUEST]
    assert not client.validate(spec, ["flyte_source"], policy="kubernetes").lossy
    assert not client.validate(spec, ["kubernetes"]).lossy


# -- accelerators --------------------------------------------------------------------------------------


def test_resolve_accelerator_explains_a_spelling(client: Client) -> None:
    answer = client.resolve_accelerator("nvidia-tesla-h100")
    match = flyteres.accelerators.explain("nvidia-tesla-h100")
    assert answer.accelerator.name == "H100"
    assert list(answer.roles) == [str(r) for r in match.roles]
    custom = client.resolve_accelerator("my-device", custom=True, device_class="AMD_GPU")
    assert custom.accelerator.is_custom
    assert custom.accelerator.device_class == spec_pb.DEVICE_CLASS_AMD_GPU


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"spelling": "Z900"}, grpc.StatusCode.NOT_FOUND),
        ({"spelling": ""}, grpc.StatusCode.INVALID_ARGUMENT),
        ({"spelling": "H100", "device_class": "TPU"}, grpc.StatusCode.INVALID_ARGUMENT),
    ],
    ids=["unknown", "empty", "class mismatch"],
)
def test_resolve_accelerator_refusals(client: Client, kwargs: dict[str, Any], code: grpc.StatusCode) -> None:
    with pytest.raises(ServiceError) as info:
        client.resolve_accelerator(**kwargs)
    assert info.value.code is code


def test_an_unknown_device_class_is_refused_by_the_client_and_the_server(client: Client) -> None:
    with pytest.raises(ValueError, match="unknown device class 'QUANTUM'"):
        client.resolve_accelerator("H100", device_class="QUANTUM")
    raw = client._channel.unary_unary("/flyteres.v2.ResourceService/ResolveAccelerator")  # bytes in, bytes out
    request = pb.ResolveAcceleratorRequest(spelling="H100", device_class=UNKNOWN_CLASS)
    with pytest.raises(grpc.RpcError) as info:
        raw(request.SerializeToString(), timeout=10)
    error: Any = info.value
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "unknown DeviceClass value 99" in error.details()


def test_an_unknown_accelerator_says_which_field_to_set(client: Client) -> None:
    with pytest.raises(ServiceError) as info:
        client.resolve_accelerator("Z900")
    assert "set custom to true to use a device string the catalog does not know" in info.value.details
    assert "custom=True" not in info.value.details


def test_list_accelerators_pages(client: Client) -> None:
    listed = client.list_accelerators()
    request = pb.ListAcceleratorsRequest(page_size=7)
    names: list[str] = []
    while True:
        page = client._call(client._list, request, 10)
        assert len(page.accelerators) <= 7
        assert page.total_size == len(listed)
        names += [a.name for a in page.accelerators]
        if not page.next_page_token:
            break
        request.page_token = page.next_page_token
    assert names == [a.name for a in listed]
    # A token is only good for the filter it was made with, and a made-up one is refused.
    first = client._call(client._list, pb.ListAcceleratorsRequest(page_size=1), 10)
    for bad in (
        pb.ListAcceleratorsRequest(page_token=first.next_page_token, device_class=spec_pb.DEVICE_CLASS_GOOGLE_TPU),
        pb.ListAcceleratorsRequest(page_token="bm90IGEgdG9rZW4"),  # noqa: S106 - a made-up page token
        pb.ListAcceleratorsRequest(page_size=-1),
    ):
        with pytest.raises(ServiceError) as info:
            client._call(client._list, bad, 10)
        assert info.value.code is grpc.StatusCode.INVALID_ARGUMENT


def test_list_accelerators_is_the_catalog(client: Client) -> None:
    listed = client.list_accelerators()
    catalog = flyteres.accelerators.catalog()
    assert [a.name for a in listed] == [a.name for a in catalog]
    for message, entry in zip(listed, catalog, strict=True):
        expected = {k: v for k, v in entry.to_dict().items() if v not in (None, [], False, "")}
        expected["device_class"] = f"DEVICE_CLASS_{expected['device_class']}"
        got = json_format.MessageToDict(message, preserving_proto_field_name=True)
        assert got == expected
    assert [a.name for a in client.list_accelerators("TPU")] == ["V5E", "V5P", "V6E"]


# -- ConvertBatch --------------------------------------------------------------------------------------


def test_convert_batch_answers_each_item_in_order(client: Client) -> None:
    items = [flyte_input(cpu="1"), flytekit_input(requests={"cpu": "x"}), flytekit_input(limits={"cpu": "2"})]
    answers = list(client.convert_batch(items, ["flyte_source"]))
    assert [(a.id, a.index) for a in answers] == [("0", 0), ("1", 1), ("2", 2)]
    assert answers[0].response.flyte.source == "flyte.Resources(cpu='1')"
    assert answers[1].error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    error = ServiceError.from_status(answers[1].error)
    assert error.code is grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in error.violations] == ["input.flytekit.requests.cpu"]
    assert answers[2].response.lossy


def test_concurrent_streams_each_get_their_own_answers(client: Client) -> None:
    # Items of all streams are converted together in turns; no answer may
    # reach another stream or another position.
    specs = [flyte_input(cpu=str(n), memory=f"{n}Gi") for n in range(1, 33)]
    expected = [client.convert(s, ["flyteres"]) for s in specs]

    def stream(n: int) -> list[Any]:
        return list(client.convert_batch([specs[n]] * 5, ["flyteres"]))

    with ThreadPoolExecutor(len(specs)) as pool:
        results = list(pool.map(stream, range(len(specs))))
    for n, answers in enumerate(results):
        assert [(a.id, a.index) for a in answers] == [(str(i), i) for i in range(5)]
        assert all(a.response == expected[n] for a in answers), n


def test_convert_batch_refuses_items_past_the_limit(client: Client) -> None:
    items = [flyte_input(cpu="1")] * 8
    answers = []
    with pytest.raises(ServiceError) as info:
        answers.extend(client.convert_batch(items, ["flyteres"]))
    assert info.value.code is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert len(answers) == 5


def test_oversize_request_is_refused_and_the_server_goes_on(client: Client) -> None:
    big = flytekit_input(requests={"cpu": "1"})
    big.flytekit.custom_accelerator.device = "x" * (300 * 1024)
    with pytest.raises(ServiceError) as info:
        client.convert(big)
    assert info.value.code is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert client.convert(flyte_input(cpu="1"), ["flyteres"]).spec.requests["cpu"] == "1"


# -- health, reflection, shutdown, CLI -----------------------------------------------------------------


def test_health_reports_serving(client: Client) -> None:
    assert client.health() == "SERVING"
    assert client.health("flyteres.v2.ResourceService") == "SERVING"


def test_reflection_lists_the_services(server: BackgroundServer) -> None:
    with grpc.insecure_channel(server.address) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        (answer,) = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
    names = {s.name for s in answer.list_services_response.service}
    assert {"flyteres.v2.ResourceService", "grpc.health.v1.Health"} <= names


def test_reflection_v1_answers_like_v1alpha(server: BackgroundServer) -> None:
    # grpc.reflection.v1 has the messages of v1alpha under another package: the
    # v1alpha classes read and write its bytes.
    request, response = reflection_pb2.ServerReflectionRequest, reflection_pb2.ServerReflectionResponse
    with grpc.insecure_channel(server.address) as channel:
        info = channel.stream_stream(
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
            request_serializer=request.SerializeToString,
            response_deserializer=response.FromString,
        )
        listed, described, own = info(
            iter(
                [
                    request(list_services=""),
                    request(file_containing_symbol="flyteres.v2.ResourceService"),
                    request(file_containing_symbol="grpc.reflection.v1.ServerReflection"),
                ]
            ),
            timeout=10,
        )
    names = {s.name for s in listed.list_services_response.service}
    assert {"flyteres.v2.ResourceService", "grpc.reflection.v1.ServerReflection"} <= names
    files = [
        descriptor_pb2.FileDescriptorProto.FromString(f)
        for f in described.file_descriptor_response.file_descriptor_proto
    ]
    assert "flyteres/v2/service.proto" in {f.name for f in files}
    (v1,) = [
        descriptor_pb2.FileDescriptorProto.FromString(f) for f in own.file_descriptor_response.file_descriptor_proto
    ]
    assert (v1.name, v1.package) == ("grpc/reflection/v1/reflection.proto", "grpc.reflection.v1")
    assert [m.input_type for m in v1.service[0].method] == [".grpc.reflection.v1.ServerReflectionRequest"]


def test_stop_lets_an_in_flight_stream_finish_and_reports_not_serving() -> None:
    with BackgroundServer("127.0.0.1:0", ServerConfig(log_calls=False)) as running, Client(running.address) as c:
        go_on = threading.Event()

        def items() -> Iterator[Any]:
            yield flyte_input(cpu="1")
            go_on.wait(10)
            yield from [flyte_input(cpu="2"), flyte_input(cpu="3")]

        answers = c.convert_batch(items(), ["flyteres"])
        first = next(answers)
        stopping = threading.Thread(target=running.stop, kwargs={"grace": 10})
        stopping.start()
        time.sleep(0.3)
        with Client(running.address, timeout=2) as probe:
            try:
                status = probe.health()
            except ServiceError as exc:
                status = exc.code.name  # new calls may already be refused
        assert status in {"NOT_SERVING", "UNAVAILABLE"}
        go_on.set()
        rest = list(answers)
        stopping.join(10)
    assert [a.response.spec.requests["cpu"] for a in [first, *rest]] == ["1", "2", "3"]


def test_json_formatter_writes_the_call_fields() -> None:
    import logging  # noqa: PLC0415

    record = logging.LogRecord("flyteres.service", logging.INFO, __file__, 1, "rpc", None, None)
    record.method, record.code, record.duration_ms = "/x/Y", "OK", 0.5
    assert json.loads(JsonFormatter().format(record)) | {"time": 0} == {
        "time": 0,
        "level": "info",
        "logger": "flyteres.service",
        "message": "rpc",
        "method": "/x/Y",
        "code": "OK",
        "duration_ms": 0.5,
    }


@pytest.mark.slow
def test_serve_command_logs_json_and_stops_cleanly_on_sigterm() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "flyteres.service", "--address", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("listening on 127.0.0.1:"), line
        with Client(line.split()[-1], timeout=10) as c:
            assert c.convert(flyte_input(cpu="1"), ["flyteres"]).spec.requests["cpu"] == "1"
            with pytest.raises(ServiceError):
                c.convert(flyte_input(cpu="-1"))
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    records = [json.loads(line) for line in err.splitlines() if line.strip()]
    calls = [r for r in records if r["message"] == "rpc"]
    assert [(r["method"], r["code"]) for r in calls] == [
        ("/flyteres.v2.ResourceService/Convert", "OK"),
        ("/flyteres.v2.ResourceService/Convert", "INVALID_ARGUMENT"),
    ]
    assert all(isinstance(r["duration_ms"], float) for r in calls)
    assert records[-1]["message"] == "stopped"
