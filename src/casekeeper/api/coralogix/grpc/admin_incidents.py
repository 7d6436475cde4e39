"""RecordAlertEvent's two conversions: its request to an ``AlertEvent``, and the incident back
to ``com.coralogixapis.incidents.v1.Incident``.

Kept small and to this one RPC on purpose: the incidents dialect has its own, complete
conversions. Enum numbers are the same on both sides (the domain keeps Coralogix's).
"""

from __future__ import annotations

from typing import TypeVar

from casekeeper.api.coralogix.convert import key_values, micros_of, set_time
from casekeeper.domain.errors import invalid
from casekeeper.domain.incidents import AlertEvent, Incident, IncidentSeverity, IncidentState
from casekeeper.proto.casekeeper.v1 import case_admin_pb2 as admin_pb
from casekeeper.proto.com.coralogixapis.incidents.v1 import enums_pb2, incident_pb2

E = TypeVar("E", IncidentState, IncidentSeverity)


def _enum(kind: type[E], number: int, field: str) -> E:
    try:
        return kind(number)
    except ValueError:
        raise invalid(f"{number} is no {kind.__name__} value", field=field) from None


def alert_from_pb(req: admin_pb.RecordAlertEventRequest, now: int) -> AlertEvent:
    """The alert event a request describes (``now`` when it gives no time); the service checks
    the rest."""
    has_time = req.HasField("event_time")
    return AlertEvent(
        case_id=req.case_id,
        alert_id=req.alert_id,
        name=req.name,
        state=_enum(IncidentState, req.state, "state"),
        cx_event_key=req.cx_event_key,
        time=micros_of(req.event_time, "event_time") if has_time else now,
        severity=_enum(IncidentSeverity, req.severity, "severity"),
        group_by=dict(req.group_by),
        description=req.description if req.HasField("description") else None,
        contextual_labels=dict(req.contextual_labels),
        display_labels=dict(req.display_labels),
        meta_labels=tuple(key_values(req.meta_labels)),
        is_muted=req.is_muted if req.HasField("is_muted") else None,
        system_name=req.system_name if req.HasField("system_name") else "casekeeper",
    )


def incident_to_pb(x: Incident, now: int, out: incident_pb2.Incident) -> None:
    """Every field of ``x`` but its events; ``duration`` runs until ``now`` while it is open."""
    out.id.value = x.id
    out.name.value = x.name
    out.state = enums_pb2.IncidentState.ValueType(x.state)
    out.status = enums_pb2.IncidentStatus.ValueType(x.status)
    out.severity = enums_pb2.IncidentSeverity.ValueType(x.severity)
    if x.description is not None:
        out.description.value = x.description
    for a in x.assignments:
        item = out.assignments.add()
        item.assigned_to.user_id.value = a.assigned_to
        item.assigned_by.user_id.value = a.assigned_by
    set_time(out.created_at, x.created_at)
    if x.closed_at is not None:
        set_time(out.closed_at, x.closed_at)
    out.contextual_labels.update(x.contextual_labels)
    out.display_labels.update(x.display_labels)
    set_time(out.last_state_update_time, x.last_state_update_time)
    out.last_state_update_key.value = x.last_state_update_key
    out.is_muted.value = x.is_muted
    for kv in x.meta_labels:
        label = out.meta_labels.add()
        label.key.value = kv.key
        label.value.value = kv.value
    out.duration.FromMicroseconds(x.duration_us(now))
