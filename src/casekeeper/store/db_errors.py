"""Database failures a caller can act on, as ``CasekeeperError``s (docs/FAULTS.md).

A full disk and a database that cannot be reached (refused, lost mid-call, shutting down) are
the operator's to fix and the caller's to retry: they are UNAVAILABLE (503), never an internal
error (500) with a traceback. ``translate`` is called where a unit of work ends and, as a last
resort, by the adapters' catch-all handlers (a failure to connect happens before a unit of work
exists). Anything it does not recognize stays what it was.

The errors come raw from the drivers (``driver.fetch`` runs on the DBAPI cursor) or wrapped by
SQLAlchemy. psycopg is not imported here: a SQLite deployment never loads it, and an error can
only be psycopg's if psycopg is loaded.
"""

from __future__ import annotations

import sqlite3
import sys

import sqlalchemy as sa

from casekeeper.domain.errors import CasekeeperError, ErrorCode

DISK_FULL = "disk_full"
UNREACHABLE = "database_unavailable"
BUSY = "database_busy"
IO_ERROR = "database_io_error"

_DISK_FULL_MESSAGE = (
    "the database's disk is full: the change was not applied. Free space on the database's "
    "disk, then try again"
)
# A connection lost during COMMIT leaves the change in doubt: the message does not promise
# that nothing was applied.
_UNREACHABLE_MESSAGE = "the database is unavailable (unreachable or restarting); try again"
_BUSY_MESSAGE = "the database stayed locked by another writer; nothing was applied: try again"
_IO_MESSAGE = "the database could not read or write its file; try again"

# SQLite primary result codes (the low byte of an extended code).
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_IOERR, _SQLITE_FULL, _SQLITE_CANTOPEN = 5, 6, 10, 13, 14
_SQLITE_REASONS = {
    _SQLITE_FULL: DISK_FULL,
    _SQLITE_BUSY: BUSY,
    _SQLITE_LOCKED: BUSY,
    _SQLITE_IOERR: IO_ERROR,
    _SQLITE_CANTOPEN: IO_ERROR,
}
# PostgreSQL: disk_full; admin_shutdown, crash_shutdown, cannot_connect_now (starting or
# stopping); too_many_connections; read_only_sql_transaction (a standby after a failover).
_PG_DISK_FULL = "53100"
_PG_UNREACHABLE = frozenset({"57P01", "57P02", "57P03", "53300", "25006"})
_MESSAGES = {
    DISK_FULL: _DISK_FULL_MESSAGE,
    UNREACHABLE: _UNREACHABLE_MESSAGE,
    BUSY: _BUSY_MESSAGE,
    IO_ERROR: _IO_MESSAGE,
}


def reason(exc: BaseException) -> str | None:
    """Which of this module's failures ``exc`` is (``DISK_FULL``, ``UNREACHABLE``, ``BUSY``,
    ``IO_ERROR``), or None."""
    orig = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
    if isinstance(orig, sqlite3.Error):
        code = getattr(orig, "sqlite_errorcode", None)
        return _SQLITE_REASONS.get(code & 0xFF) if isinstance(code, int) else None
    if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
        return UNREACHABLE  # SQLAlchemy saw the connection drop
    psycopg = sys.modules.get("psycopg")
    if psycopg is None or not isinstance(orig, psycopg.Error):
        return None
    state = getattr(orig, "sqlstate", None)
    if state == _PG_DISK_FULL:
        return DISK_FULL
    if state in _PG_UNREACHABLE or (state or "").startswith("08"):
        return UNREACHABLE  # 25006 (a read-only standby) is psycopg's InternalError
    # No SQLSTATE on an OperationalError: the client library's own failure (refused, closed,
    # lost mid-statement).
    if state is None and isinstance(orig, psycopg.OperationalError):
        return UNREACHABLE
    return None


def translate(exc: BaseException) -> CasekeeperError | None:
    """``exc`` as the error a caller sees, or None if it is not a database fault this module
    knows (it then stays an internal error)."""
    if isinstance(exc, CasekeeperError):
        return None
    why = reason(exc)
    if why is None:
        return None
    return CasekeeperError(ErrorCode.UNAVAILABLE, _MESSAGES[why], detail={"reason": why})


def connection_lost(exc: BaseException) -> bool:
    """Whether ``exc`` says the connection itself is gone (so it must not be reused)."""
    return reason(exc) == UNREACHABLE
