"""Flyte 2 values flyte itself refuses: the module fails when it is imported."""

import flyte

# "A2" machines have one GPU: flyte's strings for A2 allow only "A2:1".
double_a2 = flyte.TaskEnvironment(name="double_a2", resources=flyte.Resources(gpu="A2:2"))


@double_a2.task
async def infer(x: int) -> int:
    return x
