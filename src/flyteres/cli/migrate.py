"""The `flyteres migrate` command: a thin layer over `flyteres.migrate.runner.run`.

The CLI imports this module at start-up to register the command, so at
module level it imports only the choices (`MigrationTarget`, `Policy`);
libcst, rich and the runner load inside the command.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from flyteres.cli.common import (
    VERBOSITY,
    ConfigOption,
    ExcludeOption,
    IncludeOption,
    IsolatedOption,
    OutputFormatOption,
    QuietOption,
    VerboseOption,
    given,
    load_settings,
    output_format,
)
from flyteres.core.options import Policy
from flyteres.migrate.options import MigrationTarget
from flyteres.report.formats import OutputFormat

if TYPE_CHECKING:
    from rich.console import Console

    from flyteres.cli.migrate_output import Hidden
    from flyteres.migrate.runner import Mode, Options, RunReport


class ReportChoice(str, Enum):
    json = "json"


def migrate_command(  # noqa: PLR0917 - Typer maps each parameter to an argument or option
    ctx: typer.Context,
    paths: Annotated[
        list[Path],
        typer.Argument(help="Files or directories (searched for *.py).", show_default=False),
    ],
    target: Annotated[
        # The enum's members as --help lists them, the default first.
        Literal[MigrationTarget.FLYTE, MigrationTarget.FLYTEKIT],
        typer.Option(
            "--target",
            help="flyte: Flyte 2 (TaskEnvironment, flyte.Resources, .override); "
            "flytekit: stay on flytekit, requests=/limits= become resources=. tool.flyteres.target in "
            "pyproject.toml sets it.",
        ),
    ] = MigrationTarget.FLYTE,
    write: Annotated[bool, typer.Option("--write", help="Rewrite the files in place.")] = False,
    diff: Annotated[bool, typer.Option("--diff", help="Print a unified diff (the default).")] = False,
    check: Annotated[bool, typer.Option("--check", help="Only say whether files would change.")] = False,
    policy: Annotated[
        # Policy's members as --help has always listed them, the default first.
        Literal[Policy.KUBERNETES, Policy.STRICT],
        typer.Option(
            "--policy",
            help="kubernetes: decide what Kubernetes decides at run time (a limit without a request "
            "becomes (limit, limit)), listing every such site; strict: rewrite only what is wire-identical. "
            "migrate defaults to kubernetes: a tree's rewrite should not stop at each such site, and every "
            "decision is listed for review; convert, which turns one spec, defaults to strict. tool.flyteres.policy "
            "in pyproject.toml sets both.",
        ),
    ] = Policy.KUBERNETES,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", min=1, help="Worker processes (default: one per CPU).", show_default=False),
    ] = None,
    report: Annotated[
        ReportChoice | None,
        typer.Option("--report", hidden=True, help="Same as --output-format json.", show_default=False),
    ] = None,
    output: OutputFormatOption = OutputFormat.TEXT,
    mark: Annotated[
        bool,
        typer.Option(
            "--mark",
            help="--target flyte: write a '# TODO(flyteres): ...' comment above each construct that keeps "
            "its group of modules on flytekit.",
        ),
    ] = False,
    exclude: ExcludeOption = None,
    include: IncludeOption = None,
    config_file: ConfigOption = None,
    isolated: IsolatedOption = False,
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    """Rewrite flytekit resource declarations for Flyte 2 or flytekit's resources= form.

    See MIGRATE_HELP (the text `--help` shows) for what is rewritten and the exit codes.
    """
    if sum((write, diff, check)) > 1:
        typer.echo("error: use at most one of --write, --diff, --check", err=True)
        raise typer.Exit(2)
    from flyteres.cli import migrate_output  # noqa: PLC0415
    from flyteres.migrate.runner import Options  # noqa: PLC0415 - libcst loads only when the command runs

    settings = load_settings(paths, config_file, isolated)
    fmt = output_format(ctx, output, report is ReportChoice.json, settings)
    if settings.target and not given(ctx, "target"):
        if settings.target not in ("flyte", "flytekit"):
            typer.echo(f"error: {settings.path}: target: migrate writes flyte or flytekit", err=True)
            raise typer.Exit(2)
        target = MigrationTarget(settings.target)
    if settings.policy and not given(ctx, "policy"):
        policy = Policy(settings.policy)
    mode: Mode = "write" if write else "check" if check else "diff"
    options = Options(target=target, policy=policy, mode=mode, mark=mark)
    console = _console()
    result = _run(paths, options, jobs, console, exclude or list(settings.exclude), include or list(settings.include))
    match fmt.value, mode:
        case "json" | "github" | "sarif", _:
            migrate_output.report(result, fmt, settings)
        case "text", "check":
            for f in result.files:
                if f.status == "changed":
                    typer.echo(f"would change: {f.path}")
        case "text", "diff":
            for f in result.files:
                if f.diff:
                    sys.stdout.write(f.diff if f.diff.endswith("\n") else f.diff + "\n")
            sys.stdout.flush()
    _print_report(result, console, quiet=VERBOSITY.quiet, hidden=migrate_output.hidden(result, settings))
    if fmt.value == "text":
        migrate_output.report(result, fmt, settings)
    raise typer.Exit(result.exit_code())


# One line per paragraph: Typer keeps the docstring's line breaks after the first paragraph.
MIGRATE_HELP = "\n\n".join(
    [
        (
            "Rewrite flytekit resource declarations (@task requests/limits/accelerator/shared_memory, "
            ".with_overrides) for Flyte 2 (--target flyte) or for flytekit's single resources= form "
            "(--target flytekit). Prints a diff unless --check or --write is given."
        ),
        (
            "With --target flyte, a .with_overrides on a task imported from another file of the run "
            "(from pkg.mod import t, relative imports, mod.t) is merged with that task's resources like a "
            "task of the same file; module names come from the path below the nearest directory without "
            "__init__.py, so pass the task modules along with the workflows."
        ),
        (
            "Declarations that cannot be converted faithfully (values not known without running the module, "
            "lossy under the policy, arguments the target cannot carry) are left exactly as written and "
            "reported with the reason."
        ),
        (
            "Exit codes: 0 nothing to change, or --write succeeded; 1 --check or --diff found changes, or "
            "sites that could not be migrated remain (the summary says which), or --write left a file "
            "unwritten (edited during the run, read-only); "
            "2 an error (a file that cannot be read or parsed is reported and left untouched)."
        ),
    ]
)
migrate_command.__doc__ = MIGRATE_HELP


def _console() -> Console:
    from rich.console import Console  # noqa: PLC0415 - keep start-up light for workers

    return Console(stderr=True, highlight=False, soft_wrap=True)


# Fewer files than this finish before a progress bar would be worth drawing.
_PROGRESS_FROM = 50


def _run(  # noqa: PLR0917 - the command's own helper
    paths: list[Path], options: Options, jobs: int | None, console: Console, exclude: list[str], include: list[str]
) -> RunReport:
    from flyteres.migrate.runner import discover, run  # noqa: PLC0415 - see the module notes

    files = discover(paths, exclude=exclude, include=include)
    if not console.is_terminal or len(files) < _PROGRESS_FROM:
        return run(paths, options, jobs=jobs, exclude=exclude, include=include)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn  # noqa: PLC0415

    with Progress(TextColumn("migrating"), BarColumn(), MofNCompleteColumn(), console=console, transient=True) as bar:
        task = bar.add_task("files", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return run(paths, options, jobs=jobs, progress=advance, exclude=exclude, include=include)


def _print_report(result: RunReport, console: Console, *, quiet: bool = False, hidden: Hidden = frozenset()) -> None:
    """Failures, untouched sites and policy decisions, then the totals (on stderr; not with -q).
    A blocker or site whose findings are all `hidden` (by rule selection or inline) is left out."""
    from flyteres.migrate.results import Site  # noqa: PLC0415 - see the module notes
    from flyteres.migrate.runner import NO_DECLARATION  # noqa: PLC0415 - see the module notes

    for f in result.files:
        if f.status == "failed":
            console.print(f"{f.path}: failed: {f.reason}", markup=False)
        elif f.unwritten:
            console.print(f"{f.path}: not written: {f.reason}", markup=False)
        elif f.status == "skipped" and f.reason != NO_DECLARATION:
            console.print(f"{f.path}: skipped: {f.reason}", markup=False)
    for f in result.files:
        for b in f.blockers:
            if (b.path, b.line, b.rule) in hidden:
                continue
            console.print(
                f"{b.path}:{b.line}: {b.construct}: keeps its group on flytekit: {b.reason} [{b.rule}]", markup=False
            )
    for f, site in result.sites:
        keys = {(f.path, x.line or site.line, x.rule) for x in site.findings}
        if keys and keys <= hidden:
            continue
        where = f"{f.path}:{site.line}: {site.kind} {site.name}"
        match site:
            case Site(action="untouched", reason=reason):
                console.print(f"{where}: left as written: {reason}", markup=False)
            case Site(decided_by_policy=True, findings=findings):
                rules = sorted({x.rule for x in findings if x.decided_by_policy})
                console.print(
                    f"{where}: rewritten; the {result.options.policy} policy decided {', '.join(rules)}", markup=False
                )
    from flyteres.cli.migrate_output import plugin_defaults  # noqa: PLC0415 - beside its only use

    for f in result.files:
        if f.status == "changed":
            for issue in plugin_defaults(f.path, f.environments):
                if (issue.path, issue.line, issue.rule) not in hidden:
                    console.print(f"{issue.path}:{issue.line}: {issue.message} [{issue.rule}]", markup=False)
    if quiet:
        return
    s = result.summary()
    verb = "rewritten" if result.options.mode == "write" else "would change"
    console.print(
        f"{s['files']} files: {s['changed']} {verb}, {s['unchanged']} unchanged, {s['skipped']} skipped, "
        f"{s['failed']} failed; {s['sites_rewritten']} sites rewritten "
        f"({s['sites_decided_by_policy']} decided by the {result.options.policy} policy), "
        f"{s['sites_untouched']} left as written",
        markup=False,
    )
    for package, version in result.requires().items():
        console.print(f"the rewritten code needs {package}{version} (the resources= form)", markup=False)
    if result.options.mode != "write" and result.exit_code() == 1:
        why = []
        if s["changed"]:
            why.append(f"{s['changed']} files would change")
        if s["remaining"]:
            why.append(f"{s['remaining']} sites or constructs could not be migrated (listed above)")
        console.print(f"exit 1: {'; '.join(why)}", markup=False)
    if s["findings_by_rule"]:
        by_rule = ", ".join(f"{rule} {n}" for rule, n in s["findings_by_rule"].items())
        kinds = ", ".join(f"{kind} {n}" for kind, n in s["findings_by_kind"].items())
        console.print(f"findings by rule: {by_rule}", markup=False)
        console.print(f"findings by kind: {kinds}", markup=False)
