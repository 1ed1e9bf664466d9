"""flytekit declarations → flyte.Resources: the exact result or the exact findings.

Every case names the flytekit arguments (real flytekit objects), the policy,
and either the exact `flyte.Resources` produced plus the rules of the findings
reported, or the rules of the lossy findings that make the conversion refuse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import flyte
import pytest
from flytekit import Resources as R
from flytekit.extras import accelerators as fk

import flyteres
from flyteres import LossyConversionError, Rule

from .oracle import device_class, flyte_wire, flytekit_wire, normalized


@dataclass
class Case:
    v1: dict[str, Any]
    expected: Any = None  # a flyte.Resources, or None when the conversion refuses
    rules: set[Rule] = field(default_factory=set)  # every finding's rule
    lossy: set[Rule] = field(default_factory=set)  # rules that block under the policy
    policy: str = "strict"
    device_labels: str = "keep"


CASES: dict[str, Case] = {
    # docs/semantics.md, rows 1-2: a scalar is a request on both sides.
    "resources scalar is a request": Case({"resources": R(cpu="1", mem="1Gi")}, flyte.Resources(cpu="1", memory="1Gi")),
    "requests only": Case({"requests": R(cpu="2", mem="4Gi")}, flyte.Resources(cpu="2", memory="4Gi")),
    # Row 3: a limit with no request.
    "limit-only memory, strict": Case(
        {"limits": R(mem="600Mi")}, None, {Rule.LIMIT_WITHOUT_REQUEST}, {Rule.LIMIT_WITHOUT_REQUEST}
    ),
    "limit-only memory, kubernetes": Case(
        {"limits": R(mem="600Mi")},
        flyte.Resources(memory=("600Mi", "600Mi")),
        {Rule.LIMIT_WITHOUT_REQUEST},
        policy="kubernetes",
    ),
    "limit-only cpu is never silently a request": Case(
        {"limits": R(cpu="2")}, None, {Rule.LIMIT_WITHOUT_REQUEST}, {Rule.LIMIT_WITHOUT_REQUEST}
    ),
    # Row 4-5.
    "burstable": Case(
        {"requests": R(cpu="1", mem="256Mi"), "limits": R(cpu="2", mem="512Mi")},
        flyte.Resources(cpu=("1", "2"), memory=("256Mi", "512Mi")),
    ),
    "disjoint keys": Case(
        {"requests": R(cpu="1", mem="1000Mi"), "limits": R(cpu="2")},
        flyte.Resources(cpu=("1", "2"), memory="1000Mi"),
    ),
    # Row 6 and the flyte-migrate case that drops it: the GPU count in limits only.
    "limits-only gpu with T4": Case(
        {"limits": R(gpu="1"), "accelerator": fk.T4},
        flyte.Resources(gpu="T4:1"),
        {Rule.GPU_COUNT_PLACEMENT, Rule.GPU_COUNT_TYPE},
    ),
    "gpu in requests and limits": Case(
        {"requests": R(cpu="4", mem="16Gi", gpu="1"), "limits": R(gpu="1")},
        flyte.Resources(cpu="4", memory="16Gi", gpu=1),
        {Rule.GPU_COUNT_TYPE},
    ),
    # Row 7: a string count becomes an int.
    "gpu string count": Case({"requests": R(gpu="2")}, flyte.Resources(gpu=2), {Rule.GPU_COUNT_TYPE}),
    # Row 8: gpu="0" beside an accelerator (the ollama/NIM sidecar pattern).
    "gpu 0 with accelerator": Case(
        {"requests": R(gpu="0"), "accelerator": fk.A10G},
        None,
        {Rule.GPU_COUNT_TYPE, Rule.ACCELERATOR_WITHOUT_COUNT},
        {Rule.ACCELERATOR_WITHOUT_COUNT},
        policy="kubernetes",
    ),
    "gpu 0 without accelerator, kubernetes": Case(
        {"requests": R(cpu="1", gpu="0")},
        flyte.Resources(cpu="1"),
        {Rule.GPU_COUNT_TYPE, Rule.ZERO_GPU},
        policy="kubernetes",
    ),
    # Row 9: an accelerator with no count at all.
    "accelerator without count": Case(
        {"requests": R(cpu="1", mem="5Gi"), "accelerator": fk.T4},
        None,
        {Rule.ACCELERATOR_WITHOUT_COUNT},
        {Rule.ACCELERATOR_WITHOUT_COUNT},
        policy="kubernetes",
    ),
    # Row 10-11: labels flyte would re-spell are kept exactly with flyte.Device.
    "H100 keeps nvidia-h100": Case(
        {"requests": R(gpu="8"), "accelerator": fk.H100},
        flyte.Resources(gpu=flyte.Device(quantity=8, device_class="GPU", device="nvidia-h100")),
        {Rule.GPU_COUNT_TYPE},
    ),
    "H100 idiomatic changes the label": Case(
        {"requests": R(gpu="8"), "accelerator": fk.H100},
        flyte.Resources(gpu="H100:8"),
        {Rule.GPU_COUNT_TYPE, Rule.DEVICE_LABEL_CHANGED},
        device_labels="idiomatic",
    ),
    "H200 keeps nvidia-h200": Case(
        {"requests": R(gpu="1"), "accelerator": fk.H200},
        flyte.Resources(gpu=flyte.Device(quantity=1, device_class="GPU", device="nvidia-h200")),
        {Rule.GPU_COUNT_TYPE},
    ),
    # Row 12, 14: same labels on both sides.
    "T4": Case({"requests": R(gpu="1"), "accelerator": fk.T4}, flyte.Resources(gpu="T4:1"), {Rule.GPU_COUNT_TYPE}),
    "L40S": Case(
        {"requests": R(gpu="2"), "accelerator": fk.L40S}, flyte.Resources(gpu="L40s:2"), {Rule.GPU_COUNT_TYPE}
    ),
    "A100 bare": Case(
        {"requests": R(gpu="1"), "accelerator": fk.A100}, flyte.Resources(gpu="A100:1"), {Rule.GPU_COUNT_TYPE}
    ),
    "A100 80GB": Case(
        {"limits": R(gpu="4"), "accelerator": fk.A100_80GB},
        flyte.Resources(gpu="A100_80G:4"),
        {Rule.GPU_COUNT_TYPE, Rule.GPU_COUNT_PLACEMENT},
    ),
    "RTX PRO 6000": Case(
        {"requests": R(gpu="1"), "accelerator": fk.RTX_PRO_6000},
        flyte.Resources(gpu="RTX_PRO_6000:1"),
        {Rule.GPU_COUNT_TYPE},
    ),
    # Row 13: devices flyte knows only through its name table.
    "K80 through Device": Case(
        {"requests": R(gpu="1"), "accelerator": fk.K80},
        flyte.Resources(gpu=flyte.Device(quantity=1, device_class="GPU", device="K80")),
        {Rule.GPU_COUNT_TYPE},
    ),
    # Row 15: whole devices only.
    "A100 unpartitioned": Case(
        {"requests": R(gpu="1"), "accelerator": fk.A100.unpartitioned},
        None,
        {Rule.GPU_COUNT_TYPE, Rule.UNPARTITIONED},
        {Rule.UNPARTITIONED},
        policy="kubernetes",
    ),
    # Row 16: MIG partitions survive.
    "A100 MIG partition": Case(
        {"requests": R(gpu="1"), "accelerator": fk.A100.partition_2g_10gb},
        flyte.Resources(gpu=flyte.GPU("A100", 1, "2g.10gb")),
        {Rule.GPU_COUNT_TYPE},
    ),
    "A100 80GB MIG partition": Case(
        {"requests": R(gpu="1"), "accelerator": fk.A100_80GB.partition_1g_10gb},
        flyte.Resources(gpu=flyte.GPU("A100_80G", 1, "1g.10gb")),
        {Rule.GPU_COUNT_TYPE},
    ),
    # Row 17: TPU slices; flyte.TPU fixes the count at 1.
    "V5E slice, one host": Case(
        {"requests": R(gpu="1"), "accelerator": fk.V5E.slice_2x2},
        flyte.Resources(gpu=flyte.TPU("V5E", "2x2")),
        {Rule.GPU_COUNT_TYPE, Rule.DEVICE_CLASS_INFERRED},
    ),
    "V5E slice with four chips": Case(
        {"requests": R(gpu="4"), "accelerator": fk.V5E.slice_2x2},
        flyte.Resources(gpu=flyte.Device(quantity=4, device_class="TPU", device="V5E", partition="2x2")),
        {Rule.GPU_COUNT_TYPE, Rule.DEVICE_CLASS_INFERRED, Rule.TPU_COUNT},
    ),
    "V5P slice": Case(
        {"requests": R(gpu="1"), "accelerator": fk.V5P.slice_2x2x1},
        flyte.Resources(gpu=flyte.TPU("V5P", "2x2x1")),
        {Rule.GPU_COUNT_TYPE, Rule.DEVICE_CLASS_INFERRED},
    ),
    # Row 18: any device string, kept verbatim.
    "raw GPUAccelerator": Case(
        {"limits": R(gpu="2"), "accelerator": fk.GPUAccelerator("nvidia-rtx-a6000")},
        flyte.Resources(gpu=flyte.Device(quantity=2, device_class="GPU", device="nvidia-rtx-a6000")),
        {Rule.GPU_COUNT_TYPE, Rule.GPU_COUNT_PLACEMENT},
    ),
    "raw device string flyte would re-spell": Case(
        {"requests": R(gpu="1"), "accelerator": fk.GPUAccelerator("T4")},
        None,
        {Rule.GPU_COUNT_TYPE, Rule.DEVICE_LABEL_REMAPPED},
        {Rule.DEVICE_LABEL_REMAPPED},
    ),
    # Row 19-20: ephemeral storage.
    "ephemeral storage request and different limit": Case(
        {"requests": R(ephemeral_storage="1Gi"), "limits": R(ephemeral_storage="2Gi")},
        None,
        {Rule.EPHEMERAL_STORAGE_LIMIT},
        {Rule.EPHEMERAL_STORAGE_LIMIT},
        policy="kubernetes",
    ),
    "ephemeral storage request equal to limit, kubernetes": Case(
        {"requests": R(ephemeral_storage="2Gi"), "limits": R(ephemeral_storage="2Gi")},
        flyte.Resources(disk="2Gi"),
        {Rule.EPHEMERAL_STORAGE_LIMIT},
        policy="kubernetes",
    ),
    "ephemeral storage limit only, kubernetes": Case(
        {"limits": R(ephemeral_storage="10Gi")},
        flyte.Resources(disk="10Gi"),
        {Rule.EPHEMERAL_STORAGE_LIMIT},
        policy="kubernetes",
    ),
    "ephemeral storage request": Case({"requests": R(ephemeral_storage="50Gi")}, flyte.Resources(disk="50Gi")),
    # Row 21-23: type fixes.
    "int memory means bytes": Case({"requests": R(mem=2048)}, flyte.Resources(memory="2048"), {Rule.INT_BYTES}),
    "float cpu": Case({"requests": R(cpu=0.5)}, flyte.Resources(cpu="0.5"), {Rule.NUMBER_AS_STRING}),
    "list pair": Case(
        {"resources": R(cpu=["1", "2"], mem=("1Gi", "4Gi"))},
        flyte.Resources(cpu=("1", "2"), memory=("1Gi", "4Gi")),
        {Rule.LIST_AS_TUPLE},
    ),
    # Row 24-26: shared memory.
    "shared memory True": Case(
        {"requests": R(cpu="8"), "shared_memory": True},
        flyte.Resources(cpu="8", shm="auto"),
    ),
    "shared memory size": Case(
        {"requests": R(mem="32Gi"), "shared_memory": "2Gi"},
        flyte.Resources(memory="32Gi", shm="2Gi"),
    ),
    "shared memory int is ignored as flytekit does": Case(
        {"requests": R(cpu="1"), "shared_memory": 1024}, flyte.Resources(cpu="1"), {Rule.SHM_IGNORED}
    ),
    # Row 40: falsy values are dropped by flytekit at task level.
    "falsy cpu dropped": Case({"requests": R(cpu=0, mem="1Gi")}, flyte.Resources(memory="1Gi"), {Rule.FALSY_DROPPED}),
    # P4: the same object as requests and limits.
    "guaranteed QoS GPU box, kubernetes": Case(
        {
            "requests": R(gpu="1", mem="12Gi", ephemeral_storage="2Gi"),
            "limits": R(gpu="1", mem="12Gi", ephemeral_storage="2Gi"),
            "accelerator": fk.A10G,
        },
        flyte.Resources(memory=("12Gi", "12Gi"), gpu="A10G:1", disk="2Gi"),
        {Rule.GPU_COUNT_TYPE, Rule.EPHEMERAL_STORAGE_LIMIT},
        policy="kubernetes",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_v1_to_v2(case: Case) -> None:
    spec = flyteres.from_flytekit(**case.v1)
    conversion = flyteres.convert_to_flyte(spec, policy=case.policy, device_labels=case.device_labels)
    assert {f.rule for f in conversion.findings} == case.rules
    assert {f.rule for f in conversion.findings if f.lossy} == case.lossy
    if case.expected is None:
        with pytest.raises(LossyConversionError) as info:
            flyteres.to_flyte(spec, policy=case.policy, device_labels=case.device_labels)
        assert {f.rule for f in info.value.findings} == case.lossy
        return
    result = flyteres.to_flyte(spec, policy=case.policy, device_labels=case.device_labels)
    assert result == case.expected


STR_ONLY = [
    name
    for name, case in CASES.items()
    if case.expected is not None and name not in {"int memory means bytes", "float cpu"}
]


@pytest.mark.parametrize("name", STR_ONLY)
def test_v1_to_v2_matches_flyte_wire_oracle(name: str) -> None:
    """flytekit's own serialization of the v1 task equals flyte's own serialization
    of our result, up to the documented equivalences (and, for the kubernetes
    policy, up to Kubernetes' request/limit defaulting)."""
    case = CASES[name]
    spec = flyteres.from_flytekit(**case.v1)
    result = flyteres.to_flyte(spec, policy=case.policy, device_labels=case.device_labels)
    k8s = case.policy == "kubernetes"
    v1 = normalized(*flytekit_wire(**case.v1), kubernetes_defaults=k8s)
    v2_wire = flyte_wire(result)
    v2 = normalized(*v2_wire, kubernetes_defaults=k8s)
    # flytekit sends no device class; flyte sends the one the spec says (the catalog's for the device).
    assert device_class(v2_wire[1]) == (spec.accelerator.device_class if spec.accelerator else None)
    if Rule.DEVICE_LABEL_CHANGED in case.rules:
        v1["accelerator"]["device"] = v2["accelerator"]["device"]
    if Rule.ZERO_GPU in case.rules:
        assert v1.pop("gpu") == "0"
        v2.pop("gpu")
    assert v2 == v1


def test_int_and_float_values_crash_flytekit_but_convert_with_a_finding() -> None:
    # flytekit's task serializer cannot even serialize these: our conversion says
    # what the string means instead of crashing.
    with pytest.raises(TypeError):
        flytekit_wire(requests=R(cpu=0.5, mem=2048))
    spec = flyteres.from_flytekit(requests=R(cpu=0.5, mem=2048))
    assert spec.to_dict() == {"requests": {"cpu": "0.5", "memory": "2048"}}
    messages = {f.rule: f for f in spec.findings}
    assert "2048 bytes" in messages[Rule.INT_BYTES].reason


def test_flyte_migrate_failures_are_all_right_here() -> None:
    """The flyte-migrate 0.0.3 failures listed in the issue, each handled."""
    # A limits-only GPU is carried (not dropped) ...
    assert flyteres.to_flyte(flyteres.from_flytekit(limits=R(gpu="1"), accelerator=fk.T4)).gpu == "T4:1"
    # ... an accelerator object never becomes its repr ...
    gpu = flyteres.to_flyte(flyteres.from_flytekit(requests=R(gpu="1"), accelerator=fk.GPUAccelerator("x-dev"))).gpu
    assert gpu == flyte.Device(quantity=1, device_class="GPU", device="x-dev")
    # ... MIG partitions and TPU slices survive ...
    mig = flyteres.to_flyte(flyteres.from_flytekit(requests=R(gpu="1"), accelerator=fk.A100.partition_1g_5gb))
    assert mig.gpu == flyte.GPU("A100", 1, "1g.5gb")
    tpu = flyteres.to_flyte(flyteres.from_flytekit(requests=R(gpu="1"), accelerator=fk.V5E.slice_2x4))
    assert tpu.gpu == flyte.TPU("V5E", "2x4")
    # ... mem=1024 does not make flyte raise ...
    assert flyteres.to_flyte(flyteres.from_flytekit(requests=R(mem=1024))).memory == "1024"
    # ... an ephemeral-storage request/limit pair is refused loudly, not passed as a tuple ...
    with pytest.raises(LossyConversionError, match="ephemeral-storage-limit"):
        flyteres.to_flyte(
            flyteres.from_flytekit(requests=R(ephemeral_storage="1Gi"), limits=R(ephemeral_storage="2Gi"))
        )
    # ... and a limit-only CPU never silently becomes a request.
    with pytest.raises(LossyConversionError, match="limit-without-request"):
        flyteres.to_flyte(flyteres.from_flytekit(limits=R(cpu="2")))


def test_lossy_error_lists_every_finding_with_what_each_policy_does() -> None:
    spec = flyteres.from_flytekit(
        limits=R(cpu="2", mem="1Gi", ephemeral_storage="3Gi", gpu="1"), accelerator=fk.A100.unpartitioned
    )
    with pytest.raises(LossyConversionError) as info:
        flyteres.to_flyte(spec)
    rules = [f.rule for f in info.value.findings]
    assert rules == [
        Rule.LIMIT_WITHOUT_REQUEST,
        Rule.LIMIT_WITHOUT_REQUEST,
        Rule.EPHEMERAL_STORAGE_LIMIT,
        Rule.UNPARTITIONED,
    ]
    first = info.value.findings[0]
    assert first.field == "limits.cpu"
    assert first.value == "2"
    assert first.actions["kubernetes"].startswith("writes ('2', '2')")
    assert "limits.memory" in str(info.value)


@pytest.mark.parametrize("convert", [flyteres.convert_to_flyte, flyteres.convert_to_flytekit])
def test_a_custom_volume_name_is_noted_and_another_mount_path_is_lossy(convert: Any) -> None:
    spec = flyteres.ResourceSpec(shared_memory=flyteres.SharedMemorySpec(mount_name="mine", mount_path="/shm"))
    conversion = convert(spec)
    assert {(f.rule, f.lossy) for f in conversion.findings} == {
        (Rule.SHM_MOUNT_NAME, False),
        (Rule.SHM_MOUNT_PATH, True),
    }


def test_a_count_spelled_otherwise_is_written_as_its_int_and_noted() -> None:
    conversion = flyteres.convert_to_flyte(flyteres.ResourceSpec(requests={"gpu": "2.0"}))
    assert conversion.value == flyte.Resources(gpu=2)
    assert [(f.rule, f.value) for f in conversion.findings] == [(Rule.GPU_COUNT_TYPE, "2.0")]
