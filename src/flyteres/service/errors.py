"""The service's refusals: field violations and the status each error is answered with.

A `RequestError` is a request the service answers with an error status; its
subclasses say which (`code`), and `violations` name the fields at fault. The
library's own errors become violations through `violation_of`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flyteres._errors import ResourceSpecError
from flyteres_pb.v1 import service_pb2

pb: Any = service_pb2

# google.rpc.Code numbers, for BatchError.code.
INVALID_ARGUMENT = 3
NOT_FOUND = 5
FAILED_PRECONDITION = 9
INTERNAL = 13


@dataclass(frozen=True)
class Violation:
    """One invalid field of a request: its path, the value there, and what is wrong."""

    field: str
    value: str
    description: str

    def to_pb(self) -> Any:
        return pb.FieldViolation(field=self.field, value=self.value, description=self.description)


class RequestError(Exception):
    """A request the service answers with an error status (never an INTERNAL one)."""

    code = INTERNAL

    def __init__(self, message: str, violations: Iterable[Violation] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.violations = tuple(violations)


class InvalidRequestError(RequestError):
    """INVALID_ARGUMENT. `malformed` marks a request that is not a question at
    all (nothing to read, an unknown enum number), as opposed to a spec that
    was read and found invalid; Validate answers only the latter with OK."""

    code = INVALID_ARGUMENT

    def __init__(self, message: str, violations: Iterable[Violation] = (), *, malformed: bool = False) -> None:
        super().__init__(message, violations)
        self.malformed = malformed


class NotFoundError(RequestError):
    """NOT_FOUND: a lookup with no answer."""

    code = NOT_FOUND


class UnavailableError(RequestError):
    """FAILED_PRECONDITION: this server lacks an optional package the request needs."""

    code = FAILED_PRECONDITION


def _text(value: object) -> str:
    return value if isinstance(value, str) else repr(value)


def violation_of(exc: BaseException, prefix: str, fallback: str) -> Violation:
    """A violation for a library error; `fallback` is the field when the error names none."""
    if isinstance(exc, ResourceSpecError):
        return Violation(f"{prefix}.{exc.field}", _text(exc.value), exc.reason)
    return Violation(fallback, "", str(exc))


def summary(violations: Iterable[Violation]) -> str:
    """The violations on one line, for a status message."""
    return "; ".join(f"{v.field}: {v.description}" for v in violations)


__all__ = [
    "FAILED_PRECONDITION",
    "INTERNAL",
    "INVALID_ARGUMENT",
    "NOT_FOUND",
    "InvalidRequestError",
    "NotFoundError",
    "RequestError",
    "UnavailableError",
    "Violation",
    "summary",
    "violation_of",
]
