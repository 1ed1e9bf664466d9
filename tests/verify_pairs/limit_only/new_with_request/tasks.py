"""The limit migrated with the request written out, as Kubernetes would set it."""

import flyte

env = flyte.TaskEnvironment(name="tasks", resources=flyte.Resources(memory=("600Mi", "600Mi")))


@env.task
async def transform(rows: list[int]) -> list[int]:
    return [r * 2 for r in rows]
