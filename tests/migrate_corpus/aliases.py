"""Import forms and aliases: docs/patterns.md P20 and section F."""

import flytekit
import flytekit as fk
from flytekit import Resources as R
from flytekit import task as fk_task
from flytekit.core.resources import Resources as CoreResources


@flytekit.task(requests=flytekit.Resources(cpu="1"), limits=flytekit.Resources(cpu="2"))
def qualified(n: int) -> int:
    return n


@fk.task(requests=fk.Resources(mem="1Gi"))
def aliased_module(n: int) -> int:
    return n


@fk_task(requests=R(cpu="1"), limits=R(mem="2Gi"))
def aliased_names(n: int) -> int:
    return n


@fk_task(requests=CoreResources(cpu="3"))
def core_path(n: int) -> int:
    return n
