"""Error messages are built lazily and cap every value they echo (issue 17, "CLI and library").

100 MB on `convert`'s stdin once produced a 104,857,810-byte error line, and
`Quantity("0") * 10**5000` raised from Python's int-to-string limit because
the error text was built before the multiplication. Every library error now
quotes at most a bounded prefix of any input, and never converts a huge int
to text; the structured fields keep what the message was built from.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction

import pytest

import flyteres
from flyteres import (
    AcceleratorSpec,
    FlyteresError,
    InvalidPartitionError,
    LossyConversionError,
    Quantity,
    QuantityError,
    ResourceSpec,
    ResourceSpecError,
    UnknownAcceleratorError,
)
from flyteres.core.findings import Finding, Rule

HUGE_TEXT = "x" * 10_000_000
HUGE_INT = 10**5000
MAX_MESSAGE = 2_000


def deep(levels: int) -> object:
    value: object = "1"
    for _ in range(levels):
        value = [value]
    return value


def test_multiplying_by_a_huge_int_gives_the_product() -> None:
    assert Quantity("0") * HUGE_INT == Quantity("0")
    assert HUGE_INT * Quantity("0") == Quantity("0")
    # One significant digit: 10**5000 is fine as a quantity.
    assert Quantity("1") * HUGE_INT == Quantity("1e5000")


RAISES: dict[str, Callable[[], object]] = {
    "1 * (10**5000 + 1)": lambda: Quantity("1") * (HUGE_INT + 1),
    "1 * -(10**5000 + 1)": lambda: Quantity("1") * -(HUGE_INT + 1),
    "1 * Fraction(10**5000, 3)": lambda: Quantity("1") * Fraction(HUGE_INT, 3),
    "1 * a 5000-digit Decimal": lambda: Quantity("1") * Decimal("7" * 5000),
    "a 10 MB quantity": lambda: Quantity.parse("1" + HUGE_TEXT),
    "a 10 MB string of digits": lambda: Quantity.parse("9" * 10_000_000),
    "a huge int quantity": lambda: Quantity.from_value(HUGE_INT),
    "a spec of a 10 MB name": lambda: ResourceSpec(requests={HUGE_TEXT: "1"}),
    "a spec of a 10 MB value": lambda: ResourceSpec(requests={"cpu": HUGE_TEXT}),
    "a spec of a huge int": lambda: ResourceSpec(requests={"cpu": HUGE_INT}),
    "a spec of a deep list": lambda: ResourceSpec(requests={"cpu": deep(100_000)}),
    "a spec of a long list": lambda: ResourceSpec(requests=["cpu"] * 1_000_000),  # type: ignore[arg-type]
    "from_dict of a long list": lambda: ResourceSpec.from_dict(["x"] * 1_000_000),  # type: ignore[arg-type]
    "from_dict of many unknown keys": lambda: ResourceSpec.from_dict({str(i): i for i in range(100_000)}),
    "from_json of a long array": lambda: ResourceSpec.from_json("[" + "1," * 1_000_000 + "1]"),
    "from_json of 10 MB of garbage": lambda: ResourceSpec.from_json(HUGE_TEXT),
    "a request above its limit, both with a million leading zeros": lambda: ResourceSpec(
        requests={"cpu": "0" * 1_000_000 + "2"}, limits={"cpu": "0" * 1_000_000 + "1"}
    ),
    "an unknown 10 MB device": lambda: AcceleratorSpec(HUGE_TEXT),
    "a 10 MB partition": lambda: AcceleratorSpec("nvidia-tesla-a100", partition=HUGE_TEXT),
    "a 10 MB model": lambda: AcceleratorSpec("nvidia-tesla-a100", model=HUGE_TEXT),
    "flytekit with a 10 MB value": lambda: flyteres.from_flytekit(requests={"cpu": HUGE_TEXT}),
    "flytekit with a 10 MB accelerator": lambda: flyteres.from_flytekit(accelerator=HUGE_TEXT),
    "the catalog with a 10 MB spelling": lambda: flyteres.accelerators.resolve(HUGE_TEXT[:100_000]),
    "a 10 MB policy": lambda: flyteres.to_k8s(ResourceSpec(), policy=HUGE_TEXT),  # type: ignore[arg-type]
    "from_idl of 10 MB of garbage": lambda: flyteres.from_idl(b"\xff" * 10_000_000),
}


@pytest.mark.parametrize("make", RAISES.values(), ids=RAISES.keys())
def test_errors_quote_a_bounded_prefix(make: Callable[[], object]) -> None:
    with pytest.raises(FlyteresError) as info:
        make()
    assert isinstance(info.value, ValueError)
    assert len(str(info.value)) <= MAX_MESSAGE, str(info.value)[:300]


def test_the_structured_fields_keep_the_value() -> None:
    with pytest.raises(ResourceSpecError) as info:
        ResourceSpec(requests={"cpu": HUGE_TEXT})
    assert info.value.field == "requests.cpu"
    assert info.value.value == HUGE_TEXT
    assert "[10000000 characters]" in str(info.value)


def test_short_values_are_quoted_whole() -> None:
    assert (
        str(ResourceSpecError("requests.cpu", "-1", "must not be negative"))
        == "requests.cpu = '-1': must not be negative"
    )
    assert str(QuantityError("1GB", "unknown suffix 'GB'")) == "invalid quantity '1GB': unknown suffix 'GB'"
    assert "'nvidia-tesla-zz'" in str(UnknownAcceleratorError("nvidia-tesla-zz"))
    assert "'9g'" in str(InvalidPartitionError("A100", "9g", ["1g.5gb"]))


def test_a_lossy_error_lists_a_bounded_number_of_findings() -> None:
    findings = [Finding(Rule.STORAGE_DROPPED, f"f{i}", HUGE_TEXT, "why", {"strict": "x"}, True) for i in range(1000)]
    error = LossyConversionError("flyte", findings)
    assert len(error.findings) == 1000
    assert len(str(error)) <= 10 * MAX_MESSAGE
    assert "980 more" in str(error)
