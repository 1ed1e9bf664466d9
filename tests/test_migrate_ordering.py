"""flytekit's `>>` in a workflow that becomes a Flyte 2 driver task.

`a >> b` only orders b's node after a's (flytekit's `runs_before`); a driver runs
its calls one at a time as written, so a `>>` whose every edge goes forward in
the driver's call order is dropped, and anything else blocks the workflow with
its reason. The oracle imports the original and the migrated program: flytekit's
serialized workflow gives every ordering edge (data and `>>`), flyte serializes
the driver (`get_proto_task`), and the driver, run locally in Flyte 2, calls
each task in an order compatible with every edge and computes the same value.
"""

from __future__ import annotations

import importlib
import itertools
import pathlib
import subprocess
import sys
import textwrap
from collections import OrderedDict
from types import ModuleType

import pytest
from flyte._internal.runtime import task_serde
from flyte.models import SerializationContext
from flytekit.core.workflow import WorkflowBase
from flytekit.tools.translator import get_serializable

from flyteres.migrate import Options, migrate_source, run
from tests import test_migrate_oracle as oracle

_counter = itertools.count()

PROGRAM = """\
    from flytekit import Resources, task, workflow

    LOG: list[str] = []


    @task(requests=Resources(cpu="1"))
    def load() -> int:
        LOG.append("load")
        return 1


    @task
    def clean() -> None:
        LOG.append("clean")


    @workflow
    def prepare() -> None:
        clean()


    @task
    def train(n: int) -> int:
        LOG.append("train")
        return n * 2


    @task
    def check() -> None:
        LOG.append("check")


    @task
    def report() -> None:
        LOG.append("report")


    @task
    def publish(n: int) -> int:
        LOG.append("publish")
        return n + 1


    @task
    def notify() -> None:
        LOG.append("notify")


    @workflow
    def wf(n: int) -> int:
        data = load()
        prepared = prepare()
        model = train(n=n)
        # the data is loaded and cleaned before training
        data >> prepared >> model
        checked = check().with_overrides(requests=Resources(cpu="2"))
        model >> checked
        report() >> publish(n=data) >> notify()  # in this order
        return model
    """


def _tree(root: pathlib.Path, package: str, text: str) -> pathlib.Path:
    directory = root / package
    directory.mkdir(parents=True)
    (directory / "__init__.py").write_text("")
    (directory / "flow.py").write_text(textwrap.dedent(text))
    return directory / "flow.py"


def _import(root: pathlib.Path, package: str) -> ModuleType:
    sys.path.insert(0, str(root))
    try:
        return importlib.import_module(f"{package}.flow")
    finally:
        sys.path.remove(str(root))


def _edges(workflow: WorkflowBase) -> set[tuple[str, str]]:
    """Every ordering edge of the flytekit workflow, by the names of the task or subworkflow
    each node runs: (upstream, downstream)."""
    template = get_serializable(OrderedDict(), oracle._SETTINGS, workflow).to_flyte_idl().template
    runs = {}
    for node in template.nodes:
        if node.HasField("task_node"):
            runs[node.id] = node.task_node.reference_id.name.rpartition(".")[2]
        elif node.HasField("workflow_node"):
            runs[node.id] = node.workflow_node.sub_workflow_ref.name.rpartition(".")[2]
    return {(runs[u], runs[n.id]) for n in template.nodes if n.id in runs for u in n.upstream_node_ids if u in runs}


def test_ordered_workflow_becomes_a_driver_that_honours_every_edge(tmp_path: pathlib.Path) -> None:
    n = next(_counter)
    old_pkg, new_pkg = f"ordered_old_{n}", f"ordered_new_{n}"
    _tree(tmp_path / "old", old_pkg, PROGRAM)
    path = _tree(tmp_path / "new", new_pkg, PROGRAM)
    report = run([tmp_path / "new"], Options(mode="write"))
    assert not [b for f in report.files for b in f.blockers]
    code = path.read_text()
    assert ">>" not in code
    # Names bound only to be ordered are bare calls now; calls ordered in one statement, one statement each.
    body = code[code.index("def wf(") :]
    assert body == textwrap.dedent(
        """\
        def wf(n: int) -> int:
            data = load()
            prepare()
            model = train(n=n)
            # the data is loaded and cleaned before training
            check.override(resources=flyte.Resources(cpu="2"))()
            report()
            publish(n=data)
            notify()  # in this order
            return model
        """
    )
    old, new = _import(tmp_path / "old", old_pkg), _import(tmp_path / "new", new_pkg)
    edges = _edges(old.wf)
    # The `>>` edges are there, beside the data edge load -> publish.
    assert {("load", "prepare"), ("prepare", "train"), ("train", "check"), ("report", "publish")} <= edges
    assert ("publish", "notify") in edges
    ctx = SerializationContext(version="v1", project="p", domain="d", root_dir=tmp_path)
    driver = task_serde.get_proto_task(new.wf, ctx)
    assert driver.id.name.endswith(".wf")
    assert [v.key for v in driver.interface.inputs.variables] == ["n"]
    import flyte  # noqa: PLC0415 - only the tests that run a program import it

    flyte.init()
    outputs = flyte.with_runcontext(mode="local").run(new.wf, n=3).outputs()
    assert outputs[0] == old.wf(n=3) == 6
    # A subworkflow's node runs when its task does.
    position = {name: new.LOG.index("clean" if name == "prepare" else name) for edge in edges for name in edge}
    assert all(position[a] < position[b] for a, b in edges), (new.LOG, edges)
    assert sorted(new.LOG) == sorted(old.LOG)


def test_the_driver_adds_no_lint_finding(tmp_path: pathlib.Path) -> None:
    path = _tree(tmp_path, "lint", PROGRAM)
    run([tmp_path], Options(mode="write"))
    ruff = pathlib.Path(sys.executable).parent / "ruff"
    out = subprocess.run(
        [str(ruff), "check", "--isolated", "--select", "F,E,W,I", "--output-format", "concise", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stdout


WORKFLOW = """\
    from flytekit import LaunchPlan, Resources, approve, create_node, sleep, task, workflow
    from other import plain_function


    @task(requests=Resources(cpu="1"))
    def a() -> int:
        return 1


    @task
    def b() -> None: ...


    @workflow
    def sub() -> None:
        b()


    @workflow
    def wf(n: int) -> None:
    {body}
    """


def _blocked(body: str) -> str:
    source = textwrap.dedent(WORKFLOW).format(body=textwrap.indent(textwrap.dedent(body), "    "))
    result = migrate_source(source, path="m.py")
    assert result.status == "unchanged"
    assert result.code == source
    (blocker,) = [b for b in result.blockers if b.construct == "@workflow wf"]
    assert blocker.rule == "unsupported-argument"
    return blocker.reason


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("y = b()\nx = a()\nx >> y\n", "`x >> y` (line 23) orders y (called at line 21) after x (line 22), but the"),
        ("x = a()\nb() >> x\n", "`b() >> x` (line 22) orders x (called at line 21) after b() (line 22)"),
        ("x = a()\nx >> x\n", "`x >> x` (line 22) orders x"),
        ("x = a()\ny = x >> b()\n", "`>>` (line 22) is used as a value"),
        ("x = a()\nif n:\n    x >> b()\n", "`>>` (line 23) is inside a block"),
        ("n >> b()\n", "`>>` (line 21): n is an input of the workflow"),
        ("x = a()\nx = a()\nx >> b()\n", "`>>` (line 23): x is bound more than once"),
        ("x = create_node(a)\nx >> b()\n", "x is bound to a node from create_node"),
        ("x = sleep(n)\nx >> b()\n", "x is bound to a gate node from sleep"),
        ('x = approve(a(), "ok")\nx >> b()\n', "x is bound to a gate node from approve"),
        ('x = LaunchPlan.get_or_create(sub, "lp")()\nx >> b()\n', "x is bound to a launch plan"),
        ("plain_function() >> b()\n", "orders a call of plain_function, which is not a task or workflow"),
        ("x = a()\nx.o0 >> b()\n", "orders x.o0, which is not a call of a task or workflow"),
        ("x = a(); x >> b()\n", "shares its line with another statement"),
        ("x: int = a()\nx >> b()\n", "x is not bound by a plain `x = ...` of the workflow body itself"),
        ("with open('f') as x:\n    pass\nx >> b()\n", "x is not bound by a plain `x = ...`"),
        ("y >> b()\n", "y is not bound in the workflow"),
        ("b() >> x\nx = a()\n", "x is bound after the `>>` that orders it"),
    ],
)
def test_an_ordering_without_an_exact_driver_blocks_with_its_reason(body: str, why: str) -> None:
    assert why in _blocked(body)


def test_a_forward_ordering_of_names_and_calls_is_dropped() -> None:
    source = textwrap.dedent(WORKFLOW).format(body="    x = a()\n    x >> b() >> sub()\n    b() >> sub()\n")
    result = migrate_source(source, path="m.py")
    assert result.status == "changed", result.blockers
    assert "def wf(n: int) -> None:\n    a()\n    b()\n    sub()\n    b()\n    sub()\n" in result.code


def test_tasks_of_another_module_of_the_run_are_ordered_too(tmp_path: pathlib.Path) -> None:
    tasks = """\
        from flytekit import Resources, task


        @task(requests=Resources(cpu="1"))
        def double(n: int) -> int:
            return n * 2


        @task
        def plain(n: int) -> int:
            return n + 1
        """
    flows = """\
        from flytekit import workflow

        from .tasks import double, plain


        @workflow
        def wf(n: int) -> int:
            first = double(n=n)
            first >> plain(n=n)
            return first
        """
    for rel, text in {"pkg/__init__.py": "", "pkg/tasks.py": tasks, "pkg/flows.py": flows}.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(textwrap.dedent(text))
    report = run([tmp_path], Options(mode="write"))
    assert not [b for f in report.files for b in f.blockers]
    code = (tmp_path / "pkg" / "flows.py").read_text()
    assert "    first = double(n=n)\n    plain(n=n)\n    return first\n" in code
    # Alone, the module cannot tell that the names it imports are tasks that move: it stays.
    alone = migrate_source(textwrap.dedent(flows), path="pkg/flows.py", module="pkg.flows")
    assert alone.status == "unchanged"
    assert (
        "first is bound to a call of double, which is not a task or workflow of this module" in alone.blockers[0].reason
    )


def test_in_eager_the_shift_of_two_values_stays() -> None:
    # flytekit 1.16's eager mode returns a task's value, so `>>` shifts two ints there as in Flyte 2.
    source = textwrap.dedent(
        """\
        from flytekit import eager, task


        @task
        def a() -> int:
            return 8


        @eager
        async def driver() -> int:
            return a() >> a()
        """
    )
    result = migrate_source(source, path="m.py")
    assert result.status == "changed", result.blockers
    assert "    return (await a.aio()) >> (await a.aio())\n" in result.code


def test_in_dynamic_a_shift_of_inputs_stays() -> None:
    # A @dynamic runs with its inputs as Python values: `n >> 1` is a shift there, as in Flyte 2;
    # it blocked the group as an ordering used as a value.
    source = textwrap.dedent(
        """\
        from flytekit import Resources, dynamic, task


        @task
        def a(x: int) -> int:
            return x + 1


        @dynamic(requests=Resources(cpu="1"))
        def driver(n: int) -> list[int]:
            half = n >> 1
            n >> 2
            return [a(x=i) for i in range(half)]
        """
    )
    result = migrate_source(source, path="m.py")
    assert result.status == "changed", result.blockers
    assert "    half = n >> 1\n    n >> 2\n" in result.code
