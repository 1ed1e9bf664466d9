"""Output a reviewer does not send back: imports where isort/ruff put them, unused ones gone, long lines wrapped.

- `flyte_import_position`: `import flyte` goes into the import block that
  holds the module's flytekit import, where isort's default order (ruff's
  `I001`) puts it: among that block's `import x` statements by name, before
  its `from x import y` statements.
- `unused_imports`: names the rewrite stopped using (`Resources`, `task`,
  `workflow`) are removed from their `from x import ...` statement (the
  statement goes when nothing is left), and an `import x` of one name goes,
  as libcst's `RemoveImportsVisitor` would, at a fraction of its cost (it
  costs half a second a module); a name
  the module did not use before, or that `__all__` names, is left alone.
- `wrap_call`: a statement `name = f(a, b)` longer than the line length is
  written one argument per line with a trailing comma, as black and
  `ruff format` write it; an argument still too long is split the same way.
- `project_line_length`: the line length the file's project lints with.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import libcst as cst

from flyteres.migrate.cst_edits import leading
from flyteres.source.names import function_locals, name_uses

__all__ = [
    "DEFAULT_LINE_LENGTH",
    "drop_names",
    "flyte_import_position",
    "imports_left",
    "project_line_length",
    "spread",
    "unused_imports",
    "wrap_call",
]

#: black's and ruff's default, when the project says nothing.
DEFAULT_LINE_LENGTH = 88

_SDK_PACKAGES = ("flytekit", "union", "unionai")


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


def _module_of(stmt: cst.BaseStatement) -> tuple[str, bool] | None:
    """(the module an import statement names, whether it is `from x import ...`)."""
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return None
    node = stmt.body[0]
    if isinstance(node, cst.Import):
        return _code(node.names[0].name), False
    if isinstance(node, cst.ImportFrom) and node.module is not None and not node.relative:
        return _code(node.module), True
    return None


def flyte_import_position(body: Sequence[cst.BaseStatement], fallback: int) -> tuple[int, bool]:
    """Where `import flyte` goes (an index into the module's body) and whether it starts its
    block (it then takes over the blank lines above the statement it goes before)."""
    for index, stmt in enumerate(body):
        named = _module_of(stmt)
        if named is None or named[0].partition(".")[0] not in _SDK_PACKAGES:
            continue
        start = index
        while start > 0 and not leading(body[start]) and _module_of(body[start - 1]) is not None:
            start -= 1
        end = index
        while end + 1 < len(body) and not leading(body[end + 1]) and _module_of(body[end + 1]) is not None:
            end += 1
        for at in range(start, end + 1):
            module, is_from = _module_of(body[at]) or ("", True)
            if is_from or module.lower() > "flyte":
                return at, at == start
        return end + 1, False
    return fallback, False


def unused_imports(module: cst.Module, before: Counter[str], after: str) -> dict[int, frozenset[str]]:
    """The `from x import name` (and `import x`) names the rewrite made unused, by the index of their
    top-level statement in `module` (the original tree): `before` (the original's name
    uses) has them, `after` (the rewritten source) does not, and `__all__` does not name them."""
    try:
        new_tree = ast.parse(after)
    except SyntaxError:
        return {}
    old_uses, new_uses = before, name_uses(new_tree) - Counter(n.id for n in function_locals(new_tree))
    exported = {
        n.value
        for n in ast.walk(new_tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and new_uses["__all__"]
    }
    out: dict[int, frozenset[str]] = {}
    for index, stmt in enumerate(module.body):
        if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
            continue
        node = stmt.body[0]
        if isinstance(node, cst.Import) and len(node.names) == 1:
            # `import flytekit` whose last use the rewrite replaced (`flytekit.current_context()`).
            alias = node.names[0]
            local = _code(alias.asname.name) if alias.asname is not None else _code(alias.name).partition(".")[0]
            if old_uses[local] and not new_uses[local] and local not in exported:
                out[index] = frozenset({local})
            continue
        if not isinstance(node, cst.ImportFrom) or isinstance(node.names, cst.ImportStar):
            continue
        gone = set()
        for alias in node.names:
            local = _code(alias.asname.name) if alias.asname is not None else _code(alias.name)
            if old_uses[local] and not new_uses[local] and local not in exported:
                gone.add(local)
        if gone:
            out[index] = frozenset(gone)
    return out


def drop_names(stmt: cst.CSTNode, names: frozenset[str]) -> cst.CSTNode:
    """A `from x import ...` statement without `names` (it keeps at least one name)."""
    assert isinstance(stmt, cst.SimpleStatementLine)
    node = stmt.body[0]
    assert isinstance(node, cst.ImportFrom)
    assert not isinstance(node.names, cst.ImportStar)
    aliases = list(node.names)
    kept = [a for a in aliases if (_code(a.asname.name) if a.asname is not None else _code(a.name)) not in names]
    if kept and kept[-1] is not aliases[-1]:
        kept[-1] = kept[-1].with_changes(comma=aliases[-1].comma)
    return stmt.with_changes(body=[node.with_changes(names=kept)])


def imports_left(stmt: cst.BaseStatement, names: frozenset[str]) -> bool:
    """Whether a `from x import ...` statement keeps a name once `names` are dropped (an
    `import x` statement of one name never does)."""
    assert isinstance(stmt, cst.SimpleStatementLine)
    node = stmt.body[0]
    if isinstance(node, cst.Import):
        return False
    assert isinstance(node, cst.ImportFrom)
    assert not isinstance(node.names, cst.ImportStar)
    return any((_code(a.asname.name) if a.asname is not None else _code(a.name)) not in names for a in node.names)


def _split_call(text: str, *, indent: str, prefix: str, unit: str, width: int, suffix: str = ",") -> str:
    """`text` (an expression written after `indent + prefix`) as it is when the line fits,
    else a call one argument per line (a list, as `secrets=[...]`, one item per line)."""
    if len(indent) + len(prefix) + len(text) + len(suffix) <= width:
        return text
    try:
        node = cst.parse_expression(text)
    except cst.ParserSyntaxError:
        return text
    inner = indent + unit
    if isinstance(node, cst.List) and node.elements:
        items = [
            f"{inner}{_split_call(_code(e.value), indent=inner, prefix='', unit=unit, width=width)},"
            for e in node.elements
        ]
        return "[\n" + "\n".join(items) + f"\n{indent}]"
    if not isinstance(node, cst.Call) or not node.args:
        return text
    lines = []
    for arg in node.args:
        keyword = f"{arg.keyword.value}=" if arg.keyword is not None else arg.star
        value = _split_call(_code(arg.value), indent=inner, prefix=keyword, unit=unit, width=width)
        lines.append(f"{inner}{keyword}{value},")
    return f"{_code(node.func)}(\n" + "\n".join(lines) + f"\n{indent})"


def wrap_call(statement: str, unit: str, width: int) -> str:
    """`target = call(...)\\n` wrapped one argument per line when longer than `width`."""
    line = statement.rstrip("\n")
    target, sep, value = line.partition(" = ")
    if len(line) <= width or not sep:
        return statement
    wrapped = _split_call(value, indent="", prefix=f"{target} = ", unit=unit, width=width, suffix="")
    return f"{target} = {wrapped}\n"


def _newline(extra: str) -> cst.ParenthesizedWhitespace:
    # indent=True: the enclosing block's indentation first, then `extra`.
    return cst.ParenthesizedWhitespace(indent=True, last_line=cst.SimpleWhitespace(extra))


def spread(call: cst.Call, *, unit: str, width: int, indent: int, column: int, depth: int = 0) -> cst.Call:
    """`call` one argument per line, with a trailing comma, when it does not fit: it starts at
    `column` of a line in a block indented by `indent`; an argument still too long that is a
    call itself is spread the same way. A call already written over several lines is spread
    too: its old line breaks would not line up where it now stands."""
    code = _code(call)
    if ("\n" not in code and column + len(code) <= width) or not call.args:
        return call
    base, inner = unit * depth, unit * (depth + 1)
    args = []
    for arg in call.args:
        value = arg.value
        if isinstance(value, cst.Call):
            keyword = len(_code(arg.keyword)) + 1 if arg.keyword is not None else len(arg.star)
            start = indent + len(inner) + keyword
            value = spread(value, unit=unit, width=width - 1, indent=indent, column=start, depth=depth + 1)
        args.append(
            arg.with_changes(
                value=value,
                comma=cst.Comma(whitespace_after=_newline(inner)),
                whitespace_after_arg=cst.SimpleWhitespace(""),
            )
        )
    args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=_newline(base)))
    return call.with_changes(whitespace_before_args=_newline(inner), args=args)


_LENGTH_SETTING = re.compile(r"^\s*line[-_]length\s*=\s*(\d+)", re.MULTILINE)
_SECTION = re.compile(r"^\s*\[([^\]]+)\]", re.MULTILINE)


def _configured(text: str, sections: Sequence[str | None]) -> int | None:
    """`line-length` in one of `sections` of a TOML text (None: the top level)."""
    marks = [(m.start(), m.group(1).strip()) for m in _SECTION.finditer(text)]
    for m in _LENGTH_SETTING.finditer(text):
        section = None
        for start, name in marks:
            if start < m.start():
                section = name
        if section in sections:
            return int(m.group(1))
    return None


def project_line_length(path: Path) -> int:
    """The line length the file's project lints with: ruff's (`ruff.toml`, `.ruff.toml`,
    `[tool.ruff]`), else black's (`[tool.black]`), from the nearest directory that
    configures one; `DEFAULT_LINE_LENGTH` when none does."""
    for directory in Path(path).absolute().parents:
        for name, sections in (
            ("ruff.toml", (None,)),
            (".ruff.toml", (None,)),
            ("pyproject.toml", ("tool.ruff", "tool.black")),
        ):
            try:
                text = (directory / name).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            found = _configured(text, sections)
            if found is not None:
                return found
    return DEFAULT_LINE_LENGTH
