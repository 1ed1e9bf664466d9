"""Building responses: the library's results as the service's messages.

`build_response` writes every output form a ConvertOptions asks for, each
with the findings of its own conversion; `accelerator_to_pb` writes a catalog
entry. Every rule lives in the library (`to_idl`, `convert_to_k8s`,
`flyte_arguments`, `flytekit_arguments`, the catalog); this module only moves
values into messages.
"""

from __future__ import annotations

from typing import Any

from flyteres import accelerators
from flyteres.convert.flyte import flyte_arguments
from flyteres.convert.flytekit import FlytekitArguments, flytekit_arguments
from flyteres.convert.idl import to_idl, to_idl_spec
from flyteres.convert.k8s import convert_to_k8s
from flyteres.convert.source import flytekit_arguments_source
from flyteres.core.findings import Conversion, Finding
from flyteres.core.options import IdlTarget
from flyteres.core.spec import ResourceSpec
from flyteres.service.errors import UnavailableError
from flyteres.service.read import Options
from flyteres_pb.v1 import resources_pb2, service_pb2

pb: Any = service_pb2
res_pb: Any = resources_pb2


def finding_to_pb(f: Finding) -> Any:
    return pb.Finding(
        rule=f.rule.value, field=f.field, value=f.value, reason=f.reason, actions=f.actions, lossy=f.lossy
    )


_IDL_FORMS: tuple[tuple[int, IdlTarget], ...] = (
    (1, IdlTarget.FLYTERES),
    (2, IdlTarget.FLYTEIDL),
    (3, IdlTarget.FLYTEIDL2),
)


def _idl_output(out: Any, spec: ResourceSpec, target: IdlTarget) -> None:
    try:
        res, ext = to_idl(spec, target)
    except ImportError as exc:
        raise UnavailableError(
            f"the {target} output needs {exc.name} on the server: pip install 'flyteres[idl]'"
        ) from None
    data = res.SerializeToString()
    out.resources_binary = data
    out.resources.MergeFromString(data)
    if ext is not None:
        data = ext.SerializeToString()
        out.extended_resources_binary = data
        out.extended_resources.MergeFromString(data)


def _own(conversion: Conversion[Any], spec: ResourceSpec) -> list[Finding]:
    # The library repeats what reading noticed in every conversion; the
    # response lists those once, at the top.
    return [f for f in conversion.findings if f not in spec.findings]


def _with_findings(out: Any, conversion: Conversion[Any], spec: ResourceSpec) -> bool:
    out.findings.extend(finding_to_pb(f) for f in _own(conversion, spec))
    out.lossy = bool(conversion.lossy)
    return out.lossy  # type: ignore[no-any-return]


def _k8s_output(out: Any, spec: ResourceSpec, options: Options) -> bool:
    conversion = convert_to_k8s(spec, policy=options.policy)
    if _with_findings(out, conversion, spec):
        return True
    value = conversion.value
    k = out.value
    k.resources.SetInParent()
    resources = value.get("resources", {})
    k.resources.requests.update(resources.get("requests", {}))
    k.resources.limits.update(resources.get("limits", {}))
    for volume in value.get("volumes", ()):
        empty_dir = volume["emptyDir"]
        k.volumes.add(
            name=volume["name"],
            empty_dir=pb.KubernetesEmptyDirVolumeSource(
                medium=empty_dir.get("medium", ""), size_limit=empty_dir.get("sizeLimit", "")
            ),
        )
    for mount in value.get("volumeMounts", ()):
        k.volume_mounts.add(name=mount["name"], mount_path=mount["mountPath"])
    return False


def flytekit_source(args: FlytekitArguments) -> str:
    """The keyword arguments of `@task(...)` as Python source.

    Names are those of `from flytekit import Resources` and
    `from flytekit.extras.accelerators import ...`; a partition of a device with
    no constant is written as the class the library builds for it.

    >>> flytekit_source(FlytekitArguments(requests={"cpu": "1"}, shared_memory=True))
    "requests=Resources(cpu='1'), shared_memory=True"
    """
    source = flytekit_arguments_source(args, exact=True)
    assert source is not None  # exact=True spells every accelerator
    return source


def _flyte_output(out: Any, spec: ResourceSpec, options: Options) -> bool:
    conversion = flyte_arguments(spec, policy=options.policy, device_labels=options.device_labels)
    if _with_findings(out, conversion, spec):
        return True
    out.source = conversion.value.source()
    return False


def _flytekit_output(out: Any, spec: ResourceSpec, options: Options) -> bool:
    conversion = flytekit_arguments(spec, policy=options.policy, form=options.form, device_labels=options.device_labels)
    if _with_findings(out, conversion, spec):
        return True
    out.source = flytekit_source(conversion.value)
    return False


def build_response(spec: ResourceSpec, options: Options) -> Any:
    """The ConvertResponse for a spec that was read successfully."""
    response = pb.ConvertResponse(spec=to_idl_spec(spec), spec_json=spec.to_json())
    response.findings.extend(finding_to_pb(f) for f in spec.findings)
    wanted = options.outputs
    for form, target in _IDL_FORMS:
        if form in wanted:
            _idl_output(getattr(response, target), spec, target)
    lossy = False
    if 4 in wanted:
        lossy |= _k8s_output(response.kubernetes, spec, options)
    if 5 in wanted:
        lossy |= _flyte_output(response.flyte, spec, options)
    if 6 in wanted:
        lossy |= _flytekit_output(response.flytekit, spec, options)
    response.lossy = lossy
    return response


def accelerator_to_pb(entry: accelerators.Accelerator) -> Any:
    """The flyteres.v1.Accelerator message of a catalog entry (fields as in `to_dict`)."""
    d = entry.to_dict()
    m = pb.Accelerator(
        name=d["name"],
        device_class=d["device_class"],
        v1_partitions=d["v1_partitions"],
        v2_quantities=d["v2_quantities"],
        partitions=d["partitions"],
        aliases=d["aliases"],
        deprecated_aliases=d["deprecated_aliases"],
        node_labels=[pb.NodeLabel(key=n["key"], value=n["value"]) for n in d["node_labels"]],
        shared=d["shared"],
        notes=d["notes"],
        is_custom=d["is_custom"],
    )
    if d["accelerator_model"] is not None:
        m.accelerator_model = res_pb.AcceleratorModel.Value(d["accelerator_model"])
    for name in ("model_name", "flytekit_constant", "v1_device", "v2_name", "v2_device", "v2_helper"):
        if d[name] is not None:
            setattr(m, name, d[name])
    for name in ("partition_kind", "shared_of"):
        if d[name] is not None:
            setattr(m, name, d[name])
    if d["max_quantity"] is not None:
        m.max_quantity = d["max_quantity"]
    return m


__all__ = [
    "accelerator_to_pb",
    "build_response",
    "finding_to_pb",
    "flytekit_source",
]
