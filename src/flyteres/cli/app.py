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
from flyteres.cli import accelerators, check, completion, convert, demo, migrate, rules, serve, verify
from flyteres.cli.common import VERBOSITY

app = typer.Typer(
    name="flyteres",
    help="One truth for Flyte task resources.",
    no_args_is_help=True,
    # --install-completion and --show-completion: Typer's, and cheap (typer imports its completion module
    # anyway; the shell is detected only when they are used). `flyteres completion SHELL` prints the script.
    add_completion=True,
    pretty_exceptions_enable=False,
    # Plain click help: every option with a fixed set of values shows them (<a|b>), flags show no type.
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"flyteres {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Also print per-file progress and timings (stderr)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only findings and errors: no notes, no summary."),
) -> None:
    """One truth for Flyte task resources."""
    if verbose and quiet:
        typer.echo("error: use at most one of --verbose, --quiet", err=True)
        raise typer.Exit(2)
    VERBOSITY.level = 1 if verbose else -1 if quiet else 0
    # One run's -v/-q ends with it: a caller running commands in one process (tests, an embedding
    # program) starts the next at the default.
    ctx.call_on_close(VERBOSITY.reset)


# `--help` lists the commands in this order (Typer puts groups after commands).
app.command("demo")(demo.demo)
app.command("convert")(convert.convert)
app.command("migrate")(migrate.migrate_command)
app.command("check")(check.check)
app.command("verify")(verify.verify)
app.command("serve")(serve.serve)
app.add_typer(accelerators.app)
app.command("rules")(rules.rules)
app.command("completion")(completion.completion)


def main() -> None:
    """Console-script entry point."""
    app()
