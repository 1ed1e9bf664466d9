"""flyte.Resources → flytekit keyword arguments: exact results, findings and the wire oracle."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import flyte
import pytest
from flytekit import Resources as R
from flytekit.extras import accelerators as fk

import flyteres
from flyteres import LossyConversionError, Rule

from .oracle import flyte_wire, flytekit_wire, normalized


@dataclass
class Case:
    v2: Any  # a flyte.Resources
    expected: dict[str, Any] | None  # flytekit keyword arguments (accelerators compared by their IDL)
    rules: set[Rule] = field(default_factory=set)
    form: str = "split"


CASES: dict[str, Case] = {
    "cpu pair and memory request": Case(
        flyte.Resources(cpu=(1, 2), memory="4Gi"), {"requests": R(cpu="1", mem="4Gi"), "limits": R(cpu="2")}
    ),
    "float cpu keeps flyte's text": Case(flyte.Resources(cpu=1.0), {"requests": R(cpu="1.0")}),
    "millicores": Case(flyte.Resources(cpu="500m"), {"requests": R(cpu="500m")}),
    "gpu count": Case(flyte.Resources(gpu=2), {"requests": R(gpu="2")}),
    "gpu zero is nothing": Case(flyte.Resources(cpu="1", gpu=0), {"requests": R(cpu="1")}),
    "T4 string": Case(flyte.Resources(gpu="T4:1"), {"requests": R(gpu="1"), "accelerator": fk.T4}),
    "A100 string": Case(flyte.Resources(gpu="A100:2"), {"requests": R(gpu="2"), "accelerator": fk.A100}),
    "A100 MIG": Case(
        flyte.Resources(gpu=flyte.GPU("A100", 1, "1g.5gb")),
        {"requests": R(gpu="1"), "accelerator": fk.A100.partition_1g_5gb},
    ),
    "A100 80G MIG": Case(
        flyte.Resources(gpu=flyte.GPU("A100_80G", 1, "7g.80gb")),
        {"requests": R(gpu="1"), "accelerator": fk.A100_80GB.partition_7g_80gb},
    ),
    "H100 keeps flyte's nvidia-tesla-h100": Case(
        flyte.Resources(gpu="H100:8"),
        {"requests": R(gpu="8"), "accelerator": fk.GPUAccelerator("nvidia-tesla-h100")},
    ),
    "H200 is sent raw by flyte and kept raw": Case(
        flyte.Resources(gpu="H200:1"), {"requests": R(gpu="1"), "accelerator": fk.GPUAccelerator("H200")}
    ),
    "TPU slice": Case(
        flyte.Resources(gpu=flyte.TPU("V5E", "2x2")), {"requests": R(gpu="1"), "accelerator": fk.V5E.slice_2x2}
    ),
    "TPU Device with four chips": Case(
        flyte.Resources(gpu=flyte.Device(quantity=4, device_class="TPU", device="V5P", partition="2x2x1")),
        {"requests": R(gpu="4"), "accelerator": fk.V5P.slice_2x2x1},
    ),
    "Neuron": Case(flyte.Resources(gpu=flyte.Neuron("Inf2")), {"requests": R(gpu="1"), "accelerator": "Inf2"}),
    "AMD": Case(flyte.Resources(gpu=flyte.AMD_GPU("MI300X")), {"requests": R(gpu="1"), "accelerator": "MI300X"}),
    "Gaudi": Case(flyte.Resources(gpu=flyte.HABANA_GAUDI("Gaudi1")), {"requests": R(gpu="1"), "accelerator": "Gaudi1"}),
    "shared GPU": Case(flyte.Resources(gpu="T4 shared:1"), {"requests": R(gpu="1"), "accelerator": "T4 shared"}),
    "raw Device label": Case(
        flyte.Resources(gpu=flyte.Device(quantity=1, device_class="GPU", device="nvidia-h100")),
        {"requests": R(gpu="1"), "accelerator": fk.H100},
    ),
    "disk": Case(flyte.Resources(disk="10Gi"), {"requests": R(ephemeral_storage="10Gi")}),
    "shm auto": Case(flyte.Resources(cpu="1", shm="auto"), {"requests": R(cpu="1"), "shared_memory": True}),
    "shm size": Case(
        flyte.Resources(memory="8Gi", shm="1Gi"),
        {"requests": R(mem="8Gi"), "shared_memory": "1Gi"},
    ),
    "resources form": Case(
        flyte.Resources(cpu=("1", "2"), memory="2Gi", disk="5Gi"),
        {"resources": R(cpu=("1", "2"), mem="2Gi", ephemeral_storage="5Gi")},
        form="resources",
    ),
}


def idl(accelerator: Any) -> Any:
    return accelerator if isinstance(accelerator, str) else accelerator.to_flyte_idl()


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_v2_to_v1(case: Case) -> None:
    spec = flyteres.from_flyte(case.v2)
    conversion = flyteres.convert_to_flytekit(spec, form=case.form)
    assert {f.rule for f in conversion.findings} == case.rules
    kwargs = flyteres.to_flytekit(spec, form=case.form)
    assert case.expected is not None
    expected = dict(case.expected)
    if isinstance(expected.get("accelerator"), str):
        # A device flytekit has no constant for: GPUAccelerator with flyte's exact device string.
        expected["accelerator"] = fk.GPUAccelerator(expected["accelerator"])
    assert kwargs.keys() == expected.keys()
    for key, value in expected.items():
        if key == "accelerator":
            assert kwargs[key].to_flyte_idl() == value.to_flyte_idl()
        else:
            assert kwargs[key] == value


@pytest.mark.parametrize("name", CASES)
def test_v2_to_v1_matches_flytekit_wire_oracle(name: str) -> None:
    """flyte's serialization of the v2 spec equals flytekit's serialization of
    our keyword arguments, up to the documented equivalences."""
    case = CASES[name]
    kwargs = flyteres.to_flytekit(flyteres.from_flyte(case.v2), form=case.form)
    assert normalized(*flytekit_wire(**kwargs)) == normalized(*flyte_wire(case.v2))


def test_h100_mig_partition_has_no_flytekit_constant_but_serializes_exactly() -> None:
    spec = flyteres.from_flyte(flyte.Resources(gpu=flyte.GPU("H100", 1, "1g.10gb")))
    kwargs = flyteres.to_flytekit(spec)
    msg = kwargs["accelerator"].to_flyte_idl()
    assert (msg.device, msg.partition_size) == ("nvidia-tesla-h100", "1g.10gb")
    assert normalized(*flytekit_wire(**kwargs)) == normalized(
        *flyte_wire(flyte.Resources(gpu=flyte.GPU("H100", 1, "1g.10gb")))
    )


def test_idiomatic_labels_switch_to_flytekit_constants_and_say_so() -> None:
    spec = flyteres.from_flyte(flyte.Resources(gpu="H100:8"))
    conversion = flyteres.convert_to_flytekit(spec, device_labels="idiomatic")
    assert conversion.value is not None
    assert conversion.value["accelerator"] is fk.H100
    (changed,) = [f for f in conversion.findings if f.rule is Rule.DEVICE_LABEL_CHANGED]
    assert changed.value == "nvidia-tesla-h100"
    assert "nvidia-h100" in changed.reason


def test_device_class_flytekit_cannot_carry_is_lossy() -> None:
    spec = flyteres.from_flyte(flyte.Resources(gpu=flyte.Device(quantity=1, device_class="AMD_GPU", device="my-amd")))
    assert spec.accelerator is not None
    assert spec.accelerator.custom
    with pytest.raises(LossyConversionError, match="device-class-dropped"):
        flyteres.to_flytekit(spec)


def test_limit_only_in_resources_form_needs_the_kubernetes_policy() -> None:
    spec = flyteres.ResourceSpec(limits={"memory": "1Gi"})
    with pytest.raises(LossyConversionError, match="limit-without-request"):
        flyteres.to_flytekit(spec, form="resources")
    assert flyteres.to_flytekit(spec, form="resources", policy="kubernetes") == {"resources": R(mem=("1Gi", "1Gi"))}
    # The split form says it exactly.
    assert flyteres.to_flytekit(spec) == {"limits": R(mem="1Gi")}


def test_a_note_about_flyte_only_stays_out_of_flytekit_conversions() -> None:
    spec = flyteres.from_flytekit(requests=R(gpu="1"), accelerator=fk.T4)
    assert [f.rule for f in spec.findings] == [Rule.GPU_COUNT_TYPE]
    assert spec.findings[0].target == "flyte"
    assert [f.rule for f in flyteres.convert_to_flyte(spec).findings] == [Rule.GPU_COUNT_TYPE]
    assert flyteres.convert_to_flytekit(spec).findings == ()
    assert flyteres.convert_to_k8s(spec).findings == ()


# Issue 13, class 4: flyte sends a device class it does not know as NVIDIA_GPU
# (`_DeviceClassToProto.get(..., NVIDIA_GPU)`); its names are exactly GPU, TPU, NEURON, AMD_GPU,
# HABANA_GAUDI and APPLE_SILICON. flyteres used to upper-case "tpu" into GOOGLE_TPU: a different
# wire message from flyte's, silently. Any other spelling is now refused, naming flyte's.
UNKNOWN_TO_FLYTE = {
    "tpu": flyte.Device(quantity=1, device_class="tpu", device="V5E"),  # type: ignore[arg-type]
    "neuron": flyte.Device(quantity=1, device_class="neuron", device="Inf2"),  # type: ignore[arg-type]
    "Tpu": flyte.Device(quantity=1, device_class="Tpu", device="V5P", partition="2x2x1"),  # type: ignore[arg-type]
    "gpu": flyte.Device(quantity=2, device_class="gpu", device="A100"),  # type: ignore[arg-type]
    "GOOGLE_TPU (the IDL's name)": flyte.Device(quantity=1, device_class="GOOGLE_TPU", device="V5E"),  # type: ignore[arg-type]
    "AMAZON_NEURON (the IDL's name)": flyte.Device(quantity=1, device_class="AMAZON_NEURON", device="Inf2"),  # type: ignore[arg-type]
}


@pytest.mark.parametrize("device", UNKNOWN_TO_FLYTE.values(), ids=UNKNOWN_TO_FLYTE.keys())
def test_a_device_class_flyte_does_not_know_is_refused(device: Any) -> None:
    resources = flyte.Resources(gpu=device)
    # What flyte itself sends: the class falls back to NVIDIA_GPU.
    _, ext = flyte_wire(resources)
    assert ext is not None
    assert ext.gpu_accelerator.device_class == 0
    with pytest.raises(flyteres.ResourceSpecError, match="NVIDIA_GPU") as info:
        flyteres.from_flyte(resources)
    assert info.value.field == "gpu.device_class"
    assert "TPU" in str(info.value)  # the spellings flyte knows


@pytest.mark.parametrize("name", ["GPU", "TPU", "NEURON", "AMD_GPU", "HABANA_GAUDI"])
def test_flytes_own_device_class_names_are_read(name: str) -> None:
    spec = flyteres.from_flyte(flyte.Resources(gpu=flyte.Device(quantity=1, device_class=name, device="my-device")))  # type: ignore[arg-type]
    _, ext = flyte_wire(flyte.Resources(gpu=flyte.Device(quantity=1, device_class=name, device="my-device")))  # type: ignore[arg-type]
    assert ext is not None
    assert spec.accelerator is not None
    assert spec.accelerator.device_class.proto == ext.gpu_accelerator.device_class
