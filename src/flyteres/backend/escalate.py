"""The next resources after an out-of-memory kill: exact quantity arithmetic, capped by the platform.

Two patterns, both retrying with more memory until a ceiling:

Flyte 2 — catch ``flyte.errors.OOMError`` (flyte 2.12) and call the task again
through ``override``; `override_resources` keeps everything the override does
not change (a bare ``override(resources=...)`` would replace it all)::

    import flyte, flyte.errors
    from flyteres import escalate, from_flyte, to_flyte
    from flyteres.platform import load_platform

    platform = load_platform("admin.yaml")

    @env.task
    async def train_with_retries(data: str) -> str:
        spec = from_flyte(train.resources)
        while True:
            try:
                return await train.override(resources=to_flyte(spec))(data)
            except flyte.errors.OOMError:
                spec = escalate(spec, ceiling=platform)  # EscalationCeilingError once at the cap

flytekit — a workflow cannot catch an OOM, so pass the attempt in and let a
``@dynamic`` size the call; override requests *and* limits, or the request is
clamped to the task's limit::

    @dynamic
    def train_sized(data: str, attempt: int) -> str:
        spec = BASE
        for _ in range(attempt):
            spec = escalate(spec, ceiling="64Gi")
        return train(data=data).with_overrides(**to_flytekit(spec))
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

from flyteres._errors import FlyteresError, ResourceSpecError
from flyteres.backend.config import PlatformConfig
from flyteres.core.quantity import Format, Quantity
from flyteres.core.spec import Resource, ResourceSpec, resource_name

__all__ = ["EscalationCeilingError", "escalate"]

Number = int | float | Decimal | Fraction

# The finest step each resource takes without a fraction Kubernetes would round anyway:
# whole bytes, whole millicores, whole devices.
_STEP = {
    Resource.MEMORY: Quantity.parse("1"),
    Resource.EPHEMERAL_STORAGE: Quantity.parse("1"),
    Resource.STORAGE: Quantity.parse("1"),
    Resource.CPU: Quantity.parse("1m"),
    Resource.GPU: Quantity.parse("1"),
}


class EscalationCeilingError(FlyteresError, ValueError):
    """The resource is already at (or above) the ceiling: there is nothing left to give.

    >>> str(EscalationCeilingError("memory", Quantity("8Gi"), Quantity("8Gi"))).split(";")[0]
    'memory is already at 8Gi, the ceiling 8Gi'
    """

    def __init__(self, resource: str, current: Quantity, ceiling: Quantity) -> None:
        self.resource = resource
        self.current = current
        self.ceiling = ceiling
        at = "at" if current == ceiling else "above"
        super().__init__(
            f"{resource} is already {at} {current}, the ceiling {ceiling}; retrying with more {resource} cannot "
            f"help (raise the ceiling or fix the task's {resource} use)"
        )


def _round_up(q: Quantity, step: Quantity) -> Quantity:
    """The smallest multiple of ``step`` that is >= q, in q's format."""
    ratio = Fraction(q.as_cores()) / Fraction(step.as_cores())
    n = math.ceil(ratio)
    if n == ratio:
        return q
    # Multiplying a quantity keeps its format, so a binary value stays binary ("1536Mi", not "1610612736").
    unit = step if q.format is not Format.BINARY_SI else Quantity.parse("1Ki") * (Fraction(step.as_cores()) / 1024)
    return unit * n


def _ceiling_for(ceiling: Quantity | str | PlatformConfig | None, r: Resource) -> Quantity | None:
    if ceiling is None:
        return None
    if isinstance(ceiling, PlatformConfig):
        return ceiling.limit(r)
    try:
        return Quantity.from_value(ceiling)
    except (ValueError, TypeError) as exc:
        raise ResourceSpecError("ceiling", ceiling, str(exc)) from None


def escalate(
    spec: ResourceSpec,
    *,
    factor: Number = 2,
    resource: str | Resource = "memory",
    ceiling: Quantity | str | PlatformConfig | None = None,
    round_to: Quantity | str | None = None,
) -> ResourceSpec:
    """The spec to retry with after an OOM: the resource's request and limit times ``factor``, capped.

    The arithmetic is exact (no floats) and results are written in Kubernetes'
    canonical spelling in the input's format: ``"2Gi"`` → ``"4Gi"``,
    ``"1536Mi"`` → ``"3Gi"``, ``"1G"`` → ``"2G"``. A result that is not a whole
    byte (memory), millicore (cpu) or device (gpu) is rounded up to one;
    ``round_to="Mi"`` (or any quantity) rounds up to multiples of it instead.
    ``ceiling`` — a quantity or a `PlatformConfig` (its limit for the
    resource) — caps the result; when the current value (the limit, or the
    request without one) already reaches it, `EscalationCeilingError` is
    raised. A spec without the resource starts from the platform default when
    ``ceiling`` is a `PlatformConfig` that has one.

    >>> spec = ResourceSpec(requests={"memory": "1536Mi"}, limits={"memory": "2Gi"})
    >>> escalate(spec)
    ResourceSpec(requests={memory='3Gi'}, limits={memory='4Gi'})
    >>> escalate(spec, ceiling="3Gi")
    ResourceSpec(requests={memory='3Gi'}, limits={memory='3Gi'})
    >>> escalate(ResourceSpec(requests={"memory": "1Gi"}), factor=1.3, round_to="Mi")
    ResourceSpec(requests={memory='1332Mi'})
    """
    r = resource_name(resource)
    if isinstance(factor, bool) or not isinstance(factor, (int, float, Decimal, Fraction)):
        raise ResourceSpecError("factor", factor, "must be a number greater than 1")
    if not factor > 1:
        raise ResourceSpecError("factor", factor, "must be greater than 1 to give the task more")
    cap = _ceiling_for(ceiling, r)
    step = _STEP.get(r, Quantity.parse("1"))
    if round_to is not None:
        # A bare suffix ("Mi") means one of it.
        text = f"1{round_to}" if isinstance(round_to, str) and round_to.isalpha() else round_to
        try:
            step = Quantity.from_value(text)
        except (ValueError, TypeError) as exc:
            raise ResourceSpecError("round_to", round_to, str(exc)) from None
        if step <= Quantity.parse("0"):
            raise ResourceSpecError("round_to", round_to, "must be a positive quantity such as 'Mi' or '256Mi'")

    requests = dict(spec.requests)
    limits = dict(spec.limits)
    req, lim = requests.get(r), limits.get(r)
    if req is None and lim is None:
        start = ceiling.default(r) if isinstance(ceiling, PlatformConfig) else None
        if start is None:
            raise ResourceSpecError(
                f"requests.{r}",
                None,
                f"the spec sets no {r} to escalate; give it one, or pass the PlatformConfig as ceiling to start "
                "from the platform default",
            )
        requests[r] = req = start
    current = lim if lim is not None else req
    assert current is not None  # one of them is set, checked above
    if cap is not None and current >= cap:
        raise EscalationCeilingError(str(r), current, cap)

    def grow(q: Quantity) -> Quantity:
        bigger = _round_up(q * factor, step)
        return bigger if cap is None or bigger <= cap else cap

    if req is not None:
        requests[r] = grow(req)
    if lim is not None:
        limits[r] = grow(lim)
    if r is Resource.GPU and req is not None and lim is not None:
        limits[r] = requests[r]
    return ResourceSpec._from_parts(requests, limits, spec.accelerator, spec.shared_memory, spec.findings)
