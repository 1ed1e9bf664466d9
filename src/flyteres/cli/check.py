"""`flyteres check`: report the tasks a platform will refuse, cap or leave without limits.

Runnable on its own as `python -m flyteres.cli.check`.
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
    per_file,
    select,
)
from flyteres.report.formats import OutputFormat


def check(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Python files or directories to scan.", show_default=False)],
    *,
    platform: Annotated[
        Path | None,
        typer.Option(
            "--platform",
            metavar="<file>",
            help="flyteadmin config, Helm values, flytectl attribute file or Flyte ConfigMap (kubectl get configmap "
            "-o yaml) with the task resource defaults/limits. Required unless a --cluster file holds the ConfigMap.",
            show_default=False,
        ),
    ] = None,
    platform_complete: PlatformCompleteOption = False,
    quota: QuotaOption = None,
    limitrange: LimitRangeOption = None,
    cluster: ClusterOption = None,
    node_label: Annotated[
        list[str] | None,
        typer.Option(
            "--node-label",
            metavar="<label>",
            help="An accelerator label the platform's GPU nodes carry, such as nvidia-h100 (repeatable); "
            "instead of the platform file's flyteres.node_accelerators.",
            show_default=False,
        ),
    ] = None,
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
    """Report flytekit and Flyte 2 tasks the platform will refuse, cap or leave without limits.

    Files are found as every command finds them: .gitignore, virtualenvs and site-packages are left out.
    A file the running Python cannot parse is listed as not checked.

    Exit codes: 0 nothing found, 1 something found, 2 usage or input error.
    """
    # yaml (platform files) and the source reader load only when the check runs.
    from flyteres.backend.config import PlatformNote  # noqa: PLC0415
    from flyteres.check import check_paths  # noqa: PLC0415

    settings = load_settings(paths, config_file, isolated)
    fmt = output_format(ctx, output, as_json, settings)
    timer = Timer()
    found, run = load_cluster_files(settings, platform, cluster, quota, limitrange, complete=platform_complete)
    config = run.platform
    if config is None:
        typer.echo("error: give the platform with --platform, or a Flyte ConfigMap in a --cluster file", err=True)
        raise typer.Exit(2)
    timer.lap("read the platform")
    report = check_paths(
        paths,
        config,
        run.quotas,
        run.limitranges,
        exclude=exclude or settings.exclude,
        include=include or settings.include,
        jobs=jobs,
        node_labels=node_label or None,
    )
    report.notes += found.notes
    if found.platform is not None and config is not found.platform:  # a --platform file took its place
        report.notes.append(
            PlatformNote(found.platform.path or "<cluster>", 1, "ConfigMap", "not used: --platform is given")
        )
    timer.lap(f"read and checked {len(report.checked)} declaration(s)")
    per_file(c.declaration.path for c in report.checked)
    selected = select(report.issues(), settings)
    body = report.to_dict(selected)
    emit(
        "check",
        fmt,
        selected,
        text=lambda: report.lines(selected, quiet=VERBOSITY.quiet),
        body=lambda: body,
        errors=report.errors,
        summary=list(report.lines(selected))[-1],
    )
    timer.total("check took")
    raise typer.Exit(body["exit_code"])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command on ``argv`` and return its exit code (for ``python -m flyteres.cli.check``)."""
    VERBOSITY.level = 0  # run on its own: no app callback sets -v/-q
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)
    app.command()(check)
    try:
        # Standalone mode prints usage errors itself and exits 2; every path ends in SystemExit.
        app(args=list(argv) if argv is not None else None, prog_name="flyteres check")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
