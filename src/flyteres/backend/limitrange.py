"""What a namespace's LimitRanges do to a one-container pod at admission.

Kubernetes' LimitRanger admission plugin (``plugin/pkg/admission/limitranger/admission.go``
in kubernetes/kubernetes) sees the pod after Flyte built it, in two passes:

1. **Defaulting** (``PodMutateLimitFunc``, for every LimitRange of the
   namespace in turn). ``defaultContainerResourceRequirements`` collects each
   ``type: Container`` item's ``default`` as limits and ``defaultRequest`` as
   requests; ``mergeContainerResources`` writes each one into the container
   only where the key is absent. A key that is present is kept, even the
   explicit ``0`` Flyte writes for cpu or memory when nothing sets them. A
   LimitRange read from a manifest already holds the API server's defaulting
   (a missing ``defaultRequest`` takes ``default``), see
   `flyteres.backend.manifests`.
2. **Validation** (``PodValidateLimitFunc``, per LimitRange; admission stops
   at the first LimitRange that refuses the pod, with every error of that
   one). ``type: Container`` items check each container with
   ``minConstraint``, ``maxConstraint`` and ``limitRequestRatioConstraint``;
   ``type: Pod`` items check the pod's sums (``podRequests``/``podLimits``,
   which for one container are its own values). Comparisons are exact
   (``Quantity.Cmp``), and the messages are Kubernetes' own.

Resources are named as Kubernetes names them (``cpu``, ``memory``,
``ephemeral-storage``, ``nvidia.com/gpu``...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

from flyteres.backend.manifests import LimitRangeItem, LimitRangeSpec
from flyteres.core.quantity import Quantity

__all__ = ["Defaulted", "Violation", "apply_defaults", "validate"]

Side = Literal["requests", "limits"]


@dataclass(frozen=True)
class Defaulted:
    """A value a LimitRange wrote into the container: ``side`` and Kubernetes name, and which key set it."""

    side: Side
    name: str
    value: Quantity
    limitrange: LimitRangeSpec
    item: LimitRangeItem
    key: str  # "default.memory" or "defaultRequest.memory"

    @property
    def where(self) -> str:
        """``path:line`` of the value in the LimitRange."""
        return self.limitrange.where(self.item, self.key)

    def describe(self) -> str:
        """Why the container has this value, for an explanation."""
        what = "default limit" if self.side == "limits" else "default request"
        text = f"set at admission by the LimitRange {self.limitrange.name!r} ({self.where}): its {what}"
        source = self.item.derived.get(self.key)
        if source is not None:
            section = source.split(".", 1)[0]
            text += f" (it sets no {self.key.split('.', 1)[0]}, so Kubernetes uses its {section})"
        return text + " for containers that set none"


@dataclass(frozen=True)
class Violation:
    """One constraint of a LimitRange the pod fails; ``message`` is what Kubernetes says."""

    side: Side
    name: str
    value: Quantity | None
    limitrange: LimitRangeSpec
    item: LimitRangeItem
    key: str  # "max.memory", "min.cpu", "maxLimitRequestRatio.memory"
    message: str

    @property
    def where(self) -> str:
        """``path:line`` of the constraint in the LimitRange."""
        return self.limitrange.where(self.item, self.key)


def apply_defaults(
    requests: dict[str, Quantity], limits: dict[str, Quantity], limitranges: Sequence[LimitRangeSpec]
) -> list[Defaulted]:
    """Write each LimitRange's container defaults into ``requests``/``limits`` where a key is absent.

    >>> from flyteres.backend.manifests import LimitRangeItem, LimitRangeSpec
    >>> lr = LimitRangeSpec("disk", (LimitRangeItem("Container", default={"ephemeral-storage": "2Gi"}),))
    >>> req, lim = {"cpu": Quantity("1")}, {"cpu": Quantity("1")}
    >>> [(d.side, d.name, str(d.value)) for d in apply_defaults(req, lim, [lr])]
    [('limits', 'ephemeral-storage', '2Gi'), ('requests', 'ephemeral-storage', '2Gi')]
    """
    out: list[Defaulted] = []
    for lr in limitranges:
        for item in lr.items:
            if item.type != "Container":
                continue
            # mergeContainerResources does limits first, then requests.
            for side, section, target in (
                ("limits", "default", limits),
                ("requests", "defaultRequest", requests),
            ):
                for name, q in sorted(item.section(section).items()):
                    if name not in target:
                        target[name] = q
                        out.append(Defaulted(side, name, q, lr, item, f"{section}.{name}"))  # type: ignore[arg-type]
    return out


def validate(
    requests: Mapping[str, Quantity], limits: Mapping[str, Quantity], limitranges: Sequence[LimitRangeSpec]
) -> list[Violation]:
    """Every constraint of the first LimitRange that refuses the pod (empty when all admit it).

    >>> from flyteres.backend.manifests import LimitRangeItem, LimitRangeSpec
    >>> lr = LimitRangeSpec("mem", (LimitRangeItem("Container", max={"memory": "4Gi"}),))
    >>> [v.message for v in validate({"memory": Quantity("1Gi")}, {"memory": Quantity("8Gi")}, [lr])]
    ['maximum memory usage per Container is 4Gi, but limit is 8Gi']
    """
    for lr in limitranges:
        found: list[Violation] = []
        for item in lr.items:
            if item.type in ("Container", "Pod"):
                # One container: the pod's sums are its values.
                found += _check(lr, item, requests, limits)
        if found:
            return found
    return []


def _check(
    lr: LimitRangeSpec, item: LimitRangeItem, requests: Mapping[str, Quantity], limits: Mapping[str, Quantity]
) -> list[Violation]:
    out: list[Violation] = []
    per = item.type

    def add(side: Side, name: str, key: str, message: str) -> None:
        value = (requests if side == "requests" else limits).get(name)
        out.append(Violation(side, name, value, lr, item, key, message))

    for name, enforced in sorted(item.min.items()):
        req, lim = requests.get(name), limits.get(name)
        head = f"minimum {name} usage per {per} is {enforced}"
        if req is None:
            add("requests", name, f"min.{name}", f"{head}.  No request is specified")
        elif enforced > req:
            add("requests", name, f"min.{name}", f"{head}, but request is {req}")
        elif lim is not None and enforced > lim:
            add("limits", name, f"min.{name}", f"{head}, but limit is {lim}")
    for name, enforced in sorted(item.max.items()):
        req, lim = requests.get(name), limits.get(name)
        head = f"maximum {name} usage per {per} is {enforced}"
        if lim is None:
            add("limits", name, f"max.{name}", f"{head}.  No limit is specified")
        elif lim > enforced:
            add("limits", name, f"max.{name}", f"{head}, but limit is {lim}")
        elif req is not None and req > enforced:
            add("requests", name, f"max.{name}", f"{head}, but request is {req}")
    for name, enforced in sorted(item.max_limit_request_ratio.items()):
        req, lim = requests.get(name), limits.get(name)
        head = f"{name} max limit to request ratio per {per} is {enforced}"
        key = f"maxLimitRequestRatio.{name}"
        if req is None or req.is_zero():
            add("requests", name, key, f"{head}, but no request is specified or request is 0")
        elif lim is None or lim.is_zero():
            add("limits", name, key, f"{head}, but no limit is specified or limit is 0")
        elif _exceeds(lim, req, enforced):
            add("limits", name, key, f"{head}, but provided ratio is {_ratio(lim, req)}")
    return out


def _exceeds(limit: Quantity, request: Quantity, ratio: Quantity) -> bool:
    """limit > request * ratio, exactly (exceedsAllowed)."""
    return limit > request * ratio.as_cores()


def _ratio(limit: Quantity, request: Quantity) -> str:
    """limit / request to six decimals, half to even, as Kubernetes prints the ratio."""
    try:
        return str((limit.as_cores() / request.as_cores()).quantize(Decimal("0.000001")))
    except (ArithmeticError, InvalidOperation):
        return "(too large to print)"
