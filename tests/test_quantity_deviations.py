"""The known deviations of Quantity.parse from Go's ParseQuantity, read from their one data file.

`src/flyteres/core/deviations.json` lists every place where flyteres refuses
text that Go's `resource.ParseQuantity` accepts (issue 13, class 6), as
protovalidate keeps its known conformance failures in one file. Two checks
keep the file true:

- every listed input still behaves as listed: refused, with the listed reason;
- nothing else differs: over generated text, `go_accepts` (a reading of Go's
  `parseQuantityString` and `suffixHandler.interpret`, which decide whether Go
  accepts a text at all) and flyteres agree, except on text one listed
  deviation describes.

Values are compared elsewhere (tests/test_quantity.py, worked out from the Go
source, and tests/test_quantity_kubernetes.py against the kubernetes client).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from importlib import resources
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flyteres import Quantity, QuantityError
from flyteres.core.quantity import MAX_SIGNIFICANT_DIGITS

DATA = json.loads((resources.files("flyteres.core") / "deviations.json").read_text(encoding="utf-8"))
DEVIATIONS = {d["id"]: d for d in DATA["deviations"]}


def text_of(spec: str | dict[str, Any]) -> str:
    """A case's input: a string, or {"repeat": s, "times": n, "then": tail} for long ones."""
    if isinstance(spec, str):
        return spec
    return spec["repeat"] * spec["times"] + spec.get("then", "")


CASES = [
    pytest.param(d["id"], case, id=f"{d['id']}:{text_of(case['input'])[:16]}")
    for d in DATA["deviations"]
    for case in d["cases"]
]


def test_the_file_says_what_and_why_for_each() -> None:
    for deviation in DATA["deviations"]:
        assert set(deviation) == {"id", "summary", "go", "flyteres", "cases"}
        assert deviation["cases"]
        assert all(set(c) == {"input", "go", "reason"} for c in deviation["cases"])


@pytest.mark.parametrize(("deviation", "case"), CASES)
def test_each_listed_input_behaves_as_listed(deviation: str, case: dict[str, Any]) -> None:
    text = text_of(case["input"])
    assert go_accepts(text), "Go accepts every listed input; otherwise it is no deviation"
    assert DEVIATION_OF[deviation](text)
    with pytest.raises(QuantityError) as info:
        Quantity.parse(text)
    assert re.search(case["reason"], info.value.reason), info.value.reason
    if case["go"] == "0":
        # Go's value is stated only where it is short; a zero is a zero in either sign.
        assert deviation == "missing-mantissa"


# -- Go's acceptance, read from parseQuantityString and suffixHandler.interpret ----------------

_DIGITS = "0123456789"
_DECIMAL_SUFFIXES = {"", "n", "u", "m", "k", "M", "G", "T", "P", "E"}
_BINARY_SUFFIXES = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei"}


def _go_parse_int64(text: str) -> int | None:
    """strconv.ParseInt(text, 10, 64): an optional sign and ASCII digits, within int64."""
    body = text[1:] if text[:1] in ("+", "-") else text
    if not body or any(c not in _DIGITS for c in body):
        return None
    value = int(text)
    return value if -(2**63) <= value < 2**63 else None


def _go_interpret(suffix: str) -> bool:
    if suffix in _DECIMAL_SUFFIXES or suffix in _BINARY_SUFFIXES:
        return True
    return len(suffix) > 1 and suffix[0] in "eE" and _go_parse_int64(suffix[1:]) is not None


def go_accepts(text: str) -> bool:
    """Whether resource.ParseQuantity(text) returns no error."""
    if not text:
        return False
    end, pos = len(text), 0
    if text[0] in "+-":
        pos = 1
    while pos < end and text[pos] == "0":  # leading zeros
        pos += 1
    if pos >= end:
        return True
    while pos < end and text[pos] in _DIGITS:  # the numerator
        pos += 1
    if pos >= end:
        return True
    if text[pos] == ".":  # the denominator
        pos += 1
        while pos < end and text[pos] in _DIGITS:
            pos += 1
        if pos >= end:
            return True
    start = pos
    while pos < end and text[pos] in "eEinumkKMGTP":  # the suffix's letters
        pos += 1
    if pos < end:
        if text[pos] in "+-":
            pos += 1
        while pos < end and text[pos] in _DIGITS:
            pos += 1
        if pos < end:
            return False  # ErrFormatWrong
    return _go_interpret(text[start:])


# -- what each deviation covers ---------------------------------------------------------------

_MANTISSA = re.compile(r"[+-]?([0-9]*)\.?([0-9]*)")


def _missing_mantissa(text: str) -> bool:
    m = _MANTISSA.match(text)
    return m is not None and not (m.group(1) or m.group(2))


def _exponent_outside_int32(text: str) -> bool:
    m = re.search(r"[eE]([+-]?[0-9]+)$", text)
    return m is not None and not -(2**31) <= int(m.group(1)) < 2**31


def _too_many_digits(text: str) -> bool:
    m = _MANTISSA.match(text)
    return m is not None and len((m.group(1) + m.group(2)).strip("0")) > MAX_SIGNIFICANT_DIGITS


DEVIATION_OF: dict[str, Callable[[str], bool]] = {
    "missing-mantissa": _missing_mantissa,
    "exponent-outside-int32": _exponent_outside_int32,
    "too-many-digits": _too_many_digits,
}


def test_every_deviation_in_the_file_has_a_description_here() -> None:
    assert set(DEVIATION_OF) == set(DEVIATIONS)


quantity_text = st.text("0123456789.+-eEinumkKMGTPx", max_size=8) | st.builds(
    lambda sign, digits, suffix: sign + digits + suffix,
    st.sampled_from(["", "+", "-"]),
    st.sampled_from(["", ".", "0", "1", "1.5", ".5", "00", "1."]),
    st.sampled_from(["", "m", "Ki", "e3", "E", "e+4294967296", "e-2147483649", "e2147483647", "E-9"]),
)


@settings(max_examples=3000, deadline=None)
@given(quantity_text)
def test_flyteres_and_go_accept_the_same_text_outside_the_listed_deviations(text: str) -> None:
    try:
        Quantity.parse(text)
        ours = True
    except QuantityError:
        ours = False
    theirs = go_accepts(text)
    if ours:
        assert theirs, f"flyteres accepts {text!r}, which Go refuses"
    elif theirs:
        covering = [name for name, covers in DEVIATION_OF.items() if covers(text)]
        assert covering, f"Go accepts {text!r}, flyteres refuses it, and no listed deviation says why"
