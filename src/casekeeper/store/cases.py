"""Case rows: load, insert, versioned update, readable numbers, indicator lookups."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa

from casekeeper.domain.enums import CaseStatus
from casekeeper.domain.errors import case_not_found
from casekeeper.domain.model import Case, CaseRef
from casekeeper.store import case_tally as tally
from casekeeper.store import driver, facet_tally, tags
from casekeeper.store.case_columns import (
    COLUMN_VALUE,
    WRITTEN,
    doc_of,
    mutable_values,
    written_fields,
)

# The row codec lives in case_rows; these names are imported from here too.
from casekeeper.store.case_rows import (
    _AT,
    CASE_COLUMNS,
    CASE_SELECT,
    CATEGORY_OF,
    PRIORITY_OF,
    SEVERITY_OF,
    STATUS_OF,
    row_to_case,
)
from casekeeper.store.schema import case as c
from casekeeper.store.schema import case_tag as t
from casekeeper.store.schema import space

__all__ = [
    "CASE_COLUMNS",
    "CATEGORY_OF",
    "PRIORITY_OF",
    "SEVERITY_OF",
    "STATUS_OF",
    "CaseRepository",
    "case_values",
    "row_to_case",
    "rows_by_ids",
    "sort_values",
]


def case_values(case: Case) -> dict[str, Any]:
    return {
        **mutable_values(case),
        "id": case.id,
        "space_id": case.space_id,
        "create_time": case.create_time,
        "indicator_types": tags.indicator_bits(case),
        "breached_kpis": tags.kpi_bits(case),
        "doc": doc_of(case),
    }


_SELECT_BY_ID = sa.select(*CASE_SELECT).where(
    c.c.space_id == sa.bindparam("s"), c.c.id == sa.bindparam("i")
)
_SELECT_BY_NUMBER = sa.select(*CASE_SELECT).where(
    c.c.space_id == sa.bindparam("s"), c.c.number == sa.bindparam("n")
)


_INDICATORS = [name for name, _ in WRITTEN].index("indicators")
_TAGS_W = [name for name, _ in WRITTEN].index("tags")
_COUNTED = tuple(
    [name for name, _ in WRITTEN].index(n) for n in ("status", "priority", "category", "assignees")
)


_GET_BY_ID = driver.Prepared(_SELECT_BY_ID)
_GET_BY_NUMBER = driver.Prepared(_SELECT_BY_NUMBER)
_ALL_COLUMNS: dict[str, str] = {}


def rows_by_ids(
    conn: sa.Connection, space_id: int, ids: Sequence[str], *, for_update: bool = False
) -> list[tuple[Any, ...]]:
    """Rows (every column, table order) of the cases with these ids, on the DBAPI cursor (a
    bulk operation loads up to 1,000 this way: SQLAlchemy's statement and row handling cost
    more than the lookups). ``for_update`` locks them, in id order (PostgreSQL; a SQLite writer
    already holds the database lock): without ORDER BY, PostgreSQL locks rows in the order it
    finds them, which follows where their latest versions sit in the table, so two bulks over
    the same cases could each hold a row the other waits for (a deadlock, 40P01)."""
    if not ids:
        return []
    dialect = conn.dialect
    head = _ALL_COLUMNS.get(dialect.name)
    if head is None:
        head = _ALL_COLUMNS[dialect.name] = str(sa.select(*CASE_SELECT).compile(dialect=dialect))
    mark = driver.mark(conn)
    sql = f'{head} WHERE "case".space_id = {mark} AND "case".id IN ({", ".join([mark] * len(ids))})'
    if for_update and dialect.name != "sqlite":
        sql += ' ORDER BY "case".id FOR UPDATE'
    return driver.fetch(conn, sql, (space_id, *ids))


def sort_values(row: Sequence[Any], columns: Sequence[str]) -> list[Any]:
    """The values of ``columns`` in a full case row."""
    return [row[_AT[name]] for name in columns]


class CaseRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def get(self, space_id: int, ref: CaseRef, *, for_update: bool = False) -> Case | None:
        if not for_update and not self.conn.in_transaction():
            fast = _GET_BY_ID if ref.uuid is not None else _GET_BY_NUMBER
            key = (
                {"s": space_id, "i": ref.uuid}
                if ref.uuid is not None
                else {"s": space_id, "n": ref.number}
            )
            found = fast.first(self.conn, key)
            return row_to_case(found) if found else None
        stmt = _SELECT_BY_ID if ref.uuid is not None else _SELECT_BY_NUMBER
        if for_update:
            stmt = stmt.with_for_update()
        params = (
            {"s": space_id, "i": ref.uuid}
            if ref.uuid is not None
            else {"s": space_id, "n": ref.number}
        )
        row = self.conn.execute(stmt, params).first()
        return row_to_case(row) if row is not None else None

    def require(self, space_id: int, ref: CaseRef, *, for_update: bool = False) -> Case:
        """``get``, or CASE_NOT_FOUND naming the reference the caller gave."""
        found = self.get(space_id, ref, for_update=for_update)
        if found is None:
            raise case_not_found(ref.raw)
        return found

    def get_many(
        self, space_id: int, refs: Sequence[CaseRef], *, for_update: bool = False
    ) -> dict[str, Case]:
        """Cases keyed by the raw reference text that found them (rows locked if asked)."""
        uuids = {r.uuid for r in refs if r.uuid is not None}
        numbers = {r.number for r in refs if r.number is not None}
        found: list[Case] = []
        if for_update and self.conn.dialect.name != "sqlite":
            # Every lock in one statement, in id order, however the request orders or names
            # the cases: a readable id is first resolved to its case's id, without a lock.
            # Two bulks over the same cases then queue instead of deadlocking.
            uuids.update(self._ids_by_number(space_id, numbers))
            rows = rows_by_ids(self.conn, space_id, sorted(uuids), for_update=True)
            return _by_ref(refs, [row_to_case(r) for r in rows])
        for chunk in _chunks(sorted(uuids), 500):
            rows = rows_by_ids(self.conn, space_id, chunk, for_update=for_update)
            found.extend(row_to_case(r) for r in rows)
        for nchunk in _chunks(sorted(numbers), 500):
            stmt = sa.select(*CASE_SELECT).where(c.c.space_id == space_id, c.c.number.in_(nchunk))
            stmt = stmt.with_for_update() if for_update else stmt
            found.extend(row_to_case(r) for r in self.conn.execute(stmt))
        return _by_ref(refs, found)

    def _ids_by_number(self, space_id: int, numbers: set[int]) -> list[str]:
        """The ids of the cases with these readable numbers (unlocked)."""
        out: list[str] = []
        for chunk in _chunks(sorted(numbers), 500):
            stmt = sa.select(c.c.id).where(c.c.space_id == space_id, c.c.number.in_(chunk))
            out.extend(self.conn.execute(stmt).scalars())
        return out

    def id_taken(self, case_id: str) -> bool:
        """Case ids are unique across spaces."""
        return self.conn.execute(sa.select(c.c.id).where(c.c.id == case_id)).first() is not None

    def add(self, case: Case) -> None:
        self.conn.execute(sa.insert(c), [case_values(case)])
        self._write_tags(case)
        tally.add(self.conn, Counter([tally.key_of(case)]), Counter())
        facet_tally.apply(self.conn, facet_tally.added([case]))

    def add_many(self, cases: Sequence[Case]) -> None:
        """Bulk load (demo data, benchmarks): one executemany per table."""
        if not cases:
            return
        self.conn.execute(sa.insert(c), [case_values(x) for x in cases])
        tally.add(self.conn, Counter(map(tally.key_of, cases)), Counter())
        facet_tally.apply(self.conn, facet_tally.added(cases))
        rows = [r for x in cases for r in _tag_rows(x)]
        if rows:
            self.conn.execute(sa.insert(t), rows)

    def save(self, old: Case, new: Case) -> bool:
        """Write ``new`` (the next version: ``old.version + 1``) over ``old`` if the row still
        has ``old``'s version; False if it lost a race."""
        return self.save_many([(old, new)])

    def save_many(self, pairs: Sequence[tuple[Case, Case]]) -> bool:
        """Versioned update of cases, one executemany writing only the columns of the fields
        that changed (an unchanged indexed column is not rewritten). False if any row lost a
        race. Only the fields in ``WRITTEN`` change after creation."""
        if not pairs:
            return True
        changed = [False] * len(WRITTEN)
        for old, new in pairs:
            if new.version != old.version + 1:
                raise ValueError("a saved case must be the next version of the one it replaces")
            # evolve() shares every unchanged value, so identity settles most fields.
            for i, (a, b) in enumerate(zip(written_fields(old), written_fields(new), strict=True)):
                if a is not b and a != b:
                    changed[i] = True
        columns = tuple(
            col
            for i, (_, cols) in enumerate(WRITTEN)
            if changed[i] or cols[0] in ("update_time", "version")
            for col in cols
        )
        values = [COLUMN_VALUE[col] for col in columns]
        sql = driver.update_sql(self.conn, "case", columns, ("id", "version"))
        params = [(*(value(new) for value in values), old.id, old.version) for old, new in pairs]
        if driver.executemany(self.conn, sql, params) != len(params):
            return False
        if changed[_INDICATORS] or changed[_TAGS_W]:  # alert ids, fingerprints, tags: indexed
            self._retag([
                (old, new) for old, new in pairs
                if old.indicators != new.indicators or old.tags != new.tags
            ])  # fmt: skip
        if any(changed[i] for i in _COUNTED):
            tally.add(self.conn, Counter(map(tally.key_of, (n for _, n in pairs))),
                        Counter(map(tally.key_of, (o for o, _ in pairs))))  # fmt: skip
        if any(changed[i] for i in _COUNTED) or changed[_INDICATORS]:
            facet_tally.apply(self.conn, facet_tally.changes(pairs))
        return True

    def _retag(self, pairs: Sequence[tuple[Case, Case]]) -> None:
        """Write only the tags that came and went: a case gaining one alert of a thousand
        must not rewrite the other 999 rows (ingestion into a big group stayed linear)."""
        gone: list[tuple[Any, ...]] = []
        came: list[tuple[Any, ...]] = []
        for old, new in pairs:
            before, after = set(tags.case_tags(old)), set(tags.case_tags(new))
            gone += [(new.id, k, key, v) for k, key, v in sorted(before - after)]
            came += [(new.id, new.space_id, k, key, v) for k, key, v in sorted(after - before)]
        if gone:
            sql = driver.delete_sql(self.conn, "case_tag", ("case_id", "kind", "key", "value"))
            driver.executemany(self.conn, sql, gone)
        if came:
            columns = ("case_id", "space_id", "kind", "key", "value")
            driver.executemany(self.conn, driver.insert_sql(self.conn, "case_tag", columns), came)

    def _write_tags(self, case: Case) -> None:
        rows = _tag_rows(case)
        if rows:
            self.conn.execute(sa.insert(t), rows)

    def delete_many(self, space_id: int, case_ids: Sequence[str]) -> set[str]:
        """Delete the space's cases of ``case_ids``; their timelines, tags, incidents and
        notifications go with them (ON DELETE CASCADE). The ids deleted."""
        if not case_ids:
            return set()
        wanted = sorted(set(case_ids))
        keyed = sa.select(*facet_tally.DELETE_COLUMNS).where(
            c.c.space_id == space_id, c.c.id.in_(wanted)
        )
        rows = list(self.conn.execute(keyed))
        found = {r[0] for r in rows}
        if found:
            facet_tally.apply(self.conn, facet_tally.deleting(self.conn, space_id, rows))
            self.conn.execute(sa.delete(c).where(c.c.space_id == space_id, c.c.id.in_(found)))
            gone = Counter(
                (space_id, int(r[1]), int(r[2]), int(r[3]), r[4] is not None) for r in rows
            )
            tally.add(self.conn, Counter(), gone)
        return found

    def tag_values(self, space_id: int, kind: str) -> list[str]:
        """Every value of one kind of tag in the space (the case tags: ``tags.TAG``)."""
        stmt = (
            sa.select(t.c.value)
            .where(t.c.space_id == space_id, t.c.kind == kind)
            .distinct()
            .order_by(t.c.value)
        )
        return [r[0] for r in self.conn.execute(stmt)]

    def next_number(self, space_id: int) -> int:
        stmt = (
            sa.update(space)
            .where(space.c.id == space_id)
            .values(case_seq=space.c.case_seq + 1)
            .returning(space.c.case_seq)
        )
        return int(self.conn.execute(stmt).scalar_one())

    def find_by_prometheus(self, space_id: int, fingerprint: str, started: int) -> Case | None:
        key, value = tags.prometheus_key(fingerprint, started)
        stmt = (
            sa.select(*CASE_SELECT)
            .join(t, t.c.case_id == c.c.id)
            .where(
                t.c.space_id == space_id,
                t.c.kind == tags.PROMETHEUS,
                t.c.key == key,
                t.c.value == value,
            )
            .order_by(c.c.create_time.desc())
            .limit(1)
        )
        row = self.conn.execute(stmt).first()
        return row_to_case(row) if row is not None else None

    def count_by_status(self) -> list[tuple[str, CaseStatus, int]]:
        """(space name, status, cases) over every space: for operators' metrics."""
        stmt = (
            sa.select(space.c.name, c.c.status, sa.func.count())
            .join(space, space.c.id == c.c.space_id)
            .group_by(space.c.name, c.c.status)
        )
        return [(r[0], CaseStatus(r[1]), int(r[2])) for r in self.conn.execute(stmt)]

    def grouping_keys(self, space_id: int, limit: int = 1000) -> list[str]:
        stmt = (
            sa.select(t.c.key)
            .where(t.c.space_id == space_id, t.c.kind == tags.GROUPING)
            .group_by(t.c.key)
            .order_by(t.c.key)
            .limit(limit)
        )
        return [r[0] for r in self.conn.execute(stmt)]


def _tag_rows(case: Case) -> list[dict[str, Any]]:
    seen = set(tags.case_tags(case))
    return [
        {"case_id": case.id, "space_id": case.space_id, "kind": k, "key": key, "value": v}
        for k, key, v in sorted(seen)
    ]


def _by_ref(refs: Sequence[CaseRef], found: Sequence[Case]) -> dict[str, Case]:
    """``found`` keyed by the raw text of each reference that names one of them."""
    by_id = {x.id: x for x in found}
    by_number = {x.number: x for x in found if x.number is not None}
    out: dict[str, Case] = {}
    for ref in refs:
        hit = by_id.get(ref.uuid) if ref.uuid else by_number.get(ref.number or 0)
        if hit is not None:
            out[ref.raw] = hit
    return out


T = TypeVar("T")


def _chunks(items: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
