"""Spaces are walls: a key of space A never sees nor changes what lives in space B.

Every check that B was left alone is made through a key of B.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from casekeeper.proto.casekeeper.v1 import api_keys_pb2 as keys_pb
from casekeeper.proto.casekeeper.v1 import case_admin_pb2 as admin_pb
from casekeeper.proto.com.coralogixapis.cases.v1 import case_event_pb2 as ev_pb
from casekeeper.proto.com.coralogixapis.cases.v1 import case_events_service_pb2 as events_pb
from casekeeper.proto.com.coralogixapis.cases.v1 import case_pb2 as c_pb
from casekeeper.proto.com.coralogixapis.cases.v1 import cases_service_pb2 as pb
from casekeeper.proto.com.coralogixapis.cases.v1 import common_pb2 as common_pb
from tests.api.coralogix.grpc.conftest import (
    Client,
    MakeClient,
    bulk_failures,
    expect_error,
    failure_codes,
    stable,
)

USER = "8d3bd6c1-0d41-4c65-9a58-5f6f2f1a1e01"
STARTED = Timestamp(seconds=1_758_537_000)


@dataclass
class World:
    a: Client
    b: Client
    a_case: c_pb.Case
    b_case: c_pb.Case
    b_comment: ev_pb.CaseEvent
    b_fingerprint: str
    b_events: list[ev_pb.CaseEvent]


def _create(
    client: Client, title: str, priority: c_pb.CasePriority.ValueType, **extra: Any
) -> c_pb.Case:
    req = admin_pb.CreateCaseRequest(
        title=title, category=c_pb.CASE_CATEGORY_AVAILABILITY, priority=priority, **extra
    )
    case: c_pb.Case = client.admin.CreateCase(req).case
    return case


@pytest.fixture
def world(make_client: MakeClient, other_space: str) -> World:
    a = make_client()
    b = make_client(space_name=other_space)
    assert a.principal.space_id != b.principal.space_id
    a_case = _create(a, "A's case", c_pb.CASE_PRIORITY_P3)
    fingerprint = uuid.uuid4().hex
    alert = c_pb.PrometheusAlert(
        fingerprint=fingerprint,
        status=c_pb.PrometheusAlertStatus(triggered=c_pb.Triggered(triggered_at=STARTED)),
    )
    b_case = _create(
        b,
        "B's secret case",
        c_pb.CASE_PRIORITY_P1,
        groupings=[{"key": "b-only-key", "value": "x"}],
        labels=[{"key": "b-label", "value": "y"}],
        case_indicators=c_pb.CaseIndicators(
            prometheus_alert_indicators=[c_pb.PrometheusAlertIndicator(alerts=[alert])]
        ),
    )
    _create(b, "B's other case", c_pb.CASE_PRIORITY_P1)
    b.cases.AssignCase(
        pb.AssignCaseRequest(id=b_case.id, assignee=common_pb.UserDetails(user_id=USER))
    )
    b.cases.SetPriorityOverride(
        pb.SetPriorityOverrideRequest(id=b_case.id, priority=c_pb.CASE_PRIORITY_P2)
    )
    comment = b.events.CreateComment(
        events_pb.CreateCommentRequest(case_id=b_case.id, text="B only")
    ).event
    b_case = b.cases.GetCase(pb.GetCaseRequest(id=b_case.id)).case
    timeline = list(b.events.ListEvents(events_pb.ListEventsRequest(case_id=b_case.id)).events)
    return World(a, b, a_case, b_case, comment, fingerprint, timeline)


def _b_unchanged(w: World) -> None:
    now = w.b.cases.GetCase(pb.GetCaseRequest(id=w.b_case.id)).case
    assert stable(now) == stable(w.b_case)
    timeline = w.b.events.ListEvents(events_pb.ListEventsRequest(case_id=w.b_case.id)).events
    assert list(timeline) == w.b_events
    comment = w.b.events.GetEvent(events_pb.GetEventRequest(event_id=w.b_comment.event_id)).event
    assert comment == w.b_comment


def test_readable_numbers_are_per_space(world: World) -> None:
    assert world.a_case.readable_id == world.b_case.readable_id == "CASE-1"
    got = world.a.cases.GetCase(pb.GetCaseRequest(id="case-1")).case
    assert got.id == world.a_case.id
    got = world.b.cases.GetCase(pb.GetCaseRequest(id="case-1")).case
    assert got.id == world.b_case.id
    # B's second case is CASE-2; A has no CASE-2.
    expect_error(grpc.StatusCode.NOT_FOUND, world.a.cases.GetCase, pb.GetCaseRequest(id="CASE-2"))


def test_reads_do_not_cross_spaces(world: World) -> None:
    a, b_id = world.a, world.b_case.id
    expect_error(grpc.StatusCode.NOT_FOUND, a.cases.GetCase, pb.GetCaseRequest(id=b_id))
    expect_error(
        grpc.StatusCode.NOT_FOUND,
        a.events.ListEvents,
        events_pb.ListEventsRequest(case_id=b_id),
    )
    expect_error(
        grpc.StatusCode.NOT_FOUND,
        a.events.GetEvent,
        events_pb.GetEventRequest(event_id=world.b_comment.event_id),
    )
    expect_error(
        grpc.StatusCode.NOT_FOUND,
        a.cases.GetCaseDeepLinks,
        pb.GetCaseDeepLinksRequest(case_id=b_id),
    )
    by_indicator = pb.GetCaseByIndicatorRequest(
        prometheus_alert=c_pb.PrometheusAlertManagerIndicator(
            fingerprint=world.b_fingerprint, started_at=STARTED
        )
    )
    expect_error(grpc.StatusCode.NOT_FOUND, a.cases.GetCaseByIndicator, by_indicator)
    # ...while B finds it.
    assert world.b.cases.GetCaseByIndicator(by_indicator).case.id == b_id

    listed = [c.id for c in a.cases.ListCases(pb.ListCasesRequest()).cases]
    assert listed == [world.a_case.id]
    assert len(world.b.cases.ListCases(pb.ListCasesRequest()).cases) == 2

    facets = a.cases.GetFilterValues(pb.GetFilterValuesRequest())
    assert {x.priority: x.count for x in facets.priority_aggregations} == {3: 1}
    assert {x.status: x.count for x in facets.status_aggregations} == {c_pb.CASE_STATUS_ACTIVE: 1}
    assert len(facets.grouping_aggregations) == 0
    assert len(facets.label_aggregations) == 0
    assert facets.assignee_aggregations.unassigned_count == 1
    assert len(facets.assignee_aggregations.assigned_counts) == 0

    assert list(a.cases.GetGroupingKeys(pb.GetGroupingKeysRequest()).grouping_keys) == []
    assert list(world.b.cases.GetGroupingKeys(pb.GetGroupingKeysRequest()).grouping_keys) == [
        "b-only-key"
    ]


def _single_mutations(b_id: str) -> list[tuple[str, Any]]:
    return [
        ("UpdateCase", pb.UpdateCaseRequest(id=b_id, patch=pb.CasePatch(title="pwned"))),
        (
            "SetPriorityOverride",
            pb.SetPriorityOverrideRequest(id=b_id, priority=c_pb.CASE_PRIORITY_P5),
        ),
        ("ClearPriorityOverride", pb.ClearPriorityOverrideRequest(id=b_id)),
        (
            "AssignCase",
            pb.AssignCaseRequest(
                id=b_id, assignee=common_pb.UserDetails(user_id=str(uuid.uuid4()))
            ),
        ),
        ("UnassignCase", pb.UnassignCaseRequest(id=b_id)),
        ("AcknowledgeCase", pb.AcknowledgeCaseRequest(id=b_id)),
        ("UnacknowledgeCase", pb.UnacknowledgeCaseRequest(id=b_id)),
        ("ResolveCase", pb.ResolveCaseRequest(id=b_id, reason="pwned")),
        ("CloseCase", pb.CloseCaseRequest(id=b_id)),
    ]


def test_mutations_do_not_cross_spaces(world: World) -> None:
    for ref in (world.b_case.id, world.b_case.id.upper()):
        for rpc, req in _single_mutations(ref):
            err = expect_error(grpc.StatusCode.NOT_FOUND, getattr(world.a.cases, rpc), req)
            assert "Case not found" in (err.details() or ""), rpc
    _b_unchanged(world)


def test_comments_do_not_cross_spaces(world: World) -> None:
    a, b_id, event_id = world.a, world.b_case.id, world.b_comment.event_id
    expect_error(
        grpc.StatusCode.NOT_FOUND,
        a.events.CreateComment,
        events_pb.CreateCommentRequest(case_id=b_id, text="hello from A"),
    )
    expect_error(
        grpc.StatusCode.NOT_FOUND,
        a.events.UpdateComment,
        events_pb.UpdateCommentRequest(event_id=event_id, text="edited by A"),
    )
    expect_error(
        grpc.StatusCode.NOT_FOUND,
        a.events.DeleteComment,
        events_pb.DeleteCommentRequest(event_id=event_id),
    )
    expect_error(
        grpc.StatusCode.NOT_FOUND,
        a.events.SyncExternalCaseEvents,
        events_pb.SyncExternalCaseEventsRequest(
            case_id=b_id,
            messages=[events_pb.ExternalThreadMessage(external_id="m1", text="from A")],
        ),
    )
    _b_unchanged(world)


BULK: dict[str, Callable[[list[str]], Any]] = {
    "BulkAssign": lambda ids: pb.BulkAssignRequest(
        ids=ids, assignee=common_pb.UserDetails(user_id=USER)
    ),
    "BulkUnassign": lambda ids: pb.BulkUnassignRequest(ids=ids),
    "BulkAcknowledge": lambda ids: pb.BulkAcknowledgeRequest(
        ids=ids, actor=common_pb.UserDetails(user_id=USER)
    ),
    "BulkResolve": lambda ids: pb.BulkResolveRequest(ids=ids, reason="pwned"),
    "BulkClose": lambda ids: pb.BulkCloseRequest(ids=ids),
    "BulkSetPriorityOverride": lambda ids: pb.BulkSetPriorityOverrideRequest(
        ids=ids, priority=c_pb.CASE_PRIORITY_P5
    ),
    "BulkClearPriorityOverride": lambda ids: pb.BulkClearPriorityOverrideRequest(ids=ids),
}


@pytest.mark.parametrize("rpc", sorted(BULK))
def test_bulk_does_not_cross_spaces(world: World, rpc: str) -> None:
    b_ids = [world.b_case.id, "CASE-2"]  # B's uuid, and a number only B has
    resp, call = getattr(world.a.cases, rpc).with_call(BULK[rpc]([world.a_case.id, *b_ids]))
    assert [c.id for c in resp.cases] == [world.a_case.id]
    assert failure_codes(bulk_failures(call)) == dict.fromkeys(b_ids, "NOT_FOUND")
    _b_unchanged(world)
    assert len(world.b.cases.ListCases(pb.ListCasesRequest()).cases) == 2


def test_bulk_acknowledge_of_only_foreign_ids_changes_nothing(world: World) -> None:
    resp, call = world.a.cases.BulkAcknowledge.with_call(
        pb.BulkAcknowledgeRequest(ids=[world.b_case.id], actor=common_pb.UserDetails(user_id=USER))
    )
    assert len(resp.cases) == 0
    assert failure_codes(bulk_failures(call)) == {world.b_case.id: "NOT_FOUND"}
    status = world.b.cases.GetCase(pb.GetCaseRequest(id=world.b_case.id)).case.status
    assert status == c_pb.CASE_STATUS_ACTIVE
    _b_unchanged(world)


def test_api_keys_stay_in_their_space(world: World) -> None:
    a_keys = world.a.keys.ListApiKeys(keys_pb.ListApiKeysRequest(include_revoked=True)).api_keys
    assert world.b.key_id not in {k.id for k in a_keys}
    assert {k.space for k in a_keys} == {world.a.principal.space_name}
    expect_error(
        grpc.StatusCode.NOT_FOUND,
        world.a.keys.RevokeApiKey,
        keys_pb.RevokeApiKeyRequest(id=world.b.key_id),
    )
    # B's key still works.
    assert world.b.cases.GetCase(pb.GetCaseRequest(id=world.b_case.id)).case.id == world.b_case.id
    created = world.a.keys.CreateApiKey(
        keys_pb.CreateApiKeyRequest(name="made by A", permissions=["case:Read"])
    )
    assert created.api_key.space == world.a.principal.space_name
    b_keys = world.b.keys.ListApiKeys(keys_pb.ListApiKeysRequest()).api_keys
    assert created.api_key.id not in {k.id for k in b_keys}
