"""The read side of incidents: list pages, events pages and counts.

A page is keyset-paginated over the caller's order keys plus the id (``incident_keys.py``:
the keys and the tokens). A total over the
fields ``incident_tally`` counts is a sum of a few tally rows; any other is a COUNT.
Aggregations and facets are in ``incident_facets.py``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from casekeeper.domain.incident_query import (
    DEFAULT_ORDER,
    AggregationPage,
    EventFilter,
    EventItem,
    EventPage,
    GroupKey,
    IncidentFilter,
    IncidentFilterValues,
    IncidentPage,
    OrderKey,
    PageRequest,
)
from casekeeper.store import incident_facets as facets
from casekeeper.store.incident_codec import (
    EVENT_COLUMNS,
    INCIDENT_COLUMNS,
    row_to_event,
    row_to_incident,
)
from casekeeper.store.incident_filters import event_where, incident_where, tally_answers
from casekeeper.store.incident_keys import (
    after,
    decode_token,
    encode_token,
    fingerprint,
    order_by,
    sort_keys,
)
from casekeeper.store.schema import incident as inc
from casekeeper.store.schema import incident_event as ev
from casekeeper.store.schema import incident_tally as tally

_INCIDENT = [inc.c[name] for name in INCIDENT_COLUMNS]
_EVENT = [ev.c[name] for name in EVENT_COLUMNS]


class IncidentQueries:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def page(
        self,
        space_id: int,
        f: IncidentFilter,
        order: tuple[OrderKey, ...],
        page: PageRequest,
        now: int,
    ) -> IncidentPage:
        query = fingerprint("incidents", space_id, f, order)
        where = incident_where(space_id, f)
        if page.token:
            now, cursor = decode_token(page.token, query, len(order or DEFAULT_ORDER) + 1)
        keys = sort_keys(space_id, order, now)
        stmt = sa.select(*_INCIDENT, *(k.expr for k in keys)).where(*where)
        if page.token:
            stmt = stmt.where(after(keys, cursor))
        rows = self.conn.execute(stmt.order_by(*order_by(keys)).limit(page.size + 1)).all()
        token = None
        if len(rows) > page.size:
            rows = rows[: page.size]
            token = encode_token(query, now, list(rows[-1][len(_INCIDENT) :]))
        return IncidentPage(
            [row_to_incident(r) for r in rows], self.total(space_id, f, where), token
        )

    def total(self, space_id: int, f: IncidentFilter, where: list[Any]) -> int:
        if tally_answers(f):
            cond = [tally.c.space_id == space_id]
            if f.statuses:
                cond.append(tally.c.status.in_([int(s) for s in f.statuses]))
            if f.states:
                cond.append(tally.c.state.in_([int(s) for s in f.states]))
            if f.severities:
                cond.append(tally.c.severity.in_([int(s) for s in f.severities]))
            if f.is_muted is not None:
                cond.append(tally.c.is_muted.is_(sa.true() if f.is_muted else sa.false()))
            stmt = sa.select(sa.func.coalesce(sa.func.sum(tally.c.n), 0)).where(*cond)
        else:
            stmt = sa.select(sa.func.count()).select_from(inc).where(*where)
        return int(self.conn.execute(stmt).scalar_one())

    def aggregations(
        self,
        space_id: int,
        f: IncidentFilter,
        group_by: tuple[GroupKey, ...],
        page: PageRequest,
        now: int,
    ) -> AggregationPage:
        return facets.aggregations(self.conn, space_id, f, group_by, page, now)

    def filter_values(self, space_id: int, f: IncidentFilter) -> IncidentFilterValues:
        return facets.filter_values(self.conn, space_id, f)

    # -- events ---------------------------------------------------------------------------------

    def _events_from(self, joined: bool) -> Any:
        return ev.join(inc, inc.c.id == ev.c.incident_id) if joined else ev

    def list_events(
        self, space_id: int, f: EventFilter, page: PageRequest, *, descending: bool
    ) -> EventPage:
        query = fingerprint("events", space_id, f, descending)
        where, joined = event_where(space_id, f)
        order = [ev.c.time, ev.c.seq]
        stmt = sa.select(*_EVENT, ev.c.seq).select_from(self._events_from(joined)).where(*where)
        if page.token:
            _, (time, seq) = decode_token(page.token, query, 2)
            tail = (
                sa.tuple_(*order) < (time, seq) if descending else sa.tuple_(*order) > (time, seq)
            )
            stmt = stmt.where(tail)
        stmt = stmt.order_by(*(c.desc() if descending else c.asc() for c in order))
        rows = self.conn.execute(stmt.limit(page.size + 1)).all()
        token = None
        if len(rows) > page.size:
            rows = rows[: page.size]
            token = encode_token(query, 0, [rows[-1][7], rows[-1][-1]])  # time, seq
        events = [row_to_event(r) for r in rows]
        owners = self._incidents({e.incident_id for e in events})
        count = sa.select(sa.func.count()).select_from(self._events_from(joined)).where(*where)
        total = int(self.conn.execute(count).scalar_one())
        return EventPage([EventItem(e, owners[e.incident_id]) for e in events], total, token)

    def _incidents(self, ids: set[str]) -> dict[str, Any]:
        if not ids:
            return {}
        rows = self.conn.execute(sa.select(*_INCIDENT).where(inc.c.id.in_(sorted(ids))))
        return {r[0]: row_to_incident(r) for r in rows}

    def count_events(self, space_id: int, f: EventFilter, limit: int) -> tuple[int, bool]:
        where, joined = event_where(space_id, f)
        capped = sa.select(ev.c.seq).select_from(self._events_from(joined)).where(*where)
        sub = capped.limit(limit + 1).subquery()
        n = int(self.conn.execute(sa.select(sa.func.count()).select_from(sub)).scalar_one())
        return min(n, limit), n > limit

    def event_filter_values(self, space_id: int, f: EventFilter) -> IncidentFilterValues:
        return facets.event_filter_values(self.conn, space_id, f)
