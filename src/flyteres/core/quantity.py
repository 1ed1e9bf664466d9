"""Kubernetes resource quantities, computed the way Kubernetes computes them.

The reference is ``k8s.io/apimachinery/pkg/api/resource`` (``Quantity``): the
same grammar, the same rounding (up, away from zero, to the nano), the same cap
on binary-SI values, the same remembered format and the same canonical text.
Every value is held exactly as ``coefficient * 10**exponent`` with Python ints;
no float is ever involved.

Where this module deliberately differs from Go, a comment at the spot says why,
and ``deviations.json`` beside this module lists every difference with inputs,
what Go answers and the reason flyteres gives (a test keeps the list true and
complete). In short: it rejects a few spellings Go accepts only by accident (a
suffix or a sign with no digits, an exponent Go would silently wrap), and it
bounds the work hostile text can cause (significant digits), where Go would
accept the text and then spend unbounded time or memory on it.

One concern, one module, longer than the others on purpose: the grammar, the
rounding, the arithmetic and the canonical text all work on one private
representation, and the parse fast path inlines what helpers would do, since
every conversion runs through it.

>>> q = Quantity.parse("1.5Gi")
>>> str(q), q.text, q.format.value
('1536Mi', '1.5Gi', 'BinarySI')
"""

from __future__ import annotations

import enum
import math
import re
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Final, TypeVar, final

from flyteres._errors import QuantityError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = ["MAX_SIGNIFICANT_DIGITS", "Format", "Quantity", "exceeds", "first_negative"]

_K = TypeVar("_K")


class Format(str, enum.Enum):
    """The three spellings Kubernetes knows; a quantity remembers the one it was written in.

    The values are Go's names, so ``q.format == "BinarySI"`` also works.

    >>> Quantity.parse("4Gi").format is Format.BINARY_SI
    True
    >>> Quantity.parse("2e3").format.value
    'DecimalExponent'
    """

    BINARY_SI = "BinarySI"
    DECIMAL_SI = "DecimalSI"
    DECIMAL_EXPONENT = "DecimalExponent"


#: The most significant digits a quantity may carry (after rounding to the
#: nano). Go has no such bound, but a caller must not be able to make this
#: library build million-digit integers from one string; 1000 digits is far
#: beyond any real request or limit.
MAX_SIGNIFICANT_DIGITS: Final = 1000

_BSI: Final = Format.BINARY_SI
_DSI: Final = Format.DECIMAL_SI
_DEXP: Final = Format.DECIMAL_EXPONENT

_BINARY_CAP: Final = 2**63 - 1
_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1
_INT32_MIN: Final = -(2**31)
_INT32_MAX: Final = 2**31 - 1
_TEN_TO_MAX_DIGITS: Final = 10**MAX_SIGNIFICANT_DIGITS
_NANO: Final = -9
_POW10: Final[tuple[int, ...]] = tuple(10**i for i in range(20))

_DECIMAL_EXPONENTS: Final = {
    "n": -9,
    "u": -6,
    "m": -3,
    "": 0,
    "k": 3,
    "M": 6,
    "G": 9,
    "T": 12,
    "P": 15,
    "E": 18,
}
_DECIMAL_SUFFIXES: Final = {exp: suffix for suffix, exp in _DECIMAL_EXPONENTS.items()}
_BINARY_POWERS: Final = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_BINARY_BITS: Final = {suffix: 10 * power for suffix, power in _BINARY_POWERS.items()}
_BINARY_SUFFIXES: Final = ("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei")

# The fast path keys on the last character: a digit means "no suffix", a
# decimal-SI letter is cut off; (exponent, characters to cut).
_FAST_TAIL: Final = {
    **dict.fromkeys("0123456789", (0, 0)),
    **{s: (e, 1) for s, e in _DECIMAL_EXPONENTS.items() if s},
}

# The whole grammar. At most one of the suffix and the exponent may follow the
# number; "E" alone is exa, "E" followed by digits is an exponent. [0-9] rather
# than \d so that no Unicode digit gets through. Each digit run is captured in a
# lookahead and then matched by reference: that makes it atomic, so a long run
# followed by garbage fails in one pass instead of backtracking digit by digit.
_GRAMMAR: Final = re.compile(
    r"(?P<sign>[+-]?)(?=(?P<whole>[0-9]*))(?P=whole)"
    r"(?:\.(?=(?P<frac>[0-9]*))(?P=frac))?"
    r"(?:(?P<suffix>[KMGTPE]i|[numkMGTPE])|[eE](?=(?P<exponent>[+-]?[0-9]+))(?P=exponent))?"
)
_ANATOMY: Final = re.compile(r"([+-]*)([0-9]*)(\.?)([0-9]*)(.*)", re.DOTALL)
_WHITESPACE: Final = re.compile(r"\s")
_NON_ASCII: Final = re.compile(r"[^\x00-\x7f]")
_SIGNED_DIGITS: Final = re.compile(r"[+-]?[0-9]+")

_CACHE_MAX_TEXT: Final = 64
_cache: dict[str, Quantity] = {}
_cache_get = _cache.get
_cache_size = 4096

# int() on a short string costs several times a dict lookup; the mantissas
# real specs use (after trailing zeros are stripped) are almost all small.
_SMALL_INTS: Final = {str(i): i for i in range(1, 1000)}
_ZEROS: Final = ("", "0", "00")


@final
class Quantity:
    """A Kubernetes resource quantity: exact, immutable, hashable and ordered.

    Build one with :meth:`parse` (text) or :meth:`from_value` (what the SDKs
    accept); ``Quantity(value)`` is the same as ``Quantity.from_value(value)``.
    ``str(q)`` is Kubernetes' canonical form, ``q.text`` the spelling it came
    from. Equality and hashing go by value, whatever the spelling.

    >>> Quantity("1Gi") == Quantity("1024Mi"), str(Quantity("1000m"))
    (True, '1')
    >>> max(Quantity("500m"), Quantity("1")) * 2
    Quantity('2')
    """

    __slots__ = ("_v",)
    # (coefficient, exponent, format, text, canonical text); the coefficient
    # carries the sign and has no trailing zeros, so equal values have equal
    # pairs and the pair can be hashed directly.
    _v: tuple[int, int, Format, str, str]

    def __init__(self, value: int | float | str | Decimal | Quantity) -> None:
        # __init__ rather than __new__: a class that overrides __new__ makes
        # every internal allocation slower. The state is copied from the
        # (memoised) parsed quantity.
        _set_v(self, Quantity.from_value(value)._v)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Quantity is immutable; cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Quantity is immutable; cannot delete {name!r}")

    # -- construction ------------------------------------------------------

    @staticmethod
    def parse(text: str) -> Quantity:  # noqa: PLR0915 - the fast path is inlined on purpose
        """Parse Kubernetes quantity text, exactly as ``resource.ParseQuantity`` does.

        Accepts ``[+-]?(digits[.[digits]]|.digits)`` followed by nothing, a
        decimal-SI suffix (``n u m k M G T P E``), a binary-SI suffix
        (``Ki Mi Gi Ti Pi Ei``) or an exponent (``e3``, ``E-2``). Anything else
        raises :class:`~flyteres.QuantityError` saying what is wrong.

        Results for short texts are memoised (they are immutable, so sharing is
        safe); see :meth:`cache_clear` and :meth:`set_cache_size`.

        >>> Quantity.parse("0.1n")
        Quantity('0.1n')
        >>> str(Quantity.parse("0.1n"))
        '1n'
        >>> Quantity.parse("1GB")
        Traceback (most recent call last):
        ...
        flyteres._errors.QuantityError: invalid quantity '1GB': unknown suffix 'GB'; did you mean 'G' or 'Gi'?
        """
        try:
            q = _cache_get(text)
        except TypeError:
            raise QuantityError(text, f"expected a str, got {type(text).__name__}") from None
        if q is not None:
            return q
        # The common shapes (digits, optionally with one '.', then nothing or a
        # suffix) are handled inline: measured, a function call here is a fifth
        # of the cost of a whole parse. Everything else, including every error,
        # goes through _parse_general, which applies the full grammar; the
        # tests check both paths agree.
        if type(text) is str and 0 < len(text) <= 24 and text.isascii():
            last = text[-1]
            tail = _FAST_TAIL.get(last)
            if tail is not None:
                shift, cut = tail
                body = text[:-1] if cut else text
                if body.isdigit():  # only 0-9 here: the text is ASCII
                    stripped = body.rstrip("0")
                    q = _new(Quantity)
                    if stripped:
                        coef = _SMALL_INTS.get(stripped) or int(stripped)
                        zeros = len(body) - len(stripped)
                        # Exactly when Go reuses the input as its canonical text.
                        if zeros < 3 and body[0] != "0":
                            _set_v(q, (coef, shift + zeros, _DSI, text, text))
                        else:
                            canon = _canonical_decimal(coef, shift + zeros, _DSI)
                            _set_v(q, (coef, shift + zeros, _DSI, text, canon))
                    else:
                        _set_v(q, (0, 0, _DSI, text, "0"))
                elif "." in body:
                    whole, _, frac = body.partition(".")
                    digits = whole + frac
                    exp = shift - len(frac)
                    if exp >= _NANO and digits.isdigit():
                        stripped = digits.rstrip("0")
                        q = _new(Quantity)
                        if stripped:
                            exp += len(digits) - len(stripped)
                            mantissa = stripped.lstrip("0")
                            coef = _SMALL_INTS.get(mantissa) or int(mantissa)
                            # _canonical_decimal's result, built from the digits
                            # (half the cost of formatting the int).
                            lower = exp % 3
                            suffix = _DECIMAL_SUFFIXES.get(exp - lower)
                            if suffix is None:
                                canon = _canonical_decimal(coef, exp, _DSI)
                            else:
                                canon = mantissa + _ZEROS[lower] + suffix
                            _set_v(q, (coef, exp, _DSI, text, canon))
                        else:
                            _set_v(q, (0, 0, _DSI, text, "0"))
                elif not cut:
                    mantissa, e, exponent = body.partition("e")
                    if e and mantissa.isdigit() and exponent.isdigit() and len(exponent) < 10:
                        stripped = mantissa.rstrip("0")
                        q = _new(Quantity)
                        if stripped:
                            coef = _SMALL_INTS.get(stripped) or int(stripped)
                            exp = int(exponent) + len(mantissa) - len(stripped)
                            _set_v(q, (coef, exp, _DEXP, text, _canonical_decimal(coef, exp, _DEXP)))
                        else:
                            _set_v(q, (0, 0, _DEXP, text, "0"))
            elif last == "i":
                bits = _BINARY_BITS.get(text[-2:])
                if bits is not None:
                    body = text[:-2]
                    if body.isdigit():
                        d = _SMALL_INTS.get(body) or int(body)
                        n = d << bits
                        if 0 < n <= _BINARY_CAP:
                            exp = 0
                            while n % 10 == 0:  # a few zeros at most below 2**63
                                n //= 10
                                exp += 1
                            q = _new(Quantity)
                            # Exactly `bits / 10` factors of 1024 and no leading
                            # zero: the text is already canonical.
                            if d & 1023 and body[0] != "0":
                                _set_v(q, (n, exp, _BSI, text, text))
                            else:
                                _set_v(q, (n, exp, _BSI, text, _canonical(n, exp, _BSI)))
        if q is None:
            q = _parse_general(text)
        if _cache_size and type(text) is str and len(text) <= _CACHE_MAX_TEXT:
            # Clearing when full keeps the bound without LRU bookkeeping;
            # real specs repeat a few dozen distinct strings.
            if len(_cache) >= _cache_size:
                _cache.clear()
            _cache[text] = q
        return q

    @staticmethod
    def cache_clear() -> None:
        """Forget every memoised :meth:`parse` result (for benchmarks and tests).

        >>> Quantity.cache_clear()
        """
        _cache.clear()

    @staticmethod
    def set_cache_size(entries: int) -> None:
        """Bound the :meth:`parse` memo to ``entries`` texts; ``0`` turns it off.

        The memo also never keeps texts longer than 64 characters, so hostile
        input cannot pin memory through it. The default is 4096 entries.

        >>> Quantity.set_cache_size(0); Quantity.set_cache_size(4096)
        """
        global _cache_size  # noqa: PLW0603 - one switch read on every cache miss
        if isinstance(entries, bool) or not isinstance(entries, int) or entries < 0:
            raise ValueError(f"cache size must be a non-negative int, got {entries!r}")
        _cache_size = entries
        _cache.clear()

    @staticmethod
    def from_value(value: int | float | str | Decimal | Quantity) -> Quantity:
        """Make a quantity from what the SDKs accept: ``int``, ``float``, ``str`` or ``Decimal``.

        ``text`` becomes what the SDK would send (``str(value)``; for a float its
        shortest repr, so ``0.1`` is exactly one tenth). ``bool``, NaN and
        infinities are rejected; a ``Quantity`` is returned unchanged.

        >>> Quantity.from_value(0.5).text, str(Quantity.from_value(0.5))
        ('0.5', '500m')
        >>> str(Quantity.from_value(Decimal("1E+3")))
        '1e3'
        """
        if isinstance(value, Quantity):
            return value
        if isinstance(value, str):
            return Quantity.parse(value)
        if isinstance(value, bool):
            # bool is an int subclass, but True meaning "1" is always a mistake.
            raise QuantityError(value, "a bool is not a quantity")
        if isinstance(value, int):
            if value.bit_length() > _MAX_INT_BITS:
                raise QuantityError(_shown(value), f"more than {MAX_SIGNIFICANT_DIGITS} significant digits")
            return Quantity.parse(str(int(value)))
        if isinstance(value, float):
            if not math.isfinite(value):
                raise QuantityError(value, "not a finite number")
            # The shortest repr is what the user typed and what the SDKs send.
            return Quantity.parse(float.__repr__(value))
        if isinstance(value, Decimal):
            if not value.is_finite():
                raise QuantityError(value, "not a finite number")
            return Quantity.parse(str(value))
        raise QuantityError(
            _shown(value),
            f"cannot make a quantity from {type(value).__name__}; use str, int, float or Decimal",
        )

    # -- views -------------------------------------------------------------

    @property
    def text(self) -> str:
        """The spelling this quantity came from (canonical text for computed results).

        >>> Quantity.parse("1024Mi").text
        '1024Mi'
        """
        return self._v[3]

    @property
    def format(self) -> Format:
        """The remembered :class:`Format` (a binary value strictly between -1 and 1 is decimal SI).

        >>> Quantity.parse("512Mi").format, Quantity.parse("0.5Ki").format, Quantity.parse("0.0001Ki").format
        (<Format.BINARY_SI: 'BinarySI'>, <Format.BINARY_SI: 'BinarySI'>, <Format.DECIMAL_SI: 'DecimalSI'>)
        """
        return self._v[2]

    def is_zero(self) -> bool:
        """Whether the value is zero.

        >>> Quantity.parse("-0.0Ki").is_zero()
        True
        """
        return self._v[0] == 0

    def is_negative(self) -> bool:
        """Whether the value is below zero ("-0" is not).

        >>> Quantity.parse("-1m").is_negative(), Quantity.parse("-0").is_negative()
        (True, False)
        """
        return self._v[0] < 0

    def is_integer(self) -> bool:
        """Whether the value is a whole number (without building the integer, however large).

        >>> [Quantity.parse(s).is_integer() for s in ("2k", "1500m", "1e999")]
        [True, False, True]
        """
        # The coefficient has no trailing zeros, so a negative exponent always leaves a fraction.
        return self._v[1] >= 0 or self._v[0] == 0

    def value(self) -> int:
        """The value as an int, rounded up away from zero like Go's ``Value()``.

        Raises ``OverflowError`` past :data:`MAX_SIGNIFICANT_DIGITS` digits
        (where Go's int64 would saturate).

        >>> Quantity.parse("100m").value(), Quantity.parse("-1.5").value()
        (1, -2)
        """
        return _ceil_int(self, 0)

    def milli_value(self) -> int:
        """The value in thousandths, rounded up away from zero like Go's ``MilliValue()``.

        >>> Quantity.parse("1.5").milli_value(), Quantity.parse("0.1m").milli_value()
        (1500, 1)
        """
        return _ceil_int(self, 3)

    def as_bytes(self) -> int:
        """The value as a byte count: an int, fractions rounded up (away from zero).

        >>> Quantity.parse("1.5Gi").as_bytes(), Quantity.parse("0.5").as_bytes()
        (1610612736, 1)
        """
        return _ceil_int(self, 0)

    def as_cores(self) -> Decimal:
        """The exact value as a ``Decimal`` (CPU cores for a CPU quantity).

        ``Decimal`` rather than ``Fraction``: every quantity is a finite decimal,
        so it is exact, it stays cheap for huge exponents (``1e2000000000`` is
        not expanded) and it matches what ``kubernetes.utils.parse_quantity``
        returns.

        >>> Quantity.parse("250m").as_cores()
        Decimal('0.25')
        """
        coef, exp = self._v[0], self._v[1]
        # A tuple (not a string) keeps exponents beyond Decimal's default
        # context limits valid too.
        digits = tuple(int(d) for d in str(abs(coef)))
        return Decimal((1 if coef < 0 else 0, digits, exp))

    # -- protocol ------------------------------------------------------------

    def __str__(self) -> str:
        return self._v[4]

    def __repr__(self) -> str:
        return f"Quantity({self._v[3]!r})"

    def __hash__(self) -> int:
        v = self._v
        return hash((v[0], v[1]))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        a, b = self._v, other._v
        return a[0] == b[0] and a[1] == b[1]

    def __ne__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        a, b = self._v, other._v
        return a[0] != b[0] or a[1] != b[1]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return _compare(self._v, other._v) < 0

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return _compare(self._v, other._v) <= 0

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return _compare(self._v, other._v) > 0

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return _compare(self._v, other._v) >= 0

    def __bool__(self) -> bool:
        return self._v[0] != 0

    def __add__(self, other: object) -> Quantity:
        if not isinstance(other, Quantity):
            return NotImplemented
        return _add(self, other, 1)

    def __radd__(self, other: object) -> Quantity:
        # Only so that sum() works: its start value is the int 0.
        if type(other) is int and other == 0:
            return self
        return NotImplemented

    def __sub__(self, other: object) -> Quantity:
        if not isinstance(other, Quantity):
            return NotImplemented
        return _add(self, other, -1)

    def __neg__(self) -> Quantity:
        coef, exp, fmt = self._v[0], self._v[1], self._v[2]
        return _make(-coef, exp, fmt, None)

    def __pos__(self) -> Quantity:
        return self

    def __abs__(self) -> Quantity:
        return -self if self._v[0] < 0 else self

    def __mul__(self, other: object) -> Quantity:
        factor = _as_factor(self, other)
        if factor is None:
            return NotImplemented
        return _multiply(self, *factor)

    __rmul__ = __mul__

    def __reduce__(self) -> tuple[Callable[[int, int, str, str], Quantity], tuple[int, int, str, str]]:
        coef, exp, fmt, text = self._v[:4]
        return _restore, (coef, exp, fmt.value, text)

    def __copy__(self) -> Quantity:
        return self

    def __deepcopy__(self, memo: Any) -> Quantity:
        return self


_new = object.__new__
_set_v: Callable[[Quantity, tuple[int, int, Format, str, str]], None] = Quantity.__dict__["_v"].__set__
_MAX_INT_BITS: Final = MAX_SIGNIFICANT_DIGITS * 33219 // 10000 + 1  # bits of the largest 1000-digit int


def _make(coef: int, exp: int, fmt: Format, text: str | None) -> Quantity:
    canon = _canonical(coef, exp, fmt)
    q = _new(Quantity)
    _set_v(q, (coef, exp, fmt, canon if text is None else text, canon))
    return q


def _restore(coef: int, exp: int, fmt: str, text: str) -> Quantity:
    return _make(coef, exp, Format(fmt), text)


def _shown(value: object) -> object:
    """What an error quotes: the value itself, or a prefix of a huge one."""
    text = value if isinstance(value, str) else None
    if text is None and isinstance(value, int) and value.bit_length() > 1000:
        return f"<int with {value.bit_length()} bits>"
    if text is not None and len(text) > 200:
        return f"{text[:80]}... [{len(text)} characters]"
    return value


# -- parsing ---------------------------------------------------------------


def _parse_general(text: str) -> Quantity:
    if not isinstance(text, str):
        raise QuantityError(
            _shown(text), f"expected a str, got {type(text).__name__}; use Quantity.from_value() for numbers"
        )
    if type(text) is not str:
        text = str.__str__(text)
    m = _GRAMMAR.fullmatch(text)
    # Go's scanner reads a missing mantissa ("m", "Ki", "+", ".") as zero. That
    # only ever hides a typo, so flyteres rejects it (deviations.json, missing-mantissa).
    if m is None or not (m["whole"] or m["frac"]):
        raise QuantityError(_shown(text), _diagnose(text))
    sign, whole, frac, suffix, exponent = m.group("sign", "whole", "frac", "suffix", "exponent")
    frac = frac or ""
    if exponent is not None:
        fmt = _DEXP
        coef, exp = _decimal_magnitude(text, whole, frac, _parse_exponent(text, exponent))
    elif suffix and suffix[-1] == "i":
        coef, exp = _binary_magnitude(whole, frac, _BINARY_POWERS[suffix])
        # Go: a binary value strictly between 0 and 1 becomes decimal SI, since
        # there is no binary spelling for it.
        fmt = _DSI if exp < 0 and 0 < coef < 10**-exp else _BSI
    else:
        fmt = _DSI
        coef, exp = _decimal_magnitude(text, whole, frac, _DECIMAL_EXPONENTS[suffix or ""])
    if sign == "-":
        coef = -coef
    return _make(coef, exp, fmt, text)


def _parse_exponent(text: str, exponent: str) -> int:
    digits = exponent.lstrip("+-").lstrip("0")
    # Go parses the exponent with strconv.ParseInt(..., 64): anything wider is
    # an error there too. Checking the length first keeps a million-digit
    # exponent from being converted at all.
    if len(digits) > 19:
        raise QuantityError(_shown(text), f"exponent {_short(exponent)} does not fit in 64 bits")
    value = int(digits or "0")
    if exponent.startswith("-"):
        value = -value
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise QuantityError(_shown(text), f"exponent {exponent} does not fit in 64 bits")
    # Deliberate difference (deviations.json, exponent-outside-int32): Go then
    # truncates the exponent to int32 without a check, so "1e4294967296" means 1
    # there. Sending such text on would make Kubernetes read a different number
    # than the one written, so refuse it.
    if not _INT32_MIN <= value <= _INT32_MAX:
        wrapped = (value - _INT32_MIN) % 2**32 + _INT32_MIN
        raise QuantityError(
            _shown(text),
            f"exponent {value} is outside the 32-bit range Kubernetes keeps (it would silently become {wrapped})",
        )
    return value


def _decimal_magnitude(text: str, whole: str, frac: str, shift: int) -> tuple[int, int]:
    """|whole.frac| * 10**shift rounded up to the nano, as a normalised (coefficient, exponent).

    Decimal values are not capped (Go keeps them in an arbitrary-precision
    inf.Dec past int64), so only the digit count is bounded here.
    """
    digits = (whole + frac).lstrip("0")
    if not digits:
        return 0, 0
    body = digits.rstrip("0")
    exp = shift - len(frac) + len(digits) - len(body)
    if exp < _NANO:
        # Go rounds every non-zero value up, away from zero, to a whole number
        # of nanos, so that a request for "a little" still gets something.
        keep = len(body) + exp - _NANO
        if keep <= 0:
            return 1, _NANO
        head = body[:keep]
        _check_digits(text, len(head))
        # The dropped tail ends in a non-zero digit, so it is never zero.
        return _normalize(int(head) + 1, _NANO)
    _check_digits(text, len(body))
    return int(body), exp


def _binary_magnitude(whole: str, frac: str, power: int) -> tuple[int, int]:
    """|whole.frac| * 1024**power rounded up to the nano and capped at 2**63-1."""
    digits = (whole + frac).lstrip("0")
    if not digits:
        return 0, 0
    body = digits.rstrip("0")
    exp = len(digits) - len(body) - len(frac)
    # At least 10**19 before the multiplier already exceeds the cap.
    if len(body) + exp > 19:
        return _BINARY_CAP, 0
    # Fraction digits below 10**-70 cannot move the result by more than one
    # nano after multiplying by at most 2**60, so keep those above and only
    # remember whether anything non-zero was dropped.
    dropped = False
    if exp < -70:
        keep = len(body) + exp + 70
        body = body[:keep] if keep > 0 else ""
        exp = -70
        dropped = True
    n = int(body or "0") << (10 * power)
    if exp < _NANO:
        n, rest = divmod(n, 10 ** (_NANO - exp))
        if rest or dropped:
            n += 1
        exp = _NANO
    if (n * 10**exp if exp >= 0 else n) > (_BINARY_CAP if exp >= 0 else _BINARY_CAP * 10**-exp):
        # Go caps binary-SI values (and only those) at int64's maximum.
        return _BINARY_CAP, 0
    return _normalize(n, exp)


def _check_digits(text: str, count: int) -> None:
    if count > MAX_SIGNIFICANT_DIGITS:
        # Deliberate difference (deviations.json, too-many-digits): Go accepts any
        # number of digits; flyteres bounds the integers it builds from text.
        raise QuantityError(_shown(text), f"{count} significant digits; at most {MAX_SIGNIFICANT_DIGITS} are supported")


def _short(s: str) -> str:
    return s if len(s) <= 24 else f"{s[:20]}...({len(s)} characters)"


def _diagnose(text: str) -> str:
    """Say what is wrong with text the grammar rejected."""
    if not text:
        return "empty string; a quantity needs at least one digit, such as '0'"
    ws = _WHITESPACE.search(text)
    if ws is not None:
        where = "leading" if ws.start() == 0 else "trailing" if ws.end() == len(text) else "inner"
        return f"{where} whitespace at position {ws.start()}; Kubernetes does not trim quantities"
    odd = _NON_ASCII.search(text)
    if odd is not None:
        ch = odd.group()
        kind = "digit" if ch.isdigit() else "character"
        return f"non-ASCII {kind} {ch!r} at position {odd.start()}; only the ASCII digits 0-9 are allowed"
    if text.lstrip("+-").lower() in ("nan", "inf", "infinity"):
        return "not a finite number"
    if "_" in text:
        return "'_' is not allowed; write the digits without separators"
    if "," in text:
        return "',' is not allowed; use '.' as the decimal point and no thousands separators"
    anatomy = _ANATOMY.fullmatch(text)
    assert anatomy is not None  # the pattern matches every string
    signs, whole, _, frac, rest = anatomy.groups()
    if len(signs) > 1:
        return "more than one sign"
    if not whole and not frac:
        if not rest or rest.startswith("."):
            return "no digits"
        # Go would read this as 0; that only hides a forgotten number.
        return f"no number before the suffix {_short(rest)!r}"
    if rest.startswith("."):
        return "more than one '.'"
    if rest[0] in "eE":
        after = rest[1:]
        if not after:
            return "'e' must be followed by a whole-number exponent, such as '1e3' (exa is 'E')"
        head = _SIGNED_DIGITS.match(after)
        if head is not None:
            tail = after[head.end() :]
            if tail.startswith("."):
                return "the exponent must be a whole number"
            return f"an exponent cannot be followed by a suffix ({_short(tail)!r})"
        if after in ("+", "-"):
            return "the exponent has no digits"
    return _unknown_suffix(rest)


def _unknown_suffix(suffix: str) -> str:
    if suffix in ("B", "b"):
        return "unknown suffix 'B'; quantities are plain numbers of bytes, so drop it (or use k, M, G, Ki, Mi, Gi)"
    core = suffix[:-1] if len(suffix) > 1 and suffix[-1] in "Bb" else suffix
    low = core.lower()
    candidates = [s for s in _BINARY_SUFFIXES[1:] if s.lower() == low]
    if len(core) == 1:
        candidates += [s for s in _DECIMAL_EXPONENTS if s and s.lower() == low]
        candidates += [s for s in _BINARY_SUFFIXES[1:] if s[0].lower() == low]
    candidates = list(dict.fromkeys(c for c in candidates if c != suffix))
    shown = _short(suffix)
    if not candidates:
        return (
            f"unknown suffix {shown!r}; use one of n, u, m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei "
            "or an exponent such as e3"
        )
    quoted = [repr(c) for c in candidates]
    choice = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
    note = " (suffixes are case-sensitive)" if any(c.lower() == suffix.lower() for c in candidates) else ""
    return f"unknown suffix {shown!r}{note}; did you mean {choice}?"


# -- canonical text -------------------------------------------------------


def _canonical(coef: int, exp: int, fmt: Format) -> str:
    """Go's CanonicalizeBytes: the text Kubernetes writes back for this value."""
    if coef == 0:
        return "0"
    if fmt is _BSI:
        # Binary spelling only for whole values of at least 1024 in magnitude;
        # the normalised coefficient has no trailing zeros, so exp >= 0 means whole.
        if exp >= 0 and (exp >= 4 or abs(coef) * 10**exp >= 1024):
            twos = (coef & -coef).bit_length() - 1 + exp
            power = twos // 10
            if power >= len(_BINARY_SUFFIXES):
                # Past Ei Kubernetes (since PR #140459) falls back to the
                # exponent form rather than dropping the suffix.
                return _canonical_decimal(coef, exp, _DEXP)
            # power <= 6 implies exp < 70, so this integer stays small.
            return f"{(coef * 10**exp) >> (10 * power)}{_BINARY_SUFFIXES[power]}"
        fmt = _DSI
    return _canonical_decimal(coef, exp, fmt)


def _canonical_decimal(coef: int, exp: int, fmt: Format) -> str:
    # Lower the exponent to a multiple of three, as Go does, without ever
    # writing a fractional digit.
    lower = exp % 3
    if lower:
        coef *= 10 if lower == 1 else 100
        exp -= lower
    if fmt is _DSI:
        suffix = _DECIMAL_SUFFIXES.get(exp)
        if suffix is not None:
            return f"{coef}{suffix}"
        # Beyond E: Kubernetes (since PR #140459) writes the exponent form;
        # older releases dropped the suffix and so printed a wrong number.
    return f"{coef}e{exp}" if exp else str(coef)


# -- arithmetic ------------------------------------------------------------


def _normalize(coef: int, exp: int) -> tuple[int, int]:
    if coef == 0:
        return 0, 0
    if coef % 10:
        return coef, exp
    while coef % 100000000 == 0:
        coef //= 100000000
        exp += 8
    while coef % 10 == 0:
        coef //= 10
        exp += 1
    return coef, exp


def _ndigits(n: int) -> int:
    """Decimal digits of |n| (0 for 0), without converting a big int to text."""
    n = abs(n)
    # bit_length * log10(2), in integers, overestimates floor(log10(n)) by at
    # most one; start one below it and count up (two or three steps at most).
    count = max((n.bit_length() * 30103) // 100000 - 1, 0)
    power = 10**count
    while n >= power:
        count += 1
        power *= 10
    return count


def _too_big(what: str) -> QuantityError:
    return QuantityError(what, f"the result needs more than {MAX_SIGNIFICANT_DIGITS} significant digits")


def first_negative(values: Mapping[_K, Quantity]) -> _K | None:
    """The first key whose quantity is below zero, or None: the model's check on every spec built.

    >>> first_negative({"cpu": Quantity.parse("1"), "memory": Quantity.parse("-1Mi")})
    'memory'
    """
    for key, q in values.items():
        if q._v[0] < 0:
            return key
    return None


def exceeds(a: Quantity, b: Quantity) -> bool:
    """``a > b`` without the operator's dispatch, for the model's validation on every spec built.

    >>> exceeds(Quantity.parse("2"), Quantity.parse("1500m"))
    True
    """
    va, vb = a._v, b._v
    if va[1] == vb[1]:
        return va[0] > vb[0]
    return _compare(va, vb) > 0


def _compare(a: tuple[int, int, Format, str, str], b: tuple[int, int, Format, str, str]) -> int:
    ca, ea, cb, eb = a[0], a[1], b[0], b[1]
    if ea == eb or ca == 0 or cb == 0 or (ca < 0) != (cb < 0):
        # Same scale, or the signs alone decide (a zero has exponent 0 but its
        # coefficient still compares correctly against any sign).
        if ea == eb:
            return (ca > cb) - (ca < cb)
        sa = (ca > 0) - (ca < 0)
        sb = (cb > 0) - (cb < 0)
        return (sa > sb) - (sa < sb)
    if abs(ea - eb) > 40:
        # Compare magnitudes by leading-digit position before aligning, so two
        # far-apart exponents never expand into a huge power of ten.
        ta, tb = ea + _ndigits(ca), eb + _ndigits(cb)
        if ta != tb:
            bigger = (ta > tb) == (ca > 0)
            return 1 if bigger else -1
    if ea > eb:
        ca *= 10 ** (ea - eb)
    else:
        cb *= 10 ** (eb - ea)
    return (ca > cb) - (ca < cb)


def _add(q: Quantity, other: Quantity, sign: int) -> Quantity:
    """q + sign * other, exactly."""
    ca, ea, fa = q._v[0], q._v[1], q._v[2]
    cb, eb, fb = sign * other._v[0], other._v[1], other._v[2]
    op = "+" if sign > 0 else "-"
    # Go's Add and Sub keep the receiver's format unless the receiver is zero.
    fmt = fb if ca == 0 else fa
    if cb == 0:
        return _make(ca, ea, fmt, None)
    if ca == 0:
        return _make(cb, eb, fmt, None)
    if ea == eb:
        coef, exp = ca + cb, ea
    else:
        shift = abs(ea - eb)
        if shift > MAX_SIGNIFICANT_DIGITS:
            # The smaller operand's last digit and the larger's first would be
            # this far apart in the sum; refuse before building 10**shift.
            raise _too_big(f"{q} {op} {other}")
        if ea > eb:
            coef, exp = ca * 10**shift + cb, eb
        else:
            coef, exp = ca + cb * 10**shift, ea
    coef, exp = _normalize(coef, exp)
    if abs(coef) >= _TEN_TO_MAX_DIGITS:
        raise _too_big(f"{q} {op} {other}")
    return _make(coef, exp, fmt, None)


def _as_factor(q: Quantity, other: object) -> tuple[int, int, int] | None:
    """A multiplier as (numerator, power of ten, denominator), or None if it is not a number we take."""
    if isinstance(other, (bool, Quantity)):
        return None
    if isinstance(other, int):
        return int(other), 0, 1
    if isinstance(other, Fraction):
        return other.numerator, 0, other.denominator
    if isinstance(other, float):
        if not math.isfinite(other):
            raise QuantityError(f"{q} * {other!r}", "cannot multiply by a non-finite number")
        # The float's shortest repr is the number the user meant.
        other = Decimal(float.__repr__(other))
    if isinstance(other, Decimal):
        if not other.is_finite():
            raise QuantityError(f"{q} * {other}", "cannot multiply by a non-finite number")
        sign, digits, exponent = other.as_tuple()
        if len(digits) > MAX_SIGNIFICANT_DIGITS:
            raise _too_big(f"{q} * {_short(str(other))}")
        assert isinstance(exponent, int)  # finite, checked above
        numerator = int("".join(map(str, digits)))
        return (-numerator if sign else numerator), exponent, 1
    return None


def _multiply(q: Quantity, numerator: int, shift: int, denominator: int) -> Quantity:
    coef, exp, fmt = q._v[0], q._v[1], q._v[2]

    def what() -> str:
        # Built only when refusing, from bounded renderings: the factor may be far
        # too large to print (str() of an int past 4300 digits raises).
        factor = f"{_shown(numerator)}e{shift}"
        return f"{q} * {factor}/{_shown(denominator)}" if denominator != 1 else f"{q} * {factor}"

    c = coef * numerator
    e = exp + shift
    if c == 0:
        return _make(0, 0, fmt, None)
    if denominator != 1:
        g = math.gcd(c, denominator)
        c //= g
        denominator //= g
    if denominator != 1:
        twos = (denominator & -denominator).bit_length() - 1
        rest = denominator >> twos
        fives = 0
        while rest % 5 == 0:
            rest //= 5
            fives += 1
        if rest == 1:
            # A terminating decimal: scale numerator and denominator to a power of ten.
            top = max(twos, fives)
            c *= 2 ** (top - twos) * 5 ** (top - fives)
            e -= top
            denominator = 1
    if denominator == 1:
        if e < _NANO:
            c, e = _round_up_to_nano(c, e)
        c, e = _normalize(c, e)
    else:
        # Not a terminating decimal: round the exact quotient up, away from
        # zero, to the nano, the same rule parsing applies.
        up = e - _NANO
        mag = abs(c)
        if up >= 0:
            if _ndigits(mag) + up - _ndigits(denominator) > MAX_SIGNIFICANT_DIGITS + 1:
                raise _too_big(what())
            whole, rem = divmod(mag * 10**up, denominator)
        elif _ndigits(mag) + up <= 0:
            whole, rem = 0, 1
        else:
            whole, rem = divmod(mag, denominator * 10**-up)
        if rem:
            whole += 1
        c, e = _normalize(whole if c > 0 else -whole, _NANO)
    if abs(c) >= _TEN_TO_MAX_DIGITS:
        raise _too_big(what())
    return _make(c, e, fmt, None)


def _round_up_to_nano(coef: int, exp: int) -> tuple[int, int]:
    down = _NANO - exp
    mag = abs(coef)
    if _ndigits(mag) <= down:
        whole = 1  # non-zero and smaller than one nano
    else:
        whole, rem = divmod(mag, 10**down)
        if rem:
            whole += 1
    return (whole if coef > 0 else -whole), _NANO


def _ceil_int(q: Quantity, places: int) -> int:
    """ceil(|q| * 10**places) with q's sign: Go's ScaledValue rounding, without its int64 saturation."""
    coef, exp = q._v[0], q._v[1] + places
    if exp >= 0:
        if exp >= MAX_SIGNIFICANT_DIGITS or abs(coef) * 10**exp >= _TEN_TO_MAX_DIGITS:
            raise OverflowError(f"{q} has more than {MAX_SIGNIFICANT_DIGITS} digits as an integer")
        result: int = coef * 10**exp
        return result
    whole, rem = divmod(abs(coef), _POW10[-exp])
    if rem:
        whole += 1
    return whole if coef > 0 else -whole
