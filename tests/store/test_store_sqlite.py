"""SQLite specifics of the store: checkpoints off the request path, the writer's page cache,
and where each operation runs (event loop or worker pool)."""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa

from casekeeper.api.coralogix.cases import CASES_OPERATIONS, EVENTS_OPERATIONS, runs_inline
from casekeeper.api.coralogix.permissions import CASES, EVENTS
from casekeeper.domain.errors import CasekeeperError, ErrorCode
from casekeeper.store import checkpoint, migrate
from casekeeper.store import uow as uow_module
from casekeeper.store.engine import READ_CACHE_KIB, WRITE_CACHE_KIB, make_engine
from casekeeper.store.uow import Database


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Any:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    migrate.upgrade(url)
    db = Database(make_engine(url))
    yield db
    db.dispose()


def _pragma(conn: Any, name: str) -> int:
    return int(conn.exec_driver_sql(f"PRAGMA {name}").scalar_one())


def test_commits_leave_checkpoints_to_the_background_thread(sqlite_db: Database) -> None:
    with sqlite_db.writer() as uow:
        assert _pragma(uow.conn, "wal_autocheckpoint") == 0
        uow.spaces.ensure("checkpoint-test", 0)
        uow.commit()
    checkpointer = sqlite_db.checkpointer
    assert checkpointer is not None
    busy, logged, done = checkpointer.checkpoint()
    assert busy == 0
    assert done == logged  # nothing holds the log back: every frame went to the database


def test_writer_gets_the_big_cache_only_for_its_transaction(sqlite_db: Database) -> None:
    with sqlite_db.writer() as uow:
        assert _pragma(uow.conn, "cache_size") == -WRITE_CACHE_KIB
        used = uow.conn.connection.dbapi_connection
    # The pool hands the same connection out again, its cache back at the reader size.
    with sqlite_db.engine.connect() as conn:
        assert conn.connection.dbapi_connection is used
        assert _pragma(conn, "cache_size") == -READ_CACHE_KIB


def test_dispose_stops_the_checkpoint_thread(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'stop.db'}"
    migrate.upgrade(url)
    db = Database(make_engine(url))
    checkpointer = db.checkpointer
    assert checkpointer is not None
    db.dispose()
    assert not checkpointer._thread.is_alive()


def test_in_memory_database_has_no_checkpoint_thread() -> None:
    db = Database(make_engine("sqlite://"))
    assert db.checkpointer is None
    db.dispose()


@pytest.mark.parametrize("sqlite", [True, False])
def test_only_point_reads_on_sqlite_run_on_the_event_loop(sqlite: bool) -> None:
    container: Any = SimpleNamespace(db=SimpleNamespace(sqlite=sqlite))
    paths = [CASES + rpc for rpc in CASES_OPERATIONS] + [EVENTS + rpc for rpc in EVENTS_OPERATIONS]
    inline = {path.rsplit("/", 1)[1] for path in paths if runs_inline(path, container)}
    expected = {"GetCase", "GetCaseByIndicator", "GetCaseDeepLinks", "GetEvent"}
    assert inline == (expected if sqlite else set())


def test_writers_of_one_process_take_turns_and_hand_on_at_once(sqlite_db: Database) -> None:
    order: list[str] = []
    first_in = threading.Event()

    def second() -> None:
        first_in.wait()
        with sqlite_db.writer() as uow:  # waits for its turn, not in SQLite's busy handler
            order.append("second begins")
            uow.spaces.ensure("turn-b", 0)
            uow.commit()

    t = threading.Thread(target=second)
    t.start()
    with sqlite_db.writer() as uow:
        first_in.set()
        t.join(0.3)
        assert t.is_alive()  # held back while this one writes
        uow.spaces.ensure("turn-a", 0)
        uow.commit()
        order.append("first done")
    t.join(10)
    assert order == ["first done", "second begins"]


def test_a_write_that_never_gets_its_turn_is_refused_and_leaks_nothing(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(uow_module, "WRITE_WAIT_SECONDS", 0.2)
    refused: list[CasekeeperError] = []

    def other() -> None:
        try:
            with sqlite_db.writer():
                pass
        except CasekeeperError as err:
            refused.append(err)

    with sqlite_db.writer():
        t = threading.Thread(target=other)
        t.start()
        t.join(10)
    (err,) = refused
    assert err.code is ErrorCode.UNAVAILABLE
    assert "busy" in err.message
    assert "try again" in err.message
    with sqlite_db.writer() as uow:  # the turn was given back (the refused one never had it)
        uow.spaces.ensure("after", 0)
        uow.commit()


def test_a_write_refused_by_sqlite_gives_its_turn_back(sqlite_db: Database, tmp_path: Path) -> None:
    # Another process's writer (here: a plain connection) holds the file's write lock.
    other = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
    other.execute("PRAGMA busy_timeout=0")
    other.execute("BEGIN IMMEDIATE")
    sqlite_db.engine.dispose()  # new connections, whose own wait in SQLite is short

    def impatient(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA busy_timeout=50")  # after the engine's own settings

    sa.event.listen(sqlite_db.engine, "connect", impatient)
    with pytest.raises(CasekeeperError) as refused, sqlite_db.writer():
        pass
    assert refused.value.code is ErrorCode.UNAVAILABLE
    other.rollback()
    other.close()
    with sqlite_db.writer() as uow:  # this process's next writer gets its turn
        uow.spaces.ensure("after-refusal", 0)
        uow.commit()


def test_a_log_past_its_limit_is_restarted_and_the_wait_told(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(checkpoint, "LARGE_WAL_PAGES", 0)
    monkeypatch.setattr(checkpoint, "SLOW_RESTART_S", 0.0)  # every restart counts as slow
    with sqlite_db.writer() as uow:
        uow.spaces.ensure("restart-test", 0)
        uow.commit()
    checkpointer = sqlite_db.checkpointer
    assert checkpointer is not None
    with caplog.at_level(logging.INFO, logger="casekeeper.store"):
        checkpointer._step()
    (record,) = [r for r in caplog.records if "RESTART checkpoint" in r.getMessage()]
    assert record.levelno == logging.WARNING
    assert "the log starts over" in record.getMessage()
    _busy, logged, done = checkpointer.checkpoint()
    assert done == logged  # all of it back in the database: the next writer starts it over
