"""Statements run on the DBAPI cursor of a SQLAlchemy connection, for the hot bulk paths.

SQLAlchemy's per-row parameter processing and row objects cost more than SQLite or PostgreSQL
spend on a bulk UPDATE or INSERT of 1,000 rows. The statements here are plain text with the
driver's placeholders, built once per (dialect, shape), and run inside the caller's transaction
on the same connection. JSON values are serialized by the caller (orjson, as the engine does).
"""

from __future__ import annotations

from collections.abc import Sequence
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


def executemany(conn: sa.Connection, sql: str, rows: Sequence[Sequence[Any]]) -> int:
    """Run ``sql`` once per row on the connection's DBAPI cursor; the rows it changed in all."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(sql, rows)
        count = cursor.rowcount
    finally:
        cursor.close()
    return int(count)


def json_text(value: Any) -> str:
    return orjson.dumps(value).decode()
