"""Exact facet counts from the tallies, for filters made only of statuses, priorities,
categories, assignees and "unassigned": sums over at most a few thousand tally rows, whatever
the number of cases."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from casekeeper.domain.query import CaseFilters, FilterValues
from casekeeper.store import tags
from casekeeper.store.facet_counts import Facets
from casekeeper.store.schema import case_assignee_tag_tally as att
from casekeeper.store.schema import case_assignee_tally as at
from casekeeper.store.schema import case_tag_tally as tt
from casekeeper.store.schema import case_tag_total as total
from casekeeper.store.schema import case_tally as ct

_TALLIED = CaseFilters()


def tallied(f: CaseFilters) -> bool:
    """Whether the tallies answer ``f`` exactly (``alert_filters_present`` asks for a facet,
    it filters nothing)."""
    rest = replace(f, statuses=(), priorities=(), categories=(), assignees=(),
                   include_unassigned=False, alert_filters_present=False)  # fmt: skip
    return rest == _TALLIED


def _scalars(table: sa.Table, f: CaseFilters) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if f.statuses:
        out.append(table.c.status.in_(sorted({int(s) for s in f.statuses})))
    if f.priorities:
        out.append(table.c.priority.in_(sorted({int(p) for p in f.priorities})))
    if f.categories:
        out.append(table.c.category.in_(sorted({int(x) for x in f.categories})))
    return out


def _kinds(f: CaseFilters) -> list[str]:
    return [tags.GROUPING, tags.LABEL, *([tags.ALERT_ID] if f.alert_filters_present else [])]


def from_tallies(conn: sa.Connection, space_id: int, f: CaseFilters) -> FilterValues:
    facets = Facets()
    everyone = not f.assignees and not f.include_unassigned
    if everyone or f.include_unassigned:
        where = [ct.c.space_id == space_id, *_scalars(ct, f)]
        if not everyone:
            where.append(ct.c.assigned.is_(False))
        stmt = (
            sa.select(ct.c.status, ct.c.priority, ct.c.category, ct.c.assigned,
                      sa.func.sum(ct.c.n))
            .where(*where)
            .group_by(ct.c.status, ct.c.priority, ct.c.category, ct.c.assigned)
        )  # fmt: skip
        for status, priority, category, assigned, n in conn.execute(stmt):
            # The assigned ones are counted again per assignee below: here only their totals.
            facets.statuses[status] += int(n)
            facets.priorities[priority] += int(n)
            facets.categories[category] += int(n)
            if not assigned:
                facets.unassigned += int(n)
        on = [tt.c.space_id == space_id, *_scalars(tt, f)]
        if everyone and len(on) == 1:  # no filter at all: one row per value
            _tags(conn, facets, total, _kinds(f), [total.c.space_id == space_id])
        else:
            _tags(conn, facets, tt, _kinds(f), on if everyone else [*on, tt.c.assigned.is_(False)])
    _assignees(conn, facets, space_id, f, count_cases=not everyone)
    if f.assignees:
        who = sorted(set(f.assignees))
        on = [att.c.space_id == space_id, att.c.assignee.in_(who), *_scalars(att, f)]
        _tags(conn, facets, att, _kinds(f), on)
    return facets.result(alert_ids=f.alert_filters_present)


def _assignees(
    conn: sa.Connection, facets: Facets, space_id: int, f: CaseFilters, *, count_cases: bool
) -> None:
    """The assignee facet; with an assignee filter, those assignees' cases in every facet
    (``count_cases``: case_tally did not count them)."""
    if not f.assignees and f.include_unassigned:
        return  # only unassigned cases match
    where = [at.c.space_id == space_id, *_scalars(at, f)]
    if f.assignees:
        where.append(at.c.assignee.in_(sorted(set(f.assignees))))
    if not count_cases:
        stmt = sa.select(at.c.assignee, sa.func.sum(at.c.n)).where(*where).group_by(at.c.assignee)
        for who, n in conn.execute(stmt):
            facets.assigned[who] += int(n)
        return
    cols = (at.c.assignee, at.c.status, at.c.priority, at.c.category)
    stmt2 = sa.select(*cols, sa.func.sum(at.c.n)).where(*where).group_by(*cols)
    for who, status, priority, category, n in conn.execute(stmt2):
        facets.case(status, priority, category, who, int(n))


def _tags(
    conn: sa.Connection, facets: Facets, table: sa.Table, kinds: Sequence[str],
    where: Sequence[ColumnElement[bool]],
) -> None:  # fmt: skip
    # One kind at a time: its rows are then one range of the primary key, grouped in order
    # (with kind IN (...), SQLite sorted them all first).
    cols = (table.c.key, table.c.value)
    for kind in kinds:
        stmt = (
            sa.select(*cols, sa.func.sum(table.c.n))
            .where(table.c.kind == kind, *where)
            .group_by(*cols)
        )
        for key, value, n in conn.execute(stmt):
            facets.tag(kind, key, value, int(n))
