"""Modules by their importable dotted names, and relative imports resolved against them.

A file's dotted name is its path below the nearest directory that has no
`__init__.py` (the directory Python would need on `sys.path` to import it as
a package module): `examples/project/etl.py`, with
`examples/project/__init__.py` and no `examples/__init__.py`, is
`project.etl`; a package's `__init__.py` is the package itself. The rule does
not depend on the paths given on the command line, so a file gets the same
name whichever directory a run starts from.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path, PurePath

__all__ = ["module_names", "resolve_import"]


def module_names(paths: Iterable[Path]) -> dict[Path, str | None]:
    """Each file's importable dotted name (see the module notes), None when there is none."""
    is_package: dict[Path, bool] = {}

    def package(directory: Path) -> bool:
        known = is_package.get(directory)
        if known is None:
            known = (directory / "__init__.py").is_file()
            is_package[directory] = known
        return known

    out: dict[Path, str | None] = {}
    for path in paths:
        absolute = Path(path).absolute()
        parts: list[str] = [] if absolute.stem == "__init__" else [absolute.stem]
        directory = absolute.parent
        while package(directory) and directory.parent != directory:
            parts.insert(0, directory.name)
            directory = directory.parent
        name = ".".join(parts)
        out[path] = name if parts and all(p.isidentifier() for p in parts) else None
    return out


def resolve_import(qualified: str, module: str | None, path: str) -> str | None:
    """An absolute dotted name for `qualified` (which may start with dots: a relative import).

    `module` is the dotted name of the importing module, `path` its file
    (a package's `__init__.py` resolves relative imports against itself).

    >>> resolve_import(".etl.extract", "project.pipeline", "project/pipeline.py")
    'project.etl.extract'
    >>> resolve_import("..etl.extract", "project.flows.nightly", "project/flows/nightly.py")
    'project.etl.extract'
    >>> resolve_import(".etl.extract", "project", "project/__init__.py")
    'project.etl.extract'
    >>> resolve_import("..x", "top", "top.py") is None
    True
    """
    level = len(qualified) - len(qualified.lstrip("."))
    if level == 0:
        return qualified
    if module is None:
        return None
    package = module.split(".")
    if PurePath(path).name != "__init__.py":
        package = package[:-1]
    if level - 1 >= len(package):  # beyond the top-level package
        return None
    base = package[: len(package) - (level - 1)]
    rest = qualified[level:]
    return ".".join([*base, rest]) if rest else ".".join(base)
