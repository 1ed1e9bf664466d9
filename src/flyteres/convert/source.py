"""The SDKs' arguments as Python source text: the one renderer the CLI, the service and the codemod share.

Values are spelled by a `Spelling`: `repr()` by default; the codemod passes
one that reuses the expressions a file already had (a constant's name, its
own quotes) where the value passes through unchanged.

>>> from flyteres.convert.flyte import FlyteArguments, FlyteGpu, GpuForm
>>> flyte_resources(FlyteArguments(cpu=("1", "2"), gpu=FlyteGpu(GpuForm.STRING, 1, "A100")))
"flyte.Resources(cpu=('1', '2'), gpu='A100:1')"
>>> from flyteres.convert.flytekit import FlytekitArguments
>>> flytekit_arguments_source(FlytekitArguments(limits={"mem": "600Mi"}, shared_memory=True))
"limits=Resources(mem='600Mi'), shared_memory=True"
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flyteres.convert.flyte import FlyteArguments, FlyteGpu
    from flyteres.convert.flytekit import FlytekitAccelerator, FlytekitArguments

Value = str | tuple[str, str]


class Spelling:
    """How each value is written. `field` is flytekit's name of the value's field
    (`cpu`, `mem`, `gpu`, `ephemeral_storage`, `shared_memory`), whichever SDK is written."""

    def text(self, field: str, text: str) -> str:
        """A quantity or string value."""
        return repr(text)

    def pair(self, field: str, pair: tuple[str, str]) -> str:
        """A (request, limit) pair."""
        return f"({self.text(field, pair[0])}, {self.text(field, pair[1])})"

    def code(self, source: str) -> str:
        """A whole expression built here (a GPU helper call)."""
        return source

    def value(self, field: str, value: Value | bool) -> str:
        if isinstance(value, tuple):
            return self.pair(field, value)
        if isinstance(value, bool):
            return repr(value)
        return self.text(field, value)


REPR = Spelling()

# flyte.Resources' argument names, in the order flyte writes them, with flytekit's field name.
_FLYTE_FIELDS = (
    ("cpu", "cpu"),
    ("memory", "mem"),
    ("gpu", "gpu"),
    ("disk", "ephemeral_storage"),
    ("shm", "shared_memory"),
)


def flyte_gpu(gpu: FlyteGpu, module: str = "flyte") -> str:
    """`flyte.Resources(gpu=...)`'s value as source: a count, a "NAME:N" string or a helper call."""
    from flyteres.convert.flyte import GpuForm  # noqa: PLC0415 - the converter imports this module

    match gpu.form:
        case GpuForm.COUNT:
            return str(gpu.quantity)
        case GpuForm.STRING:
            return repr(f"{gpu.device}:{gpu.quantity}")
        case GpuForm.GPU:
            tail = f", {gpu.partition!r}" if gpu.partition else ""
            return f"{module}.GPU({gpu.device!r}, {gpu.quantity}{tail})"
        case GpuForm.TPU:
            tail = f", {gpu.partition!r}" if gpu.partition else ""
            return f"{module}.TPU({gpu.device!r}{tail})"
        case GpuForm.DEVICE:
            parts = [f"quantity={gpu.quantity}", f"device_class={gpu.device_class!r}", f"device={gpu.device!r}"]
            if gpu.partition:
                parts.append(f"partition={gpu.partition!r}")
            return f"{module}.Device({', '.join(parts)})"
    return f"{module}.{gpu.form.value}({gpu.device!r})"


def flyte_resources(args: FlyteArguments, module: str = "flyte", spelling: Spelling = REPR) -> str:
    """`flyte.Resources(...)` as source."""
    parts = []
    for key, field in _FLYTE_FIELDS:
        value = getattr(args, key)
        if value is None:
            continue
        if key == "gpu":
            parts.append(f"gpu={spelling.code(flyte_gpu(value, module))}")
        else:
            parts.append(f"{key}={spelling.value(field, value)}")
    return f"{module}.Resources({', '.join(parts)})"


def flytekit_resources(
    values: Mapping[str, Value], callee: str = "Resources", spelling: Spelling = REPR, order: Sequence[str] = ()
) -> str:
    """`Resources(...)` for flytekit: fields in `order` first (as a file wrote them), then the rest."""
    rank = {name: i for i, name in enumerate(order)}
    names = sorted(values, key=lambda n: rank.get(n, len(rank)))
    inner = ", ".join(f"{name}={spelling.value(name, values[name])}" for name in names)
    return f"{callee}({inner})"


def flytekit_accelerator(acc: FlytekitAccelerator, *, exact: bool = False) -> str | None:
    """A flytekit accelerator as source: a constant (with its partition attribute) or
    `GPUAccelerator(device)`. A partition of a device with no flytekit constant has no
    such spelling: None, or with `exact=True` the class `FlytekitAccelerator.build` makes."""
    if acc.constant is not None:
        return f"{acc.constant}.{acc.attribute}" if acc.attribute else acc.constant
    if acc.partition is None and not acc.unpartitioned:
        return f"GPUAccelerator({acc.device!r})"
    if not exact:
        return None
    cls = f"type('ExactAccelerator', (MultiInstanceGPUAccelerator,), {{'device': {acc.device!r}}})"
    return f"{cls}().unpartitioned" if acc.unpartitioned else f"{cls}.partitioned({acc.partition!r})"


def flytekit_arguments_source(
    args: FlytekitArguments, resources_name: str = "Resources", *, exact: bool = False
) -> str | None:
    """The keyword arguments of `@task(...)` as source; None when the accelerator has
    no source spelling (see `flytekit_accelerator`)."""
    parts = []
    for key in ("requests", "limits", "resources"):
        values = getattr(args, key)
        if values:
            parts.append(f"{key}={flytekit_resources(values, resources_name)}")
    if args.accelerator is not None:
        acc = flytekit_accelerator(args.accelerator, exact=exact)
        if acc is None:
            return None
        parts.append(f"accelerator={acc}")
    if args.shared_memory is not None:
        parts.append(f"shared_memory={args.shared_memory!r}")
    return ", ".join(parts)
