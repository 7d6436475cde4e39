"""Which driver errors become 503 / UNAVAILABLE (store/db_errors.py), without making the fault:
the exceptions as SQLite, psycopg and SQLAlchemy raise them."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from psycopg import errors as pg

from casekeeper.domain.errors import CasekeeperError, ErrorCode
from casekeeper.store import db_errors
from casekeeper.store.engine import make_engine
from casekeeper.store.uow import Database


def _sqlite(code: int, message: str) -> sqlite3.OperationalError:
    err = sqlite3.OperationalError(message)
    err.sqlite_errorcode = code  # what the driver sets (the extended result code)
    return err


def _wrapped(orig: Exception) -> sa.exc.OperationalError:
    return sa.exc.OperationalError("SELECT 1", {}, orig)


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (_sqlite(13, "database or disk is full"), db_errors.DISK_FULL),
        (_wrapped(_sqlite(13, "database or disk is full")), db_errors.DISK_FULL),
        (_sqlite(5, "database is locked"), db_errors.BUSY),
        (_sqlite(10 | (4 << 8), "disk I/O error"), db_errors.IO_ERROR),  # SQLITE_IOERR_WRITE
        (_sqlite(14, "unable to open database file"), db_errors.IO_ERROR),
        (psycopg.OperationalError("connection failed: Connection refused"), db_errors.UNREACHABLE),
        (_wrapped(psycopg.OperationalError("server closed the connection")), db_errors.UNREACHABLE),
        (pg.AdminShutdown("terminating connection"), db_errors.UNREACHABLE),
        (pg.CannotConnectNow("the database system is starting up"), db_errors.UNREACHABLE),
        (pg.TooManyConnections("too many clients"), db_errors.UNREACHABLE),
        (pg.DiskFull("could not extend file"), db_errors.DISK_FULL),
        # After a failover the URL may name a demoted primary: psycopg's InternalError.
        (pg.ReadOnlySqlTransaction("read-only transaction"), db_errors.UNREACHABLE),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else v,
)
def test_database_faults_become_unavailable(exc: Exception, reason: str) -> None:
    err = db_errors.translate(exc)
    assert err is not None
    assert (err.code, err.detail["reason"]) == (ErrorCode.UNAVAILABLE, reason)
    assert err.spec.http_status == 503
    assert err.spec.grpc_status == "UNAVAILABLE"


@pytest.mark.parametrize(
    "exc",
    [
        _sqlite(19, "UNIQUE constraint failed"),  # a bug or a race: not the operator's fault
        _sqlite(11, "database disk image is malformed"),  # corruption is not transient
        pg.UniqueViolation("duplicate key"),
        pg.QueryCanceled("canceling statement due to statement timeout"),
        ValueError("not a database error"),
        CasekeeperError(ErrorCode.CONFLICT, "already a refusal"),
    ],
    ids=lambda v: type(v).__name__,
)
def test_other_errors_are_left_alone(exc: Exception) -> None:
    assert db_errors.translate(exc) is None


def test_a_unit_of_work_ending_in_a_database_fault_raises_unavailable(tmp_path: Path) -> None:
    db = Database(make_engine(f"sqlite:///{tmp_path / 'uow.db'}"))
    try:
        with pytest.raises(CasekeeperError) as raised, db.writer():
            raise _sqlite(13, "database or disk is full")
        assert raised.value.code is ErrorCode.UNAVAILABLE
        assert "disk is full" in raised.value.message
        with db.reader() as uow:  # the connection pool is sound afterwards
            assert uow.conn.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        db.dispose()


def test_a_database_that_refuses_connections_is_unavailable_before_any_unit_of_work() -> None:
    """The connect itself fails (nothing listens): every caller, the console's pages
    included, gets UNAVAILABLE from ``Database.connection``, not an internal error."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again before the connect: refused
    db = Database(make_engine(f"postgresql://postgres@127.0.0.1:{port}/nowhere"))
    try:
        for unit in (db.reader, db.writer):
            with pytest.raises(CasekeeperError) as caught, unit():
                pass
            assert caught.value.code is ErrorCode.UNAVAILABLE
            assert caught.value.detail["reason"] == db_errors.UNREACHABLE
    finally:
        db.dispose()
