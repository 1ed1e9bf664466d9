"""flytekit (`@task(requests=, limits=, resources=, accelerator=, shared_memory=)`) ⇄ ResourceSpec.

What flytekit 1.16 puts on the wire (`flytekit/core/utils.py`
`_get_container_definition`, `flytekit/core/resources.py`): each requests/limits
field becomes an entry when it is truthy, passed through without `str()` (so an
int or float crashes the task serializer); `resources=` splits pairs into
(request, limit) and puts a scalar in the request only; `accelerator=` becomes
`accelerator.to_flyte_idl()`; `shared_memory=True` or a string becomes a
volume named `flyte-shared-memory` at /dev/shm, anything else is ignored.
`with_overrides(...)` sends every value that is not None as `str(value)`.

Reading (`from_flytekit`, `from_flytekit_overrides`) lives in
`flyteres.convert._flytekit_read` and is re-exported here; this module writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flyteres._extras import missing_extra
from flyteres.convert._flytekit_read import (
    FLYTEKIT_FIELDS,
    from_flytekit,
    from_flytekit_overrides,
    partition_attribute,
    read_accelerator,
)
from flyteres.convert._shared import (
    catalog_entry,
    finding,
    implied_device_class,
    info,
    request_limit_pair,
    shared_memory_findings,
    storage_findings,
)
from flyteres.core.findings import Conversion, Finding, Rule, reading_findings
from flyteres.core.options import (
    DeviceLabels,
    DeviceLabelsName,
    FlytekitForm,
    FlytekitFormName,
    Policy,
    PolicyName,
)
from flyteres.core.spec import (
    AcceleratorSpec,
    ResourceSpec,
)

__all__ = [
    "FLYTEKIT_FIELDS",
    "FLYTEKIT_SHM_MOUNT_NAME",
    "FlytekitAccelerator",
    "FlytekitArguments",
    "convert_to_flytekit",
    "flytekit_arguments",
    "from_flytekit",
    "from_flytekit_overrides",
    "partition_attribute",
    "read_accelerator",
    "to_flytekit",
]

FLYTEKIT_SHM_MOUNT_NAME = "flyte-shared-memory"


def _flytekit() -> Any:
    try:
        import flytekit  # noqa: PLC0415 - optional extra
    except ModuleNotFoundError as exc:  # tested from a bare wheel (tests/test_packaging.py)
        raise missing_extra(exc, "converting to or from flytekit objects", "flytekit") from None
    return flytekit


_FIELD_OF = {r: name for name, r in FLYTEKIT_FIELDS.items()}


# ---------------------------------------------------------------------------------------------
# ResourceSpec -> flytekit


@dataclass(frozen=True)
class FlytekitAccelerator:
    """How to write an accelerator for flytekit: a constant (with a partition
    attribute) when one produces exactly the device, else `GPUAccelerator(device)`."""

    device: str
    constant: str | None = None
    attribute: str | None = None  # "partition_1g_5gb" | "slice_2x2" | "unpartitioned"
    partition: str | None = None
    unpartitioned: bool = False

    def build(self) -> Any:
        """The real flytekit accelerator object."""
        try:
            from flytekit.extras import accelerators as fk  # noqa: PLC0415 - optional extra
        except ModuleNotFoundError as exc:
            raise missing_extra(exc, "building flytekit accelerator objects", "flytekit") from None

        if self.constant is not None:
            obj = getattr(fk, self.constant)
            return getattr(obj, self.attribute) if self.attribute else obj
        if self.partition is None and not self.unpartitioned:
            return fk.GPUAccelerator(self.device)
        # No constant has this device: a MultiInstanceGPUAccelerator subclass writes
        # exactly the device and partition flytekit's own classes would.
        cls: Any = type("ExactAccelerator", (fk.MultiInstanceGPUAccelerator,), {"device": self.device})
        return cls().unpartitioned if self.unpartitioned else cls.partitioned(self.partition)

    def source(self) -> str | None:
        """Python source for flytekit code (None when only an object can say it)."""
        from flyteres.convert.source import flytekit_accelerator  # noqa: PLC0415 - the renderer imports this module

        return flytekit_accelerator(self)


@dataclass(frozen=True)
class FlytekitArguments:
    """The resource keyword arguments of `@task(...)` / `with_overrides(...)`, SDK-free.

    `requests`/`limits` map flytekit field names to strings; with form
    "resources", `resources` maps them to a string or a (request, limit) pair.
    """

    requests: dict[str, str] | None = None
    limits: dict[str, str] | None = None
    resources: dict[str, str | tuple[str, str]] | None = None
    accelerator: FlytekitAccelerator | None = None
    shared_memory: bool | str | None = None

    def kwargs(self) -> dict[str, Any]:
        flytekit = _flytekit()
        out: dict[str, Any] = {}
        for key in ("requests", "limits", "resources"):
            value = getattr(self, key)
            if value:
                out[key] = flytekit.Resources(**value)
        if self.accelerator is not None:
            out["accelerator"] = self.accelerator.build()
        if self.shared_memory is not None:
            out["shared_memory"] = self.shared_memory
        return out

    def source(self, resources_name: str = "Resources") -> str | None:
        """The keyword arguments as Python source (None when the accelerator
        exists only as an object: a partitioned device without a flytekit constant).

        >>> FlytekitArguments(limits={"mem": "600Mi"}, shared_memory=True).source()
        "limits=Resources(mem='600Mi'), shared_memory=True"
        """
        from flyteres.convert.source import flytekit_arguments_source  # noqa: PLC0415 - see FlytekitAccelerator

        return flytekit_arguments_source(self, resources_name)


def flytekit_arguments(
    spec: ResourceSpec,
    *,
    policy: Policy | PolicyName = Policy.STRICT,
    form: FlytekitForm | FlytekitFormName = FlytekitForm.SPLIT,
    device_labels: DeviceLabels | DeviceLabelsName = DeviceLabels.KEEP,
) -> Conversion[FlytekitArguments]:
    """Decide how each part of `spec` is written for flytekit, with every finding."""
    policy = Policy.parse(policy)
    form = FlytekitForm.parse(form)
    device_labels = DeviceLabels.parse(device_labels)
    findings: list[Finding] = reading_findings(spec.findings, "flytekit")
    findings += storage_findings(spec, "flytekit >= 1.10.3 has no storage field", policy=policy)

    args: dict[str, Any] = {}
    if form is FlytekitForm.SPLIT:
        for key, values in (("requests", spec.requests), ("limits", spec.limits)):
            out = {_FIELD_OF[r]: q.text for r, q in values.items() if r in _FIELD_OF}
            if out:
                args[key] = out
    else:
        unified: dict[str, str | tuple[str, str]] = {}
        for r, name in _FIELD_OF.items():
            value, found = request_limit_pair(
                spec,
                r,
                why_not="flytekit's resources= cannot write a limit without a request (a scalar is a request)",
                policy=policy,
            )
            findings += found
            if value is not None:
                unified[name] = value
        if unified:
            args["resources"] = unified

    if spec.accelerator is not None:
        acc, acc_findings = _accelerator(spec.accelerator, policy, device_labels)
        findings += acc_findings
        args["accelerator"] = acc

    shm = spec.shared_memory
    if shm is not None:
        args["shared_memory"] = True if shm.size_limit is None else shm.size_limit.text
        findings += shared_memory_findings(shm, "flytekit", FLYTEKIT_SHM_MOUNT_NAME, policy=policy)

    return Conversion(FlytekitArguments(**args), tuple(findings))


def _accelerator(
    acc: AcceleratorSpec, policy: Policy, device_labels: DeviceLabels
) -> tuple[FlytekitAccelerator, list[Finding]]:
    findings: list[Finding] = []
    entry = catalog_entry(acc)
    if acc.device_class != implied_device_class(acc.device):
        findings.append(
            finding(
                Rule.DEVICE_CLASS_DROPPED,
                "accelerator.device_class",
                acc.device_class,
                "flytekit cannot send a device class, and this device does not imply it",
                policy=policy,
            )
        )
    if acc.model is not None:
        findings.append(
            finding(
                Rule.ACCELERATOR_MODEL_DROPPED,
                "accelerator.model",
                acc.model,
                "flytekit has no way to set accelerator_model",
                policy=policy,
            )
        )
    device = acc.device
    if entry is not None and entry.flytekit_constant is not None and entry.v1_device != acc.device:
        if device_labels is DeviceLabels.IDIOMATIC and entry.v1_device is not None:
            findings.append(
                info(
                    Rule.DEVICE_LABEL_CHANGED,
                    "accelerator.device",
                    acc.device,
                    f"flytekit's {entry.flytekit_constant} is sent as {entry.v1_device!r}, a different node label",
                    f"device label becomes {entry.v1_device!r}",
                    policy=policy,
                )
            )
            device = entry.v1_device
        else:
            entry = None
    if entry is None or entry.flytekit_constant is None or entry.v1_device != device:
        result = FlytekitAccelerator(device, partition=acc.partition, unpartitioned=acc.unpartitioned)
        return result, findings
    constant = entry.flytekit_constant
    if acc.unpartitioned:
        if entry.partition_kind is None:
            return FlytekitAccelerator(device, unpartitioned=True), findings
        return FlytekitAccelerator(device, constant, "unpartitioned", unpartitioned=True), findings
    if acc.partition is None:
        return FlytekitAccelerator(device, constant), findings
    if acc.partition in entry.v1_partitions:
        attr = partition_attribute(entry, acc.partition)
        return FlytekitAccelerator(device, constant, attr, partition=acc.partition), findings
    return FlytekitAccelerator(device, partition=acc.partition), findings


def convert_to_flytekit(
    spec: ResourceSpec,
    *,
    policy: Policy | PolicyName = Policy.STRICT,
    form: FlytekitForm | FlytekitFormName = FlytekitForm.SPLIT,
    device_labels: DeviceLabels | DeviceLabelsName = DeviceLabels.KEEP,
) -> Conversion[dict[str, Any] | None]:
    """Like `to_flytekit`, but returns the findings too (and does not raise for them)."""
    decided = flytekit_arguments(spec, policy=policy, form=form, device_labels=device_labels)
    if decided.lossy:
        return Conversion(None, decided.findings)
    return Conversion(decided.value.kwargs(), decided.findings)


def to_flytekit(
    spec: ResourceSpec,
    *,
    policy: Policy | PolicyName = Policy.STRICT,
    form: FlytekitForm | FlytekitFormName = FlytekitForm.SPLIT,
    device_labels: DeviceLabels | DeviceLabelsName = DeviceLabels.KEEP,
) -> dict[str, Any]:
    """The keyword arguments `@task(...)` and `with_overrides(...)` take for `spec`.

    Every quantity is a string (flytekit 1.16's task serializer crashes on ints
    and floats). `form="split"` gives `requests=`/`limits=`; `"resources"` gives
    flytekit's single `resources=Resources(cpu=(req, lim), ...)`. Raises
    `LossyConversionError` for what flytekit cannot say under `policy`.

    >>> from flyteres import ResourceSpec
    >>> to_flytekit(ResourceSpec(limits={"memory": "600Mi"}))
    {'limits': Resources(cpu=None, mem='600Mi', gpu=None, ephemeral_storage=None)}
    """
    decided = flytekit_arguments(spec, policy=policy, form=form, device_labels=device_labels)
    return decided.unwrap("flytekit").kwargs()
