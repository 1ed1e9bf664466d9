"""``[tool.flyteres]`` in ``pyproject.toml``: the settings a project keeps for every command.

The file is found as ruff finds its own: from the first path argument (or
the working directory) upwards, stopping at the repository root (a directory
holding ``.git``). A ``pyproject.toml`` without a ``[tool.flyteres]`` table
is passed over. File settings (``platform``, ``cluster``) are relative to
the ``pyproject.toml``. Flags on the command line override every key.

An unknown key or a bad value is a `ConfigError` whose text is
``file:line: key: reason`` (tomllib gives no positions: the line is found in
the text; ``file: key: reason`` when it cannot be).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["KEYS", "Config", "ConfigError", "find_config", "load_config"]


#: Every key of ``[tool.flyteres]`` with what it holds (docs/cli.md lists them with the flag each sets).
KEYS: Mapping[str, str] = {
    "policy": "strict or kubernetes (convert, migrate)",
    "target": "convert's --to, or migrate's --target (flyte or flytekit)",
    "platform": "the platform file for check and verify, relative to pyproject.toml",
    "cluster": "a list of cluster manifests (ResourceQuota, LimitRange, ConfigMap), relative to pyproject.toml",
    "exclude": "a list of git-style patterns of files to leave out",
    "include": "a list of git-style patterns of files to read",
    "select": "a list of rule ids or prefixes to report (default: all)",
    "ignore": "a list of rule ids or prefixes not to report",
    "output-format": "text, json, github or sarif",
}
_CHOICES = {
    "policy": ("strict", "kubernetes"),
    "target": ("flyte", "flytekit", "flytekit-resources", "spec", "k8s", "flyteidl", "flyteidl2"),
    "output-format": ("text", "json", "github", "sarif"),
}
_LISTS = frozenset({"cluster", "exclude", "include", "select", "ignore"})


class ConfigError(ValueError):
    """A ``[tool.flyteres]`` table the commands cannot use; the text is ``file:line: key: reason``."""


@dataclass(frozen=True)
class Config:
    """The settings of one ``[tool.flyteres]`` table (None or empty: not set). ``path`` is the file read."""

    path: Path | None = None
    policy: str | None = None
    target: str | None = None
    platform: Path | None = None
    cluster: tuple[Path, ...] = ()
    exclude: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    output_format: str | None = None


def find_config(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` with a ``[tool.flyteres]`` table at or above `start`, up to the repo root."""
    here = start.resolve()
    if not here.is_dir():
        here = here.parent
    for directory in (here, *here.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file() and _has_table(candidate):
            return candidate
        if (directory / ".git").exists():
            return None
    return None


def _has_table(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    # A cheap look before parsing: most pyproject.toml files have no such table.
    return re.search(r"^\s*\[\s*tool\s*\.\s*flyteres\s*[\].]", text, re.MULTILINE) is not None or (
        "flyteres" in text and "tool" in text and _parsed_table(text) is not None
    )


def _loads(text: str) -> dict[str, Any]:
    """TOML text as a dict, with tomllib (tomli on 3.10, where it is a dependency), loaded only when a file
    is parsed; a malformed file raises ValueError (both libraries' TOMLDecodeError is one)."""
    if sys.version_info >= (3, 11):
        import tomllib  # noqa: PLC0415 - most runs find no [tool.flyteres] and never parse TOML
    else:
        import tomli as tomllib  # noqa: PLC0415

    return dict(tomllib.loads(text))


def _parsed_table(text: str) -> Mapping[str, Any] | None:
    try:
        tool = _loads(text).get("tool", {})
    except ValueError:
        return None
    table = tool.get("flyteres") if isinstance(tool, dict) else None
    return table if isinstance(table, dict) else None


def load_config(path: Path) -> Config:
    """Read and check the ``[tool.flyteres]`` table of `path` (an empty `Config` when it has none)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None
    try:
        tool = _loads(text).get("tool", {})
    except ValueError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    table = tool.get("flyteres", {}) if isinstance(tool, dict) else {}
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: tool.flyteres: must be a table")
    values: dict[str, Any] = {}
    for key, value in table.items():
        where = _where(path, text, key)
        if key not in KEYS:
            raise ConfigError(f"{where}: {key}: unknown key; the keys are {', '.join(KEYS)}")
        if key in _LISTS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where}: {key}: must be a list of strings")
            values[key] = tuple(value)
        elif not isinstance(value, str):
            raise ConfigError(f"{where}: {key}: must be a string")
        elif key in _CHOICES and value not in _CHOICES[key]:
            raise ConfigError(f"{where}: {key}: {value!r} is not one of {', '.join(_CHOICES[key])}")
        else:
            values[key] = value
    base = path.parent
    platform = values.get("platform")
    return Config(
        path=path,
        policy=values.get("policy"),
        target=values.get("target"),
        platform=None if platform is None else base / platform,
        cluster=tuple(base / c for c in values.get("cluster", ())),
        exclude=values.get("exclude", ()),
        include=values.get("include", ()),
        select=values.get("select", ()),
        ignore=values.get("ignore", ()),
        output_format=values.get("output-format"),
    )


def _where(path: Path, text: str, key: str) -> str:
    """``file:line`` of `key` inside the ``[tool.flyteres]`` table, or ``file`` when it is not found there."""
    inside = False
    pattern = re.compile(rf"""^\s*(?:{re.escape(key)}|"{re.escape(key)}"|'{re.escape(key)}')\s*=""")
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("["):
            inside = re.match(r"\[\s*tool\s*\.\s*flyteres\s*\]", stripped) is not None
            continue
        if inside and pattern.match(line):
            return f"{path}:{number}"
    return str(path)
