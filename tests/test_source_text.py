"""The source text of what `flyteres.source` finds: exact, by ast's byte columns, parentheses included."""

from __future__ import annotations

import ast
import doctest
import importlib

import pytest

from flyteres.source.analysis import SourceModule, find_declarations
from flyteres.source.flytekit import arguments_of
from flyteres.source.text import SourceText

HEADER = "from flytekit import Resources, task\n"


@pytest.mark.parametrize(
    ("call", "values"),
    [
        ("f(x)", ["x"]),
        ("f((x))", ["(x)"]),
        ("f(((x)), y)", ["((x))", "y"]),
        ("(f)(x)", ["x"]),
        ("f(k=(x))", ["(x)"]),
        ("f(\n    (  # why\n        x\n    )\n)", ["(  # why\n        x\n    )"]),
        ("f(x  # trailing\n)", ["x"]),
        ('f(("a", "b"))', ['("a", "b")']),
        ("f(*(a), **(b))", ["(a)", "(b)"]),
    ],
)
def test_an_argument_value_keeps_its_own_parentheses_not_the_calls(call: str, values: list[str]) -> None:
    text = SourceText(call + "\n")
    node = ast.parse(call).body[0].value  # type: ignore[attr-defined]
    assert [a.value_code for a in arguments_of(text, node)] == values


def test_an_argument_runs_to_the_next_one_comma_included() -> None:
    call = "f(a, **kw,  b=1 )"
    text = SourceText(call + "\n")
    node = ast.parse(call).body[0].value  # type: ignore[attr-defined]
    assert [a.code for a in arguments_of(text, node)] == ["a, ", "**kw,  ", "b=1 "]
    assert [(a.keyword, a.star, a.index) for a in arguments_of(text, node)] == [
        (None, "", 0),
        (None, "**", 1),
        ("b", "", 2),
    ]


def test_columns_are_bytes_so_text_after_non_ascii_characters_is_right() -> None:
    # ast counts columns in UTF-8 bytes: everything after the "ü" on that line is two bytes further.
    source = HEADER + '@task(requests=Resources(mem="ü"), limits=Resources(mem="2Gi" if X else "ä"))\ndef f(): ...\n'
    (d,) = find_declarations(source)
    assert d.arguments == {"requests": 'Resources(mem="ü")', "limits": 'Resources(mem="2Gi" if X else "ä")'}


def test_lone_carriage_returns_end_lines_as_python_reads_them() -> None:
    source = (HEADER + '@task(requests=Resources(cpu="1"))\ndef f(): ...\n').replace("\n", "\r")
    (d,) = find_declarations(source)
    assert (d.line, d.arguments) == (2, {"requests": 'Resources(cpu="1")'})


def test_the_module_quote_is_its_first_plain_string() -> None:
    assert SourceModule("x = f'{y}'\nz = 'a'\nw = \"b\"\n").quote == "'"
    assert SourceModule('"""doc"""\nz = \'a\'\n').quote == '"'
    assert SourceModule("x = rb'a'\n").quote == "'"
    assert SourceModule("x = 1\n").quote is None


def test_name_uses_count_what_a_concrete_tree_counts() -> None:
    module = SourceModule("import os\nwith open(p) as env:\n    env.read()\nenv = 1\nprint(env)\n")
    # `with ... as env` is not a use; the read, the assignment and the argument are.
    assert module.name_uses["env"] == 3
    assert module.name_uses["os"] == 0


@pytest.mark.parametrize(
    "name",
    [
        "flyteres.source.analysis",
        "flyteres.source.names",
        "flyteres.source.model",
        "flyteres.source.flyte_resources",
    ],
)
def test_the_source_modules_doctests_hold(name: str) -> None:
    assert doctest.testmod(importlib.import_module(name)).failed == 0
