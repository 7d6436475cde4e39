"""Spec conformance: every response of every one of the 28 operations, success and error, is
validated against the schema Coralogix's reference spec declares for that operation and status
(``Error`` for a status the operation does not declare). ``Rest.call``/``exchange`` validate
every response they get, so each test below only says what it sends and what status it expects.

Each operation has a ``test_<operation>`` with at least one success and its relevant errors;
401, 403 and (for the by-id operations) 404 and the malformed-id 400 are checked for every route
by the parametrised tests at the top.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from casekeeper.api.coralogix.permissions import OPERATION_PERMISSIONS
from casekeeper.api.coralogix.rest.routes import ROUTES, RouteSpec
from tests.api.coralogix.rest.conftest import (
    ALL_PERMISSIONS,
    OTHER_USER,
    STARTED_AT,
    UNKNOWN_UUID,
    USER,
    MakeRest,
    ReferenceSpec,
    Rest,
    bulk_failures,
    error_message,
    rich_case_fields,
)
from tests.conftest import MakeCase

# A body each route accepts, so that only the thing under test (key, id) can fail.
VALID_BODY: dict[str, Any] = {
    "ListCases": {},
    "UpdateCase": {"title": "Renamed"},
    "SetPriorityOverride": {"priority": "CASE_PRIORITY_P1"},
    "AssignCase": {"assignee": {"userId": USER}},
    "BulkAssign": {"ids": ["CASE-1"], "assignee": {"userId": USER}},
    "BulkAcknowledge": {"ids": ["CASE-1"], "actor": {"userId": USER}},
    "BulkResolve": {"ids": ["CASE-1"]},
    "BulkClose": {"ids": ["CASE-1"]},
    "BulkSetPriorityOverride": {"ids": ["CASE-1"], "priority": "CASE_PRIORITY_P2"},
    "GetFilterValues": {},
    "GetCaseByIndicator": {"prometheusAlert": {"fingerprint": "abc", "startedAt": STARTED_AT}},
    "CreateComment": {"text": "hello"},
    "UpdateComment": {"text": "hello again"},
}
QUERY: dict[str, Any] = {
    "BulkUnassign": {"ids": "CASE-1"},
    "BulkClearPriorityOverride": {"ids": "CASE-1"},
}


def _kw(route: RouteSpec) -> dict[str, Any]:
    kw: dict[str, Any] = {}
    if route.rpc in VALID_BODY:
        kw["json"] = VALID_BODY[route.rpc]
    if route.rpc in QUERY:
        kw["params"] = QUERY[route.rpc]
    return kw


def _id_name(route: RouteSpec) -> str | None:
    found = re.search(r"\{(\w+)\}", route.path)
    return found.group(1) if found else None


BY_ID = [r for r in ROUTES if _id_name(r)]


def _ids(routes: list[RouteSpec]) -> list[str]:
    return [r.rpc for r in routes]


# -- the reference and the routes agree ------------------------------------------------------


def test_reference_operations_are_exactly_the_routes(reference: ReferenceSpec) -> None:
    declared = {
        (method.upper(), path)
        for doc in reference.docs.values()
        for path, ops in doc["paths"].items()
        for method, op in ops.items()
        if isinstance(op, dict)
    }
    routed = {(r.method, r.path) for r in ROUTES}
    assert routed == declared
    assert len(ROUTES) == 28


def test_every_operation_has_its_own_conformance_test() -> None:
    names = set(globals())
    snake = {r.rpc: re.sub(r"(?<!^)(?=[A-Z])", "_", r.rpc).lower() for r in ROUTES}
    missing = [rpc for rpc, name in snake.items() if f"test_{name}" not in names]
    assert not missing


# -- every route: 401, 403, 404, malformed id ------------------------------------------------


@pytest.mark.parametrize("route", ROUTES, ids=_ids(list(ROUTES)))
def test_unauthenticated_is_401_error_body(route: RouteSpec, anonymous: Rest) -> None:
    response = anonymous.exchange(route.rpc, UNKNOWN_UUID, expect=401, **_kw(route))
    assert "Authorization" in error_message(response.json(), 401)
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("route", ROUTES, ids=_ids(list(ROUTES)))
def test_bad_key_is_401_error_body(route: RouteSpec, anonymous: Rest) -> None:
    kw = _kw(route)
    kw["headers"] = {"authorization": "Bearer ck_deadbeef_not-a-real-secret"}
    body = anonymous.call(route.rpc, UNKNOWN_UUID, expect=401, **kw)
    assert "invalid API key" in error_message(body, 401)


@pytest.mark.parametrize("route", ROUTES, ids=_ids(list(ROUTES)))
def test_missing_permission_is_403_error_body(route: RouteSpec, make_rest: MakeRest) -> None:
    needed = OPERATION_PERMISSIONS[route.operation].value
    api = make_rest(*[p for p in ALL_PERMISSIONS if p != needed])
    body = api.call(route.rpc, UNKNOWN_UUID, expect=403, **_kw(route))
    message = error_message(body, 403)
    assert needed in message
    assert route.rpc in message


UNKNOWN = [
    pytest.param(route, ident, id=f"{route.rpc}-{ident}")
    for route in BY_ID
    for ident in (UNKNOWN_UUID, "CASE-987654", "case-987654")
    if _id_name(route) != "event_id" or ident == UNKNOWN_UUID  # event ids are UUIDs only
]


@pytest.mark.parametrize(("route", "ident"), UNKNOWN)
def test_unknown_id_is_404_error_body(route: RouteSpec, ident: str, rest: Rest) -> None:
    body = rest.call(route.rpc, ident, expect=404, **_kw(route))
    assert ident in error_message(body, 404)


@pytest.mark.parametrize("route", BY_ID, ids=_ids(BY_ID))
def test_overlong_id_is_400_naming_the_parameter(route: RouteSpec, rest: Rest) -> None:
    body = rest.call(route.rpc, "A" * 65, expect=400, **_kw(route))
    name = _id_name(route)
    assert name is not None
    assert name in error_message(body, 400)


@pytest.mark.parametrize("route", BY_ID, ids=_ids(BY_ID))
def test_malformed_id_is_400_naming_the_parameter(route: RouteSpec, rest: Rest) -> None:
    body = rest.call(route.rpc, "not_an%20id", expect=400, **_kw(route))
    name = _id_name(route)
    assert name is not None
    assert name in error_message(body, 400)


def _stable(case: dict[str, Any]) -> dict[str, Any]:
    """A rendered case without ``duration`` (it grows while the case is open)."""
    return {k: v for k, v in case.items() if k != "duration"}


# -- CasesService ------------------------------------------------------------------------------


def test_get_case(rest: Rest, make_case: MakeCase) -> None:
    case = make_case(title="Checkout errors", **rich_case_fields())
    by_uuid = rest.call("GetCase", case.id)["case"]
    assert by_uuid["id"] == case.id
    assert by_uuid["readableId"] == f"CASE-{case.number}"
    assert by_uuid["title"] == "Checkout errors"
    for ident in (f"CASE-{case.number}", f"case-{case.number}", case.id.upper()):
        assert _stable(rest.call("GetCase", ident)["case"]) == _stable(by_uuid)
    pending = make_case(pending=True)
    got = rest.call("GetCase", pending.id)["case"]
    assert got["status"] == "CASE_STATUS_PENDING_ACTIVATION"
    assert "readableId" not in got


def test_list_cases(rest: Rest, make_case: MakeCase) -> None:
    made = [make_case(labels={"team": "a"}) for _ in range(3)]
    make_case(**rich_case_fields())
    page = rest.call("ListCases", json={"pagination": {"pageSize": 2}})
    assert len(page["cases"]) == 2
    token = page["pagination"]["nextPageToken"]
    rest_page = rest.call("ListCases", json={"pagination": {"pageSize": 2, "pageToken": token}})
    assert len(rest_page["cases"]) == 2
    assert "nextPageToken" not in rest_page["pagination"]
    filtered = rest.call(
        "ListCases",
        json={"filters": {"labels": [{"key": "team", "values": ["a"]}]}, "orderBy": {}},
    )
    assert {c["id"] for c in filtered["cases"]} == {c.id for c in made}
    empty = rest.call("ListCases", json={"filters": {"textSearch": "no such title anywhere"}})
    assert empty == {"cases": [], "pagination": {}, "pbacTruncated": False}

    body = rest.call("ListCases", json={"pagination": {"pageSize": 1001}}, expect=400)
    assert "pageSize" in error_message(body, 400)
    body = rest.call("ListCases", json={"filters": {"statuses": ["CASE_STATUS_BOGUS"]}}, expect=400)
    assert "filters.statuses" in error_message(body, 400)
    body = rest.call("ListCases", json={"pagination": {"pageToken": "%%%"}}, expect=400)
    assert "token" in error_message(body, 400).lower()


def test_update_case(rest: Rest, make_case: MakeCase) -> None:
    case = make_case(title="Old title")
    got = rest.call("UpdateCase", case.id, json={"title": "  New title  "})["case"]
    assert got["title"] == "New title"
    body = rest.call("UpdateCase", case.id, json={}, expect=400)
    assert "patch" in error_message(body, 400)
    body = rest.call("UpdateCase", case.id, json={"title": "   "}, expect=400)
    assert "patch.title" in error_message(body, 400)
    body = rest.call("UpdateCase", case.id, json={"title": "x" * 513}, expect=400)
    assert "patch.title" in error_message(body, 400)
    body = rest.call("UpdateCase", case.id, json={"resolutionReason": "fixed"}, expect=400)
    assert "CASE_STATUS_ACTIVE" in error_message(body, 400)
    rest.call("ResolveCase", case.id, json={"reason": "first"})
    got = rest.call("UpdateCase", case.id, json={"resolutionReason": "second"})["case"]
    assert got["resolutionDetails"]["reason"] == "second"


def test_set_priority_override(rest: Rest, make_case: MakeCase) -> None:
    case = make_case(priority=4)
    got = rest.call("SetPriorityOverride", case.id, json={"priority": "CASE_PRIORITY_P1"})["case"]
    assert got["priority"] == "CASE_PRIORITY_P1"
    assert got["priorityDetails"] == {"system": "CASE_PRIORITY_P4", "override": "CASE_PRIORITY_P1"}
    body = rest.call("SetPriorityOverride", case.id, json={}, expect=400)
    assert "priority" in error_message(body, 400)
    body = rest.call(
        "SetPriorityOverride", case.id, json={"priority": "CASE_PRIORITY_P9"}, expect=400
    )
    assert "priority" in error_message(body, 400)
    rest.call("CloseCase", case.id)
    body = rest.call("SetPriorityOverride", case.id, json={"priority": 2}, expect=400)
    assert "CASE_STATUS_CLOSED" in error_message(body, 400)


def test_clear_priority_override(rest: Rest, make_case: MakeCase) -> None:
    case = make_case(priority=4)
    rest.call("SetPriorityOverride", case.id, json={"priority": "CASE_PRIORITY_P1"})
    got = rest.call("ClearPriorityOverride", case.id)["case"]
    assert got["priority"] == "CASE_PRIORITY_P4"
    assert got["priorityDetails"] == {"system": "CASE_PRIORITY_P4"}
    assert rest.call("ClearPriorityOverride", case.id)["case"]["priority"] == "CASE_PRIORITY_P4"
    rest.call("CloseCase", case.id)
    body = rest.call("ClearPriorityOverride", case.id, expect=400)
    assert "CASE_STATUS_CLOSED" in error_message(body, 400)


def test_assign_case(rest: Rest, make_case: MakeCase) -> None:
    case = make_case()
    got = rest.call("AssignCase", case.id, json={"assignee": {"userId": USER}})["case"]
    assert got["assignee"] == {"userId": USER}
    body = rest.call("AssignCase", case.id, json={"assignee": {"userId": "bob"}}, expect=400)
    assert "assignee.userId" in error_message(body, 400)
    body = rest.call("AssignCase", case.id, json={}, expect=400)
    assert "assignee.userId" in error_message(body, 400)
    rest.call("CloseCase", case.id)
    body = rest.call("AssignCase", case.id, json={"assignee": {"userId": USER}}, expect=400)
    assert "CASE_STATUS_CLOSED" in error_message(body, 400)


def test_unassign_case(rest: Rest, make_case: MakeCase) -> None:
    case = make_case(assignee=USER)
    got = rest.call("UnassignCase", case.id)["case"]
    assert "assignee" not in got
    rest.call("CloseCase", case.id)
    body = rest.call("UnassignCase", case.id, expect=400)
    assert "CASE_STATUS_CLOSED" in error_message(body, 400)


def test_acknowledge_case(rest: Rest, make_case: MakeCase) -> None:
    case = make_case()
    got = rest.call("AcknowledgeCase", case.id)["case"]
    assert got["status"] == "CASE_STATUS_ACKNOWLEDGED"
    assert got["acknowledgeTime"] == got["updateTime"]
    again = rest.call("AcknowledgeCase", case.id, json={"actor": {"userId": USER}})["case"]
    assert again["status"] == "CASE_STATUS_ACKNOWLEDGED"
    body = rest.call("AcknowledgeCase", case.id, json={"actor": {"userId": "x"}}, expect=400)
    assert "actor.userId" in error_message(body, 400)
    rest.call("ResolveCase", case.id)
    body = rest.call("AcknowledgeCase", case.id, expect=400)
    assert "CASE_STATUS_RESOLVED" in error_message(body, 400)
    pending = make_case(pending=True)
    body = rest.call("AcknowledgeCase", pending.id, expect=400)
    assert "CASE_STATUS_PENDING_ACTIVATION" in error_message(body, 400)


def test_unacknowledge_case(rest: Rest, make_case: MakeCase) -> None:
    case = make_case()
    body = rest.call("UnacknowledgeCase", case.id, expect=200)
    assert body["case"]["status"] == "CASE_STATUS_ACTIVE"  # a same-state repeat is a no-op
    rest.call("AcknowledgeCase", case.id)
    got = rest.call("UnacknowledgeCase", case.id)["case"]
    assert got["status"] == "CASE_STATUS_ACTIVE"
    assert "acknowledgeTime" not in got
    rest.call("CloseCase", case.id)
    body = rest.call("UnacknowledgeCase", case.id, expect=400)
    assert "CASE_STATUS_CLOSED" in error_message(body, 400)


def test_resolve_case(rest: Rest, make_case: MakeCase) -> None:
    with_reason, without = make_case(), make_case()
    got = rest.call("ResolveCase", with_reason.id, json={"reason": "Rolled back"})["case"]
    assert got["status"] == "CASE_STATUS_RESOLVED"
    assert got["resolutionDetails"]["reason"] == "Rolled back"
    assert got["resolutionDetails"]["resolvedBy"] == {"apiKey": {}}
    bare = rest.call("ResolveCase", without.id)["case"]
    assert "reason" not in bare["resolutionDetails"]
    other = make_case()
    body = rest.call("ResolveCase", other.id, json={"reason": "x" * 501}, expect=400)
    assert "reason" in error_message(body, 400)
    rest.call("CloseCase", with_reason.id)
    body = rest.call("ResolveCase", with_reason.id, expect=400)
    assert "CASE_STATUS_CLOSED" in error_message(body, 400)


def test_close_case(rest: Rest, make_case: MakeCase) -> None:
    case = make_case()
    got = rest.call("CloseCase", case.id)["case"]
    assert got["status"] == "CASE_STATUS_CLOSED"
    pending = make_case(pending=True)
    body = rest.call("CloseCase", pending.id, expect=400)
    assert "CASE_STATUS_PENDING_ACTIVATION" in error_message(body, 400)


# -- bulk ----------------------------------------------------------------------------------------


def test_bulk_assign(rest: Rest, make_case: MakeCase) -> None:
    a, b = make_case(), make_case()
    response = rest.exchange(
        "BulkAssign",
        json={
            "ids": [a.id, f"CASE-{b.number}", "CASE-999999", "bad id!"],
            "assignee": {"userId": USER},
        },
    )
    cases = response.json()["cases"]
    assert [c["id"] for c in cases] == [a.id, b.id]
    assert all(c["assignee"] == {"userId": USER} for c in cases)
    failures = {f["id"]: f["code"] for f in bulk_failures(response)}
    assert failures == {"CASE-999999": "NOT_FOUND", "bad id!": "INVALID_ARGUMENT"}
    body = rest.call("BulkAssign", json={"ids": [], "assignee": {"userId": USER}}, expect=400)
    assert "ids" in error_message(body, 400)
    body = rest.call("BulkAssign", json={"ids": [a.id], "assignee": {"userId": "u"}}, expect=400)
    assert "assignee.userId" in error_message(body, 400)


def test_bulk_unassign(rest: Rest, make_case: MakeCase) -> None:
    a, b = make_case(assignee=USER), make_case(assignee=OTHER_USER)
    response = rest.exchange("BulkUnassign", params=[("ids", a.id), ("ids", f"CASE-{b.number}")])
    assert [c["id"] for c in response.json()["cases"]] == [a.id, b.id]
    assert all("assignee" not in c for c in response.json()["cases"])
    assert bulk_failures(response) == []
    body = rest.call("BulkUnassign", expect=400)
    assert "ids" in error_message(body, 400)


def test_bulk_acknowledge(rest: Rest, make_case: MakeCase) -> None:
    a, closed = make_case(), make_case()
    rest.call("CloseCase", closed.id)
    response = rest.exchange(
        "BulkAcknowledge", json={"ids": [a.id, closed.id], "actor": {"userId": USER}}
    )
    assert [c["status"] for c in response.json()["cases"]] == ["CASE_STATUS_ACKNOWLEDGED"]
    [failure] = bulk_failures(response)
    assert failure["id"] == closed.id
    assert failure["code"] == "FAILED_PRECONDITION"
    assert "CASE_STATUS_CLOSED" in failure["message"]
    body = rest.call("BulkAcknowledge", json={"ids": [a.id]}, expect=400)
    assert "actor" in error_message(body, 400)
    body = rest.call("BulkAcknowledge", json={"ids": [a.id], "actor": {"userId": "me"}}, expect=400)
    assert "actor.userId" in error_message(body, 400)


def test_bulk_resolve(rest: Rest, make_case: MakeCase) -> None:
    a, b = make_case(), make_case()
    got = rest.call("BulkResolve", json={"ids": [a.id, b.id], "reason": "y" * 4096})["cases"]
    assert [c["resolutionDetails"]["reason"] for c in got] == ["y" * 4096] * 2
    body = rest.call("BulkResolve", json={"ids": [a.id], "reason": "y" * 4097}, expect=400)
    assert "reason" in error_message(body, 400)


def test_bulk_close(rest: Rest, make_case: MakeCase) -> None:
    a, pending = make_case(), make_case(pending=True)
    response = rest.exchange("BulkClose", json={"ids": [a.id, pending.id]})
    assert [c["status"] for c in response.json()["cases"]] == ["CASE_STATUS_CLOSED"]
    [failure] = bulk_failures(response)
    assert "CASE_STATUS_PENDING_ACTIVATION" in failure["message"]
    body = rest.call("BulkClose", json={"ids": [a.id] * 1001}, expect=400)
    assert "ids" in error_message(body, 400)


def test_bulk_set_priority_override(rest: Rest, make_case: MakeCase) -> None:
    a, b = make_case(priority=5), make_case(priority=5)
    got = rest.call(
        "BulkSetPriorityOverride", json={"ids": [a.id, b.id], "priority": "CASE_PRIORITY_P2"}
    )
    assert [c["priority"] for c in got["cases"]] == ["CASE_PRIORITY_P2"] * 2
    body = rest.call("BulkSetPriorityOverride", json={"ids": [a.id]}, expect=400)
    assert "priority" in error_message(body, 400)


def test_bulk_clear_priority_override(rest: Rest, make_case: MakeCase) -> None:
    a, b = make_case(priority=5), make_case(priority=5)
    rest.call("BulkSetPriorityOverride", json={"ids": [a.id, b.id], "priority": 1})
    got = rest.call("BulkClearPriorityOverride", params={"ids": f"{a.id},{b.id}"})["cases"]
    assert [c["priorityDetails"] for c in got] == [{"system": "CASE_PRIORITY_P5"}] * 2
    body = rest.call("BulkClearPriorityOverride", params={"ids": ""}, expect=400)
    assert "ids" in error_message(body, 400)


# -- reads -----------------------------------------------------------------------------------------


def test_get_filter_values(rest: Rest, make_case: MakeCase) -> None:
    make_case(priority=1, **rich_case_fields())
    make_case(priority=2, labels={"team": "payments"}, assignee=USER)
    got = rest.call("GetFilterValues", json={})
    assert {a["priority"]: a["count"] for a in got["priorityAggregations"]} == {
        "CASE_PRIORITY_P1": 1,
        "CASE_PRIORITY_P2": 1,
    }
    assert got["assigneeAggregations"] == {
        "unassignedCount": 1,
        "assignedCounts": [{"assignee": USER, "count": 1}],
    }
    filtered = rest.call(
        "GetFilterValues",
        json={
            "filters": {
                "labels": [{"key": "env", "values": ["prod"]}],
                "alertFilters": {"alertIds": ["2a1b3c4d-5e6f-4a0b-8c1d-2e3f4a5b6c7d"]},
            }
        },
    )
    assert filtered["statusAggregations"] == [{"status": "CASE_STATUS_ACTIVE", "count": 1}]
    body = rest.call("GetFilterValues", json={"filters": {"priorities": ["P1"]}}, expect=400)
    assert "filters.priorities" in error_message(body, 400)


def test_get_grouping_keys(rest: Rest, make_case: MakeCase) -> None:
    assert rest.call("GetGroupingKeys") == {"groupingKeys": []}
    make_case(groupings={"service": "a", "region": "b"})
    assert sorted(rest.call("GetGroupingKeys")["groupingKeys"]) == ["region", "service"]


def test_get_case_deep_links(rest: Rest, make_case: MakeCase) -> None:
    case = make_case(**rich_case_fields())
    links = rest.call("GetCaseDeepLinks", f"CASE-{case.number}")["deepLinks"]
    assert links["detail"] == f"https://cases.example.test/cases/CASE-{case.number}"
    assert set(links["alertIndicators"]) == {"2a1b3c4d-5e6f-4a0b-8c1d-2e3f4a5b6c7d"}
    assert [e["url"] for e in links["impactedEntities"]] == [
        "https://cases.example.test/apm/services/checkout",
        "https://cases.example.test/apm/databases/orders-db",
    ]
    plain = make_case()
    bare = rest.call("GetCaseDeepLinks", plain.id)["deepLinks"]
    assert bare["alertIndicators"] == {}
    assert bare["impactedEntities"] == []


def test_get_case_by_indicator(rest: Rest, make_case: MakeCase) -> None:
    case = make_case(**rich_case_fields(fingerprint="a1b2c3d4e5f60718"))
    alert = {"fingerprint": "a1b2c3d4e5f60718", "startedAt": STARTED_AT}
    got = rest.call("GetCaseByIndicator", json={"prometheusAlert": alert})["case"]
    assert got["id"] == case.id
    body = rest.call(
        "GetCaseByIndicator",
        json={"prometheusAlert": {**alert, "startedAt": "2026-01-02T03:04:06Z"}},
        expect=404,
    )
    assert "a1b2c3d4e5f60718" in error_message(body, 404)
    body = rest.call(
        "GetCaseByIndicator", json={"prometheusAlert": {"fingerprint": "x"}}, expect=400
    )
    assert "startedAt" in error_message(body, 400)
    body = rest.call(
        "GetCaseByIndicator",
        json={"prometheusAlert": {"fingerprint": "x", "startedAt": "yesterday"}},
        expect=400,
    )
    assert "startedAt" in error_message(body, 400)


# -- CaseEventsService -----------------------------------------------------------------------------


def test_list_events(rest: Rest, make_case: MakeCase) -> None:
    case = make_case(**rich_case_fields())
    rest.call("AssignCase", case.id, json={"assignee": {"userId": USER}})
    rest.call("SetPriorityOverride", case.id, json={"priority": "CASE_PRIORITY_P1"})
    rest.call("UpdateCase", case.id, json={"title": "renamed"})
    rest.call("CreateComment", case.id, json={"text": "looking"})
    rest.call("UnassignCase", case.id)
    rest.call("ResolveCase", case.id, json={"reason": "fixed"})
    rest.call("UpdateCase", case.id, json={"resolutionReason": "really fixed"})
    events = rest.call("ListEvents", f"CASE-{case.number}")["events"]
    kinds = [next(iter(e["eventData"])) for e in events]
    assert kinds == [
        "created",
        "statusChanged",
        "assigned",
        "priorityDetailsChanged",
        "titleChangedEvent",
        "comment",
        "unassigned",
        "statusChanged",
        "resolutionReasonChangedEvent",
    ]


def test_get_event(rest: Rest, make_case: MakeCase) -> None:
    case = make_case()
    events = rest.call("ListEvents", case.id)["events"]
    for event in events:
        assert rest.call("GetEvent", event["eventId"])["event"] == event
    body = rest.call("GetEvent", "not-a-uuid", expect=400)
    assert "event_id" in error_message(body, 400)


ATTACHMENTS = [
    {
        "file": {
            "fileId": "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
            "fileName": "trace.txt",
            "isDeleted": True,
        }
    },
    {
        "log": {
            "logId": "4a2504e0-4f89-11d3-9a0c-0305e82c3302",
            "logTimestamp": STARTED_AT,
            "logContent": "ERROR timeout",
            "queryLinkSuffix": "?q=1",
        }
    },
    {
        "customWidget": {
            "customDashboardId": "dash-1",
            "widgetId": "widget-1",
            "widgetScreenshot": {
                "fileId": "5b2504e0-4f89-11d3-9a0c-0305e82c3303",
                "fileName": "shot.png",
                "isDeleted": True,
            },
        }
    },
]


def test_create_comment(rest: Rest, make_case: MakeCase) -> None:
    case = make_case()
    event = rest.call(
        "CreateComment", case.id, json={"text": "  On it  ", "attachments": ATTACHMENTS}
    )["event"]
    assert event["eventData"]["comment"]["unsafeText"] == "On it"
    assert event["eventData"]["comment"]["attachments"] == ATTACHMENTS
    assert event["actor"] == {"apiKey": {"id": rest.principal.key_id, "name": "rest test key"}}  # type: ignore[union-attr]
    body = rest.call("CreateComment", case.id, json={"text": " "}, expect=400)
    assert "text" in error_message(body, 400)
    body = rest.call("CreateComment", case.id, json={"text": "x" * 10001}, expect=400)
    assert "text" in error_message(body, 400)
    body = rest.call("CreateComment", case.id, json={"text": "x", "attachments": [{}]}, expect=400)
    assert "attachments[0]" in error_message(body, 400)
    body = rest.call(
        "CreateComment", case.id, json={"text": "x", "attachments": [{"log": {}}] * 101}, expect=400
    )
    assert "attachments" in error_message(body, 400)


def test_create_comment_keeps_is_deleted_false(rest: Rest, make_case: MakeCase) -> None:
    case = make_case()
    attachment = {
        "file": {
            "fileId": "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
            "fileName": "a.txt",
            "isDeleted": False,
        }
    }
    rest.call("CreateComment", case.id, json={"text": "see file", "attachments": [attachment]})


def test_update_comment(rest: Rest, make_case: MakeCase) -> None:
    case = make_case()
    created = rest.call("CreateComment", case.id, json={"text": "first"})["event"]
    updated = rest.call(
        "UpdateComment", created["eventId"], json={"text": "second", "attachments": ATTACHMENTS[:1]}
    )["event"]
    assert updated["eventId"] == created["eventId"]
    assert updated["eventData"]["comment"]["unsafeText"] == "second"
    assert "updateTime" in updated
    body = rest.call("UpdateComment", created["eventId"], json={"text": ""}, expect=400)
    assert "text" in error_message(body, 400)
    status_event = rest.call("ListEvents", case.id)["events"][0]
    body = rest.call("UpdateComment", status_event["eventId"], json={"text": "x"}, expect=400)
    assert "only comment events" in error_message(body, 400)


def test_delete_comment(rest: Rest, make_case: MakeCase) -> None:
    case = make_case()
    created = rest.call("CreateComment", case.id, json={"text": "oops"})["event"]
    assert rest.call("DeleteComment", created["eventId"]) == {}
    body = rest.call("DeleteComment", created["eventId"], expect=404)
    assert created["eventId"] in error_message(body, 404)
    rest.call("GetEvent", created["eventId"], expect=404)
    first = rest.call("ListEvents", case.id)["events"][0]
    body = rest.call("DeleteComment", first["eventId"], expect=400)
    assert "only comment events" in error_message(body, 400)


def test_sync_external_case_events(rest: Rest, make_case: MakeCase) -> None:
    case = make_case()
    assert rest.call("SyncExternalCaseEvents", case.id) == {"syncRegistered": False}
    message = {"externalId": "slack-1", "text": "from slack", "eventTime": STARTED_AT}
    pushed = rest.call("SyncExternalCaseEvents", case.id, json={"messages": [message]})
    assert pushed == {"syncRegistered": True}
    assert rest.call("SyncExternalCaseEvents", case.id) == {"syncRegistered": True}
    comments = [
        e for e in rest.call("ListEvents", case.id)["events"] if "comment" in e["eventData"]
    ]
    assert [c["eventData"]["comment"]["unsafeText"] for c in comments] == ["from slack"]
    assert comments[0]["eventTime"].startswith("2026-01-02T03:04:05")
    body = rest.call(
        "SyncExternalCaseEvents",
        case.id,
        json={"messages": [{"externalId": "x", "text": ""}]},
        expect=400,
    )
    assert "text" in error_message(body, 400)


def test_every_validated_status_is_declared_or_error(reference: ReferenceSpec) -> None:
    """The helper itself: an undeclared status is validated against Error, a declared one
    against its own schema."""
    assert reference.schema_ref("GetCase", 404).endswith("#/components/schemas/Error")
    assert reference.schema_ref("GetEvent", 404).endswith("#/components/schemas/Error")
    assert reference.schema_ref("GetCase", 200).endswith("#/components/schemas/GetCaseResponse")
    assert reference.errors("GetCase", 200, {"case": {"id": "x"}})
    assert reference.errors("GetCase", 400, {"code": 400, "message": "m", "extra": 1})
    assert not reference.errors("GetCase", 400, {"code": 400, "message": "m"})
