"""`flyteres migrate` from the command line: modes, exit codes, files, reports."""

from __future__ import annotations

import json
import os
import pathlib
import stat
import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from flyteres.cli.migrate import migrate_command as migrate

TASK = (
    'from flytekit import Resources, task\n\n\n@task(requests=Resources(cpu="1"), limits=Resources(cpu="2"))\n'
    "def f(): ...\n"
)
DONE = 'from flytekit import Resources, task\n\n\n@task(resources=Resources(cpu=("1", "2")))\ndef f(): ...\n'
PLAIN = "import os\n\nprint(os.getcwd())\n"


def _app() -> typer.Typer:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command()(migrate)
    return app


def _run(*args: str | pathlib.Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(_app(), [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def tree(tmp_path: pathlib.Path) -> pathlib.Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "tasks.py").write_text(TASK)
    (tmp_path / "pkg" / "done.py").write_text(DONE)
    (tmp_path / "pkg" / "plain.py").write_text(PLAIN)
    (tmp_path / "notes.txt").write_text(TASK)
    for skipped in (".hidden", ".venv", "venv", "node_modules", "__pycache__", "build", "dist"):
        (tmp_path / skipped).mkdir()
        (tmp_path / skipped / "tasks.py").write_text(TASK)
    return tmp_path


def test_check_exits_1_and_names_the_files_that_would_change(tree: pathlib.Path) -> None:
    code, out, err = _run(tree, "--check", "--target", "flytekit")
    assert code == 1
    assert out.splitlines() == [f"would change: {tree / 'pkg' / 'tasks.py'}"]
    assert (tree / "pkg" / "tasks.py").read_text() == TASK
    assert "3 files: 1 would change, 1 unchanged, 1 skipped, 0 failed" in err


def test_check_exits_0_when_nothing_would_change(tree: pathlib.Path) -> None:
    assert _run(tree / "pkg" / "done.py", tree / "pkg" / "plain.py", "--check", "--target", "flytekit")[0] == 0


def test_diff_is_the_default_and_is_a_unified_diff(tree: pathlib.Path) -> None:
    code, out, _ = _run(tree / "pkg", "--target", "flytekit")
    assert code == 1
    path = tree / "pkg" / "tasks.py"
    assert out.startswith(f"--- {path}\n+++ {path}\n@@ ")
    assert '-@task(requests=Resources(cpu="1"), limits=Resources(cpu="2"))\n' in out
    assert '+@task(resources=Resources(cpu=("1", "2")))\n' in out
    assert path.read_text() == TASK


def test_write_rewrites_in_place_keeps_permissions_and_is_idempotent(tree: pathlib.Path) -> None:
    path = tree / "pkg" / "tasks.py"
    path.chmod(0o640)
    code, out, err = _run(tree, "--write", "--target", "flytekit")
    assert code == 0
    assert out == ""
    assert path.read_text() == DONE
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert "1 rewritten" in err
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no temp files left
    assert _run(tree, "--check", "--target", "flytekit")[0] == 0
    for skipped in (".hidden", ".venv", "venv", "node_modules", "__pycache__", "build", "dist"):
        assert (tree / skipped / "tasks.py").read_text() == TASK


def test_write_flyte_target_twice_changes_nothing_the_second_time(tree: pathlib.Path) -> None:
    assert _run(tree / "pkg", "--write")[0] == 0
    text = (tree / "pkg" / "tasks.py").read_text()
    assert "@env.task" in text
    assert _run(tree / "pkg", "--check")[0] == 0
    assert (tree / "pkg" / "tasks.py").read_text() == text


def test_crlf_and_the_declared_encoding_survive_a_write(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "legacy.py"
    text = "# -*- coding: latin-1 -*-\n# caf\xe9\n" + TASK
    path.write_bytes(text.replace("\n", "\r\n").encode("latin-1"))
    assert _run(path, "--write")[0] == 0
    data = path.read_bytes()
    assert data.count(b"\n") == data.count(b"\r\n")
    assert b"caf\xe9" in data
    assert b"@env.task" in data


def test_a_file_that_does_not_parse_is_reported_untouched_and_exits_2(tree: pathlib.Path) -> None:
    bad = tree / "pkg" / "broken.py"
    bad.write_text("from flytekit import Resources\n\ndef f(:\n")
    code, _, err = _run(tree / "pkg", "--write", "--target", "flytekit")
    assert code == 2
    assert bad.read_text() == "from flytekit import Resources\n\ndef f(:\n"
    assert f"{bad}: failed: " in err
    # The other files were still processed.
    assert (tree / "pkg" / "tasks.py").read_text() == DONE


def test_generated_files_are_skipped(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "gen.py"
    path.write_text("# " + "@" + "generated\n" + TASK)
    code, out, _ = _run(path, "--report", "json")
    assert code == 0
    report = json.loads(out)
    assert report["files"][0]["status"] == "skipped"
    assert report["files"][0]["reason"].startswith("marked ")


def test_usage_errors_exit_2(tree: pathlib.Path) -> None:
    assert _run(tree, "--write", "--check")[0] == 2
    assert _run(tree, "--policy", "lenient")[0] == 2
    code, _, err = _run(tree / "missing.py")
    assert code == 2
    assert "cannot read" in err


def test_json_report_schema(tree: pathlib.Path) -> None:
    (tree / "pkg" / "gpu.py").write_text(
        'from flytekit import Resources, task\n\n\n@task(limits=Resources(mem="1Gi"))\ndef capped(): ...\n'
    )
    # A module with a task that cannot move stays on flytekit whole, its blocker reported.
    (tree / "pkg" / "whole.py").write_text(
        "from flytekit import Resources, task\nfrom flytekit.extras.accelerators import A100\n\n\n"
        '@task(limits=Resources(mem="1Gi"))\ndef capped(): ...\n\n\n'
        '@task(requests=Resources(gpu="1"), accelerator=A100.unpartitioned)\ndef whole(): ...\n'
    )
    code, out, _ = _run(tree / "pkg", "--report", "json")
    assert code == 1
    report = json.loads(out)
    assert report["schema"] == "flyteres.migrate/1"
    assert (report["target"], report["policy"], report["mode"], report["exit_code"]) == (
        "flyte",
        "kubernetes",
        "diff",
        1,
    )
    assert [(pathlib.Path(f["path"]).name, f["status"]) for f in report["files"]] == [
        ("done.py", "changed"),
        ("gpu.py", "changed"),
        ("plain.py", "skipped"),
        ("tasks.py", "changed"),
        ("whole.py", "unchanged"),
    ]
    gpu = report["files"][1]
    assert gpu["diff"].startswith("--- ")
    (capped,) = gpu["sites"]
    kept, whole = report["files"][4]["sites"]
    assert kept["action"] == "untouched"
    assert kept["reason"].startswith("the module stays on flytekit (line 9: task whole cannot move")
    assert report["files"][4]["blockers"] == [
        {
            "path": str(tree / "pkg" / "whole.py"),
            "line": 9,
            "construct": "task whole",
            "rule": "unpartitioned",
            "reason": whole["reason"],
        }
    ]
    assert capped["kind"] == "task"
    assert capped["name"] == "capped"
    assert capped["line"] == 4
    assert capped["action"] == "rewritten"
    assert capped["old"] == 'task(limits=Resources(mem="1Gi"))'
    assert capped["new"] == "env.task"
    assert capped["decided_by_policy"] is True
    assert capped["environment"] == "env"
    (finding,) = capped["findings"]
    assert finding == {
        "rule": "limit-without-request",
        "source": "converter",
        "kind": "policy",
        "field": "limits.memory",
        "value": "1Gi",
        "reason": "Flyte 2 has no way to write a limit without a request",
        "line": 4,
        "lossy": False,
        "decided_by_policy": True,
        "actions": {
            "strict": "raises LossyConversionError",
            "kubernetes": "writes ('1Gi', '1Gi'): Kubernetes sets a missing request to the limit",
        },
    }
    assert whole["action"] == "untouched"
    assert whole["new"] is None
    assert "unpartitioned" in whole["reason"]
    assert {f["rule"] for f in whole["findings"] if f["lossy"]} == {"unpartitioned"}
    assert gpu["environments"] == [
        {
            "variable": "env",
            "name": "gpu",
            "resources": 'flyte.Resources(memory=("1Gi", "1Gi"))',
            "line": 4,
            "tasks": ["capped"],
        }
    ]
    summary = report["summary"]
    assert summary["files"] == 5
    assert summary["changed"] == 3
    assert summary["sites_rewritten"] == 3
    assert summary["sites_untouched"] == 2
    assert summary["sites_decided_by_policy"] == 1
    assert summary["findings_by_rule"]["unpartitioned"] == 1
    assert summary["findings_by_kind"] == {"info": 1, "lossy": 1, "policy": 2}


def test_jobs_2_gives_the_same_report_in_the_same_order(tmp_path: pathlib.Path) -> None:
    for i in range(40):
        (tmp_path / f"m{i:02d}.py").write_text(TASK.replace("def f()", f"def f{i}()") if i % 3 else PLAIN)
    _, one, _ = _run(tmp_path, "--report", "json", "--jobs", "1")
    _, two, _ = _run(tmp_path, "--report", "json", "--jobs", "2")
    assert json.loads(one) == json.loads(two)
    paths = [f["path"] for f in json.loads(two)["files"]]
    assert paths == sorted(paths)
    assert len(paths) == 40


def test_help_documents_the_exit_codes() -> None:
    code, out, _ = _run("--help")
    assert code == 0
    assert "Exit codes: 0 nothing to change" in " ".join(out.split())


@pytest.mark.slow
def test_python_dash_m_runs_the_command(tree: pathlib.Path) -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "flyteres.migrate", str(tree), "--check", "--jobs", "2", "--target", "flytekit"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == f"would change: {tree / 'pkg' / 'tasks.py'}\n"


def test_help_lists_the_choices_default_first() -> None:
    code, out, _ = _run("--help")
    text = " ".join(out.split())
    assert code == 0
    assert "<flyte|flytekit>" in text
    assert "<kubernetes|strict>" in text
    assert "[default: flyte]" in text
    assert "[default: kubernetes]" in text


@pytest.mark.parametrize(
    "module", ["flyteres.cli.migrate", "flyteres.migrate", "flyteres.migrate.rules", "flyteres.migrate.options"]
)
def test_registering_the_command_imports_nothing_heavy(module: str) -> None:
    # The CLI imports flyteres.cli.migrate at start-up; libcst, rich and the runner load in the command.
    heavy = ("libcst", "rich", "flyteres.migrate.runner", "flyteres.migrate.transform", "flyteres.source")
    code = f"import sys, {module}; print(sorted(m for m in sys.modules if m.startswith({heavy!r})))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert proc.stdout.strip() == "[]", f"importing {module} loaded {proc.stdout.strip()}"


def test_check_and_diff_exit_1_when_sites_remain_that_cannot_be_migrated(tmp_path: pathlib.Path) -> None:
    # Nothing would change (the module stays whole), but CI must be able to fail on what stays.
    (tmp_path / "blocked.py").write_text(
        "from flytekit import Resources, conditional, task\n\n\n"
        '@task(requests=Resources(cpu="1"))\ndef f() -> int: ...\n\n\nBRANCH = conditional\n'
    )
    for mode in ("--check", "--diff"):
        code, out, err = _run(tmp_path, mode)
        assert code == 1, mode
        assert out == ""
        assert f"{tmp_path / 'blocked.py'}:8: conditional: keeps its group on flytekit" in err
        assert "exit 1: 2 sites or constructs could not be migrated (listed above)" in err
    code, _, err = _run(tmp_path, "--write")
    assert code == 0
    assert "exit 1" not in err
    code, _, _ = _run(tmp_path, "--check", "--mark")
    assert code == 1
    assert _run(tmp_path, "--write", "--mark")[0] == 0
    assert "# TODO(flyteres): conditional:" in (tmp_path / "blocked.py").read_text()


BLOCKED = """\
from flytekit import Resources, conditional, task, workflow


@task(requests=Resources(cpu="1"))
def t(n: int) -> int:
    return n


@workflow
def wf(n: int) -> int:
    return conditional("c").if_(n > 1).then(t(n=n)).else_().then(t(n=1))
"""


@pytest.mark.parametrize("fmt", ["github", "sarif"])
def test_each_blocker_is_a_finding_at_its_line(fmt: str, tmp_path: pathlib.Path) -> None:
    (tmp_path / "flow.py").write_text(BLOCKED)
    code, out, _ = _run(tmp_path, "--output-format", fmt)
    assert code == 1
    if fmt == "github":
        lines = [line for line in out.splitlines() if "unsupported-construct" in line]
        assert len(lines) == 1
        assert lines[0].startswith(f"::warning file={tmp_path / 'flow.py'},line=11,")
        assert "keeps its group on flytekit: conditional: flytekit.conditional has no Flyte 2 equivalent" in lines[0]
        return
    results = json.loads(out)["runs"][0]["results"]
    (blocker,) = [r for r in results if r["ruleId"] == "unsupported-construct"]
    location = blocker["locations"][0]["physicalLocation"]
    assert location["region"]["startLine"] == 11
    assert location["artifactLocation"]["uri"].endswith("flow.py")
    assert blocker["level"] == "warning"


def test_an_environment_without_resources_is_reported_per_environment(tmp_path: pathlib.Path) -> None:
    (tmp_path / "flow.py").write_text(
        "from flytekit import Resources, task, workflow\n\n\n"
        '@task(requests=Resources(cpu="1", mem="1Gi"))\ndef sized() -> int:\n    return 1\n\n\n'
        "@task\ndef bare() -> int:\n    return 2\n\n\n"
        "@workflow\ndef wf() -> int:\n    return bare() + sized()\n"
    )
    code, out, _ = _run(tmp_path, "--output-format", "json")
    assert code == 1
    found = [f for f in json.loads(out)["findings"] if f["rule"] == "k8s-plugin-defaults"]
    # The task without resources and the driver task (a workflow ran no pod; a driver does): one each.
    assert [(f["line"], f["level"]) for f in found] == [(9, "warning"), (14, "warning")]
    assert "environment flow_bare sets no resources: in Flyte 2 its tasks (bare)" in found[0]["message"]
    assert "flow_sized" not in str(found)
