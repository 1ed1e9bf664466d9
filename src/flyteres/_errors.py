"""The exception hierarchy: one base class; each error also inherits the
matching builtin, so callers that catch ValueError keep working, and carries
the structured fields its message was built from.

A message quotes at most a bounded prefix of any value (`shown`): inputs can
be megabytes long, nested without end, or ints too large to print.
"""

from __future__ import annotations

import reprlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the findings sit above the errors; only their type is needed here
    from flyteres.core.findings import Finding


#: The most characters of one value a message quotes.
SHOWN_LIMIT = 200
# The most characters of a reason a message carries (reasons quote values too).
_REASON_LIMIT = 1000


class _Shown(reprlib.Repr):
    """reprlib's bounded repr, plus the cases it would still expand in full."""

    def __init__(self) -> None:
        super().__init__()
        self.maxstring = self.maxother = SHOWN_LIMIT
        self.maxlevel = 3
        self.maxlist = self.maxtuple = self.maxdict = self.maxset = self.maxfrozenset = 8

    def repr_str(self, x: str, level: int) -> str:
        if len(x) <= self.maxstring:
            return repr(x)
        return f"{x[: self.maxstring // 2]!r}... [{len(x)} characters]"

    def repr_bytes(self, x: bytes, level: int) -> str:
        if len(x) <= self.maxstring:
            return repr(x)
        return f"{x[: self.maxstring // 4]!r}... [{len(x)} bytes]"

    def repr_int(self, x: int, level: int) -> str:
        # repr() of an int past 4300 digits raises; estimate the size instead of printing it.
        if x.bit_length() <= 600:
            return repr(x)
        return f"<int of about {int(x.bit_length() * 0.30103) + 1} digits>"


_SHOWN = _Shown()


def shown(value: object) -> str:
    """`repr(value)`, bounded: what a message quotes of an input.

    >>> shown("500m"), shown("x" * 1000)[-17:], shown(10**5000)
    ("'500m'", '[1000 characters]', '<int of about 5001 digits>')
    """
    try:
        return _SHOWN.repr(value)
    except Exception:  # a broken __repr__ must not hide the error being reported
        return f"<{type(value).__name__}>"


def capped(text: str, limit: int = _REASON_LIMIT) -> str:
    """`text` cut to `limit` characters, saying how long it was."""
    return text if len(text) <= limit else f"{text[:limit]}... [{len(text)} characters]"


class FlyteresError(Exception):
    """Base class of every error flyteres raises on purpose."""


class QuantityError(FlyteresError, ValueError):
    """A value is not a Kubernetes quantity (or cannot be one).

    >>> QuantityError("1GB", "unknown suffix 'GB'; did you mean 'G' or 'Gi'?").text
    '1GB'
    """

    def __init__(self, text: object, reason: str) -> None:
        self.text = text
        self.reason = capped(reason)
        super().__init__(f"invalid quantity {shown(text)}: {self.reason}")


class UnknownAcceleratorError(FlyteresError, ValueError):
    """A spelling names no device in the accelerator catalog."""

    def __init__(self, spelling: str, suggestions: Sequence[str] = ()) -> None:
        self.spelling = spelling
        self.suggestions = tuple(suggestions)
        hint = f"; did you mean {', '.join(shown(s) for s in self.suggestions)}?" if self.suggestions else ""
        super().__init__(
            f"unknown accelerator {shown(spelling)}{hint} "
            "(pass custom=True to use a device string the catalog does not know)"
        )


class InvalidPartitionError(FlyteresError, ValueError):
    """A MIG partition or TPU slice that the device does not have."""

    def __init__(self, device: str, partition: str, valid: Sequence[str]) -> None:
        self.device = device
        self.partition = partition
        self.valid = tuple(valid)
        choices = ", ".join(shown(v) for v in self.valid) if self.valid else "none (it cannot be partitioned)"
        super().__init__(
            f"{capped(device, SHOWN_LIMIT)} has no partition {shown(partition)}; valid partitions: {choices}"
        )


class ResourceSpecError(FlyteresError, ValueError):
    """Invalid input: names the field and the value at fault.

    >>> str(ResourceSpecError("requests.cpu", "-1", "must not be negative"))
    "requests.cpu = '-1': must not be negative"
    """

    def __init__(self, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = capped(reason)
        super().__init__(f"{capped(field, SHOWN_LIMIT)} = {shown(value)}: {self.reason}")


_LISTED_FINDINGS = 20


class LossyConversionError(FlyteresError, ValueError):
    """A conversion would lose or change something; `.findings` lists every one.

    Each finding names the field, the value, why, and what each policy would do,
    so a caller can choose a policy that decides it or fix the input.
    """

    def __init__(self, target: str, findings: Sequence[Finding]) -> None:
        self.target = target
        self.findings: tuple[Finding, ...] = tuple(findings)
        count = len(self.findings)
        # Each finding's line quotes a bounded value; the list itself is bounded too.
        lines = "\n".join(f"  - {capped(str(f))}" for f in self.findings[:_LISTED_FINDINGS])
        if count > _LISTED_FINDINGS:
            lines += f"\n  ... and {count - _LISTED_FINDINGS} more (all in .findings)"
        super().__init__(f"converting to {target} would lose information ({count} finding(s)):\n{lines}")
