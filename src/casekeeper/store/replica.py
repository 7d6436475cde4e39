"""Reads from a PostgreSQL hot standby, with read-your-writes (docs/REPLICA.md).

Only reads a service asks for through ``replica_read`` may go to the standby (lists, gets,
facets, timelines); everything else stays on the primary. A caller's read goes to the standby
only when the standby has replayed that caller's last commit in this process: a write unit of
work run inside ``written_by(caller)`` learns its commit's WAL position in the COMMIT's own round
trip, and a background poller keeps the standby's replay position (and its health) in memory,
so the choice costs a read no round trip. When the standby is down, not a standby, or lags more
than ``max_lag`` seconds, reads go to the primary until it is sound again; a read that fails on
the standby with a connection error is run again, once, on the primary.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import weakref
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from casekeeper.store import db_errors

if TYPE_CHECKING:
    import psycopg

    from casekeeper.store.uow import Database, UnitOfWork

log = logging.getLogger("casekeeper.replica")
T = TypeVar("T")

POLL_SECONDS = 0.05
# Callers whose last commit the standby may not have replayed yet. Entries the standby has
# replayed are dropped at each poll, so this bound only matters under a burst of writers.
MAX_CALLERS = 10_000
# Primary positions sampled while the standby is behind (to date its lag); the oldest is kept.
_MAX_SAMPLES = 4096
_APP = "casekeeper-replica-poller"
# The COMMIT and the position after it in one round trip (the simple-query protocol runs both):
# the insert position after COMMIT is past the commit record even with synchronous_commit off.
_COMMIT_LSN = "COMMIT; SELECT (pg_current_wal_insert_lsn() - '0/0')::int8"
_PRIMARY_LSN = "SELECT (pg_current_wal_lsn() - '0/0')::int8"
_REPLAY_LSN = "SELECT (pg_last_wal_replay_lsn() - '0/0')::int8"
_SIZES = "SELECT current_setting('wal_block_size')::int8, pg_size_bytes(current_setting('wal_segment_size'))"  # noqa: E501

# Who is reading (set by ``replica_read``) and on whose behalf this thread writes.
_reading_for: ContextVar[str | None] = ContextVar("casekeeper_replica_reader", default=None)
_writing_for: ContextVar[str | None] = ContextVar("casekeeper_replica_writer", default=None)


class ReplicaFailed(Exception):
    """A read on the standby met a connection error; ``replica_read`` runs it on the primary."""


@contextlib.contextmanager
def written_by(caller: str) -> Iterator[None]:
    """Commits in this block are ``caller``'s: its later reads wait for the standby to replay
    them (or go to the primary). ``caller`` is the principal's ``user_id``."""
    token = _writing_for.set(caller)
    try:
        yield
    finally:
        _writing_for.reset(token)


def replica_read(db: Database, caller: str, fn: Callable[[UnitOfWork], T]) -> T:
    """``fn`` run in a reader that may be on the standby (without one, it is ``db.reader()``)."""
    token = _reading_for.set(caller)
    try:
        with db.reader() as uow:
            return fn(uow)
    except ReplicaFailed:
        pass  # counted and logged by Replica.failed
    finally:
        _reading_for.reset(token)
    with db.reader() as uow:
        return fn(uow)


def _connection_error(exc: BaseException) -> bool:
    """A failure of the standby or of the way to it, not of the statement: psycopg's own
    (raw reads run on the DBAPI cursor) or wrapped by SQLAlchemy. Recovery conflicts (a query
    cancelled by replay) are OperationalErrors too, and the primary answers them as well."""
    import psycopg  # loaded already: only a PostgreSQL deployment has a standby

    if isinstance(exc, sa.exc.DBAPIError):
        return exc.connection_invalidated or isinstance(
            exc, (sa.exc.OperationalError, sa.exc.InterfaceError)
        )
    return isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError, sa.exc.TimeoutError))


class Replica:
    """A standby's engine, the callers' commit positions, and the poller that watches it."""

    def __init__(
        self, engine: Engine, primary: Engine, *, max_lag: float, interval: float = POLL_SECONDS
    ) -> None:
        self.engine = engine
        self.max_lag = max_lag
        self.interval = interval
        self._primary = primary
        # caller → WAL position of its last commit, least recently written first.
        self._marks: OrderedDict[str, int] = OrderedDict()
        # The highest position dropped from ``_marks``: a caller not in it may have written up
        # to here. Dropped marks were replayed, but a restarted standby can replay from earlier.
        self._floor = 0
        self._lock = threading.Lock()
        # The standby's replay position at the last sound poll; -1 while it is not to be used.
        self._replay = -1
        self._trusted_until = 0.0  # a poll older than this (monotonic) no longer vouches
        self._stale_after = max(1.0, 20 * interval)
        self._page = 8192
        self._segment = 16 << 20
        self.lag = 0.0  # seconds, at the last poll
        self.counts = {"replica": 0, "primary_behind": 0, "primary_unhealthy": 0, "retried": 0}
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._why_down = ""  # the kind of reason reads go to the primary, as last logged
        self._caught_up = False  # replayed what the primary had when the poller connected
        self._closed = False
        forked = weakref.WeakMethod(self._forked)
        os.register_at_fork(after_in_child=lambda: _call(forked))

    # -- routing -------------------------------------------------------------------------------

    def connection(self) -> sa.Connection | None:
        """A standby connection for the reader running in ``replica_read``, or None (the
        primary): no such reader, the standby unsound, or behind the caller's last commit."""
        caller = _reading_for.get()
        if caller is None:
            return None
        if self._thread is None:
            self._start()
        replay = self._replay
        if replay < 0 or time.monotonic() > self._trusted_until:
            self._count("primary_unhealthy")
            return None
        need = self._marks.get(caller)
        if replay < (self._floor if need is None else need):
            self._count("primary_behind")
            return None
        try:
            conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except (sa.exc.DBAPIError, sa.exc.TimeoutError) as err:
            self._down("unreachable", f"connecting failed: {err}")
            self._count("primary_unhealthy")
            return None
        self._count("replica")
        return conn

    def owns(self, conn: sa.Connection) -> bool:
        return conn.engine is self.engine

    def release(self, conn: sa.Connection, exc: BaseException | None) -> None:
        """Close a standby reader; raise ReplicaFailed (from ``exc``) if the standby failed it."""
        if exc is None or not _connection_error(exc):
            conn.close()
            return
        if db_errors.connection_lost(exc) or isinstance(exc, sa.exc.TimeoutError):
            with contextlib.suppress(Exception):  # the connection is dead or in doubt: drop it
                conn.invalidate()
                conn.close()
            self._down("unreachable", f"a read failed: {exc}")
        else:  # the statement's own failure (a recovery conflict, a timeout): the standby is fine
            with contextlib.suppress(Exception):
                conn.close()
        self._count("retried")
        raise ReplicaFailed(str(exc)) from exc

    # -- read-your-writes ----------------------------------------------------------------------

    def commit(self, conn: sa.Connection) -> None:
        """Commit ``conn``'s transaction; inside ``written_by``, note where the commit ended."""
        caller = _writing_for.get()
        if caller is None:
            conn.commit()
            return
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(_COMMIT_LSN)
            cursor.nextset()
            row = cursor.fetchone()
        finally:
            cursor.close()
        conn.commit()  # SQLAlchemy's bookkeeping: the driver sees no transaction, sends nothing
        if row is not None:
            self._mark(caller, self._record_end(int(row[0])))

    def _record_end(self, lsn: int) -> int:
        """An insert position just past a page header is the end of the record before it, which
        is what replay reports (else the caller would wait for some later record)."""
        if lsn % self._segment == 40:  # the long header at a segment's start
            return lsn - 40
        if lsn % self._page == 24:
            return lsn - 24
        return lsn

    def _mark(self, caller: str, lsn: int) -> None:
        with self._lock:
            marks = self._marks
            if marks.get(caller, -1) < lsn:
                marks[caller] = lsn
            marks.move_to_end(caller)
            while len(marks) > MAX_CALLERS:
                _, dropped = marks.popitem(last=False)
                self._floor = max(self._floor, dropped)

    def _prune(self, replay: int) -> None:
        with self._lock:
            for caller in [c for c, lsn in self._marks.items() if lsn <= replay]:
                self._floor = max(self._floor, self._marks.pop(caller))

    # -- the poller ----------------------------------------------------------------------------

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None or self._closed:
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="replica-poller", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        import psycopg

        conns: dict[str, psycopg.Connection[Any]] = {}
        samples: deque[tuple[float, int]] = deque()
        try:
            while True:
                try:
                    self._poll(conns, samples)
                except Exception as err:  # the poller must outlive anything; reads fall back
                    if not isinstance(err, (psycopg.Error, OSError)):
                        log.exception("the replica poller failed")
                    for conn in conns.values():
                        conn.close()
                    conns.clear()
                    samples.clear()
                    self._down("unreachable", f"polling failed: {err}")
                if self._stop.wait(self.interval):
                    return
        finally:
            for conn in conns.values():
                conn.close()

    def _poll(
        self, conns: dict[str, psycopg.Connection[Any]], samples: deque[tuple[float, int]]
    ) -> None:
        if not conns:
            conns["primary"] = self._connect(self._primary)
            conns["replica"] = self._connect(self.engine)
            page, segment = conns["primary"].execute(_SIZES).fetchone() or (8192, 16 << 20)
            self._page, self._segment = int(page), int(segment)
            self._caught_up = False
        # The primary first: a replay position at or past it means caught up as of then.
        current = _scalar(conns["primary"], _PRIMARY_LSN) or 0
        replay = _scalar(conns["replica"], _REPLAY_LSN)
        now = time.monotonic()
        if replay is None:
            self._down("not a standby", "the replica URL names a server not in recovery")
            return
        # Lag in seconds: how long ago the primary was first seen at a position the standby has
        # not replayed. An idle primary stays at one position, which replay reaches: no lag.
        if not samples or current > samples[-1][1]:
            samples.append((now, current))
            if len(samples) > _MAX_SAMPLES:
                del samples[1]
        if not self._caught_up:
            # Samples begin at (re)connection, so they cannot date an older backlog (a
            # standby restarted far behind): trust none until it replays the first one.
            self._caught_up = replay >= samples[0][1]
        while samples and replay >= samples[0][1]:
            samples.popleft()
        self.lag = now - samples[0][0] if samples else 0.0
        if not self._caught_up:
            self._down("behind", "catching up with the primary after connecting")
            return
        if self.lag > self.max_lag:
            self._down("lagging", f"lagging more than {self.max_lag} s behind the primary")
            return
        if self._replay < 0:
            log.info("reads go to the replica again")
        self._trusted_until = now + self._stale_after
        self._replay = replay
        if self._marks:
            self._prune(replay)

    def _connect(self, engine: Engine) -> psycopg.Connection[Any]:
        import psycopg

        args, kwargs = engine.dialect.create_connect_args(engine.url)
        kwargs.update(autocommit=True, connect_timeout=2, application_name=_APP)
        # A hung network must not hold the poller past the point its silence makes reads fall
        # back anyway (``_stale_after``).
        kwargs.setdefault("options", "-c statement_timeout=2000")
        kwargs.setdefault("tcp_user_timeout", 2000)
        return psycopg.connect(*args, **kwargs)

    def _down(self, kind: str, why: str) -> None:
        """Send reads to the primary; logged when that starts, or its kind of reason changes."""
        was_up = self._replay >= 0
        self._replay = -1
        if was_up or kind != self._why_down:
            log.warning("reads go to the primary: the replica is unusable (%s)", why)
        self._why_down = kind
        if was_up:
            # Its pooled connections are likely dead (a restart); new ones are made when it is
            # back. Connections checked out now are closed when returned.
            self.engine.dispose()

    def _count(self, what: str) -> None:
        with self._lock:
            self.counts[what] += 1

    def healthy(self) -> bool:
        return self._replay >= 0 and time.monotonic() <= self._trusted_until

    def _forked(self) -> None:
        # A child process polls for itself (its own thread and sockets) once it reads; the
        # parent's marks describe the parent's callers.
        self._thread = None
        self._stop = threading.Event()
        self._replay = -1
        self._lock = threading.Lock()
        self._marks = OrderedDict()
        self.engine.dispose(close=False)  # the parent's pooled sockets are the parent's

    def close(self) -> None:
        self._closed = True
        self._stop.set()
        thread = self._thread
        if thread is not None and thread.is_alive():
            thread.join(5)
        self._thread = None
        self.engine.dispose()


def _call(method: weakref.WeakMethod[Callable[[], None]]) -> None:
    bound = method()
    if bound is not None:
        bound()


def _scalar(conn: psycopg.Connection[Any], sql: str) -> int | None:
    row = conn.execute(sql).fetchone()
    return None if row is None or row[0] is None else int(row[0])
