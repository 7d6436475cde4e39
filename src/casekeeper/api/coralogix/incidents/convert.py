"""Domain → the Incidents API's response messages: incidents, their events (plain and
extended), aggregations and filter values. gRPC sends these messages; REST renders the same
messages as JSON, so both transports answer alike.

Where the domain has something the API has no words for, the choice is written down here:
an ``OPEN`` event carries its trigger as an ``upsertState`` payload (the API's payload oneof
has no "open" member, and every event must carry one); a person resolving is an
administrative ``upsertState{RESOLVED}`` (the API has no resolve event).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from casekeeper.api.coralogix.convert import set_time
from casekeeper.domain import incidents as i
from casekeeper.domain.incident_query import (
    Aggregation,
    EventItem,
    GroupValue,
    IncidentField,
    IncidentFilterValues,
)
from casekeeper.domain.incidents import AlertType, Incident, IncidentEvent, Originator
from casekeeper.domain.model import KeyValue, Micros
from casekeeper.proto.com.coralogixapis.incidents.v1 import common_pb2 as common_pb
from casekeeper.proto.com.coralogixapis.incidents.v1 import incident_event_pb2 as ev_pb
from casekeeper.proto.com.coralogixapis.incidents.v1 import incident_pb2 as inc_pb
from casekeeper.proto.com.coralogixapis.incidents.v1 import (
    incident_query_filters_values_pb2 as fv_pb,
)

# The spec's bounds on lists in responses: what a response cannot carry is left out.
MAX_GROUP_IDS = 1000  # IncidentAggregation.listIncidentsId
MAX_GROUP_BY_FIELDS = 100  # IncidentEventExtendedMetadata.alertGroupByFields
MAX_ALERT_ID = 64  # IncidentEventExtendedMetadata.alertId

# Contextual labels that describe the alert (as Coralogix names them; seed 001).
ALERT_ID, ALERT_NAME, ALERT_TYPE = "alert_id", "alert_name", "alert_type"
ALERT_GROUP_BY_FIELDS = "alert_group_by_fields"


def set_duration(out: Any, us: int) -> None:
    """A ``google.protobuf.Duration`` of ``us`` microseconds (not negative)."""
    seconds, rest = divmod(max(0, us), 1_000_000)
    out.seconds = seconds
    out.nanos = rest * 1000


def _user(out: common_pb.UserDetails, user: str) -> None:
    out.user_id.value = user


def _labels(out: Any, labels: Iterable[KeyValue]) -> None:
    for kv in labels:
        label = out.add()
        label.key.value = kv.key
        label.value.value = kv.value


def incident_to_pb(
    x: Incident,
    now: Micros,
    out: inc_pb.Incident | None = None,
    events: Iterable[IncidentEvent] = (),
) -> inc_pb.Incident:
    """``x`` as the API's Incident, with ``events`` (none in lists: seed 001 shows ``[]``)."""
    pb = out if out is not None else inc_pb.Incident()
    pb.id.value = x.id
    if x.name:
        pb.name.value = x.name
    pb.state = int(x.state)  # type: ignore[assignment]
    pb.status = int(x.status)  # type: ignore[assignment]
    for a in x.assignments:
        item = pb.assignments.add()
        _user(item.assigned_to, a.assigned_to)
        _user(item.assigned_by, a.assigned_by)
    if x.description is not None:
        pb.description.value = x.description
    pb.severity = int(x.severity)  # type: ignore[assignment]
    for key, value in x.contextual_labels.items():
        pb.contextual_labels[key] = value
    for key, value in x.display_labels.items():
        pb.display_labels[key] = value
    for e in events:
        event_to_pb(e, pb.events.add())
    set_time(pb.created_at, x.created_at)
    if x.closed_at is not None:
        set_time(pb.closed_at, x.closed_at)
    set_time(pb.last_state_update_time, x.last_state_update_time)
    pb.last_state_update_key.value = x.last_state_update_key
    pb.is_muted.value = x.is_muted
    _labels(pb.meta_labels, x.meta_labels)
    set_duration(pb.duration, x.duration_us(now))
    return pb


def incidents_to_pb(incidents: Iterable[Incident], now: Micros, field: Any) -> None:
    add = field.add
    for x in incidents:
        incident_to_pb(x, now, add())


# -- events -------------------------------------------------------------------------------------


def _upsert(out: ev_pb.IncidentEvent, state: int, key: str, muted: bool | None) -> None:
    upsert = out.upsert_state
    upsert.state_type = state  # type: ignore[assignment]  # UpsertIncidentStateType: same numbers
    upsert.payload.cx_event_key.value = key
    if muted is not None:
        upsert.is_muted.value = muted


def event_to_pb(e: IncidentEvent, out: ev_pb.IncidentEvent | None = None) -> ev_pb.IncidentEvent:
    pb = out if out is not None else ev_pb.IncidentEvent()
    pb.id.value = e.id
    pb.incident_event_type = int(e.type)  # type: ignore[assignment]
    pb.originator_type = int(e.originator)  # type: ignore[assignment]
    if e.originator is Originator.ADMINISTRATIVE:
        pb.administrative_event.user_id.value = e.by
    else:
        pb.operational_event.system_name.value = e.by
    p = e.payload
    if isinstance(p, i.Opened):
        _upsert(pb, int(i.IncidentState.TRIGGERED), e.cx_event_key, None)
    elif isinstance(p, i.StateUpserted):
        _upsert(pb, int(p.state), p.cx_event_key or e.cx_event_key, p.is_muted)
    elif isinstance(p, i.Acknowledged):
        _user(pb.acknowledge.acknowledged_by, p.by)
    elif isinstance(p, i.Closed):
        _user(pb.close.closed_by, p.by)
    elif isinstance(p, i.Assigned):
        _user(pb.assignment.assignment.assigned_to, p.assignment.assigned_to)
        _user(pb.assignment.assignment.assigned_by, p.assignment.assigned_by)
    elif isinstance(p, i.Unassigned):
        pb.unassign.SetInParent()
    else:
        snooze = pb.snooze_indicator
        snooze.SetInParent()
        if p.start_time is not None:
            set_time(snooze.start_time, p.start_time)
        if p.duration_minutes is not None:
            snooze.duration_minutes.value = p.duration_minutes
        if p.user_id is not None:
            snooze.user_id.value = p.user_id
    return pb


def alert_type(text: str | None) -> AlertType:
    """The ``alert_type`` contextual label (``Standard``, ``New Value``, or the API's name) as
    an alert type; anything else is STANDARD_OR_UNSPECIFIED."""
    if not text:
        return AlertType.STANDARD
    name = text.strip().upper().replace(" ", "_").replace("-", "_")
    name = name.removeprefix("INCIDENT_EVENT_ALERT_TYPE_")
    return AlertType.__members__.get(name, AlertType.STANDARD)


def group_by_fields(text: str | None) -> list[str]:
    """``a , b`` (how Coralogix writes ``alert_group_by_fields``) → ``[a, b]``."""
    parts = (part.strip() for part in (text or "").split(","))
    return [p for p in parts if 0 < len(p) <= 256][:MAX_GROUP_BY_FIELDS]


def permutation(correlation_key: str) -> tuple[str, dict[str, str]]:
    """The alert id and group-by values a correlation key was made of
    (``domain.incidents.correlation_key``)."""
    alert_id, *pairs = correlation_key.split("\x1f")
    values = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        values[key] = value
    return alert_id, values


def extended_to_pb(item: EventItem, out: ev_pb.IncidentEventExtended) -> None:
    """A ListIncidentEvents item: the event, its alert event, and the incident as it was
    (severity, state, status, mute: the event's snapshot) with its alert's labels."""
    e, x = item.event, item.incident
    out.cx_event_key.value = e.cx_event_key
    event_to_pb(e, out.incident_event)
    set_time(out.cx_event_timestamp, e.time)
    meta = out.incident_event_extended_metadata
    meta.incident_severity = int(e.severity)  # type: ignore[assignment]
    meta.incident_state = int(e.state)  # type: ignore[assignment]
    meta.incident_status = int(e.status)  # type: ignore[assignment]
    meta.is_muted.value = e.is_muted
    ctx = x.contextual_labels
    key_alert, values = permutation(x.correlation_key)
    alert_id = ctx.get(ALERT_ID) or key_alert
    if 0 < len(alert_id) <= MAX_ALERT_ID:
        meta.alert_id.value = alert_id
    name = ctx.get(ALERT_NAME) or x.name
    if name:
        meta.alert_name.value = name
    meta.alert_type = int(alert_type(ctx.get(ALERT_TYPE)))  # type: ignore[assignment]
    for field in group_by_fields(ctx.get(ALERT_GROUP_BY_FIELDS)):
        meta.alert_group_by_fields.add(value=field)
    _labels(meta.alert_labels, x.meta_labels)
    for key, value in values.items():
        meta.incident_permutation[key] = value


# -- aggregations and filter values -------------------------------------------------------------

_TIME_FIELDS = {
    IncidentField.CREATED_TIME: "created_at",
    IncidentField.CLOSED_TIME: "closed_at",
    IncidentField.LAST_STATE_UPDATE_TIME: "last_state_update_time",
}
_TEXT_FIELDS = {
    IncidentField.ID: "id",
    IncidentField.NAME: "name",
    IncidentField.APPLICATION_NAME: "application_name",
    IncidentField.SUBSYSTEM_NAME: "subsystem_name",
}
_ENUM_FIELDS = {
    IncidentField.SEVERITY: "severity",
    IncidentField.STATE: "state",
    IncidentField.STATUS: "status",
}


def _group_value(g: GroupValue, out: inc_pb.GroupByValues) -> None:
    key, value = g.key, g.value
    if key.contextual_label is not None:
        out.contextual_labels.field_name.value = key.contextual_label
        out.contextual_labels.field_value.value = "" if value is None else str(value)
        return
    field = out.incident_field
    field.SetInParent()
    if value is None or key.field is None:  # the group of incidents without the value
        return
    if key.field in _TIME_FIELDS:
        set_time(getattr(field, _TIME_FIELDS[key.field]), int(value))  # type: ignore[call-overload]
    elif key.field in _TEXT_FIELDS:
        getattr(field, _TEXT_FIELDS[key.field]).value = str(value)
    elif key.field in _ENUM_FIELDS:
        setattr(field, _ENUM_FIELDS[key.field], int(value))  # type: ignore[call-overload]
    elif key.field is IncidentField.DURATION:
        set_duration(field.duration, int(value))  # type: ignore[call-overload]


def _counts(field: Any, name: str, counts: Mapping[Any, int]) -> None:
    for value, n in sorted(counts.items()):
        item = field.add()
        setattr(item, name, int(value))
        item.count.value = n


def _meta_counts(field: Any, counts: Mapping[KeyValue, int]) -> None:
    for kv, n in counts.items():
        item = field.add()
        item.meta_label.key.value = kv.key
        item.meta_label.value.value = kv.value
        item.count.value = n


def _value_counts(field: Any, labels: Mapping[str, Mapping[str, int]], name: str) -> None:
    """Label key → its values with their counts (``name``: the value's field)."""
    for key, values in labels.items():
        entries = field[key].values_with_count
        for value, n in values.items():
            item = entries.add()
            getattr(item, name).value = value
            item.count.value = n


def aggregation_to_pb(agg: Aggregation, out: inc_pb.IncidentAggregation) -> None:
    for g in agg.values:
        _group_value(g, out.group_bys_value.add())
    _counts(out.agg_state_count, "state", agg.states)
    _counts(out.agg_status_count, "status", agg.statuses)
    _counts(out.agg_severity_count, "severity", agg.severities)
    for who, n in agg.assignees.items():
        item = out.agg_assignments_count.add()
        _user(item.assigned_to, who)
        item.count.value = n
    set_time(out.first_created_at, agg.first_created_at)
    if agg.last_closed_at is not None:
        set_time(out.last_closed_at, agg.last_closed_at)
    out.all_values_count.value = agg.count
    for incident_id in agg.incident_ids[:MAX_GROUP_IDS]:
        out.list_incidents_id.add(value=incident_id)
    set_time(out.last_state_update_time, agg.last_state_update_time)
    _meta_counts(out.agg_meta_labels_count, agg.meta_labels)


def filter_values_to_pb(fv: IncidentFilterValues, out: fv_pb.IncidentQueryFiltersValues) -> None:
    for who, n in fv.assignees.items():
        item = out.assignee_with_count.add()
        item.assignee.value = who
        item.count.value = n
    _counts(out.status_with_count, "status", fv.statuses)
    _counts(out.state_with_count, "state", fv.states)
    _counts(out.severity_with_count, "severity", fv.severities)
    _value_counts(out.contextual_labels, fv.contextual_labels, "contextual_label_value")
    _value_counts(out.display_labels, fv.display_labels, "display_label_value")
    _meta_counts(out.meta_labels_with_count, fv.meta_labels)
    out.meta_labels_op = 1 if fv.meta_labels_all else 0  # type: ignore[assignment]


def page_to_pb(total: int, next_token: str | None, out: common_pb.PaginationResponse) -> None:
    out.SetInParent()
    out.total_size.value = total
    if next_token:
        out.next_page_token.value = next_token
