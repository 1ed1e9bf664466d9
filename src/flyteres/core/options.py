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
from typing import Literal, TypeVar

from flyteres._errors import ResourceSpecError

_E = TypeVar("_E", bound="_Choice")


class _Choice(str, Enum):
    """A string enum whose values are what users type."""

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def parse(cls: type[_E], value: object) -> _E:
        """The member for `value` (a member or its string value)."""
        if isinstance(value, cls):
            return value
        for member in cls:
            if value == member.value:
                return member
        choices = ", ".join(m.value for m in cls)
        raise ResourceSpecError(_option_name(cls), value, f"must be one of {choices}")


def _option_name(cls: type[Enum]) -> str:
    return _OPTION_NAMES.get(cls.__name__, cls.__name__)


class Policy(_Choice):
    """What a conversion does where the target cannot say exactly what the source said.

    `STRICT` refuses anything that would change the wire; `KUBERNETES` decides
    what Kubernetes (or the Flyte backend) decides at run time anyway, such as
    a missing request becoming the limit, and reports each decision.
    """

    STRICT = "strict"
    KUBERNETES = "kubernetes"


class DeviceLabels(_Choice):
    """How a device is spelled in the target SDK.

    `KEEP` keeps the exact node label on the wire (flytekit's H100 becomes a
    flyte `Device(device="nvidia-h100")`); `IDIOMATIC` uses the target SDK's
    own spelling and reports the label change.
    """

    KEEP = "keep"
    IDIOMATIC = "idiomatic"


class FlytekitForm(_Choice):
    """Which flytekit arguments carry requests and limits.

    `SPLIT` is `requests=`/`limits=`; `RESOURCES` is flytekit's single
    `resources=Resources(cpu=(request, limit), ...)` (flytekit 1.15.3 and later).
    """

    SPLIT = "split"
    RESOURCES = "resources"


class IdlTarget(_Choice):
    """Whose protobuf messages to build: ours (flyteres.v1), flyteidl (v1) or flyteidl2."""

    FLYTERES = "flyteres"
    FLYTEIDL = "flyteidl"
    FLYTEIDL2 = "flyteidl2"


_OPTION_NAMES = {
    "Policy": "policy",
    "DeviceLabels": "device_labels",
    "FlytekitForm": "form",
    "IdlTarget": "target",
}

#: The string values each option accepts, for type hints of public functions.
PolicyName = Literal["strict", "kubernetes"]
DeviceLabelsName = Literal["keep", "idiomatic"]
FlytekitFormName = Literal["split", "resources"]
IdlTargetName = Literal["flyteres", "flyteidl", "flyteidl2"]
