"""CasesService end to end over a real channel, on real cases of the test's own space."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from casekeeper.api.coralogix import convert
from casekeeper.api.coralogix.grpc import cases_servicer as servicer_module
from casekeeper.domain.model import Case
from casekeeper.proto.casekeeper.v1 import case_admin_pb2 as admin_pb
from casekeeper.proto.com.coralogixapis.cases.v1 import case_event_pb2 as ev_pb
from casekeeper.proto.com.coralogixapis.cases.v1 import case_events_service_pb2 as events_pb
from casekeeper.proto.com.coralogixapis.cases.v1 import case_filters_pb2 as f_pb
from casekeeper.proto.com.coralogixapis.cases.v1 import case_pb2 as c_pb
from casekeeper.proto.com.coralogixapis.cases.v1 import cases_service_pb2 as pb
from casekeeper.proto.com.coralogixapis.cases.v1 import common_pb2 as common_pb
from tests.api.coralogix.grpc.conftest import (
    Client,
    bulk_failures,
    expect_error,
    failure_codes,
    stable,
)
from tests.conftest import MakeCase

S = c_pb.CaseStatus
P = c_pb.CasePriority
USER_1 = "8d3bd6c1-0d41-4c65-9a58-5f6f2f1a1e01"
USER_2 = "2a7e0b8e-6f2d-4f8a-8f0e-9a0a4c6b7d02"
MISSING = "00000000-0000-4000-8000-000000000000"


def get(api: Client, case_id: str) -> c_pb.Case:
    case: c_pb.Case = api.cases.GetCase(pb.GetCaseRequest(id=case_id)).case
    return case


def events(api: Client, case_id: str) -> list[ev_pb.CaseEvent]:
    return list(api.events.ListEvents(events_pb.ListEventsRequest(case_id=case_id)).events)


def kinds(items: list[ev_pb.CaseEvent]) -> list[str]:
    return [e.event_data.WhichOneof("data") or "" for e in items]


def listed(api: Client, **filters: object) -> set[str]:
    req = pb.ListCasesRequest(filters=f_pb.CaseFilters(**filters))  # type: ignore[arg-type]
    req.pagination.page_size = 1000
    return {c.id for c in api.cases.ListCases(req).cases}


def ts(micros: int) -> Timestamp:
    out = Timestamp()
    out.FromMicroseconds(micros)
    return out


# -- GetCase ----------------------------------------------------------------------------------


def test_get_case_by_uuid_and_readable_id(api: Client, make_case: MakeCase) -> None:
    case = make_case(
        title="Spike in errors for specific country",
        priority=1,
        labels={"env": "prod"},
        groupings={"team": "db"},
    )
    assert case.number is not None
    for ref in (case.id, case.id.upper(), f"case-{case.number}", f"CASE-{case.number}"):
        got = get(api, ref)
        assert got.id == case.id, ref
    got = get(api, f"case-{case.number}")
    assert got.readable_id == f"CASE-{case.number}"
    assert got.title == "Spike in errors for specific country"
    assert got.status == S.CASE_STATUS_ACTIVE
    assert got.priority == P.CASE_PRIORITY_P1
    assert got.priority_details.system == P.CASE_PRIORITY_P1
    assert not got.priority_details.HasField("override")
    assert got.category == c_pb.CASE_CATEGORY_AVAILABILITY
    assert not got.HasField("assignee")
    assert [(kv.key, kv.value) for kv in got.labels] == [("env", "prod")]
    assert [(kv.key, kv.value) for kv in got.groupings] == [("team", "db")]
    assert got.create_time.ToMicroseconds() == case.create_time
    assert got.update_time.ToMicroseconds() == case.update_time
    assert got.HasField("duration")
    assert got.duration >= 0
    assert not got.HasField("acknowledge_time")
    assert not got.HasField("resolution_details")


def test_get_case_unknown_is_not_found(api: Client, make_case: MakeCase) -> None:
    case = make_case()
    for ref in (MISSING, f"case-{(case.number or 0) + 1000}", "FOO-1"):
        err = expect_error(grpc.StatusCode.NOT_FOUND, api.cases.GetCase, pb.GetCaseRequest(id=ref))
        assert ref in (err.details() or "")


# -- ListCases --------------------------------------------------------------------------------


@pytest.fixture
def listing(api: Client, make_case: MakeCase) -> dict[str, Case]:
    """Five cases with distinct statuses, priorities, assignees, groupings and titles."""
    out = {
        "db": make_case(title="Database down", priority=1, groupings={"team": "db"}),
        "api": make_case(title="API latency", priority=2, groupings={"team": "api"}),
        "disk": make_case(title="Disk FULL on node-3", priority=4, groupings={"team": "db"}),
        "sec": make_case(title="Suspicious login", priority=3, category=1),
        "pending": make_case(title="Pending thing", priority=5, pending=True),
    }
    api.cases.AssignCase(
        pb.AssignCaseRequest(id=out["db"].id, assignee=common_pb.UserDetails(user_id=USER_1))
    )
    api.cases.AssignCase(
        pb.AssignCaseRequest(id=out["sec"].id, assignee=common_pb.UserDetails(user_id=USER_2))
    )
    api.cases.AcknowledgeCase(pb.AcknowledgeCaseRequest(id=out["api"].id))
    api.cases.ResolveCase(pb.ResolveCaseRequest(id=out["disk"].id, reason="cleaned up"))
    return out


def test_list_cases_filters(api: Client, listing: dict[str, Case]) -> None:
    ids = {k: c.id for k, c in listing.items()}
    assert listed(api) == set(ids.values())
    assert listed(api, statuses=[S.CASE_STATUS_ACKNOWLEDGED]) == {ids["api"]}
    assert listed(api, statuses=[S.CASE_STATUS_RESOLVED, S.CASE_STATUS_PENDING_ACTIVATION]) == {
        ids["disk"],
        ids["pending"],
    }
    assert listed(api, priorities=[P.CASE_PRIORITY_P1, P.CASE_PRIORITY_P4]) == {
        ids["db"],
        ids["disk"],
    }
    assert listed(api, categories=[c_pb.CASE_CATEGORY_SECURITY]) == {ids["sec"]}
    assert listed(api, assignees=[f_pb.AssigneeOption(assignee=USER_1)]) == {ids["db"]}
    unassigned = f_pb.AssigneeOption(unassigned=f_pb.Unassigned())
    assert listed(api, assignees=[unassigned]) == {ids["api"], ids["disk"], ids["pending"]}
    assert listed(api, assignees=[unassigned, f_pb.AssigneeOption(assignee=USER_2)]) == {
        ids["api"],
        ids["disk"],
        ids["pending"],
        ids["sec"],
    }
    team_db = f_pb.FilterGroup(key="team", values=["db"])
    assert listed(api, groupings=[team_db]) == {ids["db"], ids["disk"]}
    assert listed(api, groupings=[f_pb.FilterGroup(key="team", values=["db", "api"])]) == {
        ids["db"],
        ids["disk"],
        ids["api"],
    }
    assert listed(api, text_search="disk full") == {ids["disk"]}
    assert listed(api, text_search="DOWN") == {ids["db"]}
    assert listed(api, text_search="no such words") == set()
    # Different fields AND together.
    assert listed(api, groupings=[team_db], statuses=[S.CASE_STATUS_ACTIVE]) == {ids["db"]}


def test_list_cases_date_range(api: Client, listing: dict[str, Case]) -> None:
    ids = {k: c.id for k, c in listing.items()}
    first = min(c.create_time for c in listing.values())
    now = int(time.time() * 1_000_000)
    created = f_pb.DATE_RANGE_MODE_CREATED_AT
    everything = f_pb.DateRangeFilter(mode=created)
    getattr(everything, "from").CopyFrom(ts(first))
    everything.to.CopyFrom(ts(now + 1_000_000))
    assert listed(api, date_range=everything) == set(ids.values())

    future = f_pb.DateRangeFilter(mode=created)
    getattr(future, "from").CopyFrom(ts(now + 3_600_000_000))
    future.to.CopyFrom(ts(now + 7_200_000_000))
    assert listed(api, date_range=future) == set()

    # Active-window mode: cases open during [now+1s, now+2s] - the resolved one has ended.
    window = f_pb.DateRangeFilter()
    getattr(window, "from").CopyFrom(ts(now + 1_000_000))
    window.to.CopyFrom(ts(now + 2_000_000))
    assert listed(api, date_range=window) == set(ids.values()) - {ids["disk"]}


def test_list_cases_order_by_priority(api: Client, listing: dict[str, Case]) -> None:
    req = pb.ListCasesRequest(
        order_by=f_pb.CaseOrderBy(
            field=f_pb.CASE_ORDER_BY_FIELD_PRIORITY,
            direction=f_pb.CASE_ORDER_BY_DIRECTION_DESCENDING,
        )
    )
    got = [c.priority for c in api.cases.ListCases(req).cases]
    assert got == [1, 2, 3, 4, 5]
    assert got[0] == P.CASE_PRIORITY_P1
    req.order_by.direction = f_pb.CASE_ORDER_BY_DIRECTION_ASCENDING
    assert [c.priority for c in api.cases.ListCases(req).cases] == [5, 4, 3, 2, 1]


def test_list_cases_order_follows_priority_override(api: Client, make_case: MakeCase) -> None:
    low = make_case(priority=5)
    high = make_case(priority=2)
    api.cases.SetPriorityOverride(
        pb.SetPriorityOverrideRequest(id=low.id, priority=P.CASE_PRIORITY_P1)
    )
    req = pb.ListCasesRequest(
        order_by=f_pb.CaseOrderBy(
            field=f_pb.CASE_ORDER_BY_FIELD_PRIORITY,
            direction=f_pb.CASE_ORDER_BY_DIRECTION_DESCENDING,
        )
    )
    assert [c.id for c in api.cases.ListCases(req).cases] == [low.id, high.id]


def test_list_cases_pagination_walk(api: Client, make_case: MakeCase) -> None:
    made = [make_case(title=f"Paged {i}") for i in range(5)]
    whole = api.cases.ListCases(pb.ListCasesRequest())
    assert whole.HasField("pagination")
    assert not whole.pagination.HasField("next_page_token")
    assert {c.id for c in whole.cases} == {c.id for c in made}
    keys = [(c.create_time.ToMicroseconds(), c.id) for c in whole.cases]
    assert keys == sorted(keys, reverse=True)  # newest first, then id descending

    seen: list[str] = []
    sizes: list[int] = []
    token: str | None = None
    for _ in range(10):
        req = pb.ListCasesRequest()
        req.pagination.page_size = 2
        if token is not None:
            req.pagination.page_token = token
        page = api.cases.ListCases(req)
        seen.extend(c.id for c in page.cases)
        sizes.append(len(page.cases))
        if not page.pagination.HasField("next_page_token"):
            break
        token = page.pagination.next_page_token
        assert token
    assert sizes == [2, 2, 1]
    assert seen == [c.id for c in whole.cases]


def test_list_cases_exact_last_page_has_no_token(api: Client, make_case: MakeCase) -> None:
    for _ in range(4):
        make_case()
    req = pb.ListCasesRequest()
    req.pagination.page_size = 2
    first = api.cases.ListCases(req)
    assert first.pagination.HasField("next_page_token")
    req.pagination.page_token = first.pagination.next_page_token
    second = api.cases.ListCases(req)
    assert len(second.cases) == 2
    assert not second.pagination.HasField("next_page_token")


@pytest.mark.parametrize("size", [0, 1001])
def test_list_cases_page_size_out_of_range(api: Client, size: int) -> None:
    req = pb.ListCasesRequest()
    req.pagination.page_size = size
    err = expect_error(grpc.StatusCode.INVALID_ARGUMENT, api.cases.ListCases, req)
    assert "pageSize" in (err.details() or "")


# -- UpdateCase and priority override ---------------------------------------------------------


def test_update_case_title(api: Client, make_case: MakeCase) -> None:
    case = make_case(title="Old title")
    before = len(events(api, case.id))
    resp = api.cases.UpdateCase(
        pb.UpdateCaseRequest(id=case.id, patch=pb.CasePatch(title="  New title  "))
    )
    assert resp.case.title == "New title"
    assert resp.case.update_time.ToMicroseconds() >= case.update_time
    assert get(api, case.id).title == "New title"
    timeline = events(api, case.id)
    assert len(timeline) == before + 1
    changed = timeline[-1].event_data.title_changed_event
    assert (changed.to, getattr(changed, "from")) == ("New title", "Old title")
    # The same title again is a no-op.
    api.cases.UpdateCase(pb.UpdateCaseRequest(id=case.id, patch=pb.CasePatch(title="New title")))
    assert len(events(api, case.id)) == before + 1


def test_update_case_resolution_reason_only_when_resolved(api: Client, make_case: MakeCase) -> None:
    case = make_case()
    req = pb.UpdateCaseRequest(id=case.id, patch=pb.CasePatch(resolution_reason="root cause"))
    err = expect_error(grpc.StatusCode.FAILED_PRECONDITION, api.cases.UpdateCase, req)
    assert "CASE_STATUS_ACTIVE" in (err.details() or "")
    # A refused patch changes nothing, not even the title that came with it.
    both = pb.UpdateCaseRequest(
        id=case.id, patch=pb.CasePatch(title="Changed?", resolution_reason="root cause")
    )
    expect_error(grpc.StatusCode.FAILED_PRECONDITION, api.cases.UpdateCase, both)
    assert get(api, case.id).title == case.title

    api.cases.ResolveCase(pb.ResolveCaseRequest(id=case.id, reason="first guess"))
    resp = api.cases.UpdateCase(req)
    assert resp.case.resolution_details.reason == "root cause"
    last = events(api, case.id)[-1].event_data.resolution_reason_changed_event
    assert (getattr(last, "from"), last.to) == ("first guess", "root cause")


def test_update_case_empty_patch_is_invalid(api: Client, make_case: MakeCase) -> None:
    case = make_case()
    err = expect_error(
        grpc.StatusCode.INVALID_ARGUMENT, api.cases.UpdateCase, pb.UpdateCaseRequest(id=case.id)
    )
    assert "patch" in (err.details() or "")


def test_priority_override_set_and_clear(api: Client, make_case: MakeCase) -> None:
    case = make_case(priority=3)
    resp = api.cases.SetPriorityOverride(
        pb.SetPriorityOverrideRequest(id=case.id, priority=P.CASE_PRIORITY_P1)
    )
    assert resp.case.priority == P.CASE_PRIORITY_P1
    assert resp.case.priority_details.system == P.CASE_PRIORITY_P3
    assert resp.case.priority_details.override == P.CASE_PRIORITY_P1
    assert resp.case.priority_details.HasField("override")
    assert get(api, case.id).priority == P.CASE_PRIORITY_P1
    changed = events(api, case.id)[-1].event_data.priority_details_changed
    assert getattr(changed, "from").system == P.CASE_PRIORITY_P3
    assert not getattr(changed, "from").HasField("override")
    assert changed.to.override == P.CASE_PRIORITY_P1

    resp = api.cases.ClearPriorityOverride(pb.ClearPriorityOverrideRequest(id=case.id))
    assert resp.case.priority == P.CASE_PRIORITY_P3
    assert not resp.case.priority_details.HasField("override")
    back = get(api, case.id)
    assert back.priority == P.CASE_PRIORITY_P3
    assert not back.priority_details.HasField("override")
    count = len(events(api, case.id))
    api.cases.ClearPriorityOverride(pb.ClearPriorityOverrideRequest(id=case.id))
    assert len(events(api, case.id)) == count


# -- assignment -------------------------------------------------------------------------------


def test_assign_and_unassign(api: Client, make_case: MakeCase) -> None:
    case = make_case()
    resp = api.cases.AssignCase(
        pb.AssignCaseRequest(id=case.id, assignee=common_pb.UserDetails(user_id=USER_1))
    )
    assert resp.case.assignee.user_id == USER_1
    resp = api.cases.AssignCase(
        pb.AssignCaseRequest(
            id=f"case-{case.number}", assignee=common_pb.UserDetails(user_id=USER_2.upper())
        )
    )
    assert resp.case.assignee.user_id == USER_2
    resp = api.cases.UnassignCase(pb.UnassignCaseRequest(id=case.id))
    assert not resp.case.HasField("assignee")
    assert not get(api, case.id).HasField("assignee")
    timeline = events(api, case.id)
    assert kinds(timeline)[-3:] == ["assigned", "assigned", "unassigned"]
    second = timeline[-2].event_data.assigned
    assert (second.assignee_user_id, second.previous_assignee_user_id) == (USER_2, USER_1)
    assert timeline[-1].event_data.unassigned.previous_assignee_user_id == USER_2
    for e in timeline[-3:]:
        assert e.actor.api_key.id == api.key_id
    # Repeats add nothing.
    api.cases.UnassignCase(pb.UnassignCaseRequest(id=case.id))
    assert len(events(api, case.id)) == len(timeline)


# -- status lifecycle -------------------------------------------------------------------------


def test_status_lifecycle_and_timeline(api: Client, make_case: MakeCase) -> None:
    case = make_case()
    start = len(events(api, case.id))

    acked = api.cases.AcknowledgeCase(pb.AcknowledgeCaseRequest(id=case.id)).case
    assert acked.status == S.CASE_STATUS_ACKNOWLEDGED
    assert acked.HasField("acknowledge_time")
    # Same-state repeat: no new event, same answer.
    again = api.cases.AcknowledgeCase(pb.AcknowledgeCaseRequest(id=case.id)).case
    assert again.status == S.CASE_STATUS_ACKNOWLEDGED
    assert len(events(api, case.id)) == start + 1

    unacked = api.cases.UnacknowledgeCase(pb.UnacknowledgeCaseRequest(id=case.id)).case
    assert unacked.status == S.CASE_STATUS_ACTIVE
    assert not unacked.HasField("acknowledge_time")

    api.cases.AcknowledgeCase(pb.AcknowledgeCaseRequest(id=case.id))
    resolved = api.cases.ResolveCase(
        pb.ResolveCaseRequest(id=f"case-{case.number}", reason="fixed the index")
    ).case
    assert resolved.status == S.CASE_STATUS_RESOLVED
    details = resolved.resolution_details
    assert details.reason == "fixed the index"
    assert details.resolved_by.WhichOneof("resolver") == "api_key"
    assert details.HasField("resolve_time")
    duration = resolved.duration
    api.cases.ResolveCase(pb.ResolveCaseRequest(id=case.id))  # repeat: no-op

    closed = api.cases.CloseCase(pb.CloseCaseRequest(id=case.id)).case
    assert closed.status == S.CASE_STATUS_CLOSED
    assert closed.resolution_details.reason == "fixed the index"
    assert closed.duration == duration  # the clock stopped at resolution
    api.cases.CloseCase(pb.CloseCaseRequest(id=case.id))  # repeat: no-op

    timeline = events(api, case.id)
    ours = timeline[start:]
    transitions = [
        (e.event_data.status_changed.old_status, e.event_data.status_changed.new_status)
        for e in ours
    ]
    assert kinds(ours) == ["status_changed"] * 5
    assert transitions == [
        (S.CASE_STATUS_ACTIVE, S.CASE_STATUS_ACKNOWLEDGED),
        (S.CASE_STATUS_ACKNOWLEDGED, S.CASE_STATUS_ACTIVE),
        (S.CASE_STATUS_ACTIVE, S.CASE_STATUS_ACKNOWLEDGED),
        (S.CASE_STATUS_ACKNOWLEDGED, S.CASE_STATUS_RESOLVED),
        (S.CASE_STATUS_RESOLVED, S.CASE_STATUS_CLOSED),
    ]
    for e in ours:
        assert e.actor.WhichOneof("actor") == "api_key"
        assert (e.actor.api_key.id, e.actor.api_key.name) == (api.key_id, api.key_name)
    # The case's creation: created + system activation.
    assert kinds(timeline[:start]) == ["created", "status_changed"]
    assert timeline[1].actor.WhichOneof("actor") == "system"


@pytest.mark.parametrize(
    ("setup", "rpc", "status"),
    [
        (["ResolveCase"], "AcknowledgeCase", "CASE_STATUS_RESOLVED"),
        (["ResolveCase"], "UnacknowledgeCase", "CASE_STATUS_RESOLVED"),
        (["CloseCase"], "AcknowledgeCase", "CASE_STATUS_CLOSED"),
        (["CloseCase"], "ResolveCase", "CASE_STATUS_CLOSED"),
        (["CloseCase"], "UnassignCase", "CASE_STATUS_CLOSED"),
        (["CloseCase"], "ClearPriorityOverride", "CASE_STATUS_CLOSED"),
    ],
)
def test_forbidden_transition_names_the_status(
    api: Client, make_case: MakeCase, setup: list[str], rpc: str, status: str
) -> None:
    case = make_case()
    for name in setup:
        getattr(api.cases, name)(getattr(pb, f"{name}Request")(id=case.id))
    before = get(api, case.id)
    count = len(events(api, case.id))
    err = expect_error(
        grpc.StatusCode.FAILED_PRECONDITION,
        getattr(api.cases, rpc),
        getattr(pb, f"{rpc}Request")(id=case.id),
    )
    assert status in (err.details() or "")
    assert f"CASE-{case.number}" in (err.details() or "")
    assert stable(get(api, case.id)) == stable(before)
    assert len(events(api, case.id)) == count


def test_unacknowledge_of_active_case_is_a_same_state_noop(
    api: Client, make_case: MakeCase
) -> None:
    """Team decision (tests/unit/test_lifecycle.py): ACTIVE is already 'unacknowledged'."""
    case = make_case()
    count = len(events(api, case.id))
    got = api.cases.UnacknowledgeCase(pb.UnacknowledgeCaseRequest(id=case.id)).case
    assert got.status == S.CASE_STATUS_ACTIVE
    assert got.update_time.ToMicroseconds() == case.update_time
    assert len(events(api, case.id)) == count


def test_closed_case_refuses_assign_and_override(api: Client, make_case: MakeCase) -> None:
    case = make_case()
    api.cases.CloseCase(pb.CloseCaseRequest(id=case.id))
    for fn, req in (
        (
            api.cases.AssignCase,
            pb.AssignCaseRequest(id=case.id, assignee=common_pb.UserDetails(user_id=USER_1)),
        ),
        (
            api.cases.SetPriorityOverride,
            pb.SetPriorityOverrideRequest(id=case.id, priority=P.CASE_PRIORITY_P1),
        ),
    ):
        err = expect_error(grpc.StatusCode.FAILED_PRECONDITION, fn, req)
        assert "CASE_STATUS_CLOSED" in (err.details() or "")


def test_pending_case_cannot_be_acknowledged(api: Client, make_case: MakeCase) -> None:
    case = make_case(pending=True)
    err = expect_error(
        grpc.StatusCode.FAILED_PRECONDITION,
        api.cases.AcknowledgeCase,
        pb.AcknowledgeCaseRequest(id=case.id),
    )
    assert "CASE_STATUS_PENDING_ACTIVATION" in (err.details() or "")


# -- bulk operations --------------------------------------------------------------------------


def _bulk_mix(make_case: MakeCase, api: Client) -> tuple[list[Case], Case, list[str]]:
    """Two good cases, one closed (refused by every bulk op here), and the request ids:
    good by uuid and readable id, unknown uuid and readable id, malformed, closed."""
    good = [make_case(title="bulk good 1"), make_case(title="bulk good 2")]
    closed = make_case(title="bulk closed")
    api.cases.CloseCase(pb.CloseCaseRequest(id=closed.id))
    ids = [
        good[0].id,
        f"case-{good[1].number}",
        MISSING,
        "CASE-987654",
        "bad id!",
        closed.id,
    ]
    return good, closed, ids


BULK_REQUESTS: dict[str, Callable[[list[str]], Any]] = {
    "BulkAssign": lambda ids: pb.BulkAssignRequest(
        ids=ids, assignee=common_pb.UserDetails(user_id=USER_1)
    ),
    "BulkUnassign": lambda ids: pb.BulkUnassignRequest(ids=ids),
    "BulkAcknowledge": lambda ids: pb.BulkAcknowledgeRequest(
        ids=ids, actor=common_pb.UserDetails(user_id=USER_2)
    ),
    "BulkResolve": lambda ids: pb.BulkResolveRequest(ids=ids, reason="bulk fix"),
    "BulkSetPriorityOverride": lambda ids: pb.BulkSetPriorityOverrideRequest(
        ids=ids, priority=P.CASE_PRIORITY_P2
    ),
    "BulkClearPriorityOverride": lambda ids: pb.BulkClearPriorityOverrideRequest(ids=ids),
}


def _applied(rpc: str, case: c_pb.Case) -> bool:
    if rpc == "BulkAssign":
        return case.assignee.user_id == USER_1
    if rpc == "BulkUnassign":
        return not case.HasField("assignee")
    if rpc == "BulkAcknowledge":
        return case.status == S.CASE_STATUS_ACKNOWLEDGED
    if rpc == "BulkResolve":
        return (
            case.status == S.CASE_STATUS_RESOLVED and case.resolution_details.reason == "bulk fix"
        )
    if rpc == "BulkSetPriorityOverride":
        return case.priority_details.override == P.CASE_PRIORITY_P2
    assert rpc == "BulkClearPriorityOverride"
    return not case.priority_details.HasField("override")


@pytest.mark.parametrize("rpc", sorted(BULK_REQUESTS))
def test_bulk_mix_reports_failures_in_trailers(api: Client, make_case: MakeCase, rpc: str) -> None:
    good, closed, ids = _bulk_mix(make_case, api)
    if rpc == "BulkUnassign":
        for c in good:
            api.cases.AssignCase(
                pb.AssignCaseRequest(id=c.id, assignee=common_pb.UserDetails(user_id=USER_2))
            )
    if rpc == "BulkClearPriorityOverride":
        for c in good:
            api.cases.SetPriorityOverride(
                pb.SetPriorityOverrideRequest(id=c.id, priority=P.CASE_PRIORITY_P1)
            )
    closed_before = get(api, closed.id)
    closed_events = len(events(api, closed.id))

    resp, call = getattr(api.cases, rpc).with_call(BULK_REQUESTS[rpc](ids))

    assert sorted(c.id for c in resp.cases) == sorted(c.id for c in good)
    for c in resp.cases:
        assert _applied(rpc, c), (rpc, c)
        assert _applied(rpc, get(api, c.id)), rpc
    failures = bulk_failures(call)
    assert failure_codes(failures) == {
        MISSING: "NOT_FOUND",
        "CASE-987654": "NOT_FOUND",
        "bad id!": "INVALID_ARGUMENT",
        closed.id: "FAILED_PRECONDITION",
    }
    by_id = {f["id"]: f["message"] for f in failures}
    assert "CASE_STATUS_CLOSED" in by_id[closed.id]
    assert "bad id!" in by_id["bad id!"]
    assert stable(get(api, closed.id)) == stable(closed_before)
    assert len(events(api, closed.id)) == closed_events


def test_bulk_close_mix(api: Client, make_case: MakeCase) -> None:
    good = [make_case(), make_case()]
    pending = make_case(pending=True)  # only the system moves a pending case
    ids = [good[0].id, f"CASE-{good[1].number}", pending.id, MISSING, "x" * 65]
    resp, call = api.cases.BulkClose.with_call(pb.BulkCloseRequest(ids=ids))
    assert {c.id for c in resp.cases} == {c.id for c in good}
    assert all(c.status == S.CASE_STATUS_CLOSED for c in resp.cases)
    assert failure_codes(bulk_failures(call)) == {
        pending.id: "FAILED_PRECONDITION",
        MISSING: "NOT_FOUND",
        "x" * 65: "INVALID_ARGUMENT",
    }
    assert get(api, pending.id).status == S.CASE_STATUS_PENDING_ACTIVATION


def test_bulk_all_good_sends_no_failure_trailer(api: Client, make_case: MakeCase) -> None:
    cases = [make_case(), make_case()]
    ids = [cases[0].id, cases[1].id, f"case-{cases[0].number}"]  # the same case twice
    resp, call = api.cases.BulkAcknowledge.with_call(
        pb.BulkAcknowledgeRequest(ids=ids, actor=common_pb.UserDetails(user_id=USER_1))
    )
    assert sorted(c.id for c in resp.cases) == sorted(c.id for c in cases)
    assert bulk_failures(call) == []
    for c in cases:
        assert kinds(events(api, c.id)).count("status_changed") == 2  # activation + ack
    # A repeat lists the (unchanged) cases and records nothing.
    resp, call = api.cases.BulkAcknowledge.with_call(
        pb.BulkAcknowledgeRequest(ids=ids, actor=common_pb.UserDetails(user_id=USER_1))
    )
    assert len(resp.cases) == 2
    for c in cases:
        assert kinds(events(api, c.id)).count("status_changed") == 2


def test_bulk_with_many_failures_still_answers(api: Client, make_case: MakeCase) -> None:
    good = make_case()
    unknown = [str(uuid.uuid4()) for _ in range(999)]
    resp, call = api.cases.BulkClose.with_call(pb.BulkCloseRequest(ids=[good.id, *unknown]))
    assert get(api, good.id).status == S.CASE_STATUS_CLOSED
    assert [c.id for c in resp.cases] == [good.id]
    trailers = dict(call.trailing_metadata() or ())
    assert trailers["casekeeper-bulk-failures-total"] == "999"
    reported = failure_codes(bulk_failures(call))
    assert 0 < len(reported) < 999  # capped to fit gRPC metadata limits
    assert set(reported.values()) == {"NOT_FOUND"}
    assert set(reported) <= set(unknown)


def test_bulk_events_carry_the_key_as_actor(api: Client, make_case: MakeCase) -> None:
    case = make_case()
    api.cases.BulkResolve(pb.BulkResolveRequest(ids=[case.id]))
    last = events(api, case.id)[-1]
    assert last.event_data.status_changed.new_status == S.CASE_STATUS_RESOLVED
    assert (last.actor.api_key.id, last.actor.api_key.name) == (api.key_id, api.key_name)
    assert not get(api, case.id).resolution_details.HasField("reason")


@pytest.mark.usefixtures("side_starts_first")
def test_bulk_answers_in_full_when_converting_alongside_the_commit_fails(
    api: Client, make_case: MakeCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The response is converted while the change commits; if that fails, the servicer
    converts the committed cases again, from scratch (no half-filled list)."""
    cases = [make_case(), make_case(), make_case()]
    real = convert.cases_to_pb
    calls: list[int] = []
    cached: list[bool] = []

    def first_call_breaks(items: Any, now: int, field: Any, **kw: Any) -> None:
        calls.append(len(items))
        cached.append(kw.get("cached", True))
        if len(calls) == 1:
            real(items[:1], now, field, **kw)  # leave a partly filled list behind
            raise RuntimeError("conversion broke")
        real(items, now, field, **kw)

    monkeypatch.setattr(servicer_module, "cases_to_pb", first_call_breaks)
    resp = api.cases.BulkAcknowledge(
        pb.BulkAcknowledgeRequest(
            ids=[c.id for c in cases], actor=common_pb.UserDetails(user_id=USER_1)
        )
    )

    assert calls == [3, 3]
    assert cached == [False, False]  # new versions stay out of the encoded-case cache
    assert sorted(c.id for c in resp.cases) == sorted(c.id for c in cases)
    assert all(c.status == S.CASE_STATUS_ACKNOWLEDGED for c in resp.cases)
    for c in cases:
        assert get(api, c.id).status == S.CASE_STATUS_ACKNOWLEDGED
    # A repeat changes nothing: no commit, so the servicer converts (cached: unchanged cases).
    api.cases.BulkAcknowledge(
        pb.BulkAcknowledgeRequest(
            ids=[c.id for c in cases], actor=common_pb.UserDetails(user_id=USER_1)
        )
    )
    assert cached[2:] == [True]


# -- facets, grouping keys, deep links --------------------------------------------------------


def test_get_filter_values_counts(api: Client, listing: dict[str, Case]) -> None:
    out = api.cases.GetFilterValues(pb.GetFilterValuesRequest())
    assert {a.priority: a.count for a in out.priority_aggregations} == {
        1: 1,
        2: 1,
        3: 1,
        4: 1,
        5: 1,
    }
    assert {a.status: a.count for a in out.status_aggregations} == {
        S.CASE_STATUS_PENDING_ACTIVATION: 1,
        S.CASE_STATUS_ACTIVE: 2,
        S.CASE_STATUS_ACKNOWLEDGED: 1,
        S.CASE_STATUS_RESOLVED: 1,
    }
    assert {a.category: a.count for a in out.category_aggregations} == {
        c_pb.CASE_CATEGORY_SECURITY: 1,
        c_pb.CASE_CATEGORY_AVAILABILITY: 4,
    }
    groupings = {
        g.key: {v.value: v.count for v in g.value_counts} for g in out.grouping_aggregations
    }
    assert groupings == {"team": {"db": 2, "api": 1}}
    assignees = out.assignee_aggregations
    assert assignees.unassigned_count == 3
    assert {a.assignee: a.count for a in assignees.assigned_counts} == {USER_1: 1, USER_2: 1}
    assert len(out.alert_id_aggregations) == 0  # only computed with alert filters

    active = api.cases.GetFilterValues(
        pb.GetFilterValuesRequest(filters=f_pb.CaseFilters(statuses=[S.CASE_STATUS_ACTIVE]))
    )
    assert {a.priority: a.count for a in active.priority_aggregations} == {1: 1, 3: 1}
    assert active.assignee_aggregations.unassigned_count == 0
    assert {
        g.key: {v.value: v.count for v in g.value_counts} for g in active.grouping_aggregations
    } == {"team": {"db": 1}}


TAG_FILTERS = {
    "groupings": f_pb.CaseFilters(groupings=[f_pb.FilterGroup(key="team", values=["db"])]),
    "labels": f_pb.CaseFilters(labels=[f_pb.FilterGroup(key="env", values=["prod"])]),
    "flat_labels": f_pb.CaseFilters(
        case_labels_filter=f_pb.CaseLabelsFilter(
            flat_labels=[common_pb.KeyValue(key="env", value="prod")]
        )
    ),
    "impacted_entities": f_pb.CaseFilters(
        impacted_entities=[
            f_pb.ImpactedEntityFilter(apm_service=f_pb.ApmServiceEntityFilter(name="CHECKOUT"))
        ]
    ),
}


@pytest.mark.parametrize("name", sorted(TAG_FILTERS))
def test_get_filter_values_with_tag_filters(api: Client, make_case: MakeCase, name: str) -> None:
    entity = ({"apmService": {"name": "checkout"}},)
    make_case(
        priority=1, groupings={"team": "db"}, labels={"env": "prod"}, impacted_entities=entity
    )
    make_case(priority=2, groupings={"team": "api"}, labels={"env": "dev"})
    # ListCases takes the same filters without trouble.
    req = pb.ListCasesRequest(filters=TAG_FILTERS[name])
    assert [c.priority for c in api.cases.ListCases(req).cases] == [P.CASE_PRIORITY_P1]
    out = api.cases.GetFilterValues(pb.GetFilterValuesRequest(filters=TAG_FILTERS[name]))
    assert {a.priority: a.count for a in out.priority_aggregations} == {1: 1}
    groupings = {
        g.key: {v.value: v.count for v in g.value_counts} for g in out.grouping_aggregations
    }
    assert groupings == {"team": {"db": 1}}


def test_get_filter_values_labels_and_alert_ids(api: Client) -> None:
    alert_id = str(uuid.uuid4())
    for _ in range(2):
        api.admin.CreateCase(
            admin_pb.CreateCaseRequest(
                title="labelled",
                category=c_pb.CASE_CATEGORY_AVAILABILITY,
                priority=P.CASE_PRIORITY_P2,
                labels=[common_pb.KeyValue(key="env", value="prod")],
                case_indicators=c_pb.CaseIndicators(
                    alert_indicators=[c_pb.AlertIndicator(alert_id=alert_id)]
                ),
            )
        )
    req = pb.GetFilterValuesRequest(filters=f_pb.CaseFilters(alert_filters=f_pb.AlertFilters()))
    out = api.cases.GetFilterValues(req)
    labels = {g.key: {v.value: v.count for v in g.value_counts} for g in out.label_aggregations}
    assert labels == {"env": {"prod": 2}}
    flat = {(a.filter.key, a.filter.value): a.count for a in out.flat_labels_aggregation}
    assert flat == {("env", "prod"): 2}
    assert {a.alert_id: a.count for a in out.alert_id_aggregations} == {alert_id: 2}


def test_get_grouping_keys(api: Client, make_case: MakeCase) -> None:
    assert list(api.cases.GetGroupingKeys(pb.GetGroupingKeysRequest()).grouping_keys) == []
    make_case(groupings={"team": "db", "region": "eu"})
    make_case(groupings={"team": "api"})
    make_case(groupings={"cluster": "c1"})
    keys = api.cases.GetGroupingKeys(pb.GetGroupingKeysRequest()).grouping_keys
    assert list(keys) == ["cluster", "region", "team"]


def test_get_case_deep_links(api: Client) -> None:
    alert_id = str(uuid.uuid4())
    created = api.admin.CreateCase(
        admin_pb.CreateCaseRequest(
            title="linked",
            category=c_pb.CASE_CATEGORY_AVAILABILITY,
            priority=P.CASE_PRIORITY_P2,
            impacted_entities=[
                c_pb.ImpactedEntity(apm_service=c_pb.ApmServiceEntity(name="checkout")),
                c_pb.ImpactedEntity(apm_database=c_pb.ApmDatabaseEntity(name="orders-db")),
            ],
            case_indicators=c_pb.CaseIndicators(
                alert_indicators=[c_pb.AlertIndicator(alert_id=alert_id)]
            ),
        )
    ).case
    base = "https://cases.example.test"
    for ref in (created.id, created.readable_id.lower()):
        links = api.cases.GetCaseDeepLinks(pb.GetCaseDeepLinksRequest(case_id=ref)).deep_links
        assert links.detail == f"{base}/cases/{created.readable_id}"
    assert dict(links.alert_indicators).keys() == {alert_id}
    link = links.alert_indicators[alert_id]
    assert link.alert_def == f"{base}/alerts/{alert_id}"
    assert link.logs.logs == f"{base}/logs?alertId={alert_id}"
    assert [(e.entity.WhichOneof("entity"), e.url) for e in links.impacted_entities] == [
        ("apm_service", f"{base}/apm/services/checkout"),
        ("apm_database", f"{base}/apm/databases/orders-db"),
    ]
    expect_error(
        grpc.StatusCode.NOT_FOUND,
        api.cases.GetCaseDeepLinks,
        pb.GetCaseDeepLinksRequest(case_id=MISSING),
    )


def test_deep_link_of_pending_case_uses_uuid(api: Client, make_case: MakeCase) -> None:
    case = make_case(pending=True)
    links = api.cases.GetCaseDeepLinks(pb.GetCaseDeepLinksRequest(case_id=case.id)).deep_links
    assert links.detail == f"https://cases.example.test/cases/{case.id}"


# -- GetCaseByIndicator and CreateCase --------------------------------------------------------


def _prometheus_case(api: Client, fingerprint: str, started: Timestamp) -> c_pb.Case:
    alert = c_pb.PrometheusAlert(
        alert_name="HighLatency",
        fingerprint=fingerprint,
        status=c_pb.PrometheusAlertStatus(triggered=c_pb.Triggered(triggered_at=started)),
    )
    req = admin_pb.CreateCaseRequest(
        title="Prometheus alert",
        category=c_pb.CASE_CATEGORY_AVAILABILITY,
        priority=P.CASE_PRIORITY_P2,
        case_indicators=c_pb.CaseIndicators(
            prometheus_alert_indicators=[
                c_pb.PrometheusAlertIndicator(alert_group_id="g1", alerts=[alert])
            ]
        ),
    )
    case: c_pb.Case = api.admin.CreateCase(req).case
    return case


def test_get_case_by_indicator(api: Client) -> None:
    fingerprint = uuid.uuid4().hex[:16]
    started = Timestamp(seconds=1_758_537_000)
    created = _prometheus_case(api, fingerprint, started)
    indicator = created.case_indicators.prometheus_alert_indicators[0].alerts[0]
    assert indicator.fingerprint == fingerprint

    def by(fp: str, at: Timestamp) -> pb.GetCaseByIndicatorRequest:
        return pb.GetCaseByIndicatorRequest(
            prometheus_alert=c_pb.PrometheusAlertManagerIndicator(fingerprint=fp, started_at=at)
        )

    found = api.cases.GetCaseByIndicator(by(fingerprint, started)).case
    assert found.id == created.id
    assert found.readable_id == created.readable_id
    for req in (by(fingerprint, Timestamp(seconds=1_758_537_060)), by("unknown-fp", started)):
        err = expect_error(grpc.StatusCode.NOT_FOUND, api.cases.GetCaseByIndicator, req)
        assert "fingerprint" in (err.details() or "")
    err = expect_error(
        grpc.StatusCode.INVALID_ARGUMENT,
        api.cases.GetCaseByIndicator,
        pb.GetCaseByIndicatorRequest(
            prometheus_alert=c_pb.PrometheusAlertManagerIndicator(fingerprint=fingerprint)
        ),
    )
    assert "startedAt" in (err.details() or "")


def test_create_case_active_and_pending(api: Client) -> None:
    req = admin_pb.CreateCaseRequest(
        title="Created over gRPC",
        category=c_pb.CASE_CATEGORY_SECURITY,
        priority=P.CASE_PRIORITY_P4,
        assignee_user_id=USER_1,
        ai_summary="summary",
    )
    active = api.admin.CreateCase(req).case
    assert active.status == S.CASE_STATUS_ACTIVE
    assert active.HasField("readable_id")
    assert active.readable_id.startswith("CASE-")
    assert active.assignee.user_id == USER_1
    assert active.ai_summary == "summary"
    assert get(api, active.readable_id).id == active.id
    assert kinds(events(api, active.id)) == ["created", "status_changed", "assigned"]

    req.pending = True
    pending = api.admin.CreateCase(req).case
    assert pending.status == S.CASE_STATUS_PENDING_ACTIVATION
    assert not pending.HasField("readable_id")
    assert get(api, pending.id).status == S.CASE_STATUS_PENDING_ACTIVATION
    assert not get(api, pending.id).HasField("readable_id")
    # Numbers are per space and only given on activation.
    third = api.admin.CreateCase(
        admin_pb.CreateCaseRequest(
            title="next", category=c_pb.CASE_CATEGORY_SECURITY, priority=P.CASE_PRIORITY_P4
        )
    ).case
    assert int(third.readable_id.split("-")[1]) == int(active.readable_id.split("-")[1]) + 1
