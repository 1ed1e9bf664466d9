"""The light entry points stay light.

`import flyteres`, `flyteres --version`, `flyteres convert` on one spec and
`python -m flyteres --help` each run in a subprocess with
PYTHONPROFILEIMPORTTIME=1; the import tree on stderr says which modules
loaded and who imported each first. A heavy module (libcst, grpc, the SDKs,
yaml, rich where no help is drawn, ...) fails the test with the chain that
brought it in, e.g.

    flyteres --version loads libcst:
      flyteres.cli.app -> flyteres.cli.migrate -> flyteres.migrate.runner -> ... -> libcst

Heavy dependencies belong inside the commands that use them (see
flyteres/cli/app.py). The façade is checked here too: lazy, yet every public
name still there.
"""

from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

import flyteres

FLYTERES_BIN = Path(sys.executable).parent / "flyteres"
INIT = Path(flyteres.__file__)

# Never needed to start the CLI, print the version or convert one spec.
HEAVY = frozenset(
    {
        "libcst",
        "grpc",
        "yaml",
        "flytekit",
        "flyte",
        "flyteidl",
        "flyteidl2",
        "kubernetes",
        "betterproto",
        "flyteres_betterproto",
    }
)
# Typer draws help and usage errors with rich, and converts option values with
# pydantic (a bool flag such as --version skips the conversion); protobuf comes
# with the resource model. Each is heavy wherever its reason does not apply.
RICH = frozenset({"rich"})
PYDANTIC = frozenset({"pydantic", "pydantic_core"})
PROTOBUF = frozenset({"google.protobuf", "flyteres_pb"})


def heavy_root(module: str, heavy: frozenset[str]) -> str | None:
    """The entry of `heavy` that `module` is or is inside (grpc also stands for grpc_status, grpc_health, ...)."""
    top = module.split(".", maxsplit=1)[0]
    if top.startswith("grpc_"):
        return top
    return next((h for h in sorted(heavy) if module == h or module.startswith(h + ".")), None)


def import_parents(stderr: str) -> dict[str, str | None]:
    """Who first imported each module, read from `-X importtime` lines (None: the program or a function body).

    Python prints each import after the ones it caused, two spaces deeper:
    `import time:  self | cumulative | <2*depth spaces>name`.
    """
    parents: dict[str, str | None] = {}
    waiting: dict[int, list[str]] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or line.endswith("imported package"):
            continue
        field = line.split("|", 2)[2]
        name = field.strip()
        depth = (len(field) - len(field.lstrip(" ")) - 1) // 2
        for child in waiting.pop(depth + 1, []):
            parents[child] = name
        waiting.setdefault(depth, []).append(name)
        parents.setdefault(name, None)
    return parents


def chain(module: str, parents: dict[str, str | None]) -> list[str]:
    """`module` and its importers up to the first import, outermost first."""
    links = [module]
    while (parent := parents.get(links[-1])) is not None:
        links.append(parent)
    return links[::-1]


def heavy_chains(parents: dict[str, str | None], heavy: frozenset[str]) -> list[str]:
    """One chain per light module that brought in a heavy package (its first module only)."""
    found: dict[tuple[str | None, str], str] = {}
    for module, parent in parents.items():
        root = heavy_root(module, heavy)
        if root is None or (parent is not None and heavy_root(parent, heavy) is not None):
            continue
        if parent is None:
            found.setdefault((None, root), f"{module} (imported by the program itself or inside a function)")
        else:
            found.setdefault((parent, root), " -> ".join(chain(module, parents)))
    return sorted(found.values())


@dataclass(frozen=True)
class EntryPoint:
    name: str
    argv: Sequence[str]
    stdin: str
    stdout: str
    heavy: frozenset[str]


ENTRY_POINTS = [
    EntryPoint(
        "import flyteres",
        [sys.executable, "-c", "import flyteres; print(flyteres.__version__)"],
        "",
        flyteres.__version__,
        HEAVY | RICH | PYDANTIC | PROTOBUF | {"typer"},
    ),
    EntryPoint(
        "flyteres --version",
        [str(FLYTERES_BIN), "--version"],
        "",
        f"flyteres {flyteres.__version__}",
        HEAVY | RICH | PYDANTIC | PROTOBUF,
    ),
    EntryPoint(
        "flyteres convert",
        [str(FLYTERES_BIN), "convert", "--from", "flytekit", "--to", "flyte", "--policy", "kubernetes"],
        '{"limits": {"mem": "600Mi"}}',
        "flyte.Resources(memory=('600Mi', '600Mi'))",
        HEAVY | RICH,
    ),
    EntryPoint(
        "python -m flyteres --help",
        [sys.executable, "-m", "flyteres", "--help"],
        "",
        "One truth for Flyte task resources.",
        HEAVY | PYDANTIC | PROTOBUF,
    ),
]


# Not marked slow: four short subprocesses, and `make check` should catch a heavy import as it happens.
@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=[e.name for e in ENTRY_POINTS])
def test_entry_point_imports_nothing_heavy(entry: EntryPoint) -> None:
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    result = subprocess.run(entry.argv, input=entry.stdin, capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert entry.stdout in result.stdout
    parents = import_parents(result.stderr)
    assert "flyteres" in parents, "no import profile on stderr"
    found = heavy_chains(parents, entry.heavy)
    assert not found, f"{entry.name} loads heavy modules:\n  " + "\n  ".join(found)


def test_import_flyteres_loads_no_submodule() -> None:
    code = "import sys, flyteres; print(sorted(m for m in sys.modules if m.startswith('flyteres')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "['flyteres', 'flyteres._version']"


def test_chains_are_read_from_the_import_tree() -> None:
    stderr = "\n".join(
        [
            "import time: self [us] | cumulative | imported package",
            "import time:        10 |         10 |       libcst._nodes",
            "import time:        10 |         20 |     libcst",
            "import time:        10 |         30 |   flyteres.migrate.runner",
            "import time:        10 |         10 |   typer",
            "import time:        10 |         50 | flyteres.cli.app",
            "import time:        10 |         10 | yaml",
        ]
    )
    parents = import_parents(stderr)
    assert parents["libcst"] == "flyteres.migrate.runner"
    assert parents["typer"] == "flyteres.cli.app"
    assert heavy_chains(parents, HEAVY) == [
        "flyteres.cli.app -> flyteres.migrate.runner -> libcst",
        "yaml (imported by the program itself or inside a function)",
    ]


# The façade: lazy, and still the same public names.


def _type_checking_names() -> dict[str, str]:
    """Name -> defining module of every import under `if TYPE_CHECKING:` in flyteres/__init__.py."""
    names = {}
    for node in ast.parse(INIT.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom)
                assert stmt.module is not None
                for alias in stmt.names:
                    # `from flyteres import accelerators` names a submodule, the rest name a module's attribute.
                    module = f"flyteres.{alias.name}" if stmt.module == "flyteres" else stmt.module
                    names[alias.asname or alias.name] = module
    return names


def test_facade_type_checking_imports_match_the_lazy_table() -> None:
    declared = _type_checking_names()
    lazy = {**flyteres._LAZY, **{name: f"flyteres.{name}" for name in flyteres._SUBMODULES}}
    assert declared == lazy
    assert set(flyteres.__all__) == {*lazy, "__version__"}


@pytest.mark.parametrize("name", sorted(flyteres.__all__))
def test_facade_name_is_the_defining_modules_object(name: str) -> None:
    value = getattr(flyteres, name)
    if name in flyteres._SUBMODULES:
        assert value is importlib.import_module(f"flyteres.{name}")
    elif name != "__version__":
        assert value is getattr(importlib.import_module(flyteres._LAZY[name]), name)
    assert name in dir(flyteres)


def test_facade_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Resources'"):
        _ = flyteres.Resources


# check and verify read source with the standard library's ast: libcst (the codemod's parser) never loads,
# nor do the SDKs, grpc or kubernetes. yaml reads the platform file; Typer converts options with pydantic.
ROOT = Path(__file__).resolve().parent.parent
READERS = [
    (
        "flyteres check",
        ["check", str(ROOT / "examples" / "mixed"), str(ROOT / "examples" / "project"), "--platform",
         str(ROOT / "examples" / "admin.yaml")],
        "declaration(s) would be refused",
    ),
    (
        "flyteres verify",
        ["verify", str(ROOT / "tests" / "verify_pairs" / "h100" / "old"),
         str(ROOT / "tests" / "verify_pairs" / "h100" / "new")],
        "pair(s) get the same resources",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("name", "argv", "stdout"), READERS, ids=[r[0] for r in READERS])
def test_check_and_verify_never_load_libcst(name: str, argv: list[str], stdout: str) -> None:
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    result = subprocess.run([str(FLYTERES_BIN), *argv], capture_output=True, text=True, env=env, check=False)
    assert result.returncode in (0, 1), result.stderr[-2000:]
    assert stdout in result.stdout
    parents = import_parents(result.stderr)
    assert "flyteres.source.analysis" in parents, "the reader did not run"
    found = heavy_chains(parents, (HEAVY - {"yaml"}) | RICH)
    assert not found, f"{name} loads heavy modules:\n  " + "\n  ".join(found)
