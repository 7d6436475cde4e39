"""The command seam: every command's permission, changes of several commands at once,
expected versions, reopen, several assignees, the canonical fields, and a domain error named
in a dialect's words."""

from __future__ import annotations

import dataclasses

import pytest

from casekeeper.api.coralogix.cases import EVENT_KINDS
from casekeeper.bootstrap import Container
from casekeeper.domain import commands as cmd
from casekeeper.domain import timeline
from casekeeper.domain.commands import CaseChange
from casekeeper.domain.enums import CasePriority, CaseStatus, EventKind, Severity
from casekeeper.domain.errors import CasekeeperError, ErrorCode
from casekeeper.domain.lifecycle import Operation
from casekeeper.domain.model import MAX_ASSIGNEES
from casekeeper.domain.query import CaseFilters, CaseQuery, FilterGroup
from casekeeper.service.auth import Principal
from casekeeper.service.permissions import REQUIRES, Permission
from tests.changes import EXAMPLES, USERS, many, one
from tests.conftest import MakeCase, MakeKey
from tests.stored import as_stored


def refused(code: ErrorCode, fn: object) -> CasekeeperError:
    with pytest.raises(CasekeeperError) as info:
        fn()  # type: ignore[operator]
    assert info.value.code is code, info.value
    return info.value


def code_of(fn: object) -> ErrorCode | None:
    try:
        fn()  # type: ignore[operator]
    except CasekeeperError as err:
        return err.code
    return None


def test_every_command_has_its_permission_and_an_example() -> None:
    assert set(REQUIRES) == set(cmd.COMMANDS)
    assert {type(c) for c, _ in EXAMPLES} == set(cmd.COMMANDS)
    assert {type(c): p for c, p in EXAMPLES} == REQUIRES


@pytest.mark.parametrize(("command", "permission"), EXAMPLES, ids=lambda x: type(x).__name__)
def test_a_command_needs_its_permission(
    container: Container,
    make_key: MakeKey,
    make_case: MakeCase,
    command: cmd.CaseCommand,
    permission: Permission,
) -> None:
    case = make_case()
    others = [p.value for p in Permission if p is not permission]
    _, without = make_key(*others)
    err = refused(
        ErrorCode.PERMISSION_DENIED, lambda: one(container.cases, without, case.id, command)
    )
    assert repr(permission.value) in err.message
    _, holder = make_key(permission.value)
    # Allowed now; the lifecycle may still refuse it (unacknowledge an active case...).
    assert code_of(lambda: one(container.cases, holder, case.id, command)) in (
        None,
        ErrorCode.INVALID_TRANSITION,
    )


def test_a_change_lacking_one_of_two_permissions_is_refused_and_applies_nothing(
    container: Container, make_key: MakeKey, make_case: MakeCase
) -> None:
    case = make_case()
    _, assigner = make_key(Permission.CASE_ASSIGN.value, Permission.CASE_READ.value)
    err = refused(
        ErrorCode.PERMISSION_DENIED,
        lambda: one(container.cases, assigner, case.id, cmd.Assign(USERS[0]), cmd.Close()),
    )
    assert "'case:Close'" in err.message
    assert container.cases.get(assigner, case.id) == case  # nothing applied
    refused(
        ErrorCode.PERMISSION_DENIED,
        lambda: many(container.cases, assigner, [case.id], cmd.Assign(USERS[0]), cmd.Close()),
    )
    assert container.cases.get(assigner, case.id) == case


def test_a_change_of_several_commands_is_one_version_with_every_event(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case()
    changed = one(
        container.cases,
        principal,
        case.id,
        cmd.Assign(USERS[0]),
        cmd.Acknowledge(),
        cmd.Retitle("Checkout down in eu-west-1"),
    )
    assert changed.version == case.version + 1
    assert (changed.assignee, changed.status, changed.title) == (
        USERS[0],
        CaseStatus.ACKNOWLEDGED,
        "Checkout down in eu-west-1",
    )
    kinds = [e.kind for e in container.timeline.list_events(principal, case.id)][-3:]
    assert kinds == [EventKind.ASSIGNED, EventKind.STATUS_CHANGED, EventKind.TITLE_CHANGED]


def test_a_change_refused_by_its_last_command_applies_none(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case()
    refused(
        ErrorCode.INVALID_TRANSITION,
        lambda: one(
            container.cases, principal, case.id, cmd.Assign(USERS[0]), cmd.SetResolutionReason("x")
        ),
    )
    assert container.cases.get(principal, case.id) == case


def test_an_expected_version_that_is_stale_is_a_conflict_and_changes_nothing(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case()
    moved = one(container.cases, principal, case.id, cmd.Retitle("someone else's title"))
    err = refused(
        ErrorCode.CONFLICT,
        lambda: one(
            container.cases,
            principal,
            case.id,
            cmd.Retitle("mine"),
            expected_version=case.version,
        ),
    )
    assert err.field == "version"
    assert err.detail == {"version": moved.version, "expected": case.version}
    assert container.cases.get(principal, case.id) == moved
    mine = one(
        container.cases, principal, case.id, cmd.Retitle("mine"), expected_version=moved.version
    )
    assert (mine.title, mine.version) == ("mine", moved.version + 1)


def test_a_stale_version_in_a_bulk_fails_that_case_only(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    fresh, stale = make_case(), make_case()
    one(container.cases, principal, stale.id, cmd.Retitle("moved on"))
    ack = (cmd.Acknowledge(),)
    result = container.cases.change_many(
        principal,
        [CaseChange(fresh.id, ack, fresh.version), CaseChange(stale.id, ack, stale.version)],
    )
    assert [c.id for c in result.cases] == [fresh.id]
    assert [(f.id, f.code) for f in result.failures] == [(stale.id, ErrorCode.CONFLICT)]


@pytest.mark.parametrize("first", [cmd.Resolve("fixed"), cmd.Close()])
def test_reopen_makes_a_resolved_or_closed_case_active_again(
    container: Container, principal: Principal, make_case: MakeCase, first: cmd.CaseCommand
) -> None:
    case = one(container.cases, principal, make_case().id, cmd.Acknowledge(), first)
    reopened = one(container.cases, principal, case.id, cmd.Reopen())
    assert reopened.status is CaseStatus.ACTIVE
    assert (reopened.resolution, reopened.end_time, reopened.acknowledge_time) == (
        None,
        None,
        None,
    )
    last = container.timeline.list_events(principal, case.id)[-1]
    assert last.data == timeline.StatusChanged(case.status, CaseStatus.ACTIVE)
    assert one(container.cases, principal, case.id, cmd.Reopen()) == reopened  # a repeat


def test_reopen_is_refused_for_an_acknowledged_case(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = one(container.cases, principal, make_case().id, cmd.Acknowledge())
    err = refused(
        ErrorCode.INVALID_TRANSITION, lambda: one(container.cases, principal, case.id, cmd.Reopen())
    )
    assert "only a resolved or closed case can be reopened" in err.message


def test_ten_assignees_are_kept_in_order_and_an_eleventh_is_refused(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case()
    ten = tuple(USERS[:MAX_ASSIGNEES])
    changed = one(container.cases, principal, case.id, cmd.SetAssignees(ten))
    assert changed.assignees == ten
    assert changed.assignee == ten[0]  # what a one-assignee dialect shows
    assert container.cases.get(principal, case.id).assignees == ten
    err = refused(
        ErrorCode.INVALID_ARGUMENT,
        lambda: one(container.cases, principal, case.id, cmd.SetAssignees(tuple(USERS))),
    )
    assert err.field == "assignees"
    err = refused(
        ErrorCode.INVALID_ARGUMENT,
        lambda: one(
            container.cases, principal, case.id, cmd.SetAssignees((USERS[0], "bob@example.com"))
        ),
    )
    assert err.field == "assignees[1]"
    # A one-assignee dialect's assign replaces the list with one user.
    single = one(container.cases, principal, case.id, cmd.Assign(USERS[5]))
    assert single.assignees == (USERS[5],)


def test_assignee_changes_name_who_came_and_who_went(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = one(container.cases, principal, make_case().id, cmd.SetAssignees(tuple(USERS[:2])))
    one(container.cases, principal, case.id, cmd.SetAssignees((USERS[1], USERS[2])))
    last = [as_stored(e.data) for e in container.timeline.list_events(principal, case.id)][-2:]
    assert last == [  # a new first assignee (what one-assignee dialects show) names who it replaced
        {"assigned": {"assigneeUserId": USERS[1], "previousAssigneeUserId": USERS[0]}},
        {"assigned": {"assigneeUserId": USERS[2]}},
    ]


def test_a_one_assignee_assign_over_several_names_the_one_replaced(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = one(container.cases, principal, make_case().id, cmd.SetAssignees(tuple(USERS[:2])))
    one(container.cases, principal, case.id, cmd.Assign(USERS[1]))
    last = [as_stored(e.data) for e in container.timeline.list_events(principal, case.id)][-1:]
    assert last == [{"assigned": {"assigneeUserId": USERS[1], "previousAssigneeUserId": USERS[0]}}]
    reordered = one(container.cases, principal, case.id, cmd.SetAssignees(tuple(USERS[:2][::-1])))
    assert reordered.assignees == (USERS[1], USERS[0])  # was (USERS[1],): a real change


def test_tags_are_a_set_of_at_most_200(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = one(container.cases, principal, make_case().id, cmd.SetTags(("a", "b")))
    assert one(container.cases, principal, case.id, cmd.SetTags(("b", "a"))) == case
    hundred = tuple(f"t{i}" for i in range(100))
    grown = one(container.cases, principal, case.id, cmd.AddTags(hundred))
    err = refused(
        ErrorCode.INVALID_ARGUMENT,
        lambda: one(
            container.cases, principal, case.id, cmd.AddTags(tuple(f"u{i}" for i in range(99)))
        ),
    )
    assert err.field == "tags"
    assert container.cases.get(principal, case.id) == grown


def test_a_change_that_ends_where_it_started_writes_nothing(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case()
    same = one(
        container.cases,
        principal,
        case.id,
        cmd.SetSeverity(Severity.HIGH),
        cmd.SetSeverity(Severity.UNKNOWN),
    )
    assert same == case
    assert container.cases.get(principal, case.id).version == case.version


def test_two_different_changes_to_one_case_in_a_bulk_fail_the_second(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case()
    result = container.cases.change_many(
        principal,
        [
            CaseChange(case.id, (cmd.Acknowledge(),)),
            CaseChange(f"CASE-{case.number}", (cmd.Close(),)),
            CaseChange(f"case-{case.number}", (cmd.Acknowledge(),)),  # the same change: once
        ],
    )
    assert [c.status for c in result.cases] == [CaseStatus.ACKNOWLEDGED]
    assert [(f.id, f.code) for f in result.failures] == [
        (f"CASE-{case.number}", ErrorCode.INVALID_ARGUMENT)
    ]


@pytest.mark.parametrize(
    "change",
    [
        lambda ref: CaseChange(ref, (cmd.Acknowledge(),), 0),
        lambda ref: CaseChange(ref, (cmd.SetExtension("kibana", ["not", "an", "object"]),)),  # type: ignore[arg-type]
    ],
    ids=["version-0", "extension-list"],
)
def test_malformed_changes_are_invalid_not_conflicts(
    container: Container, principal: Principal, make_case: MakeCase, change: object
) -> None:
    case = make_case()
    refused(
        ErrorCode.INVALID_ARGUMENT,
        lambda: container.cases.change(principal, change(case.id)),  # type: ignore[operator]
    )


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        (CaseFilters(text_search="a\x00b"), "filters.text_search"),
        (CaseFilters(labels=(FilterGroup("team", ("red", " ")),)), "filters.labels"),
        (CaseFilters(groupings=(FilterGroup("service", ()),)), "filters.groupings"),
        (CaseFilters(assignees=("x" * 5000,)), "filters.assignees"),
    ],
    ids=["nul-search", "blank-label", "empty-group", "long-assignee"],
)
def test_every_caller_s_filters_are_checked_by_the_service(
    container: Container, principal: Principal, filters: CaseFilters, field: str
) -> None:
    err = refused(
        ErrorCode.INVALID_ARGUMENT,
        lambda: container.cases.list_cases(principal, CaseQuery(filters=filters)),
    )
    assert err.field == field
    refused(ErrorCode.INVALID_ARGUMENT, lambda: container.cases.filter_values(principal, filters))


def test_canonical_fields_and_the_extensions_bag_round_trip(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case()
    bag = {"owner": "securitySolution", "settings": {"syncAlerts": True}, "connector": None}
    changed = one(
        container.cases,
        principal,
        case.id,
        cmd.SetDescription("Checkout fails for card payments.\n\nSee the runbook."),
        cmd.SetTags(("payments", "eu", "payments")),
        cmd.AddTags(("sev1",)),
        cmd.SetSeverity(Severity.CRITICAL),
        cmd.SetExtension("kibana", bag),
        cmd.Acknowledge(),
        cmd.SetOnHold(True),
    )
    stored = container.cases.get(principal, case.id)
    assert stored == changed
    assert stored.description == "Checkout fails for card payments.\n\nSee the runbook."
    assert stored.tags == ("payments", "eu", "sev1")
    assert stored.severity is Severity.CRITICAL
    assert stored.extensions == {"kibana": bag}
    assert stored.on_hold
    removed = one(
        container.cases,
        principal,
        case.id,
        cmd.RemoveTags(("eu",)),
        cmd.SetExtension("kibana", None),
        cmd.SetDescription(None),
        cmd.Unacknowledge(),  # leaving ACKNOWLEDGED ends the hold
    )
    again = container.cases.get(principal, case.id)
    assert again == removed
    assert (again.tags, again.extensions, again.description, again.on_hold) == (
        ("payments", "sev1"),
        {},
        None,
        False,
    )


def test_on_hold_needs_an_acknowledged_case(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case()
    err = refused(
        ErrorCode.INVALID_TRANSITION,
        lambda: one(container.cases, principal, case.id, cmd.SetOnHold(True)),
    )
    assert "acknowledge it first" in err.message


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (cmd.SetTags(tuple(f"t{i}" for i in range(201))), "tags"),
        (cmd.AddTags(("ok", "x" * 257)), "tags[1]"),
        (cmd.SetDescription("d" * 30_001), "description"),
        (cmd.SetExtension("Not A Namespace", {}), "extensions"),
        (cmd.SetExtension("kibana", {"blob": "x" * 70_000}), "extensions.kibana"),
        (cmd.Retitle(" "), "title"),
    ],
    ids=["201-tags", "long-tag", "long-description", "bad-namespace", "big-extension", "title"],
)
def test_canonical_limits_name_the_canonical_field(
    container: Container,
    principal: Principal,
    make_case: MakeCase,
    command: cmd.CaseCommand,
    field: str,
) -> None:
    case = make_case()
    err = refused(
        ErrorCode.INVALID_ARGUMENT, lambda: one(container.cases, principal, case.id, command)
    )
    assert err.field == field
    assert err.message.startswith(f"{field}: ")
    assert container.cases.get(principal, case.id) == case


def test_a_dialect_names_the_field_of_a_domain_error_its_own_way(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case()
    err = refused(
        ErrorCode.INVALID_ARGUMENT,
        lambda: one(container.cases, principal, case.id, cmd.Assign("bob@example.com")),
    )
    assert err.message == "assignee: 'bob@example.com' is not a UUID"
    coralogix = err.rename({"assignee": "assignee.userId"})
    assert coralogix.message == "assignee.userId: 'bob@example.com' is not a UUID"
    assert coralogix.code is err.code
    kibana = refused(
        ErrorCode.INVALID_ARGUMENT,
        lambda: one(container.cases, principal, case.id, cmd.SetAssignees(("x",))),
    ).rename({"assignees": "assignees.uid"})
    assert kibana.message.startswith("assignees.uid[0]: ")


def test_changes_other_dialects_make_stay_off_the_coralogix_timeline(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case()
    one(container.cases, principal, case.id, cmd.SetTags(("x",)), cmd.SetSeverity(Severity.LOW))
    kinds = [e.kind for e in container.timeline.list_events(principal, case.id)]
    assert kinds[-2:] == [EventKind.TAGS_CHANGED, EventKind.SEVERITY_CHANGED]
    assert not {EventKind.TAGS_CHANGED, EventKind.SEVERITY_CHANGED} & EVENT_KINDS


def test_the_timeline_comes_typed_for_any_dialect(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case()
    one(container.cases, principal, case.id, cmd.Assign(USERS[0]), cmd.SetTags(("db",)))
    one(container.cases, principal, case.id, cmd.Close())
    one(container.cases, principal, case.id, cmd.Reopen())
    container.timeline.create_comment(principal, case.id, "back on it")
    typed = [event.data for event in container.timeline.list_events(principal, case.id)]
    assert typed[-5:] == [
        timeline.Assigned(USERS[0], None),
        timeline.TagsChanged(("db",), ()),
        timeline.StatusChanged(CaseStatus.ACTIVE, CaseStatus.CLOSED),
        timeline.StatusChanged(CaseStatus.CLOSED, CaseStatus.ACTIVE),
        timeline.Comment("back on it", (), None),
    ]


@pytest.mark.parametrize(
    ("operation", "permission"),
    [
        (Operation.ACTIVATE, Permission.CASE_CREATE),
        (Operation.AUTO_RESOLVE, Permission.CASE_CLOSE),
        (Operation.AUTO_CLOSE, Permission.CASE_CLOSE),
    ],
)
def test_a_system_step_needs_its_permission_in_the_callers_space(
    container: Container,
    make_key: MakeKey,
    make_case: MakeCase,
    operation: Operation,
    permission: Permission,
) -> None:
    case = make_case(pending=True)
    _, without = make_key(*(p.value for p in Permission if p is not permission))
    err = refused(
        ErrorCode.PERMISSION_DENIED,
        lambda: container.admin.system_step(without, case.id, operation),
    )
    assert repr(permission.value) in err.message
    _, holder = make_key(permission.value)
    assert code_of(lambda: container.admin.system_step(holder, case.id, operation)) in (
        None,
        ErrorCode.INVALID_TRANSITION,  # auto-close wants a resolved case
    )
    outsider = dataclasses.replace(holder, space_id=holder.space_id + 10_000)
    refused(
        ErrorCode.CASE_NOT_FOUND,
        lambda: container.admin.system_step(outsider, case.id, operation),
    )


def test_only_system_operations_are_system_steps(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case()
    err = refused(
        ErrorCode.INVALID_ARGUMENT,
        lambda: container.admin.system_step(principal, case.id, Operation.ACKNOWLEDGE),
    )
    assert "not a system step" in err.message
    assert container.cases.get(principal, case.id) == case


def test_reprioritizing_needs_update(
    container: Container, make_key: MakeKey, make_case: MakeCase
) -> None:
    case = make_case()
    _, reader = make_key(Permission.CASE_READ.value)
    refused(
        ErrorCode.PERMISSION_DENIED,
        lambda: container.admin.reprioritize(reader, case.id, CasePriority.P1),
    )
    assert container.cases.get(reader, case.id) == case
