"""``db copy``, ``export`` and ``import`` (store.transfer, store.transfer_jsonl): every row of
a database filled by the services (the demo data, an API key) and rows with awkward values,
copied between real SQLite files and real PostgreSQL databases, checked value by value; and
every refusal leaves the target as it was (docs/BACKUP.md)."""

from __future__ import annotations

import gzip
import io
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa

from casekeeper.bootstrap import bootstrap
from casekeeper.domain.enums import CaseCategory, CasePriority
from casekeeper.service.admin import NewCase
from casekeeper.service.auth import OPERATOR
from casekeeper.service.demo import load_demo
from casekeeper.settings import Settings
from casekeeper.store import migrate, transfer_rows
from casekeeper.store.engine import is_sqlite, make_engine
from casekeeper.store.transfer import TransferError, copy_database, head_revision
from casekeeper.store.transfer_jsonl import export_database, import_database, unpacked
from tests.conftest import ALL_PERMISSIONS, _private_pg_url, drop_pg_database

PG = os.environ.get("CASEKEEPER_TEST_DATABASE_URL", "").strip()
needs_pg = pytest.mark.skipif(
    not PG or is_sqlite(PG), reason="needs PostgreSQL (CASEKEEPER_TEST_DATABASE_URL)"
)
# Values the drivers and the JSON Lines format could get wrong.
ODD_NAME = 'tab\there "quoted" \\ back\nslash é 🚀'
ODD_JSON = '{"z":1,"a":[true,null,1.5e300,"ü"],"n":null,"deep":{"b":2,"a":1}}'
BIG = 2**62 + 1


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def fill(url: str) -> str:
    """Migrate ``url`` and fill it as a server would (the demo data, an API key), plus rows
    with awkward values written directly; returns the API key."""
    migrate.upgrade(url)
    c = bootstrap(Settings.from_env(database_url=url))
    try:
        load_demo(c.db, connectors=c.connectors, routes=c.routes)
        key = c.keys.create(
            granted_by=OPERATOR, name="copied key", permissions=ALL_PERMISSIONS, space="default"
        ).key
        with c.db.writer() as uow:
            space_id = uow.spaces.ensure("default", 1)
            uow.conn.execute(
                sa.text(
                    "INSERT INTO heartbeat (space_id, name, interval_us, last_seen) "
                    "VALUES (:s, :n, :i, :l)"
                ),
                {"s": space_id, "n": ODD_NAME, "i": BIG, "l": -BIG},
            )
            # JSON as text exactly as stored: key order, unicode, a bare number (which SQLite
            # keeps as a number in a JSON column), JSON null (not SQL NULL).
            for payload in (ODD_JSON, "7", "null"):
                uow.conn.execute(
                    sa.text(
                        "INSERT INTO outbox_message (space_id, topic, payload, status, attempts, "
                        "next_attempt_time, create_time) VALUES (:s, 'odd', :p, 'done', 0, 1, 2)"
                    ),
                    {"s": space_id, "p": payload},
                )
            uow.commit()
    finally:
        c.close()
    return key


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A filled SQLite database (url, API key); tests only read it."""
    url = sqlite_url(tmp_path_factory.mktemp("transfer") / "source.db")
    return url, fill(url)


@pytest.fixture
def pg_db() -> Iterator[Callable[[], str]]:
    """Makes private, empty PostgreSQL databases; drops them afterwards."""
    made: list[str] = []

    def make() -> str:
        made.append(_private_pg_url(PG, f"ck_transfer_{os.getpid()}_{uuid.uuid4().hex[:8]}"))
        return made[-1]

    yield make
    drop_pg_database(*made)


def contents(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's plain rows (as transfer reads them), sorted: equal only if every value is."""
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn, conn.begin():
            return {
                str(t.name): sorted(
                    (r for b in transfer_rows.stream(conn, t, 1000) for r in b), key=repr
                )
                for t in transfer_rows.tables()
            }
    finally:
        engine.dispose()


def filled_tables(url: str) -> dict[str, int]:
    return {name: len(rows) for name, rows in contents(url).items() if rows}


def assert_served(url: str, key: str, cases_before: int) -> None:
    """The copy works as a server's database: the key, the cases, and new rows whose ids
    come from sequences (a case, its events, its outbox message) do not collide."""
    c = bootstrap(Settings.from_env(database_url=url))
    try:
        p = c.keys.authenticate(f"Bearer {key}")
        assert sum(n for _, _, n in c.cases.count_by_status()) == cases_before
        spec = NewCase(
            title="after the copy", category=CaseCategory.SECURITY, priority=CasePriority.P2
        )
        made = c.admin.create_case(p, spec)
        assert c.cases.get(p, made.id).title == "after the copy"
    finally:
        c.close()
    rows = contents(url)
    numbers = [r[2] for r in rows["case"] if r[1] == p.space_id and r[2] is not None]
    assert made.number == max(numbers)
    assert numbers.count(made.number) == 1


# -- db copy ----------------------------------------------------------------------------------


def test_copy_sqlite_to_sqlite_keeps_every_value(source: tuple[str, str], tmp_path: Path) -> None:
    url, key = source
    target = sqlite_url(tmp_path / "copy.db")
    results = copy_database(url, target)
    expected = contents(url)
    assert contents(target) == expected
    # Every table of the schema was compared, and the ones the services fill hold rows.
    assert [r.name for r in results] == list(expected)
    assert all(r.ok for r in results)
    assert {"case", "case_event", "incident", "api_key", "app_user", "outbox_message"} <= set(
        filled_tables(target)
    )
    assert ("default",) in {r[1:2] for r in expected["space"]}
    assert_served(target, key, len(expected["case"]))


@needs_pg
def test_copy_to_postgresql_and_back(
    source: tuple[str, str], tmp_path: Path, pg_db: Callable[[], str]
) -> None:
    url, key = source
    pg = pg_db()
    there = {r.name: r for r in copy_database(url, pg)}
    back = sqlite_url(tmp_path / "back.db")
    again = {r.name: r for r in copy_database(pg, back)}
    # The same checksums from both databases, and the very same values after the round trip.
    assert {n: r.checksum for n, r in there.items()} == {n: r.checksum for n, r in again.items()}
    assert contents(back) == contents(url)
    assert_served(pg, key, len(contents(url)["case"]))


@needs_pg
def test_copy_postgresql_to_postgresql(source: tuple[str, str], pg_db: Callable[[], str]) -> None:
    url, _ = source
    first, second = pg_db(), pg_db()
    copy_database(url, first)
    assert all(r.ok for r in copy_database(first, second))
    assert contents(second) == contents(url)


def test_copy_refuses_a_target_with_rows_and_leaves_it_alone(
    source: tuple[str, str], tmp_path: Path
) -> None:
    url, _ = source
    target = sqlite_url(tmp_path / "used.db")
    migrate.upgrade(target)
    c = bootstrap(Settings.from_env(database_url=target))
    try:
        c.keys.create(granted_by=OPERATOR, name="k", permissions=ALL_PERMISSIONS, space="other")
    finally:
        c.close()
    before = contents(target)
    with pytest.raises(TransferError, match=r"not empty .*api_key.*nothing was written"):
        copy_database(url, target)
    assert contents(target) == before


def test_copy_refuses_the_same_database(source: tuple[str, str]) -> None:
    url, _ = source
    path = Path(sa.make_url(url).database or "")
    spelled = sqlite_url(path.parent / ".." / path.parent.name / path.name)
    with pytest.raises(TransferError, match="same database"):
        copy_database(url, spelled)


def test_copy_refuses_a_missing_source_without_creating_it(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    with pytest.raises(TransferError, match="no SQLite database at"):
        copy_database(sqlite_url(missing), sqlite_url(tmp_path / "target.db"))
    assert not missing.exists()


def test_copy_refuses_a_source_behind_the_newest_schema(tmp_path: Path) -> None:
    old = sqlite_url(tmp_path / "old.db")
    migrate.upgrade(old, "82d22570d07f")  # the first revision
    target = tmp_path / "new.db"
    with pytest.raises(TransferError, match=r"82d22570d07f.*casekeeper db upgrade"):
        copy_database(old, sqlite_url(target))
    assert not target.exists()


def test_copy_that_fails_verification_leaves_the_target_empty(
    source: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that loses a row (a stand-in for any damage on the way) is caught by the
    checksums and rolled back; the same copy then succeeds."""
    url, _ = source
    target = sqlite_url(tmp_path / "rolled-back.db")
    real = transfer_rows.write

    def lossy(conn: sa.Connection, table: sa.Table, rows: list[tuple[Any, ...]]) -> None:
        real(conn, table, rows[:-1] if table.name == "case_event" else rows)

    monkeypatch.setattr("casekeeper.store.transfer.write", lossy)
    with pytest.raises(TransferError, match="verification failed for case_event") as failed:
        copy_database(url, target)
    bad = [r for r in failed.value.results if not r.ok]
    assert [(r.name, r.rows - r.target_rows) for r in bad] == [("case_event", 1)]
    assert filled_tables(target) == {}
    monkeypatch.undo()
    assert all(r.ok for r in copy_database(url, target))


@needs_pg
def test_copy_a_row_postgresql_refuses_leaves_it_empty(
    tmp_path: Path, pg_db: Callable[[], str]
) -> None:
    """SQLite does not enforce VARCHAR lengths, PostgreSQL does: the copy names the table,
    and the target holds nothing."""
    url = sqlite_url(tmp_path / "long.db")
    fill(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql('UPDATE "case" SET assignee = ? WHERE number = 3', ("x" * 300,))
    engine.dispose()
    pg = pg_db()
    with pytest.raises(TransferError, match=r"(?s)refused rows of table case: .*too long.*empty"):
        copy_database(url, pg)
    assert filled_tables(pg) == {}


# -- export / import --------------------------------------------------------------------------


def exported(url: str) -> bytes:
    out = io.BytesIO()
    export_database(url, out, batch=100)  # small batches: several per table
    return out.getvalue()


def reader(data: bytes) -> io.BufferedReader:
    return io.BufferedReader(io.BytesIO(data))


def test_export_format(source: tuple[str, str]) -> None:
    url, _ = source
    lines = exported(url).splitlines()
    header, end = orjson.loads(lines[0]), orjson.loads(lines[-1])
    assert header["format"] == "casekeeper-export"
    assert header["version"] == 1
    assert header["revision"] == head_revision()
    counts = {t["name"]: t["rows"] for t in header["tables"]}
    assert counts == {n: len(rows) for n, rows in contents(url).items()}
    assert {n: e["rows"] for n, e in end["end"].items()} == counts
    rows = [orjson.loads(line) for line in lines[1:-1]]
    assert len(rows) == sum(counts.values())
    beat = next(r["r"] for r in rows if r["t"] == "heartbeat")
    assert beat == {"space_id": 1, "name": ODD_NAME, "interval_us": BIG, "last_seen": -BIG}
    payloads = [r["r"]["payload"] for r in rows if r["t"] == "outbox_message"]
    assert {ODD_JSON, "7", "null"} <= set(payloads)
    assert {type(r["r"]["on_hold"]) for r in rows if r["t"] == "case"} == {bool}


def test_import_into_sqlite_restores_every_value(source: tuple[str, str], tmp_path: Path) -> None:
    url, key = source
    target = sqlite_url(tmp_path / "imported.db")
    data = gzip.compress(exported(url))
    results = import_database(target, unpacked(reader(data)), batch=100)
    assert all(r.ok for r in results)
    assert contents(target) == contents(url)
    assert_served(target, key, len(contents(url)["case"]))


@needs_pg
def test_import_into_postgresql_restores_every_value(
    source: tuple[str, str], pg_db: Callable[[], str]
) -> None:
    url, key = source
    pg = pg_db()
    import_database(pg, unpacked(reader(exported(url))))
    assert contents(pg) == contents(url)
    assert exported(pg).splitlines()[-1] == exported(url).splitlines()[-1]  # same checksums
    assert_served(pg, key, len(contents(url)["case"]))


def test_import_refuses_another_schema_revision(source: tuple[str, str], tmp_path: Path) -> None:
    url, _ = source
    lines = exported(url).split(b"\n", 1)
    header = orjson.loads(lines[0])
    header["revision"] = "82d22570d07f"
    target = tmp_path / "other-rev.db"
    data = orjson.dumps(header) + b"\n" + lines[1]
    with pytest.raises(TransferError, match=r"revision 82d22570d07f.*casekeeper db upgrade"):
        import_database(sqlite_url(target), unpacked(reader(data)))
    assert not target.exists()


def corrupt_line(data: bytes) -> tuple[bytes, int]:
    """``data`` with a line in the middle cut in half; and that line's number."""
    lines = data.split(b"\n")
    middle = len(lines) // 2
    lines[middle] = lines[middle][: len(lines[middle]) // 2]
    return b"\n".join(lines), middle + 1


def test_import_of_a_corrupt_line_names_it_and_leaves_the_target_empty(
    source: tuple[str, str], tmp_path: Path
) -> None:
    url, _ = source
    data, number = corrupt_line(exported(url))
    target = sqlite_url(tmp_path / "corrupt.db")
    with pytest.raises(TransferError, match=rf"line {number}: not valid JSON.*empty"):
        import_database(target, unpacked(reader(data)), batch=50)
    assert filled_tables(target) == {}
    # The same target takes the intact file afterwards.
    assert all(r.ok for r in import_database(target, unpacked(reader(exported(url)))))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: d[: d.rindex(b'{"end"')], "ends without its end line: it was cut off"),
        (lambda d: d.replace(b'"title":"', b'"title":"X', 1), "do not match the file's"),
        (lambda d: d.replace(b'"on_hold":false', b'"on_hold":0', 1), "case.on_hold is int"),
        (lambda d: d.replace(b'{"t":"case",', b'{"t":"nope",', 1), "table 'nope'"),
        (lambda d: gzip.compress(d)[:-40], "cannot read the file"),
        (lambda d: b"hello\n" + d, "not a casekeeper export"),
    ],
    ids=["truncated", "edited", "wrong-type", "unknown-table", "bad-gzip", "not-an-export"],
)
def test_import_refuses_a_damaged_file(
    source: tuple[str, str], tmp_path: Path, damage: Callable[[bytes], bytes], message: str
) -> None:
    url, _ = source
    target = sqlite_url(tmp_path / "damaged.db")
    with pytest.raises(TransferError, match=message):
        import_database(target, unpacked(reader(damage(exported(url)))))
    if (tmp_path / "damaged.db").exists():
        assert filled_tables(target) == {}


@needs_pg
def test_import_of_a_corrupt_line_into_postgresql_leaves_it_empty(
    source: tuple[str, str], pg_db: Callable[[], str]
) -> None:
    url, _ = source
    data, number = corrupt_line(exported(url))
    pg = pg_db()
    with pytest.raises(TransferError, match=rf"line {number}: not valid JSON"):
        import_database(pg, unpacked(reader(data)), batch=50)
    assert filled_tables(pg) == {}


def test_import_refuses_a_target_with_rows(source: tuple[str, str]) -> None:
    url, _ = source
    before = contents(url)
    with pytest.raises(TransferError, match="not empty"):
        import_database(url, unpacked(reader(exported(url))))
    assert contents(url) == before
