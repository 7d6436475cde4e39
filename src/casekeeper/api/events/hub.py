"""One poller per process for every stream it serves: it reads the changes of all spaces by
commit sequence every ``INTERVAL`` and hands each to the subscribers of its space. The
database is the source, so several processes (or servers) on one database each see every
change; a subscriber costs a queue, not a query.

PostgreSQL hands out sequence numbers at insert and transactions commit in any order, so a
change may become visible after one with a higher number. Each stream therefore keeps a floor
(every number at or below it was seen or given up on) and the numbers seen above it; a gap is
waited for up to ``GAP_WAIT`` seconds (a rolled-back insert leaves one for good)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from dataclasses import dataclass, field
from typing import Final

from casekeeper.api import threads
from casekeeper.service.changes import Change, ChangeService, Cursor

log = logging.getLogger(__name__)
INTERVAL: Final = 0.05
GAP_WAIT: Final = 2.0
BATCH: Final = 1000
QUEUE: Final = 2000  # changes a slow subscriber may have pending before it is reset
_hubs: weakref.WeakSet[Hub] = weakref.WeakSet()


@dataclass
class Tracker:
    """What one stream (case or incident events) has seen."""

    floor: int = 0
    seen: set[int] = field(default_factory=set)
    gap_since: float | None = None

    @property
    def top(self) -> int:
        return max(self.seen, default=self.floor)

    def fresh(self, seqs: list[int]) -> set[int]:
        new = {s for s in seqs if s > self.floor and s not in self.seen}
        self.seen |= new
        while self.seen:
            if self.floor + 1 in self.seen:
                self.floor += 1
                self.seen.discard(self.floor)
                self.gap_since = None
            elif self.gap_since is None:
                self.gap_since = time.monotonic()
                break
            elif time.monotonic() - self.gap_since > GAP_WAIT:
                self.floor = min(self.seen) - 1  # given up: never committed
                self.gap_since = None
            else:
                break
        return new


@dataclass(eq=False)
class Subscriber:
    space_id: int
    start: Cursor
    queue: asyncio.Queue[Change | None] = field(default_factory=lambda: asyncio.Queue(QUEUE))
    overflowed: bool = False


class Hub:
    def __init__(self, changes: ChangeService) -> None:
        self.changes = changes
        self.subs: set[Subscriber] = set()
        self.cases = Tracker()
        self.incidents = Tracker()
        self.task: asyncio.Task[None] | None = None
        self.started = False
        _hubs.add(self)

    async def subscribe(self, space_id: int) -> Subscriber:
        if not self.started:
            head = await threads.run(self.changes.heads)
            if not self.started:  # another subscriber may have started it meanwhile
                self.cases, self.incidents = Tracker(head[0]), Tracker(head[1])
                self.started = True
        sub = Subscriber(space_id, (self.cases.top, self.incidents.top))
        self.subs.add(sub)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run())
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self.subs.discard(sub)

    def close(self) -> None:
        """End every stream (the server is shutting down)."""
        for sub in list(self.subs):
            with contextlib.suppress(asyncio.QueueFull):
                sub.queue.put_nowait(None)

    async def _run(self) -> None:
        while self.subs:
            try:
                found = await threads.run(self.changes.after, self.cases.floor,
                                          self.incidents.floor, BATCH)  # fmt: skip
            except Exception:  # the database is away: keep the streams, try again
                log.warning("change feed: reading changes failed", exc_info=True)
                await asyncio.sleep(1.0)
                continue
            self._dispatch(found)
            await asyncio.sleep(INTERVAL)
        self.started = False  # nobody listens: the next subscriber starts from the head

    def _dispatch(self, found: list[Change]) -> None:
        by_stream = {"case": self.cases, "incident": self.incidents}
        fresh = {
            name: tracker.fresh([x.seq for x in found if x.stream == name])
            for name, tracker in by_stream.items()
        }
        for change in found:
            if change.seq not in fresh[change.stream]:
                continue
            for sub in self.subs:
                if sub.space_id == change.space_id and not sub.overflowed:
                    try:
                        sub.queue.put_nowait(change)
                    except asyncio.QueueFull:
                        sub.overflowed = True


def close_all() -> None:
    for hub in list(_hubs):
        hub.close()
