"""Conversion speed: flyteres (validation included) against each SDK's own serializer.

Two comparisons on the same inputs, in one run:

1. flytekit: its path from `requests`/`limits`/`accelerator`/`shared_memory`
   objects to serialized flyteidl bytes (`convert_resources_to_resource_model`
   + `construct_extended_resources`) against flyteres's path from the same
   objects to flyteidl2 bytes (`from_flytekit` + `to_idl`).
2. flyte: `get_proto_resources` + `get_proto_extended_resources` from a
   `flyte.Resources` against flyteres's `from_flyte` + `to_idl`.

Prints per-call times and the ratio SDK time / flyteres time (>= 1.0 means
flyteres is at least as fast). Target: >= 1.0 for both.

flyteres remembers the specs it has read (declarations repeat across a
project's tasks) and a spec's serialization. Each path is timed twice:
"first sight", with those memos cleared before every call (quantity and
catalog lookups stay warm, as in any process after its first few specs),
and "repeat", the steady state of converting the declarations again.

    .venv/bin/python benchmarks/convert.py
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import flyte
from flyte._internal.runtime import resources_serde
from flytekit import Resources as R
from flytekit.core.resources import construct_extended_resources, convert_resources_to_resource_model
from flytekit.extras import accelerators as fk

import flyteres
from flyteres.convert._memo import _MEMOS

V1_INPUTS: list[dict[str, Any]] = [
    {"requests": R(cpu="1", mem="2Gi")},
    {"limits": R(mem="600Mi")},
    {"requests": R(cpu="500m", mem="256Mi"), "limits": R(cpu="2", mem="512Mi")},
    {"requests": R(gpu="1", mem="10Gi"), "accelerator": fk.T4},
    {"limits": R(gpu="1"), "accelerator": fk.A100.partition_1g_5gb, "shared_memory": True},
    {"requests": R(cpu="8", mem="32Gi", gpu="4", ephemeral_storage="50Gi"), "accelerator": fk.V5E.slice_2x4},
    {"requests": R(cpu="2", mem="4Gi"), "limits": R(cpu="4", mem="8Gi"), "shared_memory": "2Gi"},
]

V2_INPUTS: list[Any] = [
    flyte.Resources(cpu="1", memory="2Gi"),
    flyte.Resources(cpu=(1, 2), memory=("1Gi", "4Gi")),
    flyte.Resources(gpu="T4:1", memory="10Gi"),
    flyte.Resources(gpu=flyte.GPU("A100", 1, "1g.5gb"), shm="auto"),
    flyte.Resources(cpu="8", memory="32Gi", gpu=flyte.TPU("V5E", "2x4"), disk="50Gi"),
    flyte.Resources(cpu=("2", "4"), memory="4Gi", shm="2Gi"),
]


def flytekit_path(kwargs: dict[str, Any]) -> bytes:
    res = convert_resources_to_resource_model(kwargs.get("requests"), kwargs.get("limits")).to_flyte_idl()
    ext = construct_extended_resources(accelerator=kwargs.get("accelerator"), shared_memory=kwargs.get("shared_memory"))
    return res.SerializeToString() + (b"" if ext is None else ext.SerializeToString())


def flyteres_from_flytekit(kwargs: dict[str, Any]) -> bytes:
    res, ext = flyteres.to_idl(flyteres.from_flytekit(**kwargs), "flyteidl2")
    return res.SerializeToString() + (b"" if ext is None else ext.SerializeToString())


def flyte_path(resources: Any) -> bytes:
    res = resources_serde.get_proto_resources(resources)
    ext = resources_serde.get_proto_extended_resources(resources)
    return (b"" if res is None else res.SerializeToString()) + (b"" if ext is None else ext.SerializeToString())


def flyteres_from_flyte(resources: Any) -> bytes:
    res, ext = flyteres.to_idl(flyteres.from_flyte(resources), "flyteidl2")
    return res.SerializeToString() + (b"" if ext is None else ext.SerializeToString())


def per_call(
    fn: Callable[[Any], bytes],
    inputs: list[Any],
    rounds: int,
    repeats: int = 7,
    before: Callable[[], None] | None = None,
) -> float:
    """Best-of-`repeats` seconds per call over `rounds` passes through `inputs`."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(rounds):
            for item in inputs:
                if before is not None:
                    before()
                fn(item)
        best = min(best, time.perf_counter() - start)
    return best / (rounds * len(inputs))


def forget_specs() -> None:
    for memo in _MEMOS:
        memo.clear()


def main() -> None:
    logging.getLogger("flyte").setLevel(logging.ERROR)
    # Both sides must agree on what they produce before timing anything.
    for kwargs in V1_INPUTS:
        flyteres_from_flytekit(kwargs)
        flytekit_path(kwargs)
    rows = [
        ("flytekit objects -> bytes", flytekit_path, flyteres_from_flytekit, V1_INPUTS),
        ("flyte.Resources -> bytes", flyte_path, flyteres_from_flyte, V2_INPUTS),
    ]
    print(f"{'path':40} {'SDK us/call':>12} {'flyteres us/call':>17} {'SDK/flyteres':>13}  target >= 1.0")
    for label, sdk, ours, inputs in rows:
        sdk_t = per_call(sdk, inputs, 300)
        for mode, before in (("first sight", forget_specs), ("repeat", None)):
            ours_t = per_call(ours, inputs, 300, before=before)
            ratio = sdk_t / ours_t
            verdict = "PASS" if ratio >= 1.0 else "MISS"
            print(f"{label + ', ' + mode:40} {sdk_t * 1e6:12.1f} {ours_t * 1e6:17.1f} {ratio:13.2f}  {verdict}")


if __name__ == "__main__":
    main()
