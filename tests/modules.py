"""Importing a file as a module: the scripts and benchmarks tests drive, and the programs they migrate."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def import_file(path: Path, name: str) -> ModuleType:
    """`path` executed as the module `name`, registered in `sys.modules` first (dataclasses and flytekit's
    task names look their module up there)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
