"""`flyteres rules` and docs/rules.md: one catalog of every rule id, generated from the rule enums."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flyteres.backend.results import PlatformRule
from flyteres.check import CheckRule
from flyteres.core.findings import Rule
from flyteres.migrate.rules import MigrateRule
from flyteres.report.model import CommonRule
from flyteres.rules import catalog, markdown
from flyteres.verify import VerifyRule
from tests.cli_helpers import EXAMPLES, ROOT, invoke, validator

RULES_MD = ROOT / "docs" / "rules.md"


def test_docs_rules_md_is_generated_from_the_enums() -> None:
    assert RULES_MD.read_text(encoding="utf-8") == markdown(), (
        "docs/rules.md drifted from the rule enums: run `flyteres rules --output-format markdown > docs/rules.md`"
    )


def test_every_rule_of_every_enum_is_listed_once_with_a_sentence() -> None:
    ids = [r.id for r in catalog()]
    every = [m.value for e in (Rule, PlatformRule, CheckRule, VerifyRule, MigrateRule, CommonRule) for m in e]
    assert sorted(ids) == sorted(every)
    assert len(set(ids)) == len(ids)
    for r in catalog():
        assert r.summary.endswith("."), r
        assert r.summary != r.id, r


def test_rules_lists_ids_levels_and_one_line_each() -> None:
    code, out, _ = invoke("rules")
    lines = out.splitlines()
    assert code == 0
    assert len(lines) == len(catalog())
    quota = next(line for line in lines if line.startswith("quota-exceeded "))
    assert quota.split()[1:3] == ["error", "check"]


def test_rules_json_validates_and_one_rule_by_prefix() -> None:
    code, out, _ = invoke("rules", "limitrange", "--output-format", "json")
    doc = json.loads(out)
    validator("rules").validate(doc)
    assert code == 0
    assert [r["id"] for r in doc["rules"]] == ["limitrange-default", "limitrange-rejected"]


def test_an_unknown_rule_exits_2() -> None:
    code, _, err = invoke("rules", "no-such-rule")
    assert code == 2
    assert "no rule id" in err


@pytest.mark.parametrize("command", ["check", "migrate"])
def test_every_finding_the_sample_runs_report_has_a_catalogued_id(
    command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(EXAMPLES)
    args = ["project", "mixed"] + (["--platform", "admin.yaml", "--quota", "quota.yaml"] if command == "check" else [])
    _, out, _ = invoke(command, *args, "--output-format", "json")
    known = {r.id for r in catalog()}
    found = {f["rule"] for f in json.loads(out)["findings"]}
    assert found
    assert found <= known


def test_the_catalog_anchors_exist_in_docs() -> None:
    text = Path(RULES_MD).read_text(encoding="utf-8")
    for r in catalog():
        assert f'<a id="{r.id}"></a>' in text
