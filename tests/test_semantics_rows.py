"""Every row of docs/semantics.md, "Where flytekit and Flyte 2 differ", as a test.

Rows the converters decide run the exact case from test_convert_v1_to_v2's
table; rows about SDK behaviour outside the converters check that behaviour
against the installed SDKs, so a new release that changes it fails here.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Any

import flyte
import pytest
from flyte import PodTemplate as FlytePodTemplate
from flyte._internal.runtime import task_serde
from flyte.models import SerializationContext
from flyteidl.core import tasks_pb2 as v1_tasks
from flytekit import ContainerTask, PodTemplate, Resources, map_task, task, workflow
from flytekit import Resources as R
from flytekit.configuration import Image, ImageConfig, SerializationSettings
from flytekit.core.resources import ResourceSpec as FlytekitResourceSpec
from flytekit.extras import accelerators as fk
from flytekit.tools.translator import get_serializable
from kubernetes.client import V1Container, V1PodSpec, V1ResourceRequirements

import flyteres
from flyteres import Resource, ResourceSpec, Rule

from . import test_convert_v1_to_v2 as v1_to_v2
from .oracle import flyte_wire

SETTINGS = SerializationSettings(image_config=ImageConfig(default_image=Image(name="d", fqn="img", tag="t")))

TABLE_ROWS: dict[int, list[str]] = {
    1: ["resources scalar is a request"],
    2: ["requests only"],
    3: ["limit-only memory, strict", "limit-only memory, kubernetes"],
    4: ["burstable"],
    5: ["disjoint keys"],
    6: ["limits-only gpu with T4", "gpu in requests and limits"],
    7: ["gpu string count"],
    8: ["gpu 0 with accelerator", "gpu 0 without accelerator, kubernetes"],
    9: ["accelerator without count"],
    10: ["H100 keeps nvidia-h100", "H100 idiomatic changes the label"],
    11: ["H200 keeps nvidia-h200"],
    12: ["T4", "L40S", "A100 80GB", "RTX PRO 6000"],
    13: ["K80 through Device"],
    14: ["A100 bare"],
    15: ["A100 unpartitioned"],
    16: ["A100 MIG partition", "A100 80GB MIG partition"],
    17: ["V5E slice, one host", "V5E slice with four chips"],
    18: ["raw GPUAccelerator"],
    19: ["ephemeral storage request and different limit"],
    20: ["ephemeral storage limit only, kubernetes"],
    21: ["int memory means bytes"],
    22: ["float cpu"],
    23: ["list pair"],
    24: ["shared memory True"],
    25: ["shared memory size"],
    26: ["shared memory int is ignored as flytekit does"],
    40: ["falsy cpu dropped"],
}


@pytest.mark.parametrize(
    "name", [name for names in TABLE_ROWS.values() for name in names], ids=lambda n: f"row-{_row_of(n)}-{n}"
)
def test_rows_decided_by_the_converters(name: str) -> None:
    v1_to_v2.test_v1_to_v2(v1_to_v2.CASES[name])


def _row_of(name: str) -> int:
    return next(row for row, names in TABLE_ROWS.items() if name in names)


def test_row_27_device_class_exists_only_in_flyteidl2() -> None:
    assert "device_class" not in v1_tasks.GPUAccelerator.DESCRIPTOR.fields_by_name
    _, ext = flyte_wire(flyte.Resources(gpu=flyte.TPU("V5E", "2x2")))
    assert ext is not None
    assert ext.gpu_accelerator.device_class == 1  # GOOGLE_TPU
    spec = flyteres.from_flytekit(requests=R(gpu="1"), accelerator=fk.V5E.slice_2x2)
    assert spec.accelerator is not None
    assert spec.accelerator.device_class == "GOOGLE_TPU"


def test_row_28_env_task_takes_no_resources() -> None:
    env = flyte.TaskEnvironment(name="row-28")

    def fn() -> None: ...

    with pytest.raises(TypeError, match="resources"):
        env.task(resources=flyte.Resources(cpu="1"))(fn)  # type: ignore[call-arg]


def _template(t: Any) -> Any:
    ctx = SerializationContext(version="v", project="p", domain="d", root_dir=Path(__file__).parent)
    return task_serde.get_proto_task(t, ctx)


def test_row_29_flyte_override_replaces_the_whole_resources() -> None:
    env = flyte.TaskEnvironment(name="row-29", resources=flyte.Resources(cpu="2", memory="4Gi", gpu="T4:1"))

    def fn() -> None: ...

    t = env.task(fn)
    overridden = t.override(resources=flyte.Resources(memory="8Gi"))
    names = {e.name for e in _template(overridden).container.resources.requests}
    assert names == {3}  # MEMORY only: cpu and the GPU are gone
    # Going through the spec keeps what the override does not name.
    base = flyteres.from_flyte(env.resources)
    kept = base.replace(requests={**base.requests, Resource.MEMORY: flyteres.Quantity.parse("8Gi")})
    assert flyteres.to_flyte(kept) == flyte.Resources(cpu="2", memory="8Gi", gpu="T4:1")


def test_row_30_an_accelerator_override_alone_has_no_count_to_carry() -> None:
    with pytest.raises(flyteres.LossyConversionError, match="accelerator-without-count"):
        flyteres.to_flyte(flyteres.from_flytekit(accelerator=fk.A100))


def test_row_31_a_second_with_overrides_clears_the_accelerator() -> None:
    @task(requests=R(cpu="1"))
    def t1() -> None: ...

    @workflow
    def wf() -> None:
        t1().with_overrides(accelerator=fk.T4).with_overrides(retries=2)

    entity = get_serializable(OrderedDict(), SETTINGS, wf)
    node = entity.template.nodes[0].to_flyte_idl()
    assert not node.task_node.overrides.HasField("extended_resources")


def test_row_32_override_on_a_reusable_environment_raises() -> None:
    env = flyte.TaskEnvironment(name="row-32", reusable=flyte.ReusePolicy(replicas=1))

    def fn() -> None: ...

    t = env.task(fn)
    with pytest.raises(ValueError, match="reusable"):
        t.override(resources=flyte.Resources(cpu="1"))


def test_row_33_v1_replaces_the_pod_templates_primary_resources() -> None:
    template = PodTemplate(
        pod_spec=V1PodSpec(
            containers=[
                V1Container(
                    name="primary",
                    resources=V1ResourceRequirements(requests={"cpu": "3"}, limits={"nvidia.com/gpu": "1"}),
                )
            ]
        ),
        primary_container_name="primary",
    )

    @task(pod_template=template, requests=R(mem="1Gi"))
    def t1() -> None: ...

    pod = get_serializable(OrderedDict(), SETTINGS, t1).template.k8s_pod.pod_spec
    primary = next(c for c in pod["containers"] if c["name"] == "primary")
    assert primary["resources"] == {"requests": {"memory": "1Gi"}, "limits": {}}


def test_row_34_flyte_refuses_a_template_without_its_primary_container() -> None:
    template = FlytePodTemplate(
        pod_spec=V1PodSpec(containers=[V1Container(name="other")]), primary_container_name="main"
    )
    env = flyte.TaskEnvironment(name="row-34", pod_template=template, resources=flyte.Resources(cpu="1"))

    def fn() -> None: ...

    with pytest.raises(ValueError, match="main"):
        _template(env.task(fn))


def test_row_35_container_task_ignores_accelerator_and_shared_memory() -> None:
    ct = ContainerTask(
        name="row-35", image="busybox", command=["true"], accelerator=fk.T4, shared_memory=True, requests=R(cpu="1")
    )
    assert ct.get_extended_resources(SETTINGS) is None


def test_row_36_map_task_override_lands_on_the_array_node() -> None:
    @task(requests=R(cpu="1", mem="1Gi"))
    def t1(x: int) -> int:
        return x

    @workflow
    def wf(xs: list[int]) -> list[int]:
        return map_task(t1)(x=xs).with_overrides(requests=R(mem="3Gi"))

    node = get_serializable(OrderedDict(), SETTINGS, wf).template.nodes[0].to_flyte_idl()
    overrides = node.array_node.node.task_node.overrides.resources
    assert [(e.name, e.value) for e in overrides.requests] == [(3, "3Gi")]


def test_row_37_default_resources_apply_only_to_tasks_without_any() -> None:
    defaults = FlytekitResourceSpec(requests=R(cpu="1"), limits=R(cpu="2"))
    settings = SerializationSettings(
        image_config=SETTINGS.image_config, default_resources=defaults
    )  # fmt: skip

    @task(limits=R(mem="600Mi"))
    def declared() -> None: ...

    @task
    def bare() -> None: ...

    declared_res = get_serializable(OrderedDict(), settings, declared).template.container.resources
    bare_res = get_serializable(OrderedDict(), settings, bare).template.container.resources
    assert [e.name for e in declared_res.requests] == []
    assert [(e.name, e.value) for e in bare_res.requests] == [(1, "1")]


def test_row_38_storage_is_gone_from_flytekit_and_dropped_with_a_finding() -> None:
    with pytest.raises(TypeError):
        Resources(storage="1Gi")  # type: ignore[call-arg]
    spec = flyteres.from_flytekit(requests={"cpu": "1", "storage": "500Mi"})
    assert spec.to_dict() == {"requests": {"cpu": "1"}}
    assert [f.rule for f in spec.findings] == [Rule.STORAGE_DROPPED]


def test_row_39_entry_order_follows_each_sdk() -> None:
    spec = ResourceSpec(requests={"cpu": "1", "memory": "1Gi", "gpu": "1", "ephemeral_storage": "1Gi"})
    v1, _ = flyteres.to_idl(spec, "flyteidl")
    v2, _ = flyteres.to_idl(spec, "flyteidl2")
    assert [e.name for e in v1.requests] == [5, 1, 2, 3]  # EPHEMERAL_STORAGE, CPU, GPU, MEMORY
    assert [e.name for e in v2.requests] == [1, 3, 2, 5]  # CPU, MEMORY, GPU, EPHEMERAL_STORAGE
