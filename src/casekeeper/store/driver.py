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

import contextlib
import re
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any, cast

import orjson
import sqlalchemy as sa
from sqlalchemy.sql.compiler import SQLCompiler


def insert_sql(conn: sa.Connection, table: str, columns: tuple[str, ...]) -> str:
    return _insert_sql(conn.dialect.paramstyle, table, columns)


def update_sql(
    conn: sa.Connection, table: str, columns: tuple[str, ...], where: tuple[str, ...]
) -> str:
    return _update_sql(conn.dialect.paramstyle, table, columns, where)


def delete_sql(conn: sa.Connection, table: str, where: tuple[str, ...]) -> str:
    """``DELETE`` of the rows matching every ``where`` column (one row per executemany row)."""
    return _delete_sql(conn.dialect.paramstyle, table, where)


@cache
def _delete_sql(paramstyle: str, table: str, where: tuple[str, ...]) -> str:
    _check_names(table, *where)
    cond = " AND ".join(f'"{c}" = {_mark(paramstyle)}' for c in where)
    return f'DELETE FROM "{table}" WHERE {cond}'  # noqa: S608 - checked identifiers


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
    """Run ``sql`` once per row (one DBAPI executemany on the connection's own cursor, in its
    transaction); the rows it changed in all. The DBAPI cursor, not ``exec_driver_sql``:
    SQLAlchemy's per-row parameter processing cost more than SQLite's insert of the row."""
    if not rows:
        return 0
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(sql, rows)
        return int(cursor.rowcount)
    finally:
        cursor.close()


def fetch(
    conn: sa.Connection,
    sql: str,
    params: Sequence[Any] | Mapping[str, Any],
    *,
    one: bool = False,
    server_prepare: bool = True,
    generic: bool = False,
) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` as tuples, on the connection's DBAPI cursor (at most one if ``one``).

    PostgreSQL: ``server_prepare`` makes it a prepared statement, which PostgreSQL plans for
    the values of its first executions and then, if no dearer, once for all (its default plan
    cache mode); False plans it for its values every time. ``generic`` (with
    ``server_prepare``) makes it use the one plan for all values from the start: for a
    statement whose parameters cannot change the right plan (a list page's cursor), where
    PostgreSQL kept planning every execution (half the page's time)."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if conn.dialect.name == "sqlite":
            cursor.execute(sql, params)
            return _rows(cursor, one)
        if not (generic and server_prepare):
            cursor.execute(sql, params, prepare=server_prepare)  # type: ignore[call-arg]
            return _rows(cursor, one)
        cursor.execute("SET plan_cache_mode = force_generic_plan")
        try:
            cursor.execute(sql, params, prepare=True)  # type: ignore[call-arg]
            rows = _rows(cursor, one)
        except BaseException:
            # In a transaction the failure undid the SET; outside one, undo it here. The
            # statement's own error is the one to report.
            with contextlib.suppress(Exception):
                cursor.execute("RESET plan_cache_mode")
            raise
        cursor.execute("RESET plan_cache_mode")
        return rows
    finally:
        cursor.close()


def _rows(cursor: Any, one: bool) -> list[tuple[Any, ...]]:
    if one:
        row = cursor.fetchone()
        return [row] if row is not None else []
    return list(cursor.fetchall())


class Prepared:
    """A SQLAlchemy statement compiled once per dialect and run on the DBAPI cursor, for reads
    on every request (GetCase's point lookup, a list page): SQLAlchemy's per-execution work
    would cost several times the lookup. Values of bound parameters the statement carries
    itself (a literal compared in a WHERE clause) are taken from the compilation once.

    ``inline_except`` (if given) names the parameters that stay parameters; the others decide
    the plan (a list page's statuses, tag filters, limits). On PostgreSQL they are written
    into the statement as literals, one server-side prepared statement per set of values: a
    plan made once for it is then the plan for those values, and PostgreSQL stops planning
    the statement at every call (half the database time of a list page). Values that are not
    plain integers or printable text run the parameterized statement, planned per call."""

    def __init__(
        self,
        stmt: sa.ClauseElement,
        *,
        server_prepare: bool = True,
        inline_except: tuple[str, ...] | None = None,
    ) -> None:
        self.stmt = stmt
        self.server_prepare = server_prepare
        self.keep = inline_except
        self.compiled: dict[str, tuple[str, tuple[str, ...] | None, dict[str, Any]]] = {}
        self.inline: tuple[str, ...] = ()
        self.literal: dict[tuple[Any, ...], str] = {}

    def _for(self, conn: sa.Connection) -> tuple[str, tuple[str, ...] | None, dict[str, Any]]:
        name = conn.dialect.name
        entry = self.compiled.get(name)
        if entry is None:
            compiled = cast(SQLCompiler, self.stmt.compile(dialect=conn.dialect))
            sql = str(compiled)
            if "POSTCOMPILE" in sql:
                raise ValueError("an expanding IN cannot run as a prepared statement")
            order = tuple(compiled.positiontup or ()) if compiled.positional else None
            binds = compiled.construct_params(_check=False)
            own = {k: v for k, v in binds.items() if v is not None}
            if self.keep is not None and order is None and conn.dialect.paramstyle == "pyformat":
                self.inline = tuple(sorted(k for k in binds if k not in self.keep))
            entry = self.compiled[name] = (sql, order, own)
        return entry

    def rows(
        self,
        conn: sa.Connection,
        params: Mapping[str, Any],
        *,
        one: bool = False,
        generic: bool = False,
    ) -> list[tuple[Any, ...]]:
        """The rows for ``params`` (every parameter the statement leaves unbound), as tuples.
        ``generic``: with its plan-deciding values written in, the statement is planned once
        for all values of the parameters left (see ``fetch``)."""
        sql, order, own = self._for(conn)
        full = {**own, **params} if own else params
        if self.inline and order is None:
            inlined = self._inlined(conn, sql, full)
            if inlined is not None:
                rest = {k: v for k, v in full.items() if k not in self.inline}
                return fetch(conn, inlined, rest, one=one, server_prepare=True, generic=generic)
        values = tuple(full[k] for k in order) if order is not None else full
        return fetch(conn, sql, values, one=one, server_prepare=self.server_prepare)

    def first(self, conn: sa.Connection, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        found = self.rows(conn, params, one=True)
        return found[0] if found else None

    def _inlined(self, conn: sa.Connection, sql: str, params: Mapping[str, Any]) -> str | None:
        """``sql`` with the ``inline`` parameters written as literals (cached per values), or
        None if a value is not safe to write: only ints and printable text without
        backslashes (whose meaning in a literal depends on a server setting) are."""
        key = tuple(params[k] for k in self.inline)
        found = self.literal.get(key)
        if found is not None:
            return found
        text = sa.String().literal_processor(conn.dialect)  # type: ignore[no-untyped-call]
        assert text is not None, "every dialect renders string literals"
        literals: dict[str, str] = {}
        for name, value in zip(self.inline, key, strict=True):
            if type(value) is int:
                literals[name] = str(value)
            elif type(value) is str and value.isprintable() and "\\" not in value:
                literals[name] = text(value)  # quotes doubled, and % for the driver
            else:
                return None
        # One pass over the compiled statement: a value that reads like a placeholder stays
        # text inside its literal.
        done = _PLACEHOLDER.sub(lambda m: literals.get(m[1], m[0]), sql)
        if len(self.literal) >= _LITERAL_MAX:
            self.literal.clear()
        self.literal[key] = done
        return done


_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
# Literal variants kept per statement shape: psycopg keeps 100 prepared statements per
# connection (least recently used first out), so more would only be planned again.
_LITERAL_MAX = 256


def json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


@cache
def upsert_count_sql(mark: str, table: str, keys: tuple[str, ...]) -> str:
    """Add ``n`` to a count row, creating it at ``n`` (the store's own names; values bound)."""
    names = ", ".join(f'"{c}"' for c in (*keys, "n"))
    marks = ", ".join([mark] * (len(keys) + 1))
    conflict = ", ".join(f'"{c}"' for c in keys)
    insert = f'INSERT INTO "{table}" ({names}) VALUES ({marks})'  # noqa: S608
    return f'{insert} ON CONFLICT ({conflict}) DO UPDATE SET "n" = "{table}"."n" + excluded."n"'
