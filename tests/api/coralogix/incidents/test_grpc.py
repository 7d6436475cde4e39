"""Every IncidentsService RPC over a real gRPC channel: what it answers and how it refuses
(NOT_FOUND for unknown and other spaces' ids, INVALID_ARGUMENT naming the field in the API's
words, FAILED_PRECONDITION for a refused transition), and the state/status table with the
events each change writes."""

from __future__ import annotations

import time
from typing import Any

import grpc
import pytest
from google.protobuf.wrappers_pb2 import StringValue

from casekeeper.domain.incidents import IncidentState, correlation_key
from casekeeper.proto.com.coralogixapis.incidents.v1 import common_pb2 as common
from casekeeper.proto.com.coralogixapis.incidents.v1 import incident_event_pb2 as ev
from casekeeper.proto.com.coralogixapis.incidents.v1 import incidents_service_pb2 as pb
from tests.api.coralogix.incidents.conftest import UNKNOWN_ID, Alerts, Grpc, MakeGrpc, grpc_error

S = grpc.StatusCode
TRIGGERED, ACKNOWLEDGED, RESOLVED = 1, 2, 3  # IncidentStatus
ADMIN, OPERATIONAL = ev.ORIGINATOR_TYPE_ADMINISTRATIVE, ev.ORIGINATOR_TYPE_OPERATIONAL


def sv(*values: str) -> list[StringValue]:
    return [StringValue(value=v) for v in values]


def one(value: str) -> StringValue:
    return StringValue(value=value)


def history(api: Grpc, incident_id: str) -> list[tuple[str, str, str]]:
    """(event type, originator, payload member) of each of the incident's events."""
    found = api.GetIncidentEvents(pb.GetIncidentEventsRequest(incident_id=one(incident_id)))
    return [
        (
            ev.IncidentEventType.Name(e.incident_event_type),
            ev.OriginatorType.Name(e.originator_type),
            e.WhichOneof("incident_event_payload") or "",
        )
        for e in found.incident_events
    ]


OPENED = [
    ("INCIDENT_EVENT_TYPE_OPEN", "ORIGINATOR_TYPE_OPERATIONAL", "upsert_state"),
    ("INCIDENT_EVENT_TYPE_UPSERT_STATE", "ORIGINATOR_TYPE_OPERATIONAL", "upsert_state"),
]


# -- reads --------------------------------------------------------------------------------------


def test_get_incident(api: Grpc, alerts: Alerts) -> None:
    fired = alerts.event(description="checkout is slow", is_muted=False)
    x = alerts.report(fired)
    got = api.GetIncident(pb.GetIncidentRequest(id=one(x.id.upper()))).incident
    assert got.id.value == x.id
    assert got.name.value == "p99 latency over 2s"
    assert got.description.value == "checkout is slow"
    assert (got.state, got.status, got.severity) == (1, TRIGGERED, 3)
    assert dict(got.contextual_labels)["alert_id"] == fired.alert_id
    assert dict(got.display_labels)["coralogix.metadata.subsystemName"] == "checkout"
    assert [(m.key.value, m.value.value) for m in got.meta_labels] == [("team", "payments")]
    assert got.last_state_update_key.value == fired.cx_event_key
    assert got.HasField("is_muted")
    assert got.is_muted.value is False
    assert got.created_at.ToMicroseconds() == fired.time
    assert not got.HasField("closed_at")
    assert got.duration.ToMicroseconds() >= 0
    assert list(got.assignments) == []
    events = got.events  # a single incident's read shows its history
    assert [e.incident_event_type for e in events] == [
        ev.INCIDENT_EVENT_TYPE_OPEN,
        ev.INCIDENT_EVENT_TYPE_UPSERT_STATE,
    ]
    for e in events:
        assert e.originator_type == OPERATIONAL
        assert e.operational_event.system_name.value == "casekeeper"
        assert e.upsert_state.state_type == ev.UPSERT_INCIDENT_STATE_TYPE_TRIGGERED
        assert e.upsert_state.payload.cx_event_key.value == fired.cx_event_key


def test_get_incident_refusals(api: Grpc, make_grpc: MakeGrpc, alerts: Alerts) -> None:
    x = alerts.fire()
    assert "Incident not found" in grpc_error(
        S.NOT_FOUND, api.GetIncident, pb.GetIncidentRequest(id=one(UNKNOWN_ID))
    )
    stranger = make_grpc(space_name="another-space-get")
    grpc_error(S.NOT_FOUND, stranger.GetIncident, pb.GetIncidentRequest(id=one(x.id)))
    bad = grpc_error(S.INVALID_ARGUMENT, api.GetIncident, pb.GetIncidentRequest(id=one("nope")))
    assert bad.startswith("id: ")
    assert grpc_error(S.INVALID_ARGUMENT, api.GetIncident, pb.GetIncidentRequest()).startswith(
        "id: "
    )


def test_batch_get_incident(api: Grpc, make_grpc: MakeGrpc, alerts: Alerts) -> None:
    a, b = alerts.fire(), alerts.fire()
    theirs = make_grpc(space_name="another-space-batch")
    other = Alerts(alerts.container, theirs.principal, alerts.make_case).fire()
    got = api.BatchGetIncident(pb.BatchGetIncidentRequest(ids=sv(a.id, b.id.upper(), UNKNOWN_ID,
                                                                 other.id)))  # fmt: skip
    assert set(got.incidents) == {a.id, b.id}
    assert got.incidents[a.id].id.value == a.id
    assert list(got.incidents[a.id].events) == []
    assert [w.value for w in got.not_found_ids] == [UNKNOWN_ID, other.id]
    grpc_error(S.INVALID_ARGUMENT, api.BatchGetIncident, pb.BatchGetIncidentRequest())
    bad = grpc_error(
        S.INVALID_ARGUMENT, api.BatchGetIncident, pb.BatchGetIncidentRequest(ids=sv(a.id, "x"))
    )
    assert bad.startswith("ids[1]: ")


def test_get_incident_events(api: Grpc, make_grpc: MakeGrpc, alerts: Alerts) -> None:
    x = alerts.fire()
    assert history(api, x.id) == OPENED
    grpc_error(
        S.NOT_FOUND,
        api.GetIncidentEvents,
        pb.GetIncidentEventsRequest(incident_id=one(UNKNOWN_ID)),
    )
    stranger = make_grpc(space_name="another-space-events")
    grpc_error(
        S.NOT_FOUND,
        stranger.GetIncidentEvents,
        pb.GetIncidentEventsRequest(incident_id=one(x.id)),
    )
    bad = grpc_error(
        S.INVALID_ARGUMENT,
        api.GetIncidentEvents,
        pb.GetIncidentEventsRequest(incident_id=one("1234")),
    )
    assert bad.startswith("incident_id: ")


# -- changes ------------------------------------------------------------------------------------


def test_assign_and_unassign(api: Grpc, alerts: Alerts) -> None:
    x, y = alerts.fire(), alerts.fire()
    request = pb.AssignIncidentsRequest(
        incident_ids=sv(x.id, y.id), assigned_to=common.UserDetails(user_id=one("ana@example.com"))
    )
    done = api.AssignIncidents(request).incidents
    assert [i.id.value for i in done] == [x.id, y.id]
    for i in done:
        (assignment,) = i.assignments
        assert assignment.assigned_to.user_id.value == "ana@example.com"
        assert assignment.assigned_by.user_id.value == api.principal.user_id
    assert history(api, x.id)[-1] == (
        "INCIDENT_EVENT_TYPE_ASSIGN",
        "ORIGINATOR_TYPE_ADMINISTRATIVE",
        "assignment",
    )
    events = api.GetIncidentEvents(pb.GetIncidentEventsRequest(incident_id=one(x.id)))
    last = events.incident_events[-1]
    assert last.assignment.assignment.assigned_to.user_id.value == "ana@example.com"
    assert last.administrative_event.user_id.value == api.principal.user_id

    undone = api.UnassignIncidents(pb.UnassignIncidentsRequest(incident_ids=sv(x.id))).incidents
    assert list(undone[0].assignments) == []
    assert history(api, x.id)[-1] == (
        "INCIDENT_EVENT_TYPE_UNASSIGN",
        "ORIGINATOR_TYPE_ADMINISTRATIVE",
        "unassign",
    )


def test_assign_refusals_name_the_field(api: Grpc, alerts: Alerts) -> None:
    x = alerts.fire()
    missing = grpc_error(
        S.INVALID_ARGUMENT, api.AssignIncidents, pb.AssignIncidentsRequest(incident_ids=sv(x.id))
    )
    assert missing.startswith("assignedTo.userId: ")
    to = common.UserDetails(user_id=one("ana@example.com"))
    none = grpc_error(
        S.INVALID_ARGUMENT, api.AssignIncidents, pb.AssignIncidentsRequest(assigned_to=to)
    )
    assert none.startswith("incidentIds: ")
    bad = grpc_error(
        S.INVALID_ARGUMENT,
        api.AssignIncidents,
        pb.AssignIncidentsRequest(incident_ids=sv(x.id, "bob"), assigned_to=to),
    )
    assert bad.startswith("incidentIds[1]: ")
    # All or nothing: an unknown id among them changes none.
    grpc_error(
        S.NOT_FOUND,
        api.AssignIncidents,
        pb.AssignIncidentsRequest(incident_ids=sv(x.id, UNKNOWN_ID), assigned_to=to),
    )
    assert api.GetIncident(pb.GetIncidentRequest(id=one(x.id))).incident.assignments == []


def test_acknowledge_then_again_is_a_no_op(api: Grpc, alerts: Alerts) -> None:
    x = alerts.fire()
    request = pb.AcknowledgeIncidentsRequest(incident_ids=sv(x.id))
    (acked,) = api.AcknowledgeIncidents(request).incidents
    assert (acked.state, acked.status) == (1, ACKNOWLEDGED)
    assert history(api, x.id)[-1] == (
        "INCIDENT_EVENT_TYPE_ACKNOWLEDGE",
        "ORIGINATOR_TYPE_ADMINISTRATIVE",
        "acknowledge",
    )
    events = api.GetIncidentEvents(pb.GetIncidentEventsRequest(incident_id=one(x.id)))
    assert events.incident_events[-1].acknowledge.acknowledged_by.user_id.value == (
        api.principal.user_id
    )
    (again,) = api.AcknowledgeIncidents(request).incidents
    assert again.status == ACKNOWLEDGED
    assert len(history(api, x.id)) == 3


def test_acknowledging_a_resolved_incident_is_a_failed_precondition(
    api: Grpc, alerts: Alerts
) -> None:
    x = alerts.fire()
    api.ResolveIncidents(pb.ResolveIncidentsRequest(incident_ids=sv(x.id)))
    refused = grpc_error(
        S.FAILED_PRECONDITION,
        api.AcknowledgeIncidents,
        pb.AcknowledgeIncidentsRequest(incident_ids=sv(x.id)),
    )
    assert x.id in refused
    assert "resolved" in refused
    assert api.GetIncident(pb.GetIncidentRequest(id=one(x.id))).incident.status == RESOLVED


def test_resolve_is_an_administrative_state_upsert(api: Grpc, alerts: Alerts) -> None:
    x = alerts.fire()
    (done,) = api.ResolveIncidents(pb.ResolveIncidentsRequest(incident_ids=sv(x.id))).incidents
    assert (done.state, done.status) == (2, RESOLVED)
    events = api.GetIncidentEvents(pb.GetIncidentEventsRequest(incident_id=one(x.id)))
    last = events.incident_events[-1]
    assert last.incident_event_type == ev.INCIDENT_EVENT_TYPE_UPSERT_STATE
    assert last.originator_type == ADMIN
    assert last.upsert_state.state_type == ev.UPSERT_INCIDENT_STATE_TYPE_RESOLVED
    assert last.upsert_state.payload.cx_event_key.value == x.last_state_update_key


def test_close_twice_is_a_no_op_and_close_is_final(api: Grpc, alerts: Alerts) -> None:
    x = alerts.fire()
    request = pb.CloseIncidentsRequest(incident_ids=sv(x.id))
    (closed,) = api.CloseIncidents(request).incidents
    assert closed.HasField("closed_at")
    assert (closed.state, closed.status) == (1, TRIGGERED)  # closing is not a status
    assert history(api, x.id)[-1] == (
        "INCIDENT_EVENT_TYPE_CLOSE",
        "ORIGINATOR_TYPE_ADMINISTRATIVE",
        "close",
    )
    time.sleep(0.01)
    (again,) = api.CloseIncidents(request).incidents
    assert again.closed_at == closed.closed_at
    assert again.duration == closed.duration  # frozen at close
    assert len(history(api, x.id)) == 3
    to = common.UserDetails(user_id=one("ana@example.com"))
    refused = grpc_error(
        S.FAILED_PRECONDITION,
        api.AssignIncidents,
        pb.AssignIncidentsRequest(incident_ids=sv(x.id), assigned_to=to),
    )
    assert "closed" in refused


def test_an_alert_firing_after_resolve_triggers_again(api: Grpc, alerts: Alerts) -> None:
    x = alerts.fire()
    api.ResolveIncidents(pb.ResolveIncidentsRequest(incident_ids=sv(x.id)))
    again = alerts.fire(alert_id=x.contextual_labels["alert_id"])
    assert again.id == x.id
    got = api.GetIncident(pb.GetIncidentRequest(id=one(x.id))).incident
    assert (got.state, got.status) == (1, TRIGGERED)
    assert got.last_state_update_key.value == again.last_state_update_key
    assert history(api, x.id)[-2:] == [
        ("INCIDENT_EVENT_TYPE_UPSERT_STATE", "ORIGINATOR_TYPE_ADMINISTRATIVE", "upsert_state"),
        ("INCIDENT_EVENT_TYPE_UPSERT_STATE", "ORIGINATOR_TYPE_OPERATIONAL", "upsert_state"),
    ]


BULKS: list[tuple[str, Any]] = [
    ("AcknowledgeIncidents", lambda ids: pb.AcknowledgeIncidentsRequest(incident_ids=ids)),
    ("CloseIncidents", lambda ids: pb.CloseIncidentsRequest(incident_ids=ids)),
    ("ResolveIncidents", lambda ids: pb.ResolveIncidentsRequest(incident_ids=ids)),
    ("UnassignIncidents", lambda ids: pb.UnassignIncidentsRequest(incident_ids=ids)),
    (
        "AssignIncidents",
        lambda ids: pb.AssignIncidentsRequest(
            incident_ids=ids, assigned_to=common.UserDetails(user_id=one("ana@example.com"))
        ),
    ),
    ("BatchGetIncident", lambda ids: pb.BatchGetIncidentRequest(ids=ids)),
]


@pytest.mark.parametrize(("rpc", "build"), BULKS, ids=[b[0] for b in BULKS])
def test_ten_thousand_and_one_ids_are_invalid(api: Grpc, rpc: str, build: Any) -> None:
    ids = sv(*[UNKNOWN_ID] * 10_001)
    message = grpc_error(S.INVALID_ARGUMENT, getattr(api, rpc), build(ids))
    assert "at most 10000" in message
    assert message.startswith("ids: " if rpc == "BatchGetIncident" else "incidentIds: ")


@pytest.mark.parametrize(("rpc", "build"), BULKS, ids=[b[0] for b in BULKS])
def test_another_spaces_incident_is_not_found(
    make_grpc: MakeGrpc, alerts: Alerts, rpc: str, build: Any
) -> None:
    x = alerts.fire()
    stranger = make_grpc(space_name="another-space-bulk")
    if rpc == "BatchGetIncident":
        got = stranger.BatchGetIncident(build(sv(x.id)))
        assert [w.value for w in got.not_found_ids] == [x.id]
    else:
        assert x.id in grpc_error(S.NOT_FOUND, getattr(stranger, rpc), build(sv(x.id)))


# -- by alert event ------------------------------------------------------------------------------


def test_by_event_id(api: Grpc, make_grpc: MakeGrpc, alerts: Alerts) -> None:
    fired = alerts.event()
    x = alerts.report(fired)
    key = one(fired.cx_event_key)
    got = api.GetIncidentByEventId(pb.GetIncidentByEventIdRequest(event_id=key)).incident
    assert got.id.value == x.id
    assert len(got.events) == 2
    acked = api.AcknowledgeIncidentByEventId(pb.AcknowledgeIncidentByEventIdRequest(event_id=key))
    assert acked.incident.status == ACKNOWLEDGED
    resolved = api.ResolveIncidentByEventId(pb.ResolveIncidentByEventIdRequest(event_id=key))
    assert (resolved.incident.state, resolved.incident.status) == (2, RESOLVED)
    stranger = make_grpc(space_name="another-space-by-event")
    grpc_error(
        S.NOT_FOUND,
        stranger.GetIncidentByEventId,
        pb.GetIncidentByEventIdRequest(event_id=key),
    )


@pytest.mark.parametrize(
    ("rpc", "request_type"),
    [
        ("GetIncidentByEventId", pb.GetIncidentByEventIdRequest),
        ("AcknowledgeIncidentByEventId", pb.AcknowledgeIncidentByEventIdRequest),
        ("ResolveIncidentByEventId", pb.ResolveIncidentByEventIdRequest),
    ],
)
def test_by_event_id_unknown_key_is_not_found(api: Grpc, rpc: str, request_type: Any) -> None:
    message = grpc_error(S.NOT_FOUND, getattr(api, rpc), request_type(event_id=one("no-such")))
    assert "'no-such'" in message
    blank = grpc_error(S.INVALID_ARGUMENT, getattr(api, rpc), request_type())
    assert blank.startswith("event_id: ")


def test_get_incident_using_correlation_key(api: Grpc, alerts: Alerts) -> None:
    fired = alerts.event()
    x = alerts.report(fired)
    key = one(correlation_key(fired.alert_id, fired.group_by))
    got = api.GetIncidentUsingCorrelationKey(
        pb.GetIncidentUsingCorrelationKeyRequest(correlation_key=key)
    ).incident
    assert got.id.value == x.id
    grpc_error(
        S.NOT_FOUND,
        api.GetIncidentUsingCorrelationKey,
        pb.GetIncidentUsingCorrelationKeyRequest(correlation_key=one("no-such-alert")),
    )
    blank = grpc_error(
        S.INVALID_ARGUMENT,
        api.GetIncidentUsingCorrelationKey,
        pb.GetIncidentUsingCorrelationKeyRequest(),
    )
    assert blank.startswith("correlationKey: ")


# -- bad input in queries -------------------------------------------------------------------------


def test_an_unknown_enum_number_is_invalid_naming_the_field(api: Grpc) -> None:
    bad = pb.ListIncidentsRequest()
    bad.filter.status.append(99)  # type: ignore[arg-type]
    assert grpc_error(S.INVALID_ARGUMENT, api.ListIncidents, bad).startswith("filter.status: ")
    order = pb.ListIncidentsRequest()
    order.order_bys.add(incident_field=4, direction=7)
    message = grpc_error(S.INVALID_ARGUMENT, api.ListIncidents, order)
    assert message.startswith("orderBys[0].direction: ")
    no_field = pb.ListIncidentsRequest()
    no_field.order_bys.add(direction=1)
    message = grpc_error(S.INVALID_ARGUMENT, api.ListIncidents, no_field)
    assert message.startswith("orderBys[0]: give incidentField or contextualLabel")
    events = pb.ListIncidentEventsRequest()
    events.filter.severity.append(42)  # type: ignore[arg-type]
    message = grpc_error(S.INVALID_ARGUMENT, api.ListIncidentEvents, events)
    assert message.startswith("filter.severity: ")


def test_a_backwards_or_half_time_range_is_invalid(api: Grpc) -> None:
    half = pb.ListIncidentsRequest()
    half.filter.created_at_range.start_time.FromSeconds(1_700_000_000)
    message = grpc_error(S.INVALID_ARGUMENT, api.ListIncidents, half)
    assert message.startswith("filter.createdAtRange: ")


def test_resolve_state_numbers_match_the_domain() -> None:
    """UpsertIncidentStateType and IncidentState share their numbers (convert.py relies on it)."""
    assert int(ev.UPSERT_INCIDENT_STATE_TYPE_TRIGGERED) == int(IncidentState.TRIGGERED)
    assert int(ev.UPSERT_INCIDENT_STATE_TYPE_RESOLVED) == int(IncidentState.RESOLVED)
