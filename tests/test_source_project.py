"""Reading a tree: records resolved across modules, the same in one or several processes, no garbage cycles."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from flyteres.source.project import read_module, read_project

ENVS = "import flyte\nbase = flyte.TaskEnvironment(name='base', resources=flyte.Resources(cpu=2, memory='2Gi'))\n"
TASKS = """\
import flyte
from pkg.envs import base

gpu = base.clone_with(name="gpu", resources=flyte.Resources(gpu="T4:1"))
same = base.clone_with(name="same")


@base.task
async def a() -> None: ...


@same.task
async def b() -> None: ...


@gpu.task
async def c() -> None:
    await a.override(resources=flyte.Resources(cpu=4))()
"""
FLYTEKIT = """\
from flytekit import Resources, task, workflow


@task(requests=Resources(cpu="1", mem="1Gi"))
def t(x: int) -> int:
    return x


@workflow
def wf(x: int) -> int:
    return t(x=x).with_overrides(limits=Resources(mem="2Gi"))
"""


def package(root: Path) -> Path:
    pkg = root / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "envs.py").write_text(ENVS)
    (pkg / "tasks.py").write_text(TASKS)
    (pkg / "legacy.py").write_text(FLYTEKIT)
    return pkg


def test_environments_imported_and_cloned_across_modules_are_resolved(tmp_path: Path) -> None:
    project = read_project([package(tmp_path)])
    tasks = {t.name: t for t in project.tasks()}
    assert str(tasks["a"].spec) == "ResourceSpec(requests={cpu='2', memory='2Gi'})"
    assert tasks["a"].environment == "base"
    assert tasks["a"].declared_at == (str(tmp_path / "pkg" / "envs.py"), 2)
    assert tasks["b"].spec == tasks["a"].spec  # a clone without resources keeps the base's
    assert str(tasks["c"].spec) == "ResourceSpec(requests={gpu='1'}, accelerator=nvidia-tesla-t4)"
    (override,) = [o for m in project.modules for o in m.overrides if o.sdk == "flyte"]
    assert (override.function, override.target, override.ordinal) == ("c", "a", 0)
    assert (tasks["t"].sdk, tasks["wf"].kind) == ("flytekit", "workflow")


def test_reading_leaves_nothing_for_the_cycle_collector() -> None:
    # read_project pauses the collector while it reads: that is only right while reading makes no cycles.
    gc.collect()
    gc.disable()
    try:
        gc.set_debug(gc.DEBUG_SAVEALL)
        for source in (ENVS, TASKS, FLYTEKIT):
            read_module(source, "m.py", "pkg.m")
        assert gc.collect() == 0
        assert gc.garbage == []
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


@pytest.mark.slow  # starts worker processes
def test_several_processes_read_a_tree_as_one_does(tmp_path: Path) -> None:
    for n in range(210):  # enough for read_project to start worker processes
        (tmp_path / f"m{n:03d}.py").write_text(TASKS.replace("pkg.envs", "envs") if n % 2 else FLYTEKIT)
    (tmp_path / "envs.py").write_text(ENVS)
    (tmp_path / "bad.py").write_text("def f(:\n")
    one, two = read_project([tmp_path], jobs=1), read_project([tmp_path], jobs=2)
    assert one.skipped == two.skipped
    assert [m.path for m in one.modules] == [m.path for m in two.modules]
    for a, b in zip(one.modules, two.modules, strict=True):
        assert a.declarations == b.declarations
        assert [(t.name, t.spec, t.reason, t.env_line) for t in a.tasks] == [
            (t.name, t.spec, t.reason, t.env_line) for t in b.tasks
        ]
        assert [(o.line, o.spec, o.target) for o in a.overrides] == [(o.line, o.spec, o.target) for o in b.overrides]
