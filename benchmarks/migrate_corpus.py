"""Migrate a real project to Flyte 2 on a copy, and report whether the result is whole, lint-clean and faithful.

    .venv/bin/python benchmarks/migrate_corpus.py PATH [--json]

PATH is a source tree, or a git directory (a bare repository or a `.git`)
whose newest commit's `*.py` files are copied out first (see
benchmarks/corpus.py). A missing PATH is skipped with a message. The tree is
copied twice; `flyteres migrate --target flyte --write` runs on one copy and
the report sets the two side by side:

- task groups (connected modules holding flytekit constructs): how many
  moved to Flyte 2 and, for the rest, the blocking constructs by kind;
- resource-declaring task decorators migrated, in percent (target: 60), and
  each group that left some as written: its files, how many, and what blocked it;
- half-migrated modules, read back with the source model: a module holding
  both a Flyte 2 task and a flytekit task, workflow or override (must be 0);
- flytekit workflows calling a Flyte 2 task, in the same module or through an
  import of the run (must be 0);
- new ruff F401, I001 and E501 findings in the files written, at each file's
  project line length (must be 0);
- `flyteres verify` on the two trees: pairs compared and changed;
- with `--run`, every migrated workflow run beside its original
  (benchmarks/migrate_runs.py, in its own process): this runs the corpus's code.

Used by `make bench CORPUS=PATH` and by tests/test_migrate_corpus.py (slow; it
runs when FLYTERES_CORPUS names such a path). Nothing of the corpus is kept.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

from flyteres.migrate import MigrationTarget, Options, run
from flyteres.migrate.tidy import project_line_length
from flyteres.source.analysis import SourceModule, SourceParseError
from flyteres.source.modules import ModuleTable, module_names, resolve_import
from flyteres.verify import verify_paths

_RULES = "F401,I001,E501"
_TASK_KINDS = ("task", "dynamic", "eager")


def _survey_module() -> ModuleType:
    """benchmarks/corpus.py, for its git extraction."""
    path = Path(__file__).resolve().parent / "corpus.py"
    spec = importlib.util.spec_from_file_location("corpus_survey", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _blocking_kind(construct: str, rule: str, reason: str) -> str:
    """`@workflow wf` -> `@workflow`; `task fit` (a declaration left as written) -> its rule;
    an argument without a Flyte 2 form -> the argument (`task_config=`)."""
    head, _, rest = construct.partition(" ")
    first = reason.split(" ", 1)[0].rstrip(":")  # `secret_requests=: a Secret without ...`
    if rule == "unsupported-argument" and first.endswith("="):
        return f"{head.lstrip('@')}: {first}"
    if head == "import":  # a flytekit plugin's import: the plugin is the kind
        return construct
    if head.startswith("@"):
        return f"{head} ({rule})" if rule != "unsupported-decorator" else head
    if rest:  # a declaration: `task fit`, `with_overrides t`
        return f"{head}: {rule}"
    return construct


def _modules(root: Path) -> dict[Path, SourceModule]:
    out = {}
    for path in sorted(root.rglob("*.py")):
        try:
            out[path] = SourceModule(path.read_text(encoding="utf-8"), str(path))
        except (SourceParseError, UnicodeDecodeError, RecursionError):
            continue
    return out


def _whole_program_checks(root: Path) -> tuple[list[str], list[str]]:
    """Half-migrated modules, and flytekit workflows calling a Flyte 2 task, in the tree."""
    models = _modules(root)
    table = ModuleTable(module_names(list(models)))
    flyte_tasks = {path: {t.name for t in model.tasks if t.sdk == "flyte"} for path, model in models.items()}
    half, calls = [], []

    def behind(qualified: str, importer: Path, depth: int = 0) -> bool:
        """Whether an imported name is a Flyte 2 task of the run, followed through the modules that
        import it again (a package's `__init__.py` re-exporting `from .tasks import t`)."""
        absolute = resolve_import(qualified, table.names.get(importer), str(importer))
        module, _, name = (absolute or "").rpartition(".")
        if not module or depth > 8:
            return False
        for f in table.targets(module, importer):
            if name in flyte_tasks.get(f, set()):
                return True
            again = models[f].names.imports.get(name) if f in models else None
            if again is not None and behind(again, f, depth + 1):
                return True
        return False

    for path, model in models.items():
        sdks = {t.sdk for t in model.tasks} | ({"flytekit"} if model.found else set())
        if {"flyte", "flytekit"} <= sdks:
            half.append(str(path))
        workflows = {t.name for t in model.tasks if t.sdk == "flytekit" and t.kind == "workflow"}
        local = {t.name for t in model.tasks}  # a definition here shadows an import of the name
        for call in model.task_calls():
            if call.caller not in workflows:
                continue
            if call.callee in local or call.qualified is None:
                target = call.callee in flyte_tasks[path]
            else:
                target = behind(call.qualified, path)
            if target:
                calls.append(f"{path}:{call.line}: {call.caller} calls {call.callee}")
    return half, calls


def _ruff(paths: list[Path], line_length: int) -> Counter[tuple[str, str]]:
    """ruff's findings by (file name relative to its tree root marker, rule)."""
    ruff = Path(sys.executable).parent / "ruff"
    if not ruff.exists() or not paths:
        return Counter()
    options = ["--isolated", "--select", _RULES, "--line-length", str(line_length), "--output-format", "json"]
    out = subprocess.run(
        [str(ruff), "check", *options, "--exit-zero", *map(str, paths)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return Counter((Path(f["filename"]).name, f["code"]) for f in json.loads(out))


def _new_lint(before: Path, after: Path, written: list[Path]) -> tuple[Counter[str], Counter[str], Counter[str]]:
    """(findings before, after, new) by rule, in the files written, each at its project's line length."""
    old: Counter[str] = Counter()
    new: Counter[str] = Counter()
    added: Counter[str] = Counter()
    by_length: dict[int, list[Path]] = {}
    for path in written:
        by_length.setdefault(project_line_length(path), []).append(path)
    for length, paths in by_length.items():
        for path in paths:
            was = _ruff([before / path.relative_to(after)], length)
            now = _ruff([path], length)
            for (_, rule), n in was.items():
                old[rule] += n
            for (_, rule), n in now.items():
                new[rule] += n
                added[rule] += max(0, n - was.get((path.name, rule), 0))
    return old, new, added


def _runs(before: Path, after: Path, written: list[Path]) -> dict[str, Any]:
    """benchmarks/migrate_runs.py on the files written: outcomes counted, and the entries that are
    neither the same value nor explained by the corpus itself."""
    script = Path(__file__).resolve().parent / "migrate_runs.py"
    try:
        done = subprocess.run(
            [sys.executable, str(script), str(before), str(after), *map(str, written), "--json"],
            capture_output=True,
            text=True,
            timeout=900,
            check=True,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        return {"error": f"{type(exc).__name__}: {exc}"[:300]}
    entries = json.loads(done.stdout.strip().splitlines()[-1])
    counts = Counter(e["outcome"] for e in entries)
    wrong = [e for e in entries if e["outcome"] in ("different", "migrated fails")]
    return {"outcomes": dict(counts), "wrong": wrong}


def survey(root: Path, work: Path, *, run_programs: bool = False) -> dict[str, Any]:
    """Migrate a copy of `root` (a tree or a git directory) under `work`; the figures above."""
    before, after = work / "before", work / "after"
    corpus = _survey_module()
    if corpus.is_git_dir(root):
        before.mkdir(parents=True)
        corpus.extract(root, before)
    else:
        shutil.copytree(root, before, symlinks=True)
    shutil.copytree(before, after, symlinks=True)
    started = time.perf_counter()
    report = run([after], Options(target=MigrationTarget.FLYTE, mode="write"))
    seconds = time.perf_counter() - started
    groups: dict[str, list[Any]] = {}
    for f in report.files:
        if f.group is not None:
            groups.setdefault(f.group, []).append(f)
    task_sites = [(f, s) for f, s in report.sites if s.kind in _TASK_KINDS]
    declaring = Counter(f.path for f, _ in task_sites)
    moved = blocked = 0
    blocking: Counter[str] = Counter()
    left: list[dict[str, Any]] = []
    for files in groups.values():
        found = [b for f in files for b in f.blockers]
        if found:
            blocked += 1
            kinds = {_blocking_kind(b.construct, b.rule, b.reason) for b in found}
            blocking.update(kinds)
            tasks = sum(declaring[f.path] for f in files)
            if tasks:
                paths = sorted(str(Path(f.path).relative_to(after)) for f in files)
                left.append({"files": paths, "resource_tasks": tasks, "blocking": sorted(kinds)})
        elif any(f.status == "changed" for f in files):
            moved += 1
    left.sort(key=lambda g: (-g["resource_tasks"], g["files"]))
    migrated = sum(1 for _, s in task_sites if s.action == "rewritten")
    half, calls = _whole_program_checks(after)
    written = [Path(f.path) for f in report.files if f.written]
    lint_before, lint_after, lint_new = _new_lint(before, after, written)
    verified = verify_paths(before, after)
    summary = verified.to_dict()["summary"]
    runs = _runs(before, after, written) if run_programs and written else None
    return {
        "files": len(report.files),
        "seconds": round(seconds, 2),
        "failed": [f"{f.path}: {f.reason}" for f in report.files if f.status == "failed"],
        "groups": len(groups),
        "groups_migrated": moved,
        "groups_blocked": blocked,
        "blocking_constructs": dict(blocking.most_common()),
        "resource_tasks": len(task_sites),
        "resource_tasks_migrated": migrated,
        "resource_tasks_migrated_percent": round(100 * migrated / len(task_sites), 1) if task_sites else None,
        "resource_tasks_left_by_group": left,
        "files_written": len(written),
        "half_migrated_modules": half,
        "workflows_calling_flyte2_tasks": calls,
        "lint_before": dict(lint_before),
        "lint_after": dict(lint_after),
        "lint_new": {k: v for k, v in lint_new.items() if v},
        "verify": {"exit_code": verified.exit_code, **summary},
        "runs": runs,
    }


def _print(figures: dict[str, Any]) -> None:
    print(f"files: {figures['files']} (migrated in {figures['seconds']} s); failed: {len(figures['failed'])}")
    for line in figures["failed"]:
        print(f"  failed: {line}")
    print(
        f"task groups: {figures['groups']}: {figures['groups_migrated']} migrated, "
        f"{figures['groups_blocked']} left as written"
    )
    print("groups left as written, by blocking construct (a group counts once per kind):")
    for kind, n in figures["blocking_constructs"].items():
        print(f"  {n:5d}  {kind}")
    percent = figures["resource_tasks_migrated_percent"]
    print(
        f"resource-declaring tasks migrated: {figures['resource_tasks_migrated']} of "
        f"{figures['resource_tasks']} ({percent}%; target 60%)"
    )
    for group in figures["resource_tasks_left_by_group"]:
        print(f"  {group['resource_tasks']:3d} left in {', '.join(group['files'])}")
        print(f"      blocked by: {'; '.join(group['blocking'])}")
    print(f"files written: {figures['files_written']}")
    print(f"half-migrated modules: {len(figures['half_migrated_modules'])} (must be 0)")
    for line in figures["half_migrated_modules"]:
        print(f"  {line}")
    print(f"flytekit workflows calling a Flyte 2 task: {len(figures['workflows_calling_flyte2_tasks'])} (must be 0)")
    for line in figures["workflows_calling_flyte2_tasks"]:
        print(f"  {line}")
    print(
        f"ruff {_RULES} in the files written: before {figures['lint_before']}, after {figures['lint_after']}, "
        f"new {figures['lint_new']} (must be empty)"
    )
    print(f"flyteres verify before/after: {figures['verify']}")
    runs = figures["runs"]
    if runs is not None:
        print(f"migrated workflows run beside their originals: {runs.get('outcomes', runs)}")
        for e in runs.get("wrong", []):
            print(f"  {e['file']}:{e['workflow']}: {e['outcome']}: {e['detail']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, nargs="?", help="a source tree, or a git directory")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--run", action="store_true", help="run each migrated workflow beside its original")
    args = parser.parse_args()
    if args.path is None or not args.path.exists():
        print(f"migrate corpus: no corpus at {args.path or '(none given)'}; skipped")
        return 0
    with tempfile.TemporaryDirectory(prefix="flyteres-migrate-corpus-") as work:
        figures = survey(args.path, Path(work), run_programs=args.run)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        _print(figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
