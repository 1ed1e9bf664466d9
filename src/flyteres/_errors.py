"""The exception hierarchy: one base class; each error also inherits the
matching builtin, so callers that catch ValueError keep working, and carries
the structured fields its message was built from."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the findings sit above the errors; only their type is needed here
    from flyteres.core.findings import Finding


class FlyteresError(Exception):
    """Base class of every error flyteres raises on purpose."""


class QuantityError(FlyteresError, ValueError):
    """A value is not a Kubernetes quantity (or cannot be one).

    >>> QuantityError("1GB", "unknown suffix 'GB'; did you mean 'G' or 'Gi'?").text
    '1GB'
    """

    def __init__(self, text: object, reason: str) -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"invalid quantity {text!r}: {reason}")


class UnknownAcceleratorError(FlyteresError, ValueError):
    """A spelling names no device in the accelerator catalog."""

    def __init__(self, spelling: str, suggestions: Sequence[str] = ()) -> None:
        self.spelling = spelling
        self.suggestions = tuple(suggestions)
        hint = f"; did you mean {', '.join(repr(s) for s in self.suggestions)}?" if self.suggestions else ""
        super().__init__(
            f"unknown accelerator {spelling!r}{hint} "
            "(pass custom=True to use a device string the catalog does not know)"
        )


class InvalidPartitionError(FlyteresError, ValueError):
    """A MIG partition or TPU slice that the device does not have."""

    def __init__(self, device: str, partition: str, valid: Sequence[str]) -> None:
        self.device = device
        self.partition = partition
        self.valid = tuple(valid)
        choices = ", ".join(repr(v) for v in self.valid) if self.valid else "none (it cannot be partitioned)"
        super().__init__(f"{device} has no partition {partition!r}; valid partitions: {choices}")


class ResourceSpecError(FlyteresError, ValueError):
    """Invalid input: names the field and the value at fault.

    >>> str(ResourceSpecError("requests.cpu", "-1", "must not be negative"))
    "requests.cpu = '-1': must not be negative"
    """

    def __init__(self, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{field} = {value!r}: {reason}")


class LossyConversionError(FlyteresError, ValueError):
    """A conversion would lose or change something; `.findings` lists every one.

    Each finding names the field, the value, why, and what each policy would do,
    so a caller can choose a policy that decides it or fix the input.
    """

    def __init__(self, target: str, findings: Sequence[Finding]) -> None:
        self.target = target
        self.findings: tuple[Finding, ...] = tuple(findings)
        lines = "\n".join(f"  - {f}" for f in self.findings)
        count = len(self.findings)
        super().__init__(f"converting to {target} would lose information ({count} finding(s)):\n{lines}")
