"""Overrides on tasks declared in another module of the same run (`--target flyte`)."""

from __future__ import annotations

import importlib
import itertools
import json
import pathlib
import shutil
import sys
import textwrap
from types import ModuleType
from typing import Any

import pytest

from flyteres.migrate import MigrationResult, Options, TaskIndex, index_sources, migrate_source, run
from flyteres.migrate.index import module_names, resolve_import
from flyteres.migrate.runner import process_file
from tests import test_migrate_oracle as oracle

TASKS = textwrap.dedent(
    """\
    from flytekit import Resources, task


    @task(requests=Resources(cpu="500m", mem="512Mi"))
    def extract(n: int) -> int:
        return n
    """
)
# Tasks that keep their module on flytekit (a value known only at run time, one chosen at import time).
ODD = textwrap.dedent(
    """\
    import os

    from flytekit import Resources, task

    MEM = "100Mi" if os.getenv("SANDBOX") else "1Gi"


    @task(requests=Resources(cpu=os.getenv("CPU")))
    def dynamic_cpu(n: int) -> int:
        return n


    @task(requests=Resources(cpu="1", mem=MEM))
    def sandboxed(n: int) -> int:
        return n
    """
)
INDEX_SOURCES = {"proj.etl": TASKS, "proj.odd": ODD}
MERGED = 'flyte.Resources(cpu="500m", memory="2Gi")'


def _flows(imports: str, call: str) -> str:
    return (
        f"from flytekit import Resources, workflow\n{imports}\n\n\n@workflow\n"
        f"def wf(n: int) -> int:\n    return {call}(n=n).with_overrides(requests=Resources(mem='2Gi'))\n"
    )


def _migrate(source: str, module: str = "proj.flows", index: TaskIndex | None = None) -> MigrationResult:
    if index is None:
        index = index_sources(INDEX_SOURCES)
    return migrate_source(source, path=module.replace(".", "/") + ".py", module=module, index=index)


def _rules(result: MigrationResult) -> set[str]:
    return {f.rule for f in result.findings}


@pytest.mark.parametrize(
    ("imports", "call"),
    [
        ("from proj.etl import extract", "extract"),
        ("from proj.etl import extract as pull", "pull"),
        ("from .etl import extract", "extract"),
        ("from . import etl", "etl.extract"),
        ("from proj import etl as e", "e.extract"),
        ("import proj.etl", "proj.etl.extract"),
        ("import proj.etl as pe", "pe.extract"),
    ],
)
def test_an_override_on_an_imported_task_is_merged_with_its_resources(imports: str, call: str) -> None:
    result = _migrate(_flows(imports, call))
    assert result.status == "changed", result.reason
    assert f"return {call}.override(resources={MERGED.replace(chr(34), chr(39))})(n=n)" in result.code
    (site,) = result.sites
    assert site.action == "rewritten"
    assert site.name == call
    merged = [f for f in site.findings if f.rule == "override-merged"]
    assert [f.value for f in merged] == ["proj.etl.extract"]
    assert "import flyte\n" in result.code


def test_relative_imports_resolve_from_a_subpackage_and_from_a_package_init() -> None:
    index = index_sources({"proj.etl": TASKS})
    deep = _migrate(_flows("from ..etl import extract", "extract"), module="proj.flows.nightly", index=index)
    assert deep.rewritten
    init = migrate_source(
        _flows("from .etl import extract", "extract"), path="proj/__init__.py", module="proj", index=index
    )
    assert init.rewritten


def test_without_an_index_the_override_is_left_as_before() -> None:
    result = migrate_source(_flows("from proj.etl import extract", "extract"), path="proj/flows.py")
    (site,) = result.sites
    assert site.action == "untouched"
    assert site.reason is not None
    assert "is not declared in this module" in site.reason
    assert _rules(result) == {"override-task-unknown"}


def test_a_task_that_is_not_static_in_its_module_leaves_the_override() -> None:
    result = _migrate(_flows("from proj.odd import dynamic_cpu", "dynamic_cpu"))
    assert result.status == "unchanged"
    (site,) = result.sites
    assert site.action == "untouched"
    assert site.reason == "the task proj.odd.dynamic_cpu stays a flytekit task (see its findings in proj/odd.py)"
    assert _rules(result) == {"override-task-unknown"}


def test_a_task_chosen_at_import_time_leaves_the_override() -> None:
    # The module proj.odd stays on flytekit whole (dynamic_cpu cannot move), so sandboxed stays too.
    index = index_sources(INDEX_SOURCES)
    assert not index["proj.odd"]["sandboxed"].converted
    assert index["proj.odd"]["sandboxed"].spec is None
    result = _migrate(_flows("from proj.odd import sandboxed", "sandboxed"), index=index)
    (site,) = result.sites
    assert site.action == "untouched"
    assert site.reason == "the task proj.odd.sandboxed stays a flytekit task (see its findings in proj/odd.py)"
    assert _rules(result) == {"override-task-unknown"}


@pytest.mark.parametrize(
    ("imports", "call"),
    [
        ("from proj.etl import missing", "missing"),
        ("from proj.other import extract", "extract"),
        ("from . import etl", "etl.missing"),
    ],
)
def test_a_name_that_resolves_to_no_task_stays_unknown(imports: str, call: str) -> None:
    result = _migrate(_flows(imports, call))
    assert result.status == "unchanged"
    (site,) = result.sites
    assert site.action == "untouched"
    assert site.reason is not None
    assert "is not a task with resources in this module or in the files migrated with it" in site.reason
    assert _rules(result) == {"override-task-unknown"}


def test_a_local_name_shadowing_the_import_is_not_the_task() -> None:
    source = _flows("from proj.etl import extract", "extract").replace(
        "def wf(n: int) -> int:\n", "def wf(n: int, extract: object) -> int:\n"
    )
    result = _migrate(source)
    assert not result.rewritten
    assert _rules(result) == {"override-task-unknown"}


def test_an_imported_name_bound_again_is_not_resolved() -> None:
    source = _flows("from proj.etl import extract\nextract = extract", "extract")
    result = _migrate(source)
    assert not result.rewritten
    assert "is not declared in this module" in (result.sites[0].reason or "")


def test_a_same_module_task_wins_over_the_index() -> None:
    source = (
        "from flytekit import Resources, task, workflow\n\n\n"
        "@task(requests=Resources(cpu='2'))\ndef extract(n: int) -> int:\n    return n\n\n\n"
        "@workflow\ndef wf(n: int) -> int:\n    return extract(n=n).with_overrides(requests=Resources(mem='2Gi'))\n"
    )
    result = _migrate(source)
    assert "extract.override(resources=flyte.Resources(cpu='2', memory='2Gi'))(n=n)" in result.code


def test_flytekit_target_checks_a_limit_only_override_against_the_imported_task() -> None:
    index = index_sources(INDEX_SOURCES, target="flytekit")
    source = _flows("from proj.etl import extract", "extract").replace("requests=Resources(mem='2Gi')", "{}")

    def one(override: str) -> MigrationResult:
        return migrate_source(
            source.format(override), path="proj/flows.py", module="proj.flows", index=index, target="flytekit"
        )

    clash = one("limits=Resources(mem='2Gi')")
    assert not clash.rewritten
    # A limit-only key cannot become (limit, limit) without changing the bytes, whatever the task.
    assert {f.rule for f in clash.findings} >= {"limit-without-request"}
    fine = one("requests=Resources(mem='1Gi'), limits=Resources(mem='2Gi')")
    assert fine.rewritten


def test_resolve_import() -> None:
    assert resolve_import("pkg.mod.t", None, "x.py") == "pkg.mod.t"
    assert resolve_import(".mod.t", "pkg.flows", "pkg/flows.py") == "pkg.mod.t"
    assert resolve_import(".mod.t", None, "pkg/flows.py") is None
    assert resolve_import("...t", "a.b.c", "a/b/c.py") is None


def test_module_names_follow_the_packages(tmp_path: pathlib.Path) -> None:
    (tmp_path / "repo" / "proj" / "sub").mkdir(parents=True)
    for rel in ("proj/__init__.py", "proj/sub/__init__.py", "proj/etl.py", "proj/sub/deep.py", "loose.py"):
        (tmp_path / "repo" / rel).write_text("")
    (tmp_path / "repo" / "my-scripts").mkdir()
    (tmp_path / "repo" / "my-scripts" / "x-y.py").write_text("")
    files = [
        tmp_path / "repo" / rel
        for rel in ("proj/__init__.py", "proj/etl.py", "proj/sub/deep.py", "proj/sub/__init__.py", "loose.py")
    ]
    names = module_names([*files, tmp_path / "repo" / "my-scripts" / "x-y.py"])
    assert list(names.values()) == ["proj", "proj.etl", "proj.sub.deep", "proj.sub", "loose", None]


# ---------------------------------------------------------------------------------------------
# Runs over files


CORPUS = pathlib.Path(__file__).parent / "migrate_corpus" / "crossmod"


def _copy(tmp_path: pathlib.Path, package: str) -> pathlib.Path:
    root = tmp_path / package
    root.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(CORPUS, root / package)
    return root


def test_a_run_merges_overrides_across_files_and_writes_each_file_once(tmp_path: pathlib.Path) -> None:
    root = _copy(tmp_path, "crossmod")
    report = run([root], Options(mode="write"))
    flows = next(f for f in report.files if f.path.endswith("flows.py"))
    assert flows.written
    assert {s.name: s.action for s in flows.sites} == {
        "tasks.summarize": "rewritten",
        "extract": "rewritten",
        "embed": "rewritten",
        "small": "rewritten",
    }
    text = (root / "crossmod" / "flows.py").read_text()
    assert "with_overrides" not in text
    assert "@workflow" not in text  # the workflows are driver tasks now
    assert text.count(".override(") == 4
    # shm.py is a group of its own whose override cannot move: it stays exactly as written.
    shm = next(f for f in report.files if f.path.endswith("shm.py"))
    assert shm.status == "unchanged"
    assert [(b.line, b.rule) for b in shm.blockers] == [(7, "accelerator-without-count"), (14, "override-task-unknown")]
    # Run again: nothing left to do.
    again = run([root], Options(mode="check"))
    assert again.count("changed") == 0


def test_only_the_file_of_a_task_module_is_not_enough(tmp_path: pathlib.Path) -> None:
    root = _copy(tmp_path, "crossmod")
    report = run([root / "crossmod" / "flows.py"], Options(mode="check"))
    assert report.count("changed") == 0
    assert all(s.action == "untouched" for _, s in report.sites)
    single = process_file(root / "crossmod" / "flows.py", Options(mode="check"))
    assert single.status == "unchanged"


def test_results_do_not_depend_on_the_number_of_workers(tmp_path: pathlib.Path) -> None:
    root = _copy(tmp_path, "crossmod")
    package = root / "crossmod"
    for i in range(30):  # enough files for worker processes
        (package / f"extra_{i:02d}.py").write_text(
            (CORPUS / "flows.py").read_text().replace("def wf_", f"def wf{i}_") if i % 2 else TASKS
        )
    reports = [json.dumps(run([root], Options(mode="diff"), jobs=jobs).to_dict()) for jobs in (1, 2, 3)]
    assert reports[0] == reports[1] == reports[2]
    rewritten = sum(1 for line in reports[0].split('"action": ')[1:] if line.startswith('"rewritten"'))
    assert rewritten > 30


def test_two_files_with_the_same_module_name_each_resolve_their_own_project(tmp_path: pathlib.Path) -> None:
    # Two copies of one package under two roots: each flows.py reads the tasks of its own copy,
    # as a run over that copy alone does.
    one, two = _copy(tmp_path / "a", "crossmod"), _copy(tmp_path / "b", "crossmod")
    alone = run([_copy(tmp_path / "c", "crossmod")], Options(mode="check"))
    report = run([one, two], Options(mode="check"))

    def sites(r: Any) -> list[tuple[str, int, str, str | None]]:
        (flows,) = [f for f in r.files if f.path.endswith("flows.py")]
        return [(s.kind, s.line, s.action, s.new) for s in flows.sites]

    both = [f for f in report.files if f.path.endswith("flows.py")]
    assert len(both) == 2
    expected = sites(alone)
    assert any(action == "rewritten" for _, _, action, _ in expected)
    for f in both:
        assert [(s.kind, s.line, s.action, s.new) for s in f.sites] == expected


# ---------------------------------------------------------------------------------------------
# Oracle: flyte's serialization of each rewritten override equals the v1 backend's merge


_counter = itertools.count()


def _import_package(root: pathlib.Path, package: str) -> tuple[ModuleType, ModuleType]:
    sys.path.insert(0, str(root))
    try:
        return importlib.import_module(f"{package}.tasks"), importlib.import_module(f"{package}.flows")
    finally:
        sys.path.remove(str(root))


@pytest.mark.parametrize("policy", ["kubernetes", "strict"])
def test_cross_module_overrides_serialize_like_the_original(policy: str, tmp_path: pathlib.Path) -> None:
    n = next(_counter)
    original = tmp_path / "original"
    shutil.copytree(CORPUS, original / f"xmod_old_{n}")
    migrated = tmp_path / "migrated"
    shutil.copytree(CORPUS, migrated / f"xmod_new_{n}")
    report = run([migrated], Options(mode="write", policy=policy))  # type: ignore[arg-type]
    assert report.count("failed") == 0
    old_tasks, old_flows = _import_package(original, f"xmod_old_{n}")
    _, new_flows = _import_package(migrated, f"xmod_new_{n}")
    flows = next(f for f in report.files if f.path.endswith("flows.py"))
    old_ov = oracle.overrides_by_task(old_flows)
    checked = 0
    for site in flows.sites:
        if site.action != "rewritten":
            continue
        name = site.name.rpartition(".")[2]
        task = getattr(old_tasks, {"small": "light"}.get(name, name))
        key = task.name.rpartition(".")[2]
        v1 = oracle._merged(oracle.flytekit_task(task)[:2], old_ov[key])
        oracle._contract(site, v1, oracle.flyte_task(oracle._override_task(new_flows, site), tmp_path))
        checked += 1
    # Under strict, `light` (a limit without a request) stays a flytekit task, so its whole group does.
    assert checked == {"kubernetes": 4, "strict": 0}[policy]
