"""Engines for SQLite (the embedded default) and PostgreSQL (production, many processes)."""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

WRITE_OPTION = "casekeeper_write"
READ_CACHE_KIB = 2048
WRITE_CACHE_KIB = 65536
_BIG_CACHE = "casekeeper_big_cache"


def is_sqlite(url: str | sa.URL) -> bool:
    return sa.make_url(url).get_backend_name() == "sqlite"


def normalize_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and use psycopg 3 for them."""
    parsed = sa.make_url(url.replace("postgres://", "postgresql://", 1))
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() in ("", "psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


# orjson instead of the stdlib for JSON columns: several times faster both ways.
JSON_OPTIONS: dict[str, Any] = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}


def make_engine(url: str, *, pool_size: int = 8, pool_timeout: float = 30) -> Engine:
    url = normalize_url(url)
    if is_sqlite(url):
        return _sqlite_engine(url)
    engine = sa.create_engine(
        url,
        **JSON_OPTIONS,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=pool_timeout,
        # No pre-ping: it costs a round trip per checkout. A connection found dead raises once
        # and SQLAlchemy then invalidates the pool.
        pool_recycle=1800,
        # No parallel workers: the statements are short index walks (figures: PERFORMANCE.md,
        # "Design notes", PostgreSQL plans).
        connect_args={"options": "-c max_parallel_workers_per_gather=0"},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Only statements the store asks for are prepared on the server (store.driver.Prepared);
        # psycopg would prepare any statement run 5 times, with a plan blind to its filter's
        # selectivity (PERFORMANCE.md, "Design notes", PostgreSQL plans).
        dbapi_conn.prepare_threshold = _NEVER

    return engine


_NEVER = 2**31  # executions before psycopg prepares a statement on its own; None would also
# refuse explicit prepare=True


def _sqlite_engine(url: str) -> Engine:
    in_memory = sa.make_url(url).database in (None, "", ":memory:")
    kwargs: dict[str, Any] = {
        "connect_args": {"check_same_thread": False, "timeout": 30},
        **JSON_OPTIONS,
    }
    if in_memory:
        kwargs["poolclass"] = sa.StaticPool
    else:
        # No upper bound: nothing in this process may wait for a SQLite connection (a point
        # read runs on an event loop). How many are open is bounded by the threads that read
        # at once; Database keeps a few idle ones, and the pool closes what it has over 16.
        kwargs["pool_size"] = 16
        kwargs["max_overflow"] = -1
    engine = sa.create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control from the driver: we emit BEGIN ourselves below.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            "busy_timeout=30000",
            "temp_store=MEMORY",
            # 2 MiB of page cache per connection: the OS page cache holds the file anyway, and
            # a large per-connection cache times dozens of connections is what grows RSS.
            f"cache_size=-{READ_CACHE_KIB}",
            # Checkpoints run in store.checkpoint's thread, not inside a request's COMMIT.
            "wal_autocheckpoint=0",
            "journal_size_limit=67108864",
        ):
            cur.execute(f"PRAGMA {pragma}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # Writers take the lock up front (BEGIN IMMEDIATE) so two writers never deadlock on a
        # lock upgrade; readers run without a transaction (each statement is its own snapshot).
        if conn.get_execution_options().get(WRITE_OPTION):
            # The one writer at a time gets a large cache for its transaction, so a bulk change
            # does not spill dirty pages mid-transaction (PERFORMANCE.md, "Design notes").
            # Given back when the connection returns to the pool.
            conn.exec_driver_sql(f"PRAGMA cache_size=-{WRITE_CACHE_KIB}")
            conn.connection.info[_BIG_CACHE] = True
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_conn: Any, record: Any) -> None:
        if dbapi_conn is not None and record.info.pop(_BIG_CACHE, False):
            dbapi_conn.execute(f"PRAGMA cache_size=-{READ_CACHE_KIB}")

    return engine
