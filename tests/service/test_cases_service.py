"""CaseService: reads by id, single-case operations, validation and bulk operations."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import pytest

from casekeeper.bootstrap import Container
from casekeeper.domain import commands as cmd
from casekeeper.domain.enums import CasePriority, CaseStatus, EventKind, ResolverKind
from casekeeper.domain.errors import CasekeeperError, ErrorCode
from casekeeper.domain.events import CaseEvent
from casekeeper.domain.lifecycle import STATUS_LABEL, Operation
from casekeeper.domain.model import Case, Json
from casekeeper.domain.query import CaseQuery
from casekeeper.service.auth import Principal
from casekeeper.service.cases import BulkResult, CaseService
from tests.changes import command_for, many, one
from tests.conftest import MakeCase, MakeKey
from tests.stored import as_stored, as_stored_actor

USER_A: Final = "11111111-1111-4111-8111-111111111111"
USER_B: Final = "22222222-2222-4222-8222-222222222222"
ACTIVE: Final = "CASE_STATUS_ACTIVE"
ACKED: Final = "CASE_STATUS_ACKNOWLEDGED"
RESOLVED: Final = "CASE_STATUS_RESOLVED"
CLOSED: Final = "CASE_STATUS_CLOSED"


def events_of(container: Container, p: Principal, case: Case) -> list[CaseEvent]:
    return container.timeline.list_events(p, case.id)


def api_key_actor(p: Principal) -> Json:
    return {"apiKey": {"id": p.key_id, "name": p.key_name}}


def _status_of(err: CasekeeperError) -> CaseStatus:
    """The status a refused transition names (each dialect words it its own way)."""
    status = err.detail["status"]
    assert isinstance(status, CaseStatus)
    assert STATUS_LABEL[status] in err.message
    return status


def raises_code(code: ErrorCode, fn: Callable[[], object]) -> CasekeeperError:
    with pytest.raises(CasekeeperError) as err:
        fn()
    assert err.value.code is code, err.value.message
    return err.value


# --------------------------------------------------------------------------------------------
# Reads
# --------------------------------------------------------------------------------------------


def test_get_returns_case_when_given_its_uuid(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case(title="Disk full")
    got = container.cases.get(principal, case.id)
    assert got == case
    assert got.status is CaseStatus.ACTIVE
    assert got.title == "Disk full"


def test_get_returns_case_when_uuid_is_uppercase(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case()
    assert container.cases.get(principal, case.id.upper()).id == case.id


@pytest.mark.parametrize("form", ["CASE-{n}", "case-{n}", "Case-{n}", "cAsE-{n}"])
def test_get_returns_case_when_given_readable_id_in_any_case(
    container: Container, principal: Principal, make_case: MakeCase, form: str
) -> None:
    make_case()
    second = make_case()
    assert second.number == 2
    assert second.readable_id == "CASE-2"
    assert container.cases.get(principal, form.format(n=second.number)).id == second.id


def test_get_finds_pending_case_only_by_uuid(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    pending = make_case(pending=True)
    assert pending.status is CaseStatus.PENDING_ACTIVATION
    assert pending.number is None
    assert container.cases.get(principal, pending.id) == pending


@pytest.mark.parametrize("raw", ["CASE-999999", "case-999999", "FOO-1", "__uuid__"])
def test_get_raises_not_found_when_case_is_unknown(
    container: Container, principal: Principal, make_case: MakeCase, raw: str
) -> None:
    make_case()
    ref = str(uuid.uuid4()) if raw == "__uuid__" else raw
    err = raises_code(ErrorCode.CASE_NOT_FOUND, lambda: container.cases.get(principal, ref))
    assert ref in err.message
    assert err.spec.http_status == 404


@pytest.mark.parametrize(
    "raw", ["", "   ", "x" * 65, "CASE-" + "1" * 60, "bad id!", "CASE_1", "case/1", "ca se-1"]
)
def test_get_raises_invalid_argument_when_id_is_malformed(
    container: Container, principal: Principal, raw: str
) -> None:
    raises_code(ErrorCode.INVALID_ARGUMENT, lambda: container.cases.get(principal, raw))


def test_get_accepts_64_character_id_and_answers_not_found(
    container: Container, principal: Principal
) -> None:
    raw = "CASE-" + "0" * 41 + "1" * 18
    assert len(raw) == 64
    raises_code(ErrorCode.CASE_NOT_FOUND, lambda: container.cases.get(principal, raw))


def test_create_records_created_then_activation_events(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case(priority=2)
    events = events_of(container, principal, case)
    assert [as_stored(e.data) for e in events] == [
        {"created": {"priority": "CASE_PRIORITY_P2"}},
        {"statusChanged": {"oldStatus": "CASE_STATUS_PENDING_ACTIVATION", "newStatus": ACTIVE}},
    ]
    assert as_stored_actor(events[0].actor) == api_key_actor(principal)
    assert as_stored_actor(events[1].actor) == {"system": {}}


# --------------------------------------------------------------------------------------------
# Single-case operations: each writes its events, bumps update_time and version
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    prepare: Callable[[CaseService, Principal, str], object]
    act: Callable[[CaseService, Principal, str], Case]
    events: Callable[[Case], list[Json]]  # expected payloads, given the case before ``act``
    check: Callable[[Case], None] = lambda _case: None


def _nothing(_s: CaseService, _p: Principal, _id: str) -> None:
    return None


def _check_acked(c: Case) -> None:
    assert c.status is CaseStatus.ACKNOWLEDGED
    assert c.acknowledge_time == c.update_time


def _check_unacked(c: Case) -> None:
    assert c.status is CaseStatus.ACTIVE
    assert c.acknowledge_time is None


def _check_resolved(c: Case) -> None:
    assert c.status is CaseStatus.RESOLVED
    assert c.resolution is not None
    assert c.resolution.reason == "fixed the disk"
    assert c.resolution.resolved_by is ResolverKind.API_KEY
    assert c.resolution.resolve_time == c.update_time
    assert c.end_time == c.update_time


def _check_closed(c: Case) -> None:
    assert c.status is CaseStatus.CLOSED
    assert c.end_time == c.update_time


OPS: Final[dict[str, Op]] = {
    "acknowledge": Op(
        _nothing,
        lambda s, p, i: one(s, p, i, cmd.Acknowledge()),
        lambda _: [{"statusChanged": {"oldStatus": ACTIVE, "newStatus": ACKED}}],
        _check_acked,
    ),
    "unacknowledge": Op(
        lambda s, p, i: one(s, p, i, cmd.Acknowledge()),
        lambda s, p, i: one(s, p, i, cmd.Unacknowledge()),
        lambda _: [{"statusChanged": {"oldStatus": ACKED, "newStatus": ACTIVE}}],
        _check_unacked,
    ),
    "resolve": Op(
        lambda s, p, i: one(s, p, i, cmd.Acknowledge()),
        lambda s, p, i: one(s, p, i, cmd.Resolve("  fixed the disk  ")),
        lambda _: [{"statusChanged": {"oldStatus": ACKED, "newStatus": RESOLVED}}],
        _check_resolved,
    ),
    "close": Op(
        _nothing,
        lambda s, p, i: one(s, p, i, cmd.Close()),
        lambda _: [{"statusChanged": {"oldStatus": ACTIVE, "newStatus": CLOSED}}],
        _check_closed,
    ),
    "close-resolved": Op(
        lambda s, p, i: one(s, p, i, cmd.Resolve()),
        lambda s, p, i: one(s, p, i, cmd.Close()),
        lambda _: [{"statusChanged": {"oldStatus": RESOLVED, "newStatus": CLOSED}}],
        lambda c: None if c.status is CaseStatus.CLOSED else pytest.fail("not closed"),
    ),
    "assign": Op(
        _nothing,
        lambda s, p, i: one(s, p, i, cmd.Assign(USER_A)),
        lambda _: [{"assigned": {"assigneeUserId": USER_A}}],
        lambda c: None if c.assignee == USER_A else pytest.fail("not assigned"),
    ),
    "reassign": Op(
        lambda s, p, i: one(s, p, i, cmd.Assign(USER_A)),
        lambda s, p, i: one(s, p, i, cmd.Assign(USER_B.upper())),
        lambda _: [{"assigned": {"assigneeUserId": USER_B, "previousAssigneeUserId": USER_A}}],
        lambda c: None if c.assignee == USER_B else pytest.fail("not reassigned"),
    ),
    "unassign": Op(
        lambda s, p, i: one(s, p, i, cmd.Assign(USER_A)),
        lambda s, p, i: one(s, p, i, cmd.Unassign()),
        lambda _: [{"unassigned": {"previousAssigneeUserId": USER_A}}],
        lambda c: None if c.assignee is None else pytest.fail("still assigned"),
    ),
    "set-priority-override": Op(
        _nothing,
        lambda s, p, i: one(s, p, i, cmd.SetPriorityOverride(CasePriority(1))),
        lambda _: [
            {
                "priorityDetailsChanged": {
                    "from": {"system": "CASE_PRIORITY_P3"},
                    "to": {"system": "CASE_PRIORITY_P3", "override": "CASE_PRIORITY_P1"},
                }
            }
        ],
        lambda c: None if c.effective_priority is CasePriority.P1 else pytest.fail("no override"),
    ),
    "clear-priority-override": Op(
        lambda s, p, i: one(s, p, i, cmd.SetPriorityOverride(CasePriority(5))),
        lambda s, p, i: one(s, p, i, cmd.ClearPriorityOverride()),
        lambda _: [
            {
                "priorityDetailsChanged": {
                    "from": {"system": "CASE_PRIORITY_P3", "override": "CASE_PRIORITY_P5"},
                    "to": {"system": "CASE_PRIORITY_P3"},
                }
            }
        ],
        lambda c: None if c.priority.override is None else pytest.fail("override kept"),
    ),
    "update-title": Op(
        _nothing,
        lambda s, p, i: one(s, p, i, cmd.Retitle("  Checkout is down  ")),
        lambda before: [{"titleChangedEvent": {"from": before.title, "to": "Checkout is down"}}],
        lambda c: None if c.title == "Checkout is down" else pytest.fail("title not trimmed"),
    ),
    "update-resolution-reason": Op(
        lambda s, p, i: one(s, p, i, cmd.Resolve("first guess")),
        lambda s, p, i: one(s, p, i, cmd.SetResolutionReason("  real cause  ")),
        lambda _: [{"resolutionReasonChangedEvent": {"from": "first guess", "to": "real cause"}}],
        lambda c: (
            None
            if c.resolution is not None and c.resolution.reason == "real cause"
            else pytest.fail("reason not set")
        ),
    ),
}
EACH_OP: Final = [pytest.param(op, id=name) for name, op in OPS.items()]


@pytest.mark.parametrize("op", EACH_OP)
@pytest.mark.parametrize("id_form", ["uuid", "readable"])
def test_operation_writes_events_and_bumps_update_time_and_version(
    container: Container, principal: Principal, make_case: MakeCase, op: Op, id_form: str
) -> None:
    case = make_case()
    ref = case.id if id_form == "uuid" else f"case-{case.number}"
    op.prepare(container.cases, principal, ref)
    before = container.cases.get(principal, case.id)
    events_before = events_of(container, principal, case)

    after = op.act(container.cases, principal, ref)

    new_events = events_of(container, principal, case)[len(events_before) :]
    assert [as_stored(e.data) for e in new_events] == op.events(before)
    for event in new_events:
        assert as_stored_actor(event.actor) == api_key_actor(principal)
        assert event.case_id == case.id
        assert event.create_time == event.event_time == after.update_time
    assert after.update_time > before.update_time
    assert after.version == before.version + 1
    op.check(after)
    assert container.cases.get(principal, case.id) == after  # what was returned was stored


@pytest.mark.parametrize("op", EACH_OP)
def test_operation_is_a_noop_when_repeated(
    container: Container, principal: Principal, make_case: MakeCase, op: Op
) -> None:
    case = make_case()
    op.prepare(container.cases, principal, case.id)
    first = op.act(container.cases, principal, case.id)
    events_after_first = events_of(container, principal, case)

    again = op.act(container.cases, principal, case.id)

    assert again == first
    assert events_of(container, principal, case) == events_after_first
    assert container.cases.get(principal, case.id) == first


@pytest.mark.parametrize(
    ("call", "status_wire"),
    [
        (lambda s, p, i: one(s, p, i, cmd.Acknowledge()), CLOSED),
        (lambda s, p, i: one(s, p, i, cmd.Resolve()), CLOSED),
        (lambda s, p, i: one(s, p, i, cmd.Assign(USER_A)), CLOSED),
        (lambda s, p, i: one(s, p, i, cmd.SetPriorityOverride(CasePriority(2))), CLOSED),
    ],
)
def test_operation_is_refused_and_writes_nothing_when_case_is_closed(
    container: Container,
    principal: Principal,
    make_case: MakeCase,
    call: Callable[[CaseService, Principal, str], Case],
    status_wire: str,
) -> None:
    case = one(container.cases, principal, make_case().id, cmd.Close())
    events = events_of(container, principal, case)
    err = raises_code(
        ErrorCode.INVALID_TRANSITION, lambda: call(container.cases, principal, case.id)
    )
    assert status_wire == f"CASE_STATUS_{_status_of(err).name}"  # named in the error's detail
    assert events_of(container, principal, case) == events
    assert container.cases.get(principal, case.id) == case


def test_unacknowledge_is_refused_when_case_is_resolved(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = one(container.cases, principal, make_case().id, cmd.Resolve())
    err = raises_code(
        ErrorCode.INVALID_TRANSITION,
        lambda: one(container.cases, principal, case.id, cmd.Unacknowledge()),
    )
    assert f"CASE_STATUS_{_status_of(err).name}" == RESOLVED


def test_user_operations_are_refused_when_case_is_pending(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    pending = make_case(pending=True)
    for call in (
        lambda: one(container.cases, principal, pending.id, cmd.Acknowledge()),
        lambda: one(container.cases, principal, pending.id, cmd.Resolve()),
        lambda: one(container.cases, principal, pending.id, cmd.Close()),
    ):
        err = raises_code(ErrorCode.INVALID_TRANSITION, call)
        assert _status_of(err) is CaseStatus.PENDING_ACTIVATION


def test_operations_raise_not_found_when_case_is_unknown(
    container: Container, principal: Principal
) -> None:
    for call in (
        lambda: one(container.cases, principal, "CASE-999999", cmd.Acknowledge()),
        lambda: one(container.cases, principal, str(uuid.uuid4()), cmd.Assign(USER_A)),
        lambda: one(container.cases, principal, "case-5", cmd.Retitle("x")),
    ):
        raises_code(ErrorCode.CASE_NOT_FOUND, call)


# --------------------------------------------------------------------------------------------
# Input validation of single operations
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("title", ["", "   ", "\t\n", "x" * 513, " " + "y" * 513])
def test_update_rejects_title_when_blank_or_too_long(
    container: Container, principal: Principal, make_case: MakeCase, title: str
) -> None:
    case = make_case()
    raises_code(
        ErrorCode.INVALID_ARGUMENT,
        lambda: one(container.cases, principal, case.id, cmd.Retitle(title)),
    )
    assert container.cases.get(principal, case.id) == case


def test_update_accepts_512_character_title_after_trimming(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case()
    title = "t" * 512
    updated = one(container.cases, principal, case.id, cmd.Retitle(f"  {title}  "))
    assert updated.title == title


def test_update_is_noop_when_trimmed_title_equals_current(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case(title="Same title")
    events = events_of(container, principal, case)
    same = one(container.cases, principal, case.id, cmd.Retitle("  Same title "))
    assert same == case
    assert events_of(container, principal, case) == events


def test_update_is_noop_when_patch_is_empty(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case()
    # A change of nothing is a caller's mistake now (the Coralogix dialect refuses an empty
    # patch before it gets here); a change that repeats the current values is the no-op.
    raises_code(ErrorCode.INVALID_ARGUMENT, lambda: one(container.cases, principal, case.id))
    assert one(container.cases, principal, case.id, cmd.Retitle(case.title)) == case


@pytest.mark.parametrize("reason", ["", "  ", "r" * 4097])  # the canonical limit (MODEL.md)
def test_update_rejects_resolution_reason_when_blank_or_too_long(
    container: Container, principal: Principal, make_case: MakeCase, reason: str
) -> None:
    case = one(container.cases, principal, make_case().id, cmd.Resolve())
    raises_code(
        ErrorCode.INVALID_ARGUMENT,
        lambda: one(container.cases, principal, case.id, cmd.SetResolutionReason(reason)),
    )


def test_update_accepts_500_character_resolution_reason_after_trimming(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = one(container.cases, principal, make_case().id, cmd.Resolve())
    reason = "r" * 500
    updated = one(container.cases, principal, case.id, cmd.SetResolutionReason(f" {reason} "))
    assert updated.resolution is not None
    assert updated.resolution.reason == reason


def test_update_refuses_resolution_reason_when_case_is_open(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case(title="Keep me")
    err = raises_code(
        ErrorCode.INVALID_TRANSITION,
        lambda: one(
            container.cases,
            principal,
            case.id,
            cmd.Retitle("Changed"),
            cmd.SetResolutionReason("x"),
        ),
    )
    assert f"CASE_STATUS_{_status_of(err).name}" == ACTIVE
    assert container.cases.get(principal, case.id).title == "Keep me"  # all or nothing


@pytest.mark.parametrize("reason", ["", "   ", "r" * 4097])  # the canonical limit (MODEL.md)
def test_resolve_rejects_reason_when_blank_or_too_long(
    container: Container, principal: Principal, make_case: MakeCase, reason: str
) -> None:
    case = make_case()
    raises_code(
        ErrorCode.INVALID_ARGUMENT,
        lambda: one(container.cases, principal, case.id, cmd.Resolve(reason)),
    )
    assert container.cases.get(principal, case.id).status is CaseStatus.ACTIVE


@pytest.mark.parametrize("user", ["", "alice@example.com", "1234", USER_A + "0"])
def test_assign_rejects_assignee_when_not_a_uuid(
    container: Container, principal: Principal, make_case: MakeCase, user: str
) -> None:
    case = make_case()
    raises_code(
        ErrorCode.INVALID_ARGUMENT,
        lambda: one(container.cases, principal, case.id, cmd.Assign(user)),
    )


def test_assign_stores_assignee_lowercased_when_given_uppercase_uuid(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = one(container.cases, principal, make_case().id, cmd.Assign(USER_A.upper()))
    assert case.assignee == USER_A


def test_set_priority_override_rejects_priority_when_unspecified(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    # Unknown numbers cannot reach the service (commands carry a CasePriority); each dialect
    # refuses them in its own words (tests/api/coralogix/{grpc/test_bad_input.py,
    # rest/test_errors.py}).
    case = make_case()
    raises_code(
        ErrorCode.INVALID_ARGUMENT,
        lambda: one(container.cases, principal, case.id, cmd.SetPriorityOverride(CasePriority(0))),
    )


# --------------------------------------------------------------------------------------------
# Bulk operations
# --------------------------------------------------------------------------------------------


def failure_codes(result: BulkResult) -> dict[str, ErrorCode]:
    return {f.id: f.code for f in result.failures}


def test_bulk_applies_good_ids_and_reports_each_bad_one_when_ids_are_mixed(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    a, b, c = make_case(), make_case(), make_case()
    closed = one(container.cases, principal, make_case().id, cmd.Close())
    unknown_uuid = str(uuid.uuid4())
    ids = [
        a.id,
        f"CASE-{b.number}",
        f"case-{c.number}",
        "CASE-999999",
        unknown_uuid,
        "bad id!",
        closed.id,
    ]

    result = many(container.cases, principal, ids, command_for(Operation.ACKNOWLEDGE))

    assert sorted(x.id for x in result.cases) == sorted([a.id, b.id, c.id])
    assert all(x.status is CaseStatus.ACKNOWLEDGED for x in result.cases)
    assert failure_codes(result) == {
        "CASE-999999": ErrorCode.CASE_NOT_FOUND,
        unknown_uuid: ErrorCode.CASE_NOT_FOUND,
        "bad id!": ErrorCode.INVALID_ARGUMENT,
        closed.id: ErrorCode.INVALID_TRANSITION,
    }
    assert all(f.message for f in result.failures)
    for case in (a, b, c):
        stored = container.cases.get(principal, case.id)
        assert stored.status is CaseStatus.ACKNOWLEDGED
        assert stored.version == case.version + 1
        last = events_of(container, principal, case)[-1]
        assert as_stored(last.data) == {"statusChanged": {"oldStatus": ACTIVE, "newStatus": ACKED}}
        assert as_stored_actor(last.actor) == api_key_actor(principal)
    assert container.cases.get(principal, closed.id) == closed


def test_bulk_applies_once_when_same_case_is_named_twice(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case()
    events = events_of(container, principal, case)
    ids = [case.id, f"CASE-{case.number}", case.id.upper(), f"case-{case.number}"]

    result = many(container.cases, principal, ids, cmd.SetPriorityOverride(CasePriority(1)))

    assert [x.id for x in result.cases] == [case.id]
    assert result.failures == []
    new = events_of(container, principal, case)[len(events) :]
    assert [e.kind for e in new] == [EventKind.PRIORITY_DETAILS_CHANGED]
    assert container.cases.get(principal, case.id).version == case.version + 1


def test_bulk_returns_unchanged_case_without_event_when_item_is_a_noop(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    acked = one(container.cases, principal, make_case().id, cmd.Acknowledge())
    fresh = make_case()
    events = events_of(container, principal, acked)

    result = many(
        container.cases, principal, [acked.id, fresh.id], command_for(Operation.ACKNOWLEDGE)
    )

    by_id = {x.id: x for x in result.cases}
    assert by_id[acked.id] == acked
    assert by_id[fresh.id].status is CaseStatus.ACKNOWLEDGED
    assert events_of(container, principal, acked) == events


@pytest.mark.parametrize("count", [0, 1001])
def test_bulk_rejects_whole_call_and_changes_nothing_when_id_count_is_out_of_range(
    container: Container, principal: Principal, make_case: MakeCase, count: int
) -> None:
    case = make_case()
    ids = [case.id] * count
    events = events_of(container, principal, case)
    err = raises_code(
        ErrorCode.INVALID_ARGUMENT,
        lambda: many(container.cases, principal, ids, command_for(Operation.ACKNOWLEDGE)),
    )
    assert "ids" in err.message
    assert container.cases.get(principal, case.id) == case
    assert events_of(container, principal, case) == events


def test_bulk_accepts_1000_ids(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case()
    ids = [case.id] * 500 + [f"CASE-{n}" for n in range(10_000, 10_500)]
    result = many(container.cases, principal, ids, command_for(Operation.CLOSE))
    assert [x.id for x in result.cases] == [case.id]
    assert len(result.failures) == 500
    assert set(failure_codes(result).values()) == {ErrorCode.CASE_NOT_FOUND}


BulkCall = Callable[[CaseService, Principal, list[str]], BulkResult]
BULK_OPS: Final[dict[str, tuple[BulkCall, Callable[[Case], bool], Any]]] = {
    "assign": (
        lambda s, p, ids: many(s, p, ids, cmd.Assign(USER_A)),
        lambda c: c.assignee == USER_A,
        EventKind.ASSIGNED,
    ),
    "unassign": (
        lambda s, p, ids: many(s, p, ids, cmd.Unassign()),
        lambda c: c.assignee is None,
        EventKind.UNASSIGNED,
    ),
    "acknowledge": (
        lambda s, p, ids: many(s, p, ids, command_for(Operation.ACKNOWLEDGE)),
        lambda c: c.status is CaseStatus.ACKNOWLEDGED,
        EventKind.STATUS_CHANGED,
    ),
    "resolve": (
        lambda s, p, ids: many(s, p, ids, cmd.Resolve("  bulk fix  ")),
        lambda c: (
            c.status is CaseStatus.RESOLVED
            and c.resolution is not None
            and c.resolution.reason == "bulk fix"
            and c.resolution.resolved_by is ResolverKind.API_KEY
        ),
        EventKind.STATUS_CHANGED,
    ),
    "close": (
        lambda s, p, ids: many(s, p, ids, command_for(Operation.CLOSE)),
        lambda c: c.status is CaseStatus.CLOSED,
        EventKind.STATUS_CHANGED,
    ),
    "set-priority-override": (
        lambda s, p, ids: many(s, p, ids, cmd.SetPriorityOverride(CasePriority(2))),
        lambda c: c.effective_priority is CasePriority.P2,
        EventKind.PRIORITY_DETAILS_CHANGED,
    ),
    "clear-priority-override": (
        lambda s, p, ids: many(s, p, ids, cmd.ClearPriorityOverride()),
        lambda c: c.priority.override is None,
        EventKind.PRIORITY_DETAILS_CHANGED,
    ),
}


@pytest.mark.parametrize(
    ("call", "applied", "kind"), [pytest.param(*v, id=k) for k, v in BULK_OPS.items()]
)
def test_bulk_operation_changes_every_case_and_writes_one_event_each(
    container: Container,
    principal: Principal,
    make_case: MakeCase,
    call: BulkCall,
    applied: Callable[[Case], bool],
    kind: EventKind,
) -> None:
    cases = [make_case() for _ in range(3)]
    for case in cases:  # give unassign / clear-override something to undo
        one(container.cases, principal, case.id, cmd.Assign(USER_B))
        one(container.cases, principal, case.id, cmd.SetPriorityOverride(CasePriority(5)))
    before = {c.id: container.cases.get(principal, c.id) for c in cases}
    counts = {c.id: len(events_of(container, principal, c)) for c in cases}

    result = call(container.cases, principal, [c.id for c in cases])

    assert result.failures == []
    assert sorted(x.id for x in result.cases) == sorted(before)
    for returned in result.cases:
        stored = container.cases.get(principal, returned.id)
        assert stored == returned
        assert applied(stored)
        assert stored.version == before[stored.id].version + 1
        assert stored.update_time > before[stored.id].update_time
        new = events_of(container, principal, stored)[counts[stored.id] :]
        assert [e.kind for e in new] == [kind]
        assert as_stored_actor(new[0].actor) == api_key_actor(principal)


def test_bulk_resolve_accepts_4096_character_reason_and_rejects_4097(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case()
    raises_code(
        ErrorCode.INVALID_ARGUMENT,
        lambda: many(container.cases, principal, [case.id], cmd.Resolve("r" * 4097)),
    )
    assert container.cases.get(principal, case.id).status is CaseStatus.ACTIVE
    result = many(container.cases, principal, [case.id], cmd.Resolve("r" * 4096))
    assert result.cases[0].resolution is not None
    assert result.cases[0].resolution.reason == "r" * 4096


def test_bulk_assign_rejects_whole_call_when_assignee_is_not_a_uuid(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case()
    raises_code(
        ErrorCode.INVALID_ARGUMENT,
        lambda: many(container.cases, principal, [case.id], cmd.Assign("bob@example.com")),
    )
    assert container.cases.get(principal, case.id).assignee is None


# --------------------------------------------------------------------------------------------
# Creation and the system's lifecycle steps (casekeeper's own operations)
# --------------------------------------------------------------------------------------------


def test_create_records_assignment_by_the_caller_when_created_with_assignee(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case(assignee=USER_A.upper())
    assert case.assignee == USER_A
    last = events_of(container, principal, case)[-1]
    assert as_stored(last.data) == {"assigned": {"assigneeUserId": USER_A}}
    assert as_stored_actor(last.actor) == api_key_actor(principal)


def test_create_numbers_active_cases_per_space_and_skips_pending_ones(
    make_case: MakeCase,
) -> None:
    first = make_case()
    pending = make_case(pending=True)
    second = make_case()
    assert (first.number, pending.number, second.number) == (1, None, 2)
    assert [first.version, pending.version, second.version] == [1, 1, 1]


@pytest.mark.parametrize(
    "bad",
    [
        {"title": "   "},
        {"title": "t" * 513},
        {"category": 0},
        {"priority": 0},
        # Unknown enum numbers cannot reach the service (NewCase holds enums): the dialect
        # refuses them (tests/api/coralogix/grpc/test_bad_input.py, CreateCase).
        {"assignee": "bob@example.com"},
        {"case_id": "not-a-uuid"},
    ],
)
def test_create_rejects_spec_when_a_field_is_invalid(
    container: Container, principal: Principal, make_case: MakeCase, bad: dict[str, Any]
) -> None:
    raises_code(ErrorCode.INVALID_ARGUMENT, lambda: make_case(**bad))
    listed, _ = container.cases.list_cases(principal, CaseQuery())
    assert listed == []


def test_create_with_caller_chosen_id_is_idempotent_across_spaces(
    container: Container, principal: Principal, make_case: MakeCase, make_key: MakeKey
) -> None:
    chosen = str(uuid.uuid4())
    case = make_case(case_id=chosen.upper())
    assert case.id == chosen
    err = raises_code(ErrorCode.ALREADY_EXISTS, lambda: make_case(case_id=chosen))
    assert err.spec.http_status == 409
    _, elsewhere = make_key(space_name=f"other-{uuid.uuid4().hex[:8]}")
    raises_code(ErrorCode.ALREADY_EXISTS, lambda: make_case(case_id=chosen, who=elsewhere))
    assert len(events_of(container, principal, case)) == 2


def test_system_activation_numbers_pending_case_and_records_system_actor(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    make_case()
    pending = make_case(pending=True)
    active = container.admin.system_step(principal, pending.id, Operation.ACTIVATE)
    assert active.status is CaseStatus.ACTIVE
    assert active.number == 2
    assert active.version == pending.version + 1
    assert container.cases.get(principal, "CASE-2") == active
    last = events_of(container, principal, active)[-1]
    assert as_stored(last.data) == {
        "statusChanged": {"oldStatus": "CASE_STATUS_PENDING_ACTIVATION", "newStatus": ACTIVE}
    }
    assert as_stored_actor(last.actor) == {"system": {}}
    again = container.admin.system_step(principal, pending.id, Operation.ACTIVATE)
    assert again == active


def test_system_auto_resolve_and_auto_close_record_system_resolver(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    pending = make_case(pending=True)
    resolved = container.admin.system_step(principal, pending.id, Operation.AUTO_RESOLVE)
    assert resolved.status is CaseStatus.RESOLVED
    assert resolved.resolution is not None
    assert resolved.resolution.resolved_by is ResolverKind.SYSTEM
    assert resolved.number is None  # it never became active
    closed = container.admin.system_step(principal, pending.id, Operation.AUTO_CLOSE)
    assert closed.status is CaseStatus.CLOSED
    assert closed.end_time == resolved.end_time
    assert [as_stored_actor(e.actor) for e in events_of(container, principal, closed)[-2:]] == [
        {"system": {}},
        {"system": {}},
    ]
    raises_code(
        ErrorCode.INVALID_TRANSITION,
        lambda: container.admin.system_step(principal, closed.id, Operation.AUTO_RESOLVE),
    )


def test_system_reprioritize_changes_system_priority_of_open_cases_only(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = one(
        container.cases,
        principal,
        make_case(priority=4).id,
        cmd.SetPriorityOverride(CasePriority(3)),
    )
    changed = container.admin.reprioritize(principal, case.id, CasePriority.P1)
    assert changed.priority.system is CasePriority.P1
    assert changed.effective_priority is CasePriority.P3  # the override still wins
    assert as_stored_actor(events_of(container, principal, case)[-1].actor) == {"system": {}}
    closed = one(container.cases, principal, case.id, cmd.Close())
    assert container.admin.reprioritize(principal, case.id, CasePriority.P5) == closed


def test_system_reprioritize_refuses_an_unspecified_priority(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    """Lists merge over P1..P5: a case without one would vanish from update-ordered lists."""
    case = make_case(priority=4)
    with pytest.raises(CasekeeperError) as err:
        container.admin.reprioritize(principal, case.id, CasePriority.UNSPECIFIED)
    assert err.value.code is ErrorCode.INVALID_ARGUMENT
    assert container.cases.get(principal, case.id) == case
