"""Bad input is a ValueError naming the field, never another exception or a silent change (issue 13).

Each row is an input someone wrote, in the spelling they wrote it (flytekit's
mappings, the neutral model's constructors, its JSON form). Before these were
fixed, some raised OverflowError, AttributeError or TypeError, and some were
accepted and changed meaning (the string "no" read as true).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import flyteres
from flyteres import (
    AcceleratorSpec,
    QuantityError,
    ResourceSpec,
    ResourceSpecError,
    SharedMemorySpec,
)

A100 = "nvidia-tesla-a100"

GAPS: dict[str, tuple[Callable[[], object], str]] = {
    # A device count too large for Kubernetes' int64 milli-units used to overflow while being checked.
    "gpu request 1e999": (lambda: ResourceSpec(requests={"gpu": "1e999"}), "requests.gpu"),
    "gpu limit 1e999": (lambda: ResourceSpec(limits={"gpu": "1e999"}), "limits.gpu"),
    "gpu 1e19": (lambda: ResourceSpec(requests={"gpu": "1e19"}, limits={"gpu": "1e19"}), "requests.gpu"),
    "flytekit gpu 1e999": (lambda: flyteres.from_flytekit(limits={"gpu": "1e999"}), "limits.gpu"),
    "requests as a list of pairs": (lambda: ResourceSpec(requests=[("cpu", "1")]), "requests"),  # type: ignore[arg-type]
    "limits as a string": (lambda: ResourceSpec(limits="cpu=1"), "limits"),  # type: ignore[arg-type]
    "findings not a sequence": (lambda: ResourceSpec(findings=5), "findings"),  # type: ignore[arg-type]
    "model as a list": (lambda: AcceleratorSpec(A100, model=[]), "accelerator.model"),  # type: ignore[arg-type]
    "model as a number": (lambda: AcceleratorSpec(A100, model=5), "accelerator.model"),  # type: ignore[arg-type]
    "mount_name as a number": (lambda: SharedMemorySpec(mount_name=5), "shared_memory.mount_name"),  # type: ignore[arg-type]
    "mount_name as a list": (lambda: SharedMemorySpec(mount_name=["a"]), "shared_memory.mount_name"),  # type: ignore[arg-type]
    "custom as the string 'no'": (lambda: AcceleratorSpec(A100, custom="no"), "accelerator.custom"),  # type: ignore[arg-type]
    "custom as 1": (lambda: AcceleratorSpec("my-gpu", custom=1), "accelerator.custom"),  # type: ignore[arg-type]
    "unpartitioned as the string 'no'": (
        lambda: AcceleratorSpec(A100, unpartitioned="no"),  # type: ignore[arg-type]
        "accelerator.unpartitioned",
    ),
    # flytekit's Resources takes mem, gpu and ephemeral_storage as str or int only; a float is refused there.
    "flytekit mem=1.5": (lambda: flyteres.from_flytekit(requests={"mem": 1.5}), "requests.mem"),
    "flytekit mem=1024.0": (lambda: flyteres.from_flytekit(limits={"mem": 1024.0}), "limits.mem"),
    "flytekit gpu=1.0": (lambda: flyteres.from_flytekit(limits={"gpu": 1.0}), "limits.gpu"),
    "flytekit ephemeral_storage=2.5": (
        lambda: flyteres.from_flytekit(requests={"ephemeral_storage": 2.5}),
        "requests.ephemeral_storage",
    ),
    "flytekit resources mem pair of floats": (
        lambda: flyteres.from_flytekit(resources={"mem": (1.5, 2.5)}),
        "resources.mem[0]",
    ),
}


@pytest.mark.parametrize(("make", "field"), GAPS.values(), ids=GAPS.keys())
def test_bad_input_is_a_field_error(make: Callable[[], object], field: str) -> None:
    with pytest.raises((ResourceSpecError, QuantityError)) as info:
        make()
    assert isinstance(info.value, ValueError)
    assert getattr(info.value, "field", None) == field, info.value


# The JSON form (`flyteres convert --from spec`, the service's canonical input) reads booleans as booleans.
STRING_BOOLEANS: dict[str, tuple[dict[str, Any], str]] = {
    "unpartitioned 'no'": ({"accelerator": {"device": A100, "unpartitioned": "no"}}, "accelerator.unpartitioned"),
    "unpartitioned 'false'": ({"accelerator": {"device": A100, "unpartitioned": "false"}}, "accelerator.unpartitioned"),
    "unpartitioned 0": ({"accelerator": {"device": A100, "unpartitioned": 0}}, "accelerator.unpartitioned"),
    "custom 'false'": ({"accelerator": {"device": "my-gpu", "custom": "false"}}, "accelerator.custom"),
    "custom 'true'": ({"accelerator": {"device": "my-gpu", "custom": "true"}}, "accelerator.custom"),
    "mount_name 5": ({"shared_memory": {"size_limit": None, "mount_name": 5}}, "shared_memory.mount_name"),
}


@pytest.mark.parametrize(("data", "field"), STRING_BOOLEANS.values(), ids=STRING_BOOLEANS.keys())
def test_booleans_must_be_booleans(data: dict[str, Any], field: str) -> None:
    with pytest.raises(ResourceSpecError) as info:
        ResourceSpec.from_dict(data)
    assert info.value.field == field


def test_real_booleans_and_integer_floats_still_work() -> None:
    assert ResourceSpec.from_dict({"accelerator": {"device": A100, "unpartitioned": True}}).accelerator is not None
    assert AcceleratorSpec("my-gpu", custom=True).custom is True
    # cpu takes floats in flytekit; memory takes ints (bytes), reported as such.
    spec = flyteres.from_flytekit(requests={"cpu": 1.5, "mem": 1024})
    assert spec.to_dict() == {"requests": {"cpu": "1.5", "memory": "1024"}}
    # A large but representable device count is fine.
    assert ResourceSpec(limits={"gpu": "9223372036854775"}).gpu_count == 9223372036854775
