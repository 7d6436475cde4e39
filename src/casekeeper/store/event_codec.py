"""Stored timeline JSON (``EventData``) <-> typed timeline events (``domain.timeline``).

The stored format does not change: ``decode`` reads the JSON already in ``case_event.data``,
and ``encode`` writes through the constructors of ``domain.events``, so each shape keeps one
writer. For everything those constructors produce, ``encode(decode(data))`` is ``data`` again,
key for key and in the same order.

Decisions, for rows that are not exactly what the constructors write today:

- ``decode`` never raises. A payload that does not fit its kind (hand-edited, corrupted, or
  written by a newer version) decodes to ``Unknown(kind, payload, reason)``: one odd row must
  not fail a whole listing, and ``encode`` gives that payload back untouched, so nothing is
  lost. ``reason`` names the key at fault, for a log line.
- An optional key (a previous assignee, a previous resolution reason, a notification request
  id) may be absent or null. A comment without ``attachments`` has none: the spec's JSON leaves
  out an empty list. A resolution reason stored as ``""`` reads as none (the constructor writes
  none for it).
- Keys a kind does not use are ignored (a newer version may add some), except on a comment:
  there every key beside the text and attachments is the comment's ``source``, which is how
  synced Slack and Teams messages have always been stored.
- Enumerations are read by the names the constructors write (``CASE_STATUS_ACTIVE``,
  ``CASE_PRIORITY_P3``, severity ``HIGH``); any other value is a misfit, not a guess.

What ``decode`` tolerates, ``encode`` writes in the constructors' form (a left-out
``attachments`` comes back as ``[]``, an ignored key not at all).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, assert_never

from casekeeper.domain import events as ev
from casekeeper.domain import timeline as t
from casekeeper.domain.enums import CasePriority, CaseStatus, EventKind, Severity
from casekeeper.domain.errors import quote
from casekeeper.domain.events import EventData
from casekeeper.domain.model import Json, PriorityDetails

E = TypeVar("E")

_STATUS = {m.wire: m for m in CaseStatus}
_PRIORITY = {m.wire: m for m in CasePriority}
_SEVERITY = dict(Severity.__members__)
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
    EventKind.CREATED: lambda p: t.Created(_priority(p, "priority")),
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
}


def decode(data: EventData) -> t.TimelineEvent:
    """The typed event ``data`` stores; ``Unknown`` (never an exception) when it does not fit."""
    payload: object = data.payload
    if not isinstance(payload, dict):
        return t.Unknown(data.kind, data.payload, f"the payload is {_what(payload)}, not an object")
    reader = _READERS.get(data.kind)
    if reader is None:  # every kind has a reader (a test checks); kept for a listing's sake
        return t.Unknown(data.kind, payload, "no reader for this kind")
    try:
        return reader(payload)
    except _Misfit as exc:
        return t.Unknown(data.kind, payload, f"{data.kind.value}: {exc}")


def encode(event: t.TimelineEvent) -> EventData:
    """The stored form of ``event``: what the ``domain.events`` constructor writes for it."""
    match event:
        case t.Created(priority):
            return ev.created(priority)
        case t.Assigned(user_id, previous):
            return ev.assigned(user_id, previous)
        case t.Unassigned(previous):
            return ev.unassigned(previous)
        case t.Comment(text, attachments, source):
            return ev.comment(text, attachments, source)
        case t.StatusChanged(old, new):
            return ev.status_changed(old, new)
        case t.NotificationSent(request_id, tokens):
            return ev.notification_sent(request_id, tokens)
        case t.NotificationFailed(error):
            return ev.notification_failed(error)
        case t.PriorityChanged(old, new):
            return ev.priority_details_changed(old, new)
        case t.TitleChanged(old, new):
            return ev.title_changed(old, new)
        case t.ResolutionReasonChanged(old, new):
            return ev.resolution_reason_changed(old, new)
        case t.ChangeAssigneeFailed(email):
            return ev.change_assignee_failed(email)
        case t.KpiBreached(kpi_type, priority, seconds):
            return ev.kpi_breached(kpi_type, priority, seconds)
        case t.DescriptionChanged(had, has):
            # The constructor keeps only whether each text was there, never the text.
            return ev.description_changed("" if had else None, "" if has else None)
        case t.TagsChanged(added, removed):
            return ev.tags_changed(added, removed)
        case t.SeverityChanged(old, new):
            return ev.severity_changed(old, new)
        case t.OnHoldChanged(on_hold):
            return ev.on_hold_changed(on_hold)
        case t.ExtensionChanged(namespace):
            return ev.extension_changed(namespace)
        case t.Unknown(kind, payload):
            return EventData(kind, payload)
        case _:
            assert_never(event)
