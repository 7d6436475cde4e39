"""SQLite specifics of the store: checkpoints off the request path, the writer's page cache,
and where each operation runs (event loop or worker pool)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from casekeeper.api.coralogix.cases import CASES_OPERATIONS, EVENTS_OPERATIONS, runs_inline
from casekeeper.api.coralogix.permissions import CASES, EVENTS
from casekeeper.store import migrate
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
