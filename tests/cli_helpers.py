"""Running the whole `flyteres` app in-process for the CLI contract tests (tests/test_cli_*.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from typer.testing import CliRunner

from flyteres.cli.app import app

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SCHEMAS = ROOT / "docs" / "schemas"


def invoke(*args: str | Path, stdin: str | None = None) -> tuple[int, str, str]:
    """`flyteres ARGS` in this process: exit code, stdout, stderr."""
    result = CliRunner().invoke(app, [str(a) for a in args], input=stdin)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def validator(name: str) -> Any:
    """A jsonschema validator for docs/schemas/NAME.schema.json, resolving its reference to common.schema.json."""
    schemas = {p.name: json.loads(p.read_text()) for p in SCHEMAS.glob("*.schema.json")}
    registry: Registry[Any] = Registry().with_resources(
        (doc["$id"], Resource.from_contents(doc)) for doc in schemas.values()
    )
    schema = schemas[f"{name}.schema.json"]
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)
