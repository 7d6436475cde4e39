"""IncidentFilter and EventFilter as SQL conditions on ``incident`` (and ``incident_event``).

Label conditions are ``id IN (…)`` over ``incident_label``'s lookup index (space, kind, key,
value, incident): within one key the values OR, across keys they AND; meta labels OR unless
the filter asks for all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from casekeeper.domain.errors import invalid
from casekeeper.domain.incident_query import (
    EventFilter,
    IncidentField,
    IncidentFilter,
    SearchQuery,
)
from casekeeper.domain.model import KeyValue
from casekeeper.domain.query import FilterGroup
from casekeeper.store.incident_codec import CONTEXTUAL, DISPLAY, META
from casekeeper.store.schema import incident as inc
from casekeeper.store.schema import incident_event as ev
from casekeeper.store.schema import incident_label as lab
from casekeeper.store.tags import tag_text

Clause = ColumnElement[bool]


def _ids_with(space_id: int, kind: str, key: str, values: Sequence[str]) -> Any:
    return sa.select(lab.c.incident_id).where(
        lab.c.space_id == space_id,
        lab.c.kind == kind,
        lab.c.key == tag_text(key),
        lab.c.value.in_([tag_text(v) for v in values]),
    )


def _groups(space_id: int, kind: str, groups: Sequence[FilterGroup]) -> list[Clause]:
    return [inc.c.id.in_(_ids_with(space_id, kind, g.key, g.values)) for g in groups if g.values]


def _meta(space_id: int, labels: Sequence[KeyValue], every: bool) -> list[Clause]:
    if not labels:
        return []
    if every:
        return [inc.c.id.in_(_ids_with(space_id, META, kv.key, [kv.value])) for kv in labels]
    # One row-value IN, not an OR per pair: a thousand ORs is past SQLite's expression depth.
    pairs = sorted({(tag_text(kv.key), tag_text(kv.value)) for kv in labels})
    sub = sa.select(lab.c.incident_id).where(
        lab.c.space_id == space_id,
        lab.c.kind == META,
        sa.tuple_(lab.c.key, lab.c.value).in_(pairs),
    )
    return [inc.c.id.in_(sub)]


def _like(text: str) -> str:
    escaped = text.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


_SEARCHABLE = {
    IncidentField.NAME: inc.c.name_fold,
    IncidentField.ID: inc.c.id,
    IncidentField.APPLICATION_NAME: sa.func.lower(inc.c.application_name),
    IncidentField.SUBSYSTEM_NAME: sa.func.lower(inc.c.subsystem_name),
}


def _search(space_id: int, q: SearchQuery) -> Clause:
    pattern = _like(q.text)
    if q.contextual_label is not None:
        sub = sa.select(lab.c.incident_id).where(
            lab.c.space_id == space_id,
            lab.c.kind == CONTEXTUAL,
            lab.c.key == tag_text(q.contextual_label),
            sa.func.lower(lab.c.value).like(pattern, escape="\\"),
        )
        return inc.c.id.in_(sub)
    column = _SEARCHABLE.get(q.field or IncidentField.NAME)
    if column is None:
        raise invalid(
            "search one of the name, id, application name or subsystem name, or a contextual label",
            field="search_query",
        )
    return column.like(pattern, escape="\\")


def incident_where(space_id: int, f: IncidentFilter) -> list[Clause]:
    """``f`` as conditions on ``incident`` (the space's condition first)."""
    out: list[Clause] = [inc.c.space_id == space_id]
    if f.assignees:
        out.append(inc.c.assignee.in_(f.assignees))
    if f.statuses:
        out.append(inc.c.status.in_([int(s) for s in f.statuses]))
    if f.states:
        out.append(inc.c.state.in_([int(s) for s in f.states]))
    if f.severities:
        out.append(inc.c.severity.in_([int(s) for s in f.severities]))
    out += _groups(space_id, CONTEXTUAL, f.contextual_labels)
    out += _groups(space_id, DISPLAY, f.display_labels)
    if f.application_names:
        out.append(inc.c.application_name.in_([tag_text(x) for x in f.application_names]))
    if f.subsystem_names:
        out.append(inc.c.subsystem_name.in_([tag_text(x) for x in f.subsystem_names]))
    if f.is_muted is not None:
        out.append(inc.c.is_muted.is_(sa.true()) if f.is_muted else inc.c.is_muted.is_(sa.false()))
    if f.created is not None:
        out.append(inc.c.created_at.between(f.created.start, f.created.end))
    if f.open_during is not None:
        out.append(inc.c.created_at <= f.open_during.end)
        out.append(sa.or_(inc.c.closed_at.is_(None), inc.c.closed_at >= f.open_during.start))
    out += _meta(space_id, f.meta_labels, f.meta_labels_all)
    if f.search is not None:
        out.append(_search(space_id, f.search))
    return out


# The filters ``incident_tally`` can answer a total for.
_TALLIED = frozenset({"statuses", "states", "severities", "is_muted"})


def tally_answers(f: IncidentFilter) -> bool:
    default = IncidentFilter()
    return all(
        getattr(f, name) == getattr(default, name)
        for name in IncidentFilter.__dataclass_fields__
        if name not in _TALLIED and name != "meta_labels_all"
    )


def event_where(space_id: int, f: EventFilter) -> tuple[list[Clause], bool]:
    """``f`` as conditions on ``incident_event`` joined to ``incident``; True when any
    condition needs the incident (the join)."""
    out: list[Clause] = [ev.c.space_id == space_id]
    if f.statuses:
        out.append(ev.c.status.in_([int(s) for s in f.statuses]))
    if f.severities:
        out.append(ev.c.severity.in_([int(s) for s in f.severities]))
    if f.is_muted is not None:
        out.append(ev.c.is_muted.is_(sa.true()) if f.is_muted else ev.c.is_muted.is_(sa.false()))
    if f.time is not None:
        out.append(ev.c.time.between(f.time.start, f.time.end))
    joined: list[Clause] = []
    joined += _groups(space_id, CONTEXTUAL, f.contextual_labels)
    joined += _groups(space_id, DISPLAY, f.display_labels)
    joined += _meta(space_id, f.meta_labels, f.meta_labels_all)
    if f.name:
        joined.append(inc.c.name_fold.like(_like(f.name), escape="\\"))
    return out + joined, bool(joined)
