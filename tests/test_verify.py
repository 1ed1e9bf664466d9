"""`flyteres verify OLD NEW` on real before/after pairs (tests/verify_pairs, see its README)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from flyteres.backend.config import load_platform
from flyteres.cli.verify import main
from flyteres.migrate.runner import Options, run
from flyteres.platform import parse_platform
from flyteres.verify import VerifiedPair, VerifyReport, verify_paths

ROOT = Path(__file__).resolve().parent.parent
PAIRS = Path(__file__).parent / "verify_pairs"
ADMIN = ROOT / "examples" / "admin.yaml"

# flyteadmin's defaults and the k8s plugin's agree: what differs between the SDKs is then the code alone.
AGREEING = """
task_resources:
  defaults: {cpu: "1", memory: 1Gi}
  limits: {cpu: "8", memory: 64Gi}
plugins:
  k8s:
    default-cpus: "1"
    default-memory: 1Gi
"""


def pair(report: VerifyReport, key: str) -> VerifiedPair:
    (found,) = [p for p in report.pairs if p.key == key]
    return found


def test_the_oom_retry_override_drops_the_gpus_and_verify_says_why() -> None:
    report = verify_paths(PAIRS / "oom_retry" / "old", PAIRS / "oom_retry" / "new")
    assert report.exit_code == 1
    # The tasks themselves kept their resources.
    assert not pair(report, "train.train").changed
    assert not pair(report, "train.report").changed
    retry = pair(report, "train.main: train #1")
    changes = {d.field: (d.old, d.new) for d in retry.differences}
    assert changes == {
        "requests.cpu": ("4", "1"),
        "limits.cpu": ("4", "1"),
        "requests.gpu": ("1", None),
        "limits.gpu": ("1", None),
        "accelerator.device": ("nvidia-tesla-a100", None),
    }
    by_field = {d.field: d for d in retry.differences}
    assert by_field["requests.cpu"].old_rule == "[task] from the task's request"
    assert by_field["requests.cpu"].new_rule.startswith("[platform-default] the k8s plugin's built-in default-cpus")
    assert by_field["accelerator.device"].new_rule.startswith("[override-replaces-resources]")
    assert (retry.old.launch, retry.new.launch) == ("workflow", "flyte2")
    # The workflow is a task in Flyte 2, with a pod of its own: listed, not a change.
    assert [key for key, _ in report.became_tasks] == ["train.main"]


@pytest.mark.parametrize("variant", ["new", "new_with_request"])
def test_a_limit_only_task_keeps_its_memory_with_or_without_the_request(tmp_path: Path, variant: str) -> None:
    old, new = PAIRS / "limit_only" / "old", PAIRS / "limit_only" / variant
    (tmp_path / "platform.yaml").write_text(AGREEING)
    report = verify_paths(old, new, load_platform(tmp_path / "platform.yaml"))
    assert report.exit_code == 0, list(report.lines())
    task = pair(report, "tasks.transform")
    assert task.old.values()["requests.memory"] == task.new.values()["requests.memory"] == "600Mi"
    assert task.old.values()["limits.memory"] == task.new.values()["limits.memory"] == "600Mi"
    assert task.old.why("requests.memory").startswith("[request-from-limit]")
    expected = "[task]" if variant == "new_with_request" else "[limit-from-request]"
    assert task.new.why("limits.memory").startswith(expected)


def test_without_a_platform_each_side_gets_its_own_backends_defaults() -> None:
    report = verify_paths(PAIRS / "limit_only" / "old", PAIRS / "limit_only" / "new")
    task = pair(report, "tasks.transform")
    assert [(d.field, d.change) for d in task.differences] == [("requests.cpu", "appeared"), ("limits.cpu", "appeared")]
    assert "k8s plugin's built-in default-cpus (no platform given)" in task.differences[0].new_rule


def test_an_h100_task_whose_label_changed() -> None:
    report = verify_paths(PAIRS / "h100" / "old", PAIRS / "h100" / "new")
    (difference,) = pair(report, "train.pretrain").differences
    assert (difference.field, difference.old, difference.new) == (
        "accelerator.device",
        "nvidia-h100",
        "nvidia-tesla-h100",
    )
    assert difference.note is not None
    assert "flyte.Device(quantity=8, device_class='GPU', device='nvidia-h100') keeps the label" in difference.note


def test_the_command_line_json_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    code = main([str(PAIRS / "h100" / "old"), str(PAIRS / "h100" / "new"), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == doc["exit_code"] == 1
    assert doc["summary"] == {
        "pairs": 1,
        "same": 0,
        "changed": 1,
        "not_compared": 0,
        "only_old": 0,
        "only_new": 0,
        "became_tasks": 0,
    }
    assert doc["pairs"][0]["differences"][0]["field"] == "accelerator.device"
    code = main([str(PAIRS / "h100" / "old"), str(PAIRS / "h100" / "old")])
    out = capsys.readouterr().out
    assert code == 0
    assert out.strip().endswith(
        "1 of 1 pair(s) get the same resources; 0 changed or not compared, 0 only in OLD, 0 only in NEW"
    )
    assert main([str(PAIRS / "h100" / "old"), "missing"]) == 2
    out = capsys.readouterr().out
    assert "NEW missing: no such file or directory" in out
    assert out.count("no such file") == 1  # said once, not again by the discovery


def test_unpaired_tasks_and_files_python_cannot_parse_are_listed(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    shutil.copytree(PAIRS / "h100" / "old", old)
    shutil.copytree(PAIRS / "h100" / "old", new)
    (old / "gone.py").write_text("from flytekit import task\n\n@task\ndef gone() -> None: ...\n")
    (new / "later.py").write_text("def f(:\n")
    report = verify_paths(old, new)
    assert report.exit_code == 1
    assert [key for key, _ in report.only_old] == ["gone.gone"]
    ((path, reason),) = report.skipped_files
    assert Path(path).name == "later.py"
    assert reason.startswith("cannot parse with Python 3.")


def test_verify_catches_what_a_flytekit_to_flytekit_rewrite_changes(tmp_path: Path) -> None:
    # `flyteres migrate --target flytekit` turns requests=/limits= into resources=. A limit alone written
    # as (limit, limit) keeps the pod, but flyteadmin then sees a request and refuses the task whose limit
    # (12Gi) is above the platform's (8Gi) at registration, where it used to register and be capped
    # silently. migrate leaves such a site as written now; a hand-made rewrite of it is what verify catches.
    # Every other task and override keeps its pod.
    old, new = ROOT / "examples" / "project", tmp_path / "project"
    shutil.copytree(old, new)
    run([new], Options(target="flytekit", mode="write"), jobs=1)  # type: ignore[arg-type]
    etl = (new / "etl.py").read_text()
    assert '@task(limits=Resources(mem="12Gi"))' in etl
    (new / "etl.py").write_text(
        etl.replace('@task(limits=Resources(mem="12Gi"))', '@task(resources=Resources(mem=("12Gi", "12Gi")))')
    )
    report = verify_paths(old, new, parse_platform(ADMIN.read_text(), str(ADMIN)))
    assert report.exit_code == 1
    assert [(p.key, [(d.field, d.old, d.new) for d in p.differences]) for p in report.changed] == [
        ("etl.spill", [("verdict", None, "refused at registration")])
    ]
    assert len(report.pairs) == 12
