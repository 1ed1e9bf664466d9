"""flyteres.Quantity against the Kubernetes Python client's ``kubernetes.utils.parse_quantity``.

Wherever both accept a text they must agree on its value, except where they
differ by design. Each difference is listed here with its reason and the
behaviour of each side is asserted, so a change on either side shows up:

1. Rounding: Kubernetes (the Go API server) rounds every non-zero value up,
   away from zero, to a whole number of nanos; the client keeps the exact
   decimal, so "0.1n" is 1E-10 there and 1n here.
2. Binary cap: the API server caps binary-SI values at 2**63-1; the client
   does not, so "8Ei" is 2**63 there and 2**63-1 here.
3. Precision: the client multiplies by the suffix in Decimal's default
   28-digit context, so long mantissas lose digits there; here values are exact.
4. Leniency: the client hands the number to ``Decimal()``, which accepts text
   the API server rejects (whitespace, "_", "NaN", Unicode digits, an exponent
   and a suffix together, "K", "ni"...). flyteres rejects all of it, as Go does.
5. Bounds: flyteres refuses exponents Go would silently wrap to 32 bits and
   more than MAX_SIGNIFICANT_DIGITS digits; the client takes both. (Every place
   flyteres differs from Go itself is listed in src/flyteres/core/deviations.json.)
6. Numbers: for a float the client uses its exact binary value
   (``Decimal(0.1)``); flyteres uses its shortest repr, the number written.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kubernetes.utils import parse_quantity

from flyteres import Quantity, QuantityError
from flyteres.core.quantity import MAX_SIGNIFICANT_DIGITS

CAP = 2**63 - 1


def exact(q: Quantity) -> Fraction:
    return Fraction(q.as_cores())


def ceil_to_nano(v: Fraction) -> Fraction:
    scaled = abs(v) * 10**9
    whole = -(-scaled // 1)
    return Fraction(whole if v >= 0 else -whole, 10**9)


def as_api_server_stores(client_value: Decimal, text: str) -> Fraction:
    """The client's value after the API server's two adjustments (differences 1 and 2)."""
    v = Fraction(client_value)
    if text.endswith("i") and abs(v) > CAP:
        v = CAP if v > 0 else -CAP
    return ceil_to_nano(v)


AGREE = [
    "0",
    "1",
    "-1",
    "+1",
    "01",
    "1.",
    ".5",
    "-.5",
    "1.5",
    "100m",
    "500m",
    "2500m",
    "1u",
    "1n",
    "1k",
    "1M",
    "100M",
    "1G",
    "2T",
    "3P",
    "4E",
    "10E",
    "1Ki",
    "512Mi",
    "1.5Gi",
    "4Gi",
    "10Gi",
    "0.5Ti",
    "1Pi",
    "7Ei",
    "-2Mi",
    "1e3",
    "2e3",
    "1E3",
    "1e+3",
    "1e-3",
    "12e6",
    "1.5e-7",
    "0.5e0",
    "1e19",
    "1000E",
    "123456789.123456789",
    "99999999999999999999",
]


@pytest.mark.parametrize("text", AGREE)
def test_same_value_as_the_client(text: str) -> None:
    assert exact(Quantity.parse(text)) == Fraction(parse_quantity(text))


@pytest.mark.parametrize(
    ("text", "client", "flyteres"),
    [
        # difference 1: rounding up to the nano
        ("0.1n", Fraction(1, 10**10), Fraction(1, 10**9)),
        ("-0.1n", Fraction(-1, 10**10), Fraction(-1, 10**9)),
        ("1.5n", Fraction(15, 10**10), Fraction(2, 10**9)),
        ("1e-12", Fraction(1, 10**12), Fraction(1, 10**9)),
        ("0.0000000000001Ki", Fraction(1024, 10**13), Fraction(1, 10**9)),
        ("0.0000000001Ki", Fraction(1024, 10**10), Fraction(103, 10**9)),
        # difference 2: the binary-SI cap
        ("8Ei", Fraction(2**63), Fraction(CAP)),
        ("-8Ei", Fraction(-(2**63)), Fraction(-CAP)),
        ("100Ei", Fraction(100 * 2**60), Fraction(CAP)),
    ],
)
def test_documented_adjustments(text: str, client: Fraction, flyteres: Fraction) -> None:
    assert Fraction(parse_quantity(text)) == client
    assert exact(Quantity.parse(text)) == flyteres
    assert as_api_server_stores(parse_quantity(text), text) == flyteres


def test_client_rounds_long_mantissas_to_28_digits() -> None:
    # Difference 3: 30 significant digits times 1024 is rounded by the client.
    text = "1.23456789012345678901234567891Ki"
    written = Fraction(123456789012345678901234567891, 10**29) * 1024
    ours = exact(Quantity.parse(text))
    assert ours == ceil_to_nano(written)
    client = parse_quantity(text)
    assert Fraction(client) != written
    assert len(client.as_tuple().digits) == 28


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("1K", "unknown suffix 'K'"),
        ("1ni", "unknown suffix 'ni'"),
        ("1mi", "unknown suffix 'mi'"),
        ("1e3k", "exponent cannot be followed by a suffix"),
        ("1.5e3Mi", "exponent cannot be followed by a suffix"),
        (" 1", "whitespace"),
        ("1 ", "whitespace"),
        ("1_000", "'_' is not allowed"),
        ("NaN", "not a finite number"),
        ("Infinity", "not a finite number"),
        ("-Infinity", "not a finite number"),
        ("\u0661\u0662", "non-ASCII digit"),
        ("1e4294967296", "32-bit range"),
        ("1e9000000000000000", "32-bit range"),
        ("1" * (MAX_SIGNIFICANT_DIGITS + 1), "significant digits"),
    ],
)
def test_client_accepts_but_kubernetes_rejects(text: str, why: str) -> None:
    """Difference 4 and 5: the client is lenient, flyteres follows the API server."""
    parse_quantity(text)  # no error from the client
    with pytest.raises(QuantityError, match=why):
        Quantity.parse(text)


@pytest.mark.parametrize(
    "text", ["", "m", "Ki", "+", ".", "1e", "1ki", "1GB", "1.2.3", "1Ki5", "0x10", "1e99999999999999999999"]
)
def test_both_reject(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the client raises a bare ValueError
        parse_quantity(text)
    with pytest.raises(QuantityError):
        Quantity.parse(text)


@pytest.mark.parametrize(
    ("value", "client", "flyteres"),
    [
        (2, Fraction(2), Fraction(2)),
        (Decimal("1.5"), Fraction(3, 2), Fraction(3, 2)),
        # difference 6: the float's binary value against its repr
        (0.1, Fraction(0.1), Fraction(1, 10)),
        (1.1, Fraction(1.1), Fraction(11, 10)),
    ],
)
def test_numbers(value: float | Decimal, client: Fraction, flyteres: Fraction) -> None:
    assert Fraction(parse_quantity(value)) == client
    assert exact(Quantity.from_value(value)) == flyteres


# At most nine significant mantissa digits: times 1024**6 (19 digits) that stays
# within the client's 28-digit context, so difference 3 never applies here.
@st.composite
def texts(draw: st.DrawFn) -> str:
    sign = draw(st.sampled_from(["", "+", "-"]))
    whole = draw(st.text("0123456789", max_size=5))
    frac = draw(st.none() | st.text("0123456789", max_size=4))
    if not whole and not frac:
        whole = draw(st.text("0123456789", min_size=1, max_size=3))
    number = whole if frac is None else f"{whole}.{frac}"
    suffix = draw(
        st.sampled_from(["", "n", "u", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"])
        | st.builds(
            lambda letter, sign, power: f"{letter}{sign}{power}",
            st.sampled_from("eE"),
            st.sampled_from(["", "+", "-"]),
            st.integers(0, 40),
        )
    )
    return f"{sign}{number}{suffix}"


@given(texts())
def test_generated_texts_agree_with_the_client(text: str) -> None:
    q = Quantity.parse(text)
    client = parse_quantity(text)  # everything Kubernetes accepts, the client accepts
    assert exact(q) == as_api_server_stores(client, text)


@given(
    st.text(
        st.sampled_from(list("0123456789.+-eEinumkKMGTP xB_")),
        max_size=8,
    )
)
def test_arbitrary_texts_accepted_by_both_agree(text: str) -> None:
    try:
        q = Quantity.parse(text)
    except QuantityError:
        return
    # Whatever flyteres accepts, the client accepts too, with the same value
    # (up to the documented adjustments).
    assert exact(q) == as_api_server_stores(parse_quantity(text), text)
