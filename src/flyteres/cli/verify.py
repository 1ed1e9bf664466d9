"""`flyteres verify OLD NEW`: did a migration keep every task's resources?

Runnable on its own as `python -m flyteres.cli.verify`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from flyteres.cli.common import (
    VERBOSITY,
    ClusterOption,
    ConfigOption,
    ExcludeOption,
    IncludeOption,
    IsolatedOption,
    JsonAliasOption,
    LimitRangeOption,
    OutputFormatOption,
    PlatformCompleteOption,
    QuietOption,
    QuotaOption,
    ReadJobsOption,
    Timer,
    VerboseOption,
    emit,
    load_cluster_files,
    load_settings,
    output_format,
    select,
)
from flyteres.report.formats import OutputFormat


def verify(
    ctx: typer.Context,
    old: Annotated[Path, typer.Argument(help="The tree (or file) before the migration.", show_default=False)],
    new: Annotated[Path, typer.Argument(help="The tree (or file) after it.", show_default=False)],
    *,
    platform: Annotated[
        Path | None,
        typer.Option(
            "--platform",
            metavar="<file>",
            help="The platform both sides run on (flyteadmin config, Helm values, Flyte ConfigMap...). "
            "Without it, each side is replayed with no platform: the task's own values and the backend's rules.",
            show_default=False,
        ),
    ] = None,
    platform_complete: PlatformCompleteOption = False,
    quota: QuotaOption = None,
    limitrange: LimitRangeOption = None,
    cluster: ClusterOption = None,
    output: OutputFormatOption = OutputFormat.TEXT,
    as_json: JsonAliasOption = False,
    exclude: ExcludeOption = None,
    include: IncludeOption = None,
    jobs: ReadJobsOption = 1,
    config_file: ConfigOption = None,
    isolated: IsolatedOption = False,
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    """Compare what every task's pod gets before (OLD) and after (NEW) a migration.

    Tasks pair by module (path below OLD and NEW) and function name; overrides by module, function, task and
    rank. Each side is replayed under its own launch: flytekit tasks as workflow nodes, Flyte 2 tasks under
    Flyte 2's rules. Every changed, new or missing value is listed with both values and the rule behind each.

    Exit codes: 0 every pair gets the same resources, 1 something changed (or appeared, disappeared, or could
    not be compared), 2 usage or input error.
    """
    # yaml (platform files) and the source reader load only when the command runs.
    from flyteres.verify import verify_paths  # noqa: PLC0415

    # The configuration is looked up from NEW, the tree a project keeps.
    settings = load_settings([new], config_file, isolated)
    fmt = output_format(ctx, output, as_json, settings)
    timer = Timer()
    _, run = load_cluster_files(settings, platform, cluster, quota, limitrange, complete=platform_complete)
    report = verify_paths(
        old,
        new,
        run.platform,
        run.quotas,
        run.limitranges,
        exclude=exclude or settings.exclude,
        include=include or settings.include,
        jobs=jobs,
    )
    timer.lap(f"read, replayed and compared {len(report.pairs)} pair(s)")
    selected = select(report.issues(), settings)
    body = report.to_dict(selected)
    emit(
        "verify",
        fmt,
        selected,
        text=lambda: report.lines(selected, quiet=VERBOSITY.quiet),
        body=lambda: body,
        errors=report.errors,
        summary=list(report.lines(selected))[-1],
    )
    timer.total("verify took")
    raise typer.Exit(body["exit_code"])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command on ``argv`` and return its exit code (for ``python -m flyteres.cli.verify``)."""
    VERBOSITY.level = 0  # run on its own: no app callback sets -v/-q
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)
    app.command()(verify)
    try:
        # Standalone mode prints usage errors itself and exits 2; every path ends in SystemExit.
        app(args=list(argv) if argv is not None else None, prog_name="flyteres verify")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
