"""GetFilterValues: facet counts over the cases that match a filter."""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa

from casekeeper.domain.enums import CaseCategory, CasePriority, CaseStatus
from casekeeper.domain.query import CaseFilters, FilterValues
from casekeeper.store import tags
from casekeeper.store.case_filters import filter_clauses
from casekeeper.store.schema import case as c
from casekeeper.store.schema import case_tag as t

MAX_BUCKETS = 1000


def filter_values(conn: sa.Connection, space_id: int, f: CaseFilters) -> FilterValues:
    where = [c.c.space_id == space_id, *filter_clauses(f)]
    priorities: dict[CasePriority, int] = defaultdict(int)
    categories: dict[CaseCategory, int] = defaultdict(int)
    statuses: dict[CaseStatus, int] = defaultdict(int)
    cnt = sa.func.count().label("n")
    grouped = sa.select(c.c.status, c.c.priority, c.c.category, cnt).where(*where)
    for row in conn.execute(grouped.group_by(c.c.status, c.c.priority, c.c.category)):
        statuses[CaseStatus(row.status)] += row.n
        priorities[CasePriority(row.priority)] += row.n
        categories[CaseCategory(row.category)] += row.n

    stmt = (
        sa.select(c.c.assignee, cnt)
        .where(*where, c.c.assignee.is_not(None))
        .group_by(c.c.assignee)
        .order_by(cnt.desc(), c.c.assignee)
        .limit(MAX_BUCKETS)
    )
    assignees = {row.assignee: row.n for row in conn.execute(stmt)}
    unassigned_stmt = sa.select(cnt).where(*where, c.c.assignee.is_(None))
    unassigned = int(conn.execute(unassigned_stmt).scalar_one())

    def tag_counts(kind: str) -> dict[str, dict[str, int]]:
        stmt = (
            sa.select(t.c.key, t.c.value, cnt)
            .select_from(t.join(c, c.c.id == t.c.case_id))
            .where(t.c.space_id == space_id, t.c.kind == kind, *where)
            .group_by(t.c.key, t.c.value)
            .order_by(t.c.key, cnt.desc(), t.c.value)
        )
        out: dict[str, dict[str, int]] = {}
        for row in conn.execute(stmt):
            values = out.get(row.key)
            if values is None:
                if len(out) >= MAX_BUCKETS:
                    continue
                values = out[row.key] = {}
            if len(values) < MAX_BUCKETS:
                values[row.value] = row.n
        return out

    alert_ids: dict[str, int] = {}
    if f.alert_filters_present:
        alert_ids = dict(tag_counts(tags.ALERT_ID).get("", {}))

    return FilterValues(
        priorities=dict(priorities),
        categories=dict(categories),
        statuses=dict(statuses),
        groupings=tag_counts(tags.GROUPING),
        labels=tag_counts(tags.LABEL),
        alert_ids=alert_ids,
        assignees=assignees,
        unassigned=unassigned,
    )
