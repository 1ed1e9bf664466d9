"""Memos for pure conversions: real projects repeat a handful of declarations across hundreds of tasks.

A memo must never change an answer. Python's equality is too coarse for a
key: `2 == 2.0 == True`, `0.0 == -0.0` and `Decimal("1E+3") == Decimal("1000")`,
yet each SDK writes each of them differently (`str(2.0)` is `"2.0"`). Keys are
therefore built by `exact_key`, which keeps the exact type and the exact
spelling of every value, and refuses (`Unkeyable`) anything it cannot spell
exactly: such an input is simply converted without the memo.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from flyteres.core.quantity import Quantity


class Unkeyable(Exception):  # noqa: N818 - a signal between the key builders and the memo, never shown
    """A value `exact_key` cannot spell exactly: convert it without the memo."""


class Memo:
    """A bounded memo for pure conversions whose inputs are plain values.

    Real projects repeat a handful of resource declarations across hundreds
    of tasks, so remembering a validated result is most of the speed. The
    table is cleared when full: no LRU bookkeeping on the hot path.
    """

    def __init__(self, size: int = 4096) -> None:
        self._data: dict[object, object] = {}
        self._size = size
        self.enabled = True
        _MEMOS.append(self)

    def get(self, key: object) -> object:
        """The remembered result for `key`, or None."""
        return self._data.get(key)

    def put(self, key: object, value: object) -> None:
        """Remember `value` for `key` (nothing when the memo is switched off)."""
        if not self.enabled:
            return
        if len(self._data) >= self._size:
            self._data.clear()
        self._data[key] = value

    def clear(self) -> None:
        """Forget everything."""
        self._data.clear()


_MEMOS: list[Memo] = []
# Other caches whose keys come from input values (lru_caches of the converters);
# registered by their modules so `clear_caches` reaches every one.
_CLEARERS: list[Callable[[], None]] = []


def register_cache(clear: Callable[[], None]) -> None:
    """Have `clear_caches` call `clear` (an input-keyed cache's `cache_clear`)."""
    _CLEARERS.append(clear)


# The exact types whose value and spelling are one: equal keys mean the same text.
_PLAIN = frozenset({type(None), str, int, bool})


def exact_key(value: object) -> object:
    """A hashable key equal for two values only when they have the same type and spelling.

    >>> exact_key(2) == exact_key(2.0), exact_key(0.0) == exact_key(-0.0)
    (False, False)
    >>> exact_key(("1", 2)) == exact_key(("1", 2))
    True
    """
    kind = type(value)
    if kind in _PLAIN:
        # Exact types only: `(int, 1)` and `(bool, True)` differ because the types do.
        return (kind, value)
    if kind is float and isinstance(value, float):
        # repr is the text the SDKs send (`str(-0.0)` is "-0.0"); equal floats may differ in it.
        return (kind, float.__repr__(value))
    if kind is Decimal:
        return (kind, str(value))
    if (kind is tuple or kind is list) and isinstance(value, (tuple, list)):
        return (kind, tuple(exact_key(v) for v in value))
    raise Unkeyable(kind.__name__)


def clear_caches() -> None:
    """Forget every memoised conversion, parse and catalog lookup (a fresh process's state)."""
    for memo in _MEMOS:
        memo.clear()
    for clear in _CLEARERS:
        clear()
    Quantity.cache_clear()


def set_memo(enabled: bool) -> None:
    """Switch every conversion memo on or off (off also empties them); for first-sight benchmarks."""
    for memo in _MEMOS:
        memo.enabled = enabled
        memo.clear()
