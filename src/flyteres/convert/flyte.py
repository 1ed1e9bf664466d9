"""Flyte 2 (`flyte.Resources`) ⇄ ResourceSpec.

What flyte 2.12 puts on the wire (see `flyte/_internal/runtime/resources_serde.py`):
a scalar cpu/memory is a request, a pair is (request, limit); the GPU count is
always a request; `disk` is an ephemeral-storage request; any accelerator
string or Device becomes a GPUAccelerator whose device goes through flyte's
name table; `shm="auto"` is a volume without a size, mounted as `flyte-shm`.

Going the other way, what flyte cannot say is reported: a limit without a
request, an ephemeral-storage limit, `unpartitioned`, an accelerator without a
count, a device label flyte would re-spell.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from flyteres._errors import ResourceSpecError
from flyteres._extras import missing_extra
from flyteres.accelerators import DeviceClass
from flyteres.convert._memo import Memo, Unkeyable, exact_key, register_cache
from flyteres.convert._shared import (
    catalog_entry,
    catalog_entry_for,
    class_from_flyte,
    finding,
    info,
    request_limit_pair,
    shared_memory_findings,
    storage_findings,
    v2_wire_device,
)
from flyteres.core.findings import Conversion, Finding, Rule, reading_findings
from flyteres.core.options import DeviceLabels, DeviceLabelsName, Policy, PolicyName
from flyteres.core.quantity import Quantity
from flyteres.core.spec import (
    AcceleratorSpec,
    Resource,
    ResourceSpec,
    SharedMemorySpec,
    as_quantity,
)

if TYPE_CHECKING:  # an optional extra: imported for its types only, and on first use at run time
    import flyte

FLYTE_SHM_MOUNT_NAME = "flyte-shm"


def _flyte() -> Any:
    # Imported on first use (an optional extra) and then kept: every from_flyte call needs it.
    sdk = _SDK.get("flyte")
    if sdk is None:
        try:
            import flyte  # noqa: PLC0415 - optional extra
        except ModuleNotFoundError as exc:  # tested from a bare wheel (tests/test_packaging.py)
            raise missing_extra(exc, "converting to or from flyte.Resources", "flyte") from None
        sdk = _SDK["flyte"] = flyte
    return sdk


_SDK: dict[str, Any] = {}


# ---------------------------------------------------------------------------------------------
# flyte.Resources -> ResourceSpec


def from_flyte(resources: Any) -> ResourceSpec:
    """Read a real `flyte.Resources` (every `gpu` form) into a ResourceSpec.

    >>> import flyte
    >>> from_flyte(flyte.Resources(cpu=(1, 2), memory="4Gi", gpu="A100:1"))
    ResourceSpec(requests={cpu='1', memory='4Gi', gpu='1'}, limits={cpu='2'}, accelerator=nvidia-tesla-a100)
    """
    flyte = _flyte()
    if not isinstance(resources, flyte.Resources):
        raise ResourceSpecError("resources", resources, "must be a flyte.Resources")
    if not _MEMO.enabled:
        return _from_flyte(resources)
    try:
        key: object = (
            exact_key(resources.cpu),
            exact_key(resources.memory),
            _gpu_key(resources.gpu),
            exact_key(resources.disk),
            exact_key(resources.shm),
        )
    except Unkeyable:  # a value that cannot be spelled exactly: convert (and fail) without the memo
        key = None
    if key is not None:
        cached = _MEMO.get(key)
        if cached is not None:
            return cached  # type: ignore[return-value]  # the memo holds only what this function put
    spec = _from_flyte(resources)
    if key is not None:
        _MEMO.put(key, spec)
    return spec


_MEMO = Memo()


def _gpu_key(gpu: Any) -> object:
    if type(gpu).__name__ != "Device" or not hasattr(gpu, "device_class"):
        return exact_key(gpu)
    # flyte.Device compares its fields with ==, so Device(quantity=2) == Device(quantity=2.0);
    # flyte writes "2" and "2.0". Key each field by type and spelling instead.
    return (
        type(gpu),
        exact_key(gpu.quantity),
        exact_key(gpu.device_class),
        exact_key(gpu.device),
        exact_key(gpu.partition),
    )


def _quantity(where: str, value: object) -> Quantity:
    # Text and ints first, without the generic reader: this runs for every value of every spec.
    if type(value) is str:
        text = value
    elif type(value) is int and -_SMALL_INT < value < _SMALL_INT:
        text = str(value)
    else:
        return as_quantity(where, value)
    try:
        return Quantity.parse(text)
    except ValueError as exc:
        raise ResourceSpecError(where, value, str(exc)) from None


_SMALL_INT = 10**18  # larger ints go through as_quantity, which bounds their digits before printing them
_CPU, _MEMORY, _GPU, _DISK = Resource.CPU, Resource.MEMORY, Resource.GPU, Resource.EPHEMERAL_STORAGE
_AUTO_SHM = SharedMemorySpec()  # shm="auto": immutable, so one serves every spec


def _from_flyte(resources: Any) -> ResourceSpec:
    requests: dict[Resource, Quantity] = {}
    limits: dict[Resource, Quantity] = {}

    cpu, memory = resources.cpu, resources.memory
    if isinstance(cpu, tuple):
        requests[_CPU], limits[_CPU] = _quantity("cpu[0]", cpu[0]), _quantity("cpu[1]", cpu[1])
    elif cpu is not None:
        requests[_CPU] = _quantity("cpu", cpu)
    if isinstance(memory, tuple):
        requests[_MEMORY], limits[_MEMORY] = _quantity("memory[0]", memory[0]), _quantity("memory[1]", memory[1])
    elif memory is not None:
        requests[_MEMORY] = _quantity("memory", memory)

    accelerator = None
    gpu = resources.gpu
    if type(gpu) is int:
        # flyte's get_device() for a count: nothing for 0, a Device of that many GPUs otherwise
        # (flyte.Resources itself refuses a negative count).
        if gpu:
            requests[_GPU] = _quantity("gpu", gpu)
    elif type(gpu) is str:
        requests[_GPU], accelerator = _accelerator_string(resources)
    elif gpu is not None:
        try:
            device = resources.get_device()
        except (ValueError, RuntimeError) as exc:
            raise ResourceSpecError("gpu", gpu, str(exc)) from None
        if device is not None:
            requests[_GPU] = _quantity("gpu", device.quantity)
            if not isinstance(gpu, int):
                accelerator = _device_accelerator(device, gpu)

    disk = resources.disk
    if disk is not None:
        requests[_DISK] = _quantity("disk", disk)

    shared_memory = None
    shm = resources.shm
    if shm is not None:
        # flyte's get_shared_memory(): "auto" (and "", which flyte sends alike) is a volume without
        # a size of its own. The volume name is flyte's own constant: not information about the task.
        shared_memory = _AUTO_SHM if shm in ("auto", "") else SharedMemorySpec._of_size(_quantity("shm", shm))
    return ResourceSpec._from_parts(requests, limits, accelerator, shared_memory)


def _accelerator_string(resources: Any) -> tuple[Quantity, AcceleratorSpec]:
    """An accelerator string ("A100:2") read as flyte reads it. flyte.Resources accepts only the
    strings of its `Accelerators` literal, a fixed set, so each is read once through flyte's own
    get_device() (slow: it walks typing.Literal arguments) and remembered by its exact text."""
    gpu: str = resources.gpu
    hit = _STRINGS.get(gpu)
    if hit is None:
        try:
            device = resources.get_device()
        except (ValueError, RuntimeError) as exc:
            raise ResourceSpecError("gpu", gpu, str(exc)) from None
        hit = (_quantity("gpu", device.quantity), _device_accelerator(device, gpu))
        if len(_STRINGS) >= 512:
            _STRINGS.clear()
        _STRINGS[gpu] = hit
    return hit


_STRINGS: dict[str, tuple[Quantity, AcceleratorSpec]] = {}
register_cache(_STRINGS.clear)


def _device_accelerator(device: Any, gpu: object) -> AcceleratorSpec:
    if device.device is None:
        raise ResourceSpecError("gpu", gpu, "a Device needs a device name for flyte to send")
    for part in ("device", "device_class", "partition"):
        value = getattr(device, part)
        if not isinstance(value, str) and (value is not None or part != "partition"):
            raise ResourceSpecError(f"gpu.{part}", value, "must be a string (flyte cannot send anything else)")
    return _accelerator(device.device, device.device_class, device.partition or None)


@functools.lru_cache(maxsize=1024, typed=True)
def _accelerator(name: str, flyte_class: str, partition: str | None) -> AcceleratorSpec:
    # Few distinct devices recur across a project's tasks; the spec is immutable.
    wire = v2_wire_device(name)
    try:
        device_class = class_from_flyte(flyte_class)
    except ValueError as exc:
        raise ResourceSpecError("gpu.device_class", flyte_class, str(exc)) from None
    return AcceleratorSpec(
        device=wire,
        device_class=device_class,
        partition=partition,
        custom=catalog_entry_for(wire) is None,
    )


register_cache(_accelerator.cache_clear)


# ---------------------------------------------------------------------------------------------
# ResourceSpec -> flyte.Resources


class GpuForm(str, Enum):
    """The ways `flyte.Resources(gpu=...)` can be written; a helper's value is its name in `flyte`."""

    COUNT = "count"  # gpu=2
    STRING = "string"  # gpu="A100:2"
    GPU = "GPU"  # flyte.GPU("A100", 2, "1g.5gb")
    TPU = "TPU"  # flyte.TPU("V5E", "2x2")
    NEURON = "Neuron"
    AMD_GPU = "AMD_GPU"
    HABANA_GAUDI = "HABANA_GAUDI"
    DEVICE = "Device"  # flyte.Device(quantity=..., device_class=..., device=..., partition=...)

    def __str__(self) -> str:
        return self.value


# Helpers that take only a device name (the count is fixed at 1).
_NAME_ONLY_HELPERS = frozenset({GpuForm.NEURON, GpuForm.AMD_GPU, GpuForm.HABANA_GAUDI})
# Catalog helpers (`Accelerator.v2_helper`) that always ask for exactly one device.
_ONE_DEVICE_HELPERS = frozenset(f.value for f in (GpuForm.TPU, *_NAME_ONLY_HELPERS))


@dataclass(frozen=True)
class FlyteGpu:
    """How to write a GPU value for flyte: a count, a "NAME:N" string, a helper
    call (GPU/TPU/Neuron/AMD_GPU/HABANA_GAUDI) or a raw Device."""

    form: GpuForm
    quantity: int
    device: str | None = None
    device_class: str | None = None  # flyte's spelling ("GPU", "TPU"), for Device
    partition: str | None = None

    def build(self) -> Any:
        """The real value for `flyte.Resources(gpu=...)`."""
        flyte = _flyte()
        match self.form:
            case GpuForm.COUNT:
                return self.quantity
            case GpuForm.STRING:
                return f"{self.device}:{self.quantity}"
            case GpuForm.GPU:
                return flyte.GPU(self.device, self.quantity, self.partition)
            case GpuForm.TPU:
                return flyte.TPU(self.device, self.partition)
            case form if form in _NAME_ONLY_HELPERS:
                return getattr(flyte, form.value)(self.device)
        return flyte.Device(
            quantity=self.quantity,
            device_class=self.device_class,
            device=self.device,
            partition=self.partition,
        )

    def source(self, module: str = "flyte") -> str:
        """The same value as Python source, for code generation."""
        from flyteres.convert.source import flyte_gpu  # noqa: PLC0415 - the renderer imports this module

        return flyte_gpu(self, module)


@dataclass(frozen=True)
class FlyteArguments:
    """The keyword arguments of `flyte.Resources(...)`, SDK-free.

    Quantities are the spec's own text; pairs are (request, limit).
    """

    cpu: str | tuple[str, str] | None = None
    memory: str | tuple[str, str] | None = None
    gpu: FlyteGpu | None = None
    disk: str | None = None
    shm: str | None = None

    def kwargs(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ("cpu", "memory", "disk", "shm"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.gpu is not None:
            out["gpu"] = self.gpu.build()
        return out

    def source(self, module: str = "flyte") -> str:
        """`flyte.Resources(...)` as Python source."""
        from flyteres.convert.source import flyte_resources  # noqa: PLC0415 - the renderer imports this module

        return flyte_resources(self, module)


def flyte_arguments(
    spec: ResourceSpec,
    *,
    policy: Policy | PolicyName = Policy.STRICT,
    device_labels: DeviceLabels | DeviceLabelsName = DeviceLabels.KEEP,
) -> Conversion[FlyteArguments]:
    """Decide how each part of `spec` is written for flyte, with every finding.

    Nothing raises here for lossy parts: they are findings with `lossy=True`,
    and `to_flyte` raises on them. Parts that cannot be carried are left out
    of the arguments.
    """
    policy = Policy.parse(policy)
    device_labels = DeviceLabels.parse(device_labels)
    findings: list[Finding] = reading_findings(spec.findings, "flyte")
    args: dict[str, Any] = {}

    for name, key in ((Resource.CPU, "cpu"), (Resource.MEMORY, "memory")):
        value, found = request_limit_pair(
            spec, name, why_not="Flyte 2 has no way to write a limit without a request", policy=policy
        )
        findings += found
        if value is not None:
            args[key] = value

    req, lim = spec.get(Resource.EPHEMERAL_STORAGE)
    if lim is None:
        if req is not None:
            args["disk"] = req.text
    elif req is None:
        findings.append(
            finding(
                Rule.EPHEMERAL_STORAGE_LIMIT,
                "limits.ephemeral_storage",
                lim.text,
                "Flyte 2's disk= is a request only",
                policy=policy,
                kubernetes=f"writes disk={lim.text!r}: the request becomes the limit, as Kubernetes does",
            )
        )
        if policy is Policy.KUBERNETES:
            args["disk"] = lim.text
    else:
        same = req == lim
        findings.append(
            finding(
                Rule.EPHEMERAL_STORAGE_LIMIT,
                "limits.ephemeral_storage",
                lim.text,
                "Flyte 2's disk= is a request only; the limit is not written"
                + ("" if same else f", and it differs from the request {req.text!r}"),
                policy=policy,
                kubernetes=(
                    f"writes disk={req.text!r}: the backend copies the request into the limit" if same else None
                ),
            )
        )
        args["disk"] = req.text

    findings += storage_findings(spec, "the legacy storage resource has no Flyte 2 equivalent", policy=policy)

    gpu, gpu_findings = _gpu(spec, policy, device_labels)
    findings += gpu_findings
    if gpu is not None:
        args["gpu"] = gpu

    shm = spec.shared_memory
    if shm is not None:
        args["shm"] = "auto" if shm.size_limit is None else shm.size_limit.text
        findings += shared_memory_findings(shm, "Flyte 2", FLYTE_SHM_MOUNT_NAME, policy=policy)

    return Conversion(FlyteArguments(**args), tuple(findings))


def _gpu(spec: ResourceSpec, policy: Policy, device_labels: DeviceLabels) -> tuple[FlyteGpu | None, list[Finding]]:
    findings: list[Finding] = []
    req, lim = spec.get(Resource.GPU)
    count_q = req if req is not None else lim
    acc = spec.accelerator
    if req is None and lim is not None:
        findings.append(
            info(
                Rule.GPU_COUNT_PLACEMENT,
                "limits.gpu",
                lim.text,
                "Flyte 2 writes the device count as a request; devices always have request == limit",
                f"gpu count {lim.value()} written as a request",
                policy=policy,
            )
        )
    count = None if count_q is None else count_q.value()

    if acc is None:
        if count is None:
            return None, findings
        if count == 0:
            findings.append(
                finding(
                    Rule.ZERO_GPU,
                    "gpu",
                    count_q.text if count_q is not None else "0",
                    'Flyte 2 writes nothing for gpu=0, where the source had a GPU "0" entry',
                    policy=policy,
                    kubernetes="dropped: the backend drops zero quantities",
                )
            )
            return None, findings
        findings += _count_as_int(count_q, count, policy)
        return FlyteGpu(GpuForm.COUNT, count), findings

    if not count:
        findings.append(
            finding(
                Rule.ACCELERATOR_WITHOUT_COUNT,
                "accelerator",
                acc.device,
                "an accelerator without a device count (or with 0) selects nothing on the Flyte backend; "
                "Flyte 2 needs a count of at least 1 to write one",
                policy=policy,
            )
        )
        return None, findings
    if acc.unpartitioned:
        findings.append(
            finding(
                Rule.UNPARTITIONED,
                "accelerator.unpartitioned",
                "True",
                "Flyte 2 cannot ask for whole (unpartitioned) devices; without it the task may land on "
                "MIG-partitioned nodes",
                policy=policy,
            )
        )
        return None, findings
    if acc.model is not None:
        findings.append(
            finding(
                Rule.ACCELERATOR_MODEL_DROPPED,
                "accelerator.model",
                acc.model,
                "flyte.Resources has no way to set accelerator_model",
                policy=policy,
            )
        )
    findings += _count_as_int(count_q, count, policy)

    if acc.device_class is DeviceClass.APPLE_SILICON and count != 1:
        # flyte.Device refuses it: a Mac has one Metal GPU.
        findings.append(
            finding(
                Rule.DEVICE_COUNT,
                "gpu",
                str(count),
                "Flyte 2 allows exactly one Apple Silicon device",
                policy=policy,
            )
        )
        return None, findings
    entry = catalog_entry(acc)
    flyte_class = acc.device_class.flyte_name
    idiomatic = entry is not None and entry.v2_name is not None and entry.device_class is acc.device_class
    if idiomatic and entry is not None and entry.v2_device != acc.device:
        if device_labels is DeviceLabels.IDIOMATIC:
            findings.append(
                info(
                    Rule.DEVICE_LABEL_CHANGED,
                    "accelerator.device",
                    acc.device,
                    f"the idiomatic Flyte 2 spelling {entry.v2_name!r} is sent as {entry.v2_device!r}, "
                    "a different node label; pods may not schedule where they did",
                    f"device label becomes {entry.v2_device!r}",
                    policy=policy,
                )
            )
        else:
            idiomatic = False
    if idiomatic and entry is not None and entry.v2_name is not None:
        name = entry.v2_name
        if acc.partition is not None and acc.partition not in entry.partitions:
            idiomatic = False
        elif acc.partition is None and count in entry.v2_quantities:
            return FlyteGpu(GpuForm.STRING, count, name), findings
        elif entry.v2_helper == "GPU":
            return FlyteGpu(GpuForm.GPU, count, name, partition=acc.partition), findings
        elif entry.v2_helper in _ONE_DEVICE_HELPERS and count == 1:
            helper = GpuForm(entry.v2_helper)
            if helper is GpuForm.TPU or acc.partition is None:
                return FlyteGpu(helper, count, name, partition=acc.partition), findings
        elif entry.v2_helper == "TPU":
            findings.append(
                info(
                    Rule.TPU_COUNT,
                    "gpu",
                    str(count),
                    "flyte.TPU() fixes the count at 1; flyte.Device carries the count",
                    f"flyte.Device(quantity={count}, device_class='TPU', ...)",
                    policy=policy,
                )
            )
        return FlyteGpu(GpuForm.DEVICE, count, name, flyte_class, acc.partition), findings

    # Keep the exact label: flyte sends a Device's name verbatim unless it is
    # one of the names in its table.
    if v2_wire_device(acc.device) != acc.device:
        findings.append(
            finding(
                Rule.DEVICE_LABEL_REMAPPED,
                "accelerator.device",
                acc.device,
                f"flyte re-spells this device name as {v2_wire_device(acc.device)!r}; the exact label cannot be sent",
                policy=policy,
            )
        )
        return None, findings
    return FlyteGpu(GpuForm.DEVICE, count, acc.device, flyte_class, acc.partition), findings


def _count_as_int(count_q: Quantity | None, count: int, policy: Policy) -> list[Finding]:
    """A count written otherwise than as its int ("1.0", "1e0") is re-spelled for flyte."""
    if count_q is None or count_q.text == str(count):
        return []
    return [
        info(
            Rule.GPU_COUNT_TYPE,
            "gpu",
            count_q.text,
            "Flyte 2 takes the device count as an int",
            f"gpu count {count}",
            policy=policy,
        )
    ]


def convert_to_flyte(
    spec: ResourceSpec,
    *,
    policy: Policy | PolicyName = Policy.STRICT,
    device_labels: DeviceLabels | DeviceLabelsName = DeviceLabels.KEEP,
) -> Conversion[flyte.Resources | None]:
    """Like `to_flyte`, but returns the findings too (and does not raise for them); the value is
    None when a finding is lossy."""
    decided = flyte_arguments(spec, policy=policy, device_labels=device_labels)
    if decided.lossy:
        return Conversion(None, decided.findings)
    resources: flyte.Resources = _flyte().Resources(**decided.value.kwargs())
    return Conversion(resources, decided.findings)


def to_flyte(
    spec: ResourceSpec,
    *,
    policy: Policy | PolicyName = Policy.STRICT,
    device_labels: DeviceLabels | DeviceLabelsName = DeviceLabels.KEEP,
) -> flyte.Resources:
    """A real `flyte.Resources` for `spec`, or `LossyConversionError` listing
    everything Flyte 2 cannot say under `policy`.

    `device_labels="keep"` (default) keeps the node label exactly as it is on
    the wire (a flytekit H100, `nvidia-h100`, becomes
    `flyte.Device(..., device="nvidia-h100")` because flyte's `"H100"` would be
    sent as `nvidia-tesla-h100`); `"idiomatic"` uses flyte's own spelling and
    reports the label change.

    >>> from flyteres import ResourceSpec
    >>> to_flyte(ResourceSpec(requests={"cpu": "1"}, limits={"cpu": "2"}))
    Resources(cpu=('1', '2'), memory=None, gpu=None, disk=None, shm=None)
    """
    decided = flyte_arguments(spec, policy=policy, device_labels=device_labels)
    args = decided.unwrap("flyte.Resources")
    resources: flyte.Resources = _flyte().Resources(**args.kwargs())
    return resources
