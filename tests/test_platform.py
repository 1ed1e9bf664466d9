"""Platform and quota files: every shape real deployments use, and bad files refused with line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from flyteres import FlyteresError, Quantity, Resource, ResourceSpecError
from flyteres.backend.config import PlatformConfig, PlatformConfigError, QuotaSpec, load_platform, load_quotas
from flyteres.platform import parse_platform, parse_quotas

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

ADMIN_CONFIG = """\
server:
  httpPort: 8088
task_resources:
  defaults:
    cpu: 500m
    memory: 1Gi
  limits:
    cpu: 4
    memory: 8Gi
    gpu: 2
    ephemeralStorage: 20Gi
"""

HELM_VALUES = """\
configmap:
  task_resource_defaults:
    task_resources:
      defaults:
        cpu: 500m
        memory: 1Gi
      limits:
        cpu: "4"
        memory: 8Gi
        gpu: "2"
        EphemeralStorage: 20Gi
"""

# The shape flytekit's guide shows: the Helm key with defaults/limits directly under it.
GUIDE_FORM = """\
task_resource_defaults:
  defaults:
    cpu: 500m
    memory: 1Gi
  limits:
    cpu: "4"
    memory: 8Gi
    gpu: "2"
    ephemeralStorage: 20Gi
"""

ATTRIBUTE_FILE = """\
domain: development
project: flytesnacks
defaults:
  cpu: 500m
  memory: 1Gi
limits:
  cpu: "4"
  memory: 8Gi
  gpu: "2"
  ephemeral_storage: 20Gi
"""


@pytest.mark.parametrize("text", [ADMIN_CONFIG, HELM_VALUES, GUIDE_FORM, ATTRIBUTE_FILE])
def test_every_config_shape_reads_the_same_values(text: str) -> None:
    p = parse_platform(text, "admin.yaml")
    assert {str(k): str(v) for k, v in p.defaults.items()} == {"cpu": "500m", "memory": "1Gi"}
    assert {str(k): str(v) for k, v in p.limits.items()} == {
        "cpu": "4",
        "memory": "8Gi",
        "gpu": "2",
        "ephemeral_storage": "20Gi",
    }
    assert p.path == "admin.yaml"


def test_lines_point_at_each_value() -> None:
    p = parse_platform(HELM_VALUES, "values.yaml")
    assert p.lines["defaults.cpu"] == 5
    assert p.lines["limits.memory"] == 9
    assert p.where("limits.memory") == "values.yaml:9"


def test_the_example_admin_file_loads() -> None:
    p = load_platform(EXAMPLES / "admin.yaml")
    assert str(p.limit("memory")) == "8Gi"
    assert str(p.default(Resource.CPU)) == "500m"
    assert p.notes == ()


def test_storage_is_read_with_a_note_that_it_applies_to_nothing() -> None:
    p = parse_platform("task_resource_defaults:\n  defaults:\n    storage: 500Mi\n", "a.yaml")
    assert str(p.defaults[Resource.STORAGE]) == "500Mi"
    (note,) = p.notes
    assert note.line == 3
    assert note.key == "task_resource_defaults.defaults.storage"
    assert "ephemeralStorage" in note.message


def test_a_default_above_the_limit_gets_a_note() -> None:
    p = parse_platform("task_resources:\n  defaults: {memory: 2Gi}\n  limits: {memory: 1Gi}\n", "a.yaml")
    assert "tasks that use the default get 1Gi" in str(p.notes[0])


def test_null_values_mean_unset() -> None:
    # Changed with issue 16: viper drops null values, so flyteadmin keeps the built-ins it decodes the file
    # onto (flytestdlib config/viper/viper.go); the old answer (no default, no limits) holds for a complete file.
    text = "task_resources:\n  defaults:\n    cpu:\n  limits:\n"
    p = parse_platform(text, "a.yaml")
    assert str(p.default("cpu")) == "2"
    assert p.origin("defaults.cpu") == "flyteadmin's built-in default (the file sets defaults.cpu to null)"
    assert {str(k): str(v) for k, v in p.limits.items()} == {"cpu": "2", "memory": "1Gi", "gpu": "1"}
    complete = parse_platform(text, "a.yaml", complete=True)
    assert complete.default("cpu") is None
    assert complete.limits == {}


@pytest.mark.parametrize(
    ("text", "line", "key", "message"),
    [
        (
            "task_resource_defaults:\n  defaults:\n    cpu: 500m\n  limits:\n    memory: 12XB\n",
            5,
            "task_resource_defaults.limits.memory",
            "'12XB' is not a Kubernetes quantity: unknown suffix 'XB'",
        ),
        (
            "task_resources:\n  limits:\n    ephemeral-storage: 20Gi\n",
            3,
            "task_resources.limits.ephemeral-storage",
            "flyteadmin spells it ephemeralStorage",
        ),
        ("task_resources:\n  defaults:\n    mem: 1Gi\n", 3, "task_resources.defaults.mem", "spells it memory"),
        ("task_resources:\n  defaults:\n    cpu: true\n", 3, "task_resources.defaults.cpu", "is a boolean"),
        ("task_resources:\n  limits:\n    memory: [1, 2]\n", 3, "task_resources.limits.memory", "must be a quantity"),
        ("task_resources:\n  defaults: 5\n", 2, "task_resources.defaults", "must be a mapping"),
        ("task_resources:\n  limts:\n    cpu: 1\n", 2, "task_resources.limts", "expected defaults or limits"),
        (
            "task_resources:\n  limits:\n    cpu: 1\n    cpu: 2\n",
            4,
            "task_resources.limits.cpu",
            "given twice (first at line 3)",
        ),
        (
            "task_resources:\n  limits:\n    cpu: 1\n    CPU: 2\n",
            4,
            "task_resources.limits.CPU",
            "given twice under different spellings",
        ),
        ("task_resources:\n  limits:\n    cpu: 1\n   memory: 2\n", 4, None, "not valid YAML"),
        ("logger:\n  level: 4\n", 1, None, "no task resource defaults found"),
        ("- cpu\n", 1, None, "must hold a mapping"),
        ("task_resources: {}\n---\nother: 1\n", 3, None, "several YAML documents"),
        ("", None, None, "the file is empty"),
        ("defaults: {cpu: 1}\nlimits: {memory: 1Gi}\ncolour: red\n", 3, "colour", "expected defaults or limits"),
    ],
)
def test_malformed_files_name_the_line_and_the_key(text: str, line: int | None, key: str | None, message: str) -> None:
    with pytest.raises(PlatformConfigError) as info:
        parse_platform(text, "admin.yaml")
    err = info.value
    assert err.line == line
    assert err.key == key
    assert message in err.reason
    assert isinstance(err, FlyteresError)
    assert isinstance(err, ValueError)
    where = "admin.yaml" if line is None else f"admin.yaml:{line}"
    assert str(err).startswith(f"{where}: {key}: " if key else f"{where}: ")


def test_the_brief_example_message() -> None:
    with pytest.raises(PlatformConfigError) as info:
        parse_platform("# platform\ntask_resource_defaults:\n  limits:\n    memory: '12XB'\n", "admin.yaml")
    assert str(info.value).startswith(
        "admin.yaml:4: task_resource_defaults.limits.memory: '12XB' is not a Kubernetes quantity: unknown suffix 'XB'"
    )


def test_attribute_files_also_take_ephemeral_storage_with_an_underscore_but_admin_configs_do_not() -> None:
    assert parse_platform(ATTRIBUTE_FILE).limit("ephemeral_storage") == Quantity("20Gi")
    with pytest.raises(PlatformConfigError, match="ephemeral_storage"):
        parse_platform("task_resources:\n  limits:\n    ephemeral_storage: 1Gi\n")


def test_unreadable_files_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(PlatformConfigError) as info:
        load_platform(tmp_path / "missing.yaml")
    assert info.value.line is None
    assert "cannot be read" in str(info.value)
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(PlatformConfigError, match="not UTF-8"):
        load_platform(binary)


def test_platform_config_built_in_code_treats_zero_as_none() -> None:
    p = PlatformConfig(defaults={"cpu": "0"}, limits={"mem": "8Gi", "gpu": 0})
    assert p.default("cpu") is None
    assert p.limit("gpu") is None
    assert str(p.limit("memory")) == "8Gi"
    assert p.to_dict() == {"defaults": {"cpu": "0"}, "limits": {"memory": "8Gi", "gpu": "0"}}
    with pytest.raises(ResourceSpecError):
        PlatformConfig(limits={"memory": "8GB"})


# -- ResourceQuota ----------------------------------------------------------------------------------------------


def test_the_example_quota_loads_with_lines() -> None:
    (q,) = load_quotas(EXAMPLES / "quota.yaml")
    assert q.name == "project-quota"
    assert str(q.hard["limits.memory"]) == "64Gi"
    assert q.where("limits.memory").endswith("quota.yaml:10")
    assert q.notes == ()


def test_several_quotas_in_documents_and_lists() -> None:
    text = """\
kind: ResourceQuota
metadata: {name: a}
spec: {hard: {requests.cpu: "8"}}
---
kind: ConfigMap
metadata: {name: ignored}
---
kind: List
items:
  - kind: ResourceQuota
    metadata: {name: b}
    spec:
      hard:
        limits.memory: 16Gi
        services: "5"
        limits.nvidia.com/gpu: "2"
      scopes: [NotTerminating]
"""
    a, b = parse_quotas(text, "q.yaml")
    assert (a.name, b.name) == ("a", "b")
    assert b.scoped
    notes = [str(n) for n in b.notes]
    assert any("spec.hard.services: does not count task pods" in n for n in notes)
    assert any("only as requests.<name>" in n for n in notes)
    assert any("scoped quota" in n for n in notes)


@pytest.mark.parametrize(
    ("text", "line", "key", "message"),
    [
        (
            "kind: ResourceQuota\nspec:\n  hard:\n    limits.memory: lots\n",
            4,
            "spec.hard.limits.memory",
            "not a Kubernetes",
        ),
        ("kind: ResourceQuota\nmetadata: {name: x}\nspec: {}\n", 3, "spec.hard", "has no spec.hard"),
        ("kind: ResourceQuota\nmetadata: {name: x}\n", 1, "spec", "has no spec"),
        ("kind: Deployment\n", 1, "kind", "no ResourceQuota"),
        ("kind: ResourceQuota\nspec:\n  hard: [1]\n", 3, "spec.hard", "must be a mapping"),
        ("- 1\n", 1, None, "must be a mapping"),
    ],
)
def test_malformed_quotas_name_the_line_and_the_key(text: str, line: int, key: str | None, message: str) -> None:
    with pytest.raises(PlatformConfigError) as info:
        parse_quotas(text, "quota.yaml")
    assert (info.value.line, info.value.key) == (line, key)
    assert message in str(info.value)


def test_quota_spec_built_in_code() -> None:
    q = QuotaSpec("team", {"pods": Quantity("10")})
    assert q.where() == "<quota>"
