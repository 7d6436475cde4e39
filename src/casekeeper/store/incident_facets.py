"""Facet counts (GetFilterValues, ListIncidentEventsFilterValues) and aggregations.

Without a filter, incident facets come from the tallies kept with every write (a few hundred
rows, not a million incidents). With one, the matching incidents are grouped. Facets list at
most ``MAX_BUCKETS`` values per field or label key, most frequent first; an aggregation lists
at most ``MAX_GROUP_IDS`` incident ids per group (its count is exact).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa

from casekeeper.domain.incident_query import (
    Aggregation,
    AggregationPage,
    EventFilter,
    GroupKey,
    GroupValue,
    IncidentField,
    IncidentFilter,
    IncidentFilterValues,
    PageRequest,
)
from casekeeper.domain.incidents import (
    SEVERITY_RANK,
    IncidentSeverity,
    IncidentState,
    IncidentStatus,
)
from casekeeper.domain.model import KeyValue
from casekeeper.store.incident_codec import ASSIGNEE, CONTEXTUAL, DISPLAY, META
from casekeeper.store.incident_filters import event_where, incident_where
from casekeeper.store.incident_keys import (
    decode_token,
    encode_token,
    fingerprint,
    invalid_token,
    key_expr,
)
from casekeeper.store.schema import incident as inc
from casekeeper.store.schema import incident_event as ev
from casekeeper.store.schema import incident_label as lab
from casekeeper.store.schema import incident_label_tally as label_tally
from casekeeper.store.schema import incident_tally as tally

if TYPE_CHECKING:
    from sqlalchemy.sql.elements import ColumnElement

MAX_BUCKETS = 1000
MAX_GROUP_IDS = 1000
_STATE = {m.value: m for m in IncidentState}
_STATUS = {m.value: m for m in IncidentStatus}
_SEVERITY = {m.value: m for m in IncidentSeverity}
_BY_RANK = {rank: s for s, rank in SEVERITY_RANK.items()}


def _top(counts: Mapping[Any, int]) -> dict[Any, int]:
    ranked = sorted(
        ((k, n) for k, n in counts.items() if n > 0), key=lambda kv: (-kv[1], str(kv[0]))
    )
    return dict(ranked[:MAX_BUCKETS])


def _values(
    scalar: Iterable[tuple[int, int, int, str | None, int]],
    labels: Iterable[tuple[str, str, str, int]],
    meta_all: bool,
) -> IncidentFilterValues:
    """Facets from (status, state, severity, assignee, n) and (kind, key, value, n) rows."""
    statuses: Counter[IncidentStatus] = Counter()
    states: Counter[IncidentState] = Counter()
    severities: Counter[IncidentSeverity] = Counter()
    assignees: Counter[str] = Counter()
    for status, state, severity, assignee, n in scalar:
        statuses[_STATUS[status]] += n
        states[_STATE[state]] += n
        severities[_SEVERITY[severity]] += n
        if assignee is not None:
            assignees[assignee] += n
    by_kind: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    for kind, key, value, n in labels:
        if kind == ASSIGNEE:
            assignees[value] += n
        else:
            by_kind[kind][key][value] += n
    meta = Counter({KeyValue(k, v): n for k, vs in by_kind[META].items() for v, n in vs.items()})
    return IncidentFilterValues(
        assignees=_top(assignees),
        statuses=_top(statuses),
        states=_top(states),
        severities=_top(severities),
        contextual_labels={k: _top(vs) for k, vs in sorted(by_kind[CONTEXTUAL].items())},
        display_labels={k: _top(vs) for k, vs in sorted(by_kind[DISPLAY].items())},
        meta_labels=_top(meta),
        meta_labels_all=meta_all,
    )


def filter_values(conn: sa.Connection, space_id: int, f: IncidentFilter) -> IncidentFilterValues:
    n = sa.func.count()
    if f == IncidentFilter(meta_labels_all=f.meta_labels_all):
        scalar = conn.execute(
            sa.select(
                tally.c.status, tally.c.state, tally.c.severity, sa.null(), sa.func.sum(tally.c.n)
            )
            .where(tally.c.space_id == space_id)
            .group_by(tally.c.status, tally.c.state, tally.c.severity)
        ).all()
        labels = conn.execute(
            sa.select(
                label_tally.c.kind, label_tally.c.key, label_tally.c.value, label_tally.c.n
            ).where(label_tally.c.space_id == space_id, label_tally.c.n > 0)
        ).all()
        return _values(
            [(a, b, c, d, int(e)) for a, b, c, d, e in scalar], labels, f.meta_labels_all
        )
    where = incident_where(space_id, f)
    scalar = conn.execute(
        sa.select(inc.c.status, inc.c.state, inc.c.severity, inc.c.assignee, n)
        .where(*where)
        .group_by(inc.c.status, inc.c.state, inc.c.severity, inc.c.assignee)
    ).all()
    labels = conn.execute(
        sa.select(lab.c.kind, lab.c.key, lab.c.value, n)
        .select_from(lab.join(inc, inc.c.id == lab.c.incident_id))
        .where(*where)
        .group_by(lab.c.kind, lab.c.key, lab.c.value)
    ).all()
    return _values(scalar, labels, f.meta_labels_all)


def event_filter_values(conn: sa.Connection, space_id: int, f: EventFilter) -> IncidentFilterValues:
    """Facets over the matching events: status, state and severity as each event recorded
    them; assignee and labels of their incidents."""
    where, _ = event_where(space_id, f)
    joined = ev.join(inc, inc.c.id == ev.c.incident_id)
    n = sa.func.count()
    scalar = conn.execute(
        sa.select(ev.c.status, ev.c.state, ev.c.severity, inc.c.assignee, n)
        .select_from(joined)
        .where(*where)
        .group_by(ev.c.status, ev.c.state, ev.c.severity, inc.c.assignee)
    ).all()
    labels = conn.execute(
        sa.select(lab.c.kind, lab.c.key, lab.c.value, n)
        .select_from(joined.join(lab, lab.c.incident_id == inc.c.id))
        .where(*where)
        .group_by(lab.c.kind, lab.c.key, lab.c.value)
    ).all()
    return _values(scalar, labels, f.meta_labels_all)


# -- aggregations ------------------------------------------------------------------------------


def _group_value(key: GroupKey, raw: Any) -> object:
    """A group's key value in domain terms (an enum member, a time, a text; None for "")."""
    if key.contextual_label is not None:
        return raw or None
    match key.field:
        case IncidentField.SEVERITY:
            return _BY_RANK[raw]
        case IncidentField.STATE:
            return _STATE[raw]
        case IncidentField.STATUS:
            return _STATUS[raw]
        case IncidentField.CLOSED_TIME:
            return raw or None
        case IncidentField.APPLICATION_NAME | IncidentField.SUBSYSTEM_NAME:
            return raw or None
        case _:
            return raw


def aggregations(
    conn: sa.Connection,
    space_id: int,
    f: IncidentFilter,
    group_by: tuple[GroupKey, ...],
    page: PageRequest,
    now: int,
) -> AggregationPage:
    exprs: list[ColumnElement[Any]] = [
        key_expr(space_id, k.field, k.contextual_label, now) for k in group_by
    ]
    where = incident_where(space_id, f)
    cols = [e.label(f"g{i}") for i, e in enumerate(exprs)]
    order = [c.desc() if k.descending else c.asc() for c, k in zip(exprs, group_by, strict=True)]
    groups = conn.execute(
        sa.select(*cols, sa.func.count(), sa.func.min(inc.c.created_at),
                  sa.func.max(inc.c.closed_at), sa.func.max(inc.c.last_state_update_time))
        .where(*where)
        .group_by(*exprs)
        .order_by(*order)
    ).all()  # fmt: skip
    start = _offset(page.token, group_by, f)
    chosen = groups[start : start + page.size]
    token = None
    if start + page.size < len(groups):
        token = _offset_token(start + page.size, group_by, f)
    wanted = {tuple(g[: len(exprs)]) for g in chosen}
    detail: dict[tuple[Any, ...], dict[str, Any]] = defaultdict(
        lambda: {
            "ids": [],
            "st": Counter(),
            "su": Counter(),
            "sv": Counter(),
            "a": Counter(),
            "m": Counter(),
        }
    )
    if wanted:
        rows = conn.execute(
            sa.select(*exprs, inc.c.id, inc.c.state, inc.c.status, inc.c.severity,
                      inc.c.assignee, inc.c.meta_labels)
            .where(*where)
            .order_by(inc.c.created_at.desc(), inc.c.id)
        )  # fmt: skip
        width = len(exprs)
        for row in rows:
            group = tuple(row[:width])
            if group not in wanted:
                continue
            d = detail[group]
            incident_id, state, status, severity, assignee, meta = row[width:]
            if len(d["ids"]) < MAX_GROUP_IDS:
                d["ids"].append(incident_id)
            d["st"][_STATE[state]] += 1
            d["su"][_STATUS[status]] += 1
            d["sv"][_SEVERITY[severity]] += 1
            if assignee is not None:
                d["a"][assignee] += 1
            for k, v in orjson.loads(meta):
                d["m"][KeyValue(k, v)] += 1
    out = []
    for g in chosen:
        group = tuple(g[: len(exprs)])
        count, first, last_closed, last_update = g[len(exprs) :]
        d = detail[group]
        out.append(
            Aggregation(
                values=tuple(
                    GroupValue(k, _group_value(k, v)) for k, v in zip(group_by, group, strict=True)
                ),
                count=int(count),
                incident_ids=tuple(d["ids"]),
                states=dict(d["st"]),
                statuses=dict(d["su"]),
                severities=dict(d["sv"]),
                assignees=dict(d["a"]),
                meta_labels=dict(d["m"]),
                first_created_at=int(first),
                last_closed_at=None if last_closed is None else int(last_closed),
                last_state_update_time=int(last_update),
            )
        )
    return AggregationPage(out, len(groups), token)


def _offset_token(offset: int, group_by: Sequence[GroupKey], f: IncidentFilter) -> str:
    return encode_token(fingerprint("groups", tuple(group_by), f), 0, [offset])


def _offset(token: str | None, group_by: Sequence[GroupKey], f: IncidentFilter) -> int:
    if not token:
        return 0
    _, (offset,) = decode_token(token, fingerprint("groups", tuple(group_by), f), 1)
    if not isinstance(offset, int) or offset < 0:
        raise invalid_token()
    return offset
