"""Platform files as real clusters have them: every form, the built-ins behind what a file leaves out, ConfigMaps.

Sources (flyteorg/flyte, v1.16.8 for flytekit's backend, the main branch for Flyte 2):

- ``flyteadmin/pkg/runtime/task_resource_provider.go``: the section ``task_resources`` is registered with
  defaults cpu 2, memory 200Mi and limits cpu 2, memory 1Gi, gpu 1;
- ``flytestdlib/config/viper/viper.go`` ``parseViperConfigRecursive``: a file is decoded onto a deep copy of the
  registered values, so a key it leaves out (or sets to null, which viper drops) keeps the built-in;
- ``flytestdlib/config/viper/collection.go`` ``MergeAllConfigs``: the files of the config directory (a ConfigMap's
  entries) are merged in order, a later file's keys winning;
- ``charts/flyte-core/values.yaml``: ``configmap.task_resource_defaults.task_resources`` defaults to cpu 100m,
  memory 500Mi and limits cpu 2, memory 1Gi, gpu 1, which Helm fills in where values leave keys out;
- ``flyteadmin/pkg/manager/impl/util/resources.go`` ``GetTaskResources``: a matching task resource attribute is used
  alone, so an attribute file is complete by itself;
- ``flyteplugins/go/tasks/pluginmachinery/flytek8s/config/config.go``: ``default-cpus`` 1000m and ``default-memory``
  1024Mi, under ``plugins.k8s``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from flyteres import ResourceSpec, effective
from flyteres.backend.files import PlatformConfigError
from flyteres.platform import PlatformConfig, PlatformForm, load_platform, parse_platform

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

ONLY_DEFAULTS_CPU = "defaults:\n  cpu: 500m\n"
ONLY_LIMITS = "limits:\n  memory: 8Gi\n"
ONLY_CPU_DEFAULT = "task_resources:\n  defaults:\n    cpu: 500m\n"


def _indent(text: str, by: int) -> str:
    return "".join(" " * by + line + "\n" for line in text.splitlines())


def _configmap(entries: dict[str, str], name: str = "flyte-admin-base-config") -> str:
    data = "".join(f"  {key}: |\n{_indent(value, 4)}" for key, value in entries.items())
    return f"apiVersion: v1\ndata:\n{data}kind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: flyte\n"


# (form, text for a task_resources body, or None for "no task_resources at all")
FORMS = {
    "flyteadmin config": lambda body: (
        "server:\n  httpPort: 8088\n" if body is None else "task_resources:\n" + _indent(body, 2)
    ),
    "flyte-core ConfigMap": lambda body: _configmap(
        {"db.yaml": "database:\n  port: 5432\n"}
        | ({} if body is None else {"task_resource_defaults.yaml": "task_resources:\n" + _indent(body, 2)})
    ),
    "flyte-core values": lambda body: (
        "configmap:\n  adminServer:\n    server:\n      httpPort: 8088\n"
        if body is None
        else "configmap:\n  task_resource_defaults:\n    task_resources:\n" + _indent(body, 6)
    ),
    "flyte-binary values": lambda body: (
        "configuration:\n  database:\n    postgres: {port: 5432}\n"
        if body is None
        else "configuration:\n  inline:\n    task_resources:\n" + _indent(body, 6)
    ),
    "flyte-binary ConfigMap": lambda body: _configmap(
        {"000-core.yaml": "logger:\n  level: 1\n"}
        | ({} if body is None else {"100-inline-config.yaml": "task_resources:\n" + _indent(body, 2)}),
        name="flyte-binary-config",
    ),
}

ADMIN = {"defaults": {"cpu": "2", "memory": "200Mi"}, "limits": {"cpu": "2", "memory": "1Gi", "gpu": "1"}}
CHART = {"defaults": {"cpu": "100m", "memory": "500Mi"}, "limits": {"cpu": "2", "memory": "1Gi", "gpu": "1"}}


def _values(p: PlatformConfig) -> dict[str, dict[str, str]]:
    return {
        "defaults": {str(k): str(v) for k, v in p.defaults.items()},
        "limits": {str(k): str(v) for k, v in p.limits.items()},
    }


# Follows task_resource_provider.go (the built-ins), viper.go parseViperConfigRecursive (decoded onto them) and
# charts/flyte-core/values.yaml (Helm fills those first).
@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize("case", ["only defaults.cpu", "only limits", "no task_resources"])
def test_what_a_file_leaves_out_keeps_the_built_in(form: str, case: str) -> None:
    body = {"only defaults.cpu": ONLY_DEFAULTS_CPU, "only limits": ONLY_LIMITS, "no task_resources": None}[case]
    p = parse_platform(FORMS[form](body), "platform.yaml")
    # flyte-core values: Helm fills in the chart's values first; everything else sits on flyteadmin's built-ins.
    base = CHART if form == "flyte-core values" else ADMIN
    expected = {"defaults": dict(base["defaults"]), "limits": dict(base["limits"])}
    if case == "only defaults.cpu":
        expected["defaults"]["cpu"] = "500m"
    elif case == "only limits":
        expected["limits"]["memory"] = "8Gi"
    assert _values(p) == expected
    stated = {"only defaults.cpu": {"defaults.cpu"}, "only limits": {"limits.memory"}}.get(case, set())
    admin_builtins = {k for k in p.builtins() if not k.startswith("k8s.")}
    assert admin_builtins == {f"{s}.{r}" for s, m in expected.items() for r in m} - stated
    who = "the flyte-core chart's" if form == "flyte-core values" else "flyteadmin's built-in"
    assert all(p.origins[k][0] == who for k in admin_builtins)


# What a file that states every value means: flyteadmin validation/task_validator.go taskResourceSetToMap skips
# zero (unset) limits.
@pytest.mark.parametrize("form", sorted(FORMS))
def test_a_complete_file_means_none_where_it_is_silent(form: str) -> None:
    p = parse_platform(FORMS[form](ONLY_DEFAULTS_CPU), "platform.yaml", complete=True)
    assert _values(p) == {"defaults": {"cpu": "500m"}, "limits": {}}
    assert p.builtins() == ()
    assert p.complete


# Follows manager/impl/util/resources.go GetTaskResources and fromAdminProtoTaskResourceSpec.
@pytest.mark.parametrize("case", [ONLY_DEFAULTS_CPU, ONLY_LIMITS])
def test_an_attribute_file_is_complete_by_itself(case: str) -> None:
    # GetTaskResources uses a matching attribute's values alone.
    p = parse_platform("project: flytesnacks\ndomain: development\n" + case, "attr.yaml")
    assert p.form is PlatformForm.ATTRIBUTE
    assert p.builtins() == ()
    assert _values(p) == (
        {"defaults": {"cpu": "500m"}, "limits": {}}
        if case == ONLY_DEFAULTS_CPU
        else {"defaults": {}, "limits": {"memory": "8Gi"}}
    )


def test_zero_disables_a_built_in_limit_as_the_sandbox_chart_does() -> None:
    # charts/flyte-sandbox/values.yaml sets every limit to 0 so flyteadmin's built-ins do not cap tasks.
    p = parse_platform("task_resources:\n  limits: {cpu: 0, memory: 0, gpu: 0, ephemeralStorage: 0}\n")
    assert p.limit("cpu") is p.limit("memory") is p.limit("gpu") is None
    assert set(p.builtins()) == {"defaults.cpu", "defaults.memory"}


def test_helm_null_removes_the_chart_value_and_flyteadmins_applies() -> None:
    text = "configmap:\n  task_resource_defaults:\n    task_resources:\n      limits:\n        gpu: null\n"
    p = parse_platform(text)
    assert p.origins["limits.gpu"] == ("flyteadmin's built-in", "the file sets limits.gpu to null")
    assert p.origins["limits.cpu"] == ("the flyte-core chart's", "the file does not set limits.cpu")


# -- what effective() makes of it ------------------------------------------------------------------------------


def test_the_issue_example_a_file_that_sets_only_defaults_cpu() -> None:
    platform = parse_platform(ONLY_CPU_DEFAULT, "admin.yaml")
    cpu = effective(ResourceSpec(requests={"cpu": "4"}), platform)
    assert cpu.rejected
    assert cpu.errors[0].reason.startswith(
        "flyteadmin refuses to register the task: the request 4 is above the platform limit 2 "
        "(flyteadmin's built-in limit: the file does not set limits.cpu)"
    )
    gpu = effective(ResourceSpec(requests={"gpu": "2"}), platform)
    assert [f.field for f in gpu.errors] == ["requests.gpu"]
    memory = effective(ResourceSpec(requests={"cpu": "1"}), platform)
    assert str(memory.explain("requests.memory")) == (
        "requests.memory = 200Mi (flyteadmin's built-in default (the file does not set defaults.memory))"
    )
    assert str(memory.explain("requests.cpu")) == "requests.cpu = 1 (from the task's request)"
    capped = effective(ResourceSpec(limits={"memory": "4Gi"}), platform)
    assert str(capped.explain("limits.memory")) == (
        "limits.memory = 1Gi (capped at the platform limit 1Gi (flyteadmin's built-in limit: the file does not set "
        "limits.memory); the task asked for 4Gi)"
    )


def test_a_complete_file_registers_what_the_built_ins_would_refuse() -> None:
    platform = parse_platform(ONLY_CPU_DEFAULT, "admin.yaml", complete=True)
    e = effective(ResourceSpec(requests={"cpu": "4", "gpu": "2"}), platform)
    assert not e.rejected
    assert str(e.requests["memory"]) == "0"  # nothing sets it: the explicit zero the backend writes


# -- ConfigMaps ------------------------------------------------------------------------------------------------


def test_the_example_configmap_reads_like_kubectl_prints_it() -> None:
    p = load_platform(EXAMPLES / "flyte-admin-configmap.yaml")
    assert p.form is PlatformForm.CONFIGMAP
    assert _values(p) == {
        "defaults": {"cpu": "500m", "memory": "1Gi"},
        "limits": {"cpu": "2", "memory": "8Gi", "gpu": "1"},
    }
    text = (EXAMPLES / "flyte-admin-configmap.yaml").read_text().splitlines()
    assert text[p.lines["limits.memory"] - 1].strip() == "memory: 8Gi"
    assert text[p.lines["defaults.cpu"] - 1].strip() == "cpu: 500m"


def test_errors_point_into_the_embedded_yaml() -> None:
    text = _configmap({"a.yaml": "x: 1\n", "task_resource_defaults.yaml": ONLY_CPU_DEFAULT.replace("500m", "5XB")})
    with pytest.raises(PlatformConfigError) as info:
        parse_platform(text, "cm.yaml")
    assert str(info.value).startswith("cm.yaml:8: task_resources.defaults.cpu: '5XB' is not a Kubernetes quantity")
    assert text.splitlines()[7].strip() == "cpu: 5XB"


def test_quoted_data_is_reported_at_its_line_with_the_line_inside_it() -> None:
    # kubectl prints an entry as a quoted string when a line ends in spaces.
    text = 'kind: ConfigMap\ndata:\n  tr.yaml: "task_resources:\\n  limits:\\n    memory: 8XB  \\n"\n'
    with pytest.raises(PlatformConfigError) as info:
        parse_platform(text, "cm.yaml")
    assert info.value.line == 3
    assert info.value.key == "data.tr.yaml line 3: task_resources.limits.memory"
    bad_yaml = 'kind: ConfigMap\ndata:\n  tr.yaml: "task_resources:\\n  limits: [\\n"\n'
    with pytest.raises(PlatformConfigError, match=r"cm.yaml:3: data.tr.yaml line \d: not valid YAML"):
        parse_platform(bad_yaml, "cm.yaml")


# Follows flytestdlib config/viper/collection.go MergeAllConfigs and the charts' configPath /etc/flyte/config/*.yaml.
def test_later_config_files_win_and_only_yaml_entries_count() -> None:
    text = _configmap(
        {
            "000-core.yaml": "task_resources:\n  limits:\n    memory: 2Gi\n    cpu: 3\n",
            "100-inline-config.yaml": "task_resources:\n  limits:\n    memory: 4Gi\n",
            "notes.txt": "task_resources: {limits: {memory: 99Gi}}\n",
        }
    )
    p = parse_platform(text, "cm.yaml")
    assert (str(p.limit("memory")), str(p.limit("cpu"))) == ("4Gi", "3")
    (note,) = p.notes
    assert "Flyte reads only *.yaml files" in str(note)


def test_a_kubectl_list_of_configmaps_combines_admin_and_propeller() -> None:
    admin = _configmap({"task_resource_defaults.yaml": "task_resources:\n" + _indent(ONLY_LIMITS, 2)})
    propeller = _configmap({"k8s.yaml": "plugins:\n  k8s:\n    default-cpus: 250m\n"}, name="flyte-propeller-config")
    items = "".join("- " + _indent(doc, 2)[2:] for doc in (admin, propeller))
    p = parse_platform(f"apiVersion: v1\nkind: List\nitems:\n{items}", "cms.yaml")
    assert str(p.limit("memory")) == "8Gi"
    assert str(p.plugin_defaults["cpu"]) == "250m"
    twice = f"apiVersion: v1\nkind: List\nitems:\n{''.join('- ' + _indent(admin, 2)[2:] for _ in range(2))}"
    with pytest.raises(PlatformConfigError, match="both set task_resources"):
        parse_platform(twice, "cms.yaml")


def test_manifests_without_a_configmap_are_not_a_platform() -> None:
    with pytest.raises(PlatformConfigError, match=r"no ConfigMap in this file \(found ResourceQuota\)"):
        parse_platform("kind: ResourceQuota\nmetadata: {name: q}\nspec: {hard: {pods: '1'}}\n", "q.yaml")


# -- the k8s plugin's defaults (Flyte 2) ------------------------------------------------------------------------


def test_plugin_defaults_are_read_from_each_form() -> None:
    plain = parse_platform("plugins:\n  k8s:\n    default-cpus: 250m\n    default-memory: 512Mi\n", "flyte.yaml")
    assert {str(k): str(v) for k, v in plain.plugin_defaults.items()} == {"cpu": "250m", "memory": "512Mi"}
    assert plain.lines["k8s.memory"] == 4
    binary = parse_platform("configuration:\n  inline:\n    plugins:\n      k8s:\n        default-cpus: 2\n")
    assert str(binary.plugin_defaults["cpu"]) == "2"
    core = parse_platform("configmap:\n  k8s:\n    plugins:\n      k8s:\n        default-memory: 300Mi\n")
    # The chart's values.yaml sets default-cpus 100m.
    assert {str(k): str(v) for k, v in core.plugin_defaults.items()} == {"cpu": "100m", "memory": "300Mi"}
    typo = parse_platform("plugins:\n  k8s:\n    default-cpu: 250m\n", "flyte.yaml")
    assert typo.plugin_defaults == {}
    assert "its setting is default-cpus" in str(typo.notes[0])
