"""The hooks in .pre-commit-hooks.yaml, run by pre-commit as a team would run them.

pre-commit installs hooks from a git repository at a revision, so the checkout
as it is now (uncommitted changes included) is committed into a temporary
repository first. A sample project then names that repository in its
.pre-commit-config.yaml and runs `pre-commit run --all-files`: with only Flyte 2
code both hooks pass; a flytekit task whose limit is above the platform's fails
both, each saying where and why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"

FLYTE2 = """import flyte

env = flyte.TaskEnvironment(name="train", resources=flyte.Resources(cpu=(1, 2), memory=("1Gi", "2Gi")))


@env.task
async def train(x: int) -> int:
    return x
"""

LEGACY = """from flytekit import Resources, task


@task(requests=Resources(cpu="1", mem="1Gi"), limits=Resources(cpu="64", mem="2Gi"))
def big(x: int) -> int:
    return x
"""


def git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "flyteres tests",
        "GIT_AUTHOR_EMAIL": "tests@flyteres.invalid",
        "GIT_COMMITTER_NAME": "flyteres tests",
        "GIT_COMMITTER_EMAIL": "tests@flyteres.invalid",
    }
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def hooks() -> list[dict[str, object]]:
    loaded = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert isinstance(loaded, list)
    return loaded


def test_hooks_install_the_cli_extra() -> None:
    tomllib = pytest.importorskip("tomllib")
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert {h["id"] for h in hooks()} == {"flyteres-check", "flyteres-migrate-check"}
    for hook in hooks():
        # pre-commit installs the repository without extras.
        assert hook["additional_dependencies"] == extras["cli"], hook["id"]


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """This checkout, uncommitted changes included, as a git repository and its revision."""
    repo = tmp_path_factory.mktemp("hook-repo")
    files = git(ROOT, "ls-files", "--cached", "--others", "--exclude-standard", "-z").split("\0")
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo / name)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "the checkout under test")
    return repo, git(repo, "rev-parse", "HEAD")


def pre_commit(project: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}
    return subprocess.run(
        [PRE_COMMIT, "run", "--all-files"], cwd=project, env=env, capture_output=True, text=True, check=False
    )


def test_hooks_pass_clean_code_and_fail_on_what_they_report(hook_repo: tuple[Path, str], tmp_path: Path) -> None:
    repo, rev = hook_repo
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(ROOT / "examples" / "admin.yaml", project / "admin.yaml")
    (project / "env.py").write_text(FLYTE2)
    config = {
        "repos": [
            {
                "repo": str(repo),
                "rev": rev,
                "hooks": [
                    {"id": "flyteres-check", "args": ["--platform", "admin.yaml"]},
                    {"id": "flyteres-migrate-check"},
                ],
            }
        ]
    }
    (project / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    git(project, "init", "-q")
    git(project, "add", "-A")
    home = tmp_path / "pre-commit-home"

    clean = pre_commit(project, home)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "flyteres check" in clean.stdout
    assert "Passed" in clean.stdout

    (project / "legacy.py").write_text(LEGACY)
    git(project, "add", "legacy.py")
    found = pre_commit(project, home)
    assert found.returncode == 1, found.stdout + found.stderr
    out = found.stdout
    assert out.count("Failed") == 2, out
    assert "legacy.py:4: task 'big': error: [rejected-at-registration] limits.cpu = 64" in out
    assert "would change: legacy.py" in out
