"""Findings: what a conversion noticed, each with a stable rule id.

A finding is *lossy* under a policy when the conversion cannot carry the input
faithfully and that policy does not decide it; lossy findings raise
`LossyConversionError`. The others are reported and the conversion goes on.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from enum import Enum
from typing import Generic, TypeVar

from flyteres._errors import SHOWN_LIMIT, LossyConversionError, capped

T = TypeVar("T")


class Rule(str, Enum):
    """Stable identifiers of everything a conversion can report."""

    #: cpu or memory has a limit but no request: Flyte 2 (and flytekit's
    #: resources= form) cannot say that. Kubernetes sets the request to the
    #: limit, and the kubernetes policy writes (limit, limit).
    LIMIT_WITHOUT_REQUEST = "limit-without-request"
    #: An ephemeral-storage limit: Flyte 2's `disk` is a request only.
    EPHEMERAL_STORAGE_LIMIT = "ephemeral-storage-limit"
    #: The legacy STORAGE resource, which the backend ignores.
    STORAGE_DROPPED = "storage-dropped"
    #: A GPU count of zero beside an accelerator, or an accelerator without a count.
    ACCELERATOR_WITHOUT_COUNT = "accelerator-without-count"
    #: A GPU count of "0" with no accelerator: Flyte 2 writes nothing for it.
    ZERO_GPU = "zero-gpu"
    #: `unpartitioned=True` (whole devices only): Flyte 2 cannot say it.
    UNPARTITIONED = "unpartitioned"
    #: The exact device label cannot be kept in the target SDK.
    DEVICE_LABEL_REMAPPED = "device-label-remapped"
    #: The idiomatic device spelling was asked for and changes the node label.
    DEVICE_LABEL_CHANGED = "device-label-changed"
    #: The device class cannot be written in the target (flytekit has none).
    DEVICE_CLASS_DROPPED = "device-class-dropped"
    #: The device class was taken from the catalog (the source had none).
    DEVICE_CLASS_INFERRED = "device-class-inferred"
    #: accelerator_model is set; the target SDK never writes it.
    ACCELERATOR_MODEL_DROPPED = "accelerator-model-dropped"
    #: A partition on a device the target SDK cannot partition.
    PARTITION_INEXPRESSIBLE = "partition-inexpressible"
    #: The GPU count sat in limits only; Flyte 2 writes it as a request
    #: (the same thing: devices always have request == limit).
    GPU_COUNT_PLACEMENT = "gpu-count-placement"
    #: A shared-memory volume name differs between the SDKs.
    SHM_MOUNT_NAME = "shm-mount-name"
    #: A shared-memory mount path other than /dev/shm.
    SHM_MOUNT_PATH = "shm-mount-path"
    #: A shared_memory value flytekit silently ignores (an int, False).
    SHM_IGNORED = "shm-ignored"
    #: An integer memory or storage value: it means bytes.
    INT_BYTES = "int-bytes"
    #: An int or float cpu/gpu value written as its string.
    NUMBER_AS_STRING = "number-as-string"
    #: A GPU count string became an int (Flyte 2 rejects "1").
    GPU_COUNT_TYPE = "gpu-count-type"
    #: A list became a tuple (Flyte 2 rejects lists).
    LIST_AS_TUPLE = "list-as-tuple"
    #: A value flytekit drops at task level (0, "", False).
    FALSY_DROPPED = "falsy-dropped"
    #: A device count the target SDK refuses for this device.
    DEVICE_COUNT = "device-count"
    #: A TPU slice with a device count other than 1 needs flyte.Device.
    TPU_COUNT = "tpu-count"
    #: A shared-memory volume name Kubernetes refuses (not a DNS-1123 label).
    VOLUME_NAME_INVALID = "volume-name-invalid"


@dataclass(frozen=True)
class Finding:
    """One thing a conversion noticed.

    `actions` says what each policy does about it; `lossy` is whether it
    blocks the conversion under the policy that produced it.
    """

    rule: Rule
    field: str
    value: str
    reason: str
    actions: dict[str, str] = dataclass_field(default_factory=dict, hash=False, compare=False)
    lossy: bool = False
    #: Set on a finding made while reading input when it concerns one target
    #: only ("flyte", "flytekit", "k8s"); conversions to other targets leave it out.
    target: str | None = None

    @classmethod
    def note(
        cls, rule: Rule, field: str, value: str, reason: str, *, action: str, target: str | None = None
    ) -> Finding:
        """A finding no policy blocks (every policy does `action`), built without the frozen
        dataclass's field-by-field __init__: readers make one for common input on every call."""
        found = object.__new__(cls)
        vars(found).update(
            rule=rule,
            field=field,
            value=value,
            reason=reason,
            actions={"strict": action, "kubernetes": action},
            lossy=False,
            target=target,
        )
        return found

    def __str__(self) -> str:
        if len(set(self.actions.values())) == 1:
            tail = next(iter(self.actions.values()))
        else:
            tail = "; ".join(f"{policy}: {action}" for policy, action in self.actions.items())
        # The value is an input's text, which can be any length: the line quotes a bounded prefix.
        value = capped(self.value, SHOWN_LIMIT)
        return f"[{self.rule.value}] {self.field} = {value}: {self.reason}" + (f" ({tail})" if tail else "")

    def to_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule.value,
            "field": self.field,
            "value": self.value,
            "reason": self.reason,
            "actions": dict(self.actions),
            "lossy": self.lossy,
            "target": self.target,
        }


def reading_findings(findings: tuple[Finding, ...], target: str) -> list[Finding]:
    """What reading the input noticed that matters for converting to `target`."""
    return [f for f in findings if f.target is None or f.target == target]


@dataclass(frozen=True)
class Conversion(Generic[T]):
    """A converted value with everything the conversion noticed."""

    value: T
    findings: tuple[Finding, ...] = ()

    @property
    def lossy(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.lossy)

    def unwrap(self, target: str) -> T:
        """The value, or `LossyConversionError` listing every lossy finding."""
        if self.lossy:
            raise LossyConversionError(target, self.lossy)
        return self.value
