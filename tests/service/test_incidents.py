"""Incidents through the service, on the real stores: the state/status table of
docs/INCIDENTS.md row by row, the events each change records, all-or-nothing changes and
tenancy. How incidents and cases move together is in test_incidents_and_cases.py."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from casekeeper.bootstrap import Container
from casekeeper.domain import incidents as i
from casekeeper.domain.errors import CasekeeperError, ErrorCode
from casekeeper.domain.incidents import (
    AlertEvent,
    IncidentEventType,
    IncidentSeverity,
    IncidentState,
    IncidentStatus,
    Originator,
)
from casekeeper.domain.model import Case
from casekeeper.service.auth import Principal
from tests.conftest import MakeCase, MakeKey

T, R = IncidentState.TRIGGERED, IncidentState.RESOLVED
Alert = Callable[..., AlertEvent]


@pytest.fixture
def alert(container: Container, make_case: MakeCase) -> Alert:
    """``alert(**changes)``: a firing alert on a fresh case, a new event key each call."""
    case = make_case()
    alert_id = str(uuid.uuid4())

    def make(**changes: object) -> AlertEvent:
        base = AlertEvent(
            case_id=case.id,
            alert_id=alert_id,
            name="p99 latency over 2s",
            state=T,
            cx_event_key=f"ev-{uuid.uuid4().hex}",
            time=container.incidents.clock(),
            severity=IncidentSeverity.ERROR,
            group_by={"service": "checkout"},
            contextual_labels={"alert_id": alert_id, "alert_name": "p99 latency over 2s"},
        )
        return dataclasses.replace(base, **changes)  # type: ignore[arg-type]

    return make


def refused(code: ErrorCode, fn: Callable[[], object]) -> CasekeeperError:
    with pytest.raises(CasekeeperError) as err:
        fn()
    assert err.value.code is code, err.value
    return err.value


def types(container: Container, p: Principal, incident_id: str) -> list[tuple[str, str]]:
    return [(e.type.name, e.originator.name) for e in container.incidents.events(p, incident_id)]


def test_an_alert_opens_an_incident_triggered_in_state_and_status(
    container: Container, principal: Principal, alert: Alert
) -> None:
    fired = alert()
    x = container.alerts.record(principal, fired)
    assert (x.state, x.status, x.severity) == (T, IncidentStatus.TRIGGERED, IncidentSeverity.ERROR)
    assert (x.last_state_update_key, x.last_state_update_time) == (fired.cx_event_key, fired.time)
    assert x.created_at == fired.time
    assert x.closed_at is None
    assert types(container, principal, x.id) == [
        ("OPEN", "OPERATIONAL"),
        ("UPSERT_STATE", "OPERATIONAL"),
    ]
    events = container.incidents.events(principal, x.id)
    assert {e.by for e in events} == {"casekeeper"}
    assert {e.cx_event_key for e in events} == {fired.cx_event_key}
    assert container.incidents.get(principal, x.id.upper()) == x  # ids in any letter case


def test_the_same_alert_event_twice_is_recorded_once(
    container: Container, principal: Principal, alert: Alert
) -> None:
    fired = alert()
    first = container.alerts.record(principal, fired)
    assert container.alerts.record(principal, fired) == first
    assert len(container.incidents.events(principal, first.id)) == 2


def test_acknowledge_then_a_refire_keeps_the_acknowledgement(
    container: Container, principal: Principal, alert: Alert
) -> None:
    x = container.alerts.record(principal, alert())
    (acked,) = container.incidents.acknowledge(principal, [x.id])
    assert (acked.state, acked.status) == (T, IncidentStatus.ACKNOWLEDGED)
    again = container.alerts.record(principal, alert())
    assert (again.id, again.status) == (x.id, IncidentStatus.ACKNOWLEDGED)
    ack = container.incidents.events(principal, x.id)[2]
    assert ack.payload == i.Acknowledged(principal.user_id)
    assert (ack.originator, ack.by) == (Originator.ADMINISTRATIVE, principal.user_id)
    assert container.incidents.acknowledge(principal, [x.id]) == [again]  # a repeat: nothing


def test_an_alert_resolving_resolves_and_a_refire_triggers_again(
    container: Container, principal: Principal, alert: Alert
) -> None:
    x = container.alerts.record(principal, alert())
    resolved = container.alerts.record(principal, alert(state=R))
    assert (resolved.state, resolved.status) == (R, IncidentStatus.RESOLVED)
    again = container.alerts.record(principal, alert())
    assert (again.id, again.state, again.status) == (x.id, T, IncidentStatus.TRIGGERED)
    upserts = [e.payload for e in container.incidents.events(principal, x.id)
               if e.type is IncidentEventType.UPSERT_STATE]  # fmt: skip
    assert [u.state for u in upserts if isinstance(u, i.StateUpserted)] == [T, R, T]


def test_acknowledging_a_resolved_incident_is_refused_and_writes_nothing(
    container: Container, principal: Principal, alert: Alert
) -> None:
    x = container.alerts.record(principal, alert())
    (done,) = container.incidents.resolve(principal, [x.id])
    before = container.incidents.events(principal, x.id)
    err = refused(
        ErrorCode.INCIDENT_INVALID_TRANSITION,
        lambda: container.incidents.acknowledge(principal, [x.id]),
    )
    assert "resolved" in err.message
    assert x.id in err.message
    assert container.incidents.get(principal, x.id) == done
    assert container.incidents.events(principal, x.id) == before


def test_a_person_resolving_is_an_administrative_state_upsert(
    container: Container, principal: Principal, alert: Alert
) -> None:
    x = container.alerts.record(principal, alert())
    (done,) = container.incidents.resolve(principal, [x.id])
    assert (done.state, done.status) == (R, IncidentStatus.RESOLVED)
    last = container.incidents.events(principal, x.id)[-1]
    assert last.payload == i.StateUpserted(R)
    assert (last.originator, last.by) == (Originator.ADMINISTRATIVE, principal.user_id)
    assert container.incidents.resolve(principal, [x.id]) == [done]


def test_closing_twice_changes_nothing_and_a_closed_incident_refuses_changes(
    container: Container, principal: Principal, alert: Alert
) -> None:
    x = container.alerts.record(principal, alert())
    (closed,) = container.incidents.close(principal, [x.id])
    assert closed.closed_at is not None
    assert closed.status is IncidentStatus.TRIGGERED
    assert container.incidents.close(principal, [x.id]) == [closed]
    assert types(container, principal, x.id)[-1] == ("CLOSE", "ADMINISTRATIVE")
    for change in (
        lambda: container.incidents.acknowledge(principal, [x.id]),
        lambda: container.incidents.resolve(principal, [x.id]),
        lambda: container.incidents.assign(principal, [x.id], "a@example.test"),
        lambda: container.incidents.unassign(principal, [x.id]),
    ):
        refused(ErrorCode.INCIDENT_INVALID_TRANSITION, change)
    # The alert firing again is a new episode: a new incident.
    reopened = container.alerts.record(principal, alert())
    assert reopened.id != x.id
    assert reopened.closed_at is None


def test_assign_replaces_the_assignment_and_unassign_records_no_one(
    container: Container, principal: Principal, alert: Alert
) -> None:
    x = container.alerts.record(principal, alert())
    (one,) = container.incidents.assign(principal, [x.id], "alice@example.test")
    (two,) = container.incidents.assign(principal, [x.id], "bob@example.test")
    assert [a.assigned_to for a in two.assignments] == ["bob@example.test"]
    assert two.assignments[0].assigned_by == principal.user_id
    assert container.incidents.assign(principal, [x.id], "bob@example.test") == [two]
    (none,) = container.incidents.unassign(principal, [x.id])
    assert none.assignments == ()
    assert one.assignee == "alice@example.test"
    assert container.incidents.events(principal, x.id)[-1].payload == i.Unassigned()
    assert container.incidents.unassign(principal, [x.id]) == [none]


def test_a_change_of_many_is_all_or_nothing(
    container: Container, principal: Principal, alert: Alert
) -> None:
    a = container.alerts.record(principal, alert())
    b = container.alerts.record(principal, alert(group_by={"service": "cart"}))
    container.incidents.resolve(principal, [b.id])
    refused(
        ErrorCode.INCIDENT_INVALID_TRANSITION,
        lambda: container.incidents.acknowledge(principal, [a.id, b.id]),
    )
    assert container.incidents.get(principal, a.id).status is IncidentStatus.TRIGGERED
    unknown = str(uuid.uuid4())
    err = refused(
        ErrorCode.INCIDENT_NOT_FOUND, lambda: container.incidents.close(principal, [a.id, unknown])
    )
    assert unknown in err.message
    assert container.incidents.get(principal, a.id).closed_at is None


@pytest.mark.parametrize("ids", [[], [str(uuid.uuid4())] * 10_001, ["not-a-uuid"]])
def test_bad_id_lists_are_invalid(
    container: Container, principal: Principal, ids: list[str]
) -> None:
    for change in (container.incidents.acknowledge, container.incidents.close):
        refused(ErrorCode.INVALID_ARGUMENT, lambda c=change: c(principal, ids))  # type: ignore[misc]


def test_another_spaces_incidents_are_not_found_everywhere(
    container: Container, principal: Principal, alert: Alert, make_key: MakeKey
) -> None:
    fired = alert()
    x = container.alerts.record(principal, fired)
    _, other = make_key(space_name=f"other-{uuid.uuid4().hex[:8]}")
    nf = ErrorCode.INCIDENT_NOT_FOUND
    refused(nf, lambda: container.incidents.get(other, x.id))
    refused(nf, lambda: container.incidents.events(other, x.id))
    refused(nf, lambda: container.incidents.acknowledge(other, [x.id]))
    refused(nf, lambda: container.incidents.by_event_key(other, fired.cx_event_key))
    refused(nf, lambda: container.incidents.resolve_by_event(other, fired.cx_event_key))
    assert container.incidents.batch_get(other, [x.id]) == ({}, [x.id])
    # An alert event for another space's case cannot reach it either.
    refused(ErrorCode.CASE_NOT_FOUND, lambda: container.alerts.record(other, alert()))


def test_by_event_key_finds_acknowledges_and_resolves(
    container: Container, principal: Principal, alert: Alert
) -> None:
    fired = alert()
    x = container.alerts.record(principal, fired)
    assert container.incidents.by_event_key(principal, fired.cx_event_key) == x
    acked = container.incidents.acknowledge_by_event(principal, fired.cx_event_key)
    assert (acked.id, acked.status) == (x.id, IncidentStatus.ACKNOWLEDGED)
    done = container.incidents.resolve_by_event(principal, fired.cx_event_key)
    assert done.status is IncidentStatus.RESOLVED
    refused(
        ErrorCode.INCIDENT_NOT_FOUND, lambda: container.incidents.by_event_key(principal, "nope")
    )


def test_batch_get_reports_missing_ids_without_failing(
    container: Container, principal: Principal, alert: Alert
) -> None:
    x = container.alerts.record(principal, alert())
    missing = str(uuid.uuid4())
    found, not_found = container.incidents.batch_get(principal, [x.id, missing, x.id])
    assert (found, not_found) == ({x.id: x}, [missing])


def test_a_correlation_key_finds_the_incident_open_at_a_time(
    container: Container, principal: Principal, alert: Alert
) -> None:
    first = container.alerts.record(principal, alert())
    (closed,) = container.incidents.close(principal, [first.id])
    second = container.alerts.record(principal, alert())
    key = first.correlation_key
    assert container.incidents.at_correlation(principal, key, first.created_at).id == first.id
    assert container.incidents.at_correlation(principal, key, second.created_at).id == second.id
    assert closed.closed_at is not None
    refused(
        ErrorCode.INCIDENT_NOT_FOUND, lambda: container.incidents.at_correlation(principal, key, 1)
    )


def test_recording_needs_an_open_case_and_a_firing_alert_to_open(
    container: Container, principal: Principal, alert: Alert, make_case: MakeCase
) -> None:
    refused(
        ErrorCode.INCIDENT_NOT_FOUND, lambda: container.alerts.record(principal, alert(state=R))
    )
    refused(
        ErrorCode.CASE_NOT_FOUND,
        lambda: container.alerts.record(principal, alert(case_id=str(uuid.uuid4()))),
    )
    from casekeeper.domain import commands as cmd
    from tests.changes import one

    case: Case = one(container.cases, principal, make_case().id, cmd.Close())
    err = refused(
        ErrorCode.INCIDENT_INVALID_TRANSITION,
        lambda: container.alerts.record(principal, alert(case_id=case.id)),
    )
    assert "open case" in err.message
    refused(ErrorCode.INVALID_ARGUMENT, lambda: container.alerts.record(principal, alert(name=" ")))


@pytest.mark.parametrize(
    ("permission", "call"),
    [
        ("incidents:read", lambda c, p, x: c.incidents.get(p, x)),
        ("incidents:acknowledge", lambda c, p, x: c.incidents.acknowledge(p, [x])),
        ("incidents:assign", lambda c, p, x: c.incidents.assign(p, [x], "u")),
        ("incidents:assign", lambda c, p, x: c.incidents.unassign(p, [x])),
        ("incidents:close", lambda c, p, x: c.incidents.resolve(p, [x])),
        ("incidents:close", lambda c, p, x: c.incidents.close(p, [x])),
    ],
)
def test_each_operation_needs_its_permission(
    container: Container,
    principal: Principal,
    alert: Alert,
    make_key: MakeKey,
    permission: str,
    call: Callable[[Container, Principal, str], object],
) -> None:
    x = container.alerts.record(principal, alert())
    _, lacking = make_key("case:Read")
    err = refused(ErrorCode.PERMISSION_DENIED, lambda: call(container, lacking, x.id))
    assert permission in err.message
    _, holder = make_key(permission)
    call(container, holder, x.id)
    _, reader = make_key("incidents:read")
    refused(ErrorCode.PERMISSION_DENIED, lambda: container.alerts.record(reader, alert()))


def test_two_reports_of_a_new_episode_at_once_open_one_incident(
    container: Container, principal: Principal, alert: Alert
) -> None:
    """An Alertmanager HA pair sends everything twice, at the same moment."""
    reports = [alert() for _ in range(8)]
    barrier = threading.Barrier(len(reports))

    def send(report: AlertEvent) -> str:
        barrier.wait()
        return container.alerts.record(principal, report).id

    with ThreadPoolExecutor(len(reports)) as pool:
        ids = set(pool.map(send, reports))
    assert len(ids) == 1
    (only,) = ids
    upserts = [e for e in container.incidents.events(principal, only)
               if e.type is IncidentEventType.UPSERT_STATE]  # fmt: skip
    assert sorted(e.cx_event_key for e in upserts) == sorted(r.cx_event_key for r in reports)
