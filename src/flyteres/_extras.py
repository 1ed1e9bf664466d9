"""Optional dependencies: which extra brings each, and the one-line error that says so.

`pip install flyteres` installs only what `import flyteres` and the conversions
between plain values, the IDL and Kubernetes need (protobuf and PyYAML). Every
other dependency belongs to an extra, and code that imports one turns a
missing module into `MissingExtraError`, whose message names the extra:

>>> hint("converting to flyte.Resources", "flyte")
"converting to flyte.Resources needs the flyte extra: pip install 'flyteres[flyte]'"

The error is a `ModuleNotFoundError` with the missing module's `name`, so code
that catches `ImportError` (or reads `exc.name`) keeps working.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal

#: The extras of the distribution (pyproject.toml's optional-dependencies), minus `all` and `dev`.
Extra = Literal["cli", "service", "migrate", "betterproto", "flytekit", "flyte", "idl"]

#: Top-level module -> the extra that installs it. A module of the standard
#: library or of the core never appears here.
EXTRA_OF: Mapping[str, Extra] = MappingProxyType(
    {
        "typer": "cli",
        "click": "cli",
        "rich": "cli",
        "grpc": "service",
        "grpc_status": "service",
        "grpc_health": "service",
        "grpc_reflection": "service",
        "google.rpc": "service",
        "libcst": "migrate",
        "pathspec": "migrate",  # the cli extra brings it too
        "betterproto": "betterproto",
        "grpclib": "betterproto",
        "flytekit": "flytekit",
        "flyte": "flyte",
        "flyteidl": "idl",
        "flyteidl2": "idl",
    }
)


class MissingExtraError(ModuleNotFoundError):
    """An optional dependency is not installed; the message names the extra that brings it."""

    def __init__(self, message: str, *, name: str | None, extra: Extra) -> None:
        super().__init__(message, name=name)
        self.extra = extra


def extra_of(module: str | None) -> Extra | None:
    """The extra that installs `module` (a dotted name), or None when no extra does."""
    if not module:
        return None
    top = module.split(".", maxsplit=1)[0]
    # google is a namespace shared by protobuf (core) and googleapis-common-protos (service).
    key = "google.rpc" if module == "google.rpc" or module.startswith("google.rpc.") else top
    return EXTRA_OF.get(key)


def hint(what: str, extra: Extra) -> str:
    """The one line that says which extra `what` needs."""
    return f"{what} needs the {extra} extra: pip install 'flyteres[{extra}]'"


def missing_extra(exc: ModuleNotFoundError, what: str, extra: Extra | None = None) -> ModuleNotFoundError:
    """The error to raise for `exc`: a MissingExtraError when an extra brings the missing module.

    `extra` defaults to the one that installs `exc.name`; a module no extra
    installs (a broken installation) gives `exc` back unchanged, to be re-raised.
    """
    if isinstance(exc, MissingExtraError):
        return exc
    chosen = extra or extra_of(exc.name)
    if chosen is None:
        return exc
    return MissingExtraError(hint(what, chosen), name=exc.name, extra=chosen)


__all__ = ["EXTRA_OF", "Extra", "MissingExtraError", "extra_of", "hint", "missing_extra"]
