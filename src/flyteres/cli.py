"""The `flyteres` command line: a thin layer over the library.

Exit codes: 0 success, 1 a check found something, 2 usage or input error.
"""

from __future__ import annotations

import typer

from flyteres import __version__

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
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """One truth for Flyte task resources."""


@app.command()
def demo() -> None:
    """Show what the IDL carries for a few example specs (bytes, text, JSON)."""
    from flyteres._demo import render  # noqa: PLC0415 - keep CLI start-up light

    for line in render():
        typer.echo(line)


def main() -> None:
    """Console-script entry point."""
    app()
