"""The README's examples as a user writes them, type-checked with `mypy --strict` by tests/test_typing.py.

The file is checked, never run or imported by the tests. `assert_type` states
what a user's type checker sees: it fails on `Any` as on any other type than
the one stated, so these lines prove the types are real.
"""

from __future__ import annotations

import flyte
from flytekit import Resources
from flytekit.extras.accelerators import A100
from typing_extensions import assert_type

import flyteres
from flyteres import Conversion, Finding, LossyConversionError, ResourceSpec

# "Using it", line by line.
spec = flyteres.from_flytekit(limits=Resources(gpu="1", mem="600Mi"), accelerator=A100.partition_1g_5gb)
try:
    flyteres.to_flyte(spec)  # LossyConversionError: Flyte 2 cannot say "a limit, no request"
except LossyConversionError as exc:
    assert_type(exc.findings, tuple[Finding, ...])
    rules = [f.rule.value for f in exc.findings]
resources = flyteres.to_flyte(spec, policy="kubernetes")
assert_type(resources, flyte.Resources)
kwargs = flyteres.to_flytekit(flyteres.from_flyte(flyte.Resources(cpu=(1, 2), gpu="A100:1")))
res, ext = flyteres.to_idl(spec, "flyteidl2")  # or "flyteidl" / "flyteres"; from_idl reads any of them, or bytes
pod = flyteres.to_k8s(spec)

# The neutral model takes the documented input: string keys and quantity text (or numbers).
typed = ResourceSpec(requests={"cpu": "1"})
mixed = ResourceSpec(requests={"cpu": 1, "memory": "2Gi"}, limits={flyteres.Resource.MEMORY: "4Gi"})
again = ResourceSpec(requests=mixed.requests, limits={"memory": flyteres.Quantity("4Gi")})
shm = flyteres.SharedMemorySpec(size_limit="1Gi")
same: bool = flyteres.from_idl(res, ext) == spec

# Each target's messages are that target's classes.
ours = flyteres.to_idl(spec)
assert_type(ours, tuple[flyteres.ResourcesPb, flyteres.ExtendedResourcesPb | None])
entries: int = len(ours[0].requests)
device: str | None = None if ours[1] is None else ours[1].gpu_accelerator.device

# Conversions with their findings.
conversion = flyteres.convert_to_flyte(spec, policy="kubernetes")
assert_type(conversion, Conversion[flyte.Resources | None])
lossy: tuple[Finding, ...] = conversion.lossy
