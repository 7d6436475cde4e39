"""The scheduler's queries: the cases a timer has come due for, claimed by this transaction.

Every claim is one statement that reads whole case rows, at most ``limit`` of them. On
PostgreSQL it ends in ``FOR UPDATE SKIP LOCKED``: the rows come back locked until the caller's
transaction ends, and a row another process (or a person's change) holds is passed over instead
of waited for, so several workers share the due work without queueing behind each other and
none can claim a row another is changing. A row that stops matching while it is claimed (another
worker moved it) is re-checked by PostgreSQL under the lock and left out. On SQLite the writer's
``BEGIN IMMEDIATE`` already holds the whole database, so the same statement without the clause
claims just as surely.

The conditions are written so that an existing index answers them: ``priority IN (every
value)`` puts the time column inside the range both engines walk in
``ix_case_space_sp_create`` and ``ix_case_space_sp_update`` (space, status, priority, time),
and auto-close walks ``ix_case_space_status_end`` (space, status, end_time).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from casekeeper.domain.enums import CasePriority, CaseStatus
from casekeeper.domain.model import Case
from casekeeper.store import driver, schema, tags
from casekeeper.store.case_columns import doc_of
from casekeeper.store.case_rows import CASE_SELECT
from casekeeper.store.cases import row_to_case
from casekeeper.store.schema import case as c
from casekeeper.store.schema import signal_firing as sf
from casekeeper.store.schema import space

ALL_PRIORITIES = tuple(int(p) for p in CasePriority)


def _claim(
    conn: sa.Connection, space_id: int, where: Iterable[ColumnElement[bool]], limit: int
) -> list[Case]:
    stmt = sa.select(*CASE_SELECT).where(c.c.space_id == space_id, *where).limit(limit)
    if conn.dialect.name != "sqlite":
        stmt = stmt.with_for_update(skip_locked=True)
    return [row_to_case(row) for row in conn.execute(stmt)]


def _statuses(statuses: Sequence[CaseStatus]) -> ColumnElement[bool]:
    return c.c.status.in_([int(s) for s in statuses])


def pending(conn: sa.Connection, space_id: int, created_by: int, limit: int) -> list[Case]:
    """PENDING_ACTIVATION cases created at or before ``created_by``."""
    return _claim(
        conn,
        space_id,
        (
            c.c.status == int(CaseStatus.PENDING_ACTIVATION),
            c.c.priority.in_(ALL_PRIORITIES),
            c.c.create_time <= created_by,
        ),
        limit,
    )


def quiet(
    conn: sa.Connection,
    space_id: int,
    statuses: Sequence[CaseStatus],
    updated_by: int,
    limit: int,
    priority: CasePriority | None = None,
    kpi_bit: int = 0,
    *,
    not_firing: bool = False,
) -> list[Case]:
    """Cases in ``statuses`` last changed at or before ``updated_by`` (of one priority, and
    without the KPI breach ``kpi_bit``, if given; with ``not_firing``, none with an alert that
    still fires: a re-sent alert does not change its case, yet the case is not inactive)."""
    where = [
        _statuses(statuses),
        c.c.priority.in_(ALL_PRIORITIES) if priority is None else c.c.priority == int(priority),
        c.c.update_time <= updated_by,
    ]
    if kpi_bit:
        where.append(c.c.breached_kpis.op("&")(kpi_bit) == 0)
    if not_firing:  # ix_signal_firing_case answers it per candidate row
        where.append(~sa.exists().where(sf.c.case_id == c.c.id, sf.c.status == "firing"))
    return _claim(conn, space_id, where, limit)


def aged(
    conn: sa.Connection,
    space_id: int,
    statuses: Sequence[CaseStatus],
    priority: CasePriority,
    created_by: int,
    kpi_bit: int,
    limit: int,
) -> list[Case]:
    """Cases in ``statuses`` of ``priority`` created at or before ``created_by`` that have not
    breached the KPI ``kpi_bit``."""
    return _claim(
        conn,
        space_id,
        (
            _statuses(statuses),
            c.c.priority == int(priority),
            c.c.create_time <= created_by,
            c.c.breached_kpis.op("&")(kpi_bit) == 0,
        ),
        limit,
    )


def resolved(conn: sa.Connection, space_id: int, ended_by: int, limit: int) -> list[Case]:
    """RESOLVED cases that ended at or before ``ended_by``."""
    return _claim(
        conn,
        space_id,
        (c.c.status == int(CaseStatus.RESOLVED), c.c.end_time <= ended_by),
        limit,
    )


def save_breaches(conn: sa.Connection, pairs: Sequence[tuple[Case, Case]]) -> bool:
    """Write the KPI breaches (and version) of each new case over its locked old one: the
    breaches live in ``doc`` and, for filters, in ``breached_kpis``, which the general case
    update leaves alone. False if a row was not at the old version."""
    if not pairs:
        return True
    sql = driver.update_sql(conn, "case", ("doc", "breached_kpis", "version"), ("id", "version"))
    params: list[tuple[Any, ...]] = [
        (driver.json_text(doc_of(new)), tags.kpi_bits(new), new.version, old.id, old.version)
        for old, new in pairs
    ]
    return driver.executemany(conn, sql, params) == len(params)


def space_ids(conn: sa.Connection) -> list[int]:
    return [int(r[0]) for r in conn.execute(sa.select(space.c.id).order_by(space.c.id))]


def claim_run(conn: sa.Connection, space_id: int, name: str, now: int, interval: int) -> bool:
    """Claim ``name``'s run in the space if it is due at ``now``, and make the next one due
    ``interval`` later. One statement either way, so of any number of processes asking at
    once exactly one gets True: PostgreSQL re-checks the UPDATE's condition under the row lock,
    a racing INSERT meets the primary key, and SQLite's writer lock serializes them anyway."""
    lease = schema.work_lease
    moved = conn.execute(
        lease.update()
        .where(lease.c.space_id == space_id, lease.c.name == name, lease.c.next_run <= now)
        .values(next_run=now + interval)
    ).rowcount
    if moved:
        return True
    inserted = conn.execute(_FIRST_LEASE, {"s": space_id, "n": name, "t": now + interval})
    return bool(inserted.rowcount)


# The first run ever: a row made by a racing process meanwhile wins (both engines' syntax).
_FIRST_LEASE = sa.text(
    "INSERT INTO work_lease (space_id, name, next_run) VALUES (:s, :n, :t) "
    "ON CONFLICT (space_id, name) DO NOTHING"
)
