"""GetFilterValues: facet counts over the cases that match a filter (docs/FACETS.md); status
counts and the on-hold count for the dialects that show them."""

from __future__ import annotations

from dataclasses import replace

import sqlalchemy as sa

from casekeeper.domain.enums import CaseStatus
from casekeeper.domain.query import CaseFilters, FilterValues
from casekeeper.store import case_tally
from casekeeper.store.case_filters import filter_clauses
from casekeeper.store.cases import STATUS_OF
from casekeeper.store.facet_sample import bounded
from casekeeper.store.facet_tallied import from_tallies, tallied
from casekeeper.store.schema import case as c


def filter_values(conn: sa.Connection, space_id: int, f: CaseFilters) -> FilterValues:
    """Facet counts over the space's cases matching ``f``: exact sums of the facet tallies
    when ``f`` selects only by status, priority, category and assignee; otherwise counted
    over at most ``facet_sample.SAMPLE`` cases found through an index (exact when they are
    all the candidates, else a marked estimate). Milliseconds either way, at any size."""
    if tallied(f):
        return from_tallies(conn, space_id, f)
    return bounded(conn, space_id, f)


def status_counts(conn: sa.Connection, space_id: int, f: CaseFilters) -> dict[CaseStatus, int]:
    """Cases per status under ``f`` (its own statuses ignored). When ``f`` filters only by
    priority, category and "unassigned", a sum over ``case_tally``; otherwise a count of the
    matching rows."""
    f = replace(f, statuses=())
    rest = replace(f, priorities=(), categories=())
    if rest in (_PLAIN, _UNASSIGNED):
        counted = case_tally.status_counts(
            conn, space_id, [int(p) for p in f.priorities], [int(x) for x in f.categories],
            unassigned_only=rest == _UNASSIGNED,
        )  # fmt: skip
        return {STATUS_OF[s]: n for s, n in counted.items() if n}
    stmt = (
        sa.select(c.c.status, sa.func.count())
        .where(c.c.space_id == space_id, *filter_clauses(f))
        .group_by(c.c.status)
    )
    return {STATUS_OF[s]: int(n) for s, n in conn.execute(stmt)}


def on_hold_count(conn: sa.Connection, space_id: int, f: CaseFilters) -> int:
    """Acknowledged cases on hold under ``f`` (its statuses and on-hold rule ignored): few,
    and found through ``ix_case_on_hold``, which holds only them."""
    f = replace(f, statuses=(), on_hold=None)
    stmt = sa.select(sa.func.count()).where(
        c.c.space_id == space_id, c.c.on_hold == sa.true(),
        c.c.status == int(CaseStatus.ACKNOWLEDGED), *filter_clauses(f),
    )  # fmt: skip
    return int(conn.execute(stmt).scalar_one())


_PLAIN = CaseFilters()
_UNASSIGNED = CaseFilters(include_unassigned=True)
