"""Run each migrated workflow beside its flytekit original and compare the values.

    .venv/bin/python benchmarks/migrate_runs.py BEFORE AFTER FILE... [--json]

BEFORE and AFTER are the same tree before and after `flyteres migrate
--target flyte --write`; each FILE is a written file under AFTER. For every
flytekit `@workflow` of the original file whose inputs are all defaulted or of
a simple type (int, float, str, bool, or a list of those; a sample value is
made up), the original runs locally under flytekit and its migrated driver
under Flyte 2's local run (`flyte.with_runcontext(mode="local").run`), and the
two outputs are compared. A workflow whose original fails too, or whose module
needs a package this environment lacks, is counted apart.

This runs the corpus's own code: use it on projects you would run anyway.
benchmarks/migrate_corpus.py calls it with `--run`, in a separate process.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import inspect
import io
import json
import sys
import typing
from pathlib import Path
from types import ModuleType
from typing import Any

_SAMPLES: dict[Any, Any] = {int: 3, float: 1.5, str: "a", bool: True}


def _sample(annotation: Any) -> tuple[bool, Any]:
    """(whether a value was made up, the value) for a parameter's annotation."""
    if annotation in _SAMPLES:
        return True, _SAMPLES[annotation]
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is list and len(args) == 1 and args[0] in _SAMPLES:
        return True, [_SAMPLES[args[0]]] * 3
    return False, None


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
    return module


def _same(a: Any, b: Any) -> bool:
    with contextlib.suppress(Exception):
        if a == b:
            return True
    return repr(a) == repr(b)


def compare(before: Path, after: Path, files: list[Path]) -> list[dict[str, str]]:
    """One entry per workflow: file, workflow, outcome (same, different, migrated fails,
    original fails, skipped, not importable) and detail."""
    import flyte  # noqa: PLC0415 - only this tool runs programs
    from flytekit.core.workflow import WorkflowBase  # noqa: PLC0415

    flyte.init()
    out: list[dict[str, str]] = []
    for n, written in enumerate(files):
        rel = written.relative_to(after)
        try:
            old = _load(before / rel, f"_before_{n}")
            new = _load(after / rel, f"_after_{n}")
        except Exception as exc:
            out.append({"file": str(rel), "workflow": "", "outcome": "not importable", "detail": repr(exc)[:200]})
            continue
        for name, workflow in vars(old).items():
            if not isinstance(workflow, WorkflowBase) or workflow._workflow_function.__module__ != old.__name__:
                continue
            entry = {"file": str(rel), "workflow": name}
            inputs = {}
            for pname, p in inspect.signature(workflow._workflow_function).parameters.items():
                if p.default is inspect.Parameter.empty:
                    made, value = _sample(p.annotation)
                    if not made:
                        break
                    inputs[pname] = value
            else:
                try:
                    want = workflow(**inputs)
                except Exception as exc:
                    out.append({**entry, "outcome": "original fails", "detail": repr(exc)[:200]})
                    continue
                try:
                    got = flyte.with_runcontext(mode="local").run(getattr(new, name), **inputs).outputs()
                    got = got[0] if len(got) == 1 else tuple(got)
                except Exception as exc:
                    out.append({**entry, "outcome": "migrated fails", "detail": repr(exc)[:300]})
                    continue
                same = _same(got, want)
                detail = "" if same else f"{want!r} became {got!r}"[:300]
                out.append({**entry, "outcome": "same" if same else "different", "detail": detail})
                continue
            out.append({**entry, "outcome": "skipped", "detail": "an input of a type no sample is made for"})
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("files", type=Path, nargs="*")
    parser.add_argument("--json", action="store_true", help="print the entries as JSON")
    args = parser.parse_args()
    # The corpus's own prints stay out of the report.
    with contextlib.redirect_stdout(io.StringIO()):
        entries = compare(args.before, args.after, args.files)
    if args.json:
        print(json.dumps(entries))
    else:
        for e in entries:
            print(f"{e['file']}:{e['workflow']}: {e['outcome']}{': ' + e['detail'] if e['detail'] else ''}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
