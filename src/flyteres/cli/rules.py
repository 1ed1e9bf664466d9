"""`flyteres rules`: every rule id any command reports, with its level and one line (like ``ruff rule --all``).

The catalog (`flyteres.rules`) loads inside the command: registering it costs the CLI nothing at start-up.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated

import typer


class RulesFormat(str, Enum):
    """What ``flyteres rules --output-format`` prints."""

    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"


def rules(
    rule_id: Annotated[
        str | None, typer.Argument(metavar="[rule]", help="One rule id (or prefix) to show.", show_default=False)
    ] = None,
    output: Annotated[
        RulesFormat,
        typer.Option(
            "--output-format", help="text: one line each; json: schema flyteres.rules/1; markdown: docs/rules.md."
        ),
    ] = RulesFormat.TEXT,
) -> None:
    """List every rule id with its usual level, the commands that report it and what it means.

    Select or ignore rules by id or prefix with select/ignore in pyproject.toml's tool.flyteres; silence a line with
    `# flyteres: ignore[rule-id]`. Exit codes: 0 listed, 2 no rule has that id or prefix.
    """
    from flyteres.rules import catalog, markdown  # noqa: PLC0415 - the rule enums load when listed

    chosen = [r for r in catalog() if rule_id is None or r.id == rule_id or r.id.startswith(rule_id)]
    if not chosen:
        typer.echo(f"error: no rule id is or starts with {rule_id!r} (flyteres rules lists them)", err=True)
        raise typer.Exit(2)
    match output:
        case RulesFormat.JSON:
            doc = {"schema": "flyteres.rules/1", "rules": [r.to_dict() for r in chosen]}
            typer.echo(json.dumps(doc, indent=2))
        case RulesFormat.MARKDOWN:
            typer.echo(markdown(), nl=False)
        case RulesFormat.TEXT:
            width = max(len(r.id) for r in chosen)
            for r in chosen:
                typer.echo(f"{r.id:<{width}}  {r.level.value:<7}  {','.join(r.commands):<15}  {r.summary}")
