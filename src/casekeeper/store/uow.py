"""The unit of work: one connection, one transaction, and the repositories bound to it.

Only ``commit()`` persists; leaving the block without it rolls back. ``commit(meanwhile=...)``
runs CPU work (rendering a response) on a side thread while the COMMIT is in flight: both
drivers release the GIL while the database writes, so the two overlap. Readers run without a
transaction (SQLite) or in autocommit (PostgreSQL), so a read costs no BEGIN/ROLLBACK trips. On
SQLite, readers take an open connection from a stack of idle ones and put it back when done (a
point read then costs one statement, not a pool checkout and return); no connection belongs to
a thread, so threads that come and go (a thread pool replacing idle workers) never strand one.
With a standby configured (store/replica.py), reads made through ``replica_read`` may run there.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextvars import Token
from types import TracebackType
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from casekeeper.domain.errors import CasekeeperError, ErrorCode
from casekeeper.store import db_errors
from casekeeper.store.am_silences import SilenceRepository
from casekeeper.store.case_rows import WRITING
from casekeeper.store.case_settings import CaseSettingsRepository
from casekeeper.store.cases import CaseRepository
from casekeeper.store.checkpoint import Checkpointer
from casekeeper.store.engine import WRITE_OPTION, is_sqlite
from casekeeper.store.events import EventRepository
from casekeeper.store.firings import FiringRepository, HeartbeatRepository, SignalGroupRepository
from casekeeper.store.incident_queries import IncidentQueries
from casekeeper.store.incidents import IncidentRepository
from casekeeper.store.keys import ApiKeyRepository, SpaceRepository
from casekeeper.store.ledger import LedgerRepository
from casekeeper.store.notify_config import ConnectorRepository, RouteRepository
from casekeeper.store.outbox import OutboxRepository
from casekeeper.store.replica import Replica
from casekeeper.store.saved_views import SavedViewRepository
from casekeeper.store.sessions import SessionRepository
from casekeeper.store.users import UserRepository

log = logging.getLogger("casekeeper.store")
T = TypeVar("T")
# Idle SQLite readers kept open for the next read; more than this many at once are closed when
# they come back. Readers never wait for one: the SQLite pool has no upper bound (engine.py).
IDLE_READERS = 16
# As long as SQLite's own busy timeout (engine.py): then the write is refused, UNAVAILABLE.
WRITE_WAIT_SECONDS = 30


class UnitOfWork:
    def __init__(self, db: Database, *, write: bool) -> None:
        self._db = db
        self._write = write
        self._conn: sa.Connection | None = None
        self._committed = False
        self._replica: Replica | None = None  # set when this reader runs on the standby
        self._writing: Token[bool] | None = None

    def __enter__(self) -> UnitOfWork:
        conn = self._db.connection(write=self._write)
        self._conn = conn
        replica = self._db.replica
        if replica is not None and replica.owns(conn):
            self._replica = replica
        self.cases = CaseRepository(conn)
        self.events = EventRepository(conn)
        self.keys = ApiKeyRepository(conn)
        self.users = UserRepository(conn)
        self.sessions = SessionRepository(conn)
        self.saved_views = SavedViewRepository(conn)
        self.spaces = SpaceRepository(conn)
        self.outbox = OutboxRepository(conn)
        self.incidents = IncidentRepository(conn)
        self.incident_queries = IncidentQueries(conn)
        self.case_settings = CaseSettingsRepository(conn)
        self.firings = FiringRepository(conn)
        self.signal_groups = SignalGroupRepository(conn)
        self.heartbeats = HeartbeatRepository(conn)
        self.am_silences = SilenceRepository(conn)
        self.connectors = ConnectorRepository(conn)
        self.routes = RouteRepository(conn)
        self.ledger = LedgerRepository(conn)
        if self._write:
            self._writing = WRITING.set(True)
        return self

    @property
    def conn(self) -> sa.Connection:
        assert self._conn is not None, "unit of work used outside its 'with' block"
        return self._conn

    def commit(self, meanwhile: Callable[[], T] | None = None) -> T | None:
        """Persist the transaction. With ``meanwhile``, run it on a side thread during the
        COMMIT and return its result; it must not touch this unit of work, and its result
        only counts once the commit succeeded. None means it did not run alongside (no side
        thread was free, or the pool is shut down) or it failed; the commit stands either way,
        and the caller does that work itself (meeting any error there)."""
        if not self._write:
            raise RuntimeError("a read-only unit of work cannot commit")
        # The side thread starts while this one enters the driver, which then releases the GIL
        # for the length of the COMMIT. The reverse (commit on the side thread) would first wait
        # up to a GIL switch interval (5 ms) for the side thread to get the GIL.
        side = None if meanwhile is None else self._db.side(meanwhile)
        try:
            self._db.commit(self.conn)
        finally:
            # Work that never started is dropped (the caller does it: waiting for a free side
            # thread would only delay the answer); work that did must not outlive the
            # transaction, so it is waited for even when the commit failed.
            if side is not None and not side.cancel():
                wait([side])
        self._committed = True
        if side is None or side.cancelled():
            return None
        try:
            return side.result()
        except BaseException:  # the side thread's own stored failure, not a signal to this one
            log.warning("work done alongside a commit failed; the caller redoes it", exc_info=True)
            return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn = self.conn
        self._conn = None
        if self._writing is not None:
            WRITING.reset(self._writing)
            self._writing = None
        if self._replica is not None:
            self._replica.release(conn, exc)  # raises ReplicaFailed to run it on the primary
            return
        # A refusal (not found, invalid...) leaves the connection sound: only an unexpected
        # failure may have left it in a state worth not reusing.
        failed = exc is not None and not isinstance(exc, CasekeeperError)
        if exc is not None and failed and db_errors.connection_lost(exc):
            # A dead connection must not go back to the pool for the next call to meet (a
            # raw-cursor read's error never reaches SQLAlchemy, which would drop it itself).
            with contextlib.suppress(Exception):
                conn.invalidate()
        try:
            self._db.release(conn, write=self._write, committed=self._committed, failed=failed)
        except Exception as err:
            if exc is None:
                translated = db_errors.translate(err)
                if translated is None:
                    raise
                raise translated from err
            # The rollback of a failed unit of work failed too (the database went away): the
            # first failure is the one to report.
            log.warning("releasing a failed unit of work's connection failed: %s", err)
        if exc is None:
            return
        if _sqlstate(exc) in _TRANSIENT:
            # PostgreSQL undid the transaction to break a lock cycle, a serialization conflict
            # or two inserts of one unique key (two alerts opening one incident) with another
            # call: nothing was written, and trying again will do.
            raise CasekeeperError(
                ErrorCode.CONFLICT,
                "the change collided with a concurrent change and was undone (nothing was "
                "applied); try again",
            ) from exc
        # A full disk, a database down or restarting: UNAVAILABLE, not an internal error.
        translated = db_errors.translate(exc)
        if translated is not None:
            raise translated from exc


# PostgreSQL's serialization_failure, deadlock_detected and unique_violation.
_TRANSIENT = frozenset({"40001", "40P01", "23505"})


def _sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a psycopg error, raw (``driver.fetch`` runs on the DBAPI cursor) or
    wrapped by SQLAlchemy; None for anything else."""
    orig = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
    code = getattr(orig, "sqlstate", None)
    return code if isinstance(code, str) else None


class Database:
    """Hands out units of work over one engine (and the standby's, if there is one)."""

    def __init__(self, engine: Engine, replica: Replica | None = None) -> None:
        self.engine = engine
        self.replica = replica
        self.sqlite = is_sqlite(engine.url)
        # Idle SQLite reader connections, last returned on top (list.pop and append are atomic).
        self._idle: list[sa.Connection] = []
        self.checkpointer: Checkpointer | None = None
        # Runs ``commit(meanwhile=...)`` work; threads are made only when first needed. A few
        # suffice: more would only take turns at the GIL, and work that finds none free is
        # done by its caller after the commit.
        self._side_work = ThreadPoolExecutor(max_workers=4, thread_name_prefix="commit-side")
        # SQLite has one writer at a time. Its busy handler polls a held lock with sleeps that
        # grow to 100 ms, so a writer waiting behind another of this process's could sleep on
        # long after the lock came free. This process's writers wait on a lock of their own
        # instead, which wakes a waiter as soon as it is released (in no set order); SQLite's
        # handler remains for writers in other processes.
        self._write_turn = threading.Lock() if self.sqlite else None
        if self.sqlite and engine.url.database not in (None, "", ":memory:"):
            self.checkpointer = Checkpointer(engine)
            self.checkpointer.start()

    def side(self, fn: Callable[[], T]) -> Future[T] | None:
        """``fn`` queued for a side thread; None if the pool is shut down or cannot start one
        (the caller then does the work itself)."""
        try:
            # In the caller's context (``WRITING`` among it), as if it ran on the caller's thread.
            return self._side_work.submit(contextvars.copy_context().run, fn)
        except RuntimeError:
            return None

    def writer(self) -> UnitOfWork:
        return UnitOfWork(self, write=True)

    def reader(self) -> UnitOfWork:
        return UnitOfWork(self, write=False)

    def connection(self, *, write: bool) -> sa.Connection:
        turn = self._write_turn if write else None
        if turn is not None and not turn.acquire(timeout=WRITE_WAIT_SECONDS):
            raise CasekeeperError(
                ErrorCode.UNAVAILABLE,
                f"the database is busy (a write waited {WRITE_WAIT_SECONDS} s for its turn); "
                "try again",
            )
        try:
            return self._connection(write=write)
        except BaseException:
            if turn is not None:
                turn.release()
            raise

    def _connection(self, *, write: bool) -> sa.Connection:
        if not write and self.sqlite:
            try:
                return self._idle.pop()
            except IndexError:
                pass
        elif not write and self.replica is not None:
            standby = self.replica.connection()
            if standby is not None:
                return standby
        try:
            conn = self.engine.connect()
        except sa.exc.TimeoutError:  # PostgreSQL's pool: every connection busy for 30 s
            raise CasekeeperError(
                ErrorCode.UNAVAILABLE, "the database is busy (no connection free); try again"
            ) from None
        except sa.exc.DBAPIError as err:  # refused, restarting: before any unit of work
            raise db_errors.translate(err) or err from err
        if write:
            conn = conn.execution_options(**{WRITE_OPTION: True})
            try:
                conn.begin()  # SQLite's BEGIN IMMEDIATE: a locked or unwritable file
            except sa.exc.DBAPIError as err:
                conn.close()
                raise db_errors.translate(err) or err from err
        elif not self.sqlite:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        return conn

    def commit(self, conn: sa.Connection) -> None:
        if self.replica is None:
            conn.commit()
        else:
            self.replica.commit(conn)  # notes the commit's WAL position for read-your-writes

    def release(self, conn: sa.Connection, *, write: bool, committed: bool, failed: bool) -> None:
        if write:
            try:
                if not committed:
                    conn.rollback()
            finally:
                try:
                    conn.close()
                finally:
                    if self._write_turn is not None:
                        self._write_turn.release()
            return
        if not self.sqlite or failed or conn.invalidated:
            conn.close()
            return
        if conn.in_transaction():
            conn.rollback()  # SQLite readers emit no BEGIN: this only resets SQLAlchemy's state
        if len(self._idle) < IDLE_READERS:
            self._idle.append(conn)
        else:
            conn.close()

    def idle_readers(self) -> int:
        return len(self._idle)

    def dispose(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.stop()
        if self.replica is not None:
            self.replica.close()
        self._side_work.shutdown(wait=True)
        readers, self._idle = self._idle, []
        for conn in readers:
            with contextlib.suppress(Exception):  # closing at shutdown; a dead one is fine
                conn.close()
        self.engine.dispose()
