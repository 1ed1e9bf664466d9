"""ContainerTask with resources: docs/patterns.md P29."""

from flytekit import ContainerTask, Resources, kwtypes

echo = ContainerTask(
    name="echo",
    image="alpine:3.20",
    command=["echo", "{{.inputs.n}}"],
    inputs=kwtypes(n=int),
    requests=Resources(cpu="1", mem="100Mi"),
    limits=Resources(cpu="2", mem="200Mi"),
)
