"""`flyteres convert`: one spec in, another form out, findings on stderr.

`read` and `write` hold the conversion so it can be tested without a
terminal; the command only maps options and exit codes. The converters (and
protobuf's JSON mapping, for the IDL forms only) load inside them, so
registering the command costs the CLI nothing at start-up.
"""

from __future__ import annotations

import json
import sys
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from flyteres._errors import FlyteresError, ResourceSpecError
from flyteres.core.options import DeviceLabels, FlytekitForm, IdlTarget, Policy

if TYPE_CHECKING:
    from flyteres.core.findings import Conversion, Finding
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


def convert(
    path: Annotated[str, typer.Argument(help="Input file, or - for standard input.")] = "-",
    source: Annotated[
        str, typer.Option("--from", help="Input form: spec (ResourceSpec JSON), flytekit (arguments as JSON), idl.")
    ] = "spec",
    target: Annotated[
        str,
        typer.Option(
            "--to", help="Output: flyte, flytekit, flytekit-resources, spec, k8s, flyteidl or flyteidl2 (JSON)."
        ),
    ] = "flyte",
    policy: Annotated[
        str, typer.Option(help="strict: refuse anything lossy; kubernetes: decide as Kubernetes does.")
    ] = "strict",
    device_labels: Annotated[
        str, typer.Option(help="keep: the exact node label; idiomatic: the target SDK's own device name.")
    ] = "keep",
) -> None:
    """Convert one resource spec between forms. Findings go to stderr.

    Exit codes: 0 converted, 1 lossy under the policy (nothing written), 2 invalid input.
    """
    # Plain strings checked here rather than Enum options: the error names the
    # option and every choice in the same words the other input errors use.
    choices: dict[str, tuple[str, type[Enum]]] = {
        "--from": (source, Input),
        "--to": (target, Output),
        "--policy": (policy, Policy),
        "--device-labels": (device_labels, DeviceLabels),
    }
    for option, (value, allowed) in choices.items():
        if value not in [m.value for m in allowed]:
            typer.echo(f"error: {option} {value!r}: choose one of {', '.join(m.value for m in allowed)}", err=True)
            raise typer.Exit(2)
    try:
        text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()  # noqa: SIM115
        spec = read(text, Input(source))
        result = write(spec, Output(target), policy=Policy(policy), device_labels=DeviceLabels(device_labels))
    except (OSError, FlyteresError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    for finding in result.findings:
        typer.echo(describe(finding), err=True)
    if result.lossy:
        typer.echo(f"error: not converted: {len(result.lossy)} lossy finding(s) under policy {policy!r}", err=True)
        raise typer.Exit(1)
    typer.echo(result.value)


def read(text: str, source: Input) -> ResourceSpec:
    """Parse the input document into a spec.

    spec: ResourceSpec JSON. flytekit: `{"requests": {...}, "limits": {...},
    "resources": {...}, "accelerator": "A100.partition_1g_5gb", "shared_memory": true}`.
    idl: `{"resources": <Resources JSON>, "extendedResources": <ExtendedResources JSON>}`
    in proto3 JSON (flyteidl2's and ours are the same).
    """
    from flyteres.core.spec import ResourceSpec  # noqa: PLC0415 - see the module docstring

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResourceSpecError("input", text[:40], f"not valid JSON: {exc}") from None
    if source is Input.SPEC:
        return ResourceSpec.from_dict(data)
    if not isinstance(data, dict):
        raise ResourceSpecError("input", data, "must be a JSON object")
    if source is Input.FLYTEKIT:
        from flyteres.convert.flytekit import from_flytekit  # noqa: PLC0415

        allowed = {"requests", "limits", "resources", "accelerator", "shared_memory"}
        extra = sorted(set(data) - allowed)
        if extra:
            raise ResourceSpecError(
                "input", extra, f"unknown keys; flytekit arguments are {', '.join(sorted(allowed))}"
            )
        return from_flytekit(**data)
    from google.protobuf import json_format  # noqa: PLC0415

    from flyteres._pb import ExtendedResourcesPb, ResourcesPb  # noqa: PLC0415
    from flyteres.convert.idl import from_idl  # noqa: PLC0415

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
    from flyteres.core.findings import Conversion  # noqa: PLC0415 - see the module docstring

    match target:
        case Output.SPEC:
            return Conversion(spec.to_json(indent=2), spec.findings)
        case Output.FLYTE:
            from flyteres.convert.flyte import flyte_arguments  # noqa: PLC0415

            flyte = flyte_arguments(spec, policy=policy, device_labels=device_labels)
            return Conversion("" if flyte.lossy else flyte.value.source(), flyte.findings)
        case Output.FLYTEKIT | Output.FLYTEKIT_RESOURCES:
            from flyteres.convert.flytekit import flytekit_arguments  # noqa: PLC0415

            form = FlytekitForm.RESOURCES if target is Output.FLYTEKIT_RESOURCES else FlytekitForm.SPLIT
            kit = flytekit_arguments(spec, policy=policy, form=form, device_labels=device_labels)
            text = "" if kit.lossy else kit.value.source()
            if text is None:
                text = "# this accelerator has no flytekit constant; use flyteres.to_flytekit() to build it"
            return Conversion(text, kit.findings)
        case Output.K8S:
            from flyteres.convert.k8s import convert_to_k8s  # noqa: PLC0415

            k8s = convert_to_k8s(spec, policy=policy)
            return Conversion("" if k8s.lossy else json.dumps(k8s.value, indent=2), k8s.findings)
        case Output.FLYTEIDL | Output.FLYTEIDL2:
            from google.protobuf import json_format  # noqa: PLC0415

            from flyteres.convert.idl import to_idl  # noqa: PLC0415

            res, ext = to_idl(spec, IdlTarget.FLYTEIDL if target is Output.FLYTEIDL else IdlTarget.FLYTEIDL2)
            doc: dict[str, Any] = {"resources": json_format.MessageToDict(res)}
            if ext is not None:
                doc["extendedResources"] = json_format.MessageToDict(ext)
            return Conversion(json.dumps(doc, indent=2), spec.findings)


def describe(finding: Finding) -> str:
    """One finding as the line the command prints on stderr."""
    mark = "LOSSY" if finding.lossy else "note"
    return f"{mark}: {finding}"
