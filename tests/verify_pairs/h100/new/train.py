"""Eight H100s (Flyte 2, with flyte's own spelling of the device)."""

import flyte

env = flyte.TaskEnvironment(name="pretrain", resources=flyte.Resources(cpu="32", memory="256Gi", gpu="H100:8"))


@env.task
async def pretrain(steps: int) -> float:
    return float(steps)
