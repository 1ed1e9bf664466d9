"""Flyte 2 tasks: the training loop and its driver."""

import flyte

from .envs import pool, small, train_env


@train_env.task
async def train(epochs: int) -> float:
    return float(epochs)


@pool.task
async def score(x: float) -> float:
    return x


@small.task
async def main(epochs: int) -> float:
    try:
        return await train(epochs=epochs)
    except flyte.errors.OOMError:
        # The OOM retry asks for more memory, and silently drops the CPUs, the GPUs and the
        # shared memory: Flyte 2's override replaces the task's whole Resources.
        loss = await train.override(resources=flyte.Resources(memory="32Gi"))(epochs=epochs)
    return await score.override(resources=flyte.Resources(cpu=2))(x=loss)
