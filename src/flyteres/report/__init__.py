"""What every reporting command shares: findings as `Issue`s, their selection, and their output formats.

`check`, `verify`, `convert` and `migrate` each turn their report into a list
of `Issue` (a rule id, a level, a message and where it points); this package
selects them (`select`/`ignore` by rule id, inline ``# flyteres: ignore``),
renders them as text, JSON, GitHub Actions workflow commands or SARIF 2.1.0,
and reads ``[tool.flyteres]`` from ``pyproject.toml``. It imports neither the
commands nor Typer, so the CLI stays a thin layer over it.
"""
