"""migrate_source and find_declarations: before/after strings and behaviours (CodemodTest style)."""

from __future__ import annotations

import dataclasses
import pathlib
import textwrap

import flyte
import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import flyteres
from flyteres.migrate import DeclarationKind, MigrateRule, SourceParseError, find_declarations, migrate_source

HEADER = "from flytekit import Resources, task\n\n\n"


def _src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def _rules(result: flyteres.migrate.MigrationResult) -> set[str]:
    return {f.rule for f in result.findings}


# ---------------------------------------------------------------------------------------------
# Before/after, flytekit target


FLYTEKIT_CASES = {
    "requests only keeps the Resources call as written": (
        '@task(requests=Resources("1", "2Gi"))\ndef f(): ...\n',
        '@task(resources=Resources("1", "2Gi"))\ndef f(): ...\n',
    ),
    "burstable pair": (
        '@task(requests=Resources(cpu="1"), limits=Resources(cpu="2"), retries=3)\ndef f(): ...\n',
        '@task(resources=Resources(cpu=("1", "2")), retries=3)\ndef f(): ...\n',
    ),
    "limits first keeps its place": (
        '@task(limits=Resources(mem="2Gi"), cache=True, requests=Resources(mem="1Gi"))\ndef f(): ...\n',
        '@task(resources=Resources(mem=("1Gi", "2Gi")), cache=True)\ndef f(): ...\n',
    ),
    "field order as written": (
        '@task(requests=Resources(mem="1Gi", cpu="1"), limits=Resources(cpu="2"))\ndef f(): ...\n',
        '@task(resources=Resources(mem="1Gi", cpu=("1", "2")))\ndef f(): ...\n',
    ),
    "ints become the strings flytekit can serialize": (
        "@task(requests=Resources(cpu=2, mem=1024))\ndef f(): ...\n",
        '@task(resources=Resources(cpu="2", mem="1024"))\ndef f(): ...\n',
    ),
    "already unified: nothing to do": (
        '@task(resources=Resources(cpu=["1", "2"]))\ndef f(): ...\n',
        '@task(resources=Resources(cpu=["1", "2"]))\ndef f(): ...\n',
    ),
}


@pytest.mark.parametrize(("before", "after"), FLYTEKIT_CASES.values(), ids=FLYTEKIT_CASES.keys())
def test_flytekit_target(before: str, after: str) -> None:
    result = migrate_source(HEADER + before, target="flytekit")
    assert result.code == HEADER + after


# ---------------------------------------------------------------------------------------------
# Before/after, flyte target


def test_one_environment_per_module_is_called_env() -> None:
    before = _src(
        """
        \"\"\"Doc.\"\"\"

        from __future__ import annotations

        import os

        from flytekit import Resources, task


        @task(requests=Resources(cpu="1"), limits=Resources(cpu="2"))
        def a() -> None: ...


        @task(requests=Resources(cpu="1"), limits=Resources(cpu="2"), retries=2, interruptible=True)
        def b() -> None: ...
        """
    )
    after = _src(
        """
        \"\"\"Doc.\"\"\"

        from __future__ import annotations

        import os

        import flyte

        env = flyte.TaskEnvironment(name="jobs", resources=flyte.Resources(cpu=("1", "2")))


        @env.task
        def a() -> None: ...


        @env.task(retries=2, interruptible=True)
        def b() -> None: ...
        """
    )
    result = migrate_source(before, path="pkg/jobs.py")
    assert result.code == after
    assert [(e.variable, e.name, e.tasks) for e in result.environments] == [("env", "jobs", ("a", "b"))]


def test_environment_names_are_valid_and_do_not_collide() -> None:
    before = HEADER + _src(
        """
        env = "taken"


        @task(requests=Resources(cpu="1"))
        def LoadData() -> None: ...
        """
    )
    result = migrate_source(before, path="src/2nd-stage/__init__.py")
    (environment,) = result.environments
    assert environment.variable == "m_2nd_stage_env"
    assert environment.name == "m_2nd_stage"
    two = migrate_source(
        HEADER + '@task(requests=Resources(cpu="1"))\ndef LoadData(): ...\n\n\n'
        '@task(requests=Resources(cpu="2"))\ndef other(): ...\n',
        path="x.py",
    )
    assert [(e.variable, e.name) for e in two.environments] == [
        ("load_data_env", "x_load_data"),
        ("other_env", "x_other"),
    ]
    for env in (*result.environments, *two.environments):
        flyte.TaskEnvironment(name=env.name)  # flyte validates the name


def test_an_existing_flyte_import_is_reused() -> None:
    before = "import flyte as fl\n" + HEADER + '@task(requests=Resources(cpu="1"))\ndef f(): ...\n'
    result = migrate_source(before, path="m.py")
    assert result.code.count("import flyte") == 1
    assert 'env = fl.TaskEnvironment(name="m", resources=fl.Resources(cpu="1"))' in result.code


def test_a_module_without_imports_gets_import_flyte_first() -> None:
    before = (
        "from flytekit.extras.accelerators import *\n"
        'from flytekit import Resources, task\n\n@task(requests=Resources(cpu="1"))\ndef f(): ...\n'
    )
    # Where isort puts it: plain imports before `from` imports in the block.
    code = migrate_source(before, path="m.py").code
    assert code.startswith("import flyte\nfrom flytekit.extras.accelerators import *\n"), code


def test_a_star_import_of_flytekit_blocks_the_module() -> None:
    # `workflow` read through the star stayed a flytekit workflow calling the moved Flyte 2 task.
    before = 'from flytekit import *\n\n@task(requests=Resources(cpu="1"))\ndef f(): ...\n\n@workflow\ndef wf(): f()\n'
    result = migrate_source(before, path="m.py")
    assert result.status == "unchanged"
    assert [(b.line, b.construct) for b in result.blockers] == [(1, "from flytekit import *")]


def test_a_removed_import_leaves_the_lines_above_it_as_written() -> None:
    # A notebook-style module: a second flytekit import mid-file, under a comment block.
    cell = "# %% [markdown]\n# Notes.\n\n# A second paragraph.\n\n\n# %%\n"
    before = (
        HEADER
        + '@task(requests=Resources(cpu="1"))\ndef f(): ...\n\n\n'
        + cell
        + "from flytekit import task\n\n\n@task\ndef g(): ...\n"
    )
    code = migrate_source(before, path="m.py").code
    assert cell + "\n\n" in code
    assert "from flytekit" not in code


def test_a_removed_import_in_the_place_of_import_flyte_gives_it_its_comment_once() -> None:
    before = '"""Doc."""\n\nimport os\n\n# the SDK\nfrom flytekit import Resources, task\nimport sys\n\n\n'
    before += '@task(requests=Resources(cpu="1"))\ndef f():\n    print(os.sep, sys.argv)\n'
    code = migrate_source(before, path="m.py").code
    assert code.count("# the SDK") == 1
    assert "# the SDK\nimport flyte\nimport sys\n" in code


def test_the_name_flyte_taken_leaves_everything() -> None:
    before = HEADER + 'def flyte(): ...\n\n\n@task(requests=Resources(cpu="1"))\ndef f(): ...\n'
    result = migrate_source(before)
    assert result.status == "unchanged"
    assert _rules(result) == {MigrateRule.NAME_CONFLICT.value}


def test_override_is_merged_with_the_task_and_keeps_its_arguments() -> None:
    before = HEADER + _src(
        """
        @task(requests=Resources(cpu="1", mem="1Gi"), limits=Resources(mem="2Gi"))
        def t(x: int) -> int: ...


        def wf(x: int) -> int:
            return t(x=x).with_overrides(limits=Resources(cpu="4"), retries=3, timeout=60)
        """
    )
    result = migrate_source(before, path="m.py")
    assert (
        "return t.override("
        'resources=flyte.Resources(cpu=("1", "4"), memory=("1Gi", "2Gi")), retries=3, timeout=60)(x=x)' in result.code
    )


@pytest.mark.parametrize(
    ("call", "rule"),
    [
        ('t(x=1).with_overrides(requests=Resources(cpu="2"), name="n")', MigrateRule.UNSUPPORTED_ARGUMENT),
        ('t(x=1).with_overrides(requests=Resources(cpu="2"), retries=0)', MigrateRule.UNSUPPORTED_ARGUMENT),
        ("t(x=1).with_overrides(**o)", MigrateRule.NOT_STATIC),
        ('node.with_overrides(requests=Resources(cpu="2"))', MigrateRule.OVERRIDE_TASK_UNKNOWN),
        ('other(x=1).with_overrides(requests=Resources(cpu="2"))', MigrateRule.OVERRIDE_TASK_UNKNOWN),
        ('t(x=1).with_overrides(requests=Resources(cpu="2")).with_overrides(retries=1)', MigrateRule.CHAINED_OVERRIDES),
    ],
)
def test_overrides_that_cannot_be_carried_stay_as_written(call: str, rule: MigrateRule) -> None:
    before = (
        HEADER + f'@task(requests=Resources(cpu="1"))\ndef t(x: int) -> int: ...\n\n\ndef wf(node, o):\n    {call}\n'
    )
    result = migrate_source(before, path="m.py")
    assert f"    {call}\n" in result.code
    override = next(s for s in result.sites if s.kind == "with_overrides")
    assert override.action == "untouched"
    assert rule.value in {f.rule for f in override.findings}


def test_a_task_name_shadowed_in_the_workflow_is_not_the_task() -> None:
    before = (
        HEADER
        + '@task(requests=Resources(cpu="1"))\ndef t(): ...\n\n\n'
        + 'def wf(t):\n    t().with_overrides(requests=Resources(cpu="2"))\n'
    )
    result = migrate_source(before)
    assert "t().with_overrides(" in result.code
    assert MigrateRule.OVERRIDE_TASK_UNKNOWN.value in _rules(result)


def test_module_constant_shadowed_in_the_workflow_is_written_out() -> None:
    before = HEADER + _src(
        """
        MEM = "1Gi"


        @task(requests=Resources(mem=MEM))
        def t(): ...


        def wf(MEM):
            t().with_overrides(requests=Resources(cpu="2"))
        """
    )
    result = migrate_source(before, path="m.py")
    assert 'env = flyte.TaskEnvironment(name="m", resources=flyte.Resources(memory=MEM))' in result.code
    assert 't.override(resources=flyte.Resources(cpu="2", memory="1Gi"))()' in result.code


def test_strict_policy_rewrites_only_what_is_wire_identical() -> None:
    before = (
        HEADER
        + '@task(limits=Resources(mem="1Gi"))\ndef a(): ...\n\n\n@task(requests=Resources(mem="1Gi"))\ndef b(): ...\n'
    )
    for target in ("flyte", "flytekit"):
        result = migrate_source(before, target=target, policy="strict", partial=True)  # type: ignore[arg-type]
        actions = {s.name: s.action for s in result.sites}
        assert actions == {"a": "untouched", "b": "rewritten"}
        whole = migrate_source(before, target=target, policy="strict")  # type: ignore[arg-type]
        # Flyte 2 cannot run half a module: without partial=True, b stays with a.
        expected = {"a": "untouched", "b": "untouched" if target == "flyte" else "rewritten"}
        assert {s.name: s.action for s in whole.sites} == expected
        assert not any(s.decided_by_policy for s in result.sites)
        lenient = migrate_source(before, target=target)  # type: ignore[arg-type]
        # The flytekit target is wire-identical whatever the policy.
        assert [s.name for s in lenient.sites if s.decided_by_policy] == (["a"] if target == "flyte" else [])


# ---------------------------------------------------------------------------------------------
# Files: formatting, line endings, bad input


def test_crlf_line_endings_survive_including_inserted_lines() -> None:
    before = (HEADER + '# note\n@task(\n    requests=Resources(cpu="1"),  # c\n)\ndef f(): ...\n').replace("\n", "\r\n")
    for target in ("flyte", "flytekit"):
        result = migrate_source(before, target=target)  # type: ignore[arg-type]
        assert result.changed
        assert result.code.count("\n") == result.code.count("\r\n")
        assert "# c" in result.code
        assert "# note" in result.code


def test_untouched_text_is_byte_for_byte_the_same() -> None:
    body = "x = {1:2}   # odd   spacing\n\n\n\nclass  A :\n\tpass\n"
    before = HEADER + body + '@task(requests=Resources(cpu="1"))\ndef f(): ...\n'
    result = migrate_source(before, target="flytekit")
    assert result.code.startswith(HEADER + body)


def test_generated_files_are_skipped() -> None:
    marker = "@" + "generated"
    before = f"# {marker} by a tool\n" + HEADER + '@task(requests=Resources(cpu="1"))\ndef f(): ...\n'
    result = migrate_source(before)
    assert (result.status, result.code) == ("skipped", before)


def test_each_outcome_is_its_own_class_with_only_its_own_fields() -> None:
    from flyteres.migrate import (  # noqa: PLC0415
        MigrationChanged,
        MigrationFailed,
        MigrationResult,
        MigrationSkipped,
        MigrationUnchanged,
    )

    decl = '@task(requests=Resources(cpu="1"))\ndef f(): ...\n'
    results = [
        migrate_source(HEADER + decl),
        migrate_source(HEADER + "def f(): ...\n"),
        migrate_source("# @" + "generated\n" + HEADER + decl),
        migrate_source(HEADER + "def f(:\n"),
    ]

    def described(result: MigrationResult) -> str:
        match result:
            case MigrationChanged(code=code, environments=(env,)) if f"@{env.variable}.task" in code:
                return f"changed into {env.variable}"
            case MigrationUnchanged(sites=sites):
                return f"unchanged, {len(sites)} sites"
            case MigrationSkipped(reason=reason) | MigrationFailed(reason=reason):
                return f"{result.status}: {reason.partition(':')[0]}"
        return "?"

    assert [described(r) for r in results] == [
        "changed into env",
        "unchanged, 0 sites",
        "skipped: marked @" + "generated",
        "failed: <string>",
    ]
    assert [r.status for r in results] == ["changed", "unchanged", "skipped", "failed"]
    assert [r.reason is None for r in results] == [True, True, False, False]
    assert [r.changed for r in results] == [True, False, False, False]
    # Only the fields an outcome has are fields; the rest is derived from the class.
    assert [f.name for f in dataclasses.fields(MigrationChanged)] == [
        "path",
        "code",
        "sites",
        "environments",
        "blockers",
    ]
    assert [f.name for f in dataclasses.fields(MigrationUnchanged)] == ["path", "code", "sites", "blockers"]
    assert [f.name for f in dataclasses.fields(MigrationSkipped)] == ["path", "code", "reason"]
    assert [f.name for f in dataclasses.fields(MigrationFailed)] == ["path", "code", "reason", "sites", "environments"]
    assert results[2].to_dict() == {
        "path": "<string>",
        "status": "skipped",
        "reason": "marked @" + "generated",
        "sites": [],
        "environments": [],
        "blockers": [],
    }


def test_a_syntax_error_is_a_failed_result_not_an_exception() -> None:
    before = HEADER + "@task(requests=Resources(cpu='1')\ndef f(: ...\n"
    result = migrate_source(before, path="bad.py")
    assert result.status == "failed"
    assert result.code == before
    assert "bad.py" in (result.reason or "")
    with pytest.raises(SourceParseError):
        find_declarations(before, "bad.py")


def test_unknown_values_are_reported_with_file_line_and_reason() -> None:
    before = HEADER + "def make(mem):\n    @task(requests=Resources(mem=mem))\n    def f(): ...\n"
    result = migrate_source(before, path="m.py")
    (site,) = result.sites
    assert (site.line, site.action) == (5, "untouched")
    assert "'mem' is bound in the enclosing function" in (site.reason or "")
    assert result.code == before


def test_invalid_values_are_reported_not_raised() -> None:
    before = HEADER + '@task(requests=Resources(cpu="2"), limits=Resources(cpu="1"))\ndef a(): ...\n\n\n'
    before += '@task(requests=Resources(mem="1GB"))\ndef b(): ...\n\n\n'
    before += '@task(requests=Resources(gpu="1"), accelerator=flytekit.extras.accelerators.NOPE)\ndef c(): ...\n'
    result = migrate_source("import flytekit\n" + before)
    assert [s.action for s in result.sites] == ["untouched"] * 3
    assert {f.rule for s in result.sites for f in s.findings} == {MigrateRule.INVALID_VALUE.value}


# ---------------------------------------------------------------------------------------------
# find_declarations


def test_find_declarations_reports_every_kind_with_its_line() -> None:
    source = _src(
        """
        import os
        import flytekit as fk
        from flytekit import ContainerTask, Resources as R, dynamic, map_task, workflow
        from flytekit.extras import accelerators as acc

        BOX = R(cpu="1")


        @fk.task(
            requests=BOX,
            limits=R(cpu="2"),
            accelerator=acc.A100.partition_1g_5gb,
        )
        def t(x: int) -> int: ...


        @dynamic(limits=R(mem=os.environ["MEM"]))
        def d() -> None: ...


        c = ContainerTask(name="c", image="i", command=["x"], requests=R(cpu="1"))


        @workflow
        def wf() -> None:
            t(x=1).with_overrides(
                requests=R(gpu="1"))
            map_task(t)(x=[1]).with_overrides(requests=R(mem="2Gi"))
        """
    )
    found = find_declarations(source, "m.py")
    summary = [(d.kind, d.name, d.line, d.target) for d in found]
    assert summary == [
        (DeclarationKind.TASK, "t", 9, None),
        (DeclarationKind.DYNAMIC, "d", 17, None),
        (DeclarationKind.CONTAINER_TASK, "c", 21, None),
        (DeclarationKind.WITH_OVERRIDES, "t", 26, "t"),
        (DeclarationKind.MAP_TASK_OVERRIDES, "t", 28, "t"),
    ]
    task = found[0]
    assert task.spec is not None
    assert task.spec.to_dict() == {
        "requests": {"cpu": "1"},
        "limits": {"cpu": "2"},
        "accelerator": {"device": "nvidia-tesla-a100", "device_class": "NVIDIA_GPU", "partition": "1g.5gb"},
    }
    assert task.arguments == {"requests": "BOX", "limits": 'R(cpu="2")', "accelerator": "acc.A100.partition_1g_5gb"}
    assert found[1].spec is None
    assert "computed value" in (found[1].reason or "")
    assert found[2].other_arguments["image"] == '"i"'
    assert found[0].to_dict()["path"] == "m.py"


def test_lines_are_right_for_calls_sharing_a_statement() -> None:
    source = HEADER + _src(
        """
        @task(requests=Resources(cpu="1"))
        def t() -> None: ...


        def wf():
            return [t().with_overrides(requests=Resources(cpu="2")),
                    t().with_overrides(
                        requests=Resources(cpu="3")).with_overrides(retries=1),
                    (t().with_overrides(requests=Resources(cpu="4")) if True else None)]
        """
    )
    lines = [(d.line, d.spec.to_dict() if d.spec else None) for d in find_declarations(source)]
    assert lines == [
        (4, {"requests": {"cpu": "1"}}),
        (9, {"requests": {"cpu": "2"}}),
        (10, {"requests": {"cpu": "3"}}),
        (12, {"requests": {"cpu": "4"}}),
    ]


# ---------------------------------------------------------------------------------------------
# Properties: the rendered code says exactly what the converter decided


_QUANTITIES = {"cpu": ["1", "500m", "2", "4"], "mem": ["1Gi", "512Mi", "2Gi", "8Gi"]}
_ACCELERATORS = ["T4", "A100", "A100.partition_1g_5gb", "V5E.slice_2x2", "H100", "L4", "A100.unpartitioned"]


@st.composite
def _declarations(draw: st.DrawFn) -> tuple[dict[str, dict[str, str]], str | None, object]:
    sides: dict[str, dict[str, str]] = {"requests": {}, "limits": {}}
    for name, values in _QUANTITIES.items():
        for fields in sides.values():
            if draw(st.booleans()):
                fields[name] = draw(st.sampled_from(values))
    if draw(st.booleans()):
        side = draw(st.sampled_from(["requests", "limits"]))
        sides[side]["gpu"] = draw(st.sampled_from(["0", "1", "2"]))
    accelerator = draw(st.none() | st.sampled_from(_ACCELERATORS))
    shm = draw(st.sampled_from([None, True, "1Gi"]))
    return sides, accelerator, shm


def _declaration_source(sides: dict[str, dict[str, str]], accelerator: str | None, shm: object) -> str:
    args = [
        f"{side}=Resources({', '.join(f'{k}={v!r}' for k, v in fields.items())})"
        for side, fields in sides.items()
        if fields
    ]
    if accelerator is not None:
        args.append(f"accelerator={accelerator}")
    if shm is not None:
        args.append(f"shared_memory={shm!r}")
    return (
        "from flytekit import Resources, task\n"
        "from flytekit.extras.accelerators import A100, H100, L4, T4, V5E\n\n\n"
        f"@task({', '.join(args)})\ndef f() -> None: ...\n"
    )


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_declarations(), st.sampled_from(["kubernetes", "strict"]))
def test_rewrites_say_what_the_converter_decided(
    declaration: tuple[dict[str, dict[str, str]], str | None, object], policy: str
) -> None:
    sides, accelerator, shm = declaration
    if not any(sides.values()) and accelerator is None and shm is None:
        return
    source = _declaration_source(sides, accelerator, shm)
    kwargs: dict[str, object] = {k: v for k, v in sides.items() if v}
    kwargs["accelerator"] = accelerator
    kwargs["shared_memory"] = shm
    try:
        spec = flyteres.from_flytekit(**kwargs)
    except ValueError:
        spec = None
    result = migrate_source(source, path="m.py", policy=policy)  # type: ignore[arg-type]
    assert result.status in ("changed", "unchanged")
    (site,) = result.sites
    if spec is None:
        assert site.action == "untouched"
        return
    conversion = flyteres.convert_to_flyte(spec, policy=policy)  # type: ignore[arg-type]
    assert (site.action == "rewritten") == (conversion.value is not None)
    if conversion.value is None:
        assert result.code == source
        return
    (env,) = result.environments
    namespace: dict[str, object] = {"flyte": flyte}
    assert eval(env.resources, namespace) == conversion.value  # noqa: S307 - our own generated expression
    compile(result.code, "m.py", "exec")
    again = migrate_source(result.code, path="m.py", policy=policy)  # type: ignore[arg-type]
    assert again.code == result.code


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_declarations(), st.sampled_from(["kubernetes", "strict"]))
def test_flytekit_rewrites_say_what_the_converter_decided(
    declaration: tuple[dict[str, dict[str, str]], str | None, object], policy: str
) -> None:
    sides, accelerator, shm = declaration
    if not any(sides.values()):
        return
    source = _declaration_source(sides, accelerator, shm)
    try:
        spec = flyteres.from_flytekit(**{k: v for k, v in sides.items() if v})
    except ValueError:
        spec = None
    result = migrate_source(source, path="m.py", target="flytekit", policy=policy)  # type: ignore[arg-type]
    (site,) = result.sites
    if spec is None:
        assert site.action == "untouched"
        return
    # The flytekit target is wire-identical whatever the policy: it decides as strict does.
    decided = flyteres.flytekit_arguments(spec, policy="strict", form="resources")
    assert (site.action == "rewritten") == (not decided.lossy)
    if decided.lossy:
        return
    call = cst.parse_module(result.code).body[-1].decorators[0].decorator  # type: ignore[attr-defined]
    resources = next(a.value for a in call.args if a.keyword is not None and a.keyword.value == "resources")
    written = eval(cst.Module(body=[]).code_for_node(resources), {"Resources": dict})  # noqa: S307
    assert written == decided.value.resources


# ---------------------------------------------------------------------------------------------
# Splicing: copying unchanged statements from the text equals generating the whole module


def _inputs() -> list[tuple[str, str]]:
    root = pathlib.Path(__file__).parent
    found = [(p.parent.name, p.read_text()) for p in sorted((root / "migrate_cases").glob("*/input.py.txt"))]
    found += [(p.stem, p.read_text()) for p in sorted((root / "migrate_corpus").glob("*.py"))]
    decl = '@task(requests=Resources(cpu="1"))\ndef f(): ...\n'
    found += [
        ("header and footer comments", "# head\n\n" + HEADER + decl + "\n# tail\n\n"),
        ("no trailing newline", HEADER + decl.rstrip("\n")),
        ("semicolons", "import os; " + HEADER + "x = 1; y = 2\n" + decl),
        ("crlf", (HEADER + decl + "\n\n" + decl.replace("f()", "g()")).replace("\n", "\r\n")),
        ("lone cr", (HEADER + decl).replace("\n", "\r")),
        ("indented footer", HEADER + "def h():\n    pass\n    # indented tail\n\n" + decl),
    ]
    return found


@pytest.mark.parametrize(("name", "source"), _inputs(), ids=[n for n, _ in _inputs()])
def test_splicing_equals_full_code_generation(name: str, source: str) -> None:
    from flyteres.core.options import Policy  # noqa: PLC0415
    from flyteres.migrate.cst_index import Analysis  # noqa: PLC0415
    from flyteres.migrate.to_flyte import FlytePlanner  # noqa: PLC0415
    from flyteres.migrate.to_flytekit import FlytekitPlanner  # noqa: PLC0415

    for target, planner_class in (("flyte", FlytePlanner), ("flytekit", FlytekitPlanner)):
        planner = planner_class(Analysis(source, f"{name.replace(' ', '_')}.py"), Policy.KUBERNETES)
        planner.plan()
        assert planner.apply(splice=True) == planner.apply(splice=False), (name, target)


def test_the_target_is_one_enum_and_its_string_values() -> None:
    from flyteres.migrate import MigrationTarget, Target  # noqa: PLC0415

    source = HEADER + '@task(requests=Resources(cpu="1"), limits=Resources(cpu="2"))\ndef f(): ...\n'
    assert Target is MigrationTarget
    assert [t.value for t in MigrationTarget] == ["flytekit", "flyte"]
    assert migrate_source(source, target=MigrationTarget.FLYTEKIT) == migrate_source(source, target="flytekit")
    assert migrate_source(source, target=MigrationTarget.FLYTE).code == migrate_source(source).code
    with pytest.raises(ValueError, match=r"^target must be one of flytekit, flyte, not 'flyte2'$"):
        migrate_source(source, target="flyte2")  # type: ignore[arg-type]


def test_an_import_only_a_local_of_the_same_name_reads_afterwards_goes() -> None:
    # The driver's own `t` and `w` are locals; they kept `task as t` and `workflow as w` imported (ruff F401, F811).
    before = textwrap.dedent(
        """\
        from flytekit import Resources
        from flytekit import task as t
        from flytekit import workflow as w


        @t(requests=Resources(cpu="1"))
        def sq(x: int, t: int = 0) -> int:
            return x * x + t


        @w
        def wf(x: int = 3) -> int:
            t = sq(x=x)
            w = sq(x=t)
            return sq(x=w)
        """
    )
    result = migrate_source(before, path="m.py")
    assert result.status == "changed", result.blockers
    assert "flytekit" not in result.code, result.code


def test_an_import_a_default_or_annotation_still_reads_stays() -> None:
    # A function's defaults and annotations are read where it is defined, not among its locals.
    before = textwrap.dedent(
        """\
        from flytekit import Resources, task


        @task(requests=Resources(cpu="1"))
        def sq(x: int) -> int:
            return x * x


        def helper(Resources=Resources, *, spec: Resources | None = None) -> Resources:
            return Resources
        """
    )
    result = migrate_source(before, path="m.py")
    assert result.status == "changed", result.blockers
    assert "from flytekit import Resources\n" in result.code, result.code
