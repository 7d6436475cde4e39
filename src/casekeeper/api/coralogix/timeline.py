"""The timeline in the Coralogix spec's words: ``CaseEventData`` and ``EventActor`` JSON, which
the REST dialect sends as is and the gRPC dialect parses into its messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from casekeeper.api.coralogix.vocabulary import PRIORITY_NAME, STATUS_NAME, priority_details
from casekeeper.domain import timeline as t
from casekeeper.domain.enums import ActorKind
from casekeeper.domain.events import Actor
from casekeeper.domain.model import Json


def _payload(event: t.TimelineEvent) -> Json:
    match event:
        case t.Created(priority):
            return {"priority": PRIORITY_NAME[priority]}
        case t.Assigned(user_id, None):
            return {"assigneeUserId": user_id}
        case t.Assigned(user_id, previous):
            return {"assigneeUserId": user_id, "previousAssigneeUserId": previous}
        case t.Unassigned(previous):
            return {"previousAssigneeUserId": previous}
        case t.Comment(text, attachments, source):
            # ``source`` is already the spec's oneof: {"slack": {...}} or {"microsoftTeams": ...}
            return {"unsafeText": text, "attachments": list(attachments), **(source or {})}
        case t.StatusChanged(old, new):
            return {"oldStatus": STATUS_NAME[old], "newStatus": STATUS_NAME[new]}
        case t.NotificationSent(request_id, tokens):
            sent: Json = {"notifications": [{"token": token} for token in tokens]}
            if request_id is not None:
                sent["notificationRequestId"] = request_id
            return sent
        case t.NotificationFailed(error):
            return {"error": error}
        case t.PriorityChanged(old, new):
            return {"from": priority_details(old), "to": priority_details(new)}
        case t.TitleChanged(old, new):
            return {"from": old, "to": new}
        case t.ResolutionReasonChanged(None, new):
            return {"to": new}
        case t.ResolutionReasonChanged(old, new):
            return {"to": new, "from": old}
        case t.ChangeAssigneeFailed(email):
            return {"unknownAssigneeError": {"unknownAssigneeEmail": email}}
        case t.KpiBreached(kpi_type, priority, seconds):
            return {
                "kpiType": kpi_type,
                "priority": PRIORITY_NAME[priority],
                "threshold": f"{seconds}s",  # a protobuf Duration in JSON
            }
        case t.Unknown(_, payload):
            stored: Json = payload  # as stored: what earlier versions showed
            return stored
    raise ValueError(f"the Coralogix API has no {event.kind.value!r} event")


def event_data_json(event: t.TimelineEvent) -> Json:
    """``CaseEventData`` JSON: ``{"<kind>": {...}}``. Only the spec's 12 kinds (and unreadable
    rows of them); the canonical kinds it lacks are filtered out before (``EVENT_KINDS``)."""
    return {event.kind.value: _payload(event)}


def actor_json(actor: Actor) -> Json:
    """``EventActor`` JSON: the actor's kind names the oneof, its fields are the spec's."""
    return {actor.kind.value: dict(actor.fields)}


def actor_from_json(data: Mapping[str, Any]) -> Actor:
    """The actor of ``EventActor`` JSON with exactly one member (as ``MessageToDict`` gives)."""
    ((key, fields),) = data.items()
    return Actor(ActorKind(key), {str(k): str(v) for k, v in (fields or {}).items()})
