"""The `flyteres` command line: a thin layer over the library.

Exit codes: 0 success, 1 a check found something, 2 usage or input error.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated

import typer

from flyteres import __version__

if TYPE_CHECKING:
    from flyteres.accelerators import Accelerator, Match

app = typer.Typer(
    name="flyteres",
    help="One truth for Flyte task resources.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"flyteres {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """One truth for Flyte task resources."""


@app.command()
def demo() -> None:
    """Convert typical flytekit declarations to Flyte 2 and show what the IDL carries."""
    from flyteres.cli.demo import render  # noqa: PLC0415 - keep CLI start-up light

    for line in render():
        typer.echo(line)


accelerators_app = typer.Typer(
    name="accelerators",
    help="The accelerator catalog: every device and how each SDK spells it.",
    add_completion=False,
)
app.add_typer(accelerators_app)

_JSON = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _list_rows(catalog: tuple[Accelerator, ...]) -> tuple[list[str], list[list[str]]]:
    header = ["name", "class", "flytekit", "v1 device", "flyte", "v2 device", "partitions", "max N"]
    rows = []
    for a in catalog:
        parts = f"{len(a.partitions)} {a.partition_kind}" if a.partition_kind else ""
        rows.append(
            [
                a.name,
                a.device_class.value,
                a.flytekit_constant or "-",
                a.v1_device or "-",
                a.v2_name or "-",
                a.v2_device or "-",
                parts,
                "-" if a.max_quantity is None else str(a.max_quantity),
            ]
        )
    return header, rows


@accelerators_app.callback(invoke_without_command=True)
def accelerators_list(ctx: typer.Context, as_json: _JSON = False) -> None:
    """List the catalog (a table on a terminal, plain columns otherwise)."""
    if ctx.invoked_subcommand is not None:
        return
    import json  # noqa: PLC0415 - keep CLI start-up light

    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    from flyteres import accelerators  # noqa: PLC0415

    catalog = accelerators.catalog()
    if as_json:
        doc = {"schema_version": accelerators.SCHEMA_VERSION, "entries": [a.to_dict() for a in catalog]}
        typer.echo(json.dumps(doc, indent=2))
        return
    header, rows = _list_rows(catalog)
    console = Console()
    if console.is_terminal:
        table = Table(*header, title="flyteres accelerator catalog")
        for row in rows:
            table.add_row(*row)
        console.print(table)
        return
    # Plain aligned columns: stable for pipes, grep and tests.
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def _explain_lines(match: Match) -> list[str]:
    a = match.entry
    roles = ", ".join(str(r) for r in match.roles)
    lines = [f"{match.spelling!r} is {a.name} ({a.device_class.value}); it is its {roles}"]
    if a.is_custom:
        lines.append("  custom device: both SDKs send the device string verbatim")
    if a.flytekit_constant:
        lines.append(f"  flytekit: {a.flytekit_constant} -> device {a.v1_device!r} (no device class in flyteidl v1)")
    elif a.is_custom:
        lines.append(f"  flytekit: GPUAccelerator({a.v1_device!r}) -> device {a.v1_device!r}")
    else:
        lines.append("  flytekit: no constant")
    if a.v2_name:
        if a.v2_helper == "APPLE_SILICON":
            how = "APPLE_SILICON()"  # the only helper without a device argument
        elif a.v2_helper:
            how = f"{a.v2_helper}({a.v2_name!r}, ...)"
        else:
            how = f"Device(device={a.v2_name!r}, ...)"
        if a.v2_quantities:
            how += f" or gpu='{a.v2_name}:N' (N in {', '.join(map(str, a.v2_quantities))})"
        lines.append(f"  flyte:    {how} -> device {a.v2_device!r}, device_class {a.device_class.value}")
    elif a.is_custom:
        lines.append(
            f"  flyte:    Device(device={a.v2_device!r}, device_class={a.device_class.flyte_name!r}, ...)"
            f" -> device {a.v2_device!r}"
        )
    else:
        lines.append("  flyte:    no spelling")
    if a.accelerator_model:
        lines.append(f"  model:    {a.accelerator_model} ({a.model_name})")
    if a.partition_kind:
        lines.append(f"  partitions ({a.partition_kind}): {', '.join(a.partitions)}")
        if a.flytekit_constant and a.v1_partitions != a.partitions:
            v1 = ", ".join(a.v1_partitions) or "none"
            lines.append(f"    flytekit has attributes for: {v1}")
    if a.shared:
        lines.append(f"  shared:   a time-sliced share of {a.shared_of}")
    if a.aliases:
        lines.append(f"  aliases:  {', '.join(a.aliases)}")
    if a.node_labels:
        lines.append(f"  labels:   {', '.join(str(n) for n in a.node_labels)}")
    if a.notes and not a.is_custom:
        lines.append(f"  notes:    {a.notes}")
    return lines


@accelerators_app.command("resolve")
def accelerators_resolve(
    spelling: Annotated[str, typer.Argument(help="Any spelling: H100, nvidia-tesla-h100, A100_80GB, t4, ...")],
    as_json: _JSON = False,
    custom: Annotated[
        bool, typer.Option("--custom", help="Treat an unknown spelling as a custom device string.")
    ] = False,
) -> None:
    """Explain one spelling: its entry, its role there, and what each SDK puts on the wire."""
    import json  # noqa: PLC0415 - keep CLI start-up light

    from flyteres import accelerators  # noqa: PLC0415

    try:
        match = accelerators.explain(spelling, custom=custom)
    except accelerators.UnknownAcceleratorError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    if as_json:
        doc = {"spelling": spelling, "roles": [str(r) for r in match.roles], "entry": match.entry.to_dict()}
        typer.echo(json.dumps(doc, indent=2))
        return
    for line in _explain_lines(match):
        typer.echo(line)


@app.command()
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
    import sys  # noqa: PLC0415 - keep CLI start-up light

    from flyteres._errors import FlyteresError  # noqa: PLC0415
    from flyteres.cli import convert as conv  # noqa: PLC0415
    from flyteres.core.options import DeviceLabels, Policy  # noqa: PLC0415

    choices: dict[str, tuple[str, type[Enum]]] = {
        "--from": (source, conv.Input),
        "--to": (target, conv.Output),
        "--policy": (policy, Policy),
        "--device-labels": (device_labels, DeviceLabels),
    }
    for option, (value, allowed) in choices.items():
        if value not in [m.value for m in allowed]:
            typer.echo(f"error: {option} {value!r}: choose one of {', '.join(m.value for m in allowed)}", err=True)
            raise typer.Exit(2)
    try:
        text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()  # noqa: SIM115
        spec = conv.read(text, conv.Input(source))
        result = conv.write(spec, conv.Output(target), policy=Policy(policy), device_labels=DeviceLabels(device_labels))
    except (OSError, FlyteresError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    for finding in result.findings:
        typer.echo(conv.describe(finding), err=True)
    if result.lossy:
        typer.echo(f"error: not converted: {len(result.lossy)} lossy finding(s) under policy {policy!r}", err=True)
        raise typer.Exit(1)
    typer.echo(result.value)


def _register_commands() -> None:
    # Each command module keeps its heavy imports (libcst, grpc) inside the command.
    from flyteres.cli.check import check  # noqa: PLC0415
    from flyteres.cli.migrate import migrate  # noqa: PLC0415
    from flyteres.cli.serve import serve  # noqa: PLC0415

    app.command("migrate")(migrate)
    app.command("check")(check)
    app.command("serve")(serve)


_register_commands()


def main() -> None:
    """Console-script entry point."""
    app()
