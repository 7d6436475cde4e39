"""Timeline events: who did what to a case, in the spec's vocabulary.

``EventData`` carries one of the 12 kinds with its payload in the spec's JSON shape; the
constructors below are the only way the service layer builds them, so payloads stay well formed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from casekeeper.domain.enums import ActorKind, CasePriority, CaseStatus, EventKind, Severity
from casekeeper.domain.model import Json, Micros, PriorityDetails


@dataclass(frozen=True, slots=True)
class Actor:
    kind: ActorKind
    fields: Mapping[str, str]

    def to_json(self) -> Json:
        return {self.kind.value: dict(self.fields)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Actor:
        ((key, payload),) = data.items()
        return cls(ActorKind(key), {str(k): str(v) for k, v in (payload or {}).items()})

    @classmethod
    def system(cls) -> Actor:
        return cls(ActorKind.SYSTEM, {})

    @classmethod
    def api_key(cls, key_id: str, name: str) -> Actor:
        return cls(ActorKind.API_KEY, {"id": key_id, "name": name})

    @classmethod
    def user(cls, user_id: str) -> Actor:
        return cls(ActorKind.USER, {"id": user_id})

    @property
    def label(self) -> str:
        """A short human description, for terminals and logs."""
        f = self.fields
        name = f.get("name") or f.get("displayName") or f.get("username") or f.get("receiverName")
        ident = (
            f.get("id") or f.get("slackUserId") or f.get("teamsUserId") or f.get("pagerDutyUserId")
        )
        return f"{self.kind.value}:{name or ident or ''}".rstrip(":")


@dataclass(frozen=True, slots=True)
class EventData:
    kind: EventKind
    payload: Json

    def to_json(self) -> Json:
        return {self.kind.value: self.payload}


def assigned(assignee: str, previous: str | None) -> EventData:
    payload: Json = {"assigneeUserId": assignee}
    if previous is not None:
        payload["previousAssigneeUserId"] = previous
    return EventData(EventKind.ASSIGNED, payload)


def unassigned(previous: str) -> EventData:
    return EventData(EventKind.UNASSIGNED, {"previousAssigneeUserId": previous})


def comment(text: str, attachments: Sequence[Json] = (), source: Json | None = None) -> EventData:
    """``source`` is ``{"slack": {...}}`` or ``{"microsoftTeams": {...}}`` for synced messages."""
    payload: Json = {"unsafeText": text, "attachments": list(attachments)}
    if source:
        payload.update(source)
    return EventData(EventKind.COMMENT, payload)


def status_changed(old: CaseStatus, new: CaseStatus) -> EventData:
    return EventData(EventKind.STATUS_CHANGED, {"oldStatus": old.wire, "newStatus": new.wire})


def notification_sent(request_id: str | None, tokens: Sequence[str]) -> EventData:
    payload: Json = {"notifications": [{"token": t} for t in tokens]}
    if request_id is not None:
        payload["notificationRequestId"] = request_id
    return EventData(EventKind.NOTIFICATION_SENT, payload)


def notification_failed(error: str) -> EventData:
    return EventData(EventKind.NOTIFICATION_FAILED, {"error": error})


def created(priority: CasePriority) -> EventData:
    return EventData(EventKind.CREATED, {"priority": priority.wire})


def priority_details_changed(old: PriorityDetails, new: PriorityDetails) -> EventData:
    return EventData(
        EventKind.PRIORITY_DETAILS_CHANGED, {"from": old.to_json(), "to": new.to_json()}
    )


def title_changed(old: str, new: str) -> EventData:
    return EventData(EventKind.TITLE_CHANGED, {"from": old, "to": new})


def resolution_reason_changed(old: str | None, new: str) -> EventData:
    payload: Json = {"to": new}
    if old:
        payload["from"] = old
    return EventData(EventKind.RESOLUTION_REASON_CHANGED, payload)


def change_assignee_failed(unknown_email: str) -> EventData:
    return EventData(
        EventKind.CHANGE_ASSIGNEE_FAILED,
        {"unknownAssigneeError": {"unknownAssigneeEmail": unknown_email}},
    )


def kpi_breached(kpi_type: str, priority: CasePriority, threshold_seconds: int) -> EventData:
    return EventData(
        EventKind.KPI_BREACHED,
        {"kpiType": kpi_type, "priority": priority.wire, "threshold": f"{threshold_seconds}s"},
    )


def description_changed(old: str | None, new: str | None) -> EventData:
    # The texts themselves are in the case: up to 30,000 characters each is too much to copy.
    return EventData(
        EventKind.DESCRIPTION_CHANGED, {"hadDescription": old is not None, "set": new is not None}
    )


def tags_changed(added: Sequence[str], removed: Sequence[str]) -> EventData:
    return EventData(EventKind.TAGS_CHANGED, {"added": list(added), "removed": list(removed)})


def severity_changed(old: Severity, new: Severity) -> EventData:
    return EventData(EventKind.SEVERITY_CHANGED, {"from": old.name, "to": new.name})


def on_hold_changed(on_hold: bool) -> EventData:
    return EventData(EventKind.ON_HOLD_CHANGED, {"onHold": on_hold})


def extension_changed(namespace: str) -> EventData:
    return EventData(EventKind.EXTENSION_CHANGED, {"namespace": namespace})


@dataclass(frozen=True, slots=True)
class CaseEvent:
    event_id: str
    case_id: str
    space_id: int
    data: EventData
    actor: Actor
    create_time: Micros
    event_time: Micros
    update_time: Micros | None = None
    external_id: str | None = None

    @property
    def kind(self) -> EventKind:
        return self.data.kind

    @property
    def is_comment(self) -> bool:
        return self.data.kind is EventKind.COMMENT
