"""The case state machine and every case operation, as pure functions (no database).

The expected outcome of every (status x operation) pair is written out below from the design
(API_DIGEST §4.1), not derived from ``lifecycle.TRANSITIONS``, so a change to the machine has
to change this table too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Final

import pytest

from casekeeper.domain import lifecycle, timeline
from casekeeper.domain.enums import (
    ActorKind,
    CaseCategory,
    CasePriority,
    CaseStatus,
    EventKind,
    ResolverKind,
)
from casekeeper.domain.errors import CasekeeperError, ErrorCode
from casekeeper.domain.lifecycle import Change, Operation
from casekeeper.domain.model import (
    Case,
    Json,
    PriorityDetails,
    ResolutionDetails,
    parse_case_ref,
)
from casekeeper.domain.timeutil import parse_rfc3339, to_rfc3339
from casekeeper.store.event_codec import decode
from tests.stored import as_stored

S = CaseStatus
NOW: Final = 1_758_537_000_000_000  # 2025-09-22T10:30:00Z in microseconds
CREATED: Final = NOW - 3_600_000_000  # an hour earlier
ACKED_AT: Final = CREATED + 60_000_000
RESOLVED_AT: Final = CREATED + 120_000_000
CASE_UUID: Final = "0b9d6f7e-3c2a-4e55-9a1b-5d7c8e9f0a1b"
USER_A: Final = "11111111-1111-4111-8111-111111111111"
USER_B: Final = "22222222-2222-4222-8222-222222222222"
OLD_REASON: Final = "disk was full"

ALL_STATUSES: Final = (S.PENDING_ACTIVATION, S.ACTIVE, S.ACKNOWLEDGED, S.RESOLVED, S.CLOSED)


def make_case(
    status: CaseStatus,
    *,
    assignee: str | None = None,
    override: CasePriority | None = None,
    reason: str | None = OLD_REASON,
    title: str = "Checkout latency above SLO",
) -> Case:
    """A realistic case that reached ``status`` the usual way (resolved before closed)."""
    resolved = status in (S.RESOLVED, S.CLOSED)
    return Case(
        id=CASE_UUID,
        space_id=1,
        title=title,
        status=status,
        priority=PriorityDetails(system=CasePriority.P3, override=override),
        category=CaseCategory.AVAILABILITY,
        create_time=CREATED,
        update_time=CREATED + 1,
        number=None if status is S.PENDING_ACTIVATION else 42,
        assignees=(assignee,) if assignee else (),
        acknowledge_time=ACKED_AT if status is S.ACKNOWLEDGED else None,
        resolution=(
            ResolutionDetails(
                reason=reason, resolve_time=RESOLVED_AT, resolved_by=ResolverKind.API_KEY
            )
            if resolved
            else None
        ),
        end_time=RESOLVED_AT if resolved else None,
        version=3,
    )


def status_event(old: CaseStatus, new: CaseStatus) -> timeline.StatusChanged:
    return timeline.StatusChanged(old, new)


def read_back(kind: EventKind, stored: Json) -> timeline.TimelineEvent:
    """The event the store reads from ``stored``: the expectations below are written as the
    JSON each event is kept as, so they also pin that format."""
    return decode(kind, stored)


def assert_refused(err: pytest.ExceptionInfo[CasekeeperError], case: Case, verb: str) -> None:
    assert err.value.code is ErrorCode.INVALID_TRANSITION
    assert err.value.detail["status"] is case.status
    assert f"in status {lifecycle.STATUS_LABEL[case.status]}" in err.value.message
    assert verb in err.value.message
    assert (case.readable_id or case.id) in err.value.message
    assert err.value.spec.grpc_status == "FAILED_PRECONDITION"


# --------------------------------------------------------------------------------------------
# Status operations: the full table
# --------------------------------------------------------------------------------------------

NOOP: Final = "no-op"
REFUSE: Final = "refused"
Outcome = CaseStatus | str

STATUS_TABLE: Final[dict[Operation, dict[CaseStatus, Outcome]]] = {
    Operation.ACKNOWLEDGE: {
        S.PENDING_ACTIVATION: REFUSE,
        S.ACTIVE: S.ACKNOWLEDGED,
        S.ACKNOWLEDGED: NOOP,
        S.RESOLVED: REFUSE,
        S.CLOSED: REFUSE,
    },
    Operation.UNACKNOWLEDGE: {
        S.PENDING_ACTIVATION: REFUSE,
        S.ACTIVE: NOOP,  # already unacknowledged: a same-state repeat
        S.ACKNOWLEDGED: S.ACTIVE,
        S.RESOLVED: REFUSE,
        S.CLOSED: REFUSE,
    },
    Operation.RESOLVE: {
        S.PENDING_ACTIVATION: REFUSE,
        S.ACTIVE: S.RESOLVED,
        S.ACKNOWLEDGED: S.RESOLVED,
        S.RESOLVED: NOOP,
        S.CLOSED: REFUSE,
    },
    Operation.CLOSE: {
        S.PENDING_ACTIVATION: REFUSE,
        S.ACTIVE: S.CLOSED,
        S.ACKNOWLEDGED: S.CLOSED,
        S.RESOLVED: S.CLOSED,
        S.CLOSED: NOOP,
    },
    Operation.REOPEN: {
        S.PENDING_ACTIVATION: REFUSE,
        S.ACTIVE: NOOP,  # already open
        S.ACKNOWLEDGED: REFUSE,
        S.RESOLVED: S.ACTIVE,
        S.CLOSED: S.ACTIVE,
    },
    Operation.ACTIVATE: {
        S.PENDING_ACTIVATION: S.ACTIVE,
        S.ACTIVE: NOOP,
        S.ACKNOWLEDGED: REFUSE,
        S.RESOLVED: REFUSE,
        S.CLOSED: REFUSE,
    },
    Operation.AUTO_RESOLVE: {
        S.PENDING_ACTIVATION: S.RESOLVED,
        S.ACTIVE: S.RESOLVED,
        S.ACKNOWLEDGED: S.RESOLVED,
        S.RESOLVED: NOOP,
        S.CLOSED: REFUSE,
    },
    Operation.AUTO_CLOSE: {
        S.PENDING_ACTIVATION: REFUSE,
        S.ACTIVE: REFUSE,
        S.ACKNOWLEDGED: REFUSE,
        S.RESOLVED: S.CLOSED,
        S.CLOSED: NOOP,
    },
}

STATUS_CASES: Final = [
    pytest.param(op, status, STATUS_TABLE[op][status], id=f"{op.name}-from-{status.name}")
    for op in STATUS_TABLE
    for status in ALL_STATUSES
]


def expected_after(before: Case, op: Operation, target: CaseStatus, actor: ActorKind) -> Case:
    """The case a successful status operation must produce, written out field by field."""
    changes: dict[str, object] = {"status": target}
    if target is S.ACKNOWLEDGED:
        changes["acknowledge_time"] = NOW
    if op is Operation.UNACKNOWLEDGE:
        changes["acknowledge_time"] = None
    if target is S.RESOLVED:
        resolver = ResolverKind.SYSTEM if actor is ActorKind.SYSTEM else ResolverKind.API_KEY
        changes["resolution"] = ResolutionDetails(
            reason="root cause fixed", resolve_time=NOW, resolved_by=resolver
        )
        changes["end_time"] = NOW
    if target is S.CLOSED and before.end_time is None:
        changes["end_time"] = NOW
    if op is Operation.REOPEN:  # open again: nothing of its resolution or acknowledgement
        changes.update(acknowledge_time=None, resolution=None, end_time=None)
    return next_version(before, **changes)


def next_version(before: Case, **changes: object) -> Case:
    """What an operation must produce: ``changes``, the update time, the version bumped."""
    return dataclasses.replace(before, update_time=NOW, version=before.version + 1, **changes)  # type: ignore[arg-type]


def test_status_table_covers_every_status_operation() -> None:
    assert set(STATUS_TABLE) == set(lifecycle.STATUS_OPERATIONS)
    for row in STATUS_TABLE.values():
        assert set(row) == set(ALL_STATUSES)


@pytest.mark.parametrize(("op", "status", "outcome"), STATUS_CASES)
def test_status_operation_follows_the_table_when_applied_to_each_status(
    op: Operation, status: CaseStatus, outcome: Outcome
) -> None:
    actor = (
        ActorKind.SYSTEM
        if op in (Operation.ACTIVATE, Operation.AUTO_RESOLVE, Operation.AUTO_CLOSE)
        else ActorKind.API_KEY
    )
    before = make_case(status, assignee=USER_A)

    def run() -> Change:
        return lifecycle.transition(
            before, op, actor_kind=actor, now=NOW, reason="root cause fixed"
        )

    if outcome == REFUSE:
        with pytest.raises(CasekeeperError) as err:
            run()
        assert_refused(err, before, op.value)
        return
    change = run()
    if outcome == NOOP:
        assert change.events == []
        assert not change.changed
        assert change.case == before
        return
    assert isinstance(outcome, CaseStatus)
    assert change.changed
    assert change.events == [status_event(status, outcome)]
    assert change.case == expected_after(before, op, outcome, actor)


def test_status_changed_is_stored_with_the_status_names_when_acknowledging() -> None:
    change = lifecycle.transition(
        make_case(S.ACTIVE), Operation.ACKNOWLEDGE, actor_kind=ActorKind.USER, now=NOW
    )
    (event,) = change.events
    assert as_stored(event) == {
        "statusChanged": {
            "oldStatus": "CASE_STATUS_ACTIVE",
            "newStatus": "CASE_STATUS_ACKNOWLEDGED",
        }
    }


@pytest.mark.parametrize(
    ("actor", "resolver"),
    [
        (ActorKind.SYSTEM, ResolverKind.SYSTEM),
        (ActorKind.USER, ResolverKind.CX_USER),
        (ActorKind.API_KEY, ResolverKind.API_KEY),
        (ActorKind.SERVICE_NOW, ResolverKind.SERVICE_NOW),
        (ActorKind.SLACK, ResolverKind.SLACK),
        (ActorKind.PROMETHEUS_ALERT_MANAGER, ResolverKind.PROMETHEUS_ALERT_MANAGER),
        (ActorKind.PAGER_DUTY, ResolverKind.PAGER_DUTY),
        (ActorKind.MICROSOFT_TEAMS, ResolverKind.MICROSOFT_TEAMS),
    ],
)
def test_resolve_records_resolver_kind_when_actor_is(
    actor: ActorKind, resolver: ResolverKind
) -> None:
    change = lifecycle.transition(
        make_case(S.ACKNOWLEDGED), Operation.RESOLVE, actor_kind=actor, now=NOW
    )
    assert change.case.resolution == ResolutionDetails(
        reason=None, resolve_time=NOW, resolved_by=resolver
    )
    assert change.case.end_time == NOW
    assert change.case.acknowledge_time == ACKED_AT  # resolving keeps the acknowledgement


def test_close_keeps_resolution_and_end_time_when_case_was_resolved() -> None:
    resolved = make_case(S.RESOLVED)
    change = lifecycle.transition(resolved, Operation.CLOSE, actor_kind=ActorKind.API_KEY, now=NOW)
    assert change.case.status is S.CLOSED
    assert change.case.end_time == RESOLVED_AT
    assert change.case.resolution == resolved.resolution
    assert change.case.duration_ms(NOW + 10**12) == (RESOLVED_AT - CREATED) // 1000


def test_close_sets_end_time_and_no_resolution_when_case_was_active() -> None:
    change = lifecycle.transition(
        make_case(S.ACTIVE), Operation.CLOSE, actor_kind=ActorKind.API_KEY, now=NOW
    )
    assert change.case.end_time == NOW
    assert change.case.resolution is None


def test_refusal_names_the_readable_id_when_case_has_one() -> None:
    with pytest.raises(CasekeeperError) as err:
        lifecycle.transition(
            make_case(S.RESOLVED), Operation.ACKNOWLEDGE, actor_kind=ActorKind.USER, now=NOW
        )
    assert "CASE-42" in err.value.message
    assert "in status resolved" in err.value.message


def test_refusal_names_the_uuid_when_case_is_pending() -> None:
    with pytest.raises(CasekeeperError) as err:
        lifecycle.transition(
            make_case(S.PENDING_ACTIVATION), Operation.RESOLVE, actor_kind=ActorKind.USER, now=NOW
        )
    assert CASE_UUID in err.value.message
    assert "in status pending activation" in err.value.message


# --------------------------------------------------------------------------------------------
# Field operations
# --------------------------------------------------------------------------------------------

# Which statuses accept the field operations (False = INVALID_TRANSITION).
NON_TERMINAL: Final = {
    S.PENDING_ACTIVATION: True,
    S.ACTIVE: True,
    S.ACKNOWLEDGED: True,
    S.RESOLVED: True,
    S.CLOSED: False,
}
TITLE_ALLOWED: Final = dict.fromkeys(ALL_STATUSES, True)
REASON_ALLOWED: Final = {
    S.PENDING_ACTIVATION: False,
    S.ACTIVE: False,
    S.ACKNOWLEDGED: False,
    S.RESOLVED: True,
    S.CLOSED: True,
}

EACH_STATUS: Final = [pytest.param(s, id=s.name) for s in ALL_STATUSES]


def p3(override: CasePriority | None = None) -> PriorityDetails:
    return PriorityDetails(system=CasePriority.P3, override=override)


@pytest.mark.parametrize("status", EACH_STATUS)
def test_assign_records_assigned_event_when_case_was_unassigned(status: CaseStatus) -> None:
    before = make_case(status)
    if not NON_TERMINAL[status]:
        with pytest.raises(CasekeeperError) as err:
            lifecycle.assign(before, USER_A, now=NOW)
        assert_refused(err, before, "assign")
        return
    change = lifecycle.assign(before, USER_A, now=NOW)
    assert change.events == [read_back(EventKind.ASSIGNED, {"assigneeUserId": USER_A})]
    assert change.case == next_version(before, assignees=(USER_A,))


@pytest.mark.parametrize("status", EACH_STATUS)
def test_assign_records_previous_assignee_when_case_was_assigned(status: CaseStatus) -> None:
    before = make_case(status, assignee=USER_A)
    if not NON_TERMINAL[status]:
        with pytest.raises(CasekeeperError) as err:
            lifecycle.assign(before, USER_B, now=NOW)
        assert_refused(err, before, "assign")
        return
    change = lifecycle.assign(before, USER_B, now=NOW)
    assert change.events == [
        read_back(EventKind.ASSIGNED, {"assigneeUserId": USER_B, "previousAssigneeUserId": USER_A})
    ]
    assert change.case == next_version(before, assignees=(USER_B,))


@pytest.mark.parametrize("status", EACH_STATUS)
def test_assign_is_noop_when_assignee_is_unchanged(status: CaseStatus) -> None:
    before = make_case(status, assignee=USER_A)
    if not NON_TERMINAL[status]:
        with pytest.raises(CasekeeperError) as err:
            lifecycle.assign(before, USER_A, now=NOW)
        assert_refused(err, before, "assign")
        return
    change = lifecycle.assign(before, USER_A, now=NOW)
    assert change.events == []
    assert change.case == before


@pytest.mark.parametrize("status", EACH_STATUS)
def test_unassign_records_previous_assignee_when_case_was_assigned(status: CaseStatus) -> None:
    before = make_case(status, assignee=USER_A)
    if not NON_TERMINAL[status]:
        with pytest.raises(CasekeeperError) as err:
            lifecycle.unassign(before, now=NOW)
        assert_refused(err, before, "unassign")
        return
    change = lifecycle.unassign(before, now=NOW)
    assert change.events == [read_back(EventKind.UNASSIGNED, {"previousAssigneeUserId": USER_A})]
    assert change.case == next_version(before, assignees=())


@pytest.mark.parametrize("status", EACH_STATUS)
def test_unassign_is_noop_when_case_is_unassigned(status: CaseStatus) -> None:
    before = make_case(status)
    if not NON_TERMINAL[status]:
        with pytest.raises(CasekeeperError) as err:
            lifecycle.unassign(before, now=NOW)
        assert_refused(err, before, "unassign")
        return
    change = lifecycle.unassign(before, now=NOW)
    assert change.events == []
    assert change.case == before


@pytest.mark.parametrize("status", EACH_STATUS)
def test_set_priority_override_records_from_and_to_when_no_override_was_set(
    status: CaseStatus,
) -> None:
    before = make_case(status)
    if not NON_TERMINAL[status]:
        with pytest.raises(CasekeeperError) as err:
            lifecycle.set_priority_override(before, CasePriority.P1, now=NOW)
        assert_refused(err, before, "priority override")
        return
    change = lifecycle.set_priority_override(before, CasePriority.P1, now=NOW)
    assert change.events == [
        read_back(
            EventKind.PRIORITY_DETAILS_CHANGED,
            {
                "from": {"system": "CASE_PRIORITY_P3"},
                "to": {"system": "CASE_PRIORITY_P3", "override": "CASE_PRIORITY_P1"},
            },
        )
    ]
    assert change.case == next_version(before, priority=p3(CasePriority.P1))
    assert change.case.effective_priority is CasePriority.P1


@pytest.mark.parametrize("status", EACH_STATUS)
def test_set_priority_override_replaces_override_when_another_was_set(status: CaseStatus) -> None:
    before = make_case(status, override=CasePriority.P5)
    if not NON_TERMINAL[status]:
        with pytest.raises(CasekeeperError) as err:
            lifecycle.set_priority_override(before, CasePriority.P2, now=NOW)
        assert_refused(err, before, "priority override")
        return
    change = lifecycle.set_priority_override(before, CasePriority.P2, now=NOW)
    assert [as_stored(e) for e in change.events] == [
        {
            "priorityDetailsChanged": {
                "from": {"system": "CASE_PRIORITY_P3", "override": "CASE_PRIORITY_P5"},
                "to": {"system": "CASE_PRIORITY_P3", "override": "CASE_PRIORITY_P2"},
            }
        }
    ]
    assert change.case.priority == p3(CasePriority.P2)
    assert change.case.update_time == NOW


@pytest.mark.parametrize("status", EACH_STATUS)
def test_set_priority_override_is_noop_when_override_is_unchanged(status: CaseStatus) -> None:
    before = make_case(status, override=CasePriority.P2)
    if not NON_TERMINAL[status]:
        with pytest.raises(CasekeeperError) as err:
            lifecycle.set_priority_override(before, CasePriority.P2, now=NOW)
        assert_refused(err, before, "priority override")
        return
    change = lifecycle.set_priority_override(before, CasePriority.P2, now=NOW)
    assert change.events == []
    assert change.case == before


@pytest.mark.parametrize("status", EACH_STATUS)
def test_clear_priority_override_restores_system_priority_when_override_was_set(
    status: CaseStatus,
) -> None:
    before = make_case(status, override=CasePriority.P1)
    if not NON_TERMINAL[status]:
        with pytest.raises(CasekeeperError) as err:
            lifecycle.clear_priority_override(before, now=NOW)
        assert_refused(err, before, "priority override")
        return
    change = lifecycle.clear_priority_override(before, now=NOW)
    assert change.events == [
        read_back(
            EventKind.PRIORITY_DETAILS_CHANGED,
            {
                "from": {"system": "CASE_PRIORITY_P3", "override": "CASE_PRIORITY_P1"},
                "to": {"system": "CASE_PRIORITY_P3"},
            },
        )
    ]
    assert change.case == next_version(before, priority=p3())
    assert change.case.effective_priority is CasePriority.P3


@pytest.mark.parametrize("status", EACH_STATUS)
def test_clear_priority_override_is_noop_when_no_override_is_set(status: CaseStatus) -> None:
    before = make_case(status)
    if not NON_TERMINAL[status]:
        with pytest.raises(CasekeeperError) as err:
            lifecycle.clear_priority_override(before, now=NOW)
        assert_refused(err, before, "priority override")
        return
    change = lifecycle.clear_priority_override(before, now=NOW)
    assert change.events == []
    assert change.case == before


@pytest.mark.parametrize("status", EACH_STATUS)
def test_update_title_records_title_changed_event_in_every_status(status: CaseStatus) -> None:
    assert TITLE_ALLOWED[status]
    before = make_case(status, title="Old title")
    change = lifecycle.update(before, title="New title", resolution_reason=None, now=NOW)
    assert change.events == [
        read_back(EventKind.TITLE_CHANGED, {"from": "Old title", "to": "New title"})
    ]
    assert as_stored(change.events[0]) == {
        "titleChangedEvent": {"from": "Old title", "to": "New title"}
    }
    assert change.case == next_version(before, title="New title")


@pytest.mark.parametrize("status", EACH_STATUS)
def test_update_title_is_noop_when_title_is_unchanged_or_absent(status: CaseStatus) -> None:
    before = make_case(status, title="Same")
    for title in ("Same", None):
        change = lifecycle.update(before, title=title, resolution_reason=None, now=NOW)
        assert change.events == []
        assert change.case == before


@pytest.mark.parametrize("status", EACH_STATUS)
def test_update_resolution_reason_follows_the_table_when_applied_to_each_status(
    status: CaseStatus,
) -> None:
    before = make_case(status)
    if not REASON_ALLOWED[status]:
        with pytest.raises(CasekeeperError) as err:
            lifecycle.update(before, title=None, resolution_reason="new reason", now=NOW)
        assert_refused(err, before, "resolution reason")
        return
    change = lifecycle.update(before, title=None, resolution_reason="new reason", now=NOW)
    assert [as_stored(e) for e in change.events] == [
        {"resolutionReasonChangedEvent": {"from": OLD_REASON, "to": "new reason"}}
    ]
    assert before.resolution is not None
    assert change.case == next_version(
        before, resolution=dataclasses.replace(before.resolution, reason="new reason")
    )


@pytest.mark.parametrize("status", [S.RESOLVED, S.CLOSED])
def test_update_resolution_reason_omits_from_when_case_had_no_reason(status: CaseStatus) -> None:
    before = make_case(status, reason=None)
    change = lifecycle.update(before, title=None, resolution_reason="found it", now=NOW)
    assert change.events == [read_back(EventKind.RESOLUTION_REASON_CHANGED, {"to": "found it"})]
    assert change.case.resolution is not None
    assert change.case.resolution.reason == "found it"
    assert change.case.resolution.resolve_time == RESOLVED_AT


@pytest.mark.parametrize("status", [S.RESOLVED, S.CLOSED])
def test_update_resolution_reason_is_noop_when_reason_is_unchanged(status: CaseStatus) -> None:
    before = make_case(status)
    change = lifecycle.update(before, title=None, resolution_reason=OLD_REASON, now=NOW)
    assert change.events == []
    assert change.case == before


def test_update_applies_title_and_reason_together_when_case_is_resolved() -> None:
    before = make_case(S.RESOLVED, title="T1")
    change = lifecycle.update(before, title="T2", resolution_reason="R2", now=NOW)
    assert [e.kind for e in change.events] == [
        EventKind.TITLE_CHANGED,
        EventKind.RESOLUTION_REASON_CHANGED,
    ]
    assert change.case.title == "T2"
    assert change.case.resolution is not None
    assert change.case.resolution.reason == "R2"


def test_update_refuses_the_whole_patch_when_reason_is_not_allowed() -> None:
    before = make_case(S.ACTIVE, title="T1")
    with pytest.raises(CasekeeperError) as err:
        lifecycle.update(before, title="T2", resolution_reason="R2", now=NOW)
    assert err.value.code is ErrorCode.INVALID_TRANSITION
    assert "in status active" in err.value.message


def test_update_resolution_reason_succeeds_when_case_was_closed_without_resolving() -> None:
    closed = lifecycle.transition(
        make_case(S.ACTIVE), Operation.CLOSE, actor_kind=ActorKind.API_KEY, now=NOW
    ).case
    change = lifecycle.update(closed, title=None, resolution_reason="false alarm", now=NOW + 1)
    assert change.events == [read_back(EventKind.RESOLUTION_REASON_CHANGED, {"to": "false alarm"})]
    assert change.case.resolution is not None
    assert change.case.resolution.reason == "false alarm"


# Operations that take a case and produce a Change, for the "update_time" rule.
FieldOp = Callable[[Case], Change]
CHANGING_FIELD_OPS: Final[list[tuple[str, CaseStatus, FieldOp]]] = [
    ("assign", S.ACTIVE, lambda c: lifecycle.assign(c, USER_B, now=NOW)),
    ("unassign", S.ACTIVE, lambda c: lifecycle.unassign(c, now=NOW)),
    (
        "set-override",
        S.ACTIVE,
        lambda c: lifecycle.set_priority_override(c, CasePriority.P1, now=NOW),
    ),
    ("title", S.CLOSED, lambda c: lifecycle.update(c, title="x", resolution_reason=None, now=NOW)),
    (
        "reason",
        S.RESOLVED,
        lambda c: lifecycle.update(c, title=None, resolution_reason="y", now=NOW),
    ),
]


@pytest.mark.parametrize(
    ("status", "apply"), [pytest.param(s, f, id=n) for n, s, f in CHANGING_FIELD_OPS]
)
def test_field_operation_makes_the_next_version_changing_only_update_time_and_the_field(
    status: CaseStatus, apply: FieldOp
) -> None:
    before = make_case(status, assignee=USER_A)
    change = apply(before)
    assert change.case.update_time == NOW
    assert change.case.status is before.status
    assert change.case.version == before.version + 1  # the store checks the row has before's
    assert change.case.create_time == before.create_time


# --------------------------------------------------------------------------------------------
# System re-prioritisation
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", EACH_STATUS)
def test_set_system_priority_changes_only_open_cases(status: CaseStatus) -> None:
    before = make_case(status, override=CasePriority.P4)
    change = lifecycle.set_system_priority(before, CasePriority.P1, now=NOW)
    if status in (S.RESOLVED, S.CLOSED):
        assert change.events == []
        assert change.case == before
        return
    assert change.case.priority == PriorityDetails(system=CasePriority.P1, override=CasePriority.P4)
    assert change.case.effective_priority is CasePriority.P4  # the user's override still wins
    assert [as_stored(e) for e in change.events] == [
        {
            "priorityDetailsChanged": {
                "from": {"system": "CASE_PRIORITY_P3", "override": "CASE_PRIORITY_P4"},
                "to": {"system": "CASE_PRIORITY_P1", "override": "CASE_PRIORITY_P4"},
            }
        }
    ]


# --------------------------------------------------------------------------------------------
# Model value objects
# --------------------------------------------------------------------------------------------


def test_effective_priority_is_override_when_set() -> None:
    assert PriorityDetails(CasePriority.P4, CasePriority.P1).effective is CasePriority.P1
    assert PriorityDetails(CasePriority.P4).effective is CasePriority.P4
    assert PriorityDetails(CasePriority.P4, CasePriority.P4).effective is CasePriority.P4


def test_duration_grows_with_now_when_case_is_open() -> None:
    case = make_case(S.ACTIVE)
    assert case.duration_ms(CREATED + 5_000_999) == 5_000
    assert case.duration_ms(CREATED + 7_000_000) == 7_000


def test_duration_is_frozen_when_case_has_ended() -> None:
    case = make_case(S.CLOSED)
    expected = (RESOLVED_AT - CREATED) // 1000
    assert case.duration_ms(NOW) == expected
    assert case.duration_ms(NOW + 10**9) == expected


def test_duration_is_never_negative_when_clock_is_behind() -> None:
    assert make_case(S.ACTIVE).duration_ms(CREATED - 1_000_000) == 0


def test_readable_id_is_absent_when_case_has_no_number() -> None:
    assert make_case(S.PENDING_ACTIVATION).readable_id is None
    assert make_case(S.ACTIVE).readable_id == "CASE-42"


@pytest.mark.parametrize(
    "raw",
    [
        "0B9D6F7E-3C2A-4E55-9A1B-5D7C8E9F0A1B",
        "0b9d6f7e-3c2a-4e55-9a1b-5d7c8e9f0a1b",
        "0b9D6f7E-3c2A-4e55-9A1b-5d7C8e9F0a1B",
    ],
)
def test_parse_case_ref_lowercases_uuid_when_given_any_case(raw: str) -> None:
    ref = parse_case_ref(raw)
    assert ref is not None
    assert ref.uuid == CASE_UUID
    assert ref.number is None


@pytest.mark.parametrize(
    ("raw", "number"),
    [("case-697506", 697506), ("CASE-1", 1), ("Case-0042", 42), ("  CASE-7  ", 7)],
)
def test_parse_case_ref_reads_number_when_given_readable_id(raw: str, number: int) -> None:
    ref = parse_case_ref(raw)
    assert ref is not None
    assert ref.number == number
    assert ref.uuid is None
    assert ref.raw == raw


@pytest.mark.parametrize(
    "raw", ["FOO-1", "INC-12", "CASE-", "CASE-x1", "CASE1", "0b9d6f7e3c2a4e559a1b5d7c8e9f0a1b", ""]
)
def test_parse_case_ref_returns_none_when_text_names_no_case(raw: str) -> None:
    assert parse_case_ref(raw) is None


# --------------------------------------------------------------------------------------------
# timeutil
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "us", [0, 1, 999_999, 1_000_000, NOW, NOW + 123_456, 4_102_444_800_000_000]
)
def test_rfc3339_round_trips_when_formatting_then_parsing(us: int) -> None:
    assert parse_rfc3339(to_rfc3339(us)) == us


def test_to_rfc3339_formats_utc_with_microseconds() -> None:
    assert to_rfc3339(0) == "1970-01-01T00:00:00.000000Z"
    assert to_rfc3339(NOW + 123_456) == "2025-09-22T10:30:00.123456Z"


@pytest.mark.parametrize(
    ("text", "us"),
    [
        ("2025-09-22T10:30:00Z", NOW),
        ("2025-09-22T10:30:00z", NOW),
        ("2025-09-22T12:30:00+02:00", NOW),
        ("2025-09-22T05:30:00-05:00", NOW),
        ("  2025-09-22T10:30:00Z  ", NOW),
    ],
)
def test_parse_rfc3339_converts_to_utc_micros_when_offset_is_given(text: str, us: int) -> None:
    assert parse_rfc3339(text) == us


@pytest.mark.parametrize(
    ("text", "us"),
    [
        ("2025-09-22T10:30:00.000000Z", NOW),
        ("2025-09-22T10:30:00.5Z", NOW + 500_000),
        ("2025-09-22T10:30:00.123456789Z", NOW + 123_456),
        ("2025-09-22T12:30:00.123456+02:00", NOW + 123_456),
        ("2025-09-22T05:30:00.25-05:00", NOW + 250_000),
    ],
)
def test_parse_rfc3339_keeps_microseconds_when_fraction_is_given(text: str, us: int) -> None:
    assert parse_rfc3339(text) == us


@pytest.mark.parametrize(
    "text",
    ["", "yesterday", "2025-13-01T00:00:00Z", "2025-09-22T25:00:00Z", "12345", "2025-09-22Tnoon"],
)
def test_parse_rfc3339_rejects_junk(text: str) -> None:
    with pytest.raises(CasekeeperError) as err:
        parse_rfc3339(text, field="startedAt")
    assert err.value.code is ErrorCode.INVALID_ARGUMENT
    assert "startedAt" in err.value.message


@pytest.mark.parametrize(
    "text", ["2025-09-22T10:30:00", "2025-09-22T10:30:00.123456", "2025-09-22"]
)
def test_parse_rfc3339_rejects_timestamp_when_it_has_no_time_zone(text: str) -> None:
    with pytest.raises(CasekeeperError) as err:
        parse_rfc3339(text)
    assert err.value.code is ErrorCode.INVALID_ARGUMENT
    assert "time zone" in err.value.message
