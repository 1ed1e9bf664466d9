"""LimitRanges: read as the API server stores them, applied as Kubernetes' admission applies them.

Each case names what it follows, in kubernetes/kubernetes:

- ``pkg/apis/core/v1/defaults.go`` ``SetDefaults_LimitRangeItem`` (the API server's defaulting of a stored
  LimitRange: a missing default limit takes ``max``; a missing default request takes the default limit, then ``min``);
- ``pkg/apis/core/validation/validation.go`` ``ValidateLimitRange`` (what the API server refuses to store);
- ``plugin/pkg/admission/limitranger/admission.go``: ``defaultContainerResourceRequirements`` and
  ``mergeContainerResources`` (defaults written where a key is absent), ``minConstraint``, ``maxConstraint``,
  ``limitRequestRatioConstraint`` (the checks and their messages) and ``PodValidateLimitFunc`` (Container items per
  container, Pod items on the pod's sums; admission stops at the first LimitRange that refuses the pod).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from flyteres import AcceleratorSpec, Quantity, Resource, ResourceSpec, effective
from flyteres.accelerators import DeviceClass
from flyteres.backend.files import PlatformConfigError
from flyteres.backend.manifests import LimitRangeItem, LimitRangeSpec
from flyteres.backend.results import EffectiveResources, PlatformRule
from flyteres.platform import PlatformConfig, QuotaSpec, load_limitranges, parse_cluster, parse_limitranges

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PLATFORM = PlatformConfig(defaults={"cpu": "500m", "memory": "1Gi"}, limits={"cpu": "4", "memory": "8Gi", "gpu": "2"})


def lr(*items: str, name: str = "limits") -> LimitRangeSpec:
    """A LimitRange from YAML items (each a flow mapping), read as a manifest."""
    body = "".join(f"  - {item}\n" for item in items)
    (found,) = parse_limitranges(f"kind: LimitRange\nmetadata: {{name: {name}}}\nspec:\n  limits:\n{body}", "lr.yaml")
    return found


def spec(requests: dict[str, str] | None = None, limits: dict[str, str] | None = None, **kw: object) -> ResourceSpec:
    return ResourceSpec(requests=requests or {}, limits=limits or {}, **kw)  # type: ignore[arg-type]


def found(e: EffectiveResources, rule: PlatformRule) -> dict[str, str]:
    return {f.field: f.reason for f in e.findings if f.rule is rule}


# -- the API server's defaulting of a stored LimitRange (SetDefaults_LimitRangeItem) ------------------------------


# Follows pkg/apis/core/v1/defaults.go SetDefaults_LimitRangeItem.
@pytest.mark.parametrize(
    ("item", "default", "default_request", "derived"),
    [
        # A default limit and no default request: the request takes the limit.
        ("{type: Container, default: {memory: 1Gi}}", {"memory": "1Gi"}, {"memory": "1Gi"}, {"defaultRequest.memory"}),
        # Only a max: the default limit takes it, and the default request the default limit.
        ("{type: Container, max: {cpu: '2'}}", {"cpu": "2"}, {"cpu": "2"}, {"default.cpu", "defaultRequest.cpu"}),
        # Only a min: the default request takes it; there is no default limit.
        ("{type: Container, min: {cpu: 100m}}", {}, {"cpu": "100m"}, {"defaultRequest.cpu"}),
        # Both a max and a min: the max wins for the request too (defaults run max, default, then min).
        ("{type: Container, min: {memory: 1Gi}, max: {memory: 4Gi}}", {"memory": "4Gi"}, {"memory": "4Gi"},
         {"default.memory", "defaultRequest.memory"}),
        # Pod items are never defaulted.
        ("{type: Pod, max: {cpu: '2'}}", {}, {}, set()),
    ],
)  # fmt: skip
def test_a_stored_limitrange_is_defaulted_as_the_api_server_does(
    item: str, default: dict[str, str], default_request: dict[str, str], derived: set[str]
) -> None:
    (read,) = lr(item).items
    assert {k: str(v) for k, v in read.default.items()} == default
    assert {k: str(v) for k, v in read.default_request.items()} == default_request
    assert set(read.derived) == derived


# Follows pkg/apis/core/validation/validation.go ValidateLimitRange (run after the defaulting above).
@pytest.mark.parametrize(
    ("item", "key", "reason"),
    [
        ("{type: Container, min: {cpu: '2'}, max: {cpu: '1'}}", "min.cpu", "min value 2 is greater than max value 1"),
        ("{type: Container, default: {memory: 1Gi}, defaultRequest: {memory: 2Gi}}", "defaultRequest.memory",
         "default request value 2Gi is greater than default limit value 1Gi"),
        # Defaulting first: the max became the default limit, which is below the default request.
        ("{type: Container, max: {memory: 1Gi}, defaultRequest: {memory: 2Gi}}", "defaultRequest.memory",
         "default request value 2Gi is greater than max value 1Gi"),
        ("{type: Container, maxLimitRequestRatio: {cpu: 500m}}", "maxLimitRequestRatio.cpu",
         "ratio 500m is less than 1"),
        ("{type: Container, min: {cpu: '1'}, max: {cpu: '2'}, maxLimitRequestRatio: {cpu: '3'}}",
         "maxLimitRequestRatio.cpu", "ratio 3 is greater than max/min = 2.000000"),
        # A device cannot be overcommitted: its default limit and request must match.
        ("{type: Container, default: {nvidia.com/gpu: '2'}, defaultRequest: {nvidia.com/gpu: '1'}}",
         "default.nvidia.com/gpu", "default value 2 must equal to defaultRequest value 1 in nvidia.com/gpu"),
        ("{type: Pod, default: {cpu: '1'}}", "default", "may not be specified when type is 'Pod'"),
    ],
)  # fmt: skip
def test_what_the_api_server_refuses_to_store_is_refused_with_the_line(item: str, key: str, reason: str) -> None:
    with pytest.raises(PlatformConfigError) as info:
        lr(item)
    assert info.value.line == 5
    assert info.value.key == f"spec.limits[0].{key}"
    assert info.value.reason == f"the API server refuses it: {reason}"


@pytest.mark.parametrize(
    ("text", "line", "key", "message"),
    [
        ("kind: LimitRange\nmetadata: {name: x}\n", 1, "spec", "has no spec"),
        ("kind: LimitRange\nspec: {}\n", 2, "spec.limits", "has no spec.limits"),
        ("kind: LimitRange\nspec:\n  limits: {type: Container}\n", 3, "spec.limits", "must be a list"),
        ("kind: LimitRange\nspec:\n  limits:\n  - max: {cpu: 1}\n", 4, "spec.limits[0].type", "is required"),
        ("kind: LimitRange\nspec:\n  limits:\n  - type: Node\n", 4, "spec.limits[0].type", "is not one of"),
        ("kind: LimitRange\nspec:\n  limits:\n  - type: Container\n    maximum: {cpu: 1}\n", 5,
         "spec.limits[0].maximum", "unknown key"),
        ("kind: LimitRange\nspec:\n  limits:\n  - type: Container\n    max: {cpu: lots}\n", 5,
         "spec.limits[0].max.cpu", "not a Kubernetes quantity"),
        ("kind: LimitRange\nspec:\n  limits:\n  - type: Container\n  - type: Container\n", 5,
         "spec.limits[1].type", "duplicate type 'Container' (first at line 4)"),
        ("kind: Pod\n", 1, "kind", "no LimitRange in this file"),
    ],
)  # fmt: skip
def test_malformed_limitranges_name_the_line_and_the_key(text: str, line: int, key: str, message: str) -> None:
    with pytest.raises(PlatformConfigError) as info:
        parse_limitranges(text, "lr.yaml")
    assert (info.value.line, info.value.key) == (line, key)
    assert message in info.value.reason


def test_the_example_and_kubectl_lists_load() -> None:
    (example,) = load_limitranges(EXAMPLES / "limitrange.yaml")
    (item,) = example.items
    assert example.name == "task-limits"
    assert str(item.default["memory"]) == "6Gi"  # from its max
    assert example.where(item, "default.memory").endswith("limitrange.yaml:17")
    listed = parse_limitranges(
        "apiVersion: v1\nkind: LimitRangeList\nitems:\n"
        "- kind: LimitRange\n  metadata: {name: a}\n  spec: {limits: [{type: Pod, max: {cpu: '8'}}]}\n"
        "- kind: LimitRange\n  metadata: {name: b}\n"
        "  spec: {limits: [{type: PersistentVolumeClaim, max: {storage: 1Ti}}]}\n"
    )
    assert [x.name for x in listed] == ["a", "b"]
    assert "not to task pods" in str(listed[1].notes[0])


# -- admission: defaults (defaultContainerResourceRequirements, mergeContainerResources) -------------------------


# Follows limitranger/admission.go defaultContainerResourceRequirements and mergeContainerResources.
def test_a_default_limit_is_applied_to_a_container_without_one() -> None:
    e = effective(spec({"cpu": "1"}), PLATFORM, limitranges=lr("{type: Container, default: {ephemeral-storage: 2Gi}}"))
    # The API server's defaulting made the default limit the default request as well.
    assert e.to_k8s()["limits"]["ephemeral-storage"] == e.to_k8s()["requests"]["ephemeral-storage"] == "2Gi"
    assert str(e.explain("limits.ephemeral_storage")) == (
        "limits.ephemeral_storage = 2Gi (set at admission by the LimitRange 'limits' (lr.yaml:5): its default limit "
        "for containers that set none)"
    )
    assert str(e.explain("requests.ephemeral_storage")) == (
        "requests.ephemeral_storage = 2Gi (set at admission by the LimitRange 'limits' (lr.yaml:5): its default "
        "request (it sets no defaultRequest, so Kubernetes uses its default) for containers that set none)"
    )
    severities = {f.field: f.severity.value for f in e.findings if f.rule is PlatformRule.LIMITRANGE_DEFAULT}
    assert severities == {"limits.ephemeral_storage": "warning", "requests.ephemeral_storage": "info"}


# Follows mergeContainerResources (a key that is present is kept) and flytepropeller taskexec_context.go
# convertTaskResourcesToRequirements (Flyte writes cpu and memory always).
def test_a_value_flyte_writes_is_kept_even_an_explicit_zero() -> None:
    item = "{type: Container, default: {memory: 512Mi, cpu: '1'}}"
    e = effective(spec({"cpu": "2"}), PlatformConfig(limits={"memory": "8Gi"}), limitranges=lr(item))
    # Flyte wrote cpu 2 and, with no default for memory, an explicit 0: both count as set.
    assert e.to_k8s() == {"requests": {"cpu": "2", "memory": "0"}, "limits": {"cpu": "2", "memory": "0"}}
    assert not found(e, PlatformRule.LIMITRANGE_DEFAULT)
    # Without a platform nothing writes memory, and the LimitRange's default applies.
    bare = effective(spec({"cpu": "2"}), limitranges=lr(item))
    assert bare.to_k8s()["limits"] == {"cpu": "2", "memory": "512Mi"}


# Follows PodMutateLimitFunc, run for each LimitRange in turn.
def test_the_first_limitrange_with_a_default_wins() -> None:
    first = lr("{type: Container, default: {ephemeral-storage: 1Gi}}", name="first")
    second = lr("{type: Container, default: {ephemeral-storage: 9Gi}}", name="second")
    e = effective(spec({"cpu": "1"}), PLATFORM, limitranges=[first, second])
    assert e.to_k8s()["limits"]["ephemeral-storage"] == "1Gi"


# -- admission: checks (minConstraint, maxConstraint, limitRequestRatioConstraint) ------------------------------


# Follows limitranger/admission.go minConstraint, maxConstraint and limitRequestRatioConstraint.
@pytest.mark.parametrize(
    ("task", "item", "field", "message"),
    [
        (spec({"cpu": "500m"}), "{type: Container, min: {cpu: '1'}}", "requests.cpu",
         "minimum cpu usage per Container is 1, but request is 500m"),
        (spec({"cpu": "1"}, {"cpu": "2"}), "{type: Container, min: {cpu: '1'}, max: {cpu: '4'}}", None, None),
        (spec({"memory": "2Gi"}, {"memory": "8Gi"}), "{type: Container, max: {memory: 4Gi}}", "limits.memory",
         "maximum memory usage per Container is 4Gi, but limit is 8Gi"),
        # A max on a resource the container does not have refuses it: the limit is required.
        (spec({"cpu": "1"}), "{type: Pod, max: {ephemeral-storage: 10Gi}}", "limits.ephemeral_storage",
         "maximum ephemeral-storage usage per Pod is 10Gi.  No limit is specified"),
        (spec({"cpu": "1"}, {"cpu": "4"}), "{type: Container, maxLimitRequestRatio: {cpu: '2'}}", "limits.cpu",
         "cpu max limit to request ratio per Container is 2, but provided ratio is 4.000000"),
        (spec({"memory": "1Gi"}, {"memory": "1536Mi"}), "{type: Container, maxLimitRequestRatio: {memory: '1.5'}}",
         None, None),
        # Nothing sets memory and the platform has no default: Flyte writes 0, which a ratio refuses.
        (spec({"cpu": "1"}), "{type: Container, maxLimitRequestRatio: {memory: '2'}}", "requests.memory",
         "memory max limit to request ratio per Container is 2, but no request is specified or request is 0"),
        (spec({"cpu": "1"}), "{type: Container, min: {memory: 64Mi}}", "requests.memory",
         "minimum memory usage per Container is 64Mi, but request is 0"),
    ],
)  # fmt: skip
def test_min_max_and_ratio_refuse_the_pod_with_kubernetes_words(
    task: ResourceSpec, item: str, field: str | None, message: str | None
) -> None:
    platform = PlatformConfig(defaults={"cpu": "500m"}, limits={"cpu": "8", "memory": "16Gi"})
    e = effective(task, platform, limitranges=lr(item))
    refused = found(e, PlatformRule.LIMITRANGE_REJECTED)
    if field is None:
        assert refused == {}
        return
    assert list(refused) == [field]
    assert refused[field].startswith("the LimitRange 'limits' (lr.yaml:5) refuses the ")
    assert refused[field].endswith(f'at admission, so Kubernetes never creates the pod ("{message}")')


# Follows SetDefaults_LimitRangeItem (max -> default) and maxConstraint; the device name is the accelerator
# class's resource (flyteplugins flytek8s/container_helper.go SanitizeGPUResourceRequirements).
def test_gpus_in_a_limitrange() -> None:
    # A container max of a device becomes its default limit and request: every pod without a GPU gets one.
    item = "{type: Container, max: {nvidia.com/gpu: '1'}}"
    cpu_only = effective(spec({"cpu": "1"}), PLATFORM, limitranges=lr(item))
    assert cpu_only.to_k8s()["limits"]["nvidia.com/gpu"] == cpu_only.to_k8s()["requests"]["nvidia.com/gpu"] == "1"
    assert found(cpu_only, PlatformRule.LIMITRANGE_DEFAULT).keys() == {"limits.gpu", "requests.gpu"}
    two = effective(spec({"gpu": "2"}), PLATFORM, limitranges=lr(item))
    assert '"maximum nvidia.com/gpu usage per Container is 1, but limit is 2"' in two.errors[0].reason
    # Flyte 2 names an AMD GPU amd.com/gpu. A max on nvidia.com/gpu does not count it, and refuses the pod for
    # having no nvidia.com/gpu limit at all; a max on amd.com/gpu counts it.
    amd = spec({"gpu": "2"}, accelerator=AcceleratorSpec("amd-mi300x", DeviceClass.AMD_GPU))
    nvidia = effective(amd, launch="flyte2", limitranges=lr("{type: Pod, max: {nvidia.com/gpu: '8'}}"))
    assert [f.field for f in nvidia.errors] == ["limits.nvidia.com/gpu"]
    assert '"maximum nvidia.com/gpu usage per Pod is 8.  No limit is specified"' in nvidia.errors[0].reason
    refused = effective(amd, launch="flyte2", limitranges=lr("{type: Pod, max: {amd.com/gpu: '1'}}"))
    assert [f.field for f in refused.errors] == ["limits.gpu"]
    assert '"maximum amd.com/gpu usage per Pod is 1, but limit is 2"' in refused.errors[0].reason


# Follows PodValidateLimitFunc (type Pod: podRequests/podLimits).
def test_a_pod_item_checks_the_pods_sums() -> None:
    e = effective(spec({"cpu": "3"}), PLATFORM, limitranges=lr("{type: Pod, max: {cpu: '2'}, min: {memory: 2Gi}}"))
    assert set(found(e, PlatformRule.LIMITRANGE_REJECTED)) == {"limits.cpu", "requests.memory"}
    assert "per Pod is 2" in found(e, PlatformRule.LIMITRANGE_REJECTED)["limits.cpu"]
    assert "refuses the pod at admission" in found(e, PlatformRule.LIMITRANGE_REJECTED)["limits.cpu"]


# Follows LimitRanger.Validate: it returns at the first LimitRange whose check fails.
def test_only_the_first_limitrange_that_refuses_is_reported() -> None:
    first = lr("{type: Container, max: {memory: 2Gi}}", name="first")
    second = lr("{type: Container, max: {cpu: 100m}}", name="second")
    e = effective(spec({"cpu": "1", "memory": "4Gi"}), PLATFORM, limitranges=[first, second])
    (refusal,) = e.errors
    assert "'first'" in refusal.reason


# -- one verdict ------------------------------------------------------------------------------------------------


# Follows the admission chain: LimitRanger (mutating, then validating) runs before ResourceQuota.
def test_a_limitrange_refusal_stops_before_the_quota() -> None:
    quota = QuotaSpec("team", {"limits.memory": Quantity("1Gi")})
    e = effective(
        spec({"memory": "4Gi"}), PLATFORM, quotas=quota, limitranges=lr("{type: Container, max: {memory: 2Gi}}")
    )
    assert [f.rule for f in e.errors] == [PlatformRule.LIMITRANGE_REJECTED]
    # Admitted by the LimitRange: the quota sees the pod as the LimitRange left it.
    disk = QuotaSpec("team", {"limits.ephemeral-storage": Quantity("1Gi")})
    quota_only = effective(
        spec({"cpu": "1"}),
        PLATFORM,
        quotas=disk,
        limitranges=lr("{type: Container, default: {ephemeral-storage: 2Gi}}"),
    )
    assert [(f.rule, f.field) for f in quota_only.errors] == [(PlatformRule.QUOTA_EXCEEDED, "limits.ephemeral_storage")]


# Follows the API server: object validation (ValidatePod) runs between mutating and validating admission.
def test_a_gpu_request_and_limit_that_differ_stop_before_the_limitrange() -> None:
    e = effective(
        spec({"gpu": "2"}, {"gpu": "2"}),
        PLATFORM,
        spec({"gpu": "1"}),
        launch="dynamic",
        limitranges=lr("{type: Container, max: {nvidia.com/gpu: '1'}}"),
    )
    assert [f.rule for f in e.errors] == [PlatformRule.GPU_REQUEST_LIMIT_DIFFER]


def test_cluster_files_take_any_mix() -> None:
    def item(name: str) -> str:
        lines = [line for line in (EXAMPLES / name).read_text().splitlines() if not line.startswith("#")]
        return "- " + "".join(f"  {line}\n" for line in lines)[2:]

    text = (
        "apiVersion: v1\nkind: List\nitems:\n"
        + "".join(item(name) for name in ("quota.yaml", "limitrange.yaml", "flyte-admin-configmap.yaml"))
        + "- kind: Namespace\n  metadata: {name: flytesnacks-development}\n"
    )
    cluster = parse_cluster(text, "cluster.yaml")
    assert [q.name for q in cluster.quotas] == ["project-quota"]
    assert [x.name for x in cluster.limitranges] == ["task-limits"]
    assert cluster.platform is not None
    assert str(cluster.platform.limit("memory")) == "8Gi"
    assert any("kind: Namespace: skipped" in str(n) for n in cluster.notes)
    with pytest.raises(PlatformConfigError, match="no ResourceQuota, LimitRange or Flyte ConfigMap"):
        parse_cluster("kind: Namespace\nmetadata: {name: x}\n", "ns.yaml")


def test_limitrange_items_built_in_code_are_defaulted_too() -> None:
    item = LimitRangeItem("Container", max={"memory": "4Gi"}, min={"cpu": "100m"})
    assert {k: str(v) for k, v in item.default_request.items()} == {"memory": "4Gi", "cpu": "100m"}
    assert list(item.problems()) == []
    e = effective(spec({"memory": "8Gi"}), PLATFORM, limitranges=LimitRangeSpec("code", (item,)))
    assert e.errors[0].rule is PlatformRule.LIMITRANGE_REJECTED
    assert e.requests[Resource.MEMORY] == Quantity("8Gi")
