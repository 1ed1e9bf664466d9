"""The service's refusals: field violations and the status each error is answered with.

A `RequestError` is a request the service answers with an error status; its
subclasses say which (`code`), and `violations` name the fields at fault. The
library's own errors become violations through `violation_of`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

from flyteres._errors import SHOWN_LIMIT, QuantityError, ResourceSpecError, capped, shown
from flyteres_pb.v2 import service_pb2


@dataclass(frozen=True)
class Violation:
    """One invalid field of a request: its path, the value there, and what is wrong."""

    field: str
    value: str
    description: str

    def to_pb(self) -> service_pb2.FieldViolation:
        """The flyteres.v2.FieldViolation message (a ConvertBatch item's error, a Validate answer)."""
        return service_pb2.FieldViolation(field=self.field, value=self.value, description=self.description)


class RequestError(Exception):
    """A request the service answers with an error status.

    The subclasses are refusals of the request; the base class (INTERNAL) is
    only raised for a failure of the server's own, to answer one ConvertBatch
    item with it. `code` is a google.rpc.Code number: the gRPC status of a
    refused call, and the code of a refused ConvertBatch item's error.
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


# The library's advice is for Python callers; a caller of the service sets a
# field instead. `for_callers` rewrites it with the field of the request.
_ADVICE_CUSTOM = "(pass custom=True to use a device string the catalog does not know)"
_BUILD_CUSTOM = "; or build the spec with custom=True"


def for_callers(text: str, custom: str) -> str:
    """`text` with the library's Python advice about custom=True turned into `custom`, what to set.

    >>> for_callers("unknown accelerator 'x' (pass custom=True to use a device string the catalog does not know)",
    ...             "accelerator.custom to true")
    "unknown accelerator 'x' (set accelerator.custom to true to use a device string the catalog does not know)"
    """
    return text.replace(_ADVICE_CUSTOM, f"(set {custom} to use a device string the catalog does not know)").replace(
        _BUILD_CUSTOM, f"; or set {custom}"
    )


# An error's message and details travel in trailing metadata, which clients
# refuse above 8 KiB by default: the status is trimmed to fit well inside it.
MAX_STATUS_MESSAGE = 1024
MAX_DETAIL_BYTES = 4096
MAX_DESCRIPTION = 300


def to_status(error: RequestError) -> status_pb2.Status:
    """The google.rpc.Status of a refused request; INVALID_ARGUMENT carries a google.rpc.BadRequest.

    A refused call is answered with it (in its trailers), a failed ConvertBatch
    item with it in ConvertBatchResponse.error. The BadRequest lists
    violations in order while it stays under MAX_DETAIL_BYTES; the message
    says how many more there were.
    """
    bad = error_details_pb2.BadRequest()
    for v in error.violations:
        entry = bad.field_violations.add(field=v.field[:MAX_DESCRIPTION], description=_describe(v))
        if bad.ByteSize() > MAX_DETAIL_BYTES:
            bad.field_violations.remove(entry)
            break
    message = _clip(error.message, MAX_STATUS_MESSAGE)
    left_out = len(error.violations) - len(bad.field_violations)
    if left_out:
        message += f" ({left_out} more invalid field(s) not listed)"
    status = status_pb2.Status(code=error.code, message=message)
    if bad.field_violations:
        packed = any_pb2.Any()
        packed.Pack(bad)
        status.details.append(packed)
    return status


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe(v: Violation) -> str:
    text = f"{v.description} (got {v.value!r})" if v.value else v.description
    return _clip(text, MAX_DESCRIPTION)


__all__ = [
    "InvalidRequestError",
    "NotFoundError",
    "RequestError",
    "UnavailableError",
    "Violation",
    "for_callers",
    "summary",
    "to_status",
    "violation_of",
]
