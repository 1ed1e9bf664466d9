"""What every reporting command shares on the command line: output format, configuration, verbosity.

The options are declared once here (`OutputFormatOption`, `ConfigOption`,
`IsolatedOption`, the hidden `--json` alias) and resolved in one order:
a flag on the command line, else ``[tool.flyteres]`` in the nearest
``pyproject.toml`` (`flyteres.report.config`), else the built-in default.
Rendering is `flyteres.report.render`'s; this module only prints.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from flyteres.report.formats import OutputFormat

if TYPE_CHECKING:
    from flyteres.backend.cluster import ClusterConfig
    from flyteres.report.config import Config
    from flyteres.report.model import Issue, Selected
    from flyteres.report.render import RuleInfo


@dataclass
class Verbosity:
    """The app's ``-v``/``-q`` (set by its callback; commands run on their own keep the default)."""

    level: int = 0

    @property
    def quiet(self) -> bool:
        return self.level < 0

    @property
    def verbose(self) -> bool:
        return self.level > 0

    def reset(self) -> None:
        """Back to the default (neither -v nor -q)."""
        self.level = 0


VERBOSITY = Verbosity()


def _verbosity(level: int) -> Callable[[bool], None]:
    def apply(value: bool) -> None:
        if value:
            VERBOSITY.level = level

    return apply


# `flyteres check -q` as well as `flyteres -q check` (ruff takes both): the command's flag sets the same state.
VerboseOption = Annotated[
    bool,
    typer.Option("--verbose", "-v", callback=_verbosity(1), expose_value=False, help="Same as flyteres -v."),
]
QuietOption = Annotated[
    bool,
    typer.Option("--quiet", "-q", callback=_verbosity(-1), expose_value=False, help="Same as flyteres -q."),
]

OutputFormatOption = Annotated[
    OutputFormat,
    typer.Option(
        "--output-format",
        help="text: lines for people; json: the command's versioned schema (docs/schemas/); github: GitHub "
        "Actions annotations; sarif: SARIF 2.1.0 for code scanning. tool.flyteres.output-format in "
        "pyproject.toml sets it.",
        case_sensitive=False,
    ),
]
JsonAliasOption = Annotated[bool, typer.Option("--json", hidden=True, help="Same as --output-format json.")]

# The options check and verify (and migrate, for the patterns) share, declared once so their help reads the same.
PlatformCompleteOption = Annotated[
    bool,
    typer.Option(
        "--platform-complete",
        help="The platform file states every value: what it leaves out is none, not flyteadmin's built-in.",
    ),
]
QuotaOption = Annotated[
    list[Path] | None,
    typer.Option("--quota", metavar="<file>", help="Kubernetes ResourceQuota manifest (repeatable)."),
]
LimitRangeOption = Annotated[
    list[Path] | None,
    typer.Option("--limitrange", metavar="<file>", help="Kubernetes LimitRange manifest (repeatable)."),
]
ClusterOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--cluster",
        metavar="<file>",
        help="Any mix of ResourceQuota, LimitRange and Flyte ConfigMap manifests, such as kubectl get -o yaml "
        "output (repeatable).",
    ),
]
ExcludeOption = Annotated[
    list[str] | None,
    typer.Option(
        "--exclude",
        metavar="<pattern>",
        help="Leave out files and directories matching this git-style pattern (repeatable).",
    ),
]
IncludeOption = Annotated[
    list[str] | None,
    typer.Option(
        "--include",
        metavar="<pattern>",
        help="Read only files matching this git-style pattern (repeatable; default *.py).",
    ),
]
ReadJobsOption = Annotated[
    int,
    typer.Option("--jobs", "-j", min=1, help="Worker processes reading the files (pays off only with idle cores)."),
]

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        metavar="<pyproject.toml>",
        help="Read the tool.flyteres table of this file instead of the nearest pyproject.toml above the first path.",
        show_default=False,
    ),
]
IsolatedOption = Annotated[
    bool, typer.Option("--isolated", help="Ignore every pyproject.toml: flags and defaults only.")
]


def fail(message: str) -> typer.Exit:
    """Print a usage or input error on stderr; the caller raises the returned exit (code 2)."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def load_settings(paths: Sequence[Path | str], config: Path | None, isolated: bool) -> Config:
    """The ``[tool.flyteres]`` settings that apply: none with ``--isolated``, ``--config``'s, or the nearest."""
    from flyteres.report.config import Config, ConfigError, find_config, load_config  # noqa: PLC0415

    if isolated:
        return Config()
    try:
        if config is not None:
            if not config.is_file():
                raise fail(f"--config {config}: no such file")
            return load_config(config)
        start = Path(paths[0]) if paths and str(paths[0]) != "-" else Path.cwd()
        found = find_config(start if start.exists() else Path.cwd())
        return Config() if found is None else load_config(found)
    except ConfigError as exc:
        raise fail(str(exc)) from None


def load_cluster_files(
    settings: Config,
    platform: Path | None,
    cluster: Sequence[Path] | None,
    quota: Sequence[Path] | None,
    limitrange: Sequence[Path] | None,
    *,
    complete: bool,
) -> tuple[ClusterConfig, ClusterConfig]:
    """What check and verify run against: what the ``--cluster`` files hold, and everything together (the
    ``--platform`` file in place of theirs, ``--quota`` and ``--limitrange`` manifests added). A flag replaces
    the configuration's value; a file that cannot be read exits 2 with its line."""
    # yaml loads only when a command reads platform files.
    from flyteres.backend.cluster import ClusterConfig, load_cluster  # noqa: PLC0415
    from flyteres.backend.config import PlatformConfigError, load_platform, load_quotas  # noqa: PLC0415
    from flyteres.backend.manifests import load_limitranges  # noqa: PLC0415

    platform = platform if platform is not None else settings.platform
    cluster = cluster or list(settings.cluster)
    try:
        found = load_cluster(cluster, complete=complete) if cluster else ClusterConfig()
        config = load_platform(platform, complete=complete) if platform is not None else found.platform
        quotas = [q for path in quota or () for q in load_quotas(path)] + list(found.quotas)
        limitranges = [lr for path in limitrange or () for lr in load_limitranges(path)] + list(found.limitranges)
    except PlatformConfigError as exc:
        raise fail(str(exc)) from None
    return found, ClusterConfig(tuple(quotas), tuple(limitranges), config, found.notes)


def given(ctx: typer.Context, name: str) -> bool:
    """Whether the option behind parameter `name` was on the command line (or in the environment),
    not its default: a default gives way to the configuration."""
    source = ctx.get_parameter_source(name)
    # By name: newer Typers run on their own copy of click, older ones on click itself.
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")


def output_format(ctx: typer.Context, flag: OutputFormat, as_json: bool, settings: Config) -> OutputFormat:
    """The format to print: ``--output-format``, else the hidden ``--json``, else the config's, else text."""
    if given(ctx, "output"):
        if as_json and flag is not OutputFormat.JSON:
            raise fail(f"--json is --output-format json; it cannot go with --output-format {flag.value}")
        return flag
    if as_json:
        return OutputFormat.JSON
    return OutputFormat(settings.output_format) if settings.output_format else OutputFormat.TEXT


def select(issues: Iterable[Issue], settings: Config) -> Selected:
    """The findings the run reports: ``select``/``ignore`` from the config, then inline suppressions."""
    from flyteres.report.model import Selection  # noqa: PLC0415

    return Selection(select=settings.select, ignore=settings.ignore).apply(issues)


def rule_catalog() -> dict[str, RuleInfo]:
    """The rule descriptions the SARIF output carries (loaded only when SARIF is printed)."""
    from flyteres.rules import by_id  # noqa: PLC0415

    return dict(by_id())


def emit(
    command: str,
    fmt: OutputFormat,
    selected: Selected,
    *,
    text: Callable[[], Iterable[str]],
    body: Callable[[], dict[str, Any]],
    errors: Sequence[str] = (),
    summary: str | None = None,
    code: int | None = None,
) -> None:
    """Print a command's report in `fmt`: its own text lines, its JSON ``body`` with the shared keys,
    GitHub workflow commands or a SARIF log. Input errors go to stderr in every format but text and JSON,
    which carry them. `code` is the exit code JSON reports when the command decides its own (convert)."""
    from flyteres.report import render  # noqa: PLC0415

    match fmt:
        case OutputFormat.TEXT:
            for line in text():
                typer.echo(line)
        case OutputFormat.JSON:
            typer.echo(render.dumps(render.json_document(command, body(), selected, errors, code)))
        case OutputFormat.GITHUB:
            for line in render.github(selected.kept, None if VERBOSITY.quiet else summary):
                typer.echo(line)
        case OutputFormat.SARIF:
            typer.echo(render.dumps(render.sarif(command, selected.kept, rule_catalog(), Path.cwd())))
    if fmt in (OutputFormat.GITHUB, OutputFormat.SARIF):
        for e in errors:
            typer.echo(f"error: {e}", err=True)


class Timer:
    """Wall-clock phases for ``-v``: each `lap` prints how long the phase took on stderr."""

    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()

    def lap(self, what: str) -> None:
        now = time.perf_counter()
        verbose(f"{what} in {now - self.last:.2f} s")
        self.last = now

    def total(self, what: str) -> None:
        verbose(f"{what} in {time.perf_counter() - self.start:.2f} s")


def verbose(message: str) -> None:
    """A progress line on stderr, shown with ``-v`` only."""
    if VERBOSITY.verbose:
        typer.echo(message, err=True)


def per_file(paths: Iterable[str]) -> None:
    """With ``-v``: how many findings or declarations each file gave, one line each."""
    if not VERBOSITY.verbose:
        return
    counts: dict[str, int] = {}
    for p in paths:
        counts[p] = counts.get(p, 0) + 1
    for path, n in counts.items():
        verbose(f"{path}: {n} declaration(s)")
