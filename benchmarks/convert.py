"""Conversion speed: flyteres (validation included) against each SDK's own serializer.

Two comparisons on the same inputs, in one run:

1. flytekit: its path from `requests`/`limits`/`accelerator`/`shared_memory`
   objects to serialized flyteidl bytes (`convert_resources_to_resource_model`
   + `construct_extended_resources`, which validate nothing) against
   flyteres's path from the same objects to flyteidl2 bytes (`from_flytekit`
   + `to_idl`, every value validated).
2. flyte: `get_proto_resources` + `get_proto_extended_resources` from a
   `flyte.Resources` against flyteres's `from_flyte` + `to_idl`.

Each is timed in two modes:

- "first sight": every conversion memo switched off and every quantity a
  text flyteres has not seen (each input spells its own numbers), so nothing
  is remembered from one call to the next: what the service and `migrate`
  mostly see. Targets: within 2x of flytekit's unvalidated path
  (SDK/flyteres >= 0.5) and no slower than flyte's (>= 1.0).
- "repeat": the same few declarations again and again with the memos on, the
  steady state of a project whose tasks share declarations. Target >= 1.0.

Prints per-call times (this process's CPU time, best of REPEATS passes, the
two sides timed in turns on the same inputs, so that other load on a shared
machine skews the ratio as little as possible), the ratio SDK time / flyteres
time and PASS/MISS against each target side by side. A report: a miss does
not change the exit status.

Measured on a shared 2-core machine (make bench), before and after the
first-sight work of issue 13:

    path                                   first sight     repeat
    flytekit objects -> bytes, before      0.29 (MISS)     1.29
    flytekit objects -> bytes, after       0.59 (PASS)     2.0
    flyte.Resources -> bytes, before       0.41 (MISS)     1.51
    flyte.Resources -> bytes, after        1.05 (PASS)     2.85

    .venv/bin/python benchmarks/convert.py
"""

from __future__ import annotations

import gc
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
from flyteres.convert._memo import set_memo

DISTINCT = 150  # first-sight inputs per template: every quantity text different
REPEATS = 31


def v1_inputs(k: int) -> list[dict[str, Any]]:
    """The flytekit templates, with quantities spelled from `k` (k = 0 gives the common values)."""
    m = 100 + k
    return [
        {"requests": R(cpu=f"{1 + k}", mem=f"{2 + k}Gi")},
        {"limits": R(mem=f"{600 + k}Mi")},
        {"requests": R(cpu=f"{500 + k}m", mem=f"{256 + k}Mi"), "limits": R(cpu=f"{2 + k}", mem=f"{512 + k}Mi")},
        {"requests": R(gpu="1", mem=f"{10 + k}Gi"), "accelerator": fk.T4},
        {"limits": R(gpu="1"), "accelerator": fk.A100.partition_1g_5gb, "shared_memory": True},
        {
            "requests": R(cpu=f"{8 + k}", mem=f"{32 + k}Gi", gpu="4", ephemeral_storage=f"{50 + k}Gi"),
            "accelerator": fk.V5E.slice_2x4,
        },
        {
            "requests": R(cpu=f"{2 + k}", mem=f"{4 + k}Gi"),
            "limits": R(cpu=f"{4 + k}", mem=f"{8 + k}Gi"),
            "shared_memory": f"{m}Mi",
        },
    ]


def v2_inputs(k: int) -> list[Any]:
    """The flyte templates, with quantities spelled from `k`."""
    return [
        flyte.Resources(cpu=f"{1 + k}", memory=f"{2 + k}Gi"),
        flyte.Resources(cpu=(1 + k, 2 + k), memory=(f"{1 + k}Gi", f"{4 + k}Gi")),
        flyte.Resources(gpu="T4:1", memory=f"{10 + k}Gi"),
        flyte.Resources(gpu=flyte.GPU("A100", 1, "1g.5gb"), shm="auto"),
        flyte.Resources(cpu=f"{8 + k}", memory=f"{32 + k}Gi", gpu=flyte.TPU("V5E", "2x4"), disk=f"{50 + k}Gi"),
        flyte.Resources(cpu=(f"{2 + k}", f"{4 + k}"), memory=f"{4 + k}Gi", shm=f"{2 + k}Gi"),
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


def timed(fn: Callable[[Any], bytes], inputs: list[Any], rounds: int = 1) -> float:
    """Seconds per call of one pass (or `rounds` passes) through `inputs`."""
    gc.collect()
    start = time.process_time()
    for _ in range(rounds):
        for item in inputs:
            fn(item)
    return (time.process_time() - start) / (rounds * len(inputs))


def compare(
    sdk: Callable[[Any], bytes], ours: Callable[[Any], bytes], batches: list[list[Any]], *, first_sight: bool
) -> tuple[float, float]:
    """Best seconds per call of each side. The two are timed in turns on the same batch, so a burst
    of load on a shared machine slows both alike instead of skewing the ratio. First sight: the
    memos off and the quantity memo emptied before each pass, and every batch new to flyteres."""
    best_sdk = best_ours = float("inf")
    rounds = 1 if first_sight else 300
    for batch in batches:
        best_sdk = min(best_sdk, timed(sdk, batch, rounds))
        if first_sight:
            set_memo(False)
            flyteres.Quantity.cache_clear()
        try:
            best_ours = min(best_ours, timed(ours, batch, rounds))
        finally:
            set_memo(True)
    return best_sdk, best_ours


def main() -> None:
    logging.getLogger("flyte").setLevel(logging.ERROR)
    # Both sides must agree on what they produce before timing anything.
    for kwargs in v1_inputs(0):
        flyteres_from_flytekit(kwargs)
        flytekit_path(kwargs)
    for resources in v2_inputs(0):
        flyteres_from_flyte(resources)
        flyte_path(resources)
    # First sight: REPEATS disjoint batches, each of DISTINCT spellings of every template.
    v1_batches = [
        [x for k in range(b * DISTINCT, (b + 1) * DISTINCT) for x in v1_inputs(k + 1)] for b in range(REPEATS)
    ]
    v2_batches = [
        [x for k in range(b * DISTINCT, (b + 1) * DISTINCT) for x in v2_inputs(k + 1)] for b in range(REPEATS)
    ]
    rows = [
        ("flytekit objects -> bytes", flytekit_path, flyteres_from_flytekit, v1_inputs(0), v1_batches, 0.5),
        ("flyte.Resources -> bytes", flyte_path, flyteres_from_flyte, v2_inputs(0), v2_batches, 1.0),
    ]
    print(f"{'path':42} {'SDK us/call':>12} {'flyteres us/call':>17} {'SDK/flyteres':>13} {'target':>7}")
    for label, sdk, ours, repeat_inputs, batches, first_target in rows:
        for mode, inputs, target in (
            ("first sight", batches, first_target),
            ("repeat", [repeat_inputs] * REPEATS, 1.0),
        ):
            sdk_t, ours_t = compare(sdk, ours, inputs, first_sight=mode == "first sight")
            ratio = sdk_t / ours_t
            verdict = "PASS" if ratio >= target else "MISS"
            goal = f">= {target}"
            print(
                f"{label + ', ' + mode:42} {sdk_t * 1e6:12.1f} {ours_t * 1e6:17.1f} {ratio:13.2f} {goal:>7}  {verdict}"
            )


if __name__ == "__main__":
    main()
