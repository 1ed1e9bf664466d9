"""The `flyteres` command line: a thin layer over the library.

Exit codes: 0 success, 1 a check found something, 2 usage or input error.

This module only assembles the app: the version option and one command per
module (`demo`, `convert`, `migrate`, `check`, `verify`, `serve`, `accelerators`). The
command modules import their heavy dependencies (the converters, libcst,
grpc, rich, yaml) inside the commands, so `flyteres --version` loads typer
and nothing else; tests/test_import_profile.py keeps it that way.
"""

from __future__ import annotations

import typer

from flyteres._version import __version__
from flyteres.cli import accelerators, check, convert, demo, migrate, serve, verify

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


# `--help` lists the commands in this order (Typer puts groups after commands).
app.command("demo")(demo.demo)
app.command("convert")(convert.convert)
app.command("migrate")(migrate.migrate_command)
app.command("check")(check.check)
app.command("verify")(verify.verify)
app.command("serve")(serve.serve)
app.add_typer(accelerators.app)


def main() -> None:
    """Console-script entry point."""
    app()
