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

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path, PurePath
from typing import TypeVar

_T = TypeVar("_T")

__all__ = ["ModuleTable", "import_root", "module_names", "nearest", "resolve_import"]


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


def import_root(path: str | Path, name: str | None) -> Path:
    """The directory a file is imported from under its dotted `name` (see `module_names`):
    the one Python needs on `sys.path`; the file's own directory when it has no name."""
    absolute = Path(path).absolute()
    if name is None:
        return absolute.parent
    return absolute.parents[name.count(".") + (1 if absolute.stem == "__init__" else 0)]


def nearest(candidates: Sequence[_T], roots: Callable[[_T], Path], root: Path) -> list[_T]:
    """The candidates under `root`; all of them when none is."""
    same = [c for c in candidates if roots(c) == root]
    return same or list(candidates)


class ModuleTable:
    """The files of a run by dotted name, where one name may belong to several files: a
    repository of several projects, each with its own `workflows` package, say. An import
    means the file of that name under the importer's own root (the directory on `sys.path`
    for it, see `module_names`); with none there, any file of that name.
    """

    def __init__(self, names: Mapping[Path, str | None]) -> None:
        self.names = names
        self.by_name: dict[str, list[Path]] = {}
        self.roots: dict[Path, Path] = {}
        for path, name in names.items():
            self.roots[path] = import_root(path, name)
            if name is not None:
                self.by_name.setdefault(name, []).append(path)

    def shared(self, path: Path) -> bool:
        """Whether the file's dotted name is another file's too."""
        name = self.names.get(path)
        return name is not None and len(self.by_name[name]) > 1

    def targets(self, absolute: str, importer: Path) -> list[Path]:
        """The files an import of `absolute` (a dotted name, perhaps of a name inside a module)
        from `importer` may load: the longest prefix that names a module of the run decides."""
        parts = absolute.split(".")
        for n in range(len(parts), 0, -1):
            files = self.by_name.get(".".join(parts[:n]))
            if files:
                return nearest(files, self.roots.__getitem__, self.roots[importer])
        return []

    def naming(self, path: Path) -> str | None:
        """The name to derive names from that must be unique across the run (environments):
        the dotted name, led by `root_label` when another file has it too."""
        name = self.names.get(path)
        if name is None or not self.shared(path):
            return name
        return f"{self.root_label(path)}.{name}"

    def root_label(self, path: Path) -> str:
        """The shortest tail of the file's root that no other root of its dotted name shares
        (`p1` for `repo/p1/workflows/tasks.py` beside `repo/p2/workflows/tasks.py`)."""
        name = self.names.get(path)
        root = self.roots[path]
        others = [self.roots[f] for f in self.by_name.get(name or "", []) if f != path]
        for n in range(1, len(root.parts) + 1):
            tail = root.parts[-n:]
            if all(o.parts[-n:] != tail for o in others):
                return "/".join(tail)
        return str(root)


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
