"""Rows of every table, read and written the same way on SQLite and PostgreSQL (for
``store.transfer``: ``db copy``, ``export``, ``import``; docs/BACKUP.md).

Reads hand out *plain rows*: tuples in the table's column order holding only ints, bools,
floats, str, bytes and None, the same values whichever database they came from. Booleans come
out as bools (SQLite stores 0/1) and JSON columns as their stored JSON text (PostgreSQL is asked
for ``::text``, so nothing re-encodes them and the exact text is carried over). Writes take plain
rows: COPY on PostgreSQL, one executemany per batch on SQLite.

``Digest`` checksums a table: the sum (mod 2**256) of the sha256 of every row's canonical
encoding, so the order rows come in does not matter and no ORDER BY (whose text order differs
between the two databases' collations) is needed.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa

from casekeeper.store import driver
from casekeeper.store.engine import is_sqlite, normalize_url
from casekeeper.store.schema import metadata

Row = tuple[Any, ...]
# Column kinds, from the column's SQLAlchemy type: what a plain value of it is.
INT, BOOL, JSON, BYTES, FLOAT, TEXT = "int", "bool", "json", "bytes", "float", "text"
_MOD = 2**256


def tables() -> list[sa.Table]:
    """Every table of the schema, parents before children (the order to insert in)."""
    return list(metadata.sorted_tables)


def kind_of(column: sa.Column[Any]) -> str:
    t = column.type
    if isinstance(t, sa.Boolean):
        return BOOL
    if isinstance(t, sa.JSON):
        return JSON
    if isinstance(t, sa.LargeBinary):
        return BYTES
    if isinstance(t, sa.Integer):
        return INT
    if isinstance(t, sa.Float | sa.Numeric):
        return FLOAT
    return TEXT


def kinds(table: sa.Table) -> tuple[str, ...]:
    return tuple(kind_of(c) for c in table.columns)


def columns(table: sa.Table) -> tuple[str, ...]:
    return tuple(str(c.name) for c in table.columns)  # orjson wants exact str keys


def _quoted(names: tuple[str, ...]) -> str:
    return ", ".join(f'"{n}"' for n in names)


# -- reading ----------------------------------------------------------------------------------


def _select_sql(conn: sa.Connection, table: sa.Table) -> str:
    pg = conn.dialect.name == "postgresql"
    parts = [
        f'"{c.name}"::text' if pg and kind_of(c) == JSON else f'"{c.name}"' for c in table.columns
    ]
    return f'SELECT {", ".join(parts)} FROM "{table.name}"'  # noqa: S608 - schema's own names


def _json_text(value: Any) -> Any:
    # SQLite gives a JSON column NUMERIC affinity: a bare JSON number comes back as a number.
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def _fixer(conn: sa.Connection, table: sa.Table) -> Callable[[Row], Row] | None:
    """What turns a driver's row into a plain row (None: it already is one)."""
    sqlite = conn.dialect.name == "sqlite"
    fix: list[tuple[int, Callable[[Any], Any]]] = []
    for i, kind in enumerate(kinds(table)):
        if sqlite and kind == BOOL:
            fix.append((i, bool))
        elif sqlite and kind == JSON:
            fix.append((i, _json_text))
        elif kind == BYTES:
            fix.append((i, bytes))  # psycopg may hand out a memoryview
    if not fix:
        return None

    def plain(row: Row) -> Row:
        out = list(row)
        for i, fn in fix:
            if out[i] is not None:
                out[i] = fn(out[i])
        return tuple(out)

    return plain


def stream(conn: sa.Connection, table: sa.Table, batch: int) -> Iterator[list[Row]]:
    """The table's plain rows, ``batch`` at a time, never all in memory: a server-side cursor
    on PostgreSQL (so ``conn`` must be in a transaction), SQLite's own stepping cursor."""
    raw: Any = conn.connection.dbapi_connection
    if conn.dialect.name == "postgresql":
        cursor = raw.cursor(name=f"casekeeper_transfer_{table.name}")
        cursor.itersize = batch
    else:
        cursor = raw.cursor()
    fix = _fixer(conn, table)
    try:
        cursor.execute(_select_sql(conn, table))
        while rows := cursor.fetchmany(batch):
            yield [fix(r) for r in rows] if fix else [tuple(r) for r in rows]
    finally:
        cursor.close()


def count(conn: sa.Connection, table: sa.Table) -> int:
    sql = f'SELECT count(*) FROM "{table.name}"'  # noqa: S608 - schema's own name
    return int(conn.exec_driver_sql(sql).scalar_one())


def holds_rows(conn: sa.Connection, name: str) -> bool:
    sql = f'SELECT 1 FROM "{name}" LIMIT 1'  # noqa: S608 - schema's own name
    return conn.exec_driver_sql(sql).first() is not None


# -- writing ----------------------------------------------------------------------------------


def write(conn: sa.Connection, table: sa.Table, rows: list[Row]) -> None:
    """Insert plain rows into ``table`` in ``conn``'s transaction."""
    if not rows:
        return
    names = columns(table)
    if conn.dialect.name != "postgresql":
        driver.executemany(conn, driver.insert_sql(conn, table.name, names), rows)
        return
    # COPY is several times faster than an INSERT per row. Its text format has the server
    # parse every value by the column's type, so JSON text becomes json as it is.
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        sql = f'COPY "{table.name}" ({_quoted(names)}) FROM STDIN'
        with cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
    finally:
        cursor.close()


def restore_sequences(conn: sa.Connection) -> int:
    """PostgreSQL: set every serial column's sequence past the largest id copied, so the next
    row gets a new one (SQLite's integer keys follow the largest row by themselves). Returns
    how many sequences were set."""
    if conn.dialect.name != "postgresql":
        return 0
    done = 0
    for table in tables():
        for column in table.primary_key.columns:
            if kind_of(column) != INT:
                continue
            seq = conn.exec_driver_sql(
                "SELECT pg_get_serial_sequence(%s, %s)", (f'"{table.name}"', column.name)
            ).scalar()
            if seq is None:
                continue
            top = f'SELECT coalesce(max("{column.name}"), 0) + 1 FROM "{table.name}"'  # noqa: S608
            conn.exec_driver_sql(f"SELECT setval(%s, ({top}), false)", (seq,))
            done += 1
    return done


# -- checksums --------------------------------------------------------------------------------


class Digest:
    """The checksum of a table's rows, whatever their order (see the module's docstring).

    A row's canonical encoding is the JSON array of its values, with a JSON column's value
    parsed and re-serialized with sorted keys (wrapped as {"j": value}, so JSON null differs
    from SQL NULL) and bytes as {"b": base64}: the same bytes from either database."""

    def __init__(self, table: sa.Table) -> None:
        ks = kinds(table)
        self._json = tuple(i for i, k in enumerate(ks) if k == JSON)
        self._bytes = tuple(i for i, k in enumerate(ks) if k == BYTES)
        self.total = 0
        self.rows = 0

    def add(self, rows: list[Row]) -> None:
        total = self.total
        for row in rows:
            canon = self._canonical(row) if self._json or self._bytes else row
            data = orjson.dumps(canon, option=orjson.OPT_SORT_KEYS)
            total += int.from_bytes(hashlib.sha256(data).digest(), "big")
        self.total = total % _MOD
        self.rows += len(rows)

    def _canonical(self, row: Row) -> list[Any]:
        out = list(row)
        for i in self._json:
            if out[i] is not None:
                out[i] = _parsed(out[i])
        for i in self._bytes:
            if out[i] is not None:
                out[i] = {"b": base64.b64encode(out[i]).decode()}
        return out

    def hex(self) -> str:
        return f"{self.total:064x}"


def _parsed(text: Any) -> dict[str, Any]:
    """A JSON column's value, tagged so a parsed value and unparsed text never hash alike.
    SQLite may hand back a bare JSON number as a number (the column's numeric affinity)."""
    if not isinstance(text, str):
        return {"j": text}
    try:
        return {"j": orjson.loads(text)}
    except orjson.JSONDecodeError:
        return {"t": text}  # not JSON orjson reads (an integer past 64 bits): as stored


# -- which database -------------------------------------------------------------------------


def same_database(a: str, b: str) -> bool:
    """Whether two URLs name the same database: the same SQLite file, or the same PostgreSQL
    database on the same server (by host name as written, port and database name)."""
    ua, ub = sa.make_url(normalize_url(a)), sa.make_url(normalize_url(b))
    if ua.get_backend_name() != ub.get_backend_name():
        return False
    if is_sqlite(ua):
        fa, fb = ua.database or "", ub.database or ""
        if fa in ("", ":memory:") or fb in ("", ":memory:"):
            return False
        return Path(fa).resolve() == Path(fb).resolve()
    local = {None, "", "localhost", "127.0.0.1", "::1"}
    host_a = "local" if ua.host in local else ua.host
    host_b = "local" if ub.host in local else ub.host
    return (host_a, ua.port or 5432, ua.database) == (host_b, ub.port or 5432, ub.database)
