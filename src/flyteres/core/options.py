"""The closed sets of choices a conversion takes, one enum each.

Every public function accepts the enum member or its string value
(`policy="kubernetes"` and `policy=Policy.KUBERNETES` mean the same); the
`*Name` literal types say so to type checkers. `parse` turns either into the
member, or a `ResourceSpecError` naming the option and the valid values.

>>> Policy.parse("kubernetes")
<Policy.KUBERNETES: 'kubernetes'>
>>> IdlTarget.parse("flyteidl2").value
'flyteidl2'
"""

from __future__ import annotations

from enum import Enum
from typing import Literal, TypeVar, cast

from flyteres._errors import ResourceSpecError

_E = TypeVar("_E", bound="Choice")


class Choice(str, Enum):
    """A string enum whose values are what users type; `option()` names the argument it is given as."""

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def option(cls) -> str:
        """The argument's name in error messages: the class name in snake case unless a subclass says otherwise."""
        return "".join(f"_{c.lower()}" if c.isupper() else c for c in cls.__name__).lstrip("_")

    @classmethod
    def parse(cls: type[_E], value: object) -> _E:
        """The member for `value` (a member or its string value)."""
        if isinstance(value, cls):
            return value
        # Enum's own value table: one lookup on every conversion's hot path (only str values are ours).
        member = cls._value2member_map_.get(value) if isinstance(value, str) else None
        if member is not None:
            return cast(_E, member)  # the table holds only members of cls
        choices = ", ".join(m.value for m in cls)
        raise ResourceSpecError(cls.option(), value, f"must be one of {choices}")


class Policy(Choice):
    """What a conversion does where the target cannot say exactly what the source said.

    `STRICT` refuses anything that would change the wire; `KUBERNETES` decides
    what Kubernetes (or the Flyte backend) decides at run time anyway, such as
    a missing request becoming the limit, and reports each decision.
    """

    STRICT = "strict"
    KUBERNETES = "kubernetes"


class DeviceLabels(Choice):
    """How a device is spelled in the target SDK.

    `KEEP` keeps the exact node label on the wire (flytekit's H100 becomes a
    flyte `Device(device="nvidia-h100")`); `IDIOMATIC` uses the target SDK's
    own spelling and reports the label change.
    """

    KEEP = "keep"
    IDIOMATIC = "idiomatic"


class FlytekitForm(Choice):
    """Which flytekit arguments carry requests and limits.

    `SPLIT` is `requests=`/`limits=`; `RESOURCES` is flytekit's single
    `resources=Resources(cpu=(request, limit), ...)` (flytekit 1.15.3 and later).
    """

    SPLIT = "split"
    RESOURCES = "resources"

    @classmethod
    def option(cls) -> str:
        return "form"


class IdlTarget(Choice):
    """Whose protobuf messages to build: ours (flyteres.v1), flyteidl (v1) or flyteidl2."""

    FLYTERES = "flyteres"
    FLYTEIDL = "flyteidl"
    FLYTEIDL2 = "flyteidl2"

    @classmethod
    def option(cls) -> str:
        return "target"


class Site(Choice):
    """Where flytekit arguments are written, which decides how flytekit serializes them.

    `TASK` is `@task(...)`: the task serializer drops falsy values (`0`, `""`)
    and passes the rest through. `OVERRIDE` is `with_overrides(...)`: every value
    that is not None is sent as `str(value)`, so `gpu=0` is the entry "0".
    (docs/semantics.md, sections 1.2 and 1.7.)
    """

    TASK = "task"
    OVERRIDE = "override"


#: The string values each option accepts, for type hints of public functions.
PolicyName = Literal["strict", "kubernetes"]
DeviceLabelsName = Literal["keep", "idiomatic"]
FlytekitFormName = Literal["split", "resources"]
IdlTargetName = Literal["flyteres", "flyteidl", "flyteidl2"]
SiteName = Literal["task", "override"]
