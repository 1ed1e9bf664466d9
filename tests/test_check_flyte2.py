"""`flyteres check` on Flyte 2 code, and on the mixed sample project (issue 14).

Flyte 2 tasks run under `launch="flyte2"`: no flyteadmin (its task_resources
do not apply), the k8s plugin's defaults, Kubernetes' admission; an override
replaces the task's whole Resources. Findings point at the environment, the
clone_with or the override.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flyteres.backend.config import load_platform, load_quotas
from flyteres.backend.manifests import load_limitranges
from flyteres.check import CheckRule, check_paths
from flyteres.cli.check import main
from flyteres.core.spec import Resource
from flyteres.platform import parse_platform
from flyteres.source.project import read_project

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
MIXED = EXAMPLES / "mixed"
ADMIN = EXAMPLES / "admin.yaml"
QUOTA = EXAMPLES / "quota.yaml"
LIMITRANGE = EXAMPLES / "limitrange.yaml"
PLATFORM = parse_platform("task_resources: {limits: {memory: 8Gi}}")

ISSUE = """\
import flyte

env = flyte.TaskEnvironment(name="train",
                            resources=flyte.Resources(cpu=(1, 2), memory="16Gi", gpu="H100:8", shm="auto"))
small = flyte.TaskEnvironment(name="small", resources=flyte.Resources(cpu=6, memory="600Mi"))


@env.task
async def train(x: int) -> int:
    return x


@small.task
async def main(n: int) -> int:
    return await train.override(resources=flyte.Resources(memory="32Gi"))(x=n)
"""


def rules(report_lines: list[str], prefix: str) -> list[str]:
    return [line.split("[", 1)[1].split("]", 1)[0] for line in report_lines if line.startswith(prefix) and "[" in line]


def test_the_issues_example_is_read_and_checked(tmp_path: Path) -> None:
    (tmp_path / "proj.py").write_text(ISSUE)
    report = check_paths(
        [tmp_path], load_platform(ADMIN), load_quotas(QUOTA), load_limitranges(LIMITRANGE), node_labels={"nvidia-h100"}
    )
    lines = list(report.lines())
    assert lines[-1].startswith("2 of 3 declaration(s)")
    where = f"{tmp_path / 'proj.py'}"
    # The environment: 16Gi is above the namespace's 6Gi, and flyte's "H100" label is not the nodes'.
    assert rules(lines, f"{where}:3: environment 'env'") == ["gpu-label-not-on-nodes", "limitrange-rejected"]
    # The override drops the CPUs, the GPUs and the shared memory; the hint keeps them.
    assert rules(lines, f"{where}:15: override of 'train'") == ["override-replaces-resources", "limitrange-rejected"]
    (hint,) = [line for line in lines if line.startswith(f"{where}:15: override of 'train': hint: ")]
    assert hint.endswith("resources=flyte.Resources(cpu=('1', '2'), memory='32Gi', gpu='H100:8', shm='auto')")
    # Flyte 2 has no flyteadmin: cpu=6 is not capped at the file's limit of 4 (docs/platform.md).
    assert not any(line.startswith(f"{where}:5:") for line in lines)


def test_findings_point_at_the_environment_clone_and_override_lines(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(
        "import flyte\n"
        "base = flyte.TaskEnvironment(name='base', resources=flyte.Resources(memory='16Gi'))\n"
        "big = base.clone_with('big', resources=flyte.Resources(memory='12Gi'))\n"
        "same = base.clone_with('same')\n"
        "@same.task\n"
        "async def t() -> None:\n"
        "    await t.override(resources=flyte.Resources(memory='10Gi'))()\n"
    )
    report = check_paths([tmp_path], PLATFORM, limitranges=load_limitranges(LIMITRANGE))
    assert [(c.declaration.line, c.title) for c in report.problems] == [
        (2, "environment 'base'"),
        (3, "clone_with 'big'"),
        (7, "override of 't'"),
    ]
    override = report.problems[-1]
    assert override.launch == "flyte2"
    assert override.result is not None
    assert str(override.result.requests["memory"]) == "10Gi"


def test_values_flyte_refuses_are_errors_with_flytes_reason(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(
        "import flyte\n"
        "a2 = flyte.TaskEnvironment(name='a2', resources=flyte.Resources(gpu='A2:2'))\n"
        "mem = flyte.TaskEnvironment(name='mem', resources=flyte.Resources(memory=1024))\n"
    )
    report = check_paths([tmp_path], PLATFORM)
    assert report.exit_code == 1
    a2, mem = report.checked
    (finding,) = a2.problems
    assert finding.rule is CheckRule.FLYTE_REFUSES
    assert "got A2:2 (flyte's strings for A2 allow 1 device)" in finding.reason
    assert "memory must be a Kubernetes quantity string" in mem.problems[0].reason


def test_an_override_on_a_reusable_environment(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(
        "import flyte\n"
        "pool = flyte.TaskEnvironment(name='pool', resources=flyte.Resources(cpu=1, memory='1Gi'),\n"
        "                             reusable=flyte.ReusePolicy(replicas=2))\n"
        "@pool.task\n"
        "async def t() -> None: ...\n"
        "async def run() -> None:\n"
        "    await t.override(resources=flyte.Resources(cpu=1, memory='2Gi'))()\n"
        "    await t.override(reusable='off', resources=flyte.Resources(cpu=1, memory='2Gi'))()\n"
    )
    report = check_paths([tmp_path], PLATFORM)
    found = {c.declaration.line: [f.rule for f in c.problems] for c in report.checked}
    assert found[7] == [CheckRule.OVERRIDE_ON_REUSABLE]
    assert found[8] == []


def test_tasks_and_overrides_across_modules(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "envs.py").write_text(
        "import flyte\nenv = flyte.TaskEnvironment(name='e', resources=flyte.Resources(cpu=2, gpu='T4:1'))\n"
    )
    (tmp_path / "pkg" / "tasks.py").write_text("from .envs import env\n@env.task\nasync def embed() -> None: ...\n")
    (tmp_path / "pkg" / "flows.py").write_text(
        "import flyte\nfrom pkg.tasks import embed\n"
        "async def main() -> None:\n    await embed.override(resources=flyte.Resources(memory='2Gi'))()\n"
    )
    report = check_paths([tmp_path], PLATFORM)
    (override,) = [c for c in report.checked if c.declaration.kind.value == "override"]
    assert override.skipped is None
    assert override.result is not None
    dropped = [f for f in override.result.findings if f.rule.value == "override-replaces-resources"]
    assert dropped[0].value == "requests.cpu, requests.gpu, accelerator"


def test_an_import_means_the_module_of_the_importers_own_project(tmp_path: Path) -> None:
    # Two projects of one tree, each with a `workflows` package: p2's task runs in p2's environment
    # (what check and verify read of a task that imports its environment).
    for project, cpu in (("p1", 1), ("p2", 3)):
        package = tmp_path / project / "workflows"
        package.mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "envs.py").write_text(
            f"import flyte\nenv = flyte.TaskEnvironment(name='{project}', resources=flyte.Resources(cpu={cpu}))\n"
        )
        (package / "tasks.py").write_text("from workflows.envs import env\n@env.task\nasync def t() -> None: ...\n")
    project = read_project([tmp_path])
    cpus = {
        Path(m.path).parent.parent.name: str(t.spec.requests[Resource.CPU]) for m in project.modules for t in m.tasks
    }
    assert cpus == {"p1": "1", "p2": "3"}


def test_gpu_labels_the_nodes_do_not_carry(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(
        "import flyte\nfrom flytekit import Resources, task\nfrom flytekit.extras.accelerators import H100\n"
        "v2 = flyte.TaskEnvironment(name='v2', resources=flyte.Resources(gpu='H100:8'))\n"
        "@task(limits=Resources(gpu='8'), accelerator=H100)\ndef v1() -> None: ...\n"
    )
    platform = parse_platform('task_resources: {limits: {memory: 8Gi, gpu: "8"}}')
    report = check_paths([tmp_path], platform, node_labels={"nvidia-h100"})
    (v2,) = report.problems
    assert v2.declaration.line == 4
    assert v2.problems[0].rule is CheckRule.GPU_LABEL_NOT_ON_NODES
    expected = "flyte.Device(quantity=8, device_class='GPU', device='nvidia-h100') sends that label"
    assert expected in v2.problems[0].reason
    # Without the nodes' labels nothing is said but an informational note on the label flyte sends.
    report = check_paths([tmp_path], platform)
    assert report.problems == []
    assert [f.rule for f in report.checked[0].findings] == [CheckRule.DEVICE_LABEL_DIFFERS]


def test_the_mixed_sample_project_is_checked_in_one_run(capsys: pytest.CaptureFixture[str]) -> None:
    code = main([str(MIXED), "--platform", str(ADMIN), "--quota", str(QUOTA), "--limitrange", str(LIMITRANGE)])
    out = capsys.readouterr().out
    assert code == 1
    lines = out.splitlines()
    assert rules(lines, f"{MIXED / 'legacy.py'}:13: task 'join'") == ["capped-at-platform-limit", "limitrange-rejected"]
    assert rules(lines, f"{MIXED / 'training.py'}:25: override of 'train'")[0] == "override-replaces-resources"
    assert rules(lines, f"{MIXED / 'training.py'}:26: override of 'score'")[0] == "override-on-reusable"
    assert rules(lines, f"{MIXED / 'broken.py'}:6: environment 'double_a2'") == ["flyte-refuses"]
    code = main([str(MIXED), "--platform", str(ADMIN), "--json"])
    doc = json.loads(capsys.readouterr().out)
    sdks = {d.get("sdk", "flytekit") for d in doc["declarations"]}
    assert sdks == {"flytekit", "flyte"}
    train = next(d for d in doc["declarations"] if d["name"] == "train_env")
    assert train["launch"] == "flyte2"
    assert train["tasks"] == []  # its tasks are defined in training.py
    assert train["resources"]["limits"]["nvidia.com/gpu"] == "8"


# -- the nodes' accelerator labels in the platform file (flyteres' own key) -----------------------------------


def test_the_platform_file_names_the_labels_its_nodes_carry(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    platform = load_platform(ADMIN)
    assert platform.node_accelerators == frozenset({"nvidia-tesla-t4", "nvidia-tesla-a100", "nvidia-h100"})
    assert platform.lines["flyteres.node_accelerators"] == 17
    # A Flyte ConfigMap carries them as an annotation, as kubectl prints it.
    (tmp_path / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: flyte-admin-config\n  annotations:\n"
        "    flyteres.io/node-accelerators: nvidia-h100, nvidia-l4\n"
        "data:\n  task_resource_defaults.yaml: |\n    task_resources:\n      limits: {memory: 8Gi}\n"
    )
    assert load_platform(tmp_path / "cm.yaml").node_accelerators == frozenset({"nvidia-h100", "nvidia-l4"})
    # The issue's H100: flyte sends nvidia-tesla-h100, which the nodes listed for flytekit's H100 do not carry.
    (tmp_path / "h100.py").write_text(
        "import flyte\nenv = flyte.TaskEnvironment(name='e', resources=flyte.Resources(gpu='H100:2'))\n"
    )
    (tmp_path / "labels.yaml").write_text(
        'task_resources: {limits: {memory: 8Gi, gpu: "8"}}\nflyteres: {node_accelerators: [nvidia-h100]}\n'
    )
    assert main([str(tmp_path / "h100.py"), "--platform", str(tmp_path / "labels.yaml")]) == 1
    assert "[gpu-label-not-on-nodes] accelerator = nvidia-tesla-h100" in capsys.readouterr().out
    # --node-label replaces what the file says.
    code = main(
        [str(tmp_path / "h100.py"), "--platform", str(tmp_path / "labels.yaml"), "--node-label", "nvidia-tesla-h100"]
    )
    assert code == 0, capsys.readouterr().out


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("task_resources: {}\nflyteres: [a]\n", "flyteres: must be a mapping, not a list"),
        (
            "task_resources: {}\nflyteres: {nodes: [a]}\n",
            "flyteres.nodes: unknown key (flyteres knows node_accelerators)",
        ),
        ("task_resources: {}\nflyteres: {node_accelerators: a}\n", "must be a list of node label values"),
    ],
)
def test_a_bad_node_accelerators_key_is_refused_with_its_line(text: str, message: str) -> None:
    from flyteres.backend.config import PlatformConfigError  # noqa: PLC0415 - only these cases need it

    with pytest.raises(PlatformConfigError, match=r"^p\.yaml:2: ") as exc:
        parse_platform(text, "p.yaml")
    assert message in str(exc.value)


def test_resources_in_a_pod_template_are_checked(tmp_path: Path) -> None:
    # P30: a flytekit task without resources of its own runs with its pod template's primary container's.
    (tmp_path / "m.py").write_text(
        "from flytekit import PodTemplate, task\n"
        "from kubernetes.client import V1Container, V1PodSpec, V1ResourceRequirements\n"
        "T = PodTemplate(primary_container_name='main', pod_spec=V1PodSpec(containers=[\n"
        "    V1Container(name='main', resources=V1ResourceRequirements(requests={'memory': '16Gi'}))]))\n"
        "@task(pod_template=T)\n"
        "def big() -> None: ...\n"
        "@task(pod_template=make_template())\n"
        "def unknown() -> None: ...\n"
    )
    report = check_paths([tmp_path], PLATFORM)
    big, unknown = report.checked
    assert big.declaration.spec is not None
    assert [f.rule.value for f in big.problems] == ["rejected-at-registration"]
    assert unknown.skipped == "pod_template: not a PodTemplate(...) written out (make_template())"


def test_the_text_report_says_a_template_only_the_code_knows_may_add_resources(tmp_path: Path) -> None:
    # docs/semantics.md, row 33: flyte adds the primary container's resources of the pod template to
    # the environment's; a template named by a string is only known on the cluster.
    (tmp_path / "m.py").write_text(
        "import flyte\n"
        "env = flyte.TaskEnvironment(name='e', resources=flyte.Resources(cpu=1, memory='1Gi'),\n"
        "                            pod_template='gpu-template')\n"
        "plain = flyte.TaskEnvironment(name='p', resources=flyte.Resources(cpu=1, memory='1Gi'))\n"
    )
    report = check_paths([tmp_path], PLATFORM)
    notes = [line for line in report.lines() if ": note: " in line]
    where = tmp_path / "m.py"
    assert len(notes) == 1
    assert notes[0].startswith(f"{where}:2: environment 'env': note: the pod template's own resources are not known")
    assert notes[0].endswith("they add to these")
    assert report.exit_code == 0  # a note, not a finding


def test_the_summary_after_an_input_error_says_so(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    report = check_paths([missing], PLATFORM)
    assert list(report.lines())[-1] == "1 input error(s); nothing checked"
    (tmp_path / "proj.py").write_text(ISSUE)
    lines = list(check_paths([tmp_path / "proj.py", missing], PLATFORM).lines())
    assert lines[-1].startswith("1 of 3 declaration(s) would be")
    assert lines[-1].endswith("; 1 input error(s)")


OOM_RETRY = """\
import flyte

env = flyte.TaskEnvironment(name="oom", resources=flyte.Resources(cpu=(1, 2), memory="1Gi", gpu="A100:1", shm="auto"))


@env.task
async def worker(mb: int) -> int:
    return mb


@env.task
async def drive(tiers: list[int], cpu: str, sizes: dict[int, str]) -> int:
    for mb in tiers:
        try:
            return await worker.override(resources=flyte.Resources(memory={memory}))(mb)
        except flyte.errors.OOMError:
            continue
    await worker.override(resources=flyte.Resources(cpu=cpu, memory=sizes[0], gpu=GPU))(0)
    await worker.override(resources=bigger(tiers))(0)
    raise RuntimeError("out of memory at every tier")
"""


@pytest.mark.parametrize("memory", ['f"{mb}Mi"', '"2Gi"'])
def test_an_override_drops_what_it_does_not_pass_even_when_its_values_are_known_only_at_run_time(
    tmp_path: Path, memory: str
) -> None:
    # The OOM-retry loop: the memory tier is an f-string, yet the call's shape alone shows the cpu, the GPU
    # and the shared memory are gone -- the same fields as with a literal memory.
    (tmp_path / "oom.py").write_text(OOM_RETRY.replace("{memory}", memory))
    report = check_paths([tmp_path], PLATFORM)
    by_line = {c.declaration.line: c for c in report.checked}
    (dropped,) = [f for f in by_line[15].problems if f.rule.value == "override-replaces-resources"]
    assert dropped.value == "limits.cpu, requests.cpu, requests.gpu, accelerator, shared_memory"
    # Names may be tuples (requests and limits), so only what no parameter could set is reported.
    (dropped,) = by_line[18].problems
    assert dropped.value == "shared_memory"
    # A helper's result says nothing about which fields it sets: not checked, nothing claimed.
    assert by_line[19].problems == ()
    assert by_line[19].skipped is not None
