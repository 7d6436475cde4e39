"""The unit of work: one connection, one transaction, and the repositories bound to it.

Only ``commit()`` persists; leaving the block without it rolls back. Readers run without a
transaction (SQLite) or in autocommit (PostgreSQL), so a read costs no BEGIN/ROLLBACK trips.
"""

from __future__ import annotations

from types import TracebackType

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from casekeeper.store.cases import CaseRepository
from casekeeper.store.engine import WRITE_OPTION, is_sqlite
from casekeeper.store.events import EventRepository
from casekeeper.store.keys import ApiKeyRepository, SpaceRepository
from casekeeper.store.outbox import OutboxRepository


class UnitOfWork:
    def __init__(self, engine: Engine, *, write: bool) -> None:
        self._engine = engine
        self._write = write
        self._conn: sa.Connection | None = None
        self._committed = False

    def __enter__(self) -> UnitOfWork:
        conn = self._engine.connect()
        if self._write:
            conn = conn.execution_options(**{WRITE_OPTION: True})
            conn.begin()
        elif not is_sqlite(self._engine.url):
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        self._conn = conn
        self.cases = CaseRepository(conn)
        self.events = EventRepository(conn)
        self.keys = ApiKeyRepository(conn)
        self.spaces = SpaceRepository(conn)
        self.outbox = OutboxRepository(conn)
        return self

    @property
    def conn(self) -> sa.Connection:
        assert self._conn is not None, "unit of work used outside its 'with' block"
        return self._conn

    def commit(self) -> None:
        if not self._write:
            raise RuntimeError("a read-only unit of work cannot commit")
        self.conn.commit()
        self._committed = True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn = self.conn
        try:
            if self._write and not self._committed:
                conn.rollback()
        finally:
            conn.close()
            self._conn = None


class Database:
    """Hands out units of work over one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def writer(self) -> UnitOfWork:
        return UnitOfWork(self.engine, write=True)

    def reader(self) -> UnitOfWork:
        return UnitOfWork(self.engine, write=False)

    def dispose(self) -> None:
        self.engine.dispose()
