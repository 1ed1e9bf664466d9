"""`@dynamic` and `@eager` that declare resources or task arguments become Flyte 2 driver tasks carrying them.

In flytekit a `@dynamic` is a task whose pod runs the body (its resources,
cache, retries... are the pod's), and a Flyte 2 driver is a task too, so both
go through the path plain tasks take. The oracle here is the SDKs' own
serializers: flytekit's `get_serializable` of the original against flyte's
`get_proto_task` of the migrated driver (resources under the converter
contract, cache, retries, timeout, interruptible, image and env vars), the
calls of each driver against the original's, and a local run of each program
in both SDKs.
"""

from __future__ import annotations

import asyncio
import itertools
import pathlib
import textwrap
from collections import OrderedDict
from typing import Any

import pytest
from flyte._internal.runtime import task_serde
from flyte.models import SerializationContext
from flytekit.tools.translator import get_serializable

from flyteres.migrate import Options, migrate_source, run
from flyteres.source.analysis import SourceModule
from tests import test_migrate_oracle as oracle
from tests.test_migrate_program import _template_settings, _tree, _workflow_calls, programs

_counter = itertools.count()

DYNAMIC = """\
    import datetime

    from flytekit import Resources, dynamic, task, workflow


    @task(requests=Resources(cpu="1"))
    def square(n: int) -> int:
        return n * n


    @task(retries=1)
    def total(xs: list[int]) -> int:
        return sum(xs)


    @dynamic(
        requests=Resources(cpu="1", mem="600Mi"),
        limits=Resources(mem="1Gi"),
        cache=True,
        cache_version="0.1",
        cache_serialize=True,
        retries=2,
        timeout=datetime.timedelta(minutes=10),
        interruptible=True,
        container_image="ghcr.io/example/fan:1.0",
        environment={"MODE": "fan"},
    )
    def fan_out(n: int) -> int:
        squares = [square(n=i) for i in range(n)]
        return total(xs=squares)


    @dynamic(cache=True, cache_version="0.1", limits=Resources(mem="600Mi"))
    def regions(n: int) -> int:
        return total(xs=[fan_out(n=n), square(n=n)])


    @dynamic(retries=3, enable_deck=True)
    def plain(n: int) -> int:
        return square(n=n)


    @workflow
    def wf(n: int) -> int:
        return total(xs=[regions(n=n), plain(n=n)])
    """


def _templates(old: Any, new: Any, name: str, root: pathlib.Path) -> tuple[Any, Any]:
    v1 = get_serializable(OrderedDict(), oracle._SETTINGS, getattr(old, name)).template.to_flyte_idl()
    ctx = SerializationContext(version="v1", project="p", domain="d", root_dir=root)
    return v1, task_serde.get_proto_task(getattr(new, name), ctx)


def _calls(source: str, caller: str) -> set[str]:
    return {c.callee for c in SourceModule(source).task_calls() if c.caller == caller}


def test_a_dynamic_becomes_a_driver_that_carries_its_resources_and_arguments(tmp_path: pathlib.Path) -> None:
    old, new, report, code = programs(tmp_path, "dyn", DYNAMIC)
    assert "@dynamic" not in code
    sites = {s.name: s for f in report.files for s in f.sites if s.kind == "dynamic"}
    assert {n: (s.action, s.decided_by_policy) for n, s in sites.items()} == {
        "fan_out": ("rewritten", False),
        "regions": ("rewritten", True),  # a limit-only memory: the kubernetes policy writes it as its request
    }
    for name in ("fan_out", "regions", "plain"):
        v1, v2 = _templates(old, new, name, tmp_path)
        assert _template_settings(v2) == _template_settings(v1), name
        if name in sites:
            v1_resources = oracle.flytekit_task(getattr(old, name))[:2]
            oracle._contract(sites[name], v1_resources, oracle.flyte_task(getattr(new, name), tmp_path))
        else:
            assert not v1.container.resources.ListFields()
            assert not v2.container.resources.ListFields()
        # The driver calls the tasks the @dynamic called.
        assert _calls(code, name) == _calls(textwrap.dedent(DYNAMIC), name), name
    v1, v2 = _templates(old, new, "fan_out", tmp_path)
    assert v2.container.image == v1.container.image == "ghcr.io/example/fan:1.0"
    assert _template_settings(v2)["cache"] == (True, "0.1", True)
    assert _template_settings(v2)["env"] == {"MODE": "fan"}
    assert _template_settings(v2)["retries"] == 2
    # One environment per distinct resources and environment arguments; each depends on what its drivers call.
    assert new.fan_out_env.depends_on == [new.square_env, new.total_env]
    assert new.regions_env.depends_on == [new.square_env, new.total_env, new.fan_out_env]
    assert new.fan_out_env is not new.regions_env
    assert _calls(code, "wf") == _workflow_calls(old.wf)
    import flyte  # noqa: PLC0415 - only the tests that run a program import it

    flyte.init()
    outputs = flyte.with_runcontext(mode="local").run(new.wf, n=3).outputs()
    assert outputs[0] == old.wf(n=3) == (0 + 1 + 4) + 9 + 9


EAGER = """\
    from flytekit import Resources, eager, task


    @task(requests=Resources(cpu="1"))
    def add_one(x: int) -> int:
        return x + 1


    @eager(
        requests=Resources(cpu="2", mem="1Gi"),
        limits=Resources(cpu="4", mem="1Gi"),
        container_image="ghcr.io/example/eager:1.0",
        environment={"MODE": "eager"},
    )
    async def driver(x: int) -> int:
        return add_one(x=add_one(x=x))
    """


def test_an_eager_becomes_an_async_driver_that_carries_its_resources_and_arguments(tmp_path: pathlib.Path) -> None:
    old, new, report, code = programs(tmp_path, "eag", EAGER)
    assert "@eager" not in code
    (site,) = [s for f in report.files for s in f.sites if s.kind == "eager"]
    assert site.action == "rewritten"
    v1, v2 = _templates(old, new, "driver", tmp_path)
    oracle._contract(site, oracle.flytekit_task(old.driver)[:2], oracle.flyte_task(new.driver, tmp_path))
    assert v2.container.image == v1.container.image == "ghcr.io/example/eager:1.0"
    # flytekit 1.16's eager task always writes a deck (it drops enable_deck); the rest is the same.
    settings = {k: v for k, v in _template_settings(v1).items() if k != "report"}
    assert {k: v for k, v in _template_settings(v2).items() if k != "report"} == settings
    assert settings["env"] == {"MODE": "eager"}
    assert _calls(code, "driver") == _calls(textwrap.dedent(EAGER), "driver") == {"add_one"}
    import flyte  # noqa: PLC0415 - only the tests that run a program import it

    flyte.init()
    outputs = flyte.with_runcontext(mode="local").run(new.driver, x=1).outputs()
    assert outputs[0] == asyncio.run(old.driver(x=1)) == 3


@pytest.mark.parametrize(
    "arguments",
    [
        'requests=Resources(cpu="1"), task_config=None',
        'requests=Resources(cpu="1"), container_image="{{.image.trainer.fqn}}:1"',
        'requests=Resources(cpu="1"), environment=ENV',
        'requests=Resources(cpu="1"), secret_requests=[Secret(group="g", key="k")]',
        'requests=Resources(cpu="1"), cache=True',
        'requests=Resources(cpu="1"), resources=Resources(mem="1Gi")',
        'requests=Resources(cpu="moo")',
        "task_config=None",
        "cache=Cache(version='1')",
    ],
)
def test_a_dynamic_blocks_on_what_a_task_blocks_on_with_the_same_reason(arguments: str) -> None:
    template = textwrap.dedent(
        """\
        from flytekit import Cache, Resources, Secret, dynamic, task, workflow

        ENV = dict(A="b")


        @task
        def leaf(n: int) -> int:
            return n


        @DECORATOR(ARGUMENTS)
        def body(n: int) -> int:
            return n


        @workflow
        def wf(n: int) -> int:
            return leaf(n=n)
        """
    ).replace("ARGUMENTS", arguments)
    as_task = migrate_source(template.replace("DECORATOR", "task"), path="m.py")
    as_dynamic = migrate_source(template.replace("DECORATOR", "dynamic"), path="m.py")
    assert as_task.status == as_dynamic.status == "unchanged"
    (task_blocker,) = [(b.rule, b.reason) for b in as_task.blockers if b.construct.endswith("body")]
    (dynamic_blocker,) = [(b.rule, b.reason) for b in as_dynamic.blockers if b.construct.endswith("body")]
    assert dynamic_blocker == task_blocker


@pytest.mark.parametrize(
    ("arguments", "dropped"),
    [
        ('requests=Resources(cpu="1"), retries=2', "retries="),
        ('requests=Resources(cpu="1"), cache=True, cache_version="1"', "cache=, cache_version="),
        ("timeout=60, interruptible=True", "timeout=, interruptible="),
        ('enable_deck=False, environment={"A": "b"}', "enable_deck="),
    ],
)
def test_an_eager_blocks_on_the_arguments_flytekit_drops(arguments: str, dropped: str) -> None:
    resources = '    requests=Resources(cpu="2", mem="1Gi"),\n    limits=Resources(cpu="4", mem="1Gi"),\n'
    source = textwrap.dedent(EAGER).replace(resources, f"    {arguments},\n")
    assert arguments in source
    result = migrate_source(source, path="m.py")
    assert result.status == "unchanged"
    (blocker,) = [b for b in result.blockers if b.construct.endswith("driver")]
    assert blocker.rule == "unsupported-argument"
    it = "them" if "," in dropped else "it"
    assert blocker.reason.startswith(f"{dropped} on @eager: flytekit 1.16 drops {it} "), blocker.reason


def test_flytekit_drops_those_eager_arguments() -> None:
    """What `test_an_eager_blocks_on_the_arguments_flytekit_drops` relies on, read from flytekit itself."""
    from flytekit import eager  # noqa: PLC0415 - the SDK under test

    async def body(x: int) -> int:
        return x

    body.__module__ = __name__
    dropped = eager(retries=2, timeout=60, interruptible=True, cache=True, cache_version="1", enable_deck=False)(body)
    meta = get_serializable(OrderedDict(), oracle._SETTINGS, dropped).template.to_flyte_idl().metadata
    assert (meta.retries.retries, meta.timeout.seconds, meta.discoverable, meta.discovery_version) == (0, 0, False, "")
    assert not meta.interruptible
    assert meta.generates_deck.value  # always, whatever enable_deck said


def test_drivers_with_the_same_resources_share_an_environment_and_unmovable_ones_say_why() -> None:
    source = textwrap.dedent(
        """\
        from flytekit import Resources, dynamic, task


        def factory():
            @dynamic(requests=Resources(cpu="1"))
            def nested(n: int) -> int:
                return n

            return nested


        @task(requests=Resources(cpu="1"))
        def leaf(n: int) -> int:
            return n


        @dynamic(requests=Resources(cpu="1", mem="1Gi"))
        def first(n: int) -> int:
            return leaf(n=n)


        @dynamic(requests=Resources(cpu="1", mem="1Gi"))
        def second(n: int) -> int:
            return leaf(n=n)


        @dynamic(requests=Resources(cpu="1", mem="1Gi"))
        def early(n: int) -> int:
            return late(n=n)


        @task
        def late(n: int) -> int:
            return n
        """
    )
    result = migrate_source(source, path="m.py", partial=True)
    assert sorted((e.variable, e.tasks) for e in result.environments) == [
        ("first_env", ("first", "second")),
        ("late_env", ("late",)),
        ("leaf_env", ("leaf",)),
    ]
    assert (
        'first_env = flyte.TaskEnvironment(name="m_first", resources=flyte.Resources(cpu="1", memory="1Gi"), '
        "depends_on=[leaf_env])" in result.code
    )
    left = {s.name: (s.reason, [f.rule for f in s.findings]) for s in result.sites if s.action == "untouched"}
    assert left == {
        "nested": ("it is not defined at the top level of the module", ["unsupported-decorator"]),
        "early": ("it calls a task defined after it", ["unsupported-decorator"]),
    }


def test_another_modules_driver_with_resources_is_depended_on_and_its_override_merged(tmp_path: pathlib.Path) -> None:
    files = {
        "__init__.py": "",
        "a.py": """\
            from flytekit import Resources, dynamic, task


            @task
            def leaf(n: int) -> int:
                return n


            @dynamic(requests=Resources(cpu="1", mem="1Gi"), retries=2)
            def fan(n: int) -> int:
                return leaf(n=n)
            """,
        "b.py": """\
            from flytekit import Resources, workflow

            from .a import fan


            @workflow
            def wf(n: int) -> int:
                return fan(n=n).with_overrides(requests=Resources(mem="2Gi"))
            """,
    }
    root = _tree(tmp_path / "src" / "pkg", files).parent
    report = run([root], Options(mode="write"))
    assert not [b for f in report.files for b in f.blockers]
    b = (root / "pkg" / "b.py").read_text()
    assert "from .a import fan, fan_env\n" in b
    assert 'env = flyte.TaskEnvironment(name="pkg_b", depends_on=[fan_env])' in b
    # Flyte 2's override replaces all resources: the driver's own cpu is merged in, as flytekit merged per key.
    assert 'return fan.override(resources=flyte.Resources(cpu="1", memory="2Gi"))(n=n)' in b
