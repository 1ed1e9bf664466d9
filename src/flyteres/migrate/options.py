"""The codemod's own choices, defined once: `MigrationTarget` (the policy is `flyteres.core.options.Policy`).

The CLI imports this module to register `flyteres migrate`, so it imports
nothing but the standard library.

>>> MigrationTarget.parse("flytekit")
<MigrationTarget.FLYTEKIT: 'flytekit'>
>>> str(MigrationTarget.FLYTE)
'flyte'
"""

from __future__ import annotations

from enum import Enum
from typing import Literal

__all__ = ["MigrationTarget", "MigrationTargetName"]


class MigrationTarget(str, Enum):
    """Which SDK the codemod rewrites flytekit resource declarations for.

    `FLYTEKIT` stays on flytekit: each `requests=`/`limits=` pair becomes its
    single `resources=Resources(cpu=(request, limit), ...)`. `FLYTE` moves to
    Flyte 2: tasks to a `flyte.TaskEnvironment`, overrides to
    `.override(resources=...)`.
    """

    FLYTEKIT = "flytekit"
    FLYTE = "flyte"

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def parse(cls, value: object) -> MigrationTarget:
        """The member for `value` (a member or its string value); ValueError for anything else."""
        for member in cls:
            if value == member.value:
                return member
        raise ValueError(f"target must be one of {', '.join(m.value for m in cls)}, not {value!r}")


#: The string values `MigrationTarget` accepts, for type hints of public functions.
MigrationTargetName = Literal["flytekit", "flyte"]
