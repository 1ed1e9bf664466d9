"""The service's refusals: field violations and the status each error is answered with.

A `RequestError` is a request the service answers with an error status; its
subclasses say which (`code`), and `violations` name the fields at fault. The
library's own errors become violations through `violation_of`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from google.rpc import code_pb2

from flyteres._errors import SHOWN_LIMIT, QuantityError, ResourceSpecError, capped, shown
from flyteres_pb.v1 import service_pb2


@dataclass(frozen=True)
class Violation:
    """One invalid field of a request: its path, the value there, and what is wrong."""

    field: str
    value: str
    description: str

    def to_pb(self) -> service_pb2.FieldViolation:
        """The flyteres.v1.FieldViolation message (a ConvertBatch item's error, a Validate answer)."""
        return service_pb2.FieldViolation(field=self.field, value=self.value, description=self.description)


class RequestError(Exception):
    """A request the service answers with an error status.

    The subclasses are refusals of the request; the base class (INTERNAL) is
    only raised for a failure of the server's own, to answer one ConvertBatch
    item with it. `code` is a google.rpc.Code number: the gRPC status of a
    refused call, and BatchError.code of a refused ConvertBatch item.
    """

    code: int = code_pb2.INTERNAL

    def __init__(self, message: str, violations: Iterable[Violation] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.violations = tuple(violations)


class InvalidRequestError(RequestError):
    """INVALID_ARGUMENT. `malformed` marks a request that is not a question at
    all (nothing to read, an unknown enum number), as opposed to a spec that
    was read and found invalid; Validate answers only the latter with OK."""

    code = code_pb2.INVALID_ARGUMENT

    def __init__(self, message: str, violations: Iterable[Violation] = (), *, malformed: bool = False) -> None:
        super().__init__(message, violations)
        self.malformed = malformed


class NotFoundError(RequestError):
    """NOT_FOUND: a lookup with no answer."""

    code = code_pb2.NOT_FOUND


class UnavailableError(RequestError):
    """FAILED_PRECONDITION: this server lacks an optional package the request needs."""

    code = code_pb2.FAILED_PRECONDITION


def _text(value: object) -> str:
    # A bounded prefix: the value at fault can be an input of any size.
    return capped(value, SHOWN_LIMIT) if isinstance(value, str) else shown(value)


def violation_of(exc: BaseException, prefix: str, fallback: str) -> Violation:
    """A violation for a library error; `fallback` is the field when the error names none."""
    if isinstance(exc, ResourceSpecError):
        return Violation(f"{prefix}.{exc.field}", _text(exc.value), exc.reason)
    if isinstance(exc, QuantityError):
        return Violation(fallback, _text(exc.text), exc.reason)
    return Violation(fallback, "", str(exc))


def summary(violations: Iterable[Violation]) -> str:
    """The violations on one line, for a status message."""
    return "; ".join(f"{v.field}: {v.description}" for v in violations)


__all__ = [
    "InvalidRequestError",
    "NotFoundError",
    "RequestError",
    "UnavailableError",
    "Violation",
    "summary",
    "violation_of",
]
