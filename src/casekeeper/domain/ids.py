"""Identifiers.

Timeline events get time-ordered UUIDs (version 7, RFC 9562): 48 bits of Unix milliseconds, then
74 random bits. New ids sort after older ones, so the unique index on ``event_id`` grows at its
end instead of taking a write on a random page for every event (a bulk operation writes
thousands). They are still ordinary UUID strings to clients.
"""

from __future__ import annotations

import os

_RAND_A = 0xFFF
_RAND_B = (1 << 62) - 1


def uuid7(micros: int) -> str:
    """A version-7 UUID for the time ``micros`` (µs since the epoch)."""
    rand = int.from_bytes(os.urandom(10), "big")
    value = (
        (micros // 1000) << 80
        | 0x7 << 76
        | ((rand >> 62) & _RAND_A) << 64
        | 0b10 << 62
        | (rand & _RAND_B)
    )
    h = f"{value:032x}"  # what str(uuid.UUID(int=value)) gives, without building the object
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
