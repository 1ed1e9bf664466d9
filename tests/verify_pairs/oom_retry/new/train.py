"""Training with an OOM retry (Flyte 2, as the migration guide writes it)."""

import flyte

gpu_env = flyte.TaskEnvironment(name="train", resources=flyte.Resources(cpu="4", memory="16Gi", gpu="A100:1"))
env = flyte.TaskEnvironment(name="report", resources=flyte.Resources(cpu="1", memory="1Gi"))


@gpu_env.task
async def train(epochs: int) -> float:
    return float(epochs)


@env.task
async def report(loss: float) -> str:
    return str(loss)


@env.task
async def main(epochs: int) -> str:
    loss = await train.override(resources=flyte.Resources(memory="32Gi"))(epochs=epochs)
    return await report(loss=loss)
