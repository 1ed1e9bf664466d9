"""`flyteres accelerators` and `flyteres accelerators resolve`: the catalog on the command line.

The catalog and rich (for the table on a terminal) load inside the commands:
registering them costs the CLI nothing at start-up.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from flyteres.accelerators import Accelerator, Match

app = typer.Typer(
    name="accelerators",
    help="The accelerator catalog: every device and how each SDK spells it.",
    add_completion=False,
)

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


# The columns a user copies from (device strings, names): shown whole, never cut.
_IDENTIFIERS = frozenset({"name", "flytekit", "v1 device", "flyte", "v2 device"})
# What a narrow terminal drops first: the least useful column for picking a spelling.
_DROP_ORDER = ("max N", "partitions", "class", "flytekit", "flyte")


def fit_columns(header: list[str], rows: list[list[str]], width: int) -> list[int]:
    """The columns of the table that fit `width`, dropping the least useful first (`_DROP_ORDER`).

    rich draws each column one space either side of its widest cell, plus one border per column and
    one at the end.
    """
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    keep = list(range(len(header)))
    for name in _DROP_ORDER:
        if sum(widths[i] + 3 for i in keep) + 1 <= width:
            break
        keep.remove(header.index(name))
    return keep


def _dropped_caption(dropped: list[str]) -> str | None:
    if not dropped:
        return None
    return f"left out to fit the terminal: {', '.join(dropped)} (a wider terminal or --json shows them)"


@app.callback(invoke_without_command=True)
def accelerators_list(ctx: typer.Context, as_json: _JSON = False) -> None:
    """List the catalog (a table on a terminal, plain columns otherwise)."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.console import Console  # noqa: PLC0415 - only this listing draws a table
    from rich.table import Table  # noqa: PLC0415

    from flyteres import accelerators  # noqa: PLC0415 - the catalog loads when a command reads it

    catalog = accelerators.catalog()
    if as_json:
        # "schema" as every command names its JSON; schema_version kept for the consumers that read it.
        doc = {
            "schema": f"flyteres.accelerators/{accelerators.SCHEMA_VERSION}",
            "schema_version": accelerators.SCHEMA_VERSION,
            "entries": [a.to_dict() for a in catalog],
        }
        typer.echo(json.dumps(doc, indent=2))
        return
    header, rows = _list_rows(catalog)
    console = Console()
    if console.is_terminal:
        keep = fit_columns(header, rows, console.width)
        dropped = [h for i, h in enumerate(header) if i not in keep]
        table = Table(title="flyteres accelerator catalog", caption=_dropped_caption(dropped))
        for i in keep:
            # Never an ellipsis: a device string is what a user types; too narrow a terminal wraps it whole.
            table.add_column(header[i], no_wrap=header[i] not in _IDENTIFIERS, overflow="fold")
        for row in rows:
            table.add_row(*(row[i] for i in keep))
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


@app.command("resolve")
def accelerators_resolve(
    spelling: Annotated[str, typer.Argument(help="Any spelling: H100, nvidia-tesla-h100, A100_80GB, t4, ...")],
    as_json: _JSON = False,
    custom: Annotated[
        bool, typer.Option("--custom", help="Treat an unknown spelling as a custom device string.")
    ] = False,
) -> None:
    """Explain one spelling: its entry, its role there, and what each SDK puts on the wire."""
    from flyteres import accelerators  # noqa: PLC0415 - the catalog loads when a command reads it

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
