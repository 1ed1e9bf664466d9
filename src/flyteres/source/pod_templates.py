"""Resources written in a pod template's primary container (docs/patterns.md, P30).

    template = PodTemplate(primary_container_name="main", pod_spec=V1PodSpec(containers=[
        V1Container(name="main", resources=V1ResourceRequirements(limits={"memory": "4Gi"}))]))

Read statically, like every other value: `PodTemplate(...)` (flytekit's or
flyte's) with `pod_spec=V1PodSpec(containers=[V1Container(...), ...])` and
the primary container's `resources=V1ResourceRequirements(requests={...},
limits={...})` (or the same as a dict), inline or through module constants.
The result is the primary container's resources as a `ResourceSpec`, or the
reason they cannot be known (a template named by a string lives on the
cluster; one built by a function only exists when the code runs).

What the SDK then does with them differs (docs/semantics.md, section 1.4 and
row 33): flytekit replaces the container's resources with the task's when the
task sets any; Flyte 2 merges them, the task's keys winning.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from flyteres._errors import FlyteresError
from flyteres.core.spec import Resource, ResourceSpec
from flyteres.source.names import Local, ModuleNames
from flyteres.source.values import Evaluator, shorten

__all__ = ["TemplateResources", "read_pod_template", "under_template"]

# Kubernetes resource names of the container; any "<vendor>/gpu" (and the bare "gpu" flytekit writes) is the GPU.
_K8S_NAMES = {
    "cpu": Resource.CPU,
    "memory": Resource.MEMORY,
    "ephemeral-storage": Resource.EPHEMERAL_STORAGE,
    "gpu": Resource.GPU,
}


@dataclass(frozen=True)
class TemplateResources:
    """A pod template's primary-container resources (`spec`), or why they are not known; `primary`
    is the primary container's name. `missing`: the template lists containers but none by that
    name, which flytekit answers with an empty placeholder and flyte with a `ValueError`
    (docs/semantics.md, row 34)."""

    spec: ResourceSpec | None
    reason: str | None = None
    primary: str = "primary"
    missing: bool = False


def read_pod_template(values: Evaluator, names: ModuleNames, node: ast.expr, local: Local) -> TemplateResources:
    """The resources a `pod_template=` value gives the primary container."""
    try:
        return _Reader(values, names, local).template(node)
    except _UnknownError as exc:
        return TemplateResources(None, str(exc))


class _UnknownError(Exception):
    """Why the template's resources cannot be read statically."""


class _Reader:
    def __init__(self, values: Evaluator, names: ModuleNames, local: Local) -> None:
        self.values = values
        self.names = names
        self.local = local

    def resolve(self, node: ast.expr) -> ast.expr:
        """The expression a module constant stands for (a local name is not static)."""
        for _ in range(16):
            if not isinstance(node, ast.Name):
                return node
            if node.id in self.local:
                raise _UnknownError(f"{node.id!r} is bound in the enclosing function or class")
            exprs, why = self.values.binding_values(node.id)
            if exprs is None or len(exprs) != 1:
                raise _UnknownError(why or f"{node.id!r} is chosen at import time")
            node = exprs[0]
        raise _UnknownError("constants refer to each other too deeply")

    def call_to(self, node: ast.expr, name: str) -> ast.Call:
        node = self.resolve(node)
        qualified = self.names.qualified(node.func) if isinstance(node, ast.Call) else None
        last = qualified.rpartition(".")[2] if qualified else getattr(getattr(node, "func", None), "id", None)
        if not isinstance(node, ast.Call) or last != name:
            raise _UnknownError(f"not a {name}(...) written out ({shorten(self.values.code(node))})")
        return node

    def keyword(self, call: ast.Call, name: str) -> ast.expr | None:
        if any(k.arg is None for k in call.keywords) or any(isinstance(a, ast.Starred) for a in call.args):
            raise _UnknownError(f"unpacks arguments ({shorten(self.values.code(call))})")
        return next((k.value for k in call.keywords if k.arg == name), None)

    def string(self, node: ast.expr) -> str:
        values, reason, _ = self.values.read(node, self.local)
        if reason is not None or len(values) != 1 or not isinstance(values[0], str):
            raise _UnknownError(reason or f"not one string ({shorten(self.values.code(node))})")
        return values[0]

    def template(self, node: ast.expr) -> TemplateResources:
        node = self.resolve(node)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            raise _UnknownError(f"the pod template {node.value!r} is one the cluster holds; its resources are not here")
        call = node if isinstance(node, ast.Call) else None
        if call is not None and (self.names.qualified(call.func) or "").startswith("flytekitplugins.pod"):
            raise _UnknownError(
                "task_config=Pod(...) of flytekitplugins-pod (deprecated; flyteres does not replay its "
                "serializer): use pod_template=PodTemplate(...)"
            )
        if call is None or (
            self.names.canonical(call.func) != "PodTemplate" and self.names.flyte(call.func) != "PodTemplate"
        ):
            raise _UnknownError(f"not a PodTemplate(...) written out ({shorten(self.values.code(node))})")
        primary_node = self.keyword(call, "primary_container_name")
        primary = "primary" if primary_node is None else self.string(primary_node)
        pod_spec = self.keyword(call, "pod_spec")
        if pod_spec is None:
            return TemplateResources(ResourceSpec(), primary=primary)
        containers_node = self.keyword(self.call_to(pod_spec, "V1PodSpec"), "containers")
        if containers_node is None:
            return TemplateResources(ResourceSpec(), primary=primary)
        containers = self.resolve(containers_node)
        if not isinstance(containers, (ast.List, ast.Tuple)):
            raise _UnknownError(f"containers= is not a list written out ({shorten(self.values.code(containers))})")
        if not containers.elts:  # flyte adds the primary container to an empty list, like flytekit
            return TemplateResources(ResourceSpec(), primary=primary)
        for item in containers.elts:
            container = self.call_to(item, "V1Container")
            name = self.keyword(container, "name")
            if name is None or self.string(name) != primary:
                continue
            resources = self.keyword(container, "resources")
            spec = ResourceSpec() if resources is None else self.requirements(resources)
            return TemplateResources(spec, primary=primary)
        return TemplateResources(ResourceSpec(), primary=primary, missing=True)

    def requirements(self, node: ast.expr) -> ResourceSpec:
        node = self.resolve(node)
        sides: dict[str, ast.expr | None] = {"requests": None, "limits": None}
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value in sides:
                    sides[key.value] = value
        else:
            call = self.call_to(node, "V1ResourceRequirements")
            sides = {side: self.keyword(call, side) for side in sides}
        read: dict[str, dict[Resource, str]] = {}
        for side, given in sides.items():
            read[side] = {} if given is None else self.quantities(given)
        try:
            return ResourceSpec(requests=read["requests"], limits=read["limits"])
        except FlyteresError as exc:
            raise _UnknownError(str(exc)) from None

    def quantities(self, node: ast.expr) -> dict[Resource, str]:
        node = self.resolve(node)
        if not isinstance(node, ast.Dict):
            raise _UnknownError(f"not a dict written out ({shorten(self.values.code(node))})")
        out: dict[Resource, str] = {}
        for key, value in zip(node.keys, node.values, strict=True):
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                raise _UnknownError("a resource name that is not a string written out")
            name = key.value
            resource = _K8S_NAMES.get(name) or (Resource.GPU if name.endswith("/gpu") else None)
            if resource is None:
                continue  # hugepages-*, vendor resources: not what flyteres models
            out[resource] = self.string(value)
        return out


def under_template(template: ResourceSpec, task: ResourceSpec) -> ResourceSpec:
    """Flyte 2's primary container: the template's requests and limits, the task's keys winning
    (docs/semantics.md, row 33); the accelerator and shared memory are the task's.

    Raises `ResourceSpecError` when the result is not valid (a request left above a limit).
    """
    requests = {**template.requests, **task.requests}
    limits = {**template.limits, **task.limits}
    return ResourceSpec(
        requests=requests,
        limits=limits,
        accelerator=task.accelerator,
        shared_memory=task.shared_memory,
        findings=task.findings,
    )
