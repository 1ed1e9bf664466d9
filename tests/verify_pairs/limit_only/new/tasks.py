"""The limit migrated as flyte's scalar memory, which is a request."""

import flyte

env = flyte.TaskEnvironment(name="tasks", resources=flyte.Resources(memory="600Mi"))


@env.task
async def transform(rows: list[int]) -> list[int]:
    return [r * 2 for r in rows]
