"""Reader connections belong to no thread: threads that come and go never strand one, and on
SQLite no reader ever waits for a connection (a point read may run on an event loop).

Before, each thread kept its SQLite reader connection for ever; a thread pool that replaced
its idle workers (REST's) used up the pool, and from then on every call waited 30 s and failed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from casekeeper.domain.errors import CasekeeperError, ErrorCode
from casekeeper.store.engine import is_sqlite, make_engine
from casekeeper.store.uow import IDLE_READERS, Database


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(make_engine(database_url))
    yield database
    database.dispose()


def _read(db: Database) -> None:
    with db.reader() as uow:
        uow.spaces.get_id("")


def test_threads_that_end_return_their_connections(db: Database) -> None:
    for _ in range(10):  # 10 bursts of 40 new threads, each of which reads and ends
        threads = [threading.Thread(target=_read, args=(db,)) for _ in range(40)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
    assert db.engine.pool.checkedout() <= IDLE_READERS  # type: ignore[attr-defined]
    started = time.monotonic()
    with db.writer() as uow:
        uow.spaces.ensure("reader-bursts", 0)
        uow.commit()
    assert time.monotonic() - started < 5


def test_sqlite_readers_never_wait_for_a_connection(db: Database) -> None:
    if not db.sqlite:
        pytest.skip("PostgreSQL reads run in worker threads, which may wait for the pool")
    readers = 80  # more than the pool's size and overflow were before
    inside = threading.Barrier(readers + 1, timeout=10)
    failures: list[BaseException] = []

    def hold() -> None:
        try:
            with db.reader() as uow:
                uow.spaces.get_id("")
                inside.wait()  # every reader holds its connection at the same time
                inside.wait()
        except BaseException as err:
            failures.append(err)

    threads = [threading.Thread(target=hold) for _ in range(readers)]
    for t in threads:
        t.start()
    inside.wait()
    _read(db)  # one more, on this thread, while all of them are busy
    inside.wait()
    for t in threads:
        t.join(10)
    assert failures == []
    assert db.idle_readers() <= IDLE_READERS


def test_a_busy_postgresql_pool_is_unavailable_not_internal(database_url: str) -> None:
    if is_sqlite(database_url):
        pytest.skip("SQLite readers never wait for a connection (above)")
    db = Database(make_engine(database_url, pool_size=1, pool_timeout=0.2))
    try:
        # both of the pool's connections (1 + 1 overflow) are busy: a third read waits 0.2 s
        with db.reader(), db.reader(), pytest.raises(CasekeeperError) as err, db.reader():
            pass
        assert err.value.code is ErrorCode.UNAVAILABLE
        _read(db)  # and once they are back, reads go on
    finally:
        db.dispose()


def _read_then_raise(db: Database, err: Exception) -> None:
    with db.reader() as uow:
        uow.spaces.get_id("")
        raise err


def test_a_refused_read_keeps_its_sqlite_connection(db: Database) -> None:
    if not db.sqlite:
        pytest.skip("PostgreSQL readers go back to SQLAlchemy's pool either way")
    _read(db)
    kept = db.idle_readers()
    refusal = CasekeeperError(ErrorCode.CASE_NOT_FOUND, "case 1 was not found")
    with pytest.raises(CasekeeperError):
        _read_then_raise(db, refusal)
    assert db.idle_readers() == kept  # an expected refusal does not cost a reconnect
    with pytest.raises(RuntimeError):
        _read_then_raise(db, RuntimeError("unexpected"))
    assert db.idle_readers() == kept - 1  # an unexpected failure drops the connection
