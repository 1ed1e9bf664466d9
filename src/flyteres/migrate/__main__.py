"""`python -m flyteres.migrate PATH...`: the same command as `flyteres migrate`."""

from __future__ import annotations

import typer

from flyteres.cli.migrate import migrate_command


def main() -> None:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command()(migrate_command)
    app()


if __name__ == "__main__":
    main()
