"""`flyteres check` on the sample project: exit codes, one line per problem with file:line, JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from flyteres.backend.config import load_platform, load_quotas
from flyteres.check import check_paths
from flyteres.cli.check import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PROJECT = EXAMPLES / "project"
ADMIN = EXAMPLES / "admin.yaml"
QUOTA = EXAMPLES / "quota.yaml"

# Every problem in the sample project: (file, line, what, rule).
EXPECTED = {
    ("etl.py", 25, "task 'heavy_join'", "rejected-at-registration"),
    ("etl.py", 31, "task 'spill'", "capped-at-platform-limit"),
    ("pipeline.py", 12, "with_overrides of 'extract'", "request-clamped-to-limit"),
    ("pipeline.py", 16, "with_overrides of 'aggregate'", "capped-at-platform-limit"),
    ("train.py", 13, "task 'train_multi_gpu'", "quota-exceeded"),
}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_sample_project_reports_every_offending_task_with_file_line_and_reason(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, PROJECT, "--platform", ADMIN, "--quota", QUOTA)
    assert code == 1
    lines = out.splitlines()
    for file, line, what, rule in EXPECTED:
        matching = [x for x in lines if x.startswith(f"{PROJECT / file}:{line}: {what}: ") and f"[{rule}]" in x]
        assert len(matching) == 1, (file, line, rule, out)
    assert "admin.yaml:11" in out  # where the memory limit is set
    assert "flyteadmin refuses to register the task" in out
    assert "Requests are clamped to original limits" in out
    assert (
        lines[-1]
        == "5 of 11 declaration(s) would be refused, changed or left without limits (1 refused at registration)"
    )
    # The override inside the @dynamic is not clamped: no finding on its line.
    assert f"{PROJECT / 'pipeline.py'}:23:" not in out


def test_without_the_quota_the_gpu_task_passes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, PROJECT, "--platform", ADMIN)
    assert code == 1
    assert "quota-exceeded" not in out
    assert "4 of 11" in out


def test_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, PROJECT, "--platform", ADMIN, "--quota", QUOTA, "--json")
    assert code == 1
    doc = json.loads(out)
    assert doc["exit_code"] == 1
    assert doc["summary"] == {"declarations": 11, "with_problems": 5, "rejected": 1, "skipped": 0}
    by_name = {(d["kind"], d["name"], d["line"]): d for d in doc["declarations"]}
    heavy = by_name[("task", "heavy_join", 25)]
    assert heavy["rejected"] is True
    assert heavy["findings"][0]["rule"] == "rejected-at-registration"
    extract = by_name[("with_overrides", "extract", 12)]
    assert extract["launch"] == "workflow"
    assert extract["resources"]["requests"]["memory"] == "512Mi"
    dynamic = by_name[("with_overrides", "extract", 23)]
    assert dynamic["launch"] == "dynamic"
    assert dynamic["resources"]["requests"]["memory"] == "2Gi"
    assert "requests.memory = 2Gi (from the override's request)" in dynamic["explanations"]


def test_a_clean_file_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "ok.py").write_text(
        "from flytekit import Resources, task\n\n@task(requests=Resources(cpu='1', mem='1Gi'))\ndef f() -> None: ...\n"
    )
    code, out, _ = run(capsys, tmp_path, "--platform", ADMIN)
    assert code == 0
    assert (
        out.strip()
        == "0 of 1 declaration(s) would be refused, changed or left without limits (0 refused at registration)"
    )


def test_declarations_that_cannot_be_evaluated_are_listed_not_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "dyn.py").write_text(
        "from flytekit import Resources, task, workflow\nfrom config import MEM\n\n"
        "@task(requests=Resources(mem=MEM))\ndef f() -> None: ...\n\n"
        "@workflow\ndef wf() -> None:\n    g().with_overrides(requests=Resources(mem='1Gi'))\n"
    )
    code, out, _ = run(capsys, tmp_path, "--platform", ADMIN)
    assert code == 0
    assert "dyn.py:4: task 'f': not checked:" in out
    assert "dyn.py:9: with_overrides of 'g': not checked: the overridden task 'g' is not declared" in out


@pytest.mark.parametrize(
    "case",
    [
        ({}, ["missing_dir", "--platform", str(ADMIN)], "missing_dir: no such file or directory"),
        (
            {"admin.yaml": "task_resources:\n  limits:\n    memory: 12XB\n"},
            [".", "--platform", "admin.yaml"],
            "admin.yaml:3: task_resources.limits.memory: '12XB' is not a Kubernetes quantity",
        ),
        ({"q.yaml": "kind: Pod\n"}, [".", "--platform", str(ADMIN), "--quota", "q.yaml"], "no ResourceQuota"),
    ],
)
def test_input_errors_exit_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    case: tuple[dict[str, str], list[str], str],
) -> None:
    files, args, message = case
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, *args)
    assert code == 2
    assert message in out + err


def test_a_file_python_cannot_parse_is_listed_and_does_not_hide_the_findings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Issue 14: a file the running Python cannot parse (a 3.12 f-string on 3.11, or a broken one) is
    # reported as not checked; the run goes on, and its exit code is what the other files found.
    (tmp_path / "bad.py").write_text("def f(:\n")
    (tmp_path / "heavy.py").write_text(
        "from flytekit import Resources, task\n\n@task(requests=Resources(mem='16Gi'))\ndef f() -> None: ...\n"
    )
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, ".", "--platform", str(ADMIN))
    assert code == 1
    assert "bad.py: not checked: cannot parse with Python 3." in out
    assert "heavy.py:3: task 'f': error: [rejected-at-registration]" in out


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, str(PROJECT))
    assert code == 2
    assert "--platform" in err


def test_check_paths_is_the_library_behind_the_command() -> None:
    report = check_paths([PROJECT], load_platform(ADMIN), load_quotas(QUOTA))
    assert report.exit_code == 1
    assert {(Path(c.declaration.path).name, c.declaration.line) for c in report.problems} == {
        (f, line) for f, line, _, _ in EXPECTED
    }


def test_runs_as_a_module(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "flyteres.cli.check", str(PROJECT), "--platform", str(ADMIN), "--json"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["summary"]["with_problems"] == 4


# -- the namespace and the ConfigMap as kubectl prints them (issue 16) ------------------------------------------

CONFIGMAP = EXAMPLES / "flyte-admin-configmap.yaml"
LIMITRANGE = EXAMPLES / "limitrange.yaml"


def test_the_demo_inputs_a_configmap_and_a_limitrange(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, PROJECT, "--platform", CONFIGMAP, "--cluster", QUOTA, "--cluster", LIMITRANGE)
    assert code == 1
    lines = out.splitlines()
    # The ConfigMap leaves limits.cpu and limits.gpu out: flyteadmin's built-ins (2 and 1) apply, and say so.
    assert lines[0].startswith(f"note: {CONFIGMAP}:32: task_resources: values the file leaves out: limits.cpu = 2")
    train = [x for x in lines if x.startswith(f"{PROJECT / 'train.py'}:13:")]
    assert len(train) == 2
    assert all("[rejected-at-registration]" in x and "flyteadmin's built-in limit" in x for x in train)
    # The LimitRange refuses the burstable task (memory limit 4Gi over a 2Gi request, ratio 1 allowed).
    (aggregate,) = [x for x in lines if x.startswith(f"{PROJECT / 'etl.py'}:19:")]
    assert "[limitrange-rejected] limits.memory = 4Gi: the LimitRange 'task-limits'" in aggregate
    assert f"({LIMITRANGE}:20)" in aggregate
    assert "memory max limit to request ratio per Container is 1, but provided ratio is 2.000000" in aggregate
    assert "quota-exceeded" not in out  # train_multi_gpu never registers, so no quota sees it
    assert lines[-1].endswith("(2 refused at registration)")


def test_limitrange_option_and_a_configmap_from_the_cluster_files(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, PROJECT, "--cluster", CONFIGMAP, "--limitrange", LIMITRANGE, "--json")
    doc = json.loads(out)
    assert code == 1
    spill = next(d for d in doc["declarations"] if d["name"] == "spill")
    assert [f["rule"] for f in spill["findings"]] == [
        "capped-at-platform-limit",
        "limitrange-default",  # the LimitRange's default request of ephemeral storage (info)
        "limitrange-rejected",
    ]
    # The same platform with --platform-complete: nothing is left to built-ins, so the GPU task registers.
    code, out, _ = run(capsys, PROJECT, "--platform", CONFIGMAP, "--platform-complete", "--json")
    train = next(d for d in json.loads(out)["declarations"] if d["name"] == "train_multi_gpu")
    assert train["rejected"] is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cluster", str(QUOTA)], "give the platform with --platform, or a Flyte ConfigMap in a --cluster file"),
        (["--platform", str(ADMIN), "--limitrange", str(QUOTA)], "no LimitRange in this file"),
        (["--platform", str(ADMIN), "--cluster", str(PROJECT / "etl.py")], "not valid YAML"),
    ],
)
def test_cluster_input_errors_exit_2(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    code, _, err = run(capsys, PROJECT, *args)
    assert code == 2
    assert message in err
