"""Where the Flyte 2 rewrite puts things in a module, and how it spells them.

Helpers of `flyteres.migrate.to_flyte` that read or edit the module around
the declarations: finding a top-level definition in both trees, the imports
(`isort`'s order, its parenthesized form), wrapping an override over lines,
and the names of environments.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from pathlib import PurePath

import libcst as cst

from flyteres.migrate.cst_edits import Builder
from flyteres.migrate.cst_index import Analysis
from flyteres.source.model import TaskDef

__all__ = [
    "aliased_import",
    "environment_stem",
    "flytekit_decorator",
    "import_statement",
    "importing",
    "is_import",
    "isort_key",
    "module_stem",
    "snake",
    "top_function",
    "top_index",
    "unique",
    "wrapped",
]


def top_function(analysis: Analysis, t: TaskDef) -> cst.FunctionDef | None:
    """The libcst node of a function defined at the module's top level (None: it is not);
    the n-th definition of a name in one tree is the n-th in the other."""
    same = [s for s in analysis.model.tree.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))]
    same = [s for s in same if s.name == t.name]
    if t.function not in same:
        return None
    ordinal = same.index(t.function)
    nodes = [s for s in analysis.module.body if isinstance(s, cst.FunctionDef) and s.name.value == t.name]
    return nodes[ordinal] if ordinal < len(nodes) else None


def top_index(analysis: Analysis, t: TaskDef) -> int:
    """The index in the module's body of a top-level definition (see `top_function`)."""
    node = top_function(analysis, t)
    return next(i for i, stmt in enumerate(analysis.module.body) if stmt is node)


def flytekit_decorator(analysis: Analysis, t: TaskDef) -> ast.expr | None:
    """The decorator that makes `t` a flytekit task or workflow."""
    for decorator in t.function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if analysis.names.canonical(target) == t.kind:
            return decorator
    return None


def import_statement(module: cst.Module, name: str) -> int | None:
    """The top-level `from <name> import ...` statement (name with its leading dots): the first
    that renames nothing, else the first."""
    found: list[int] = []
    for index, stmt in enumerate(module.body):
        if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
            node = stmt.body[0]
            if isinstance(node, cst.ImportFrom) and not isinstance(node.names, cst.ImportStar):
                dots = "".join("." for _ in node.relative)
                spelled = dots + (cst.Module([]).code_for_node(node.module) if node.module is not None else "")
                if spelled == name:
                    found.append(index)
    plain = [i for i in found if not aliased_import(module.body[i])]
    first = plain or found
    return first[0] if first else None


def isort_key(alias: cst.ImportAlias) -> tuple[int, str]:
    # isort's default order within a `from` import: CONSTANTS, Classes, functions.
    name = cst.Module([]).code_for_node(alias.name)
    kind = 0 if name.isupper() else 1 if name[:1].isupper() else 2
    return kind, name.lower()


def aliased_import(stmt: cst.BaseStatement) -> bool:
    """Whether a `from x import ...` statement names something `as` another name."""
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and isinstance(stmt.body[0], cst.ImportFrom)
        and not isinstance(stmt.body[0].names, cst.ImportStar)
        and any(a.asname is not None for a in stmt.body[0].names)
    )


def importing(names: Sequence[tuple[str, str]], width: int | None, module: cst.Module) -> Builder:
    """Add `variable [as local]` to a `from x import ...` statement, sorted as isort sorts;
    longer than `width`, it is written as isort writes it, one name per line in parentheses."""

    def build(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, cst.SimpleStatementLine)
        stmt = node.body[0]
        assert isinstance(stmt, cst.ImportFrom)
        assert not isinstance(stmt.names, cst.ImportStar)
        aliases = list(stmt.names)
        last_comma = aliases[-1].comma
        for variable, local in names:
            asname = None if local == variable else cst.AsName(name=cst.Name(local))
            aliases.append(cst.ImportAlias(name=cst.Name(variable), asname=asname))
        aliases.sort(key=isort_key)
        comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        if stmt.lpar is not None:  # parenthesized over lines: keep each alias's own separator
            comma = next((a.comma for a in stmt.names if isinstance(a.comma, cst.Comma)), comma)
        spaced = [a.with_changes(comma=comma) for a in aliases[:-1]] + [aliases[-1].with_changes(comma=last_comma)]
        new = node.with_changes(body=[stmt.with_changes(names=spaced)])
        text = module.code_for_node(new.with_changes(leading_lines=[]))
        if width is None or stmt.lpar is not None or max(map(len, text.splitlines())) <= width:
            return new
        spelled = "".join("." for _ in stmt.relative) + (module.code_for_node(stmt.module) if stmt.module else "")
        unit = module.default_indent
        lines = "".join(
            f"{unit}{module.code_for_node(a.with_changes(comma=cst.MaybeSentinel.DEFAULT))},\n" for a in aliases
        )
        wrapped = cst.parse_statement(f"from {spelled} import (\n{lines})\n", config=module.config_for_parsing)
        return wrapped.with_changes(leading_lines=node.leading_lines)

    return build


def is_import(stmt: cst.BaseStatement) -> bool:
    """Whether a top-level statement holds only imports."""
    return isinstance(stmt, cst.SimpleStatementLine) and all(
        isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body
    )


def wrapped(builder: Builder, unit: str) -> Builder:
    """`builder`, with the `.override(...)` call it writes one argument per line (the
    statement would be longer than the line length otherwise)."""

    def newline(extra: str) -> cst.ParenthesizedWhitespace:
        return cst.ParenthesizedWhitespace(indent=True, last_line=cst.SimpleWhitespace(extra))

    def build(node: cst.CSTNode) -> cst.CSTNode:
        out = builder(node)
        assert isinstance(out, cst.Call)
        override = out.func
        if not isinstance(override, cst.Call) or not override.args:
            return out
        args = [
            a.with_changes(
                comma=cst.Comma(whitespace_after=newline(unit if i + 1 < len(override.args) else "")),
                whitespace_after_arg=cst.SimpleWhitespace(""),
            )
            for i, a in enumerate(override.args)
        ]
        return out.with_changes(func=override.with_changes(whitespace_before_args=newline(unit), args=args))

    return build


def environment_stem(module: str | None, path: str) -> str:
    """An environment name unique across the run: the module's dotted name in snake case
    (`pkg_a.tasks` is `pkg_a_tasks`), or the file's stem without one."""
    if module:
        out = snake(module.replace(".", "_"))
        if out:
            return out if out[0].isalpha() else f"m_{out}"
    return module_stem(path)


_SNAKE = re.compile(r"[^a-z0-9]+")


def snake(text: str) -> str:
    """`FitModel` and `fit-model` as `fit_model`: a name valid in Python and for Flyte 2 environments."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text).lower()
    return _SNAKE.sub("_", text).strip("_")


def module_stem(path: str) -> str:
    """The file's stem in snake case (a package's directory for `__init__.py`); `module` when empty."""
    p = PurePath(path)
    stem = p.parent.name if p.stem == "__init__" else p.stem
    out = snake(stem) if not stem.startswith("<") else ""
    if not out:
        return "module"
    return out if out[0].isalpha() else f"m_{out}"


def unique(name: str, taken: set[str]) -> str:
    """`name`, or `name_2`, `name_3`... when taken."""
    if name not in taken:
        return name
    n = 2
    while f"{name}_{n}" in taken:
        n += 1
    return f"{name}_{n}"
