"""What each operation does to an incident, as pure functions (docs/INCIDENTS.md has the table).

Each returns an ``IncidentChange``: the incident's next version and what to record, or
``IncidentChange.none(incident)`` for a repeat that changes nothing (acknowledging an
acknowledged incident, closing a closed one). A refused operation raises
``INCIDENT_INVALID_TRANSITION`` naming the incident and why.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from casekeeper.domain import incidents as i
from casekeeper.domain.errors import CasekeeperError, ErrorCode
from casekeeper.domain.incidents import (
    AlertEvent,
    Assignment,
    Incident,
    IncidentState,
    IncidentStatus,
)
from casekeeper.domain.model import Micros

S = IncidentStatus


@dataclass(frozen=True, slots=True)
class IncidentChange:
    incident: Incident
    events: list[i.IncidentEventPayload] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.events)

    @classmethod
    def none(cls, incident: Incident) -> IncidentChange:
        return cls(incident, [])


_FIELDS = tuple(f.name for f in dataclasses.fields(Incident))
_set = object.__setattr__


def _next(incident: Incident, **changes: Any) -> Incident:
    """The next version with ``changes``: ``dataclasses.replace`` at a fraction of its cost (a
    bulk acknowledgement makes a thousand), so ``Incident`` must not rely on ``__post_init__``."""
    new = object.__new__(Incident)
    for name in _FIELDS:
        _set(new, name, changes[name] if name in changes else getattr(incident, name))
    _set(new, "version", incident.version + 1)
    return new


def refused(incident: Incident, doing: str, why: str) -> CasekeeperError:
    return CasekeeperError(
        ErrorCode.INCIDENT_INVALID_TRANSITION,
        f"cannot {doing} incident {incident.id}: {why}",
        detail={"operation": doing, "incident": incident.id},
    )


def _open_only(incident: Incident, doing: str) -> None:
    if incident.is_closed:
        raise refused(incident, doing, "it is closed")


def open_incident(alert: AlertEvent, *, incident_id: str, space_id: int) -> IncidentChange:
    """A new incident for an alert that fires: TRIGGERED in state and status."""
    incident = Incident(
        id=incident_id,
        space_id=space_id,
        case_id=alert.case_id,
        correlation_key=alert.correlation_key,
        name=alert.name,
        description=alert.description,
        state=IncidentState.TRIGGERED,
        status=S.TRIGGERED,
        severity=alert.severity,
        created_at=alert.time,
        last_state_update_time=alert.time,
        last_state_update_key=alert.cx_event_key,
        contextual_labels=dict(alert.contextual_labels),
        display_labels=dict(alert.display_labels),
        meta_labels=alert.meta_labels,
        is_muted=bool(alert.is_muted),
    )
    upsert = i.StateUpserted(IncidentState.TRIGGERED, alert.cx_event_key, alert.is_muted)
    return IncidentChange(incident, [i.Opened(), upsert])


def record_alert(incident: Incident, alert: AlertEvent) -> IncidentChange:
    """The alert of an open incident reports again: firing (a re-trigger keeps an
    acknowledgement, and re-opens a resolved incident) or resolved. What the alert says about
    itself (name, severity, labels, mute) is taken as its latest word."""
    _open_only(incident, "update")
    if alert.state is IncidentState.RESOLVED:
        status = S.RESOLVED
    elif incident.status is S.ACKNOWLEDGED:
        status = S.ACKNOWLEDGED
    else:
        status = S.TRIGGERED
    muted = incident.is_muted if alert.is_muted is None else alert.is_muted
    new = _next(
        incident,
        name=alert.name,
        description=alert.description if alert.description is not None else incident.description,
        severity=alert.severity,
        state=alert.state,
        status=status,
        last_state_update_time=max(alert.time, incident.last_state_update_time),
        last_state_update_key=alert.cx_event_key,
        contextual_labels=dict(alert.contextual_labels) or incident.contextual_labels,
        display_labels=dict(alert.display_labels) or incident.display_labels,
        meta_labels=alert.meta_labels or incident.meta_labels,
        is_muted=muted,
    )
    return IncidentChange(new, [i.StateUpserted(alert.state, alert.cx_event_key, alert.is_muted)])


def acknowledge(incident: Incident, by: str) -> IncidentChange:
    _open_only(incident, "acknowledge")
    if incident.status is S.ACKNOWLEDGED:
        return IncidentChange.none(incident)
    if incident.status is S.RESOLVED:
        raise refused(
            incident, "acknowledge", "it is resolved; it triggers again if its alert fires"
        )
    return IncidentChange(_next(incident, status=S.ACKNOWLEDGED), [i.Acknowledged(by)])


def resolve(incident: Incident, *, now: Micros) -> IncidentChange:
    """A person resolves it: state and status RESOLVED, recorded as an administrative state
    upsert (the API has no resolve event)."""
    _open_only(incident, "resolve")
    if incident.status is S.RESOLVED:
        return IncidentChange.none(incident)
    new = _next(
        incident,
        state=IncidentState.RESOLVED,
        status=S.RESOLVED,
        last_state_update_time=max(now, incident.last_state_update_time),
    )
    return IncidentChange(new, [i.StateUpserted(IncidentState.RESOLVED)])


def close(incident: Incident, by: str, *, now: Micros) -> IncidentChange:
    """Terminal: ``closed_at`` set, the duration frozen; state and status stay as they were."""
    if incident.is_closed:
        return IncidentChange.none(incident)
    return IncidentChange(_next(incident, closed_at=now), [i.Closed(by)])


def assign(incident: Incident, to: str, by: str) -> IncidentChange:
    """``to`` becomes the one assignee."""
    _open_only(incident, "assign")
    if incident.assignee == to and len(incident.assignments) == 1:
        return IncidentChange.none(incident)
    assignment = Assignment(to, by)
    new = _next(incident, assignments=(assignment,))
    return IncidentChange(new, [i.Assigned(assignment)])


def unassign(incident: Incident) -> IncidentChange:
    _open_only(incident, "unassign")
    if not incident.assignments:
        return IncidentChange.none(incident)
    return IncidentChange(_next(incident, assignments=()), [i.Unassigned()])
