"""`flyteres convert`: one spec in, another form out, findings on stderr.

Kept apart from cli.py so the command's reading and writing can be tested
without a terminal; the CLI only maps options and exit codes.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Any

from google.protobuf import json_format

from flyteres._errors import ResourceSpecError
from flyteres._pb import ExtendedResourcesPb, ResourcesPb
from flyteres.convert.flyte import flyte_arguments
from flyteres.convert.flytekit import flytekit_arguments, from_flytekit
from flyteres.convert.idl import from_idl, to_idl
from flyteres.convert.k8s import convert_to_k8s
from flyteres.core.findings import Conversion, Finding
from flyteres.core.options import DeviceLabels, FlytekitForm, IdlTarget, Policy
from flyteres.core.spec import ResourceSpec


class Input(str, Enum):
    """What `--from` reads."""

    SPEC = "spec"
    FLYTEKIT = "flytekit"
    IDL = "idl"


class Output(str, Enum):
    """What `--to` writes."""

    FLYTE = "flyte"
    FLYTEKIT = "flytekit"
    FLYTEKIT_RESOURCES = "flytekit-resources"
    SPEC = "spec"
    K8S = "k8s"
    FLYTEIDL = "flyteidl"
    FLYTEIDL2 = "flyteidl2"


def read(text: str, source: Input) -> ResourceSpec:
    """Parse the input document into a spec.

    spec: ResourceSpec JSON. flytekit: `{"requests": {...}, "limits": {...},
    "resources": {...}, "accelerator": "A100.partition_1g_5gb", "shared_memory": true}`.
    idl: `{"resources": <Resources JSON>, "extendedResources": <ExtendedResources JSON>}`
    in proto3 JSON (flyteidl2's and ours are the same).
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResourceSpecError("input", text[:40], f"not valid JSON: {exc}") from None
    if source is Input.SPEC:
        return ResourceSpec.from_dict(data)
    if not isinstance(data, dict):
        raise ResourceSpecError("input", data, "must be a JSON object")
    if source is Input.FLYTEKIT:
        allowed = {"requests", "limits", "resources", "accelerator", "shared_memory"}
        extra = sorted(set(data) - allowed)
        if extra:
            raise ResourceSpecError(
                "input", extra, f"unknown keys; flytekit arguments are {', '.join(sorted(allowed))}"
            )
        return from_flytekit(**data)
    extra = sorted(set(data) - {"resources", "extendedResources"})
    if extra:
        raise ResourceSpecError("input", extra, "unknown keys; expected resources and extendedResources")
    try:
        res = json_format.ParseDict(data.get("resources", {}), ResourcesPb())
        ext = (
            json_format.ParseDict(data["extendedResources"], ExtendedResourcesPb())
            if "extendedResources" in data
            else None
        )
    except json_format.ParseError as exc:
        raise ResourceSpecError("input", data, f"not proto3 JSON of Resources/ExtendedResources: {exc}") from None
    return from_idl(res, ext)


def write(spec: ResourceSpec, target: Output, *, policy: Policy, device_labels: DeviceLabels) -> Conversion[str]:
    """Render `spec` as `target`; lossy findings leave the text empty."""
    if target is Output.SPEC:
        return Conversion(spec.to_json(indent=2), spec.findings)
    if target is Output.FLYTE:
        flyte = flyte_arguments(spec, policy=policy, device_labels=device_labels)
        return Conversion("" if flyte.lossy else flyte.value.source(), flyte.findings)
    if target in (Output.FLYTEKIT, Output.FLYTEKIT_RESOURCES):
        form = FlytekitForm.RESOURCES if target is Output.FLYTEKIT_RESOURCES else FlytekitForm.SPLIT
        kit = flytekit_arguments(spec, policy=policy, form=form, device_labels=device_labels)
        text = "" if kit.lossy else kit.value.source()
        if text is None:
            text = "# this accelerator has no flytekit constant; use flyteres.to_flytekit() to build it"
        return Conversion(text, kit.findings)
    if target is Output.K8S:
        k8s = convert_to_k8s(spec, policy=policy)
        return Conversion("" if k8s.lossy else json.dumps(k8s.value, indent=2), k8s.findings)
    res, ext = to_idl(spec, IdlTarget.FLYTEIDL if target is Output.FLYTEIDL else IdlTarget.FLYTEIDL2)
    doc: dict[str, Any] = {"resources": json_format.MessageToDict(res)}
    if ext is not None:
        doc["extendedResources"] = json_format.MessageToDict(ext)
    return Conversion(json.dumps(doc, indent=2), spec.findings)


def describe(finding: Finding) -> str:
    mark = "LOSSY" if finding.lossy else "note"
    return f"{mark}: {finding}"
