"""The read side of incidents: list pages, events pages and counts.

A page is keyset-paginated over the caller's order keys plus the id, with every key made
NULL-free (a missing close time or label sorts as 0 or ""), so a token carries plain values.
Durations are measured at the first page's ``now``, kept in the token, so later pages agree.
Tokens are opaque (base64url JSON) and tied to the query they came from. A total over the
fields ``incident_tally`` counts is a sum of a few tally rows; any other is a COUNT.
Aggregations and facets are in ``incident_facets.py``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from casekeeper.domain.errors import CasekeeperError, ErrorCode
from casekeeper.domain.incident_query import (
    DEFAULT_ORDER,
    AggregationPage,
    EventFilter,
    EventItem,
    EventPage,
    GroupKey,
    IncidentField,
    IncidentFilter,
    IncidentFilterValues,
    IncidentPage,
    OrderKey,
    PageRequest,
)
from casekeeper.store import incident_facets as facets
from casekeeper.store.incident_codec import (
    CONTEXTUAL,
    EVENT_COLUMNS,
    INCIDENT_COLUMNS,
    row_to_event,
    row_to_incident,
)
from casekeeper.store.incident_filters import event_where, incident_where, tally_answers
from casekeeper.store.schema import incident as inc
from casekeeper.store.schema import incident_event as ev
from casekeeper.store.schema import incident_label as lab
from casekeeper.store.schema import incident_tally as tally
from casekeeper.store.tags import tag_text

_INCIDENT = [inc.c[name] for name in INCIDENT_COLUMNS]
_EVENT = [ev.c[name] for name in EVENT_COLUMNS]


@dataclass(frozen=True, slots=True)
class SortKey:
    expr: ColumnElement[Any]
    ascending: bool


def field_expr(field: IncidentField, now: int) -> ColumnElement[Any]:
    """The NULL-free SQL value of ``field`` that orders and groups incidents."""
    match field:
        case IncidentField.SEVERITY:
            return inc.c.severity_rank
        case IncidentField.NAME:
            return inc.c.name
        case IncidentField.CLOSED_TIME:
            return sa.func.coalesce(inc.c.closed_at, 0)
        case IncidentField.STATE:
            return inc.c.state
        case IncidentField.STATUS:
            return inc.c.status
        case IncidentField.LAST_STATE_UPDATE_TIME:
            return inc.c.last_state_update_time
        case IncidentField.APPLICATION_NAME:
            return sa.func.coalesce(inc.c.application_name, "")
        case IncidentField.SUBSYSTEM_NAME:
            return sa.func.coalesce(inc.c.subsystem_name, "")
        case IncidentField.ID:
            return inc.c.id
        case IncidentField.DURATION:
            return sa.func.coalesce(inc.c.closed_at, now) - inc.c.created_at
        case _:  # CREATED_TIME, and UNSPECIFIED as the API's default
            return inc.c.created_at


def label_expr(space_id: int, key: str) -> ColumnElement[Any]:
    """A contextual label's value on each incident ("" where it has none)."""
    value = (
        sa.select(lab.c.value)
        .where(
            lab.c.incident_id == inc.c.id,
            lab.c.space_id == space_id,
            lab.c.kind == CONTEXTUAL,
            lab.c.key == tag_text(key),
        )
        .order_by(lab.c.value)
        .limit(1)
        .scalar_subquery()
    )
    return sa.func.coalesce(value, "")


def key_expr(space_id: int, field: IncidentField | None, label: str | None, now: int) -> Any:
    if label is not None:
        return label_expr(space_id, label)
    return field_expr(field or IncidentField.UNSPECIFIED, now)


def sort_keys(space_id: int, order: Sequence[OrderKey], now: int) -> list[SortKey]:
    keys = [
        SortKey(key_expr(space_id, k.field, k.contextual_label, now), not k.descending)
        for k in order or DEFAULT_ORDER
    ]
    return [*keys, SortKey(inc.c.id, keys[-1].ascending)]


def after(keys: Sequence[SortKey], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after ``values`` in the order of ``keys``: a row-value comparison when
    every key runs one way (both databases then seek the index to it), else its expansion."""
    if all(k.ascending == keys[0].ascending for k in keys):
        left = sa.tuple_(*(k.expr for k in keys))
        right = sa.tuple_(*(sa.literal(v) for v in values))
        return left > right if keys[0].ascending else left < right
    branches = []
    for i, key in enumerate(keys):
        cond = [k.expr == v for k, v in zip(keys[:i], values[:i], strict=True)]
        cond.append(key.expr > values[i] if key.ascending else key.expr < values[i])
        branches.append(sa.and_(*cond))
    return sa.or_(*branches)


def _order_by(keys: Sequence[SortKey]) -> list[Any]:
    return [k.expr.asc() if k.ascending else k.expr.desc() for k in keys]


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def encode_token(query: str, now: int, values: Sequence[Any]) -> str:
    raw = json.dumps([query, now, list(values)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_token(token: str, query: str, arity: int) -> tuple[int, list[Any]]:
    bad = CasekeeperError(
        ErrorCode.INVALID_PAGE_TOKEN,
        "pagination.pageToken is not a token this server issued for this query; start again "
        "without a page token",
    )
    try:
        padded = token + "=" * (-len(token) % 4)
        q, now, values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError):
        raise bad from None
    if q != query or not isinstance(now, int) or not isinstance(values, list):
        raise bad
    if len(values) != arity or not all(
        (isinstance(v, int) and not isinstance(v, bool) and abs(v) <= 2**62)
        or (isinstance(v, str) and len(v) <= 4096)
        for v in values
    ):
        raise bad
    return now, values


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
        query = _fingerprint("incidents", space_id, f, order)
        where = incident_where(space_id, f)
        if page.token:
            now, cursor = decode_token(page.token, query, len(order or DEFAULT_ORDER) + 1)
        keys = sort_keys(space_id, order, now)
        stmt = sa.select(*_INCIDENT, *(k.expr for k in keys)).where(*where)
        if page.token:
            stmt = stmt.where(after(keys, cursor))
        rows = self.conn.execute(stmt.order_by(*_order_by(keys)).limit(page.size + 1)).all()
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
        query = _fingerprint("events", space_id, f, descending)
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
