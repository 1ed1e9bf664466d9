"""The output formats of every reporting command: JSON, GitHub Actions workflow commands and SARIF 2.1.0.

The text format is each command's own (its report's ``lines``); the other
three are the same for every command, built from its `Issue` list. Nothing
here imports Typer: the functions return text.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from flyteres._version import __version__
from flyteres.report.formats import OutputFormat
from flyteres.report.model import Issue, Level, Selected

__all__ = [
    "DOCS_URL",
    "HOME_URL",
    "OutputFormat",
    "RuleInfo",
    "dumps",
    "github",
    "github_escape_data",
    "github_escape_property",
    "json_document",
    "relative_uri",
    "sarif",
]

#: Where the project and its rule documentation live (SARIF's informationUri and each rule's helpUri).
HOME_URL = "https://github.com/flyteres/flyteres"
DOCS_URL = f"{HOME_URL}/blob/main/docs"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
#: The major version of every command's JSON schema (``flyteres.check/1``): additions keep it; a key
#: removed, renamed or given another meaning raises it, for that command alone.
SCHEMA_MAJOR = 1


@dataclass(frozen=True)
class RuleInfo:
    """One rule as ``flyteres rules`` lists it: its id, default level, one line, and the commands reporting it."""

    id: str
    level: Level
    summary: str
    commands: tuple[str, ...]
    origin: str

    @property
    def help_uri(self) -> str:
        return f"{DOCS_URL}/rules.md#{self.id}"

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "level": self.level.value,
            "summary": self.summary,
            "commands": list(self.commands),
            "origin": self.origin,
            "help_uri": self.help_uri,
        }


def json_document(
    command: str, body: Mapping[str, Any], selected: Selected, errors: Sequence[str] = (), code: int | None = None
) -> dict[str, Any]:
    """A command's JSON output: ``schema`` first, then what the command reports, then every kept finding.

    ``body`` is the command's own report (its ``to_dict``); ``findings`` is the
    flat list every command shares, after rule selection and inline suppression.
    ``exit_code`` is `code` when the command decides its own, else what the kept findings give.
    """
    from flyteres.report.model import exit_code  # noqa: PLC0415 - same package; kept beside its use

    doc: dict[str, Any] = {"schema": f"flyteres.{command}/{SCHEMA_MAJOR}", **body}
    doc["exit_code"] = exit_code(selected.kept, errors) if code is None else code
    doc["findings"] = [i.to_dict() for i in selected.kept]
    doc["suppressed"] = selected.suppressed
    doc["ignored"] = selected.ignored
    return doc


def github_escape_data(text: str) -> str:
    """A workflow command's message, escaped as GitHub's runner reads it (``%``, CR and LF).

    >>> github_escape_data("50%\\nnext")
    '50%25%0Anext'
    """
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github_escape_property(text: str) -> str:
    """A workflow command's property value (file, title): the data escapes, plus ``:`` and ``,``.

    >>> github_escape_property("a,b: c")
    'a%2Cb%3A c'
    """
    return github_escape_data(text).replace(":", "%3A").replace(",", "%2C")


_GITHUB_COMMAND = {Level.ERROR: "error", Level.WARNING: "warning", Level.NOTE: "notice"}


def github(issues: Iterable[Issue], summary: str | None = None) -> list[str]:
    """One GitHub Actions workflow command per finding (``::error file=F,line=L,col=C,title=T::message``).

    The summary, when given, ends the output as a plain line: the log shows it, the runner ignores it.
    """
    out = []
    for i in issues:
        props = []
        if i.path is not None:
            props.append(f"file={github_escape_property(i.path)}")
            if i.line is not None:
                props.append(f"line={i.line}")
                if i.column is not None:
                    props.append(f"col={i.column}")
        title = f"{i.rule}: {i.title}" if i.title else i.rule
        props.append(f"title={github_escape_property(title)}")
        out.append(f"::{_GITHUB_COMMAND[i.level]} {','.join(props)}::{github_escape_data(i.message)}")
    if summary:
        out.append(summary)
    return out


def relative_uri(path: str, root: Path) -> tuple[str, bool]:
    """A file's SARIF URI: relative to `root` (and True) when it is below it, else an absolute file URI.

    A relative `path` is taken from the working directory, as the command read it.

    >>> relative_uri("pkg/my file.py", Path.cwd())
    ('pkg/my%20file.py', True)
    """
    from urllib.parse import quote  # noqa: PLC0415 - only SARIF output needs it

    full = Path(os.path.abspath(path))  # no symlinks resolved: the path as the user's tree spells it
    try:
        below = full.relative_to(os.path.abspath(root))
    except ValueError:
        return full.as_uri(), False
    return quote(PurePosixPath(*below.parts).as_posix()), True


def sarif(command: str, issues: Sequence[Issue], rules: Mapping[str, RuleInfo], root: Path) -> dict[str, Any]:
    """A SARIF 2.1.0 log of one run: the tool and the rules it reported, and one result per finding.

    Locations are relative to `root` (``uriBaseId`` ``%SRCROOT%``: the directory the command ran in),
    so a code-scanning upload places them in the repository checked out there.
    """
    used = sorted({i.rule for i in issues})
    index = {rule: n for n, rule in enumerate(used)}
    descriptors = []
    for rule in used:
        info = rules.get(rule)
        descriptors.append(
            {
                "id": rule,
                "name": rule,
                "shortDescription": {"text": info.summary if info else rule},
                "helpUri": info.help_uri if info else f"{DOCS_URL}/rules.md",
                "defaultConfiguration": {"level": (info.level if info else Level.WARNING).value},
            }
        )
    results = []
    for i in issues:
        result: dict[str, Any] = {
            "ruleId": i.rule,
            "ruleIndex": index[i.rule],
            "level": i.level.value,
            "message": {"text": f"{i.title}: {i.message}" if i.title else i.message},
        }
        if i.path is not None:
            uri, relative = relative_uri(i.path, root)
            artifact: dict[str, Any] = {"uri": uri}
            if relative:
                artifact["uriBaseId"] = "%SRCROOT%"
            location: dict[str, Any] = {"artifactLocation": artifact}
            if i.line is not None:
                region: dict[str, Any] = {"startLine": i.line}
                if i.column is not None:
                    region["startColumn"] = i.column
                location["region"] = region
            result["locations"] = [{"physicalLocation": location}]
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "flyteres",
                        "version": __version__,
                        "informationUri": HOME_URL,
                        "rules": descriptors,
                    }
                },
                "automationDetails": {"id": f"flyteres/{command}/"},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }


def dumps(doc: Mapping[str, Any]) -> str:
    """JSON as every command prints it: indented, keys in the order built."""
    return json.dumps(doc, indent=2)
