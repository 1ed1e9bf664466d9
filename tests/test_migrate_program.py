"""Whole programs for `--target flyte` (issue 15): a group of modules moves completely or stays.

The oracle here imports each migrated sample program and checks it with the
SDKs themselves: every task serializes with flyte's own serializer
(`get_proto_task`) to the resources, retries and timeout flytekit gave the
original, every driver task calls the tasks its workflow called (the
workflow's nodes from flytekit's serialized template, the driver's calls from
the source model), and the programs run locally in Flyte 2 to the values the
flytekit originals compute.
"""

from __future__ import annotations

import asyncio
import importlib
import itertools
import json
import pathlib
import re
import shutil
import subprocess
import sys
import textwrap
from collections import OrderedDict
from types import ModuleType
from typing import Any

import pytest
from flyte._internal.runtime import task_serde
from flyte.models import SerializationContext
from flytekit.core.base_task import PythonTask
from flytekit.core.workflow import WorkflowBase
from flytekit.tools.translator import get_serializable

from flyteres.migrate import Options, migrate_source, run
from flyteres.migrate.program import MARK
from flyteres.source.analysis import SourceModule
from tests import test_migrate_oracle as oracle

EXAMPLES = pathlib.Path(__file__).parent.parent / "examples" / "project"
_counter = itertools.count()


def _tree(tmp_path: pathlib.Path, files: dict[str, str]) -> pathlib.Path:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return tmp_path


def programs(tmp_path: pathlib.Path, stem: str, source: str) -> tuple[ModuleType, ModuleType, Any, str]:
    """A one-module program (`flow`) as written and migrated to Flyte 2 (with no blocker): the
    original and migrated modules, the run's report and the migrated source."""
    n = next(_counter)
    old_dir, new_dir = tmp_path / "old" / f"{stem}_old_{n}", tmp_path / "new" / f"{stem}_new_{n}"
    for d in (old_dir, new_dir):
        _tree(d, {"__init__.py": "", "flow.py": source})
    report = run([tmp_path / "new"], Options(mode="write"))
    assert not [b for f in report.files for b in f.blockers]
    old = _import_package(tmp_path / "old", old_dir.name, ["flow"])["flow"]
    new = _import_package(tmp_path / "new", new_dir.name, ["flow"])["flow"]
    return old, new, report, (new_dir / "flow.py").read_text()


TASKS = """\
    from flytekit import Resources, task


    @task(requests=Resources(cpu="1", mem="1Gi"))
    def double(n: int) -> int:
        return n * 2


    @task
    def plain(n: int) -> int:
        return n + 1
    """
FLOWS = """\
    from flytekit import workflow

    from .tasks import double, plain


    @workflow
    def wf(n: int) -> int:
        return plain(n=double(n=n))
    """


def test_a_group_moves_whole(tmp_path: pathlib.Path) -> None:
    root = _tree(tmp_path, {"pkg/__init__.py": "", "pkg/tasks.py": TASKS, "pkg/flows.py": FLOWS})
    report = run([root], Options(mode="write"))
    assert {pathlib.Path(f.path).name: f.status for f in report.files} == {
        "__init__.py": "skipped",
        "flows.py": "changed",
        "tasks.py": "changed",
    }
    flows = (root / "pkg" / "flows.py").read_text()
    tasks = (root / "pkg" / "tasks.py").read_text()
    assert "@workflow" not in flows
    assert "@task" not in tasks
    assert "@plain_env.task\ndef plain" in tasks  # a task without resources moves too
    assert "from .tasks import double, double_env, plain, plain_env\n" in flows
    assert 'env = flyte.TaskEnvironment(name="pkg_flows", depends_on=[double_env, plain_env])' in flows


def test_one_blocker_keeps_the_whole_group_as_written(tmp_path: pathlib.Path) -> None:
    blocked = FLOWS.replace("from flytekit import workflow", "from flytekit import conditional, workflow")
    blocked = blocked.replace(
        "        return plain(n=double(n=n))",
        '        return conditional("c").if_(n > 1).then(double(n=n)).else_().then(plain(n=n))',
    )
    files = {"pkg/__init__.py": "", "pkg/tasks.py": TASKS, "pkg/flows.py": blocked, "other/solo.py": TASKS}
    root = _tree(tmp_path, files)
    report = run([root], Options(mode="write"))
    by_name = {pathlib.Path(f.path).relative_to(root).as_posix(): f for f in report.files}
    # pkg/tasks.py could move on its own, but its workflow cannot: neither moves.
    assert by_name["pkg/tasks.py"].status == "unchanged"
    assert (root / "pkg" / "tasks.py").read_text() == textwrap.dedent(TASKS)
    assert (root / "pkg" / "flows.py").read_text() == textwrap.dedent(blocked)
    assert "pkg/flows.py:8: conditional" in (by_name["pkg/tasks.py"].reason or "")
    assert all(s.action == "untouched" for s in by_name["pkg/tasks.py"].sites)
    # One blocker per construct, where it is (the workflow itself could become a driver task).
    assert [(b.line, b.construct, b.rule) for b in by_name["pkg/flows.py"].blockers] == [
        (8, "conditional", "unsupported-construct"),
    ]
    # A module of another group is not held back.
    assert by_name["other/solo.py"].status == "changed"


def test_mark_writes_a_todo_at_each_blocker_once(tmp_path: pathlib.Path) -> None:
    source = textwrap.dedent(
        """\
        from flytekit import LaunchPlan, Resources, task, workflow


        @task(requests=Resources(cpu="1"))
        def t() -> int:
            return 1


        @workflow
        def wf() -> int:
            return t()


        lp = LaunchPlan.get_or_create(wf, name="nightly")
        """
    )
    result = migrate_source(source, path="m.py", todo=True)
    assert result.status == "changed"
    assert result.code.count(MARK) == 1
    todo = result.code.split(MARK)[1]
    assert todo.startswith(" LaunchPlan.get_or_create: flytekit.LaunchPlan.get_or_create has no\n#   Flyte 2")
    assert todo.endswith('codemod writes\nlp = LaunchPlan.get_or_create(wf, name="nightly")\n')
    assert [s.action for s in result.sites] == ["untouched"]
    again = migrate_source(result.code, path="m.py", todo=True)
    assert again.status == "unchanged"
    # Without --mark a blocked module is left byte for byte.
    assert migrate_source(source, path="m.py").code == source


def test_an_override_on_a_plain_task_of_the_same_module_is_merged() -> None:
    source = textwrap.dedent(
        """\
        from flytekit import Resources, task, workflow


        @task
        def t() -> int:
            return 1


        @workflow
        def wf() -> int:
            return t().with_overrides(requests=Resources(cpu="2"))
        """
    )
    result = migrate_source(source, path="m.py")
    assert result.status == "changed"
    assert 't.override(resources=flyte.Resources(cpu="2"))()' in result.code
    assert "not declared in this module" not in str([s.reason for s in result.sites])


def test_an_override_that_crosses_the_tasks_limit_says_what_to_write() -> None:
    source = textwrap.dedent(
        """\
        from flytekit import Resources, task, workflow


        @task(requests=Resources(cpu="1", mem="1Gi"), limits=Resources(cpu="2", mem="2Gi"))
        def t() -> int:
            return 1


        @workflow
        def wf() -> int:
            return t().with_overrides(limits=Resources(mem="512Mi"))
        """
    )
    result = migrate_source(source, path="m.py")
    assert result.code == source
    (override,) = [s for s in result.sites if s.kind == "with_overrides"]
    # Advice the command line can follow (not merge()'s conflict= argument), in flytekit's spelling,
    # and nothing about the task having moved: its whole group stays.
    assert "set requests=Resources(mem=...) in with_overrides(...) too" in (override.reason or "")
    assert "conflict=" not in (override.reason or "")
    assert "now runs in a Flyte 2 environment" not in (override.reason or "")


def test_environment_names_are_unique_across_the_run_and_stable(tmp_path: pathlib.Path) -> None:
    task = 'from flytekit import Resources, task\n\n\n@task(requests=Resources(cpu="1"))\ndef t() -> None: ...\n'
    files = {"a/__init__.py": "", "a/tasks.py": task, "b/__init__.py": "", "b/tasks.py": task}
    root = _tree(tmp_path, files)
    report = run([root], Options(mode="diff"))
    names = [e.name for f in report.files for e in f.environments]
    assert names == ["a_tasks", "b_tasks"]
    assert [e.name for f in run([root], Options(mode="diff")).files for e in f.environments] == names


# ---------------------------------------------------------------------------------------------
# Oracle: the demo's sample project, migrated, serialized and run by the SDKs


def _import_package(root: pathlib.Path, package: str, names: list[str]) -> dict[str, ModuleType]:
    sys.path.insert(0, str(root))
    try:
        return {n: importlib.import_module(f"{package}.{n}") for n in names}
    finally:
        sys.path.remove(str(root))


def _flyte_metadata(task: Any, root: pathlib.Path) -> tuple[int, float]:
    ctx = SerializationContext(version="v1", project="p", domain="d", root_dir=root)
    template = task_serde.get_proto_task(task, ctx)
    return template.metadata.retries.retries, template.metadata.timeout.ToTimedelta().total_seconds()


def _flytekit_metadata(task: Any) -> tuple[int, float]:
    template = get_serializable(OrderedDict(), oracle._SETTINGS, task).template.to_flyte_idl()
    return template.metadata.retries.retries, template.metadata.timeout.ToTimedelta().total_seconds()


def _workflow_calls(workflow: WorkflowBase) -> set[str]:
    spec = get_serializable(OrderedDict(), oracle._SETTINGS, workflow).to_flyte_idl()
    return {n.task_node.reference_id.name.rpartition(".")[2] for n in spec.template.nodes if n.HasField("task_node")}


@pytest.mark.parametrize("policy", ["kubernetes"])
def test_the_sample_project_migrates_whole_and_keeps_every_task(policy: str, tmp_path: pathlib.Path) -> None:
    n = next(_counter)
    old_pkg, new_pkg = f"sample_old_{n}", f"sample_new_{n}"
    shutil.copytree(EXAMPLES, tmp_path / "old" / old_pkg)
    shutil.copytree(EXAMPLES, tmp_path / "new" / new_pkg)
    report = run([tmp_path / "new"], Options(mode="write", policy=policy))  # type: ignore[arg-type]
    assert report.count("failed") == 0
    assert not [b for f in report.files for b in f.blockers]
    modules = ["etl", "train", "pipeline"]
    old = _import_package(tmp_path / "old", old_pkg, modules)
    new = _import_package(tmp_path / "new", new_pkg, modules)
    sites = {s.name: s for f in report.files for s in f.sites if s.kind == "task"}
    checked = 0
    for module in modules:
        for name, task in oracle.tasks_of(old[module]).items():
            if not task.name.startswith(f"{old_pkg}.{module}."):
                continue  # imported from another module of the program
            migrated = getattr(new[module], name)
            assert not isinstance(migrated, PythonTask), f"{module}.{name} is still a flytekit task"
            if name in sites:
                oracle._contract(sites[name], oracle.flytekit_task(task)[:2], oracle.flyte_task(migrated, tmp_path))
                assert _flyte_metadata(migrated, tmp_path) == _flytekit_metadata(task)
                checked += 1
            else:  # a @dynamic: a driver task now, calling the same tasks
                assert name == "sized"
        for name, value in vars(old[module]).items():
            if isinstance(value, WorkflowBase):
                driver = getattr(new[module], name)
                assert not isinstance(driver, WorkflowBase)
                code = (tmp_path / "new" / new_pkg / f"{module}.py").read_text()
                calls = {c.callee for c in SourceModule(code).task_calls() if c.caller == name}
                assert calls == _workflow_calls(value)
                checked += 1
    assert checked == 8  # seven tasks with resources and one workflow
    # The drivers' environment depends on the environments of the tasks they call (flyte.deploy follows it).
    depends = sorted(e.name for e in new["pipeline"].env.depends_on)
    assert depends == [f"{new_pkg}_etl_{t}" for t in ("aggregate", "extract", "transform")]
    # And the program runs in Flyte 2, to the value the flytekit original computes.
    import flyte  # noqa: PLC0415 - only this test runs a program

    flyte.init()
    outputs = flyte.with_runcontext(mode="local").run(new["pipeline"].nightly, n=4).outputs()
    assert outputs[0] == old["pipeline"].nightly(n=4) == 12


SETTINGS = """\
    import datetime

    from flytekit import Resources, task, workflow


    @task(
        requests=Resources(cpu="1", mem="1Gi"),
        cache=True,
        cache_version="2.1",
        cache_serialize=True,
        retries=3,
        timeout=datetime.timedelta(minutes=5),
    )
    def cached(n: int) -> int:
        return n


    @task(container_image="ghcr.io/example/etl:1.2", environment={"MODE": "fast"}, interruptible=True)
    def imaged(n: int) -> int:
        return n + 1


    @task(enable_deck=True, pod_template_name="gpu-pods", timeout=60)
    def decked(n: int) -> int:
        return n * 3


    @workflow
    def wf(n: int) -> int:
        return decked(n=imaged(n=cached(n=n)))
    """


def _flag(meta: Any, name: str) -> bool:
    # A plain bool in one IDL, a BoolValue wrapper in the other.
    value = getattr(meta, name)
    return bool(value if isinstance(value, bool) else value.value)


def _template_settings(template: Any) -> dict[str, Any]:
    """What a task's serialized template says beyond resources (flyteidl and flyteidl2 share these names)."""
    meta = template.metadata
    env = {e.key: e.value for e in template.container.env if not e.key.startswith(("FLYTE_", "_F_"))}
    return {
        "cache": (meta.discoverable, meta.discovery_version if meta.discoverable else "", meta.cache_serializable),
        "retries": meta.retries.retries,
        "timeout": meta.timeout.ToTimedelta().total_seconds(),
        "interruptible": _flag(meta, "interruptible"),
        "pod_template": meta.pod_template_name,
        "report": _flag(meta, "generates_deck"),
        "env": env,
    }


def test_task_settings_serialize_like_the_original(tmp_path: pathlib.Path) -> None:
    old, new, _report, code = programs(tmp_path, "settings", SETTINGS)
    assert '    image="ghcr.io/example/etl:1.2",\n    env_vars={"MODE": "fast"},\n' in code
    ctx = SerializationContext(version="v1", project="p", domain="d", root_dir=tmp_path)
    for name in ("cached", "imaged", "decked"):
        v1 = get_serializable(OrderedDict(), oracle._SETTINGS, getattr(old, name)).template.to_flyte_idl()
        v2 = task_serde.get_proto_task(getattr(new, name), ctx)
        assert _template_settings(v2) == _template_settings(v1), name
        if name == "imaged":
            assert v2.container.image == v1.container.image == "ghcr.io/example/etl:1.2"
    calls = {c.callee for c in SourceModule(code).task_calls() if c.caller == "wf"}
    assert calls == _workflow_calls(old.wf)


def test_an_argument_without_an_exact_form_blocks_with_its_reason() -> None:
    source = SETTINGS.replace('pod_template_name="gpu-pods"', "task_config=None")
    result = migrate_source(textwrap.dedent(source), path="m.py")
    assert result.status == "unchanged"
    assert [(b.construct, b.rule, b.reason) for b in result.blockers] == [
        ("@task decked", "unsupported-argument", "task_config= has no Flyte 2 equivalent this codemod knows"),
    ]


PLUGINS = """\
    import flytekitplugins.modin  # noqa: F401
    from flytekit import Resources, task, workflow
    from flytekitplugins.flyteinteractive import vscode


    @task(requests=Resources(cpu="1"))
    @vscode
    def debug(n: int) -> int:
        return n


    @workflow
    def wf(n: int) -> int:
        return debug(n=n)
    """


def test_a_flytekit_plugin_blocks_where_it_is_imported_and_used() -> None:
    # A plugin's decorator wraps a flytekit task, and an import alone registers its type
    # transformers with flytekit: neither works under Flyte 2.
    result = migrate_source(textwrap.dedent(PLUGINS), path="m.py")
    assert result.status == "unchanged"
    assert result.code == textwrap.dedent(PLUGINS)
    assert [(b.line, b.construct, b.rule) for b in result.blockers] == [
        (1, "import flytekitplugins.modin", "unsupported-construct"),
        (3, "import flytekitplugins.flyteinteractive", "unsupported-construct"),
        (7, "flytekitplugins.flyteinteractive.vscode", "unsupported-construct"),
    ]
    assert all("flytekit plugin" in b.reason and "flyteplugins-*" in b.reason for b in result.blockers)


AIRFLOW = """\
    from airflow.operators.bash import BashOperator
    from flytekit import task, workflow


    @task
    def t1() -> None:
        print("done")


    @workflow
    def wf() -> None:
        BashOperator(task_id="hello", bash_command="echo hello")
        t1()
    """


def test_an_airflow_operator_in_a_flytekit_module_blocks() -> None:
    # flytekitplugins-airflow makes the operator a task of the workflow; in a driver it would run nothing.
    result = migrate_source(textwrap.dedent(AIRFLOW), path="m.py")
    assert result.status == "unchanged"
    assert [(b.line, b.construct) for b in result.blockers] == [
        (1, "import airflow.operators.bash"),
        (12, "airflow.operators.bash.BashOperator"),
    ]
    assert "flytekitplugins-airflow" in result.blockers[1].reason
    # A module without flytekit is no flytekit program: its Airflow code is none of migrate's business.
    alone = migrate_source("from airflow.operators.bash import BashOperator\n\nop = BashOperator(task_id='x')\n")
    assert alone.status == "unchanged"
    assert alone.blockers == ()


SECRETS = """\
    import pathlib

    from flytekit import Resources, Secret, task, workflow


    @task(
        requests=Resources(cpu="1"),
        secret_requests=[
            Secret(group="db", key="password", mount_requirement=Secret.MountType.ENV_VAR, env_var="DB_PASSWORD"),
            Secret(group="vault", key="token", mount_requirement=Secret.MountType.FILE),
        ],
    )
    def reads(n: int) -> int:
        return n + len(str(pathlib.Path(".")))


    @task(secret_requests=[Secret("api", "key", None, Secret.MountType.ENV_VAR, "API_KEY")])
    def calls(n: int) -> int:
        return n


    @workflow
    def wf(n: int) -> int:
        return calls(n=reads(n=n))
    """


def _secrets(template: Any) -> list[tuple[str, str, str, int, str]]:
    """The IDL `Secret`s of a task's security context (flyteidl and flyteidl2 share the fields)."""
    return [
        (s.group, s.key, s.group_version, s.mount_requirement, s.env_var) for s in template.security_context.secrets
    ]


def test_secrets_serialize_like_the_original(tmp_path: pathlib.Path) -> None:
    old, new, _report, code = programs(tmp_path, "secrets", SECRETS)
    assert "Secret," not in code  # flytekit's Secret is no longer used: its import goes
    assert 'mount=pathlib.Path("/etc/flyte/secrets")' in code
    ctx = SerializationContext(version="v1", project="p", domain="d", root_dir=tmp_path)
    for name in ("reads", "calls"):
        v1 = get_serializable(OrderedDict(), oracle._SETTINGS, getattr(old, name)).template.to_flyte_idl()
        v2 = task_serde.get_proto_task(getattr(new, name), ctx)
        assert _secrets(v2) == _secrets(v1), name
        assert _secrets(v1), name
    assert _secrets(v1)[0] == ("api", "key", "", 1, "API_KEY")  # ENV_VAR is 1 in both IDLs


@pytest.mark.parametrize(
    ("secret", "why"),
    [
        ('Secret(group="g", key="k")', "lets the platform choose (ANY)"),
        ('Secret(group="g", key="k", mount_requirement=Secret.MountType.ENV_VAR)', "would name the variable"),
        ('Secret(group="g", mount_requirement=Secret.MountType.FILE)', "without a key"),
        (
            'Secret(key="k", group_version="3", mount_requirement=Secret.MountType.FILE)',
            "group_version=...) has no Flyte 2 field",
        ),
        ('Secret(key="k", mount_requirement=Secret.MountType.FILE, env_var="K")', "FILE Secret with env_var="),
        ("Secret(key=KEY, mount_requirement=Secret.MountType.FILE)", "not a literal string"),
        ("SHARED", "not a flytekit Secret(...) call"),
    ],
)
def test_a_secret_without_an_exact_flyte_2_form_blocks(secret: str, why: str) -> None:
    source = textwrap.dedent(
        f"""\
        import pathlib

        from flytekit import Secret, task

        KEY = "k"
        SHARED = Secret(key="k", mount_requirement=Secret.MountType.FILE)


        @task(secret_requests=[{secret}])
        def t() -> str:
            return str(pathlib.Path("."))
        """
    )
    result = migrate_source(source, path="m.py")
    assert result.status == "unchanged"
    task = [b for b in result.blockers if b.construct == "@task t"]  # SHARED itself blocks too (line 6)
    assert [(b.line, b.rule) for b in task] == [(9, "unsupported-argument")]
    assert why in task[0].reason


def test_a_file_secret_needs_pathlib_imported() -> None:
    source = textwrap.dedent(
        """\
        from flytekit import Secret, task


        @task(secret_requests=[Secret(key="k", mount_requirement=Secret.MountType.FILE)])
        def t() -> None: ...
        """
    )
    result = migrate_source(source, path="m.py")
    assert "does not import pathlib" in result.blockers[0].reason
    with_env = migrate_source(source.replace("MountType.FILE", 'MountType.ENV_VAR, env_var="K"'), path="m.py")
    assert 'secrets=[flyte.Secret(key="k", as_env_var="K")]' in with_env.code


def test_a_name_defined_twice_moves_the_decorated_definition() -> None:
    source = textwrap.dedent(
        """\
        from flytekit import task


        def total(n: int) -> int:
            return n


        @task
        def total(n: int) -> int:  # noqa: F811
            return n + 1
        """
    )
    result = migrate_source(source, path="m.py")
    assert result.status == "changed"
    assert "def total(n: int) -> int:\n    return n\n" in result.code
    assert "@env.task\ndef total(n: int) -> int:  # noqa: F811\n" in result.code


def _ruff_findings(root: pathlib.Path, line_length: int) -> dict[str, int]:
    """ruff's F401, I001 and E501 findings under `root`, by rule (the project's own ruff)."""
    ruff = pathlib.Path(sys.executable).parent / "ruff"
    out = subprocess.run(
        [
            str(ruff),
            "check",
            "--isolated",
            "--select",
            "F401,I001,E501",
            "--line-length",
            str(line_length),
            "--output-format",
            "json",
            "--exit-zero",
            str(root),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    counts: dict[str, int] = {}
    for finding in json.loads(out):
        counts[finding["code"]] = counts.get(finding["code"], 0) + 1
    return counts


@pytest.mark.parametrize("line_length", [88, 120])
def test_the_output_adds_no_lint_finding(line_length: int, tmp_path: pathlib.Path) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.ruff]\nline-length = {line_length}\n")
    _tree(tmp_path, {"s/__init__.py": "", "s/flow.py": SETTINGS})
    shutil.copytree(EXAMPLES, tmp_path / "project")
    before = _ruff_findings(tmp_path, line_length)
    report = run([tmp_path], Options(mode="write"))
    assert report.count("changed") == 4
    after = _ruff_findings(tmp_path, line_length)
    assert {rule: n for rule, n in after.items() if n > before.get(rule, 0)} == {}
    assert "I001" not in after
    assert "F401" not in after


def test_a_driver_calling_a_task_defined_after_an_earlier_driver_gets_its_own_environment() -> None:
    source = textwrap.dedent(
        """\
        from flytekit import Resources, task, workflow


        @task(retries=1)
        def a() -> int:
            return 1


        @workflow
        def first() -> int:
            return a()


        @task(requests=Resources(cpu="1"))
        def b() -> int:
            return 2


        @workflow
        def second() -> int:
            return b()
        """
    )
    result = migrate_source(source, path="m.py")
    assert not result.blockers
    assert sorted((e.variable, e.tasks) for e in result.environments) == [
        ("a_env", ("a",)),
        ("b_env", ("b",)),
        ("first_env", ("first",)),
        ("second_env", ("second",)),
    ]
    assert 'first_env = flyte.TaskEnvironment(name="m_first", depends_on=[a_env])' in result.code
    assert 'second_env = flyte.TaskEnvironment(name="m_second", depends_on=[b_env])' in result.code


DOCUMENTED = ["flyteres.migrate", "flyteres.migrate.options", "flyteres.migrate.program", "flyteres.migrate.runner"]


@pytest.mark.parametrize("name", [*DOCUMENTED, "flyteres.migrate.transform"])
def test_docstring_examples(name: str) -> None:
    import doctest  # noqa: PLC0415 - only this test reads the examples

    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


MAPS = """\
    from flytekit import Resources, map_task, task, workflow


    @task(requests=Resources(cpu="1"))
    def square(x: int) -> int:
        return x * x


    @task(retries=2)
    def add(x: int, y: int) -> int:
        return x + y


    @workflow
    def wf(xs: list[int], ys: list[int]) -> list[int]:
        squares = map_task(square, concurrency=2)(x=xs)
        return map_task(add, min_success_ratio=1.0)(y=ys, x=squares)
    """


def _mapped_tasks(workflow: WorkflowBase) -> set[str]:
    """The tasks a flytekit workflow's array nodes (map_task) run, from its serialized template."""
    spec = get_serializable(OrderedDict(), oracle._SETTINGS, workflow).to_flyte_idl()
    names = [
        n.array_node.node.task_node.reference_id.name.rpartition(".")[2]
        for n in spec.template.nodes
        if n.HasField("array_node")
    ]
    # flytekit names the mapped task `map_<task>_<hash>-arraynode`.
    return {re.sub(r"^map_(.+)_[0-9a-f]{32}-arraynode$", r"\1", name) for name in names}


def test_map_task_becomes_flyte_map_and_runs_to_the_same_values(tmp_path: pathlib.Path) -> None:
    old, new, _report, code = programs(tmp_path, "maps", MAPS)
    assert "map_task" not in code
    assert "squares = list(flyte.map(square, xs, concurrency=2, return_exceptions=False))\n" in code
    # flyte.map zips by position: the keywords are put in the task's parameter order.
    assert "return list(flyte.map(add, squares, ys, return_exceptions=False))\n" in code
    ctx = SerializationContext(version="v1", project="p", domain="d", root_dir=tmp_path)
    for name in ("square", "add"):
        v1 = get_serializable(OrderedDict(), oracle._SETTINGS, getattr(old, name)).template.to_flyte_idl()
        v2 = task_serde.get_proto_task(getattr(new, name), ctx)
        assert _template_settings(v2) == _template_settings(v1), name
    calls = {c.callee for c in SourceModule(code).task_calls() if c.caller == "wf"}
    assert calls == _mapped_tasks(old.wf) == {"square", "add"}
    package = new.__name__.rpartition(".")[0]
    assert sorted(e.name for e in new.wf_env.depends_on) == [f"{package}_flow_add", f"{package}_flow_square"]
    import flyte  # noqa: PLC0415 - only the tests that run a program import it

    flyte.init()
    outputs = flyte.with_runcontext(mode="local").run(new.wf, xs=[1, 2, 3], ys=[1, 1, 1]).outputs()
    assert list(outputs[0]) == list(old.wf(xs=[1, 2, 3], ys=[1, 1, 1])) == [2, 5, 10]


PARTIAL = """\
    import functools

    from flytekit import map_task, task, workflow


    @task
    def total(quantity: int, price: float, shipping: float) -> float:
        return quantity * price + shipping


    @task
    def get_price() -> float:
        return 2.5


    @workflow
    def wf(qs: list[int], s: float) -> list[float]:
        p = get_price()
        bound = functools.partial(total, price=p, shipping=s)
        return map_task(bound)(quantity=qs)
    """


def test_a_partial_leaving_the_first_parameter_maps_and_runs_to_the_same_values(tmp_path: pathlib.Path) -> None:
    old, new, _report, code = programs(tmp_path, "partial", PARTIAL)
    assert "return list(flyte.map(bound, qs, return_exceptions=False))\n" in code
    import flyte  # noqa: PLC0415 - only the tests that run a program import it

    flyte.init()
    outputs = flyte.with_runcontext(mode="local").run(new.wf, qs=[1, 2], s=1.0).outputs()
    assert list(outputs[0]) == list(old.wf(qs=[1, 2], s=1.0)) == [3.5, 6.0]


def test_a_partial_leaving_two_parameters_blocks() -> None:
    source = textwrap.dedent(PARTIAL).replace("price=p, shipping=s)", "shipping=s)")
    source = source.replace("(quantity=qs)", "(quantity=qs, price=[p])")
    result = migrate_source(source, path="m.py")
    assert result.status == "unchanged"
    assert [(b.line, b.construct) for b in result.blockers] == [(20, "map_task")]
    assert "a partial that leaves more than one parameter" in result.blockers[0].reason


@pytest.mark.parametrize(
    ("call", "why"),
    [
        ("map_task(add, min_success_ratio=0.5)(x=xs, y=xs)", "below 1 gives None for a failed item"),
        ("map_task(functools.partial(add, y=1))(x=xs)", "something other than a task name"),
        ("map_task(add, timeout=5)(x=xs, y=xs)", "map_task(timeout=...) has no flyte.map equivalent"),
        ("map_task(add)(x=xs)", "parameter order is not known"),
        ("map_task(add)(xs, xs)", "not all given by keyword"),
    ],
)
def test_a_map_task_without_an_exact_flyte_map_form_blocks_where_it_is(call: str, why: str) -> None:
    source = textwrap.dedent(
        f"""\
        import functools

        from flytekit import map_task, task, workflow


        @task
        def add(x: int, y: int) -> int:
            return x + y


        @workflow
        def wf(xs: list[int]) -> list[int]:
            return {call}
        """
    )
    result = migrate_source(source, path="m.py")
    assert result.status == "unchanged"
    assert [(b.line, b.construct, b.rule) for b in result.blockers] == [(13, "map_task", "unsupported-construct")]
    assert why in result.blockers[0].reason


IMAGES = """\
    from flytekit import ImageSpec, Resources, task, workflow

    image = ImageSpec(
        name="etl",
        registry="ghcr.io/example",
        python_version="3.11",
        packages=["pandas==2.2.2", "pyarrow"],
        apt_packages=["curl"],
        env={"MODE": "fast"},
    )


    @task(container_image=image, requests=Resources(cpu="1"))
    def load(n: int) -> int:
        return n


    @task(container_image=image)
    def plain(n: int) -> int:
        return n


    @workflow
    def wf(n: int) -> int:
        return plain(n=load(n=n))
    """


def test_an_image_spec_becomes_a_flyte_image_with_the_same_repository_and_contents(tmp_path: pathlib.Path) -> None:
    old, new, _report, code = programs(tmp_path, "images", IMAGES)
    assert "ImageSpec" not in code
    assert "    image=image,\n" in code
    ctx = SerializationContext(version="v1", project="p", domain="d", root_dir=tmp_path)
    spec, image = old.image, new.image
    # flytekit names the image without building it (serializing the task would first ask a Docker
    # daemon whether it exists); each SDK tags with a hash of its own spec, the repository is the one declared.
    for name in ("load", "plain"):
        v2 = task_serde.get_proto_task(getattr(new, name), ctx)
        assert v2.container.image.rpartition(":")[0] == spec.image_name().rpartition(":")[0] == "ghcr.io/example/etl"
    assert image.python_version == tuple(int(p) for p in spec.python_version.split("."))
    assert image.platform == tuple(spec.platform.split(","))
    layers = {type(layer).__name__: layer for layer in image._layers}
    assert list(layers["PipPackages"].packages) == spec.packages
    assert list(layers["AptPackages"].packages) == spec.apt_packages
    assert dict(layers["Env"].env_vars) == spec.env


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        ('ImageSpec(packages=["pandas"])', "without registry="),
        ('ImageSpec(registry="r", base_image="python:3.11")', "ImageSpec(base_image=...) has no exact"),
        ('ImageSpec(registry="r", packages=["flytekitplugins-pandera"])', "installs flytekit or a flytekit plugin"),
        ('ImageSpec(registry="r", python_version=PY)', "not a literal 'X.Y'"),
    ],
)
def test_an_image_spec_without_an_exact_flyte_image_blocks_where_it_is(spec: str, why: str) -> None:
    source = textwrap.dedent(
        f"""\
        from flytekit import ImageSpec, task

        PY = "3.11"
        image = {spec}


        @task(container_image=image)
        def t() -> None: ...
        """
    )
    result = migrate_source(source, path="m.py")
    assert result.status == "unchanged"
    assert (result.blockers[0].line, result.blockers[0].construct) == (4, "ImageSpec")
    assert why in result.blockers[0].reason


def test_an_image_spec_used_for_more_than_a_task_image_blocks() -> None:
    source = textwrap.dedent(
        """\
        from flytekit import ImageSpec, task

        image = ImageSpec(registry="r", packages=["pandas"])
        if image.is_container():
            import pandas  # noqa: F401


        @task(container_image=image)
        def t() -> None: ...
        """
    )
    result = migrate_source(source, path="m.py")
    assert result.status == "unchanged"
    assert "used other than as a task's container_image= (line 4)" in result.blockers[0].reason


def test_current_context_blocks_with_what_flyte_ctx_lacks() -> None:
    source = textwrap.dedent(
        """\
        import flytekit
        from flytekit import task


        @task
        def t() -> str:
            return flytekit.current_context().execution_id.name
        """
    )
    result = migrate_source(source, path="m.py")
    assert [(b.line, b.construct) for b in result.blockers] == [(7, "current_context")]
    assert "its action ids are not flytekit's execution_id" in result.blockers[0].reason


def test_a_driver_calling_tasks_through_their_module_depends_on_their_environment(tmp_path: pathlib.Path) -> None:
    n = next(_counter)
    package = f"through_{n}"
    etl = (
        "from flytekit import Resources, task\n\n\n"
        '@task(requests=Resources(cpu="1"))\ndef extract(n: int) -> int:\n    return n + 1\n'
    )
    relative = (
        "from flytekit import workflow\n\nfrom . import etl\n\n\n"
        "@workflow\ndef wf(n: int) -> int:\n    return etl.extract(n=n)\n"
    )
    absolute = (
        f"import {package}.etl\nfrom flytekit import workflow\n\n\n"
        f"@workflow\ndef wf2(n: int) -> int:\n    return {package}.etl.extract(n=n)\n"
    )
    files = {f"{package}/__init__.py": "", f"{package}/etl.py": etl}
    root = _tree(tmp_path, {**files, f"{package}/flows.py": relative, f"{package}/flows2.py": absolute})
    report = run([root], Options(mode="write"))
    assert not [b for f in report.files for b in f.blockers]
    assert "depends_on=[etl.env]" in (root / package / "flows.py").read_text()
    assert f"depends_on=[{package}.etl.env]" in (root / package / "flows2.py").read_text()
    modules = _import_package(root, package, ["etl", "flows", "flows2"])
    assert [e.name for e in modules["flows"].env.depends_on] == [f"{package}_etl"]
    assert modules["flows2"].env.depends_on == [modules["etl"].env]


EAGER = """\
    import asyncio

    from flytekit import Resources, eager, task


    @task(requests=Resources(cpu="1"))
    def add_one(x: int) -> int:
        return x + 1


    @task(retries=1)
    def double(x: int) -> int:
        return x * 2


    @eager
    async def simple(x: int) -> int:
        out = add_one(x=x)
        if out < 0:
            return -1
        return double(x=out)


    @eager
    async def fan_out(x: int) -> int:
        outputs = [add_one(x=i) for i in range(x)]
        more = await asyncio.gather(simple(x=1), simple(x=2))
        return double(x=sum(outputs)) + sum(more)
    """


def test_eager_becomes_an_async_driver_and_runs_to_the_same_values(tmp_path: pathlib.Path) -> None:
    old, new, _report, code = programs(tmp_path, "eager", EAGER)
    assert "@eager" not in code
    assert "\nasync def simple(x: int) -> int:\n    out = await add_one.aio(x=x)\n" in code
    assert "outputs = [(await add_one.aio(x=i)) for i in range(x)]\n" in code
    assert "return double(x=sum(outputs)) + sum(more)" not in code
    assert "await asyncio.gather(simple(x=1), simple(x=2))" in code  # @eager calls stay coroutines
    ctx = SerializationContext(version="v1", project="p", domain="d", root_dir=tmp_path)
    for name in ("add_one", "double"):
        v1 = get_serializable(OrderedDict(), oracle._SETTINGS, getattr(old, name)).template.to_flyte_idl()
        v2 = task_serde.get_proto_task(getattr(new, name), ctx)
        assert _template_settings(v2) == _template_settings(v1), name
    calls = {c.callee for c in SourceModule(code).task_calls() if c.caller == "simple"}
    assert calls == {"add_one", "double"}
    import flyte  # noqa: PLC0415 - only the tests that run a program import it

    flyte.init()
    for name, x in (("simple", 3), ("fan_out", 3)):
        expected = asyncio.run(getattr(old, name)(x=x))  # flytekit runs an eager workflow locally this way
        outputs = flyte.with_runcontext(mode="local").run(getattr(new, name), x=x).outputs()
        assert outputs[0] == expected, name
    assert asyncio.run(old.fan_out(x=3)) == 12 + 4 + 6


@pytest.mark.parametrize(
    ("edit", "why"),
    [
        (("@eager\nasync def simple", "@eager(timeout=5)\nasync def simple"), "timeout= on @eager: flytekit"),
        (("out = add_one(x=x)", "out = await add_one(x=x)"), "which cannot be awaited"),
        (("outputs = [add_one(x=i) for i in range(x)]", "outputs = list(add_one(x=i) for i in range(x))"), "generator"),
    ],
)
def test_eager_without_an_exact_async_driver_blocks(edit: tuple[str, str], why: str) -> None:
    source = textwrap.dedent(EAGER).replace(*edit)
    assert source != textwrap.dedent(EAGER)
    result = migrate_source(source, path="m.py")
    assert result.status == "unchanged"
    assert any(why in b.reason for b in result.blockers), [b.reason for b in result.blockers]


NAMED = """\
    import dataclasses
    from typing import NamedTuple

    from flytekit import Resources, task, workflow

    Slope = NamedTuple("Slope", [("slope", float)])


    class Fit(NamedTuple):
        slope: float
        intercept: float


    @dataclasses.dataclass
    class Point:
        x: float
        y: float


    @task
    def slope(xs: list[int], ys: list[int]) -> Slope:
        return Slope(slope=float(sum(ys)) / len(xs))


    @task
    def fit(xs: list[int], s: float) -> Fit:
        return Fit(slope=s, intercept=float(len(xs)))


    @task
    def point(v: float) -> Point:
        return Point(x=v, y=-v)


    @task
    def total(a: float, b: float, c: float) -> float:
        return a + b + c


    @workflow
    def wf(xs: list[int], ys: list[int]) -> float:
        s = slope(xs=xs, ys=ys).with_overrides(limits=Resources(mem="1Gi"))
        f: Fit = fit(xs=xs, s=s.slope)
        return total(a=f.intercept, b=point(v=f.slope).y, c=fit(xs=xs, s=s.slope).slope)
    """


def test_named_outputs_are_read_by_position_and_run_to_the_same_value(tmp_path: pathlib.Path) -> None:
    # A Flyte 2 run hands a driver a one-field NamedTuple's value and a several-field one's
    # tuple, so `.field` must become the value or an index; a dataclass keeps its attributes.
    old, new, _report, code = programs(tmp_path, "named", NAMED)
    assert "    f: Fit = fit(xs=xs, s=s)\n" in code
    assert "    s = slope.override(" in code
    assert "    return total(a=f[1], b=point(v=f[0]).y, c=fit(xs=xs, s=s)[0])\n" in code
    import flyte  # noqa: PLC0415 - only the tests that run a program import it

    flyte.init()
    outputs = flyte.with_runcontext(mode="local").run(new.wf, xs=[1, 2], ys=[3, 5]).outputs()
    assert outputs[0] == old.wf(xs=[1, 2], ys=[3, 5]) == 2.0 - 4.0 + 4.0


def test_a_local_name_that_shadows_a_flytekit_import_is_not_a_construct() -> None:
    source = textwrap.dedent(
        """\
        from flytekit import task, workflow


        def pick(task: str | None, items: list[str]) -> list[str]:
            return [t for t in items if task is None or t == task] + [task for task in items]


        @task
        def t(n: int) -> int:
            return n


        @workflow
        def wf(n: int) -> int:
            return t(n=n)
        """
    )
    result = migrate_source(source, path="m.py")
    assert result.blockers == ()
    assert result.status == "changed"


def test_an_override_without_resources_blocks_where_it_is() -> None:
    # Only resource overrides become `.override(...)`; any other would be left calling a value.
    source = FLOWS.replace("from .tasks import double, plain", "from flytekit import task")
    source = source.replace(
        "        return plain(n=double(n=n))", "        return double(n=n).with_overrides(retries=2)"
    )
    source = source.replace(
        "    from flytekit import workflow\n",
        "    from flytekit import workflow\n\n\n    @task\n    def double(n: int) -> int:\n        return n * 2\n",
    )
    result = migrate_source(textwrap.dedent(source), path="m.py")
    assert result.status == "unchanged"
    assert [(b.construct, b.rule) for b in result.blockers] == [("with_overrides", "unsupported-construct")]


@pytest.mark.parametrize(
    ("read", "why"),
    [
        ("other(n=n).value", "reads an output of a task of another module by name"),
        ("plain(n=n).real", "its type is not a NamedTuple or a class of this module"),
        ('getattr(plain(n=n), "real")', "getattr(...) reads a task's outputs by name"),
    ],
)
def test_a_named_read_that_cannot_be_told_apart_blocks(read: str, why: str) -> None:
    source = f"""\
        from flytekit import task, workflow

        from pkg.tasks import other


        @task
        def plain(n: int) -> int:
            return n


        @workflow
        def wf(n: int) -> int:
            return plain(n={read})
        """
    result = migrate_source(textwrap.dedent(source), path="m.py")
    assert result.status == "unchanged"
    assert [b.construct for b in result.blockers] == ["@workflow wf"]
    assert why in result.blockers[0].reason


def test_projects_sharing_package_names_are_grouped_by_their_own_imports(tmp_path: pathlib.Path) -> None:
    # A repository of several projects, each with its own `workflows` package: an import means
    # the module under the importer's own root, never a namesake in another project.
    flows = FLOWS.replace("from .tasks import", "from workflows.tasks import")
    blocked = flows.replace("from flytekit import workflow", "from flytekit import HashMethod, workflow")
    blocked += "\n\n    HASH = HashMethod\n"
    files = {
        "p1/workflows/__init__.py": "",
        "p1/workflows/tasks.py": TASKS,
        "p1/workflows/flows.py": blocked,
        "p2/workflows/__init__.py": "",
        "p2/workflows/tasks.py": TASKS,
        "p2/workflows/flows.py": flows,
    }
    root = _tree(tmp_path, files)
    report = run([root], Options(mode="write"))
    by_name = {pathlib.Path(f.path).relative_to(root).as_posix(): f for f in report.files}
    # p1's workflow cannot move, so p1's tasks stay too.
    assert (root / "p1/workflows/tasks.py").read_text() == textwrap.dedent(TASKS)
    assert "p1/workflows/flows.py" in (by_name["p1/workflows/tasks.py"].reason or "")
    # p2 moves whole: its driver depends on its own tasks' environment, and names differ from p1's.
    assert by_name["p2/workflows/tasks.py"].status == by_name["p2/workflows/flows.py"].status == "changed"
    p2_flows = (root / "p2/workflows/flows.py").read_text()
    assert "from workflows.tasks import double, double_env, plain, plain_env\n" in p2_flows
    assert '    name="p2_workflows_flows",\n    depends_on=[double_env, plain_env],\n' in p2_flows
    assert by_name["p2/workflows/tasks.py"].group == by_name["p2/workflows/flows.py"].group
    names = [e.name for f in report.files for e in f.environments]
    assert names
    assert all(n.startswith("p2_workflows_") for n in names)


# map_task calls as real projects write them: over several lines, around another task's call
# or another map, with comments inside, and a partial built in a loop of a @dynamic.
SPREAD_MAPS = """\
    import functools

    from flytekit import Resources, dynamic, map_task, task, workflow


    @task
    def prepare(n: int, offset: int) -> list[int]:
        return [i + offset for i in range(n)]


    @task
    def square(x: int) -> int:
        return x * x


    @task
    def inc(x: int) -> int:
        return x + 1


    @task
    def scale(x: int, factor: int, shift: int) -> int:
        return x * factor + shift


    @task
    def total(values: list[int]) -> int:
        return sum(values)


    @workflow
    def wf(n: int, offset: int) -> list[int]:
        # the map's input is another task's output
        squares = map_task(square, concurrency=2)(
            x=prepare(
                n=n, offset=offset
            )  # one item per prepared value
        )
        return map_task(inc)(x=map_task(square, concurrency=1)(
            x=squares,
        ))


    @dynamic(requests=Resources(cpu="1"))
    def per_group(groups: list[list[int]], factor: int) -> list[int]:
        totals = []
        for group in groups:
            bound = functools.partial(
                scale,
                factor=factor,
                shift=1,
            )
            scaled = map_task(bound)(
                x=group
            )
            totals.append(total(values=scaled))
        return totals
    """


def test_map_task_calls_over_several_lines_become_flyte_map_and_run_to_the_same_values(
    tmp_path: pathlib.Path,
) -> None:
    old, new, report, code = programs(tmp_path, "spread", SPREAD_MAPS)
    assert not [f for f in report.files if f.status == "failed"]
    assert "map_task" not in code
    # Spread one argument per line, the comment kept above the statement.
    assert (
        "    # one item per prepared value\n"
        "    squares = list(\n"
        "        flyte.map(\n"
        "            square,\n"
        "            prepare(\n"
        "                n=n,\n"
        "                offset=offset,\n"
        "            ),\n"
        "            concurrency=2,\n"
        "            return_exceptions=False,\n"
        "        ),\n"
        "    )\n"
    ) in code
    assert "        scaled = list(flyte.map(bound, group, return_exceptions=False))\n" in code
    assert max(len(line) for line in code.splitlines()) <= 88
    calls = {c.callee for c in SourceModule(code).task_calls() if c.caller == "wf"}
    assert calls == _mapped_tasks(old.wf) | {"prepare"} == {"prepare", "square", "inc"}
    import flyte  # noqa: PLC0415 - only the tests that run a program import it

    flyte.init()
    outputs = flyte.with_runcontext(mode="local").run(new.wf, n=3, offset=1).outputs()
    assert list(outputs[0]) == list(old.wf(n=3, offset=1)) == [2, 17, 82]
    groups = [[1, 2], [3]]
    outputs = flyte.with_runcontext(mode="local").run(new.per_group, groups=groups, factor=2).outputs()
    assert list(outputs[0]) == list(old.per_group(groups=groups, factor=2)) == [8, 7]


@pytest.mark.parametrize(
    ("override", "rules"),
    [
        ('requests=Resources(cpu="2")', ["map-task-override"]),
        # No resources: the map's own reason, and the override's (it names none).
        ("retries=2", ["unsupported-construct", "unsupported-construct"]),
    ],
)
def test_an_override_on_a_map_task_over_several_lines_blocks_where_it_is(override: str, rules: list[str]) -> None:
    # flyte.map returns the outputs: an override left on them would fail when the driver runs.
    source = textwrap.dedent(
        f"""\
        from flytekit import Resources, map_task, task, workflow


        @task
        def square(x: int) -> int:
            return x * x


        @workflow
        def wf(xs: list[int]) -> list[int]:
            return map_task(square)(
                x=xs
            ).with_overrides({override})
        """
    )
    result = migrate_source(source, path="m.py")
    assert result.status == "unchanged"
    assert [(b.line, b.rule) for b in result.blockers] == [(11, rule) for rule in rules]
    assert "flyte.map" in result.blockers[0].reason


NAMED_SPREAD = """\
    from typing import NamedTuple

    from flytekit import Resources, map_task, task, workflow

    Slope = NamedTuple("Slope", [("slope", float)])


    class Fit(NamedTuple):
        slope: float
        intercept: float


    @task
    def slope(xs: list[int], ys: list[int]) -> Slope:
        return Slope(slope=float(sum(ys)) / len(xs))


    @task(requests=Resources(cpu="1"))
    def fit(xs: list[int], s: float) -> Fit:
        return Fit(slope=s, intercept=float(sum(xs)))


    @task
    def double(x: int) -> int:
        return 2 * x


    @task
    def total(a: float, b: float) -> float:
        return a + b


    @workflow
    def wf(xs: list[int], ys: list[int]) -> float:
        f = fit(
            xs=xs,
            s=slope(
                xs=xs, ys=ys
            ).slope,  # the only field: the value itself
        )
        return total(
            a=fit(xs=map_task(double)(
                x=xs,
            ), s=f.slope).intercept,
            b=fit(xs=xs, s=f.slope).with_overrides(requests=Resources(cpu="2")).intercept,
        )
    """


def test_named_reads_over_several_lines_or_around_other_rewrites_are_read_by_position_and_run_to_the_same_value(
    tmp_path: pathlib.Path,
) -> None:
    # Each read is rewritten where it is in libcst's tree, so its line breaks, and the map or
    # override rewritten inside one, do not matter.
    old, new, report, code = programs(tmp_path, "named_spread", NAMED_SPREAD)
    assert not [f for f in report.files if f.status == "failed"]
    assert "map_task" not in code
    assert (
        "    f = fit(\n"
        "        xs=xs,\n"
        "        s=slope(\n"
        "            xs=xs, ys=ys\n"
        "        ),  # the only field: the value itself\n"
        "    )\n"
        "    return total(\n"
        "        a=fit(xs=list(flyte.map(double, xs, return_exceptions=False)), s=f[0])[1],\n"
        '        b=fit.override(resources=flyte.Resources(cpu="2"))(xs=xs, s=f[0])[1],\n'
        "    )\n"
    ) in code
    import flyte  # noqa: PLC0415 - only the tests that run a program import it

    flyte.init()
    outputs = flyte.with_runcontext(mode="local").run(new.wf, xs=[1, 2], ys=[3, 5]).outputs()
    assert outputs[0] == old.wf(xs=[1, 2], ys=[3, 5]) == 6.0 + 3.0


def test_a_named_read_through_another_name_is_read_by_position_and_runs_to_the_same_value(
    tmp_path: pathlib.Path,
) -> None:
    # `y = f` hands y the same outputs; `y.intercept` was left as written and failed on a tuple.
    source = NAMED.replace(
        "        f: Fit = fit(xs=xs, s=s.slope)\n",
        "        g: Fit = fit(xs=xs, s=s.slope)\n        f = g\n",
    )
    old, new, _report, code = programs(tmp_path, "named_alias", source)
    assert "    return total(a=f[1], b=point(v=f[0]).y, c=fit(xs=xs, s=s)[0])\n" in code
    import flyte  # noqa: PLC0415 - only the tests that run a program import it

    flyte.init()
    outputs = flyte.with_runcontext(mode="local").run(new.wf, xs=[1, 2], ys=[3, 5]).outputs()
    assert outputs[0] == old.wf(xs=[1, 2], ys=[3, 5])


@pytest.mark.parametrize(
    ("imports", "written"),
    [
        # The driver's own environment is `env` too: the imported one needs another name.
        ("from .tasks import double", "from .tasks import double\nfrom .tasks import env as tasks_env\n"),
        ("from .tasks import twice", "from .tasks import env as tasks_env\nfrom .tasks import twice\n"),
        (
            "from .tasks import double as twice",
            "from .tasks import double as twice\nfrom .tasks import env as tasks_env\n",
        ),
    ],
)
def test_an_imported_environment_joins_no_aliased_import(imports: str, written: str, tmp_path: pathlib.Path) -> None:
    # isort and ruff write `x as y` in a statement of its own; joined, it was a new I001 finding.
    name = "twice" if imports.endswith("import twice") else "double"
    tasks = (
        f'from flytekit import Resources, task\n\n\n@task(requests=Resources(cpu="1"))\ndef {name}(n: int) -> int:\n'
    )
    tasks += "    return n * 2\n"
    local = imports.rpartition(" ")[2]
    flows = (
        f"from flytekit import workflow\n\n{imports}\n\n\n@workflow\ndef wf(n: int) -> int:\n    return {local}(n=n)\n"
    )
    root = _tree(tmp_path, {"pkg/__init__.py": "", "pkg/tasks.py": tasks, "pkg/flows.py": flows})
    before = _ruff_findings(root, 88)
    report = run([root], Options(mode="write"))
    assert report.count("changed") == 2
    assert written in (root / "pkg" / "flows.py").read_text()
    assert _ruff_findings(root, 88) == before


def test_a_flytekit_name_read_in_a_default_is_a_construct_even_where_a_parameter_shares_it() -> None:
    # A default is read where the function is defined: here flytekit's FlyteContext, not the parameter.
    source = textwrap.dedent(
        """\
        from flytekit import FlyteContext, task


        def helper(FlyteContext=FlyteContext):
            return FlyteContext.current_context()


        @task
        def t(n: int) -> int:
            return n
        """
    )
    result = migrate_source(source, path="m.py")
    assert result.status == "unchanged"
    assert [(b.line, b.construct) for b in result.blockers] == [(4, "FlyteContext")]


@pytest.mark.parametrize("reexport", ["from .tasks import double", "from .tasks import *"])
def test_a_task_imported_through_a_package_that_re_exports_it_stays_with_its_workflow(
    reexport: str, tmp_path: pathlib.Path
) -> None:
    # The package's __init__ holds no flytekit construct, so the workflow's module did not join the task's:
    # the task moved while the blocked workflow kept calling it.
    flows = FLOWS.replace("from .tasks import double, plain", "from pkg import double, plain")
    flows = flows.replace("from flytekit import workflow", "from flytekit import conditional, workflow")
    flows = flows.replace(
        "        return plain(n=double(n=n))",
        '        return conditional("c").if_(n > 1).then(double(n=n)).else_().then(plain(n=n))',
    )
    init = reexport + (", plain" if reexport.endswith("double") else "")
    root = _tree(tmp_path, {"pkg/__init__.py": init + "\n", "pkg/tasks.py": TASKS, "flows.py": flows})
    report = run([root], Options(mode="write"))
    assert {pathlib.Path(f.path).name: f.status for f in report.files}["tasks.py"] == "unchanged"
    assert "@task" in (root / "pkg" / "tasks.py").read_text()


def test_environments_join_the_import_that_renames_nothing(tmp_path: pathlib.Path) -> None:
    # `a_env` went beside `from .tasks import a as aa`, a new I001 finding; ruff joins it with `b`.
    tasks = TASKS.replace("def double", "def a").replace("def plain", "def b")
    tasks = tasks.replace("    @task\n", '    @task(requests=Resources(cpu="2"))\n')
    flows = FLOWS.replace("from .tasks import double, plain", "from .tasks import a as aa\n    from .tasks import b")
    flows = flows.replace("plain(n=double(n=n))", "b(n=aa(n=n))")
    root = _tree(tmp_path, {"pkg/__init__.py": "", "pkg/tasks.py": tasks, "pkg/flows.py": flows})
    before = _ruff_findings(root, 88)
    run([root], Options(mode="write"))
    assert "from .tasks import a as aa\nfrom .tasks import a_env, b, b_env\n" in (root / "pkg" / "flows.py").read_text()
    assert _ruff_findings(root, 88) == before


FLOATS = """\
    from flytekit import Resources, task, workflow


    @task(requests=Resources(cpu="1"))
    def one(x: int) -> int:
        return x + 1


    @task
    def half(a: float, b: float) -> float:
        return a / 2 + b


    @workflow
    def wf(x: int = 2) -> float:
        n = one(x=x)
        m = half(a=n, b=x)
        return half(a=m, b=one(x=x))
    """


@pytest.mark.parametrize("binding", ["n = one(x=x)", "n: int = one(x=x)"])
def test_an_int_given_to_a_float_parameter_is_written_as_the_float_flytekit_made(
    binding: str, tmp_path: pathlib.Path
) -> None:
    # flytekit binds an int to a float input; a Flyte 2 run refuses it ("Expected float").
    old, new, _report, code = programs(tmp_path, "floats", FLOATS.replace("n = one(x=x)", binding))
    assert f"    {binding}\n" in code
    assert "    m = half(a=float(n), b=float(x))\n" in code
    assert "    return half(a=m, b=float(one(x=x)))\n" in code
    import flyte  # noqa: PLC0415 - only the tests that run a program import it

    flyte.init()
    outputs = flyte.with_runcontext(mode="local").run(new.wf, x=2).outputs()
    assert outputs[0] == old.wf(x=2) == (3 / 2 + 2) / 2 + 3
