"""A small TTL cache with a size bound, the oldest entries going first.

A server keeps one (names, roles, group sizes, usernames it looked up) and hands it to every call it runs
through the `call.CallContext`; nothing is cached per process.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any

MISSING = object()  # what `get` returns for an absent or expired key (a cached value may be None)
DEFAULT_MAX_ENTRIES = 10_000
DEFAULT_TTL = 60.0


class Cache:
    """A small TTL cache with a size bound: the oldest entries go first."""

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._data: OrderedDict[tuple[Any, ...], tuple[float, Any]] = OrderedDict()

    def get(self, key: tuple[Any, ...]) -> Any:
        hit = self._data.get(key)
        if hit is None:
            return MISSING
        if hit[0] < time.monotonic():
            del self._data[key]
            return MISSING
        return hit[1]

    def put(self, key: tuple[Any, ...], value: Any, ttl: float = DEFAULT_TTL) -> None:
        self._data[key] = (time.monotonic() + ttl, value)
        self._data.move_to_end(key)
        while len(self._data) > self.max_entries:
            self._data.popitem(last=False)

    def drop(self, key: tuple[Any, ...]) -> None:
        self._data.pop(key, None)

    def clear(self) -> None:
        self._data.clear()

    def __len__(self) -> int:
        return len(self._data)
