"""The stored form of timeline events: ``case_event.kind`` and ``case_event.data`` (JSON).

The stored JSON is casekeeper's own format. It began as the Coralogix spec's ``CaseEventData``
JSON and keeps those keys and enum names (``CASE_STATUS_ACTIVE``), so rows written by earlier
versions read unchanged; the dialects never see it, they render the typed events. For every
event, ``decode(e.kind, encode(e)) == e``; for every payload ``encode`` writes,
``encode(decode(kind, payload))`` is that payload again, key for key and in order.

Decisions, for rows that are not exactly what ``encode`` writes:

- ``decode`` never raises. A payload that does not fit its kind (hand-edited, corrupted, or
  written by a newer version) decodes to ``Unknown(kind, payload, reason)``: one odd row must
  not fail a whole listing, and ``encode`` gives that payload back untouched, so nothing is
  lost. ``reason`` names the key at fault, for a log line.
- An optional key (a previous assignee, a previous resolution reason, a notification request
  id) may be absent or null. A comment without ``attachments`` has none. A resolution reason
  stored as ``""`` reads as none.
- Keys a kind does not use are ignored (a newer version may add some), except on a comment:
  there every key beside the text and attachments is the comment's ``source``, which is how
  synced Slack and Teams messages have always been stored.
- Enumerations are read by the names ``encode`` writes (``CASE_STATUS_ACTIVE``,
  ``CASE_PRIORITY_P3``, severity ``HIGH``); any other value is a misfit, not a guess.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, assert_never

from casekeeper.domain import timeline as t
from casekeeper.domain.enums import ActorKind, CasePriority, CaseStatus, EventKind, Severity
from casekeeper.domain.errors import quote
from casekeeper.domain.events import Actor
from casekeeper.domain.model import Json, PriorityDetails

E = TypeVar("E")

_STATUS_NAME = {m: f"CASE_STATUS_{m.name}" for m in CaseStatus}
_PRIORITY_NAME = {m: f"CASE_PRIORITY_{m.name}" for m in CasePriority}
_STATUS = {name: m for m, name in _STATUS_NAME.items()}
_PRIORITY = {name: m for m, name in _PRIORITY_NAME.items()}
_SEVERITY = dict(Severity.__members__)
_INCIDENT_CHANGES = {m.value: m for m in t.IncidentChange}
_SIGNAL_TOPICS = {m.value: m for m in t.SignalTopic}
_THRESHOLD = re.compile(r"-?[0-9]+s")  # what ``kpi_breached`` writes: whole seconds
_COMMENT_KEYS = frozenset({"unsafeText", "attachments"})
_JSON_TYPES = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}


class _Misfit(Exception):
    """A stored payload that does not fit its kind; the message says where."""


def _what(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _get(p: Json, key: str) -> Any:
    if key not in p:
        raise _Misfit(f"{key!r} is missing")
    return p[key]


def _object(p: Json, key: str) -> Json:
    value = _get(p, key)
    if not isinstance(value, dict):
        raise _Misfit(f"{key!r} is {_what(value)}, not an object")
    return value


def _text(p: Json, key: str) -> str:
    value = _get(p, key)
    if not isinstance(value, str):
        raise _Misfit(f"{key!r} is {_what(value)}, not a string")
    return value


def _optional_text(p: Json, key: str) -> str | None:
    return _text(p, key) if p.get(key) is not None else None


def _flag(p: Json, key: str) -> bool:
    value = _get(p, key)
    if not isinstance(value, bool):
        raise _Misfit(f"{key!r} is {_what(value)}, not true or false")
    return value


def _list(p: Json, key: str, *, optional: bool = False) -> list[Any]:
    if optional and p.get(key) is None:
        return []
    value = _get(p, key)
    if not isinstance(value, list):
        raise _Misfit(f"{key!r} is {_what(value)}, not an array")
    return value


def _texts(p: Json, key: str) -> tuple[str, ...]:
    items = _list(p, key)
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise _Misfit(f"{key}[{i}] is {_what(item)}, not a string")
    return tuple(items)


def _named(p: Json, key: str, table: Mapping[str, E], what: str) -> E:
    value = _get(p, key)
    found = table.get(value) if isinstance(value, str) else None
    if found is None:
        raise _Misfit(f"{key!r} is {quote(value)}, not a {what}")
    return found


def _status(p: Json, key: str) -> CaseStatus:
    return _named(p, key, _STATUS, "case status (CASE_STATUS_...)")


def _priority(p: Json, key: str) -> CasePriority:
    return _named(p, key, _PRIORITY, "case priority (CASE_PRIORITY_...)")


def _details(p: Json, key: str) -> PriorityDetails:
    d = _object(p, key)
    try:
        override = _priority(d, "override") if d.get("override") is not None else None
        return PriorityDetails(_priority(d, "system"), override)
    except _Misfit as exc:
        raise _Misfit(f"in {key!r}: {exc}") from None


def _comment(p: Json) -> t.Comment:
    attachments = _list(p, "attachments", optional=True)
    for i, item in enumerate(attachments):
        if not isinstance(item, dict):
            raise _Misfit(f"attachments[{i}] is {_what(item)}, not an object")
    source = {k: v for k, v in p.items() if k not in _COMMENT_KEYS}
    return t.Comment(_text(p, "unsafeText"), tuple(attachments), source or None)


def _notification_sent(p: Json) -> t.NotificationSent:
    tokens = []
    for i, item in enumerate(_list(p, "notifications", optional=True)):
        if not isinstance(item, dict):
            raise _Misfit(f"notifications[{i}] is {_what(item)}, not an object")
        try:
            tokens.append(_text(item, "token"))
        except _Misfit as exc:
            raise _Misfit(f"in notifications[{i}]: {exc}") from None
    return t.NotificationSent(_optional_text(p, "notificationRequestId"), tuple(tokens))


def _change_assignee_failed(p: Json) -> t.ChangeAssigneeFailed:
    error = _object(p, "unknownAssigneeError")
    return t.ChangeAssigneeFailed(_text(error, "unknownAssigneeEmail"))


def _kpi_breached(p: Json) -> t.KpiBreached:
    threshold = _get(p, "threshold")
    if not (isinstance(threshold, str) and _THRESHOLD.fullmatch(threshold)):
        raise _Misfit(f"'threshold' is {quote(threshold)}, not whole seconds such as '300s'")
    return t.KpiBreached(_text(p, "kpiType"), _priority(p, "priority"), int(threshold[:-1]))


def _resolution_reason(p: Json) -> t.ResolutionReasonChanged:
    return t.ResolutionReasonChanged(_optional_text(p, "from") or None, _text(p, "to"))


def _severity(p: Json, key: str) -> Severity:
    return _named(p, key, _SEVERITY, "severity (UNKNOWN, INFORMATIONAL, ..., OTHER)")


_READERS: dict[EventKind, Callable[[Json], t.TimelineEvent]] = {
    EventKind.CREATED: lambda p: t.Created(
        _priority(p, "priority"),
        p.get("title") if isinstance(p.get("title"), str) else None,
        p.get("description") if isinstance(p.get("description"), str) else None,
        tuple(x for x in p.get("tags") or () if isinstance(x, str)),
    ),
    EventKind.ASSIGNED: lambda p: t.Assigned(
        _text(p, "assigneeUserId"), _optional_text(p, "previousAssigneeUserId")
    ),
    EventKind.UNASSIGNED: lambda p: t.Unassigned(_text(p, "previousAssigneeUserId")),
    EventKind.COMMENT: _comment,
    EventKind.STATUS_CHANGED: lambda p: t.StatusChanged(
        _status(p, "oldStatus"), _status(p, "newStatus")
    ),
    EventKind.NOTIFICATION_SENT: _notification_sent,
    EventKind.NOTIFICATION_FAILED: lambda p: t.NotificationFailed(_text(p, "error")),
    EventKind.PRIORITY_DETAILS_CHANGED: lambda p: t.PriorityChanged(
        _details(p, "from"), _details(p, "to")
    ),
    EventKind.TITLE_CHANGED: lambda p: t.TitleChanged(_text(p, "from"), _text(p, "to")),
    EventKind.RESOLUTION_REASON_CHANGED: _resolution_reason,
    EventKind.CHANGE_ASSIGNEE_FAILED: _change_assignee_failed,
    EventKind.KPI_BREACHED: _kpi_breached,
    EventKind.DESCRIPTION_CHANGED: lambda p: t.DescriptionChanged(
        _flag(p, "hadDescription"), _flag(p, "set")
    ),
    EventKind.TAGS_CHANGED: lambda p: t.TagsChanged(_texts(p, "added"), _texts(p, "removed")),
    EventKind.SEVERITY_CHANGED: lambda p: t.SeverityChanged(
        _severity(p, "from"), _severity(p, "to")
    ),
    EventKind.ON_HOLD_CHANGED: lambda p: t.OnHoldChanged(_flag(p, "onHold")),
    EventKind.EXTENSION_CHANGED: lambda p: t.ExtensionChanged(_text(p, "namespace")),
    EventKind.INCIDENT_CHANGED: lambda p: t.IncidentChanged(
        _text(p, "incidentId"),
        _named(p, "change", _INCIDENT_CHANGES, "incident change (opened, acknowledged, ...)"),
        _optional_text(p, "user"),
    ),
    EventKind.SIGNAL_NOTE: lambda p: t.SignalNote(
        _named(p, "topic", _SIGNAL_TOPICS, "note topic (truncated, reconciled, ...)"),
        _text(p, "text"),
    ),
}


def decode(kind: EventKind, payload: object) -> t.TimelineEvent:
    """The typed event stored as ``payload``; ``Unknown`` (never an exception) when it does not
    fit."""
    if not isinstance(payload, dict):
        return t.Unknown(kind, payload, f"the payload is {_what(payload)}, not an object")
    reader = _READERS.get(kind)
    if reader is None:  # every kind has a reader (a test checks); kept for a listing's sake
        return t.Unknown(kind, payload, "no reader for this kind")
    try:
        return reader(payload)
    except _Misfit as exc:
        return t.Unknown(kind, payload, f"{kind.value}: {exc}")


def _priority_details(details: PriorityDetails) -> Json:
    out: Json = {"system": _PRIORITY_NAME[details.system]}
    if details.override is not None:
        out["override"] = _PRIORITY_NAME[details.override]
    return out


def encode(event: t.TimelineEvent) -> Json:
    """The JSON stored for ``event`` (its kind is stored beside it)."""
    match event:
        case t.Created(priority, title, description, tags):
            created: Json = {"priority": _PRIORITY_NAME[priority]}
            if title is not None:
                created["title"] = title
            if description:
                created["description"] = description
            if tags:
                created["tags"] = list(tags)
            return created
        case t.Assigned(user_id, previous):
            out: Json = {"assigneeUserId": user_id}
            if previous is not None:
                out["previousAssigneeUserId"] = previous
            return out
        case t.Unassigned(previous):
            return {"previousAssigneeUserId": previous}
        case t.Comment(text, attachments, source):
            out = {"unsafeText": text, "attachments": list(attachments)}
            if source:
                out.update(source)
            return out
        case t.StatusChanged(old, new):
            return {"oldStatus": _STATUS_NAME[old], "newStatus": _STATUS_NAME[new]}
        case t.NotificationSent(request_id, tokens):
            out = {"notifications": [{"token": token} for token in tokens]}
            if request_id is not None:
                out["notificationRequestId"] = request_id
            return out
        case t.NotificationFailed(error):
            return {"error": error}
        case t.PriorityChanged(old, new):
            return {"from": _priority_details(old), "to": _priority_details(new)}
        case t.TitleChanged(old, new):
            return {"from": old, "to": new}
        case t.ResolutionReasonChanged(old, new):
            return {"to": new, "from": old} if old else {"to": new}
        case t.ChangeAssigneeFailed(email):
            return {"unknownAssigneeError": {"unknownAssigneeEmail": email}}
        case t.KpiBreached(kpi_type, priority, seconds):
            priority_name = _PRIORITY_NAME[priority]
            return {"kpiType": kpi_type, "priority": priority_name, "threshold": f"{seconds}s"}
        case t.DescriptionChanged(had, has):
            return {"hadDescription": had, "set": has}
        case t.TagsChanged(added, removed):
            return {"added": list(added), "removed": list(removed)}
        case t.SeverityChanged(old, new):
            return {"from": old.name, "to": new.name}
        case t.OnHoldChanged(on_hold):
            return {"onHold": on_hold}
        case t.ExtensionChanged(namespace):
            return {"namespace": namespace}
        case t.IncidentChanged(incident_id, change, user):
            out = {"incidentId": incident_id, "change": change.value}
            if user is not None:
                out["user"] = user
            return out
        case t.SignalNote(topic, text):
            return {"topic": topic.value, "text": text}
        case t.Unknown(_, payload):
            kept: Json = payload  # as read, whatever it is
            return kept
        case _:
            assert_never(event)


def encode_actor(actor: Actor) -> Json:
    """The stored actor: ``{kind: fields}``, e.g. ``{"apiKey": {"id": ..., "name": ...}}``."""
    return {actor.kind.value: dict(actor.fields)}


def decode_actor(data: Mapping[str, Any]) -> Actor:
    ((key, fields),) = data.items()
    return Actor(ActorKind(key), {str(k): str(v) for k, v in (fields or {}).items()})
