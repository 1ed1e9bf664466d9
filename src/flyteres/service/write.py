"""Building responses: the library's results as the service's messages.

`build_response` writes every output form a ConvertOptions asks for, each
with the findings of its own conversion; `accelerator_to_pb` writes a catalog
entry. Every rule lives in the library (`to_idl`, `convert_to_k8s`,
`flyte_arguments`, `flytekit_arguments`, the catalog); this module only moves
values into messages.
"""

from __future__ import annotations

from typing import TypeVar

from flyteres import accelerators
from flyteres.convert._shared import STRICT_RAISES
from flyteres.convert.flyte import flyte_arguments
from flyteres.convert.flytekit import FlytekitArguments, flytekit_arguments
from flyteres.convert.idl import to_idl, to_idl_spec
from flyteres.convert.k8s import convert_to_k8s
from flyteres.convert.source import flytekit_arguments_source
from flyteres.core.findings import Conversion, Finding
from flyteres.core.options import IdlTarget
from flyteres.core.spec import ResourceSpec
from flyteres.service import enums
from flyteres.service.errors import UnavailableError
from flyteres.service.read import Options
from flyteres_pb.v2 import service_pb2

_T = TypeVar("_T")


def finding_to_pb(f: Finding) -> service_pb2.Finding:
    """The flyteres.v2.Finding message of a library finding.

    The library's actions are texts per policy, "raises LossyConversionError"
    where the policy cannot convert it; on the wire that is `lossy` (the
    output is withheld), so a caller in any language can act on it.
    """
    actions = []
    for policy, number in enums.POLICY.items():
        action = f.actions.get(policy.value)
        if action is None:
            continue
        lossy = action == STRICT_RAISES
        actions.append(service_pb2.PolicyAction(policy=number, lossy=lossy, action="" if lossy else action))
    return service_pb2.Finding(
        rule=enums.RULE.get(f.rule, service_pb2.RULE_UNSPECIFIED),
        field=f.field,
        value=f.value,
        reason=f.reason,
        actions=actions,
        lossy=f.lossy,
    )


def _idl_output(out: service_pb2.IdlOutput, spec: ResourceSpec, target: IdlTarget) -> None:
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


def _own(conversion: Conversion[_T], spec: ResourceSpec) -> list[Finding]:
    # The library repeats what reading noticed in every conversion; the
    # response lists those once, at the top.
    return [f for f in conversion.findings if f not in spec.findings]


def _with_findings(
    out: service_pb2.KubernetesOutput | service_pb2.SourceOutput, conversion: Conversion[_T], spec: ResourceSpec
) -> bool:
    out.findings.extend(finding_to_pb(f) for f in _own(conversion, spec))
    out.lossy = bool(conversion.lossy)
    return out.lossy


def _k8s_output(out: service_pb2.KubernetesOutput, spec: ResourceSpec, options: Options) -> bool:
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
            empty_dir=service_pb2.KubernetesEmptyDirVolumeSource(
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


def _flyte_output(out: service_pb2.SourceOutput, spec: ResourceSpec, options: Options) -> bool:
    conversion = flyte_arguments(spec, policy=options.policy, device_labels=options.device_labels)
    if _with_findings(out, conversion, spec):
        return True
    out.source = conversion.value.source()
    return False


def _flytekit_output(out: service_pb2.SourceOutput, spec: ResourceSpec, options: Options) -> bool:
    conversion = flytekit_arguments(spec, policy=options.policy, form=options.form, device_labels=options.device_labels)
    if _with_findings(out, conversion, spec):
        return True
    out.source = flytekit_source(conversion.value)
    return False


def build_response(spec: ResourceSpec, options: Options) -> service_pb2.ConvertResponse:
    """The ConvertResponse for a spec that was read successfully."""
    response = service_pb2.ConvertResponse(spec=to_idl_spec(spec))
    response.findings.extend(finding_to_pb(f) for f in spec.findings)
    wanted = options.outputs
    for target, out in (
        (IdlTarget.FLYTERES, response.flyteres),
        (IdlTarget.FLYTEIDL, response.flyteidl),
        (IdlTarget.FLYTEIDL2, response.flyteidl2),
    ):
        if enums.IDL_OUTPUT[target] in wanted:
            _idl_output(out, spec, target)
    lossy = False
    if service_pb2.OUTPUT_FORM_KUBERNETES in wanted:
        lossy |= _k8s_output(response.kubernetes, spec, options)
    if service_pb2.OUTPUT_FORM_FLYTE_SOURCE in wanted:
        lossy |= _flyte_output(response.flyte, spec, options)
    if service_pb2.OUTPUT_FORM_FLYTEKIT_SOURCE in wanted:
        lossy |= _flytekit_output(response.flytekit, spec, options)
    response.lossy = lossy
    return response


def accelerator_to_pb(entry: accelerators.Accelerator) -> service_pb2.Accelerator:
    """The flyteres.v2.Accelerator message of a catalog entry (the fields of its `to_dict`).

    None leaves a field unset: the model by its value name, the strings empty.
    """
    return service_pb2.Accelerator(
        name=entry.name,
        device_class=enums.DEVICE_CLASS[entry.device_class],
        accelerator_model=entry.accelerator_model,
        model_name=entry.model_name,
        flytekit_constant=entry.flytekit_constant,
        v1_device=entry.v1_device,
        v1_partitions=entry.v1_partitions,
        v2_name=entry.v2_name,
        v2_device=entry.v2_device,
        v2_helper=entry.v2_helper,
        v2_quantities=entry.v2_quantities,
        max_quantity=entry.max_quantity,
        partition_kind=entry.partition_kind,
        partitions=entry.partitions,
        aliases=entry.aliases,
        deprecated_aliases=entry.deprecated_aliases,
        node_labels=[service_pb2.NodeLabel(key=n.key, value=n.value) for n in entry.node_labels],
        shared=entry.shared,
        shared_of=entry.shared_of,
        notes=entry.notes,
        is_custom=entry.is_custom,
    )


__all__ = [
    "accelerator_to_pb",
    "build_response",
    "finding_to_pb",
    "flytekit_source",
]
