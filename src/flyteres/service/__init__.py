"""The flyteres gRPC service (flyteres.v2.ResourceService) and its Python client.

The service is a thin layer over the library: `Convert` reads a spec in any
form (flytekit arguments, `flyte.Resources` arguments, Resources and
ExtendedResources messages or bytes, or the neutral model) and answers every
requested form with the findings; `Validate`, `ResolveAccelerator`,
`ListAccelerators` and the streaming `ConvertBatch` complete it. The server
adds the standard health service and server reflection.

>>> from flyteres.service import BackgroundServer, Client, flytekit_input
>>> with BackgroundServer("127.0.0.1:0") as server, Client(server.address) as client:
...     client.convert(flytekit_input(requests={"cpu": "1"}), ["flyte_source"]).flyte.source
"flyte.Resources(cpu='1')"
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from flyteres._extras import missing_extra
from flyteres.service.config import DEFAULT_ADDRESS, ServerConfig

if TYPE_CHECKING:
    from flyteres.service.client import (
        Client,
        FieldViolation,
        ServiceError,
        convert_options,
        flyte_input,
        flytekit_input,
        idl_input,
        spec_input,
    )
    from flyteres.service.server import (
        SERVICE_NAME,
        BackgroundServer,
        JsonFormatter,
        ResourceServer,
        configure_logging,
        create_server,
        serve,
    )
    from flyteres.service.write import flytekit_source

# Everything that needs grpc is imported on first use, so `flyteres --help`
# and the CLI's `serve` registration do not pay for it.
_LAZY = {
    **dict.fromkeys(
        [
            "Client",
            "FieldViolation",
            "ServiceError",
            "convert_options",
            "flyte_input",
            "flytekit_input",
            "idl_input",
            "spec_input",
        ],
        "flyteres.service.client",
    ),
    "flytekit_source": "flyteres.service.write",
    **dict.fromkeys(
        [
            "SERVICE_NAME",
            "BackgroundServer",
            "JsonFormatter",
            "ResourceServer",
            "configure_logging",
            "create_server",
            "serve",
        ],
        "flyteres.service.server",
    ),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'flyteres.service' has no attribute {name!r}")
    try:
        value = getattr(importlib.import_module(module), name)
    except ModuleNotFoundError as exc:
        raise missing_extra(exc, f"flyteres.service.{name}", "service") from None
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_ADDRESS",
    "SERVICE_NAME",
    "BackgroundServer",
    "Client",
    "FieldViolation",
    "JsonFormatter",
    "ResourceServer",
    "ServerConfig",
    "ServiceError",
    "configure_logging",
    "convert_options",
    "create_server",
    "flyte_input",
    "flytekit_input",
    "flytekit_source",
    "idl_input",
    "serve",
    "spec_input",
]
