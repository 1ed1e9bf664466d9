"""Resources set through a pod template, read from source, against the SDKs' own serializers.

Each case is a module declaring one task `t` with a `pod_template=`; the test imports it with the
installed SDK, serializes the task the way registration does, and compares the pod spec's primary
container with what `flyteres.source` reads without importing anything (docs/semantics.md, rows 33
and 34). A change of precedence in a new flytekit or flyte release fails here.
"""

from __future__ import annotations

import importlib.util
import sys
from collections import OrderedDict
from pathlib import Path
from typing import Any

import flyte
import pytest
from flyte._internal.runtime import task_serde
from flyte.models import SerializationContext
from flytekit.configuration import Image, ImageConfig, SerializationSettings
from flytekit.tools.translator import get_serializable
from google.protobuf.json_format import MessageToDict

from flyteres import Resource, ResourceSpec
from flyteres.backend.manifests import load_limitranges
from flyteres.check import check_paths
from flyteres.platform import parse_platform
from flyteres.source.analysis import find_declarations
from flyteres.source.model import DeclarationKind
from flyteres.source.project import read_module

SETTINGS = SerializationSettings(image_config=ImageConfig(default_image=Image(name="d", fqn="img", tag="t")))

_FLYTEKIT = """
from flytekit import PodTemplate, Resources, task
from kubernetes.client import V1Container, V1PodSpec, V1ResourceRequirements
"""
_FLYTE = """
import flyte
from kubernetes.client import V1Container, V1PodSpec, V1ResourceRequirements
"""
_MAIN = """V1PodSpec(containers=[
    V1Container(name="side", resources=V1ResourceRequirements(limits={"memory": "1Gi"})),
    V1Container(name="main", resources=V1ResourceRequirements(
        requests={"cpu": "2"}, limits={"memory": "4Gi", "nvidia.com/gpu": "1"})),
])"""

CASES: dict[str, str] = {
    "flytekit template alone": _FLYTEKIT
    + f"""
T = PodTemplate(primary_container_name="main", pod_spec={_MAIN})
@task(pod_template=T)
def t() -> None: ...
""",
    "flytekit task resources replace the template's": _FLYTEKIT
    + f"""
@task(pod_template=PodTemplate(primary_container_name="main", pod_spec={_MAIN}), requests=Resources(mem="1Gi"))
def t() -> None: ...
""",
    "flytekit dict resources": _FLYTEKIT
    + """
SPEC = V1PodSpec(containers=[V1Container(name="primary", resources={"requests": {"cpu": "3"}, "limits": {"cpu": "3"}})])
@task(pod_template=PodTemplate(pod_spec=SPEC))
def t() -> None: ...
""",
    "flytekit template through a ** dict": _FLYTEKIT
    + f"""
KW = {{"pod_template": PodTemplate(primary_container_name="main", pod_spec={_MAIN}), "cache": False}}
@task(**KW)
def t() -> None: ...
""",
    "flytekit empty containers get a placeholder": _FLYTEKIT
    + """
@task(pod_template=PodTemplate(pod_spec=V1PodSpec(containers=[])), limits=Resources(cpu="1", mem="1Gi"))
def t() -> None: ...
""",
    "flyte environment merged over the template": _FLYTE
    + f"""
env = flyte.TaskEnvironment(name="e", resources=flyte.Resources(memory="2Gi", cpu=1),
    pod_template=flyte.PodTemplate(primary_container_name="main", pod_spec={_MAIN}))
@env.task
def t() -> None: ...
""",
    "flyte template alone": _FLYTE
    + f"""
env = flyte.TaskEnvironment("e", pod_template=flyte.PodTemplate(primary_container_name="main", pod_spec={_MAIN}))
@env.task
def t() -> None: ...
""",
    "flyte task template over its environment": _FLYTE
    + """
env = flyte.TaskEnvironment(name="e", resources=flyte.Resources(memory="2Gi"))
@env.task(pod_template=flyte.PodTemplate(pod_spec=V1PodSpec(containers=[
    V1Container(name="primary", resources=V1ResourceRequirements(requests={"memory": "1Gi", "cpu": "2"}))])))
def t() -> None: ...
""",
}

_K8S = {Resource.CPU: "cpu", Resource.MEMORY: "memory", Resource.GPU: "nvidia.com/gpu",
        Resource.EPHEMERAL_STORAGE: "ephemeral-storage"}  # fmt: skip


def _import(source: str, tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The module, imported for real; it stays in sys.modules (flytekit names tasks by it) for the test."""
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    return module


def _serialized_primary(task: Any, tmp_path: Path) -> dict[str, dict[str, str]]:
    """The primary container's resources in the pod spec the SDK registers."""
    if hasattr(task, "pod_template") and type(task).__module__.startswith("flyte."):
        ctx = SerializationContext(version="v", project="p", domain="d", root_dir=tmp_path)
        proto = task_serde.get_proto_task(task, ctx)
        pod = MessageToDict(proto.k8s_pod.pod_spec)
        name = proto.config["primary_container_name"]
    else:
        template = get_serializable(OrderedDict(), SETTINGS, task).template
        pod, name = template.k8s_pod.pod_spec, template.config["primary_container_name"]
    primary = next(c for c in pod["containers"] if c["name"] == name)
    resources = primary.get("resources") or {}
    return {side: dict(resources.get(side) or {}) for side in ("requests", "limits")}


def _k8s(spec: ResourceSpec) -> dict[str, dict[str, str]]:
    return {
        "requests": {_K8S[r]: str(q) for r, q in spec.requests.items()},
        "limits": {_K8S[r]: str(q) for r, q in spec.limits.items()},
    }


@pytest.mark.parametrize("name", list(CASES))
def test_the_primary_container_gets_what_the_sdk_serializes(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = CASES[name]
    module_name = "pod_template_case_" + name.replace(" ", "_").replace("'", "")
    task = _import(source, tmp_path, module_name, monkeypatch).t
    (record,) = [t for t in read_module(source, "m.py").tasks if t.name == "t"]
    assert record.spec is not None, record.reason
    assert _k8s(record.spec) == _serialized_primary(task, tmp_path)


def test_flyte_refuses_a_template_without_its_primary_container(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = (
        _FLYTE
        + f"""
env = flyte.TaskEnvironment(name="e", pod_template=flyte.PodTemplate(primary_container_name="x", pod_spec={_MAIN}))
@env.task
def t() -> None: ...
"""
    )
    task = _import(source, tmp_path, "pod_template_refused", monkeypatch).t
    with pytest.raises(ValueError, match="primary container"):
        _serialized_primary(task, tmp_path)
    (record,) = read_module(source, "m.py").tasks
    assert record.spec is None
    assert record.refused
    assert "'x'" in (record.reason or "")
    (env,) = find_declarations(source, "m.py")
    assert env.refused
    assert env.kind is DeclarationKind.ENVIRONMENT


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ('"gpu-template"', "the pod template 'gpu-template' is one the cluster holds"),
        ("make_template()", "not a PodTemplate(...) written out (make_template())"),
        ("PodTemplate(**KW)", "unpacks arguments"),
        ("PodTemplate(pod_spec=V1PodSpec(containers=CONTAINERS))", "'CONTAINERS'"),
    ],
)
def test_a_template_that_cannot_be_read_is_reported_with_its_reason(template: str, reason: str) -> None:
    source = _FLYTEKIT + f"@task(pod_template={template})\ndef t() -> None: ...\n"
    (d,) = find_declarations(source, "m.py")
    assert d.spec is None
    assert reason in (d.reason or "")


def test_a_flyte_tasks_own_template_is_checked_where_it_is_written(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(
        _FLYTE
        + """
env = flyte.TaskEnvironment(name="e", resources=flyte.Resources(cpu=1))
@env.task(pod_template=flyte.PodTemplate(pod_spec=V1PodSpec(containers=[
    V1Container(name="primary", resources={"limits": {"memory": "300Gi"}})])))
async def big() -> None: ...
"""
    )
    limitranges = load_limitranges(Path(__file__).parent.parent / "examples" / "limitrange.yaml")
    report = check_paths([tmp_path], parse_platform("task_resources: {limits: {memory: 8Gi}}"), (), limitranges)
    env, task = report.checked
    assert env.declaration.kind is DeclarationKind.ENVIRONMENT
    assert not env.problems
    assert task.declaration.kind is DeclarationKind.TASK_POD_TEMPLATE
    assert task.declaration.line == 6  # the decorator that names the template
    assert [(f.rule.value, f.field) for f in task.problems] == [("limitrange-rejected", "limits.memory")]
    assert task.to_dict()["notes"] == [
        "the pod template's primary container 'primary' adds its resources; the task's keys win"
    ]


def test_the_pod_plugins_config_is_reported_not_read() -> None:
    source = (
        "from flytekit import Resources, task\nfrom flytekitplugins.pod import Pod\n"
        "@task(task_config=Pod(pod_spec=SPEC))\ndef bare() -> None: ...\n"
        "@task(task_config=Pod(pod_spec=SPEC), requests=Resources(cpu='1'))\ndef own() -> None: ...\n"
    )
    bare, own = find_declarations(source, "m.py")
    assert bare.spec is None
    assert "flytekitplugins-pod" in (bare.reason or "")
    assert own.spec == ResourceSpec(requests={"cpu": "1"})
    assert "Pod task_config" in own.notes[0]


def test_a_flyte_override_is_laid_over_the_tasks_template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # override() replaces the task's Resources, but flyte still merges them into the template's container.
    source = (
        _FLYTE
        + """
GPU = V1ResourceRequirements(requests={"nvidia.com/gpu": "1"}, limits={"nvidia.com/gpu": "1"})
env = flyte.TaskEnvironment(name="e", resources=flyte.Resources(cpu=1, memory="1Gi"),
    pod_template=flyte.PodTemplate(pod_spec=V1PodSpec(containers=[V1Container(name="primary", resources=GPU)])))
@env.task
async def t() -> None: ...
@env.task
async def main() -> None:
    await t.override(resources=flyte.Resources(memory="2Gi"))()
"""
    )
    module = _import(source, tmp_path, "pod_template_override", monkeypatch)
    real = _serialized_primary(module.t.override(resources=flyte.Resources(memory="2Gi")), tmp_path)
    record = read_module(source, "m.py")
    (override,) = record.overrides
    (task,) = [t for t in record.tasks if t.name == "t"]
    assert override.spec is not None
    assert _k8s(task.overridden(override.spec)) == real
    assert real == {"requests": {"memory": "2Gi", "nvidia.com/gpu": "1"}, "limits": {"nvidia.com/gpu": "1"}}
    (tmp_path / "checked").mkdir()
    (tmp_path / "checked" / "m.py").write_text(source)
    report = check_paths([tmp_path / "checked"], parse_platform("task_resources: {limits: {memory: 8Gi}}"))
    (checked,) = [c for c in report.checked if c.declaration.kind is DeclarationKind.OVERRIDE]
    assert checked.result is not None
    dropped = [f for f in checked.result.findings if f.rule.value == "override-replaces-resources"]
    assert [f.value for f in dropped] == ["requests.cpu"]
    assert checked.hint == "to keep the task's other resources, pass resources=flyte.Resources(cpu='1', memory='2Gi')"
