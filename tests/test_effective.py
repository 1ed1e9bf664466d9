"""effective(): the Flyte backend's defaulting, registration checks and override clamping, value by value."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flyteres import AcceleratorSpec, Quantity, Resource, ResourceSpec, SharedMemorySpec
from flyteres.backend.config import PlatformConfig, QuotaSpec, parse_platform
from flyteres.backend.effective import effective
from flyteres.backend.quota import check_quota
from flyteres.backend.results import EffectiveResources, PlatformRule

PLATFORM = PlatformConfig(
    defaults={"cpu": "500m", "memory": "1Gi"},
    limits={"cpu": "4", "memory": "8Gi", "gpu": "2", "ephemeral_storage": "20Gi"},
)


def spec(requests: dict[str, str] | None = None, limits: dict[str, str] | None = None, **kw: object) -> ResourceSpec:
    return ResourceSpec(requests=requests or {}, limits=limits or {}, **kw)  # type: ignore[arg-type]


def rules(e: EffectiveResources) -> dict[tuple[str, str], str]:
    return {(f.rule.value, f.field): f.severity for f in e.findings}


# -- one row per rule: the explanation text is part of the contract ----------------------------------------------


@pytest.mark.parametrize(
    ("task", "field", "text"),
    [
        (spec({"cpu": "500m"}), "requests.cpu", "requests.cpu = 500m (from the task's request)"),
        (
            spec({"cpu": "500m"}),
            "limits.cpu",
            "limits.cpu = 500m (copied from the request: a missing limit is set to the request)",
        ),
        (spec({"cpu": "0.5"}), "requests.cpu", "requests.cpu = 500m (from the task's request, written '0.5')"),
        (spec({"cpu": "500m"}), "requests.memory", "requests.memory = 1Gi (platform default)"),
        (
            spec(limits={"memory": "600Mi"}),
            "requests.memory",
            "requests.memory = 600Mi (copied from the limit: a missing request is set to the limit)",
        ),
        (spec(limits={"memory": "600Mi"}), "limits.memory", "limits.memory = 600Mi (from the task's limit)"),
        (
            spec(limits={"memory": "16Gi"}),
            "limits.memory",
            "limits.memory = 8Gi (capped at the platform limit 8Gi; the task asked for 16Gi)",
        ),
        (
            spec(limits={"memory": "16Gi"}),
            "requests.memory",
            (
                "requests.memory = 8Gi (copied from the limit: a missing request is set to the limit, "
                "then capped at the platform limit 8Gi (it was 16Gi))"
            ),
        ),
        (
            spec({"cpu": "1", "memory": "2Gi"}, {"cpu": "2", "memory": "4Gi"}),
            "limits.memory",
            "limits.memory = 4Gi (from the task's limit)",
        ),
        (
            spec({"gpu": "1"}),
            "limits.gpu",
            "limits.gpu = 1 (copied from the request: a missing limit is set to the request)",
        ),
        (
            spec({"ephemeral_storage": "1Gi"}),
            "limits.ephemeral_storage",
            "limits.ephemeral_storage = 1Gi (copied from the request: a missing limit is set to the request)",
        ),
    ],
)
def test_each_value_says_which_rule_set_it(task: ResourceSpec, field: str, text: str) -> None:
    assert str(effective(task, PLATFORM).explain(field)) == text


def test_request_only_and_limit_only_both_end_up_request_equals_limit() -> None:
    for task in (spec({"memory": "3Gi"}), spec(limits={"memory": "3Gi"})):
        e = effective(task, PLATFORM)
        assert e.requests[Resource.MEMORY] == e.limits[Resource.MEMORY] == Quantity("3Gi")


def test_gpu_and_ephemeral_storage_appear_only_when_set() -> None:
    e = effective(spec({"cpu": "1"}), PLATFORM)
    assert set(e.requests) == set(e.limits) == {Resource.CPU, Resource.MEMORY}
    with pytest.raises(KeyError):
        e.explain("requests.gpu")


def test_values_are_written_in_kubernetes_canonical_form() -> None:
    e = effective(spec({"cpu": "0.5", "memory": "1024Mi"}), PLATFORM)
    assert e.to_k8s() == {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "500m", "memory": "1Gi"}}


# -- registration: refused or not ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("task", "field", "admin_says"),
    [
        (spec({"memory": "16Gi"}), "requests.memory", "Requested MEMORY default [16Gi] is greater than current limit"),
        (
            spec({"memory": "1Gi"}, {"memory": "16Gi"}),
            "limits.memory",
            "Requested MEMORY limit [16Gi] is greater than current limit set in the platform configuration [8Gi]",
        ),
        (spec({"cpu": "4500m"}), "requests.cpu", "Requested CPU default [4500m]"),
        (spec({"gpu": "3"}), "requests.gpu", "Requested GPU default [3]"),
        (spec({"ephemeral_storage": "30Gi"}), "requests.ephemeral_storage", "Requested EPHEMERAL_STORAGE default"),
    ],
)
def test_flyteadmin_refuses_requested_values_above_the_platform_limit(
    task: ResourceSpec, field: str, admin_says: str
) -> None:
    e = effective(task, PLATFORM)
    assert e.rejected
    (refusal,) = [f for f in e.findings if f.rule is PlatformRule.REJECTED_AT_REGISTRATION]
    assert refusal.field == field
    assert refusal.severity == "error"
    assert admin_says in refusal.reason
    # Refused values never run, so their cap is not reported twice.
    assert ("capped-at-platform-limit", field) not in rules(e)


def test_a_limit_without_a_request_is_not_refused_but_silently_capped() -> None:
    e = effective(spec(limits={"memory": "16Gi"}), PLATFORM)
    assert not e.rejected
    (cap,) = [f for f in e.findings if f.rule is PlatformRule.CAPPED_AT_PLATFORM_LIMIT]
    assert cap.field == "limits.memory"
    assert "checks a limit at registration only when the task also sets a request" in cap.reason


def test_registration_compares_whole_numbers_so_800m_passes_a_500m_limit() -> None:
    platform = PlatformConfig(limits={"cpu": "500m"})
    e = effective(spec({"cpu": "800m"}), platform)
    assert not e.rejected
    assert (
        str(e.explain("requests.cpu"))
        == "requests.cpu = 500m (capped at the platform limit 500m; the task asked for 800m)"
    )
    (cap,) = [f for f in e.findings if f.field == "requests.cpu"]
    assert "800m and 500m both round up to 1" in cap.reason


def test_the_platform_file_location_is_named() -> None:
    platform = parse_platform("task_resources:\n  limits:\n    memory: 8Gi\n", "admin.yaml")
    e = effective(spec({"memory": "16Gi"}), platform)
    assert "(admin.yaml:3)" in e.errors[0].reason


def test_flyte2_has_no_registration_check() -> None:
    e = effective(spec({"memory": "16Gi"}), PLATFORM, launch="flyte2")
    assert not e.rejected
    assert rules(e) == {("capped-at-platform-limit", "requests.memory"): "warning"}


# -- overrides -----------------------------------------------------------------------------------------------------


def test_a_requests_only_override_is_clamped_to_the_limit_flyteadmin_filled_in() -> None:
    e = effective(spec({"memory": "1Gi"}), PLATFORM, spec({"memory": "4Gi"}))
    assert str(e.explain("requests.memory")) == (
        "requests.memory = 1Gi (clamped to the limit 1Gi: a request cannot exceed its limit; "
        "the override asked for 4Gi)"
    )
    assert str(e.explain("limits.memory")) == (
        "limits.memory = 1Gi (copied from the request: a missing limit is set to the request "
        "(flyteadmin sets it at launch, before node overrides are merged))"
    )
    (clamp,) = e.warnings
    assert clamp.rule is PlatformRule.REQUEST_CLAMPED_TO_LIMIT
    assert "Requests are clamped to original limits" in clamp.reason


def test_inside_a_dynamic_the_same_override_stands() -> None:
    e = effective(spec({"memory": "1Gi"}), PLATFORM, spec({"memory": "4Gi"}), launch="dynamic")
    assert str(e.explain("requests.memory")) == "requests.memory = 4Gi (from the override's request)"
    assert e.limits[Resource.MEMORY] == Quantity("4Gi")
    assert e.warnings == ()


def test_overrides_merge_per_key_and_are_capped_without_registration_check() -> None:
    task = spec({"cpu": "1", "memory": "1Gi"}, {"cpu": "2", "memory": "2Gi"})
    e = effective(task, PLATFORM, spec(limits={"cpu": "6", "memory": "500Mi"}))
    assert e.to_k8s() == {"requests": {"cpu": "1", "memory": "500Mi"}, "limits": {"cpu": "4", "memory": "500Mi"}}
    assert str(e.explain("limits.cpu")) == "limits.cpu = 4 (capped at the platform limit 4; the override asked for 6)"
    assert "flyteadmin never checks node overrides" in next(f.reason for f in e.findings if f.field == "limits.cpu")
    assert rules(e)[("request-clamped-to-limit", "requests.memory")] == "warning"


def test_a_zero_in_an_override_does_not_remove_the_value() -> None:
    task = spec({"gpu": "1"}, accelerator=AcceleratorSpec("nvidia-tesla-t4"))
    e = effective(task, PLATFORM, spec({"gpu": "0"}))
    assert e.requests[Resource.GPU] == Quantity("1")
    assert rules(e)[("zero-dropped", "override.requests.gpu")] == "warning"


def test_extended_resources_are_replaced_only_when_the_override_sets_them() -> None:
    t4 = AcceleratorSpec("nvidia-tesla-t4")
    a100 = AcceleratorSpec("nvidia-tesla-a100")
    task = spec({"gpu": "1"}, accelerator=t4, shared_memory=SharedMemorySpec())
    assert effective(task, PLATFORM, spec({"gpu": "2"})).accelerator == t4
    kept = effective(task, PLATFORM, spec(accelerator=a100))
    assert (kept.accelerator, kept.shared_memory) == (a100, SharedMemorySpec())


def test_flyte2_override_replaces_the_whole_resources() -> None:
    task = spec({"cpu": "2", "memory": "16Gi", "gpu": "1"}, accelerator=AcceleratorSpec("nvidia-tesla-a100"))
    e = effective(task, PLATFORM, spec({"gpu": "2"}), launch="flyte2")
    assert str(e.explain("requests.memory")) == "requests.memory = 1Gi (platform default)"
    (replaced,) = e.warnings
    assert replaced.rule is PlatformRule.OVERRIDE_REPLACES_RESOURCES
    assert replaced.value == "requests.cpu, requests.memory, accelerator"
    assert e.accelerator is None


def test_gpu_request_and_limit_that_differ_after_merging_are_refused_by_kubernetes() -> None:
    e = effective(spec({"gpu": "2"}, {"gpu": "2"}), PLATFORM, spec({"gpu": "1"}), launch="dynamic")
    assert rules(e)[("gpu-request-limit-differ", "requests.gpu")] == "error"


# -- defaults, zeros, storage --------------------------------------------------------------------------------------


def test_without_a_platform_default_the_pod_gets_an_explicit_zero() -> None:
    e = effective(spec({"cpu": "1"}), PlatformConfig(limits={"memory": "8Gi"}))
    assert e.requests[Resource.MEMORY] == Quantity("0") == e.limits[Resource.MEMORY]
    assert str(e.explain("limits.memory")).startswith(
        "limits.memory = 0 (nothing sets it and the platform has no default"
    )
    assert rules(e) == {("no-value", "memory"): "warning"}
    assert Resource.MEMORY not in e.to_spec().limits


def test_without_a_platform_only_the_task_level_rules_apply() -> None:
    e = effective(spec({"cpu": "1"}))
    assert (
        str(e.explain("requests.memory")) == "requests.memory = not set (nothing sets it; the platform default applies)"
    )
    assert e.findings == ()
    assert e.to_k8s() == {"requests": {"cpu": "1"}, "limits": {"cpu": "1"}}


def test_a_platform_gpu_default_gives_every_launched_task_a_gpu_but_not_inside_a_dynamic() -> None:
    platform = PlatformConfig(defaults={"cpu": "1", "memory": "1Gi", "gpu": "1"})
    assert str(effective(spec(), platform).explain("requests.gpu")) == "requests.gpu = 1 (platform default)"
    assert Resource.GPU not in effective(spec(), platform, launch="dynamic").requests


def test_zero_and_storage_never_reach_the_pod() -> None:
    e = effective(spec({"gpu": "0", "storage": "1Gi", "cpu": "1"}), PLATFORM)
    assert Resource.GPU not in e.requests
    assert Resource.STORAGE not in e.requests
    assert rules(e) == {("zero-dropped", "requests.gpu"): "info", ("storage-ignored", "requests.storage"): "info"}
    assert e.warnings == ()


def test_shared_memory_above_the_capped_memory_limit_is_reported() -> None:
    task = spec(limits={"memory": "16Gi"}, shared_memory=SharedMemorySpec(Quantity("12Gi")))
    e = effective(task, PLATFORM)
    assert rules(e)[("shm-above-memory-limit", "shared_memory.size_limit")] == "warning"


# -- quotas ----------------------------------------------------------------------------------------------------------


def test_quota_hard_values_are_compared_with_what_reaches_the_pod() -> None:
    quota = QuotaSpec(
        "team", {"limits.memory": Quantity("4Gi"), "requests.nvidia.com/gpu": Quantity("1"), "pods": Quantity("0")}
    )
    e = effective(spec({"memory": "6Gi", "gpu": "2"}), PLATFORM, quotas=quota)
    exceeded = {f.field: f.reason for f in e.findings if f.rule is PlatformRule.QUOTA_EXCEEDED}
    assert set(exceeded) == {"limits.memory", "requests.gpu", "pods"}
    assert "limits.memory=6Gi" in exceeded["limits.memory"]
    assert "allows limits.memory=4Gi" in exceeded["limits.memory"]


def test_a_quota_on_limits_never_refuses_a_flyte_container_for_a_missing_limit() -> None:
    # The backend always writes cpu and memory into both maps (as 0 when nothing sets them).
    quota = QuotaSpec("team", {"limits.memory": Quantity("64Gi"), "requests.cpu": Quantity("64")})
    for platform in (PLATFORM, PlatformConfig()):
        e = effective(spec({"cpu": "1"}), platform, quotas=[quota])
        assert not any(f.rule is PlatformRule.QUOTA_REQUIRES_VALUE for f in e.findings)


def test_check_quota_refuses_a_container_without_a_tracked_value() -> None:
    quota = QuotaSpec("team", {"limits.memory": Quantity("64Gi"), "cpu": Quantity("8"), "services": Quantity("1")})
    found = check_quota({Resource.CPU: Quantity("1")}, {}, quota)
    assert [(f.rule, f.field) for f in found] == [(PlatformRule.QUOTA_REQUIRES_VALUE, "limits.memory")]
    assert '"must specify limits.memory"' in found[0].reason


# -- reporting ------------------------------------------------------------------------------------------------------


def test_to_dict_and_str() -> None:
    e = effective(spec({"memory": "16Gi"}), PLATFORM)
    d = e.to_dict()
    assert d["rejected"] is True
    assert d["findings"][0]["rule"] == "rejected-at-registration"
    assert d["explanations"][0] == {
        "field": "requests.cpu",
        "value": "500m",
        "rule": "platform-default",
        "reason": "platform default",
    }
    assert "error: [rejected-at-registration] requests.memory = 16Gi" in str(e)


def test_unknown_launch_is_refused() -> None:
    with pytest.raises(ValueError, match=r"launch = 'eager': must be one of workflow, dynamic, flyte2"):
        effective(spec(), launch="eager")  # type: ignore[arg-type]


# -- properties -----------------------------------------------------------------------------------------------------

_CPU = st.integers(min_value=1, max_value=16000).map(lambda m: f"{m}m")
_MEM = st.integers(min_value=1, max_value=64 * 1024).map(lambda m: f"{m}Mi")
_GPU = st.integers(min_value=1, max_value=8).map(str)


@st.composite
def _pair(draw: st.DrawFn, values: st.SearchStrategy[str]) -> tuple[str | None, str | None]:
    a, b = draw(values), draw(values)
    lo, hi = sorted((a, b), key=Quantity)
    shape = draw(st.sampled_from(["request", "limit", "both", "none"]))
    return {"request": (lo, None), "limit": (None, hi), "both": (lo, hi), "none": (None, None)}[shape]


@st.composite
def specs(draw: st.DrawFn) -> ResourceSpec:
    requests: dict[str, str] = {}
    limits: dict[str, str] = {}
    for name, values in (("cpu", _CPU), ("memory", _MEM), ("ephemeral_storage", _MEM)):
        req, lim = draw(_pair(values))
        if req is not None:
            requests[name] = req
        if lim is not None:
            limits[name] = lim
    gpu = draw(st.one_of(st.none(), _GPU))
    if gpu is not None:
        target = draw(st.sampled_from([requests, limits]))
        target["gpu"] = gpu
    return ResourceSpec(requests=requests, limits=limits)


@st.composite
def platforms(draw: st.DrawFn) -> PlatformConfig:
    defaults: dict[str, str] = {}
    limits: dict[str, str] = {}
    for name, values in (("cpu", _CPU), ("memory", _MEM), ("gpu", _GPU), ("ephemeral_storage", _MEM)):
        if draw(st.booleans()):
            defaults[name] = draw(values)
        if draw(st.booleans()):
            limits[name] = draw(values)
    return PlatformConfig(defaults=defaults, limits=limits)


def _check_bounds(e: EffectiveResources, platform: PlatformConfig) -> None:
    for r, req in e.requests.items():
        lim = e.limits[r]
        assert req <= lim, (r, req, lim)
        plimit = platform.limit(r)
        if plimit is not None:
            assert lim <= plimit, (r, lim, plimit)


@settings(max_examples=150, deadline=None)
@given(specs(), platforms(), st.sampled_from(["workflow", "dynamic", "flyte2"]))
def test_never_a_request_above_its_limit_nor_above_the_platform_limit(
    task: ResourceSpec, platform: PlatformConfig, launch: str
) -> None:
    e = effective(task, platform, launch=launch)  # type: ignore[arg-type]
    assert set(e.requests) == set(e.limits)
    _check_bounds(e, platform)


@settings(max_examples=150, deadline=None)
@given(specs(), specs(), platforms(), st.sampled_from(["workflow", "dynamic"]))
def test_overrides_never_break_the_bounds_either(
    task: ResourceSpec, override: ResourceSpec, platform: PlatformConfig, launch: str
) -> None:
    e = effective(task, platform, override, launch=launch)  # type: ignore[arg-type]
    _check_bounds(e, platform)


@settings(max_examples=150, deadline=None)
@given(specs(), platforms(), st.sampled_from(["workflow", "dynamic", "flyte2"]))
def test_effective_of_effective_changes_nothing(task: ResourceSpec, platform: PlatformConfig, launch: str) -> None:
    first = effective(task, platform, launch=launch)  # type: ignore[arg-type]
    again = effective(first.to_spec(), platform, launch=launch)  # type: ignore[arg-type]
    assert dict(again.requests) == dict(first.requests)
    assert dict(again.limits) == dict(first.limits)
    assert not again.rejected
    assert not any(f.rule is PlatformRule.CAPPED_AT_PLATFORM_LIMIT for f in again.findings)


# -- Flyte 2's defaults: the k8s plugin's default-cpus and default-memory ----------------------------------------
# flyteplugins flytek8s/container_helper.go resolvePlatformDefaults fills the platform's cpu and memory requests
# that are missing from the plugin config (flytek8s/config/config.go: 1000m and 1024Mi built in), and the Flyte 2
# executor passes no platform resources at all (executor/pkg/plugin/task_exec_metadata.go GetPlatformResources).


def test_flyte2_without_a_platform_uses_the_plugins_built_in_defaults() -> None:
    e = effective(spec({"gpu": "1"}), launch="flyte2")
    assert e.to_k8s()["requests"] == {"cpu": "1", "memory": "1Gi", "nvidia.com/gpu": "1"}
    assert str(e.explain("requests.cpu")) == (
        "requests.cpu = 1 (the k8s plugin's built-in default-cpus (no platform given))"
    )
    assert e.findings == ()


@pytest.mark.parametrize(
    ("text", "cpu", "reason"),
    [
        (
            "plugins:\n  k8s:\n    default-cpus: 250m\n",
            "250m",
            "platform default: the k8s plugin's default-cpus (flyte.yaml:3)",
        ),
        (
            # flyteadmin's task_resources (and its built-ins) never reach a Flyte 2 task.
            "task_resources:\n  defaults:\n    cpu: 3\n  limits:\n    memory: 1Gi\n",
            "1",
            (
                "the k8s plugin's built-in default-cpus (the file does not set default-cpus; flyteadmin's "
                "task_resources do not reach Flyte 2)"
            ),
        ),
    ],
)
def test_flyte2_reads_the_plugin_config_of_a_file(text: str, cpu: str, reason: str) -> None:
    e = effective(spec({"memory": "4Gi"}), parse_platform(text, "flyte.yaml"), launch="flyte2")
    assert str(e.requests[Resource.CPU]) == cpu
    assert e.explain("requests.cpu").reason == reason
    assert str(e.limits[Resource.MEMORY]) == "4Gi"  # no platform limit in Flyte 2


def test_flyte2_config_built_in_code_keeps_its_values_and_fills_the_rest_from_the_plugin() -> None:
    e = effective(spec(), PlatformConfig(defaults={"memory": "2Gi"}, limits={"cpu": "500m"}), launch="flyte2")
    assert e.to_k8s()["requests"] == {"cpu": "500m", "memory": "2Gi"}
    assert e.explain("requests.cpu").reason == (
        "the k8s plugin's built-in default-cpus (the platform has no cpu default), then capped at the platform "
        "limit 500m (it was 1)"
    )


def test_flyte2_with_a_complete_file_and_no_plugin_defaults_writes_zero() -> None:
    e = effective(spec(), parse_platform("task_resources: {}\n", complete=True), launch="flyte2")
    assert e.to_k8s()["requests"] == {"cpu": "0", "memory": "0"}
    assert rules(e) == {("no-value", "cpu"): "warning", ("no-value", "memory"): "warning"}


# -- one verdict per task (issue 16, item 5) ----------------------------------------------------------------------


def test_a_task_refused_at_registration_is_not_also_over_quota() -> None:
    # Before: the refused 16Gi request was also reported as exceeding the quota with the 8Gi it would be capped to.
    quota = QuotaSpec("team", {"requests.memory": Quantity("4Gi"), "limits.memory": Quantity("4Gi")})
    e = effective(spec({"memory": "16Gi"}), PLATFORM, quotas=quota)
    assert [(f.rule.value, f.field) for f in e.findings] == [("rejected-at-registration", "requests.memory")]
    admitted = effective(spec({"memory": "6Gi"}), PLATFORM, quotas=quota)
    assert {f.field for f in admitted.errors} == {"requests.memory", "limits.memory"}


def test_the_first_quota_that_refuses_is_the_verdict() -> None:
    # plugin/pkg/admission/resourcequota CheckRequest: every quota's "must specify" first, then the first quota
    # exceeded.
    small = QuotaSpec("small", {"limits.cpu": Quantity("1")})
    smaller = QuotaSpec("smaller", {"limits.cpu": Quantity("500m")})
    e = effective(spec({"cpu": "2"}), PLATFORM, quotas=[small, smaller])
    assert [f.rule.value for f in e.findings] == ["quota-exceeded"]
    assert "'small'" in e.findings[0].reason
    # Without a platform nothing writes memory, so a quota that tracks it refuses the pod before any usage counts.
    required = QuotaSpec("needs-memory", {"requests.memory": Quantity("1Gi")})
    e = effective(spec({"cpu": "2"}), quotas=[small, required])
    assert [(f.rule.value, f.field) for f in e.findings] == [("quota-requires-value", "requests.memory")]


def test_the_backend_modules_doctests_hold() -> None:
    import doctest  # noqa: PLC0415 - only this test runs doctests

    from flyteres.backend import (  # noqa: PLC0415
        admission,
        cluster,
        config,
        files,
        flyteconfig,
        limitrange,
        manifests,
        quota,
        results,
    )
    from flyteres.backend import effective as effective_module  # noqa: PLC0415

    for module in (admission, cluster, config, files, flyteconfig, limitrange, manifests, quota, results):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0, module.__name__
    assert doctest.testmod(effective_module).failed == 0
