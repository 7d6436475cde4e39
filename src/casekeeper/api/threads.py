"""Where the HTTP dialects run their (synchronous) service calls: worker threads, at most
``CASEKEEPER_SERVICE_THREADS`` (default 2) at once per event loop.

Reading and rendering cases is Python work that holds the GIL; on these 2-core machines a
third thread doing it adds no throughput, and 32 of them (one per busy connection, as Starlette's
default pool of 40 allows) spend more CPU fighting over the GIL than reading: a page of 50 cases
cost 1.3 ms of CPU with one thread and 6.1 ms with 32 (docs/PERFORMANCE.md, "Tracecat"). Calls
beyond the limit wait their turn on the event loop, which costs nothing while they wait. Two
threads, not one, so that a slow statement does not hold up every other request (one gives
lists more throughput on SQLite; PostgreSQL, whose statements wait on a socket without the GIL,
may want more).
"""

from __future__ import annotations

import asyncio
import functools
import weakref
from collections.abc import Callable
from typing import Any, Final, TypeVar

import anyio
import anyio.to_thread

DEFAULT_THREADS: Final = 2
T = TypeVar("T")
_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)
_size = DEFAULT_THREADS


def configure(threads: int) -> None:
    """Set how many service calls run at once (the HTTP app does, from the settings)."""
    global _size
    _size = threads
    for limiter in _limiters.values():
        limiter.total_tokens = threads


def _limiter() -> anyio.CapacityLimiter:
    # One per event loop (a limiter belongs to the loop it was made on).
    loop = asyncio.get_running_loop()
    found = _limiters.get(loop)
    if found is None:
        found = _limiters[loop] = anyio.CapacityLimiter(_size)
    return found


async def run(fn: Callable[..., T], *args: Any, **kw: Any) -> T:
    """``fn(*args, **kw)`` on a worker thread, at most the configured number at once."""
    return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kw), limiter=_limiter())
