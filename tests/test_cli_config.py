"""`[tool.flyteres]` in pyproject.toml, `--config`, `--isolated`, `select`/`ignore` and `# flyteres: ignore[...]`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from flyteres.report.config import ConfigError, find_config, load_config
from flyteres.report.model import Issue, Level, Selection, suppression
from tests.cli_helpers import EXAMPLES, invoke

TASKS = (
    "from flytekit import Resources, task\n"
    "\n"
    "@task(requests=Resources(mem='16Gi'))\n"
    "def big(): ...\n"
    "\n"
    "@task(limits=Resources(cpu='6'))  # flyteres: ignore[capped-at-platform-limit]\n"
    "def capped(): ...\n"
)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository with the sample platform and two tasks, one problem suppressed inline."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "deploy").mkdir()
    shutil.copy(EXAMPLES / "admin.yaml", tmp_path / "deploy" / "admin.yaml")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "tasks.py").write_text(TASKS)
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.flyteres]\nplatform = "deploy/admin.yaml"\noutput-format = "json"\n'
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_config_gives_the_platform_and_the_format(repo: Path) -> None:
    code, out, err = invoke("check", "src")
    doc = json.loads(out)
    assert (code, err) == (1, "")
    assert [(f["rule"], f["line"]) for f in doc["findings"]] == [("rejected-at-registration", 3)]
    assert doc["suppressed"] == 1


def test_the_config_is_found_from_the_first_path_upwards(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo.parent)
    code, out, _ = invoke("check", repo / "src")
    assert code == 1
    assert json.loads(out)["schema"] == "flyteres.check/1"


def test_flags_override_the_config(repo: Path) -> None:
    code, out, _ = invoke("check", "src", "--output-format", "text")
    assert code == 1
    assert out.splitlines()[-1].endswith("(1 refused at registration); 1 suppressed inline")


def test_isolated_ignores_the_config(repo: Path) -> None:
    code, _, err = invoke("check", "src", "--isolated")
    assert code == 2
    assert "give the platform with --platform" in err


def test_config_names_another_file(repo: Path, tmp_path: Path) -> None:
    other = repo / "ci.toml"
    other.write_text('[tool.flyteres]\nplatform = "deploy/admin.yaml"\nignore = ["rejected"]\n')
    code, out, _ = invoke("check", "src", "--config", other)
    assert code == 0
    assert out.splitlines()[-1] == (
        "0 of 2 declaration(s) would be refused, changed or left without limits (0 refused at registration); "
        "1 suppressed inline, 1 not selected"
    )


def test_the_search_stops_at_the_repository_root(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.flyteres]\npolicy = "strict"\n')
    inner = tmp_path / "repo"
    (inner / ".git").mkdir(parents=True)
    assert find_config(inner) is None
    assert find_config(tmp_path) == tmp_path / "pyproject.toml"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('policy = "strict"\nplatfrom = "a.yaml"\n', ":3: platfrom: unknown key; the keys are policy, target,"),
        ('\npolicy = "lenient"\n', ":3: policy: 'lenient' is not one of strict, kubernetes"),
        ('select = "no-value"\n', ":2: select: must be a list of strings"),
        ('"output-format" = "xml"\n', ":2: output-format: 'xml' is not one of text, json, github, sarif"),
    ],
)
def test_bad_keys_and_values_exit_2_with_file_line_key_reason(tmp_path: Path, body: str, message: str) -> None:
    config = tmp_path / "pyproject.toml"
    config.write_text(f"[tool.flyteres]\n{body}")
    with pytest.raises(ConfigError, match=r".*") as err:
        load_config(config)
    assert str(err.value) == f"{config}{message}" or str(err.value).startswith(f"{config}{message}")
    code, _, stderr = invoke("check", tmp_path, "--config", config)
    assert code == 2
    assert stderr.startswith(f"error: {config}{message}")


def test_a_key_not_found_in_the_text_names_the_file_only(tmp_path: Path) -> None:
    config = tmp_path / "pyproject.toml"
    config.write_text("[tool]\nflyteres = { bogus = 1 }\n")
    with pytest.raises(ConfigError) as err:
        load_config(config)
    assert str(err.value).startswith(f"{config}: bogus: unknown key")


def test_config_files_are_relative_to_the_pyproject(tmp_path: Path) -> None:
    config = tmp_path / "pyproject.toml"
    config.write_text('[tool.flyteres]\nplatform = "p.yaml"\ncluster = ["q.yaml"]\nexclude = ["gen/"]\n')
    loaded = load_config(config)
    assert (loaded.platform, loaded.cluster, loaded.exclude) == (tmp_path / "p.yaml", (tmp_path / "q.yaml",), ("gen/",))


def test_convert_takes_policy_and_target_from_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.flyteres]\npolicy = "kubernetes"\ntarget = "k8s"\n')
    (tmp_path / "spec.json").write_text('{"limits": {"memory": "1Gi"}}')
    monkeypatch.chdir(tmp_path)
    code, out, _ = invoke("convert", "spec.json")
    assert code == 0
    assert json.loads(out)["resources"]["requests"] == {"memory": "1Gi"}
    code, _, _ = invoke("convert", "spec.json", "--policy", "strict", "--to", "flyte")
    assert code == 1


def test_migrate_takes_its_target_from_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.flyteres]\ntarget = "flytekit"\n')
    (tmp_path / "t.py").write_text(
        "from flytekit import Resources, task\n@task(requests=Resources(cpu='1'))\ndef f(): ...\n"
    )
    monkeypatch.chdir(tmp_path)
    _, out, _ = invoke("migrate", "t.py", "--output-format", "json")
    assert json.loads(out)["target"] == "flytekit"
    (tmp_path / "pyproject.toml").write_text('[tool.flyteres]\ntarget = "k8s"\n')
    code, _, err = invoke("migrate", "t.py")
    assert code == 2
    assert "target: migrate writes flyte or flytekit" in err


# -- selection ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("select", "ignore", "rule", "reported"),
    [
        ((), (), "quota-exceeded", True),
        ((), ("quota",), "quota-exceeded", False),
        (("quota",), (), "no-value", False),
        (("quota",), ("quota-exceeded",), "quota-exceeded", False),  # the more specific entry wins
        (("quota-exceeded",), ("quota",), "quota-exceeded", True),
        (("ALL",), ("ALL",), "no-value", False),  # a tie: ignore wins
    ],
)
def test_select_and_ignore(select: tuple[str, ...], ignore: tuple[str, ...], rule: str, reported: bool) -> None:
    assert Selection(select=select, ignore=ignore).selects(rule) is reported


@pytest.mark.parametrize(
    ("line", "rules"),
    [
        ("x = 1  # flyteres: ignore", frozenset()),
        ("x = 1  # noqa  # flyteres: ignore[no-value,  quota-exceeded ]", {"no-value", "quota-exceeded"}),
        ("x = 1  # FLYTERES: IGNORE[no-value]", {"no-value"}),
        ("x = '# flyteres: ignore'", None),
        ('x = "a"  # flyteres: ignore[a]', {"a"}),
        ("x = 1  # flyteres ignore", None),
    ],
)
def test_inline_suppression_comments(line: str, rules: frozenset[str] | set[str] | None) -> None:
    assert suppression(line) == (None if rules is None else frozenset(rules))


def test_a_suppression_names_the_rules_it_silences() -> None:
    lines = {("a.py", 1): "x  # flyteres: ignore[no-value]", ("a.py", 2): "y  # flyteres: ignore"}
    sel = Selection(read_line=lambda path, line: lines.get((path, line)))
    issues = [
        Issue("no-value", Level.WARNING, "m", "a.py", 1),
        Issue("quota-exceeded", Level.ERROR, "m", "a.py", 1),
        Issue("quota-exceeded", Level.ERROR, "m", "a.py", 2),
        Issue("quota-exceeded", Level.ERROR, "m", "a.py", 3),
    ]
    out = sel.apply(issues)
    assert [(i.rule, i.line) for i in out.kept] == [("quota-exceeded", 1), ("quota-exceeded", 3)]
    assert (out.suppressed, out.ignored) == (2, 0)


def test_verify_honours_inline_suppression(tmp_path: Path) -> None:
    (tmp_path / "old").mkdir()
    (tmp_path / "new").mkdir()
    (tmp_path / "old" / "t.py").write_text(
        "from flytekit import Resources, task\n@task(requests=Resources(cpu='1'))\ndef f(): ...\n"
    )
    (tmp_path / "new" / "t.py").write_text(
        "import flyte\n"
        "env = flyte.TaskEnvironment(name='t', resources=flyte.Resources(cpu=2))"
        "  # flyteres: ignore[resources-changed]\n"
        "@env.task\nasync def f(): ...\n"
    )
    code, out, _ = invoke("verify", tmp_path / "old", tmp_path / "new", "--isolated")
    assert code == 0
    assert out.splitlines()[-1].endswith("suppressed inline")
    assert "; 0 changed or not compared," in out.splitlines()[-1]
    assert "requests.cpu" not in out


def test_migrate_text_leaves_out_what_is_suppressed_inline(tmp_path: Path) -> None:
    source = (
        "from flytekit import LaunchPlan, Resources, task, workflow\n"
        "@task(requests=Resources(cpu='1'))\n"
        "def t() -> int:\n"
        "    return 1\n"
        "@workflow\n"
        "def wf() -> int:\n"
        "    return t()\n"
        "lp = LaunchPlan.get_or_create(wf, name='nightly'){comment}\n"
    )
    (tmp_path / "m.py").write_text(source.format(comment=""))
    _, _, shown = invoke("migrate", "--target", "flyte", "--diff", "--isolated", tmp_path)
    (tmp_path / "m.py").write_text(source.format(comment="  # flyteres: ignore[unsupported-construct]"))
    _, _, hidden = invoke("migrate", "--target", "flyte", "--diff", "--isolated", tmp_path)
    assert "m.py:8: LaunchPlan.get_or_create: keeps its group on flytekit" in shown
    assert "m.py:8: LaunchPlan.get_or_create" not in hidden
    assert "findings: 1 suppressed inline, 0 not selected" in hidden
