"""Imports go one way, down the layers of the package.

    5  flyteres.service, flyteres.cli
    4  flyteres.check, flyteres.verify, flyteres.migrate, flyteres.rules
    3  flyteres.convert, flyteres.backend, flyteres.source, flyteres.report
    2  flyteres.core
    1  flyteres.accelerators
    0  flyteres._errors, flyteres._extras, flyteres._pb, flyteres._version (and the generated flyteres_pb)

Every module under src/flyteres is parsed with `ast` and every import counts,
at module level or inside a function, except those under `if TYPE_CHECKING:`
(they never run). A module may import its own layer or a lower one; packages
of one layer may import each other, but not in a cycle. `__main__.py` files
and the façades (`flyteres/__init__.py`, `flyteres/platform.py`) may import
anything, and nothing below them may import a façade: a library module that
did would depend on the whole package.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

# Package prefix -> layer. A module belongs to the longest prefix it starts with.
LAYERS: Mapping[str, int] = {
    "flyteres._errors": 0,
    "flyteres._extras": 0,
    "flyteres._pb": 0,
    "flyteres._version": 0,
    "flyteres.accelerators": 1,
    "flyteres.core": 2,
    "flyteres.convert": 3,
    "flyteres.backend": 3,
    "flyteres.source": 3,
    "flyteres.report": 3,
    "flyteres.check": 4,
    "flyteres.verify": 4,
    "flyteres.migrate": 4,
    "flyteres.rules": 4,
    "flyteres.service": 5,
    "flyteres.cli": 5,
}
FACADES = frozenset({"flyteres", "flyteres.platform"})


@dataclass(frozen=True)
class Import:
    """One import statement's target, resolved to a flyteres module (or a façade)."""

    importer: str
    target: str
    line: int


def package_of(module: str) -> str | None:
    """The layer prefix `module` belongs to (`flyteres.convert` for `flyteres.convert.idl`)."""
    matches = [p for p in LAYERS if module == p or module.startswith(p + ".")]
    return max(matches, key=len) if matches else None


def layer_of(module: str) -> int | None:
    package = package_of(module)
    return None if package is None else LAYERS[package]


def module_name(path: Path, root: Path = SRC) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_modules(root: Path = SRC) -> dict[str, Path]:
    """Every module of the flyteres package, by dotted name."""
    return {module_name(p, root): p for p in sorted((root / "flyteres").rglob("*.py"))}


def is_exempt(module: str, path: Path) -> bool:
    """Entry points and façades may import any layer."""
    return path.name == "__main__.py" or module in FACADES


def _is_type_checking(test: ast.expr) -> bool:
    match test:
        case ast.Name(id="TYPE_CHECKING") | ast.Attribute(attr="TYPE_CHECKING"):
            return True
    return False


def _runtime_imports(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement that can run: at module level, in functions and classes, not under TYPE_CHECKING."""
    match node:
        case ast.Import() | ast.ImportFrom():
            yield node
        case ast.If(test=test) if _is_type_checking(test):
            # The `else:` of an `if TYPE_CHECKING:` runs; its body does not.
            for stmt in node.orelse:
                yield from _runtime_imports(stmt)
        case _:
            for child in ast.iter_child_nodes(node):
                yield from _runtime_imports(child)


def _absolute(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(importer: str, source: str, known: frozenset[str], *, is_package: bool = False) -> list[Import]:
    """The flyteres modules `importer` imports at run time.

    `from flyteres import accelerators` imports the module `flyteres.accelerators`;
    `from flyteres import ResourceSpec` imports the façade `flyteres`.
    """
    found = []
    for node in _runtime_imports(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            module = _absolute(importer, is_package, node)
            targets = [f"{module}.{a.name}" if f"{module}.{a.name}" in known else module for a in node.names]
        found += [Import(importer, t, node.lineno) for t in targets if t == "flyteres" or t.startswith("flyteres.")]
    return found


def all_imports(root: Path = SRC) -> list[tuple[Import, Path]]:
    modules = source_modules(root)
    known = frozenset(modules)
    return [
        (imp, path)
        for module, path in modules.items()
        if not is_exempt(module, path)
        for imp in imports_of(module, path.read_text(encoding="utf-8"), known, is_package=path.name == "__init__.py")
    ]


def direction_violations(imports: list[tuple[Import, Path]]) -> list[str]:
    """`module -> imported (layer a -> layer b)` for every import that goes up (or into a façade)."""
    found = []
    for imp, path in imports:
        where = f"{path.relative_to(SRC.parent)}:{imp.line}"
        if imp.target in FACADES:
            found.append(f"{imp.importer} -> {imp.target} (a façade; import from the defining module) at {where}")
            continue
        a, b = layer_of(imp.importer), layer_of(imp.target)
        if a is not None and b is not None and a < b:
            found.append(f"{imp.importer} -> {imp.target} (layer {a} -> layer {b}) at {where}")
    return found


def package_cycles(imports: list[tuple[Import, Path]]) -> list[str]:
    """Import cycles between different packages of one layer (convert -> backend -> convert)."""
    edges: dict[str, dict[str, Import]] = {}
    for imp, _ in imports:
        src, dst = package_of(imp.importer), package_of(imp.target)
        if src and dst and src != dst and LAYERS[src] == LAYERS[dst]:
            edges.setdefault(src, {}).setdefault(dst, imp)
    cycles: set[tuple[str, ...]] = set()

    def walk(path: list[str]) -> None:
        for nxt in sorted(edges.get(path[-1], {})):
            if nxt == path[0]:
                cycles.add(tuple(path))
            elif nxt not in path and nxt > path[0]:  # each cycle once, from its smallest package
                walk([*path, nxt])

    for start in sorted(edges):
        walk([start])
    return [
        " -> ".join(
            f"{a} ({edges[a][b].importer}:{edges[a][b].line} imports {edges[a][b].target})"
            for a, b in zip(cycle, [*cycle[1:], cycle[0]], strict=True)
        )
        + f" -> {cycle[0]}"
        for cycle in sorted(cycles)
    ]


def test_every_module_has_a_layer() -> None:
    unplaced = [m for m, p in source_modules().items() if not is_exempt(m, p) and layer_of(m) is None]
    assert not unplaced, f"modules outside every layer (add their package to LAYERS): {unplaced}"


def test_imports_go_down_the_layers() -> None:
    violations = direction_violations(all_imports())
    assert not violations, "imports against the layer order:\n" + "\n".join(violations)


def test_no_import_cycle_between_packages_of_one_layer() -> None:
    cycles = package_cycles(all_imports())
    assert not cycles, "import cycles between packages of one layer:\n" + "\n".join(cycles)


# The checker itself, on small sources: it must see what it claims to see.

KNOWN = frozenset({"flyteres", "flyteres.accelerators", "flyteres.cli", "flyteres.convert", "flyteres.backend"})


def _check(importer: str, source: str) -> list[str]:
    fake = SRC / "flyteres" / "x.py"
    return direction_violations([(imp, fake) for imp in imports_of(importer, source, KNOWN)])


def test_checker_flags_an_upward_import_inside_a_function() -> None:
    source = "def f():\n    from flyteres.cli.app import app\n"
    assert _check("flyteres.core.spec", source) == [
        "flyteres.core.spec -> flyteres.cli.app (layer 2 -> layer 5) at src/flyteres/x.py:2"
    ]


def test_checker_skips_type_checking_but_not_its_else() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from flyteres.cli.app import app\n"
        "else:\n    import flyteres.service.server\n"
    )
    assert [v.split(" (")[0] for v in _check("flyteres.core.spec", source)] == [
        "flyteres.core.spec -> flyteres.service.server"
    ]


def test_checker_tells_a_submodule_from_a_facade_name() -> None:
    assert _check("flyteres.convert.flyte", "from flyteres import accelerators\n") == []
    assert _check("flyteres.convert.flyte", "from flyteres import ResourceSpec\n") == [
        "flyteres.convert.flyte -> flyteres (a façade; import from the defining module) at src/flyteres/x.py:1"
    ]


def test_checker_resolves_relative_imports() -> None:
    imports = imports_of("flyteres.core.spec", "from ..cli import app\nfrom . import quantity\n", KNOWN)
    assert [i.target for i in imports] == ["flyteres.cli", "flyteres.core"]


def test_checker_finds_a_cycle_between_packages_of_one_layer() -> None:
    fake = SRC / "flyteres" / "x.py"
    imports = [
        (Import("flyteres.convert.flyte", "flyteres.backend.merge", 3), fake),
        (Import("flyteres.backend.merge", "flyteres.convert.idl", 7), fake),
        (Import("flyteres.backend.merge", "flyteres.core.spec", 8), fake),
    ]
    expected = (
        "flyteres.backend (flyteres.backend.merge:7 imports flyteres.convert.idl) -> "
        "flyteres.convert (flyteres.convert.flyte:3 imports flyteres.backend.merge) -> flyteres.backend"
    )
    assert package_cycles(imports) == [expected]
