"""merge() and override_resources(): Flyte 2 overrides that change only what they name."""

from __future__ import annotations

import flyte
import pytest
from flytekit import Resources as R
from flytekit.extras.accelerators import A100

from flyteres import (
    AcceleratorSpec,
    LossyConversionError,
    Quantity,
    Resource,
    ResourceSpec,
    ResourceSpecError,
    SharedMemorySpec,
    from_flyte,
)
from flyteres.backend.merge import merge, override_resources

TASK = ResourceSpec(
    requests={"cpu": "1", "memory": "1Gi", "gpu": "1"},
    limits={"cpu": "2", "memory": "2Gi", "gpu": "1"},
    accelerator=AcceleratorSpec("nvidia-tesla-t4"),
    shared_memory=SharedMemorySpec(),
)


def test_row_29_a_partial_override_keeps_everything_else() -> None:
    merged = merge(TASK, ResourceSpec(limits={"cpu": "6"}))
    assert merged == TASK.replace(limits={"cpu": "6", "memory": "2Gi", "gpu": "1"})


def test_row_30_an_accelerator_alone_keeps_the_gpu_count() -> None:
    a100 = AcceleratorSpec("nvidia-tesla-a100")
    merged = merge(TASK, ResourceSpec(accelerator=a100))
    assert merged.accelerator == a100
    assert merged.gpu_count == 1
    assert merged.shared_memory == SharedMemorySpec()


def test_a_gpu_count_alone_keeps_the_accelerator_and_sets_both_sides() -> None:
    merged = merge(TASK, ResourceSpec(requests={"gpu": "4"}))
    assert merged.accelerator == TASK.accelerator
    assert merged.get("gpu") == (Quantity("4"), Quantity("4"))
    assert merged.gpu_count == 4


def test_shared_memory_is_replaced_only_when_set() -> None:
    sized = SharedMemorySpec(size_limit="1Gi")  # type: ignore[arg-type]
    assert merge(TASK, ResourceSpec(shared_memory=sized)).shared_memory == sized
    assert merge(TASK, ResourceSpec(requests={"cpu": "2"})).shared_memory == SharedMemorySpec()


def test_an_empty_override_changes_nothing_and_quantities_keep_their_text() -> None:
    assert merge(TASK, ResourceSpec()) == TASK
    merged = merge(TASK, ResourceSpec(limits={"memory": "2048Mi"}))
    assert merged.limits[Resource.MEMORY].text == "2048Mi"


@pytest.mark.parametrize(
    ("override", "conflict", "expected"),
    [
        (ResourceSpec(requests={"memory": "4Gi"}), "backend", ({"memory": "2Gi"}, {"memory": "2Gi"})),
        (ResourceSpec(requests={"memory": "4Gi"}), "follow", ({"memory": "4Gi"}, {"memory": "4Gi"})),
        (ResourceSpec(limits={"memory": "512Mi"}), "backend", ({"memory": "512Mi"}, {"memory": "512Mi"})),
        (ResourceSpec(limits={"memory": "512Mi"}), "follow", ({"memory": "512Mi"}, {"memory": "512Mi"})),
        (
            ResourceSpec(requests={"memory": "4Gi"}, limits={"memory": "6Gi"}),
            "error",
            ({"memory": "4Gi"}, {"memory": "6Gi"}),
        ),
    ],
)
def test_request_limit_conflicts_are_resolved_as_asked(
    override: ResourceSpec, conflict: str, expected: tuple[dict[str, str], dict[str, str]]
) -> None:
    merged = merge(TASK, override, conflict=conflict)  # type: ignore[arg-type]
    assert {"memory": merged.requests[Resource.MEMORY].text} == expected[0]
    assert {"memory": merged.limits[Resource.MEMORY].text} == expected[1]


@pytest.mark.parametrize(
    ("override", "field", "message"),
    [
        (
            ResourceSpec(requests={"memory": "4Gi"}),
            "requests.memory",
            "raises the request above the base's limit '2Gi'",
        ),
        (ResourceSpec(limits={"cpu": "500m"}), "limits.cpu", "lowers the limit below the base's request '1'"),
    ],
)
def test_by_default_a_conflict_raises_naming_the_field(override: ResourceSpec, field: str, message: str) -> None:
    with pytest.raises(ResourceSpecError) as info:
        merge(TASK, override)
    assert info.value.field == field
    assert message in str(info.value)
    assert "conflict='follow'" in str(info.value)


def test_unknown_conflict_mode() -> None:
    with pytest.raises(ResourceSpecError, match="conflict"):
        merge(TASK, ResourceSpec(), conflict="ignore")  # type: ignore[arg-type]


# -- override_resources -------------------------------------------------------------------------------------------

ENV = flyte.TaskEnvironment(
    name="merge-tests", resources=flyte.Resources(cpu=(1, 2), memory=("4Gi", "8Gi"), gpu="A100:1", shm="auto")
)


@ENV.task
async def train(x: int) -> int:
    return x


def test_override_resources_keeps_what_the_change_leaves_out() -> None:
    resources = override_resources(train, gpu="A100:2")
    assert resources == flyte.Resources(cpu=("1", "2"), memory=("4Gi", "8Gi"), gpu="A100:2", shm="auto")
    overridden = train.override(resources=resources)
    assert from_flyte(overridden.resources).gpu_count == 2
    assert from_flyte(overridden.resources).get("memory")[1].text == "8Gi"  # type: ignore[union-attr]


def test_a_bare_flyte_override_would_have_dropped_cpu_and_memory() -> None:
    # The behaviour override_resources exists for (flyte/_task.py: resources or self.resources).
    bare = train.override(resources=flyte.Resources(gpu="A100:2"))
    assert bare.resources.cpu is None
    assert bare.resources.memory is None


@pytest.mark.parametrize(
    ("base", "change", "kwargs"),
    [
        (ENV.resources, None, {"requests": R(mem="6Gi"), "limits": R(mem="12Gi")}),
        (from_flyte(ENV.resources), ResourceSpec(requests={"memory": "6Gi"}, limits={"memory": "12Gi"}), {}),
        (train, flyte.Resources(memory=("6Gi", "12Gi")), {}),
        (ENV.resources, None, {"memory": ("6Gi", "12Gi")}),
    ],
)
def test_override_resources_takes_every_base_and_change_spelling(base: object, change: object, kwargs: dict) -> None:
    resources = override_resources(base, change, **kwargs) if change is not None else override_resources(base, **kwargs)
    assert resources.memory == ("6Gi", "12Gi")
    assert resources.cpu == ("1", "2")
    assert resources.gpu == "A100:1"


def test_override_resources_from_nothing_and_with_flytekit_accelerators() -> None:
    resources = override_resources(None, limits={"gpu": "1"}, accelerator=A100)
    assert resources.gpu == "A100:1"


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((ENV.resources,), {"cpu": 2, "requests": R(cpu="1")}, "not a mix"),
        ((ENV.resources, ResourceSpec()), {"cpu": 2}, "either positionally or as keyword arguments"),
        ((object(),), {"cpu": 2}, "must be a ResourceSpec, a flyte.Resources"),
        ((ENV.resources,), {"memory": 1024}, "flyte.Resources refuses it"),
        ((ENV.resources,), {"cpu": 4}, "raises the request above the base's limit '2'"),
    ],
)
def test_override_resources_refuses_what_it_cannot_do(args: tuple, kwargs: dict, message: str) -> None:
    with pytest.raises(ResourceSpecError, match=message.replace("(", r"\(").replace(".", r"\.")):
        override_resources(*args, **kwargs)


def test_override_resources_follow_gives_the_core_count_users_mean() -> None:
    assert override_resources(ENV.resources, cpu=4, conflict="follow").cpu == ("4", "4")


@pytest.mark.parametrize("zero", [0, "0"])
def test_override_changes_are_read_as_with_overrides_reads_them(zero: object) -> None:
    # flytekit's override path sends gpu=0 as "0" (the task path drops it): switching the GPU off is a
    # change flyteres must see, not a silent no-op that keeps the task's two GPUs.
    base = flyte.Resources(cpu=1, gpu="A100:2")
    with pytest.raises(LossyConversionError, match="accelerator-without-count"):
        override_resources(base, limits={"gpu": zero})
