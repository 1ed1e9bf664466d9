"""Golden cases for reading declarations: `tests/source_cases/<case>/input.py.txt` and what is found in it.

`expected.json` holds, for each case, every declaration (`find_declarations`),
every task and workflow with the environment it runs in, every Flyte 2
override with where it is written, and the calls between tasks. The cases
cover every Flyte 2 form issue 14 lists (aliases, positional arguments,
`clone_with`, overrides awaited, in loops and in `flyte.map`, every GPU form,
`shm=`, `disk=`, module constants) and flytekit's `**` dicts.

Regenerate after an intended change with FLYTERES_UPDATE_GOLDENS=1, then read
the diff: the goldens are the specification.
"""

from __future__ import annotations

import json
import os
import pathlib
from typing import Any

import pytest

from flyteres.source.analysis import SourceModule

CASES_DIR = pathlib.Path(__file__).parent / "source_cases"
CASES = sorted(d.name for d in CASES_DIR.iterdir() if (d / "input.py.txt").exists())
UPDATE = os.environ.get("FLYTERES_UPDATE_GOLDENS") == "1"


def summary(module: SourceModule) -> dict[str, Any]:
    """Everything the model found, as plain data."""
    declarations = []
    for d in module.declarations():
        item = d.to_dict()
        del item["path"]
        declarations.append(item)
    tasks = []
    for t in module.tasks:
        env = None
        if t.flyte is not None:
            env = t.flyte.environment.label if t.flyte.environment is not None else t.flyte.env_qualified
        tasks.append({"name": t.name, "sdk": t.sdk, "kind": t.kind, "line": t.line, "environment": env})
    overrides = [
        {
            "line": o.line,
            "target": o.target,
            "function": o.function,
            "in_loop": o.in_loop,
            "awaited": o.awaited,
            "chained": o.chained,
            "sets_resources": o.resources is not None,
        }
        for o in module.overrides
    ]
    calls = [[c.caller, c.callee, c.line, c.qualified] for c in module.task_calls()]
    return {"declarations": declarations, "tasks": tasks, "overrides": overrides, "calls": calls}


@pytest.mark.parametrize("case", CASES)
def test_source_case(case: str) -> None:
    directory = CASES_DIR / case
    source = (directory / "input.py.txt").read_text(encoding="utf-8")
    found = summary(SourceModule(source, f"{case}.py"))
    expected_path = directory / "expected.json"
    if UPDATE:
        expected_path.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    assert found == json.loads(expected_path.read_text(encoding="utf-8"))
