"""`flyteres convert`: one spec in, another form out, findings on stderr.

`read` and `write` hold the conversion so it can be tested without a
terminal; the command only maps options and exit codes. The converters (and
protobuf's JSON mapping, for the IDL forms only) load inside them, so
registering the command costs the CLI nothing at start-up.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from flyteres._errors import FlyteresError, ResourceSpecError
from flyteres.cli.common import (
    VERBOSITY,
    ConfigOption,
    IsolatedOption,
    OutputFormatOption,
    QuietOption,
    VerboseOption,
    emit,
    given,
    load_settings,
    output_format,
    select,
)
from flyteres.core.options import DeviceLabels, FlytekitForm, IdlTarget, Policy
from flyteres.report.formats import OutputFormat

if TYPE_CHECKING:
    from flyteres.core.findings import Conversion, Finding
    from flyteres.core.spec import ResourceSpec
    from flyteres.report.config import Config
    from flyteres.report.model import Issue


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


_POLICY_HELP = (
    "strict: refuse anything lossy (nothing is written, exit 1); kubernetes: decide as Kubernetes does at run "
    "time and report each decision. convert defaults to strict: it turns one spec you are looking at, so a "
    "lossy finding should stop it and show you why; migrate, which rewrites a whole tree, defaults to "
    "kubernetes and lists every site the policy decided. tool.flyteres.policy in pyproject.toml sets both."
)


def convert(  # noqa: PLR0917 - Typer maps each parameter to an argument or option
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(help="Input file, or - for standard input.", metavar="path")] = "-",
    source: Annotated[
        str,
        typer.Option(
            "--from",
            metavar="<spec|flytekit|idl>",
            autocompletion=lambda: [m.value for m in Input],
            help="Input form: spec (ResourceSpec JSON), flytekit (arguments as JSON), idl.",
        ),
    ] = "spec",
    target: Annotated[
        str,
        typer.Option(
            "--to",
            metavar="<" + "|".join(m.value for m in Output) + ">",
            autocompletion=lambda: [m.value for m in Output],
            help="Output: Flyte 2 or flytekit arguments, the ResourceSpec, Kubernetes resources, or flyteidl or "
            "flyteidl2 messages (JSON). tool.flyteres.target in pyproject.toml sets it.",
        ),
    ] = "flyte",
    policy: Annotated[
        str,
        typer.Option(
            metavar="<strict|kubernetes>", help=_POLICY_HELP, autocompletion=lambda: [m.value for m in Policy]
        ),
    ] = "strict",
    device_labels: Annotated[
        str,
        typer.Option(
            metavar="<keep|idiomatic>",
            autocompletion=lambda: [m.value for m in DeviceLabels],
            help="keep: the exact node label; idiomatic: the target SDK's own device name.",
        ),
    ] = "keep",
    output: OutputFormatOption = OutputFormat.TEXT,
    config_file: ConfigOption = None,
    isolated: IsolatedOption = False,
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    """Convert one resource spec between forms. Findings go to stderr.

    Only findings about the requested target are reported (a note on what Flyte 2 needs is not printed
    when converting to flyteidl). With --output-format json the converted value is inside the JSON;
    github and sarif print the findings only.

    Exit codes: 0 converted, 1 lossy under the policy (nothing written), 2 invalid input (one line on
    stderr; this includes input that is not UTF-8 JSON or is larger than 1 MiB).
    """
    # The configuration is looked up from the input file (the working directory for stdin).
    settings = load_settings([path], config_file, isolated)
    if settings.target and not given(ctx, "target"):
        target = settings.target
    if settings.policy and not given(ctx, "policy"):
        policy = settings.policy
    fmt = output_format(ctx, output, False, settings)
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
        spec = read(load(path), Input(source))
        result = write(spec, Output(target), policy=Policy(policy), device_labels=DeviceLabels(device_labels))
    except FlyteresError as err:
        typer.echo(f"error: {one_line(str(err))}", err=True)
        raise typer.Exit(2) from None
    except RecursionError:  # a document nested deeper than Python's stack, caught wherever it is walked
        typer.echo("error: input: nested too deeply to be a resource spec", err=True)
        raise typer.Exit(2) from None
    code = 1 if result.lossy else 0
    if fmt is not OutputFormat.TEXT:
        options = {"from": source, "to": target, "policy": policy, "device_labels": device_labels}
        _report(result, fmt, path=path, settings=settings, code=code, options=options)
        raise typer.Exit(code)
    # Most conversions report nothing: the selection (and its module) is only built for findings.
    selected = select(issues(result.findings, path), settings) if result.findings else None
    kept = set() if selected is None else {(i.rule, i.message) for i in selected.kept}
    for finding in result.findings:
        if (finding.rule.value, _message(finding)) in kept and not (VERBOSITY.quiet and not finding.lossy):
            typer.echo(describe(finding), err=True)
    if result.lossy:
        typer.echo(f"error: not converted: {len(result.lossy)} lossy finding(s) under policy {policy!r}", err=True)
        raise typer.Exit(1)
    typer.echo(result.value)


def issues(findings: Sequence[Finding], path: str) -> list[Issue]:
    """Conversion findings as `Issue`s: an error when lossy, a note when every policy does the same, else a warning."""
    from flyteres.report.model import Issue, Level  # noqa: PLC0415 - loaded only when findings are reported

    out = []
    for f in findings:
        level = Level.ERROR if f.lossy else Level.NOTE if len(set(f.actions.values())) <= 1 else Level.WARNING
        out.append(Issue(f.rule.value, level, _message(f), None if path == "-" else path, title=f.field))
    return out


def _message(finding: Finding) -> str:
    text = str(finding)
    prefix = f"[{finding.rule.value}] "
    return text[len(prefix) :] if text.startswith(prefix) else text


def _report(
    result: Conversion[str], fmt: OutputFormat, *, path: str, settings: Config, code: int, options: dict[str, str]
) -> None:
    """The conversion in a machine format: JSON (with the value), GitHub annotations or SARIF."""
    selected = select(issues(result.findings, path), settings)
    body = {
        "input": path,
        **options,
        "converted": not result.lossy,
        "value": None if result.lossy else result.value,
        "conversion_findings": [f.to_dict() for f in result.findings],
    }
    summary = f"not converted: {len(result.lossy)} lossy finding(s)" if result.lossy else None
    emit("convert", fmt, selected, text=list, body=lambda: body, summary=summary, code=code)


#: The largest input `convert` reads. A resource spec is a few hundred bytes; anything near
#: this is not one, and reading it whole would cost memory for nothing.
MAX_INPUT = 1 << 20
#: The longest error line the command prints.
MAX_LINE = 400


def load(path: str) -> str:
    """The input document (a file, or standard input for "-") as text, or ResourceSpecError:
    unreadable, larger than MAX_INPUT bytes, or not UTF-8."""
    name = "<stdin>" if path == "-" else path
    data: bytes
    try:
        if path == "-":
            stream = getattr(sys.stdin, "buffer", None)
            if stream is None:  # a text-only stdin (as test runners give): already decoded
                return _bounded(sys.stdin.read(MAX_INPUT + 1), name)
            data = stream.read(MAX_INPUT + 1)
        else:
            with open(path, "rb") as file:
                data = file.read(MAX_INPUT + 1)
    except OSError as exc:
        raise ResourceSpecError("input", name, f"cannot be read: {exc.strerror or exc}") from None
    _bounded(data, name)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ResourceSpecError(
            "input", name, f"not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start}); expected JSON"
        ) from None


def _bounded(data: str | bytes, name: str) -> str:
    if len(data) > MAX_INPUT:
        raise ResourceSpecError(
            "input", name, f"larger than {MAX_INPUT} bytes; a resource spec is a few hundred bytes of JSON"
        )
    return data if isinstance(data, str) else ""


def one_line(message: str) -> str:
    """`message` as one bounded line: the command prints one line per error."""
    line = " ".join(message.split())
    return line if len(line) <= MAX_LINE else f"{line[: MAX_LINE - 20]}... [{len(line)} characters]"


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
    except ValueError:  # Python's own bound on reading huge integers (sys.int_info.default_max_str_digits)
        raise ResourceSpecError(
            "input", text[:40], "a number in it has more digits than Python reads (4300); no quantity needs them"
        ) from None
    except RecursionError:
        raise ResourceSpecError("input", text[:40], "nested too deeply to be a resource spec") from None
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
    for key in ("resources", "extendedResources"):
        if not isinstance(data.get(key, {}), dict):
            raise ResourceSpecError(f"input.{key}", data[key], "must be a JSON object (proto3 JSON of the message)")
    try:
        res = json_format.ParseDict(data.get("resources", {}), ResourcesPb())
        ext = (
            json_format.ParseDict(data["extendedResources"], ExtendedResourcesPb())
            if "extendedResources" in data
            else None
        )
    except (json_format.ParseError, TypeError, ValueError) as exc:
        raise ResourceSpecError("input", data, f"not proto3 JSON of Resources/ExtendedResources: {exc}") from None
    return from_idl(res, ext)


def write(spec: ResourceSpec, target: Output, *, policy: Policy, device_labels: DeviceLabels) -> Conversion[str]:
    """Render `spec` as `target`; lossy findings leave the text empty."""
    from flyteres.core.findings import Conversion, reading_findings  # noqa: PLC0415 - see the module docstring

    match target:
        case Output.SPEC:
            # A note made while reading that concerns one SDK (Flyte 2 takes an int) is not about the spec.
            return Conversion(spec.to_json(indent=2), tuple(reading_findings(spec.findings, "spec")))
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
            return Conversion(json.dumps(doc, indent=2), tuple(reading_findings(spec.findings, "idl")))


def describe(finding: Finding) -> str:
    """One finding as the line the command prints on stderr."""
    mark = "LOSSY" if finding.lossy else "note"
    return f"{mark}: {finding}"
