"""The examples in the docstrings of the model, the converters and the catalog run as written."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "flyteres._errors",
    "flyteres._extras",
    "flyteres.accelerators.catalog",
    "flyteres.core.options",
    "flyteres.core.spec",
    "flyteres.convert._flytekit_read",
    "flyteres.convert._memo",
    "flyteres.convert.flyte",
    "flyteres.convert.flytekit",
    "flyteres.convert.idl",
    "flyteres.convert.k8s",
    "flyteres.convert.source",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
