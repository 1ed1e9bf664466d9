"""Round trips over generated specs: lossless where no finding blocks, never silent otherwise."""

from __future__ import annotations

import dataclasses
import json
import random
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import flyte
import pytest
from flyte._internal.runtime import resources_serde
from flyteidl.core import tasks_pb2 as flyteidl_tasks
from flyteidl2.core import tasks_pb2 as flyteidl2_tasks
from flytekit.extras import accelerators as fk
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import flyteres
from flyteres import AcceleratorSpec, LossyConversionError, Quantity, ResourceSpec, SharedMemorySpec
from flyteres.convert._memo import clear_caches
from flyteres_pb.v1 import resources_pb2 as ours

from . import kubernetes_rules
from .oracle import normalized

# Ordered candidates, so a request can be drawn no larger than its limit.
LADDERS = {
    "cpu": ["100m", "500m", "1", "1.5", "2", "4"],
    "mem": ["256Mi", "1Gi", "1500M", "2Gi", "8Gi"],
    "ephemeral_storage": ["1Gi", "2Gi", "10Gi"],
}
V1_ACCELERATORS = [
    None,
    fk.T4,
    fk.A10G,
    fk.L4,
    fk.H100,
    fk.H200,
    fk.A100,
    fk.A100.unpartitioned,
    fk.A100.partition_1g_5gb,
    fk.A100_80GB.partition_3g_40gb,
    fk.V5E.slice_2x2,
    fk.V6E.slice_4x4,
    fk.GPUAccelerator("vendor-gpu"),
]


@st.composite
def v1_kwargs(draw: Any) -> dict[str, Any]:
    requests: dict[str, str] = {}
    limits: dict[str, str] = {}
    for key, ladder in LADDERS.items():
        shape = draw(st.sampled_from(["none", "request", "limit", "both"]))
        low = draw(st.integers(0, len(ladder) - 1))
        high = draw(st.integers(low, len(ladder) - 1))
        if shape in ("request", "both"):
            requests[key] = ladder[low]
        if shape in ("limit", "both"):
            limits[key] = ladder[high]
    gpu_shape = draw(st.sampled_from(["none", "request", "limit", "both"]))
    count = str(draw(st.integers(1, 4)))
    if gpu_shape in ("request", "both"):
        requests["gpu"] = count
    if gpu_shape in ("limit", "both"):
        limits["gpu"] = count
    out: dict[str, Any] = {}
    if requests:
        out["requests"] = requests
    if limits:
        out["limits"] = limits
    accelerator = draw(st.sampled_from(V1_ACCELERATORS))
    if accelerator is not None:
        out["accelerator"] = accelerator
    shm = draw(st.sampled_from([None, True, "64Mi"]))
    if shm is not None:
        out["shared_memory"] = shm
    return out


def flyteidl_form(spec: ResourceSpec) -> dict[str, Any]:
    res, ext = flyteres.to_idl(spec, "flyteidl")
    return normalized(
        ours.Resources.FromString(res.SerializeToString()),
        None if ext is None else ours.ExtendedResources.FromString(ext.SerializeToString()),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(v1_kwargs(), st.sampled_from(["strict", "kubernetes"]))
def test_v1_v2_v1_gives_back_the_same_serialization(kwargs: dict[str, Any], policy: str) -> None:
    spec = flyteres.from_flytekit(**kwargs)
    conversion = flyteres.convert_to_flyte(spec, policy=policy)  # type: ignore[arg-type]
    if conversion.lossy:
        # Never silent: the plain entry point refuses with exactly those findings.
        with pytest.raises(LossyConversionError) as info:
            flyteres.to_flyte(spec, policy=policy)  # type: ignore[arg-type]
        assert info.value.findings == conversion.lossy
        return
    back = flyteres.from_flytekit(**flyteres.to_flytekit(flyteres.from_flyte(conversion.value)))
    decided = {f.field for f in conversion.findings if f.actions.get("kubernetes", "").startswith("writes")}
    if policy == "strict" or not decided:
        assert flyteidl_form(back) == flyteidl_form(spec)
    else:
        # The policy decided something (a request set to its limit): equal once
        # Kubernetes' defaulting is applied to both.
        a, b = flyteidl_form(spec), flyteidl_form(back)
        for form in (a, b):
            for name in set(form["requests"]) | set(form["limits"]):
                form["requests"].setdefault(name, form["limits"].get(name))
                form["limits"].setdefault(name, form["requests"][name])
        assert a == b


@st.composite
def v2_resources(draw: Any) -> Any:
    kwargs: dict[str, Any] = {}
    for key, ladder in (("cpu", LADDERS["cpu"]), ("memory", LADDERS["mem"])):
        shape = draw(st.sampled_from(["none", "scalar", "pair"]))
        low = draw(st.integers(0, len(ladder) - 1))
        high = draw(st.integers(low, len(ladder) - 1))
        if shape == "scalar":
            kwargs[key] = ladder[low]
        elif shape == "pair":
            kwargs[key] = (ladder[low], ladder[high])
    gpu = draw(
        st.sampled_from(
            [
                None,
                1,
                2,
                "T4:1",
                "A100:2",
                "H100:8",
                "H200:1",
                "L40s:4",
                "T4 shared:1",
                flyte.GPU("A100", 1, "1g.5gb"),
                flyte.GPU("H100", 2, "3g.40gb"),
                flyte.TPU("V5P", "2x2x1"),
                flyte.Device(quantity=4, device_class="TPU", device="V5E", partition="2x4"),
                flyte.Neuron("Inf2"),
                flyte.AMD_GPU("MI300X"),
                flyte.Device(quantity=1, device_class="GPU", device="nvidia-h100"),
            ]
        )
    )
    if gpu is not None:
        kwargs["gpu"] = gpu
    disk = draw(st.sampled_from([None, "10Gi"]))
    if disk:
        kwargs["disk"] = disk
    shm = draw(st.sampled_from([None, "auto", "64Mi"]))
    if shm:
        kwargs["shm"] = shm
    return flyte.Resources(**kwargs)


def flyte_serialization(resources: Any) -> tuple[bytes, bytes]:
    res = resources_serde.get_proto_resources(resources)
    ext = resources_serde.get_proto_extended_resources(resources)
    if ext is not None and ext.HasField("shared_memory"):
        ext.shared_memory.mount_name = ""  # each SDK's own volume name
    return (b"" if res is None else res.SerializeToString(), b"" if ext is None else ext.SerializeToString())


@settings(max_examples=150, deadline=None)
@given(v2_resources())
def test_v2_v1_v2_gives_back_the_same_serialization(resources: Any) -> None:
    spec = flyteres.from_flyte(resources)
    conversion = flyteres.convert_to_flytekit(spec)
    assert not conversion.lossy, conversion.lossy  # flytekit can say everything flyte can
    back = flyteres.to_flyte(flyteres.from_flytekit(**flyteres.to_flytekit(spec)))
    assert flyte_serialization(back) == flyte_serialization(resources)


quantities = st.sampled_from(["0", "100m", "1", "1.5", "2Gi", "1536Mi", "10e3", "0.5Ki", "3"])
custom_accelerators = st.builds(
    AcceleratorSpec,
    device=st.text("abcdefghij-0123456789", min_size=1, max_size=12).map(lambda s: "x-" + s),
    device_class=st.sampled_from(["NVIDIA_GPU", "GOOGLE_TPU", "AMAZON_NEURON", "AMD_GPU", "HABANA_GAUDI"]),
    partition=st.none() | st.sampled_from(["1g.5gb", "2x2"]),
    model=st.none() | st.sampled_from(["NVIDIA_T4", "GOOGLE_TPU_V5E", "HABANA_GAUDI1"]),
    custom=st.just(True),
)
known_accelerators = st.sampled_from(
    [
        AcceleratorSpec("nvidia-tesla-a100", unpartitioned=True),
        AcceleratorSpec("nvidia-tesla-a100", partition="2g.10gb"),
        AcceleratorSpec("tpu-v6e-slice", "GOOGLE_TPU", partition="2x4"),
        AcceleratorSpec("tpu-v6e-slice", "NVIDIA_GPU"),
        AcceleratorSpec("nvidia-h100"),
        AcceleratorSpec("AppleSilicon", "APPLE_SILICON"),
    ]
)


@st.composite
def specs(draw: Any) -> ResourceSpec:
    names = ["cpu", "memory", "ephemeral_storage", "storage"]
    requests: dict[str, Quantity] = {}
    limits: dict[str, Quantity] = {}
    for name in names:
        a, b = sorted(Quantity.parse(draw(quantities)) for _ in range(2))
        shape = draw(st.sampled_from(["none", "request", "limit", "both"]))
        if shape in ("request", "both"):
            requests[name] = a
        if shape in ("limit", "both"):
            limits[name] = b
    count = draw(st.none() | st.sampled_from(["0", "1", "8"]))
    if count is not None:
        side = draw(st.sampled_from(["request", "limit", "both"]))
        if side != "limit":
            requests["gpu"] = Quantity.parse(count)
        if side != "request":
            limits["gpu"] = Quantity.parse(count)
    accelerator = draw(st.none() | custom_accelerators | known_accelerators)
    shm = draw(
        st.none()
        | st.builds(
            SharedMemorySpec,
            size_limit=st.none() | st.sampled_from([Quantity.parse("64Mi")]),
            mount_name=st.none() | st.sampled_from(["flyte-shm", "flyte-shared-memory", "mine"]),
            mount_path=st.sampled_from(["/dev/shm", "/shm"]),
        )
    )
    mem_limit = limits.get("memory")
    assume(shm is None or shm.size_limit is None or mem_limit is None or shm.size_limit <= mem_limit)
    return ResourceSpec(requests=requests, limits=limits, accelerator=accelerator, shared_memory=shm)


@settings(max_examples=200, deadline=None)
@given(specs(), st.sampled_from(["flyteres", "flyteidl", "flyteidl2"]))
def test_from_idl_of_to_idl_is_the_spec(spec: ResourceSpec, target: str) -> None:
    res, ext = flyteres.to_idl(spec, target)  # type: ignore[arg-type]
    assert flyteres.from_idl(res, ext) == spec


@settings(max_examples=200, deadline=None)
@given(specs(), st.sampled_from(["strict", "kubernetes"]))
def test_nothing_changes_without_a_finding(spec: ResourceSpec, policy: str) -> None:
    """Whatever the Flyte 2 round trip changes, some finding names."""
    conversion = flyteres.convert_to_flyte(spec, policy=policy)  # type: ignore[arg-type]
    if conversion.lossy:
        return
    back = flyteres.from_flyte(conversion.value)
    # The resource (or part) each finding is about: "limits.cpu" -> "cpu", "accelerator.device" -> "accelerator".
    named = {
        f.field.split(".")[-1] if f.field.startswith(("requests.", "limits.")) else f.field.split(".")[0]
        for f in conversion.findings
    }
    for side in ("requests", "limits"):
        before = {str(k): v.text for k, v in getattr(spec, side).items()}
        after = {str(k): v.text for k, v in getattr(back, side).items()}
        for key in before.keys() | after.keys():
            if before.get(key) != after.get(key) and key != "gpu":
                assert key in named, (side, key, before, after, named)
    if spec.gpu_count != back.gpu_count:
        assert named & {"gpu", "limits.gpu", "accelerator"}
    if (spec.accelerator is None) != (back.accelerator is None):
        assert named & {"accelerator", "gpu"}


# ---------------------------------------------------------------------------------------------
# Memos never change an answer (issue 13, class 3): every conversion gives the same result in a
# fresh process and after any other conversions. Inputs are Python source in the SDKs' own
# spellings, so a separate interpreter can evaluate exactly the same ones.

# Values Python calls equal, or that hash alike, but that the SDKs write differently.
TRICKY = [
    "0", "0.0", "-0.0", "1", "1.0", "True", "False", "2", "2.0", "1.5", "-1",
    "Decimal('1E+3')", "Decimal('1000')", "Decimal('-0')", "'1'", "'1.0'", "'1e3'", "'1000m'",
    "''", "'0'", "1024", "'2Gi'", "'2048Mi'", "None",
]  # fmt: skip


# The same values grouped by what Python calls equal: the memo must tell each group's members apart.
EQUAL_GROUPS = [
    ["0", "0.0", "-0.0", "False", "Decimal('-0')", "Decimal('0')", "Decimal('0E+2')"],
    ["1", "1.0", "True", "Decimal('1')", "Decimal('1.0')"],
    ["2", "2.0", "Decimal('2')", "Decimal('2.00')"],
    ["1000", "1000.0", "Decimal('1E+3')", "Decimal('1000')", "1e3"],
    ["1024", "1024.0", "Decimal('1024')", "Decimal('1.024E+3')"],
]
Pick = Callable[[list[str]], str]


def conversion_source(pick: Pick, pick_value: Pick | None = None) -> str:
    """One conversion call as source text; `pick` chooses among options (hypothesis or a seeded RNG),
    `pick_value` (default: `pick`) chooses each value, so a caller can vary only the values."""
    value_of = pick_value or pick

    def value() -> str:
        if pick(["scalar", "pair"]) == "scalar":
            return value_of(TRICKY)
        return f"({value_of(TRICKY)}, {value_of(TRICKY)})"

    form = pick(["flyte", "flytekit", "flytekit-resources", "spec", "idl"])
    if form == "flyte":
        memory = pick(["None", "'1Gi'", "('1Gi', '2Gi')", "''"])
        device = f"flyte.Device(quantity={value_of(TRICKY)}, device_class={pick(['GPU', 'TPU', 'tpu'])!r}"
        device += f", device={pick(['A100', 'V5E', 'nvidia-h100'])!r})"
        gpu = pick(["None", "0", "1", "2", "'A100:1'", device])
        return f"flyteres.from_flyte(flyte.Resources(cpu={value()}, memory={memory}, gpu={gpu}))"
    if form in ("flytekit", "spec"):
        keys = dict.fromkeys(
            pick(["cpu", "mem", "gpu", "ephemeral_storage"]) for _ in range(int(pick(["0", "1", "2", "3"])))
        )
        mapping = "{" + ", ".join(f"{k!r}: {value_of(TRICKY)}" for k in keys) + "}"
        if form == "spec":
            return f"flyteres.ResourceSpec(requests={mapping.replace(repr('mem'), repr('memory'))})"
        accelerator = pick(["None", "fk.A100", "'A100.partition_1g_5gb'", "fk.T4"])
        return f"flyteres.from_flytekit({pick(['requests', 'limits'])}={mapping}, accelerator={accelerator})"
    if form == "flytekit-resources":
        return f"flyteres.from_flytekit(resources=R(cpu={value()}, gpu={value_of(TRICKY)}))"
    entry = f"ours.Resources.ResourceEntry(name=ours.Resources.GPU, value={pick(['1', '1.0', '1e0', '1000m', '-0'])!r})"
    return f"flyteres.from_idl(ours.Resources(requests=[{entry}], limits=[{entry}]))"


@st.composite
def conversion_sources(draw: Any) -> str:
    return conversion_source(lambda options: draw(st.sampled_from(options)))


RUN_CONVERSION = """
from decimal import Decimal
import flyte
from flytekit import Resources as R
from flytekit.extras import accelerators as fk
import flyteres
from flyteres_pb.v1 import resources_pb2 as ours


def run_conversion(source):
    try:
        spec = eval(source)
    except Exception as exc:
        return [type(exc).__name__, str(exc)]
    return [spec.to_dict(), [f.to_dict() for f in spec.findings]]
"""
_namespace: dict[str, Any] = {}
exec(RUN_CONVERSION, _namespace)  # noqa: S102 - our own code, the same text a fresh interpreter runs
run_conversion = _namespace["run_conversion"]


@settings(max_examples=300, deadline=None)
@given(st.lists(conversion_sources(), max_size=6), conversion_sources())
def test_a_conversion_answers_alike_fresh_and_after_others(before: list[str], source: str) -> None:
    clear_caches()
    fresh = run_conversion(source)
    for other in before:
        run_conversion(other)
    assert run_conversion(source) == fresh
    run_conversion(source)  # now from the memo, if it keeps it
    assert run_conversion(source) == fresh


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32), st.sampled_from(EQUAL_GROUPS), st.data())
def test_equal_values_of_other_types_or_spellings_get_their_own_answer(
    seed: int, group: list[str], data: st.DataObject
) -> None:
    def variant() -> str:
        # The same structure (same seed) each time; only the values differ, within one group.
        return conversion_source(random.Random(seed).choice, lambda _: data.draw(st.sampled_from(group)))

    first, second = variant(), variant()
    clear_caches()
    fresh = run_conversion(second)
    clear_caches()
    run_conversion(first)
    assert run_conversion(second) == fresh, (first, second)


def test_a_fresh_process_answers_as_this_one() -> None:
    """`clear_caches` is a fresh process's state: one really fresh interpreter agrees on every input."""
    rng = random.Random(13)
    sources = [conversion_source(rng.choice) for _ in range(300)]
    script = RUN_CONVERSION + "import json, sys\nprint(json.dumps([run_conversion(s) for s in json.load(sys.stdin)]))"
    done = subprocess.run(
        [sys.executable, "-c", script], input=json.dumps(sources), capture_output=True, text=True, check=True
    )
    theirs = json.loads(done.stdout)
    # Here: after every other conversion of this session, in the opposite order.
    ours_ = [json.loads(json.dumps(run_conversion(s))) for s in reversed(sources)][::-1]
    assert ours_ == theirs


# ---------------------------------------------------------------------------------------------
# Any input is either accepted, with fields of the documented types, or refused as a ValueError
# naming the field (issue 13, validation gaps and class 5): never another exception, never a
# value of another type taken for a boolean or a name.

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.decimals(allow_nan=False, allow_infinity=False, places=None)
    | st.text(max_size=8)
    | st.sampled_from(["1", "1e999", "-1", "500m", "2Gi", "no", "false", "true", "nvidia-tesla-a100", "1g.5gb"])
)
anything = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner), max_leaves=4)
resource_names = st.sampled_from(["cpu", "memory", "mem", "gpu", "ephemeral_storage", "disk", "storage", "x"])
quantity_maps = st.dictionaries(resource_names, anything, max_size=3) | anything


def accepted_or_field_error(make: Callable[[], Any]) -> Any:
    """`make()`, or None when it refuses with a field error; any other exception fails the test."""
    error: BaseException | None = None
    try:
        return make()
    except (flyteres.ResourceSpecError, flyteres.QuantityError) as exc:
        error = exc
    assert isinstance(error, ValueError)
    assert getattr(error, "field", None) or getattr(error, "text", None) is not None
    return None


inputs = st.fixed_dictionaries(
    {"requests": quantity_maps, "limits": quantity_maps},
    optional=dict.fromkeys(("device", "partition", "unpartitioned", "custom", "model", "name"), anything),
)


@settings(max_examples=400, deadline=None)
@given(inputs)
def test_constructors_accept_or_name_the_field(given_: dict[str, Any]) -> None:
    requests, limits = given_["requests"], given_["limits"]
    accelerator = {k: given_[k] for k in ("partition", "unpartitioned", "model", "custom") if k in given_}
    acc = accepted_or_field_error(lambda: AcceleratorSpec(given_.get("device", "my-gpu"), **accelerator))
    if acc is not None:
        assert type(acc.unpartitioned) is bool
        assert type(acc.custom) is bool
        assert isinstance(acc.device, str)
        assert acc.model is None or isinstance(acc.model, str)
    shm = accepted_or_field_error(
        lambda: SharedMemorySpec(size_limit=given_.get("partition"), mount_name=given_.get("name"))
    )
    if shm is not None:
        assert shm.mount_name is None or isinstance(shm.mount_name, str)
        k8s = flyteres.convert_to_k8s(ResourceSpec(shared_memory=shm))
        assert k8s.lossy or kubernetes_rules.problems(k8s.value) == []
    accepted_or_field_error(lambda: ResourceSpec(requests=requests, limits=limits, accelerator=acc))
    accepted_or_field_error(lambda: ResourceSpec.from_dict({"accelerator": {"device": "my-gpu", **accelerator}}))
    accepted_or_field_error(lambda: flyteres.from_flytekit(requests=requests))
    accepted_or_field_error(lambda: flyteres.from_flytekit(resources=limits))


# ---------------------------------------------------------------------------------------------
# Every to_k8s output is a container the API server accepts (issue 13, class 1): requests <= limits,
# devices (extended resources) whole and with request == limit, names valid.


@st.composite
def any_spec(draw: Any) -> ResourceSpec:
    source = draw(st.sampled_from(["spec", "flytekit", "flyte"]))
    if source == "flytekit":
        return flyteres.from_flytekit(**draw(v1_kwargs()))
    if source == "flyte":
        return flyteres.from_flyte(draw(v2_resources()))
    spec: ResourceSpec = draw(specs())
    if spec.shared_memory is not None and draw(st.booleans()):
        odd = draw(st.sampled_from(["My Volume", "shm_1", "x" * 64, "-shm", "ok-name", "a.b"]))
        spec = spec.replace(shared_memory=dataclasses.replace(spec.shared_memory, mount_name=odd))
    return spec


@settings(max_examples=400, deadline=None)
@given(any_spec(), st.sampled_from(["strict", "kubernetes"]))
def test_to_k8s_writes_what_the_api_server_accepts(spec: ResourceSpec, policy: str) -> None:
    conversion = flyteres.convert_to_k8s(spec, policy=policy)  # type: ignore[arg-type]
    if conversion.lossy:
        return
    assert kubernetes_rules.problems(conversion.value) == []
    if spec.gpu_count is not None and conversion.value["resources"]:
        devices = [k for k in conversion.value["resources"]["requests"] if "/" in k]
        for key in devices:
            assert conversion.value["resources"]["requests"][key] == conversion.value["resources"]["limits"][key]


@settings(max_examples=200, deadline=None)
@given(any_spec(), st.sampled_from(["workflow", "dynamic", "flyte2"]))
def test_effective_resources_write_devices_the_api_server_accepts(spec: ResourceSpec, launch: str) -> None:
    result = flyteres.effective(spec, launch=launch)  # type: ignore[arg-type]
    if result.errors:
        return
    assert [
        p for p in kubernetes_rules.resource_problems(result.to_k8s()) if "Limit must be set" in p or "equal" in p
    ] == []


# ---------------------------------------------------------------------------------------------
# flyte's device classes are read exactly as flyte sends them (issue 13, class 4): what flyteres
# reads from a flyte.Device either is refused or carries the class flyte's serializer writes.


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["GPU", "TPU", "NEURON", "AMD_GPU", "HABANA_GAUDI", "tpu", "Gpu", "GOOGLE_TPU", "NVIDIA_GPU", ""]),
    st.sampled_from(["A100", "V5E", "Inf2", "MI300X", "Gaudi1", "nvidia-h100", "my-device"]),
    st.integers(1, 3),
)
def test_a_flyte_device_class_is_flytes_or_refused(device_class: str, device: str, quantity: int) -> None:
    resources = flyte.Resources(gpu=flyte.Device(quantity=quantity, device_class=device_class, device=device))  # type: ignore[arg-type]
    try:
        spec = flyteres.from_flyte(resources)
    except flyteres.ResourceSpecError:
        return
    wire = resources_serde.get_proto_extended_resources(resources)
    assert spec.accelerator is not None
    assert spec.accelerator.device_class.proto == wire.gpu_accelerator.device_class
    _, ext = flyteres.to_idl(spec, "flyteidl2")
    assert ext is not None
    assert ext.gpu_accelerator.device_class == wire.gpu_accelerator.device_class


# ---------------------------------------------------------------------------------------------
# to_idl writes the wire format itself (for speed); its bytes are those of messages built field by
# field with protobuf's own constructors, for every target and both sites.


def built_field_by_field(spec: ResourceSpec, target: str, order: list[str]) -> tuple[bytes, bytes]:
    """Resources in `order`, and (for flyteres and flyteidl2) ExtendedResources, built with constructors."""
    module = {"flyteres": ours, "flyteidl": flyteidl_tasks, "flyteidl2": flyteidl2_tasks}[target]
    entry = module.Resources.ResourceEntry
    names = {
        "cpu": "CPU",
        "memory": "MEMORY",
        "gpu": "GPU",
        "ephemeral_storage": "EPHEMERAL_STORAGE",
        "storage": "STORAGE",
    }
    resources = module.Resources(
        requests=[
            entry(name=module.Resources.ResourceName.Value(names[r]), value=spec.requests[r].text)  # type: ignore[index]
            for r in order
            if r in spec.requests
        ],
        limits=[
            entry(name=module.Resources.ResourceName.Value(names[r]), value=spec.limits[r].text)  # type: ignore[index]
            for r in order
            if r in spec.limits
        ],
    )
    ext = b""
    acc, shm = spec.accelerator, spec.shared_memory
    if acc is not None:
        gpu = ours.GPUAccelerator(device=acc.device)
        if acc.partition is not None:
            gpu.partition_size = acc.partition
        elif acc.unpartitioned:
            gpu.unpartitioned = True
        gpu.device_class = acc.device_class.proto  # type: ignore[assignment]
        if acc.model is not None:
            gpu.accelerator_model = flyteres.AcceleratorModelPb.Value(acc.model)
        ext += ours.ExtendedResources(gpu_accelerator=gpu).SerializeToString()
    if shm is not None:
        name = shm.mount_name or {"flyteidl": "flyte-shared-memory"}.get(target, "flyte-shm")
        size = "" if shm.size_limit is None else shm.size_limit.text
        part = ours.SharedMemory(mount_path=shm.mount_path, mount_name=name, size_limit=size)
        ext += ours.ExtendedResources(shared_memory=part).SerializeToString()
    return resources.SerializeToString(), ext


@settings(max_examples=300, deadline=None)
@given(specs(), st.sampled_from(["flyteres", "flyteidl2"]), st.sampled_from(["task", "override"]))
def test_to_idl_bytes_are_protobufs(spec: ResourceSpec, target: str, site: str) -> None:
    res, ext = flyteres.to_idl(spec, target, site=site)  # type: ignore[call-overload]
    order = ["cpu", "memory", "gpu", "ephemeral_storage", "storage"]
    expected_res, expected_ext = built_field_by_field(spec, target, order)
    assert res.SerializeToString() == expected_res
    assert (b"" if ext is None else ext.SerializeToString()) == expected_ext


@settings(max_examples=200, deadline=None)
@given(specs(), st.sampled_from(["task", "override"]))
def test_to_idl_v1_entries_are_in_flytekits_order(spec: ResourceSpec, site: str) -> None:
    res, _ = flyteres.to_idl(spec, "flyteidl", site=site)  # type: ignore[arg-type]
    order = (
        ["cpu", "memory", "gpu", "ephemeral_storage", "storage"]
        if site == "override"
        else ["ephemeral_storage", "cpu", "gpu", "memory", "storage"]
    )
    expected_res, _ = built_field_by_field(spec, "flyteidl", order)
    assert res.SerializeToString() == expected_res


@pytest.mark.parametrize("length", [1, 123, 124, 125, 127, 128, 200, 20_000])
@pytest.mark.parametrize("target", ["flyteres", "flyteidl", "flyteidl2"])
def test_to_idl_writes_long_quantities_as_protobuf_does(length: int, target: str) -> None:
    # Entries of 128 bytes or more need multi-byte lengths (a quantity may carry leading zeros).
    text = "0" * (length - 1) + "1"
    spec = ResourceSpec(requests={"cpu": text, "memory": "1Gi"}, limits={"cpu": text})
    res, _ = flyteres.to_idl(spec, target)  # type: ignore[call-overload]
    # cpu before memory in every target's order
    expected, _ = built_field_by_field(spec, target, ["cpu", "memory"])
    assert res.SerializeToString() == expected
