"""The size of a request the service will read: bytes, entries, string lengths, values.

Every request is checked before anything expensive happens to it: its size
in bytes before it is parsed (parsing 100,000 map entries holds the event
loop for about 70 ms), then the parsed message's shape before the library
reads it (the library sorts and re-reads fields, which cost 0.5 s or more for
such a request). A request past a bound is refused with INVALID_ARGUMENT and
a BadRequest whose violations name the field and the limit.

Real requests are far inside the bounds: a spec has a handful of resources,
quantities of a few characters and device names of a few dozen, so a whole
Convert request is a few hundred bytes and a few dozen values.

>>> from flyteres_pb.v2 import service_pb2 as pb
>>> check(pb.SpecInput(flytekit=pb.FlytekitSpec(requests={"cpu": "1" * 2000})))
Traceback (most recent call last):
...
flyteres.service.errors.InvalidRequestError: request exceeds this server's limits: flytekit.requests.cpu: at most ...
"""

from __future__ import annotations

from typing import TypeGuard

from google.protobuf.message import Message

from flyteres.service.config import ServerConfig
from flyteres.service.errors import InvalidRequestError, Violation, summary

# What ListFields() gives for a singular field; anything else is a repeated
# field or a map. (FieldDescriptor.is_repeated only exists from protobuf 6.31 and
# `label` is gone in 7, so the value's type is what works on every runtime.)
_SINGULAR = (Message, str, bytes, int, float)

#: Largest request message, in bytes, by default (ServerConfig.max_request_bytes is the server's setting).
MAX_REQUEST_BYTES = ServerConfig.max_request_bytes
#: Most entries in one map or repeated field.
MAX_ENTRIES = 32
#: Longest string (in characters) or bytes field (in bytes).
MAX_STRING = 1024
#: Most values in a whole request: fields set, map entries and list items, nested ones included.
MAX_VALUES = 128

_LIMIT = "this server's limit"


def check_size(data: bytes, where: str, max_bytes: int = MAX_REQUEST_BYTES) -> None:
    """Refuse a request of more than `max_bytes` bytes before it is parsed."""
    if len(data) > max_bytes:
        violation = Violation(where, f"{len(data)} bytes", f"at most {max_bytes} bytes ({_LIMIT} for one request)")
        raise _refusal([violation])


def check(message: Message, whole: str = "request") -> None:
    """Refuse a parsed request whose entries, strings or values exceed the bounds.

    Violations name fields by their path in `message` ("input.flyte.cpu.request");
    one about the request as a whole (too many values) names `whole`.
    """
    found: list[Violation] = []
    values = _walk(message, "", found)
    if values > MAX_VALUES and not found:
        description = f"at most {MAX_VALUES} values in all: fields set, entries and list items ({_LIMIT})"
        found.append(Violation(whole, f"{values} values", description))
    if found:
        raise _refusal(found)


def _refusal(found: list[Violation]) -> InvalidRequestError:
    return InvalidRequestError(f"request exceeds this server's limits: {summary(found)}", found, malformed=True)


def _walk(message: Message, prefix: str, found: list[Violation]) -> int:
    """The values in `message`; each field past a bound is added to `found` and not looked into.

    Every request goes through this, so field paths are only spelled out for
    nested messages and violations.
    """
    values = 0
    for field, value in message.ListFields():
        if isinstance(value, _SINGULAR):
            values += 1
            if isinstance(value, Message):
                values += _walk(value, f"{prefix}{field.name}.", found)
            elif _too_long(value):
                found.append(_long(f"{prefix}{field.name}", value))
            continue
        if len(value) > MAX_ENTRIES:
            path = prefix + field.name
            found.append(Violation(path, f"{len(value)} entries", f"at most {MAX_ENTRIES} entries ({_LIMIT})"))
            continue
        values += len(value)
        if field.message_type is None:  # a list of scalars
            found.extend(_long(f"{prefix}{field.name}[{i}]", item) for i, item in enumerate(value) if _too_long(item))
        elif field.message_type.GetOptions().map_entry:
            for key, item in value.items():
                if _too_long(key):
                    description = f"keys of at most {MAX_STRING} characters ({_LIMIT})"
                    found.append(Violation(prefix + field.name, f"a key of {len(key)} characters", description))
                elif isinstance(item, Message):
                    values += _walk(item, f"{prefix}{field.name}.{key}.", found)
                elif _too_long(item):
                    found.append(_long(f"{prefix}{field.name}.{key}", item))
        else:
            for index, item in enumerate(value):
                values += _walk(item, f"{prefix}{field.name}[{index}].", found)
        if values > MAX_VALUES:  # no need to look further
            break
    return values


def _too_long(value: object) -> TypeGuard[str | bytes]:
    return isinstance(value, (str, bytes)) and len(value) > MAX_STRING


def _long(path: str, value: str | bytes) -> Violation:
    unit = "characters" if isinstance(value, str) else "bytes"
    return Violation(path, f"{len(value)} {unit}", f"at most {MAX_STRING} {unit} ({_LIMIT})")


__all__ = ["MAX_ENTRIES", "MAX_REQUEST_BYTES", "MAX_STRING", "MAX_VALUES", "check", "check_size"]
