"""Flyte 2 environments, shared by the modules that define tasks."""

import flyte

# Eight H100s with shared memory: flyte sends "H100" as nvidia-tesla-h100, a label the
# platform's H100 nodes (labelled nvidia-h100, as flytekit sends it) do not carry.
train_env = flyte.TaskEnvironment(
    name="train",
    resources=flyte.Resources(cpu=(1, 2), memory="16Gi", gpu="H100:8", shm="auto"),
)
small = flyte.TaskEnvironment(name="small", resources=flyte.Resources(cpu=6, memory="600Mi"))
# Keeps small's resources.
reports = small.clone_with(name="reports")
# A reusable pool: an override of its resources raises unless it turns reuse off.
pool = flyte.TaskEnvironment(
    name="pool",
    resources=flyte.Resources(cpu=1, memory="1Gi"),
    reusable=flyte.ReusePolicy(replicas=2),
)
