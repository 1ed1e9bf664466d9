"""Help that lists choices, one default-policy story, -v/-q, shell completion, accelerators on narrow
terminals, and convert reporting only notes about its target (issue 18, "One CLI contract")."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from flyteres import accelerators
from flyteres.cli.accelerators import fit_columns
from tests.cli_helpers import EXAMPLES, invoke

FLYTERES = Path(sys.executable).parent / "flyteres"
COMMANDS = ["convert", "migrate", "check", "verify", "rules", "completion", "accelerators", "serve", "demo"]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_no_bool_type_and_lists_choices(command: str) -> None:
    code, out, _ = invoke(command, "--help")
    assert code == 0
    assert "<bool>" not in out
    if command != "serve":  # serve's --address is free text; every other value here is named or a choice
        assert "<str>" not in out.split("Options:")[-1]


def test_convert_help_lists_every_choice() -> None:
    _, out, _ = invoke("convert", "--help")
    assert "--to <flyte|flytekit|flytekit-resources|spec|k8s|flyteidl|flyteidl2>" in out
    assert "--from <spec|flytekit|idl>" in out
    assert "--policy <strict|kubernetes>" in out
    assert "--output-format <text|json|github|sarif>" in out


@pytest.mark.parametrize("command", ["check", "verify", "migrate"])
def test_reporting_commands_show_the_output_formats(command: str) -> None:
    _, out, _ = invoke(command, "--help")
    assert "--output-format <text|json|github|sarif>" in out
    assert "--config <pyproject.toml>" in out
    assert "--isolated" in out
    assert "--json" not in out, "the alias stays hidden"


def test_convert_and_migrate_tell_the_same_default_policy_story() -> None:
    _, convert, _ = invoke("convert", "--help")
    _, migrate, _ = invoke("migrate", "--help")
    for text in (convert, migrate):
        flat = " ".join(text.split())
        assert "convert defaults to strict" in flat or "convert, which turns one spec, defaults to strict" in flat
        assert "migrate, which rewrites a whole tree, defaults to kubernetes" in flat or (
            "migrate defaults to kubernetes" in flat
        )
        assert "tool.flyteres.policy in pyproject.toml sets both" in flat
        assert "[default: " in flat


def test_quiet_prints_findings_only_and_verbose_adds_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(EXAMPLES)
    args = ("check", "project", "--cluster", "flyte-admin-configmap.yaml")
    _, normal, _ = invoke(*args)
    _, quiet, _ = invoke("-q", *args)
    _, loud, err = invoke("-v", *args)
    assert normal.startswith("note: ")  # the ConfigMap leaves values to flyteadmin's built-ins
    assert normal.splitlines()[-1].endswith("refused at registration)")
    assert quiet.splitlines() == [x for x in normal.splitlines()[:-1] if not x.startswith("note: ")]
    assert loud == normal
    assert re.search(r"^read and checked 11 declaration\(s\) in \d+\.\d\d s$", err, re.MULTILINE)
    assert "project/etl.py: " in err


@pytest.mark.parametrize("command", ["check", "verify", "convert", "migrate"])
def test_the_commands_take_quiet_and_verbose_after_their_name_too(
    command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(EXAMPLES)
    args = {
        "check": ("check", "project", "--cluster", "flyte-admin-configmap.yaml"),
        "verify": ("verify", "project", "project"),
        "convert": ("convert", "--from", "flytekit", "--to", "flyte", "--policy", "kubernetes"),
        "migrate": ("migrate", "--target", "flyte", "project"),
    }[command]
    stdin = '{"limits": {"mem": "600Mi"}}' if command == "convert" else None

    def run(*argv: str) -> tuple[int, str, str]:
        code, out, err = invoke(*argv, stdin=stdin)
        return code, out, re.sub(r"\d+\.\d\d s\b", "N s", err)  # -v prints timings

    for flag in ("-q", "-v"):
        assert run(*args, flag) == run(flag, *args)
    assert invoke(*args, "-q", stdin=stdin) != invoke(*args, stdin=stdin)


def test_quiet_and_verbose_together_is_a_usage_error() -> None:
    code, _, err = invoke("-q", "-v", "rules")
    assert code == 2
    assert "at most one of --verbose, --quiet" in err


def test_quiet_convert_drops_the_notes_but_keeps_what_blocks() -> None:
    spec = '{"requests": {"gpu": "1"}, "limits": {"mem": "1Gi"}, "accelerator": "T4"}'
    _, _, err = invoke("convert", "--from", "flytekit", stdin=spec)
    _, _, quiet = invoke("-q", "convert", "--from", "flytekit", stdin=spec)
    assert "note: [gpu-count-type]" in err
    assert "note:" not in quiet
    assert "LOSSY: [limit-without-request]" in quiet


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_a_script_that_calls_flyteres_back(shell: str) -> None:
    code, out, _ = invoke("completion", shell)
    assert code == 0
    assert "_FLYTERES_COMPLETE=complete_" + shell in out.replace(" ", "") or "_FLYTERES_COMPLETE" in out
    assert "flyteres" in out


def test_typer_installs_completion_too() -> None:
    _, out, _ = invoke("--help")
    assert "--install-completion" in out
    # Typer's flag takes no shell name: it asks the process tree which shell runs it, so run it from bash
    # (under make, pytest's parent is /bin/sh, which Typer does not support); the second command keeps bash from
    # replacing itself with flyteres.
    command = f"'{FLYTERES}' --show-completion; exit $?"
    shown = subprocess.run(["bash", "-c", command], capture_output=True, text=True, check=False)
    assert shown.returncode == 0, shown.stderr
    assert "_FLYTERES_COMPLETE=complete_bash" in shown.stdout


def test_the_bash_script_completes_commands_and_choices() -> None:
    env = {**os.environ, "_FLYTERES_COMPLETE": "complete_bash", "COMP_CWORD": "1", "COMP_WORDS": "flyteres ch"}
    out = subprocess.run([FLYTERES], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["check"]
    env |= {"COMP_CWORD": "3", "COMP_WORDS": "flyteres check --output-format "}
    out = subprocess.run([FLYTERES], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["text", "json", "github", "sarif"]
    env |= {"COMP_CWORD": "3", "COMP_WORDS": "flyteres convert --to flytek"}
    out = subprocess.run([FLYTERES], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["flytekit", "flytekit-resources"]


# -- accelerators ------------------------------------------------------------------------------


def _table(columns: int) -> str:
    env = {**os.environ, "COLUMNS": str(columns), "TTY_COMPATIBLE": "1", "NO_COLOR": "1"}
    env.pop("FORCE_COLOR", None)
    out = subprocess.run([FLYTERES, "accelerators"], env=env, capture_output=True, text=True, check=True).stdout
    return re.sub(r"\x1b\[[0-9;]*m", "", out)  # rich still styles (bold, italic) without colour


@pytest.mark.parametrize("columns", [100, 80])
def test_accelerators_never_cuts_a_device_string(columns: int) -> None:
    out = _table(columns)
    assert "…" not in out
    assert all(len(line) <= columns for line in out.splitlines())
    words = set(re.findall(r"[\w.-]+", out))
    for a in accelerators.catalog():
        for device in (a.v1_device, a.v2_device):
            if device and " " not in device:
                assert device in words, (device, columns)
    assert "nvidia-tesla-h100" in words  # what the issue saw cut: 'nvidia-h1…'


def test_accelerators_drops_the_least_useful_columns_first() -> None:
    header = ["name", "class", "flytekit", "v1 device", "flyte", "v2 device", "partitions", "max N"]
    rows = [["H100", "NVIDIA_GPU", "H100", "nvidia-h100", "H100", "nvidia-tesla-h100", "6 mig", "8"]]
    assert fit_columns(header, rows, 200) == list(range(8))
    kept = [header[i] for i in fit_columns(header, rows, 70)]
    assert kept[:1] == ["name"]
    assert "max N" not in kept
    assert {"v1 device", "v2 device"} <= set(kept)


# -- convert --to X reports only notes about X ---------------------------------------------------

GPU_STRING = '{"requests": {"gpu": "1"}, "accelerator": "T4"}'


@pytest.mark.parametrize("target", ["flyteidl", "flyteidl2", "spec", "k8s", "flytekit"])
def test_convert_prints_no_note_about_another_target(target: str) -> None:
    code, out, err = invoke("convert", "--from", "flytekit", "--to", target, stdin=GPU_STRING)
    assert code == 0
    assert out
    assert "Flyte 2 takes an int" not in err


def test_convert_to_flyte_still_notes_the_int() -> None:
    code, _, err = invoke("convert", "--from", "flytekit", "--to", "flyte", stdin=GPU_STRING)
    assert code == 0
    assert "note: [gpu-count-type] requests.gpu = 1: a device count written as a string; Flyte 2 takes an int" in err


def test_quiet_migrate_keeps_the_sites_and_drops_the_totals(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(EXAMPLES)
    _, out, err = invoke("migrate", "project", "--check")
    _, quiet_out, quiet_err = invoke("-q", "migrate", "project", "--check")
    assert quiet_out == out
    assert "project/etl.py:13: task transform: rewritten; the kubernetes policy decided" in quiet_err
    assert "4 files: 3 would change" in err
    assert "files:" not in quiet_err
    assert "findings by rule" not in quiet_err
