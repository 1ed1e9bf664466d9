"""Oracle tests: import each corpus module before and after the rewrite and
compare what the SDKs themselves serialize.

- `--target flytekit`: flytekit serializes every task (and every workflow
  node's overrides) of the rewritten module to the same bytes as the
  original's; where the policy decided something, to the same resources
  after Kubernetes' request/limit defaulting.
- `--target flyte`: flyte's serialization of each rewritten task (its
  TaskEnvironment's resources through `get_proto_task`) equals flytekit's
  serialization of the original under the converter contract
  (`tests.oracle.normalized`), and each `.override(resources=...)` equals the
  v1 backend's per-key merge of the node override onto the task.
"""

from __future__ import annotations

import itertools
import pathlib
from collections import OrderedDict
from types import ModuleType
from typing import Any

import libcst as cst
import pytest
from flyte._internal.runtime import task_serde
from flyte.models import SerializationContext
from flytekit.configuration import Image, ImageConfig, SerializationSettings
from flytekit.core.base_task import PythonTask
from flytekit.core.workflow import WorkflowBase
from flytekit.tools.translator import get_serializable

from flyteres.migrate import MigrationResult, Site, migrate_source
from flyteres_pb.v1 import resources_pb2 as ours
from tests.modules import import_file

from .oracle import normalized

CORPUS = pathlib.Path(__file__).parent / "migrate_corpus"
MODULES = sorted(p.stem for p in CORPUS.glob("*.py"))
_counter = itertools.count()
_SETTINGS = SerializationSettings(image_config=ImageConfig(default_image=Image(name="d", fqn="img", tag="t")))


def _import(path: pathlib.Path, name: str) -> ModuleType:
    return import_file(path, name)


def _rewritten(stem: str, target: str, policy: str, tmp_path: pathlib.Path) -> tuple[ModuleType, MigrationResult]:
    source = (CORPUS / f"{stem}.py").read_text()
    # partial: each site as it renders on its own (test_migrate_program.py holds whole programs).
    result = migrate_source(source, path=f"{stem}.py", target=target, policy=policy, partial=True)  # type: ignore[arg-type]
    assert result.status in ("changed", "unchanged"), result.reason
    path = tmp_path / f"{stem}.py"
    path.write_text(result.code)
    return _import(path, f"migrated_{stem}_{next(_counter)}"), result


def _original(stem: str) -> ModuleType:
    return _import(CORPUS / f"{stem}.py", f"original_{stem}_{next(_counter)}")


def _ours(message: Any, cls: Any) -> Any:
    return cls.FromString(message.SerializeToString())


def flytekit_task(task: Any) -> tuple[ours.Resources, ours.ExtendedResources | None, bytes]:
    template = get_serializable(OrderedDict(), _SETTINGS, task).template.to_flyte_idl()
    ext = (
        _ours(template.extended_resources, ours.ExtendedResources) if template.HasField("extended_resources") else None
    )
    container = template.container if template.HasField("container") else None
    res = _ours(container.resources, ours.Resources) if container is not None else ours.Resources()
    return res, ext, template.metadata.SerializeToString()


def flyte_task(task: Any, root: pathlib.Path) -> tuple[ours.Resources, ours.ExtendedResources | None]:
    ctx = SerializationContext(version="v1", project="p", domain="d", root_dir=root)
    template = task_serde.get_proto_task(task, ctx)
    ext = (
        _ours(template.extended_resources, ours.ExtendedResources) if template.HasField("extended_resources") else None
    )
    return _ours(template.container.resources, ours.Resources), ext


def overrides_by_task(module: ModuleType) -> dict[str, tuple[ours.Resources, ours.ExtendedResources]]:
    """The node overrides in the module's workflows, by the overridden task's function name."""
    out: dict[str, tuple[ours.Resources, ours.ExtendedResources]] = {}
    for value in vars(module).values():
        if not isinstance(value, WorkflowBase):
            continue
        spec = get_serializable(OrderedDict(), _SETTINGS, value).to_flyte_idl()
        for node in spec.template.nodes:
            task_node = node.array_node.node.task_node if node.HasField("array_node") else node.task_node
            ov = task_node.overrides
            if not (ov.HasField("resources") or ov.HasField("extended_resources")):
                continue
            name = task_node.reference_id.name.rpartition(".")[2]
            assert name not in out, f"the corpus overrides {name} twice"
            out[name] = (_ours(ov.resources, ours.Resources), _ours(ov.extended_resources, ours.ExtendedResources))
    return out


def tasks_of(module: ModuleType) -> dict[str, Any]:
    return {name: v for name, v in vars(module).items() if isinstance(v, PythonTask) and not name.startswith("_")}


def site_for(result: MigrationResult, name: str, kinds: tuple[str, ...]) -> Site | None:
    return next((s for s in result.sites if s.name == name and s.kind in kinds), None)


_TASK_KINDS = ("task", "dynamic", "eager", "container_task")
_OVERRIDE_KINDS = ("with_overrides", "map_task_overrides")


def _exact(res: ours.Resources, ext: ours.ExtendedResources | None) -> tuple[bytes, bytes]:
    return res.SerializeToString(deterministic=True), b"" if ext is None else ext.SerializeToString(deterministic=True)


# ---------------------------------------------------------------------------------------------
# --target flytekit: the same bytes


@pytest.mark.parametrize("policy", ["kubernetes", "strict"])
@pytest.mark.parametrize("stem", MODULES)
def test_flytekit_target_serializes_like_the_original(stem: str, policy: str, tmp_path: pathlib.Path) -> None:
    before = _original(stem)
    after, result = _rewritten(stem, "flytekit", policy, tmp_path)
    old_tasks, new_tasks = tasks_of(before), tasks_of(after)
    assert old_tasks.keys() == new_tasks.keys()
    for name, old in old_tasks.items():
        site = site_for(result, old.name.rpartition(".")[2], _TASK_KINDS) or site_for(result, name, _TASK_KINDS)
        decided = site is not None and site.decided_by_policy
        assert not (decided and policy == "strict")
        r1, e1, m1 = flytekit_task(old)
        r2, e2, m2 = flytekit_task(new_tasks[name])
        assert m1 == m2, name
        if decided:
            assert normalized(r2, e2, kubernetes_defaults=True) == normalized(r1, e1, kubernetes_defaults=True), name
        else:
            assert _exact(r2, e2) == _exact(r1, e1), name
    old_ov, new_ov = overrides_by_task(before), overrides_by_task(after)
    assert old_ov.keys() == new_ov.keys()
    for name, (r1, e1) in old_ov.items():
        r2, e2 = new_ov[name]
        site = site_for(result, name, _OVERRIDE_KINDS)
        if site is not None and site.decided_by_policy:
            assert normalized(r2, e2, kubernetes_defaults=True) == normalized(r1, e1, kubernetes_defaults=True)
        else:
            assert _exact(r2, e2) == _exact(r1, e1), name


# ---------------------------------------------------------------------------------------------
# --target flyte: flyte's serialization under the converter contract


def _merged(
    task: tuple[ours.Resources, ours.ExtendedResources | None], override: tuple[ours.Resources, ours.ExtendedResources]
) -> tuple[ours.Resources, ours.ExtendedResources | None]:
    """What the v1 backend runs: the override merged per key onto the task (docs/semantics.md, sections 1.7 and 3.4)."""
    (res, ext), (ov_res, ov_ext) = task, override
    requests = {e.name: e.value for e in res.requests} | {e.name: e.value for e in ov_res.requests}
    limits = {e.name: e.value for e in res.limits} | {e.name: e.value for e in ov_res.limits}
    merged = ours.Resources(
        requests=[ours.Resources.ResourceEntry(name=k, value=v) for k, v in requests.items()],
        limits=[ours.Resources.ResourceEntry(name=k, value=v) for k, v in limits.items()],
    )
    out_ext = ours.ExtendedResources()
    if ext is not None:
        out_ext.CopyFrom(ext)
    if ov_ext.HasField("gpu_accelerator"):
        out_ext.gpu_accelerator.CopyFrom(ov_ext.gpu_accelerator)
    if ov_ext.HasField("shared_memory"):
        out_ext.shared_memory.CopyFrom(ov_ext.shared_memory)
    return merged, out_ext


def _contract(site: Site, v1: tuple[Any, Any], v2: tuple[Any, Any]) -> None:
    k8s = site.decided_by_policy
    left = normalized(*v1, kubernetes_defaults=k8s)
    right = normalized(*v2, kubernetes_defaults=k8s)
    if any(f.rule == "zero-gpu" for f in site.findings):
        # gpu "0" is a request entry in v1 and nothing in v2; the backend drops zeros.
        assert left.pop("gpu") == "0"
        right.pop("gpu")
    assert right == left, site.name


def _override_task(module: ModuleType, site: Site) -> Any:
    """Evaluate `task.override(resources=...)` from the rewritten call in the module's namespace."""
    assert site.new is not None
    call = cst.parse_expression(site.new)
    assert isinstance(call, cst.Call)
    override = cst.Module(body=[]).code_for_node(call.func)
    return eval(override, vars(module))  # noqa: S307 - our own generated expression, in a test


@pytest.mark.parametrize("policy", ["kubernetes", "strict"])
@pytest.mark.parametrize("stem", MODULES)
def test_flyte_target_serializes_like_the_original(stem: str, policy: str, tmp_path: pathlib.Path) -> None:
    before = _original(stem)
    after, result = _rewritten(stem, "flyte", policy, tmp_path)
    old_tasks = tasks_of(before)
    checked = 0
    for name, old in old_tasks.items():
        new = getattr(after, name)
        site = site_for(result, name, _TASK_KINDS)
        v1 = flytekit_task(old)
        if site is None and not isinstance(new, PythonTask):
            continue  # a task without resources moves with its module (test_migrate_program.py checks them)
        if site is None or site.action == "untouched":
            # Left as written: still the same flytekit task.
            assert isinstance(new, PythonTask), name
            assert _exact(*flytekit_task(new)[:2]) == _exact(*v1[:2]), name
            continue
        assert not (site.decided_by_policy and policy == "strict")
        _contract(site, v1[:2], flyte_task(new, tmp_path))
        checked += 1
    old_ov = overrides_by_task(before)
    for site in result.sites:
        if site.kind not in _OVERRIDE_KINDS or site.action != "rewritten":
            continue
        task = old_tasks[site.name]
        v1 = _merged(flytekit_task(task)[:2], old_ov[site.name])
        _contract(site, v1, flyte_task(_override_task(after, site), tmp_path))
        checked += 1
    rewritten = [s for s in result.sites if s.action == "rewritten"]
    assert checked == len(rewritten)


def test_the_corpus_exercises_every_outcome() -> None:
    """Both targets rewrite something and leave something, for reasons the report names."""
    seen: dict[tuple[str, str], set[str]] = {}
    for stem in MODULES:
        source = (CORPUS / f"{stem}.py").read_text()
        for target in ("flytekit", "flyte"):
            result = migrate_source(source, path=f"{stem}.py", target=target, partial=True)  # type: ignore[arg-type]
            for site in result.sites:
                seen.setdefault((target, site.action), set()).update(f.rule for f in site.findings)
    assert {"limit-without-request", "gpu-count-placement", "tpu-count", "conditional-kept", "override-merged"} <= (
        seen[("flyte", "rewritten")]
    )
    assert {
        "unpartitioned",
        "accelerator-without-count",
        "ephemeral-storage-limit",
        "not-static",
        "environment-dependent",
        "unsupported-argument",
        "unsupported-decorator",
        "unsupported-construct",
        "map-task-override",
        "chained-overrides",
    } <= seen[("flyte", "untouched")]
    assert "definition-rewritten" in seen[("flytekit", "rewritten")]
    # Wire-identical whatever the policy: a limit-only site stays (override-limit-merge is never reached).
    assert {"limit-without-request", "not-static"} <= seen[("flytekit", "untouched")]
