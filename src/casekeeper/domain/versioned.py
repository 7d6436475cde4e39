"""A bounded cache of values derived from one version of a record (a case's decoded signal
detail, its encodings). A version names one content, so a write anywhere, in this process or
another, makes a new key and never a stale hit; entries leave least recently used first."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, TypeVar

V = TypeVar("V")
Key = tuple[str, int]  # (record id, version)


class VersionedCache(Generic[V]):
    """At most ``budget`` units (bytes of what each value was made from, as the caller
    weighs it) of values by (id, version); a value weighing more than ``budget // 16`` is
    never kept (one would push out many others). Safe to share between threads."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.held = 0
        self.items: OrderedDict[Key, tuple[int, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Key) -> V | None:
        with self._lock:
            found = self.items.get(key)
            if found is None:
                return None
            self.items.move_to_end(key)
            return found[1]

    def put(self, key: Key, value: V, weight: int) -> None:
        if weight > self.budget // 16:
            return
        with self._lock:
            old = self.items.pop(key, None)
            if old is not None:
                self.held -= old[0]
            self.items[key] = (weight, value)
            self.held += weight
            while self.held > self.budget:
                self.held -= self.items.popitem(last=False)[1][0]

    def clear(self) -> None:
        with self._lock:
            self.items.clear()
            self.held = 0
