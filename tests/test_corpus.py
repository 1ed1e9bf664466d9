"""A real project read end to end (slow): no crash, and every declaration found or reported with a reason.

Runs when FLYTERES_CORPUS names a source tree or a git directory (for
example a clone of flyteorg/flytesnacks); skipped otherwise. Nothing of the
corpus is kept. benchmarks/corpus.py prints the same survey.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType

import pytest

from tests.modules import import_file

CORPUS = os.environ.get("FLYTERES_CORPUS", "")


def load_survey() -> ModuleType:
    return import_file(Path(__file__).resolve().parents[1] / "benchmarks" / "corpus.py", "corpus_survey")


@pytest.mark.slow
@pytest.mark.skipif(not CORPUS or not Path(CORPUS).exists(), reason="FLYTERES_CORPUS names no corpus here")
def test_a_real_project_is_read_whole(tmp_path: Path) -> None:
    survey = load_survey()
    root = Path(CORPUS)
    if survey.is_git_dir(root):
        copied, _ = survey.extract(root, tmp_path)
        assert copied > 0
        root = tmp_path
    report = survey.survey(root)
    assert report.errors == []
    assert report.unexplained == []  # every declaration has a spec or the reason it has none
    assert sum(report.declarations.values()) > 0
    # Everything the code spells as a task, environment or override is read (comments and strings aside).
    for what in ("tasks and workflows", "with_overrides", "overrides"):
        assert report.model_counts[what] >= report.text_counts[what], (what, report.disagreements)
