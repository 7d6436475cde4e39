"""``casekeeper export`` / ``import``: the whole database as JSON Lines (docs/BACKUP.md has
the format). One header line, one line per row, one end line:

    {"format": "casekeeper-export", "version": 1, "revision": "<alembic>", "created": ...,
     "source": "sqlite", "tables": [{"name": "space", "rows": 1, "columns": [...]}, ...]}
    {"t": "space", "r": {"id": 1, "name": "default", ...}}
    ...
    {"end": {"space": {"rows": 1, "checksum": "<64 hex>"}, ...}}

Tables come parents first (the order to insert in); values are JSON scalars as the column holds
them (JSON columns as their JSON text, bytes as base64). The end line makes a cut-off file
detectable and carries each table's checksum (transfer_rows.Digest), which import checks
twice: against the rows it read, and against the rows in the target before it commits.
Import is all or nothing, in one target transaction, like ``db copy`` (store.transfer).
"""

from __future__ import annotations

import base64
import binascii
import gzip
import io
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

import orjson
import sqlalchemy as sa

from casekeeper.store.engine import make_engine
from casekeeper.store.transfer import (
    BATCH,
    ROLLED_BACK,
    NoProgress,
    Progress,
    TableResult,
    TransferError,
    after_load,
    head_revision,
    load,
    loading,
    open_source,
    prepare_target,
    snapshot,
    verify,
)
from casekeeper.store.transfer_rows import (
    BOOL,
    BYTES,
    FLOAT,
    INT,
    Digest,
    Row,
    columns,
    count,
    kinds,
    restore_sequences,
    stream,
    tables,
)

FORMAT = "casekeeper-export"
VERSION = 1
_GZIP_MAGIC = b"\x1f\x8b"


# -- export -----------------------------------------------------------------------------------


def export_database(
    url: str, out: IO[bytes], progress: Progress | None = None, batch: int = BATCH
) -> list[TableResult]:
    """Write every row of ``url`` to ``out``, from one consistent snapshot."""
    progress = progress or NoProgress()
    engine = open_source(url)
    try:
        with snapshot(engine) as conn:
            return _export(conn, out, progress, batch)
    finally:
        engine.dispose()


def _export(
    conn: sa.Connection, out: IO[bytes], progress: Progress, batch: int
) -> list[TableResult]:
    totals = {t.name: count(conn, t) for t in tables()}
    header = {
        "format": FORMAT,
        "version": VERSION,
        "revision": head_revision(),
        "created": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "source": conn.dialect.name,
        "tables": [
            {"name": t.name, "rows": totals[t.name], "columns": list(columns(t))} for t in tables()
        ],
    }
    out.write(orjson.dumps(header) + b"\n")
    results, end = [], {}
    for table in tables():
        advance = progress.task(table.name, totals[table.name])
        names = columns(table)
        blobs = [i for i, k in enumerate(kinds(table)) if k == BYTES]
        prefix = b'{"t":' + orjson.dumps(table.name) + b',"r":'
        sums = Digest(table)
        for rows in stream(conn, table, batch):
            sums.add(rows)
            lines = []
            for row in rows:
                values = _with_base64(row, blobs) if blobs else row
                lines.append(prefix + orjson.dumps(dict(zip(names, values, strict=True))))
            out.write(b"}\n".join(lines) + b"}\n")
            advance(len(rows))
        name = str(table.name)  # not SQLAlchemy's str subclass: orjson wants str keys
        end[name] = {"rows": sums.rows, "checksum": sums.hex()}
        results.append(TableResult(name, sums.rows, sums.rows, sums.hex(), sums.hex()))
    out.write(orjson.dumps({"end": end}) + b"\n")
    out.flush()
    return results


def _with_base64(row: Row, blobs: list[int]) -> list[Any]:
    out = list(row)
    for i in blobs:
        if out[i] is not None:
            out[i] = base64.b64encode(out[i]).decode()
    return out


# -- import -----------------------------------------------------------------------------------


def unpacked(raw: io.BufferedReader) -> IO[bytes]:
    """``raw``, decompressed if it is gzip (recognized by its first bytes, file name or not)."""
    if raw.peek(2)[:2] == _GZIP_MAGIC:
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    return raw


@dataclass(frozen=True, slots=True)
class _Spec:
    table: sa.Table
    names: tuple[str, ...]
    kinds: tuple[str, ...]
    rows: int  # as the header says


def import_database(
    url: str, inp: IO[bytes], progress: Progress | None = None, batch: int = BATCH
) -> list[TableResult]:
    """Load an export into the empty database ``url``: all of it, verified, or nothing."""
    progress = progress or NoProgress()
    lines = _lines(inp)
    specs = _header(next(lines, (1, b"")))
    prepare_target(url)
    engine = make_engine(url, pool_size=1)
    try:
        with loading(engine) as conn:
            read, end = _load(conn, lines, specs, progress, batch)
            expected = _checked(read, end, specs)
            restore_sequences(conn)
            results = verify(conn, expected, progress, batch)
        after_load(engine)
    finally:
        engine.dispose()
    return results


def _lines(inp: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """Numbered non-empty lines; a file that cannot be read (bad gzip) raises TransferError."""
    try:
        for number, line in enumerate(inp, 1):
            if line.strip():
                yield number, line
    except (OSError, EOFError, zlib.error) as err:
        raise TransferError(f"cannot read the file: {err}; {ROLLED_BACK}") from None


def _header(first: tuple[int, bytes]) -> dict[str, _Spec]:
    try:
        head = orjson.loads(first[1])
    except orjson.JSONDecodeError:
        head = None
    if not isinstance(head, dict) or head.get("format") != FORMAT:
        raise TransferError("not a casekeeper export: its first line is not the export header")
    if head.get("version") != VERSION:
        raise TransferError(
            f"export format version {head.get('version')} is not one this casekeeper reads "
            f"({VERSION}); import it with the casekeeper version that wrote it"
        )
    ours = head_revision()
    if head.get("revision") != ours:
        raise TransferError(
            f"the file was exported at schema revision {head.get('revision')}, this casekeeper's "
            f"is {ours}: import it with the casekeeper version that wrote it (into an empty "
            "database), run `casekeeper db upgrade` there with this version, then export again"
        )
    listed = {t.get("name"): t for t in head.get("tables", []) if isinstance(t, dict)}
    specs = {}
    for table in tables():
        entry = listed.pop(table.name, None)
        if entry is None or tuple(entry.get("columns", ())) != columns(table):
            raise TransferError(
                f"the header does not list table {table.name} as this schema has it"
            )
        specs[table.name] = _Spec(table, columns(table), kinds(table), int(entry.get("rows", -1)))
    if listed:
        extra = ", ".join(map(str, listed))
        raise TransferError(f"the header lists tables this schema lacks: {extra}")
    return specs


def _load(
    conn: sa.Connection,
    lines: Iterator[tuple[int, bytes]],
    specs: dict[str, _Spec],
    progress: Progress,
    batch: int,
) -> tuple[dict[str, Digest], dict[str, Any]]:
    """Write the file's rows into ``conn``; returns each table's checksum of the rows read and
    the end line's contents."""
    read: dict[str, Digest] = {name: Digest(s.table) for name, s in specs.items()}
    done: set[str] = set()
    spec: _Spec | None = None
    rows: list[Row] = []
    advance: Callable[[int], None] = _ignore
    for number, line in lines:
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as err:
            raise TransferError(f"line {number}: not valid JSON ({err}); {ROLLED_BACK}") from None
        if not isinstance(obj, dict):
            raise TransferError(f"line {number}: not a row; {ROLLED_BACK}")
        if "end" in obj:
            _flush(conn, spec, rows, read, advance)
            if next(lines, None) is not None:
                raise TransferError(f"line {number}: lines after the end line; {ROLLED_BACK}")
            return read, obj["end"] if isinstance(obj["end"], dict) else {}
        name = obj.get("t")
        if spec is None or name != spec.table.name:
            _flush(conn, spec, rows, read, advance)
            if spec is not None:
                done.add(spec.table.name)
            if name not in specs or name in done:
                raise TransferError(
                    f"line {number}: rows of table {name!r} where none are expected (an unknown "
                    f"table, or out of order); {ROLLED_BACK}"
                )
            spec = specs[name]
            advance = progress.task(spec.table.name, spec.rows)
        rows.append(_decoded(number, spec, obj.get("r")))
        if len(rows) >= batch:
            _flush(conn, spec, rows, read, advance)
    raise TransferError(
        f"the file ends without its end line: it was cut off (an export that did not finish, "
        f"or a partial copy); {ROLLED_BACK}"
    )


def _flush(
    conn: sa.Connection,
    spec: _Spec | None,
    rows: list[Row],
    read: dict[str, Digest],
    advance: Callable[[int], None],
) -> None:
    if spec is None or not rows:
        return
    load(conn, spec.table, rows)
    read[spec.table.name].add(rows)
    advance(len(rows))
    rows.clear()


def _ignore(_n: int) -> None:
    pass


_TYPES: dict[str, tuple[type, ...]] = {INT: (int,), BOOL: (bool,), FLOAT: (int, float)}


def _decoded(number: int, spec: _Spec, values: Any) -> Row:
    """A plain row from a line's ``r`` object, checked against the table's columns."""
    table = spec.table.name
    if not isinstance(values, dict) or len(values) != len(spec.names):
        raise TransferError(
            f"line {number}: a row of {table} must be an object of its {len(spec.names)} "
            f"columns; {ROLLED_BACK}"
        )
    out: list[Any] = []
    for name, kind in zip(spec.names, spec.kinds, strict=True):
        if name not in values:
            raise TransferError(f"line {number}: {table}.{name} is missing; {ROLLED_BACK}")
        value = values[name]
        if value is not None:
            want = _TYPES.get(kind, (str,))
            # bool is an int to Python; an int column must not take true/false.
            if type(value) not in want:
                raise TransferError(
                    f"line {number}: {table}.{name} is {type(value).__name__}, not {kind}; "
                    f"{ROLLED_BACK}"
                )
            if kind == BYTES:
                try:
                    value = base64.b64decode(value, validate=True)
                except binascii.Error:
                    raise TransferError(
                        f"line {number}: {table}.{name} is not base64; {ROLLED_BACK}"
                    ) from None
        out.append(value)
    return tuple(out)


def _checked(
    read: dict[str, Digest], end: dict[str, Any], specs: dict[str, _Spec]
) -> dict[str, tuple[int, str]]:
    """What the target must now hold: the end line's counts and checksums, once they agree
    with the header and with the rows read."""
    expected: dict[str, tuple[int, str]] = {}
    for name, spec in specs.items():
        entry = end.get(name)
        if not isinstance(entry, dict):
            raise TransferError(f"the end line lacks table {name}; {ROLLED_BACK}")
        rows, checksum = entry.get("rows"), entry.get("checksum")
        got = read[name]
        if rows != spec.rows or got.rows != spec.rows:
            raise TransferError(
                f"table {name}: the header says {spec.rows} rows, the end line {rows}, the file "
                f"holds {got.rows}; {ROLLED_BACK}"
            )
        if checksum != got.hex():
            raise TransferError(
                f"table {name}: the rows read do not match the file's checksum (the file was "
                f"changed or damaged); {ROLLED_BACK}"
            )
        expected[name] = (spec.rows, checksum)
    return expected
