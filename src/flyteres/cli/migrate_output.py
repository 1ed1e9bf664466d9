"""`flyteres migrate` in the shared output formats: its findings as `Issue`s, and its JSON with the shared keys.

Kept beside the command rather than in it, so `cli/migrate.py` changes by a
few lines only: the runner's report (`RunReport.to_dict`) is wrapped, never
edited. Its keys stay as they were (``schema`` is ``flyteres.migrate/1``);
``findings``, ``suppressed`` and ``ignored`` are added.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from flyteres.cli.common import emit, select
from flyteres.report.formats import OutputFormat

if TYPE_CHECKING:
    from collections.abc import Sequence

    from flyteres.migrate.results import Environment
    from flyteres.migrate.runner import RunReport
    from flyteres.report.config import Config
    from flyteres.report.model import Issue


def issues(result: RunReport) -> list[Issue]:
    """Every migrate finding: a file that failed is an error; a finding that kept a site as written
    (lossy) or that the policy decided is a warning, and so is each blocker (a construct that keeps
    its group of modules on flytekit) not already said by its site's finding; the rest are notes."""
    from flyteres.migrate.rules import MigrateRule  # noqa: PLC0415
    from flyteres.report.model import CommonRule, Issue, Level  # noqa: PLC0415

    out = []
    for f in result.files:
        if f.status == "failed":
            out.append(Issue(CommonRule.FILE_NOT_READ.value, Level.ERROR, f"failed: {f.reason}", f.path, title=f.path))
        elif f.unwritten:
            rule = MigrateRule.FILE_NOT_WRITTEN.value
            out.append(Issue(rule, Level.WARNING, f"not written: {f.reason}", f.path, title=f.path))
        for site in f.sites:
            title = f"{site.kind} {site.name}"
            for finding in site.findings:
                level = Level.WARNING if finding.lossy or finding.decided_by_policy else Level.NOTE
                text = str(finding).removeprefix(f"[{finding.rule}] ")
                if site.action == "untouched":
                    text = f"left as written: {text}"
                out.append(Issue(finding.rule, level, text, f.path, finding.line or site.line, title=title))
        if f.status == "changed":
            out.extend(plugin_defaults(f.path, f.environments))
        # Each construct that keeps its group on flytekit (`--target flyte`), where it is, so a
        # GitHub annotation or a SARIF result points at it; a site's own finding already says it.
        said = {(i.path, i.line, i.rule) for i in out}
        for b in f.blockers:
            if (b.path, b.line, b.rule) in said:
                continue
            said.add((b.path, b.line, b.rule))
            text = f"keeps its group on flytekit: {b.construct}: {b.reason}"
            out.append(Issue(b.rule, Level.WARNING, text, b.path, b.line, title=b.construct))
    return out


Hidden = frozenset[tuple["str | None", "int | None", str]]


def hidden(result: RunReport, settings: Config) -> Hidden:
    """(path, line, rule) of each finding that `select`/`ignore` or a `# flyteres: ignore[...]` comment
    hides, so the text report leaves out the same lines the other formats do."""
    every = issues(result)
    kept = {id(i) for i in select(every, settings).kept}
    return frozenset((i.path, i.line, i.rule) for i in every if id(i) not in kept)


def report(result: RunReport, fmt: OutputFormat, settings: Config) -> None:
    """Print a migrate run as JSON, GitHub annotations or SARIF (text stays the command's own, plus the
    selection's counts when it hid anything)."""
    selected = select(issues(result), settings)
    if fmt is OutputFormat.TEXT:
        if selected.hidden:
            typer.echo(f"findings: {selected.suppressed} suppressed inline, {selected.ignored} not selected", err=True)
        return
    # The runner's report says schema flyteres.migrate/1 itself; the shared keys are added after its own.
    body = {k: v for k, v in result.to_dict().items() if k != "schema"}
    s = result.summary()
    summary = (
        f"{s['files']} files: {s['changed']} {'rewritten' if result.options.mode == 'write' else 'would change'}, "
        f"{s['failed']} failed; "
        f"{s['sites_untouched']} sites left as written"
    )
    emit("migrate", fmt, selected, text=list, body=lambda: body, summary=summary, code=result.exit_code())


def plugin_defaults(path: str, environments: Sequence[Environment]) -> list[Issue]:
    """One warning per environment written without resources: in Flyte 2 its tasks get the k8s
    plugin's cpu and memory defaults, not flyteadmin's (docs/platform.md)."""
    from flyteres.migrate.rules import MigrateRule  # noqa: PLC0415
    from flyteres.report.model import Issue, Level  # noqa: PLC0415

    out = []
    for env in environments:
        if env.resources:
            continue
        tasks = ", ".join(env.tasks)
        text = (
            f"environment {env.name} sets no resources: in Flyte 2 its tasks ({tasks}) get the k8s plugin's "
            "default cpu and memory requests (plugins.k8s.default-cpus/default-memory, 1000m and 1024Mi unless "
            "configured), no longer flyteadmin's task_resources defaults; `flyteres verify` shows both"
        )
        out.append(
            Issue(MigrateRule.K8S_PLUGIN_DEFAULTS.value, Level.WARNING, text, path, env.line, title=env.variable)
        )
    return out
