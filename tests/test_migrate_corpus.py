"""A real project migrated to Flyte 2 on a copy (slow): whole programs, no new lint finding.

Runs when FLYTERES_CORPUS names a source tree or a git directory (for example
a clone of flyteorg/flytesnacks); skipped otherwise. With FLYTERES_CORPUS_RUN=1
it also runs every migrated workflow beside its original (the corpus's own
code). Nothing of the corpus is kept. benchmarks/migrate_corpus.py prints the
same figures.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType

import pytest

from tests.modules import import_file

CORPUS = os.environ.get("FLYTERES_CORPUS", "")
RUN = os.environ.get("FLYTERES_CORPUS_RUN") == "1"


def _benchmark() -> ModuleType:
    return import_file(Path(__file__).resolve().parents[1] / "benchmarks" / "migrate_corpus.py", "migrate_corpus")


@pytest.mark.slow
@pytest.mark.skipif(not CORPUS or not Path(CORPUS).exists(), reason="FLYTERES_CORPUS names no corpus here")
def test_a_real_project_migrates_in_whole_programs_only(tmp_path: Path) -> None:
    figures = _benchmark().survey(Path(CORPUS), tmp_path, run_programs=RUN)
    assert figures["failed"] == []
    assert figures["half_migrated_modules"] == []
    assert figures["workflows_calling_flyte2_tasks"] == []
    assert figures["lint_new"] == {}
    # Every group is accounted for: moved, or left with its blocking constructs named.
    assert figures["groups_migrated"] + figures["groups_blocked"] <= figures["groups"]
    assert (figures["groups_blocked"] == 0) == (not figures["blocking_constructs"])
    # Whole programs: a resource-declaring task is migrated, or its group names what held it back.
    left = sum(g["resource_tasks"] for g in figures["resource_tasks_left_by_group"])
    assert figures["resource_tasks_migrated"] + left == figures["resource_tasks"]
    assert all(g["blocking"] for g in figures["resource_tasks_left_by_group"])
    if RUN and figures["runs"] is not None:
        # Migrated code runs to the original's values (or the original fails too).
        assert "error" not in figures["runs"]
        assert figures["runs"]["wrong"] == []


def test_the_whole_program_check_follows_a_package_that_re_exports_a_task(tmp_path: Path) -> None:
    # The check itself must see a flytekit workflow calling a Flyte 2 task through `pkg/__init__.py`.
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("from .tasks import t\n")
    (tmp_path / "pkg" / "tasks.py").write_text(
        "import flyte\n\nenv = flyte.TaskEnvironment(name='x')\n\n\n@env.task\ndef t(n: int) -> int:\n    return n\n"
    )
    (tmp_path / "flows.py").write_text(
        "from flytekit import workflow\n\nfrom pkg import t\n\n\n@workflow\ndef wf(n: int) -> int:\n    return t(n=n)\n"
    )
    half, calls = _benchmark()._whole_program_checks(tmp_path)
    assert half == []
    assert calls == [f"{tmp_path / 'flows.py'}:8: wf calls t"]
