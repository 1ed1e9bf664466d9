"""Memos for pure conversions: real projects repeat a handful of declarations across hundreds of tasks."""

from __future__ import annotations

from flyteres.convert._shared import catalog_entry_for, v2_device_map
from flyteres.core.quantity import Quantity


class Memo:
    """A bounded memo for pure conversions whose inputs are plain values.

    Real projects repeat a handful of resource declarations across hundreds
    of tasks, so remembering a validated result is most of the speed. The
    table is cleared when full: no LRU bookkeeping on the hot path.
    """

    def __init__(self, size: int = 4096) -> None:
        self._data: dict[object, object] = {}
        self._size = size
        _MEMOS.append(self)

    def get(self, key: object) -> object:
        return self._data.get(key)

    def put(self, key: object, value: object) -> None:
        if len(self._data) >= self._size:
            self._data.clear()
        self._data[key] = value

    def clear(self) -> None:
        self._data.clear()


_MEMOS: list[Memo] = []


def typed_key(value: object) -> object:
    """A hashable key that tells `1`, `1.0` and `True` apart (they hash alike)."""
    if isinstance(value, (tuple, list)):
        return (type(value), tuple(typed_key(v) for v in value))
    return (type(value), value)


def clear_caches() -> None:
    """Forget every memoised conversion, parse and catalog lookup (for cold benchmarks)."""
    for memo in _MEMOS:
        memo.clear()
    Quantity.cache_clear()
    catalog_entry_for.cache_clear()
    v2_device_map.cache_clear()
