"""A bounded cache of values derived from one version of a record (a case's decoded signal
detail, its encodings). A version names one content, so a write anywhere, in this process or
another, makes a new key and never a stale hit; the update time in the key also tells apart a
record deleted and made again under its old id. Entries leave least recently used first.

Only committed versions may be put: a version a failed transaction wrote could be written
again, with other content, by the next one."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, TypeVar

V = TypeVar("V")
Key = tuple[str, int, int]  # (record id, version, update time)


class VersionedCache(Generic[V]):
    """At most ``budget`` units (bytes of what each value was made from, as the caller
    weighs it) of values by key; a value weighing more than ``largest`` (default: a
    sixteenth of the budget) is never kept, as it would push out many others. Safe to share
    between threads."""

    def __init__(self, budget: int, largest: int | None = None) -> None:
        self.budget = budget
        self.largest = budget // 16 if largest is None else largest
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
        if weight > self.largest:
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
