"""Plain-SQL statements for the hot paths.

SQLAlchemy's per-row parameter processing for a Core ``insert()``/``update()`` executemany costs
about as much as SQLite spends on a bulk write of 1,000 rows, and its per-execution work would
triple the cost of GetCase's point read. The statements here are plain text with the driver's
placeholders, built once per (paramstyle, shape). Writes run through ``exec_driver_sql``:
parameters go to the driver as they are, while SQLAlchemy still sees the statement (events,
error wrapping, connection invalidation). Reads (``fetch``) run on the DBAPI cursor and return
plain tuples. JSON values are serialized by the caller (orjson, as the engine does).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import orjson
import sqlalchemy as sa


def insert_sql(conn: sa.Connection, table: str, columns: tuple[str, ...]) -> str:
    return _insert_sql(conn.dialect.paramstyle, table, columns)


def update_sql(
    conn: sa.Connection, table: str, columns: tuple[str, ...], where: tuple[str, ...]
) -> str:
    return _update_sql(conn.dialect.paramstyle, table, columns, where)


def mark(conn: sa.Connection) -> str:
    """The driver's positional placeholder."""
    return _mark(conn.dialect.paramstyle)


def _mark(paramstyle: str) -> str:
    return "?" if paramstyle == "qmark" else "%s"


@cache
def _insert_sql(paramstyle: str, table: str, columns: tuple[str, ...]) -> str:
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join([_mark(paramstyle)] * len(columns))
    # Identifiers are the store's own constants (checked below); every value is bound.
    _check_names(table, *columns)
    return f'INSERT INTO "{table}" ({names}) VALUES ({marks})'  # noqa: S608


@cache
def _update_sql(
    paramstyle: str, table: str, columns: tuple[str, ...], where: tuple[str, ...]
) -> str:
    mark = _mark(paramstyle)
    sets = ", ".join(f'"{c}" = {mark}' for c in columns)
    cond = " AND ".join(f'"{c}" = {mark}' for c in where)
    _check_names(table, *columns, *where)
    return f'UPDATE "{table}" SET {sets} WHERE {cond}'  # noqa: S608


def _check_names(*names: str) -> None:
    for name in names:
        if not name.isidentifier():
            raise ValueError(f"not a plain SQL identifier: {name!r}")


def executemany(conn: sa.Connection, sql: str, rows: Sequence[tuple[Any, ...]]) -> int:
    """Run ``sql`` once per row (one DBAPI executemany); the rows it changed in all."""
    return int(conn.exec_driver_sql(sql, list(rows)).rowcount)


def fetch(
    conn: sa.Connection, sql: str, params: Sequence[Any] | Mapping[str, Any], *, one: bool = False
) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` as tuples, on the connection's DBAPI cursor (at most one if ``one``)."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, params)
        if one:
            row = cursor.fetchone()
            return [row] if row is not None else []
        return list(cursor.fetchall())
    finally:
        cursor.close()


def json_text(value: Any) -> str:
    return orjson.dumps(value).decode()
