"""``casekeeper db copy``: every row of one database into another, empty one, verified
(docs/BACKUP.md). Also what ``export``/``import`` (store.transfer_jsonl) share with it.

All or nothing: the target is migrated to the newest schema first (its own transactions), then
every row is written, the sequences set and every table verified against the source in ONE
transaction on the target, committed only when all of it matched. A failure at any point (an
error, Ctrl-C, a lost connection, a checksum that differs) rolls it back: the target is left
migrated and empty, and the same command can simply be run again.

The source is read in one read-only snapshot (a read transaction on SQLite, REPEATABLE READ on
PostgreSQL), so the copy is consistent even if something writes meanwhile; what is written
after the snapshot is not copied, hence: stop the server first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from casekeeper.store import migrate
from casekeeper.store.engine import WRITE_OPTION, is_sqlite, make_engine, normalize_url
from casekeeper.store.transfer_rows import (
    Digest,
    Row,
    count,
    holds_rows,
    restore_sequences,
    same_database,
    stream,
    tables,
    write,
)

log = logging.getLogger("casekeeper.store.transfer")
BATCH = 5000
ROLLED_BACK = "nothing was kept (the target was rolled back and is empty)"


class TransferError(Exception):
    """Why a copy, export or import stopped; nothing was written to the target. ``results``
    holds the per-table comparison when verification is what failed."""

    def __init__(self, message: str, results: list[TableResult] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.results = results or []


class Progress(Protocol):
    def task(self, description: str, total: int) -> Callable[[int], None]:
        """Start showing a step of ``total`` rows; returns what to call with each batch done."""
        ...


class NoProgress:
    def task(self, description: str, total: int) -> Callable[[int], None]:  # noqa: ARG002
        return lambda _n: None


@dataclass(frozen=True, slots=True)
class TableResult:
    name: str
    rows: int  # in the source (or the file)
    target_rows: int
    checksum: str
    target_checksum: str

    @property
    def ok(self) -> bool:
        return self.rows == self.target_rows and self.checksum == self.target_checksum


# -- schema revisions -------------------------------------------------------------------------


def head_revision() -> str:
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    head = script.get_current_head()
    assert head is not None, "the packaged migrations have one head"
    return head


def revision_of(conn: sa.Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def open_source(url: str) -> sa.Engine:
    """An engine on the source, refused unless it exists and is at the newest schema (its
    rows would not fit another)."""
    if is_sqlite(url):
        path = sa.make_url(normalize_url(url)).database or ""
        if path not in ("", ":memory:") and not Path(path).is_file():
            # Opening it would create an empty file.
            raise TransferError(f"no SQLite database at {path}")
    engine = make_engine(url, pool_size=1)
    try:
        with _connect(engine, "source") as conn:
            found = revision_of(conn)
    except BaseException:
        engine.dispose()
        raise
    head = head_revision()
    if found != head:
        engine.dispose()
        raise TransferError(
            f"the source database's schema is at revision {found or '(none)'}, not the newest "
            f"({head}); run `casekeeper db upgrade --database-url {_shown(url)}` first"
        )
    return engine


def prepare_target(url: str) -> None:
    """Refuse a target that holds any row (before touching it); migrate it to the newest
    schema otherwise."""
    engine = make_engine(url, pool_size=1)
    try:
        with _connect(engine, "target") as conn:
            present = set(sa.inspect(conn).get_table_names())
            full = [t.name for t in tables() if t.name in present and holds_rows(conn, t.name)]
            found = revision_of(conn)
    finally:
        engine.dispose()
    if full:
        shown = ", ".join(full[:5]) + (f" and {len(full) - 5} more" if len(full) > 5 else "")
        raise TransferError(
            f"the target database is not empty (rows in {shown}); nothing was written. "
            "Use a new, empty database (PostgreSQL: `createdb NAME`; SQLite: a new file name)"
        )
    if found == head_revision():
        return
    try:
        migrate.upgrade(url)
    except CommandError as err:
        raise TransferError(
            f"cannot migrate the target database (at revision {found}): {err}. Is it from a "
            "newer casekeeper? Use a new, empty database"
        ) from None


def _shown(url: str) -> str:
    return sa.make_url(url).render_as_string(hide_password=True)


@contextmanager
def _connect(engine: sa.Engine, role: str) -> Iterator[sa.Connection]:
    try:
        conn = engine.connect()
    except sa.exc.OperationalError as err:
        hint = " (create it first; PostgreSQL: `createdb NAME`)" if role == "target" else ""
        raise TransferError(
            f"cannot open the {role} database {_shown(str(engine.url))}{hint}: "
            f"{str(err.orig).strip()}"
        ) from None
    with conn:
        yield conn


# -- transactions -----------------------------------------------------------------------------


@contextmanager
def snapshot(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection reading one consistent, read-only snapshot of the whole database."""
    with _connect(engine, "source") as conn:
        if conn.dialect.name == "sqlite":
            # The engine leaves SQLite readers outside transactions (a snapshot per statement);
            # one explicit read transaction makes every table come from the same moment.
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        try:
            yield conn
        finally:
            conn.rollback()


@contextmanager
def loading(engine: sa.Engine) -> Iterator[sa.Connection]:
    """The one target transaction: committed when the block ends, rolled back if it raises."""
    with _connect(engine, "target") as conn:
        conn.execution_options(**{WRITE_OPTION: True})  # SQLite: BEGIN IMMEDIATE, big cache
        with conn.begin():
            yield conn


def after_load(engine: sa.Engine) -> None:
    """PostgreSQL has no planner statistics for the new rows until autovacuum gets to them:
    gather them now. SQLite: fold the write-ahead log into the file. The rows are committed
    by now, so a failure here is only worth a warning."""
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
            else:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    except sa.exc.DBAPIError as err:
        log.warning("the copy is complete, but ANALYZE/checkpoint failed: %s", err.orig)


def load(conn: sa.Connection, table: sa.Table, rows: list[Row]) -> None:
    """Write ``rows`` into the target; a row the database refuses is a TransferError."""
    dbapi = conn.dialect.loaded_dbapi
    try:
        write(conn, table, rows)
    except (sa.exc.DBAPIError, dbapi.Error) as err:
        reason = err.orig if isinstance(err, sa.exc.DBAPIError) else err
        raise TransferError(
            f"the target database refused rows of table {table.name}: {str(reason).strip()}; "
            f"{ROLLED_BACK}"
        ) from None


# -- verification -----------------------------------------------------------------------------


def verify(
    conn: sa.Connection,
    expected: dict[str, tuple[int, str]],
    progress: Progress,
    batch: int = BATCH,
) -> list[TableResult]:
    """Count and checksum every table in ``conn`` (the target, in its load transaction) against
    ``expected`` (table: rows, checksum); raises TransferError listing them if any differs."""
    advance = progress.task("verifying", sum(n for n, _ in expected.values()))
    results = []
    for table in tables():
        found = Digest(table)
        for batch_rows in stream(conn, table, batch):
            found.add(batch_rows)
            advance(len(batch_rows))
        rows, checksum = expected[table.name]
        results.append(TableResult(str(table.name), rows, found.rows, checksum, found.hex()))
    bad = [r.name for r in results if not r.ok]
    if bad:
        raise TransferError(
            f"verification failed for {', '.join(bad)}: the target's rows differ from the "
            f"source's; {ROLLED_BACK}",
            results,
        )
    return results


# -- db copy ----------------------------------------------------------------------------------


def copy_database(
    source_url: str,
    target_url: str,
    progress: Progress | None = None,
    batch: int = BATCH,
) -> list[TableResult]:
    """Copy every row of ``source_url`` into the empty ``target_url`` (module docstring)."""
    progress = progress or NoProgress()
    if same_database(source_url, target_url):
        raise TransferError("the source and the target are the same database")
    source = open_source(source_url)
    try:
        prepare_target(target_url)
        target = make_engine(target_url, pool_size=1)
        try:
            with snapshot(source) as src:
                results = _copy_rows(src, target, progress, batch)
            after_load(target)
        finally:
            target.dispose()
    finally:
        source.dispose()
    return results


def _copy_rows(
    src: sa.Connection, target: sa.Engine, progress: Progress, batch: int
) -> list[TableResult]:
    totals = {t.name: count(src, t) for t in tables()}
    expected: dict[str, tuple[int, str]] = {}
    with loading(target) as dst:
        for table in tables():
            advance = progress.task(table.name, totals[table.name])
            sums = Digest(table)
            for rows in stream(src, table, batch):
                load(dst, table, rows)
                sums.add(rows)
                advance(len(rows))
            expected[table.name] = (sums.rows, sums.hex())
        restore_sequences(dst)
        return verify(dst, expected, progress, batch)
