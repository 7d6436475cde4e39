"""casekeeper.v1.CaseAdminService/RecordAlertEvent over a real gRPC channel: an alert event
opens its episode's incident in a case, updates it, is recorded once per event key, and is
refused with the catalog's status when the case, the key or the input is wrong."""

from __future__ import annotations

import time
import uuid
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from casekeeper.bootstrap import Container
from casekeeper.domain.incidents import IncidentEventType, Originator
from casekeeper.domain.timeline import IncidentChanged
from casekeeper.proto.casekeeper.v1 import case_admin_pb2 as admin_pb
from casekeeper.proto.com.coralogixapis.cases.v1 import case_pb2 as c_pb
from casekeeper.proto.com.coralogixapis.cases.v1 import cases_service_pb2 as cases_pb
from casekeeper.proto.com.coralogixapis.cases.v1 import common_pb2 as common_pb
from casekeeper.proto.com.coralogixapis.incidents.v1 import enums_pb2 as e_pb
from casekeeper.proto.com.coralogixapis.incidents.v1 import incident_pb2
from tests.api.coralogix.grpc.conftest import Client, MakeClient, expect_error
from tests.conftest import MakeCase

T0 = 1_764_000_000  # seconds; event times in the tests count from here
TRIGGERED, RESOLVED = e_pb.INCIDENT_STATE_TRIGGERED, e_pb.INCIDENT_STATE_RESOLVED


def alert(case_id: str, key: str, **fields: Any) -> admin_pb.RecordAlertEventRequest:
    """A request for alert ``alert-cpu`` (group by host=web-1), firing at T0 unless told."""
    base: dict[str, Any] = {
        "case_id": case_id,
        "alert_id": "alert-cpu",
        "name": "CPU above 90%",
        "state": TRIGGERED,
        "cx_event_key": key,
        "event_time": Timestamp(seconds=T0),
        "severity": e_pb.INCIDENT_SEVERITY_ERROR,
        "group_by": {"host": "web-1"},
    }
    return admin_pb.RecordAlertEventRequest(**{**base, **fields})


def record(api: Client, req: admin_pb.RecordAlertEventRequest) -> incident_pb2.Incident:
    out: incident_pb2.Incident = api.admin.RecordAlertEvent(req).incident
    return out


def event_types(container: Container, api: Client, incident_id: str) -> list[IncidentEventType]:
    return [x.type for x in container.incidents.events(api.principal, incident_id)]


def test_first_event_opens_an_incident_in_the_case_with_every_field(
    api: Client, make_case: MakeCase, container: Container
) -> None:
    case = make_case()
    req = alert(
        case.id,
        "evt-1",
        description="Load on web-1",
        contextual_labels={"alert_id": "alert-cpu", "alert_type": "metric"},
        display_labels={"coralogix.metadata.applicationName": "shop"},
        meta_labels=[common_pb.KeyValue(key="team", value="platform")],
        is_muted=True,
        system_name="alertmanager",
    )
    x = record(api, req)
    assert uuid.UUID(x.id.value)
    assert (x.name.value, x.description.value) == ("CPU above 90%", "Load on web-1")
    assert (x.state, x.status) == (TRIGGERED, e_pb.INCIDENT_STATUS_TRIGGERED)
    assert x.severity == e_pb.INCIDENT_SEVERITY_ERROR
    assert x.created_at == x.last_state_update_time == Timestamp(seconds=T0)
    assert x.last_state_update_key.value == "evt-1"
    assert dict(x.contextual_labels) == {"alert_id": "alert-cpu", "alert_type": "metric"}
    assert dict(x.display_labels) == {"coralogix.metadata.applicationName": "shop"}
    assert [(m.key.value, m.value.value) for m in x.meta_labels] == [("team", "platform")]
    assert x.is_muted.value is True
    assert not x.HasField("closed_at")
    assert not x.assignments
    assert x.duration.ToSeconds() >= int(time.time()) - T0 - 5  # open: runs until now

    stored = container.incidents.get(api.principal, x.id.value)
    assert stored.case_id == case.id
    events = container.incidents.events(api.principal, x.id.value)
    assert [e.type for e in events] == [IncidentEventType.OPEN, IncidentEventType.UPSERT_STATE]
    assert {(e.originator, e.by) for e in events} == {(Originator.OPERATIONAL, "alertmanager")}
    timeline = container.timeline.list_events(api.principal, case.id)
    assert any(
        isinstance(t.data, IncidentChanged) and t.data.incident_id == x.id.value for t in timeline
    )


def test_the_same_event_key_is_recorded_once(
    api: Client, make_case: MakeCase, container: Container
) -> None:
    case = make_case()
    first = record(api, alert(case.id, "evt-dup"))
    again = record(api, alert(case.id, "evt-dup", event_time=Timestamp(seconds=T0 + 60)))
    assert again.id == first.id
    assert again.last_state_update_time == first.last_state_update_time
    assert len(event_types(container, api, first.id.value)) == 2


def test_resolve_then_retrigger_update_the_same_incident(
    api: Client, make_case: MakeCase, container: Container
) -> None:
    case = make_case()
    opened = record(api, alert(case.id, "evt-a"))
    resolved = record(
        api, alert(case.id, "evt-b", state=RESOLVED, event_time=Timestamp(seconds=T0 + 600))
    )
    assert resolved.id == opened.id
    assert (resolved.state, resolved.status) == (RESOLVED, e_pb.INCIDENT_STATUS_RESOLVED)
    assert resolved.last_state_update_key.value == "evt-b"
    assert resolved.last_state_update_time == Timestamp(seconds=T0 + 600)

    again = record(api, alert(case.id, "evt-c", event_time=Timestamp(seconds=T0 + 900)))
    assert again.id == opened.id
    assert (again.state, again.status) == (TRIGGERED, e_pb.INCIDENT_STATUS_TRIGGERED)
    assert again.created_at == opened.created_at
    assert event_types(container, api, opened.id.value) == [
        IncidentEventType.OPEN,
        *[IncidentEventType.UPSERT_STATE] * 3,
    ]


def test_another_group_is_another_incident_and_a_closed_one_is_not_reopened(
    api: Client, make_case: MakeCase, container: Container
) -> None:
    case = make_case()
    web1 = record(api, alert(case.id, "g-1"))
    web2 = record(api, alert(case.id, "g-2", group_by={"host": "web-2"}))
    assert web2.id != web1.id
    container.incidents.close(api.principal, [web1.id.value])
    fresh = record(api, alert(case.id, "g-3", event_time=Timestamp(seconds=T0 + 60)))
    assert fresh.id not in (web1.id, web2.id)
    assert fresh.created_at == Timestamp(seconds=T0 + 60)


def test_without_a_time_the_event_happens_now(api: Client, make_case: MakeCase) -> None:
    req = alert(make_case().id, "no-time")
    req.ClearField("event_time")
    before = int(time.time())
    x = record(api, req)
    assert before - 1 <= x.created_at.seconds <= int(time.time()) + 1
    assert x.duration.ToSeconds() <= 2


def test_readable_case_id_is_accepted(api: Client, container: Container) -> None:
    created = api.admin.CreateCase(
        admin_pb.CreateCaseRequest(
            title="By readable id",
            category=c_pb.CASE_CATEGORY_AVAILABILITY,
            priority=c_pb.CASE_PRIORITY_P3,
        )
    ).case
    x = record(api, alert(created.readable_id, "readable"))
    assert container.incidents.get(api.principal, x.id.value).case_id == created.id


def test_unknown_case_is_not_found(api: Client) -> None:
    err = expect_error(
        grpc.StatusCode.NOT_FOUND, api.admin.RecordAlertEvent, alert(str(uuid.uuid4()), "k")
    )
    assert "Case not found" in (err.details() or "")


def test_closed_case_is_a_failed_precondition(api: Client, make_case: MakeCase) -> None:
    case = make_case()
    api.cases.CloseCase(cases_pb.CloseCaseRequest(id=case.id))
    err = expect_error(
        grpc.StatusCode.FAILED_PRECONDITION, api.admin.RecordAlertEvent, alert(case.id, "k")
    )
    assert "open case" in (err.details() or "")


def test_resolving_an_episode_with_no_open_incident_is_not_found(
    api: Client, make_case: MakeCase
) -> None:
    req = alert(make_case().id, "lonely", state=RESOLVED)
    expect_error(grpc.StatusCode.NOT_FOUND, api.admin.RecordAlertEvent, req)


def test_the_permission_is_signals_write(make_client: MakeClient, make_case: MakeCase) -> None:
    case = make_case()
    denied = make_client("case:Create", "incidents:read", "incidents:close", "case:Update")
    err = expect_error(
        grpc.StatusCode.PERMISSION_DENIED, denied.admin.RecordAlertEvent, alert(case.id, "p")
    )
    assert "'signals:Write'" in (err.details() or "")
    assert "RecordAlertEvent" in (err.details() or "")
    assert record(make_client("signals:Write"), alert(case.id, "p")).state == TRIGGERED


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"state": e_pb.INCIDENT_STATE_UNSPECIFIED}, "state"),
        ({"state": 7}, "state"),
        ({"severity": 99}, "severity"),
        ({"alert_id": ""}, "alert_id"),
        ({"name": "   "}, "name"),
        ({"name": "n" * 501}, "name"),
        ({"cx_event_key": ""}, "cx_event_key"),
        ({"description": "d" * 2001}, "description"),
        ({"system_name": ""}, "system_name"),
        ({"meta_labels": [common_pb.KeyValue(key="", value="v")]}, "meta_labels"),
        ({"contextual_labels": {"": "v"}}, "contextual_labels"),
        ({"case_id": "not a case id"}, "case_id"),
        ({"event_time": Timestamp(seconds=10**13)}, "event_time"),
    ],
)
def test_bad_input_is_invalid_argument(
    api: Client, make_case: MakeCase, change: dict[str, Any], words: str
) -> None:
    req = alert(make_case().id, f"bad-{uuid.uuid4()}")
    for name, value in change.items():
        if isinstance(value, dict):
            getattr(req, name).update(value)
        elif isinstance(value, list):
            getattr(req, name).extend(value)
        elif isinstance(value, Timestamp):
            getattr(req, name).CopyFrom(value)
        else:
            setattr(req, name, value)
    err = expect_error(grpc.StatusCode.INVALID_ARGUMENT, api.admin.RecordAlertEvent, req)
    assert words in (err.details() or "")
