"""``case_tally``: cases per (space, status, effective priority, category, assigned or not),
kept with every case write (CaseRepository), so status counts under those filters (and the
unassigned queue) read a few rows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Final

import sqlalchemy as sa

from casekeeper.domain.model import Case
from casekeeper.store import driver
from casekeeper.store.schema import case_tally as ct

Key = tuple[int, int, int, int, bool]
KEYS: Final = ("space_id", "status", "priority", "category", "assigned")


def key_of(x: Case) -> Key:
    return (
        x.space_id,
        int(x.status),
        int(x.priority.effective),
        int(x.category),
        bool(x.assignees),
    )


def add(conn: sa.Connection, came: Counter[Key], gone: Counter[Key]) -> None:
    delta = Counter(came)
    delta.subtract(gone)
    rows = [(*key, n) for key, n in sorted(delta.items()) if n]
    if rows:  # in key order: two writers never wait on each other's rows crosswise
        sql = driver.upsert_count_sql(driver.mark(conn), "case_tally", KEYS)
        driver.executemany(conn, sql, rows)


def status_counts(
    conn: sa.Connection,
    space_id: int,
    priorities: Sequence[int] = (),
    categories: Sequence[int] = (),
    *,
    unassigned_only: bool = False,
) -> dict[int, int]:
    """Cases per status number in the space, of those priorities and categories (all when
    empty), only the unassigned ones with ``unassigned_only``."""
    where = [ct.c.space_id == space_id]
    if unassigned_only:
        where.append(ct.c.assigned.is_(False))
    if priorities:
        where.append(ct.c.priority.in_(sorted(set(priorities))))
    if categories:
        where.append(ct.c.category.in_(sorted(set(categories))))
    stmt = sa.select(ct.c.status, sa.func.sum(ct.c.n)).where(*where).group_by(ct.c.status)
    return {int(s): int(n or 0) for s, n in conn.execute(stmt)}
