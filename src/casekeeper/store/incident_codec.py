"""Incident and incident-event rows <-> domain values.

Labels are kept whole on the row (JSON text) and, one pair per row, in ``incident_label`` for
filters. An event's payload is stored as a small JSON object in casekeeper's own words.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import orjson

from casekeeper.domain import incidents as i
from casekeeper.domain.incident_query import APPLICATION_LABEL, SUBSYSTEM_LABEL
from casekeeper.domain.incidents import (
    SEVERITY_RANK,
    Assignment,
    Incident,
    IncidentEvent,
    IncidentEventType,
    IncidentSeverity,
    IncidentState,
    IncidentStatus,
    Originator,
)
from casekeeper.domain.model import KeyValue
from casekeeper.store.tags import tag_text

CONTEXTUAL = "c"
DISPLAY = "d"
META = "m"
ASSIGNEE = "a"  # in ``incident_label_tally`` only

INCIDENT_COLUMNS = (
    "id", "space_id", "case_id", "correlation_key", "correlation_hash", "name", "name_fold",
    "description", "state", "status", "severity", "severity_rank", "assignee", "assignments",
    "contextual_labels", "display_labels", "meta_labels", "application_name", "subsystem_name",
    "is_muted", "created_at", "closed_at", "last_state_update_time", "last_state_update_key",
    "version",
)  # fmt: skip
EVENT_COLUMNS = (
    "id", "space_id", "incident_id", "type", "originator", "by", "payload", "time",
    "cx_event_key", "cx_event_hash", "severity", "state", "status", "is_muted",
)  # fmt: skip

_STATE = {m.value: m for m in IncidentState}
_STATUS = {m.value: m for m in IncidentStatus}
_SEVERITY = {m.value: m for m in IncidentSeverity}


def digest(text: str) -> str:
    """The indexed stand-in for a long key (correlation keys, alert event keys)."""
    return hashlib.sha256(text.encode()).hexdigest()


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def incident_row(x: Incident) -> tuple[Any, ...]:
    assignments = [[a.assigned_to, a.assigned_by] for a in x.assignments]
    application = x.display_labels.get(APPLICATION_LABEL)
    subsystem = x.display_labels.get(SUBSYSTEM_LABEL)
    return (
        x.id, x.space_id, x.case_id, x.correlation_key, digest(x.correlation_key), x.name,
        x.name.casefold(), x.description, int(x.state), int(x.status), int(x.severity),
        SEVERITY_RANK[x.severity], x.assignee, _json(assignments) if assignments else None,
        _json(dict(x.contextual_labels)), _json(dict(x.display_labels)),
        _meta(x),
        None if application is None else tag_text(application),
        None if subsystem is None else tag_text(subsystem),
        x.is_muted, x.created_at, x.closed_at, x.last_state_update_time,
        x.last_state_update_key, x.version,
    )  # fmt: skip


def _assignments(x: Incident) -> str | None:
    return _json([[a.assigned_to, a.assigned_by] for a in x.assignments]) if x.assignments else None


def _meta(x: Incident) -> str:
    return _json([[kv.key, kv.value] for kv in x.meta_labels])


def _named(text: str | None) -> str | None:
    return None if text is None else tag_text(text)


# The fields a change may alter, each with the columns that store it (in that order).
WRITTEN: tuple[tuple[str, tuple[str, ...], Callable[[Incident], tuple[Any, ...]]], ...] = (
    ("name", ("name", "name_fold"), lambda x: (x.name, x.name.casefold())),
    ("description", ("description",), lambda x: (x.description,)),
    ("state", ("state",), lambda x: (int(x.state),)),
    ("status", ("status",), lambda x: (int(x.status),)),
    ("severity", ("severity", "severity_rank"),
     lambda x: (int(x.severity), SEVERITY_RANK[x.severity])),
    ("assignments", ("assignee", "assignments"), lambda x: (x.assignee, _assignments(x))),
    ("contextual_labels", ("contextual_labels",), lambda x: (_json(dict(x.contextual_labels)),)),
    ("display_labels", ("display_labels", "application_name", "subsystem_name"),
     lambda x: (_json(dict(x.display_labels)), _named(x.display_labels.get(APPLICATION_LABEL)),
                _named(x.display_labels.get(SUBSYSTEM_LABEL)))),
    ("meta_labels", ("meta_labels",), lambda x: (_meta(x),)),
    ("is_muted", ("is_muted",), lambda x: (x.is_muted,)),
    ("closed_at", ("closed_at",), lambda x: (x.closed_at,)),
    ("last_state_update_time", ("last_state_update_time",), lambda x: (x.last_state_update_time,)),
    ("last_state_update_key", ("last_state_update_key",), lambda x: (x.last_state_update_key,)),
    ("version", ("version",), lambda x: (x.version,)),
)  # fmt: skip


def row_to_incident(row: Sequence[Any]) -> Incident:
    """A row of ``INCIDENT_COLUMNS``, in that order."""
    assignments = orjson.loads(row[13]) if row[13] else []
    return Incident(
        id=row[0],
        space_id=row[1],
        case_id=row[2],
        correlation_key=row[3],
        name=row[5],
        description=row[7],
        state=_STATE[row[8]],
        status=_STATUS[row[9]],
        severity=_SEVERITY[row[10]],
        assignments=tuple(Assignment(to, by) for to, by in assignments),
        contextual_labels=orjson.loads(row[14]),
        display_labels=orjson.loads(row[15]),
        meta_labels=tuple(KeyValue(k, v) for k, v in orjson.loads(row[16])),
        is_muted=bool(row[19]),
        created_at=row[20],
        closed_at=row[21],
        last_state_update_time=row[22],
        last_state_update_key=row[23],
        version=row[24],
    )


def label_pairs(x: Incident) -> Iterator[tuple[str, str, str]]:
    """(kind, key, value) of every label, index-safe and without repeats."""
    seen: set[tuple[str, str, str]] = set()
    pairs: list[tuple[str, Mapping[str, str]]] = [
        (CONTEXTUAL, x.contextual_labels),
        (DISPLAY, x.display_labels),
    ]
    items = [(kind, k, v) for kind, labels in pairs for k, v in labels.items()]
    items += [(META, kv.key, kv.value) for kv in x.meta_labels]
    for kind, key, value in items:
        triple = (kind, tag_text(key), tag_text(value))
        if triple not in seen:
            seen.add(triple)
            yield triple


# -- events ---------------------------------------------------------------------------------


def _payload_json(p: i.IncidentEventPayload) -> dict[str, Any]:
    match p:
        case i.StateUpserted(state, key, muted):
            out: dict[str, Any] = {"state": int(state)}
            if key is not None:
                out["key"] = key
            if muted is not None:
                out["muted"] = muted
            return out
        case i.Acknowledged(by) | i.Closed(by):
            return {"by": by}
        case i.Assigned(a):
            return {"to": a.assigned_to, "by": a.assigned_by}
        case i.Snoozed(start, minutes, user):
            return {"start": start, "minutes": minutes, "user": user}
        case i.Opened() | i.Unassigned():
            return {}


def _payload(kind: IncidentEventType, data: dict[str, Any]) -> i.IncidentEventPayload:
    match kind:
        case IncidentEventType.UPSERT_STATE:
            return i.StateUpserted(_STATE[data["state"]], data.get("key"), data.get("muted"))
        case IncidentEventType.ACKNOWLEDGE:
            return i.Acknowledged(data["by"])
        case IncidentEventType.CLOSE:
            return i.Closed(data["by"])
        case IncidentEventType.ASSIGN:
            return i.Assigned(Assignment(data["to"], data["by"]))
        case IncidentEventType.SNOOZE_INDICATOR:
            return i.Snoozed(data.get("start"), data.get("minutes"), data.get("user"))
        case IncidentEventType.UNASSIGN:
            return i.Unassigned()
        case _:
            return i.Opened()


def event_row(e: IncidentEvent) -> tuple[Any, ...]:
    return (
        e.id, e.space_id, e.incident_id, int(e.type), int(e.originator), e.by,
        _json(_payload_json(e.payload)), e.time, e.cx_event_key, digest(e.cx_event_key),
        int(e.severity), int(e.state), int(e.status), e.is_muted,
    )  # fmt: skip


def row_to_event(row: Sequence[Any]) -> IncidentEvent:
    """A row of ``EVENT_COLUMNS``, in that order."""
    return IncidentEvent(
        id=row[0],
        space_id=row[1],
        incident_id=row[2],
        payload=_payload(IncidentEventType(row[3]), orjson.loads(row[6])),
        originator=Originator(row[4]),
        by=row[5],
        time=row[7],
        cx_event_key=row[8],
        severity=_SEVERITY[row[10]],
        state=_STATE[row[11]],
        status=_STATUS[row[12]],
        is_muted=bool(row[13]),
    )
