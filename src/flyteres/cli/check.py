"""`flyteres check`: report the tasks a platform will refuse, cap or leave without limits.

Runnable on its own as `python -m flyteres.cli.check`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer


def check(
    paths: Annotated[list[Path], typer.Argument(help="Python files or directories to scan.", show_default=False)],
    platform: Annotated[
        Path,
        typer.Option(
            "--platform",
            help="flyteadmin config, Helm values or flytectl attribute file with the task resource defaults/limits.",
        ),
    ],
    quota: Annotated[
        list[Path] | None, typer.Option("--quota", help="Kubernetes ResourceQuota manifest (repeatable).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Report tasks the platform will refuse, cap or leave without limits.

    Exit codes: 0 nothing found, 1 something found, 2 usage or input error.
    """
    # yaml (platform files) and libcst (reading the tasks) load only when the check runs.
    from flyteres.backend.config import PlatformConfigError, load_platform, load_quotas  # noqa: PLC0415
    from flyteres.check import check_paths  # noqa: PLC0415

    try:
        config = load_platform(platform)
        quotas = [q for path in quota or () for q in load_quotas(path)]
    except PlatformConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    report = check_paths(paths, config, quotas)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        for line in report.lines():
            typer.echo(line)
    raise typer.Exit(report.exit_code)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command on ``argv`` and return its exit code (for ``python -m flyteres.cli.check``)."""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command()(check)
    try:
        # Standalone mode prints usage errors itself and exits 2; every path ends in SystemExit.
        app(args=list(argv) if argv is not None else None, prog_name="flyteres check")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
