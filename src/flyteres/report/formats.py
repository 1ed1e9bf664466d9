"""The output formats every reporting command offers (kept alone: the CLI imports it at start-up)."""

from __future__ import annotations

from enum import Enum

__all__ = ["OutputFormat"]


class OutputFormat(str, Enum):
    """What ``--output-format`` chooses."""

    TEXT = "text"
    JSON = "json"
    GITHUB = "github"
    SARIF = "sarif"

    def __str__(self) -> str:
        return self.value
