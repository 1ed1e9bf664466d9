"""`python -m flyteres` and the `flyteres` console script: the command line of flyteres.cli.app.

The command line needs the cli extra (typer, rich, libcst). Without it, this
entry point says which extra to install in one line and exits 2 (a usage
error), instead of a ModuleNotFoundError traceback.
"""

from __future__ import annotations

import sys

from flyteres._extras import hint


def main() -> None:
    """Run the command line, or say how to install it."""
    try:
        import typer  # noqa: F401, PLC0415 - only to tell a missing extra from another failure
    except ModuleNotFoundError:
        print(f"flyteres: {hint('the flyteres command', 'cli')}", file=sys.stderr)  # noqa: T201
        sys.exit(2)
    from flyteres.cli.app import main as cli_main  # noqa: PLC0415 - after the check above

    cli_main()


if __name__ == "__main__":
    main()
