"""The REST dialect's shape: the path prefixes Coralogix's gateway uses, the specs' irregular
verbs, bulk ids in the query string, and the lenient JSON forms clients send (``{"value": x}``
wrappers, snake_case names, enum numbers, ``{"seconds", "nanos"}`` timestamps, ``null``).
Every response is still validated against the reference spec."""

from __future__ import annotations

from typing import Any

import pytest

from casekeeper.api.coralogix.rest import handler, render
from casekeeper.api.coralogix.rest.routes import ROUTES, RouteSpec
from tests.api.coralogix.rest.conftest import (
    STARTED_AT,
    UNKNOWN_UUID,
    USER,
    Rest,
    bulk_failures,
    error_message,
    parse_instant,
    rich_case_fields,
    route_path,
)
from tests.conftest import MakeCase

PREFIXES = ["", "/mgmt/openapi", "/mgmt/openapi/latest", "/mgmt/openapi/5"]
STARTED_SECONDS = int(parse_instant(STARTED_AT).timestamp())


# -- prefixes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("route", ROUTES, ids=[r.rpc for r in ROUTES])
def test_every_route_is_served_under_every_prefix(
    route: RouteSpec, prefix: str, anonymous: Rest
) -> None:
    """The route is reached (the handler asks for a key) rather than 404 'no such path'."""
    body = anonymous.call(route.rpc, UNKNOWN_UUID, prefix=prefix, expect=401)
    assert "missing API key" in error_message(body, 401)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_operations_work_under_every_prefix(prefix: str, rest: Rest, make_case: MakeCase) -> None:
    a, b = make_case(), make_case()
    got = rest.call("GetCase", f"CASE-{a.number}", prefix=prefix)["case"]
    assert got["id"] == a.id
    assigned = rest.call("AssignCase", a.id, prefix=prefix, json={"assignee": {"userId": USER}})
    assert assigned["case"]["assignee"] == {"userId": USER}
    unassigned = rest.call("BulkUnassign", prefix=prefix, params={"ids": f"{a.id},{b.id}"})
    assert [c["id"] for c in unassigned["cases"]] == [a.id, b.id]
    events = rest.call("ListEvents", a.id, prefix=prefix)["events"]
    assert rest.call("GetEvent", events[0]["eventId"], prefix=prefix)["event"] == events[0]
    page = rest.call("ListCases", prefix=prefix, json={})
    assert {c["id"] for c in page["cases"]} == {a.id, b.id}


@pytest.mark.parametrize(
    "path",
    [
        "/mgmt/openapi",
        "/mgmt/openapi/latest",
        "/mgmt/openapi/latest/cases",
        "/mgmt/openapix/cases/cases/v1/CASE-1",
        "/cases/cases/v2/CASE-1",
        "/mgmt/cases/cases/v1/CASE-1",
    ],
)
def test_unknown_paths_are_404_json(path: str, rest: Rest) -> None:
    response = rest.request("GET", path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert error_message(response.json(), 404) == "no such path"


# -- verbs -----------------------------------------------------------------------------------------

# (wrong method, path): each is the verb of the *other* form (single vs bulk) of an operation.
WRONG_VERBS = [
    ("PUT", "/cases/assigned/v1/CASE-1"),  # AssignCase is POST
    ("POST", "/cases/assigned/v1"),  # BulkAssign is PUT
    ("POST", "/cases/acknowledged/v1/CASE-1"),  # AcknowledgeCase is PUT
    ("PUT", "/cases/acknowledged/v1"),  # BulkAcknowledge is POST
    ("POST", "/cases/resolved/v1/CASE-1"),  # ResolveCase is PUT
    ("PUT", "/cases/resolved/v1"),  # BulkResolve is POST
    ("PUT", "/cases/closed/v1/CASE-1"),  # CloseCase is POST
    ("PUT", "/cases/closed/v1"),  # BulkClose is POST
    ("POST", "/cases/priority-override/v1/CASE-1"),  # SetPriorityOverride is PUT
    ("PUT", "/cases/priority-override/v1"),  # BulkSetPriorityOverride is POST
    ("DELETE", "/cases/resolved/v1/CASE-1"),  # resolving cannot be undone
    ("DELETE", "/cases/closed/v1/CASE-1"),  # nor closing
    ("POST", "/cases/cases/v1/CASE-1"),
    ("PATCH", "/cases/cases/v1/CASE-1"),
]


@pytest.mark.parametrize(("method", "path"), WRONG_VERBS)
def test_the_other_forms_verb_is_405(method: str, path: str, rest: Rest) -> None:
    response = rest.request(method, path, json={})
    assert response.status_code == 405, response.text
    assert error_message(response.json(), 405)
    served = {r.method for r in ROUTES if r.path == _template(path)}
    assert served, path
    assert set(response.headers["allow"].replace(" ", "").split(",")) & served


def _template(path: str) -> str:
    for route in ROUTES:
        parts, want = route.path.split("/"), path.split("/")
        if len(parts) == len(want) and all(
            p == w or p.startswith("{") for p, w in zip(parts, want, strict=True)
        ):
            return route.path
    return ""


@pytest.mark.parametrize(
    "path", sorted({r.path for r in ROUTES if sum(x.path == r.path for x in ROUTES) > 1})
)
def test_405_allow_header_lists_every_method_of_the_path(path: str, rest: Rest) -> None:
    response = rest.request(
        "OPTIONS", path.replace("{id}", "CASE-1").replace("{event_id}", UNKNOWN_UUID)
    )
    assert response.status_code == 405
    allowed = set(response.headers["allow"].replace(" ", "").split(",")) - {"HEAD"}
    assert allowed == {r.method for r in ROUTES if r.path == path}


def test_delete_undoes_the_single_operations(rest: Rest, make_case: MakeCase) -> None:
    case = make_case(priority=3)
    ident = f"CASE-{case.number}"
    rest.call("AssignCase", ident, json={"assignee": {"userId": USER}})
    rest.call("AcknowledgeCase", ident)
    rest.call("SetPriorityOverride", ident, json={"priority": "CASE_PRIORITY_P1"})
    got = rest.call("GetCase", ident)["case"]
    assert (got["assignee"], got["status"], got["priority"]) == (
        {"userId": USER},
        "CASE_STATUS_ACKNOWLEDGED",
        "CASE_PRIORITY_P1",
    )
    assert rest.request("DELETE", f"/cases/assigned/v1/{ident}").status_code == 200
    assert rest.request("DELETE", f"/cases/acknowledged/v1/{ident}").status_code == 200
    assert rest.request("DELETE", f"/cases/priority-override/v1/{ident}").status_code == 200
    got = rest.call("GetCase", ident)["case"]
    assert "assignee" not in got
    assert got["status"] == "CASE_STATUS_ACTIVE"
    assert got["priority"] == "CASE_PRIORITY_P3"


def test_bulk_verbs(rest: Rest, make_case: MakeCase) -> None:
    """PUT assigns in bulk, POST acknowledges/resolves/closes/overrides in bulk, DELETE with
    query ids undoes."""
    a, b = make_case(), make_case()
    ids = [a.id, b.id]
    assert (
        rest.request(
            "PUT", "/cases/assigned/v1", json={"ids": ids, "assignee": {"userId": USER}}
        ).status_code
        == 200
    )
    assert (
        rest.request(
            "POST", "/cases/priority-override/v1", json={"ids": ids, "priority": 1}
        ).status_code
        == 200
    )
    assert (
        rest.request("DELETE", "/cases/priority-override/v1", params={"ids": ids}).status_code
        == 200
    )
    assert rest.request("DELETE", "/cases/assigned/v1", params={"ids": ids}).status_code == 200
    assert (
        rest.request(
            "POST", "/cases/acknowledged/v1", json={"ids": ids, "actor": {"userId": USER}}
        ).status_code
        == 200
    )
    assert rest.request("POST", "/cases/resolved/v1", json={"ids": ids}).status_code == 200
    assert rest.request("POST", "/cases/closed/v1", json={"ids": ids}).status_code == 200
    for case in rest.call("ListCases", json={})["cases"]:
        assert case["status"] == "CASE_STATUS_CLOSED"
        assert "assignee" not in case
        assert case["priorityDetails"] == {"system": "CASE_PRIORITY_P3"}


@pytest.mark.usefixtures("side_starts_first")
def test_bulk_body_is_complete_when_rendering_alongside_the_commit_fails(
    rest: Rest, make_case: MakeCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The JSON body renders while the change commits; if that fails, the handler renders the
    committed cases again from scratch."""
    cases = [make_case(), make_case()]
    real = render.case_json
    calls: list[str] = []

    def first_call_breaks(case: Any, now: int, *, cached: bool = True) -> Any:
        calls.append(case.id)
        if len(calls) == 1:
            raise RuntimeError("rendering broke")
        return real(case, now, cached=cached)

    monkeypatch.setattr(handler, "case_json", first_call_breaks)
    body = rest.call("BulkClose", json={"ids": [c.id for c in cases]})

    assert len(calls) == 3  # one failed try alongside the commit, then both cases again
    assert sorted(c["id"] for c in body["cases"]) == sorted(c.id for c in cases)
    assert {c["status"] for c in body["cases"]} == {"CASE_STATUS_CLOSED"}


# -- bulk ids in the query string ----------------------------------------------------------------


@pytest.mark.parametrize("rpc", ["BulkUnassign", "BulkClearPriorityOverride"])
@pytest.mark.parametrize(
    "style", ["repeated", "comma", "mixed", "spaces", "empty parts", "duplicates"]
)
def test_query_string_bulk_ids(rpc: str, style: str, rest: Rest, make_case: MakeCase) -> None:
    a, b, c = (make_case(assignee=USER) for _ in range(3))
    rest.call("BulkSetPriorityOverride", json={"ids": [a.id, b.id, c.id], "priority": 1})
    ra, rb, rc = (f"CASE-{x.number}" for x in (a, b, c))
    query = {
        "repeated": f"ids={ra}&ids={rb}&ids={rc}",
        "comma": f"ids={ra},{rb},{rc}",
        "mixed": f"ids={ra},{rb}&ids={rc}",
        "spaces": f"ids={ra},%20{rb}%20,{rc}",
        "empty parts": f"ids=&ids={ra},,{rb}&ids={rc},",
        "duplicates": f"ids={ra},{rb},{ra}&ids={c.id}&ids={rc}",
    }[style]
    route = next(r for r in ROUTES if r.rpc == rpc)
    response = rest.request(route.method, f"{route_path(rpc)}?{query}")
    body = rest.check(rpc, response, 200)
    assert [x["id"] for x in body["cases"]] == [a.id, b.id, c.id]
    assert bulk_failures(response) == []
    for case in body["cases"]:
        if rpc == "BulkUnassign":
            assert "assignee" not in case
        else:
            assert "override" not in case["priorityDetails"]


def test_query_bulk_ids_report_bad_and_unknown_ids(rest: Rest, make_case: MakeCase) -> None:
    a = make_case(assignee=USER)
    response = rest.exchange(
        "BulkUnassign", params=[("ids", f"{a.id},CASE-999999"), ("ids", "no good")]
    )
    assert [c["id"] for c in response.json()["cases"]] == [a.id]
    assert {f["id"]: f["code"] for f in bulk_failures(response)} == {
        "CASE-999999": "NOT_FOUND",
        "no good": "INVALID_ARGUMENT",
    }


def test_query_bulk_ids_ignore_a_body(rest: Rest, make_case: MakeCase) -> None:
    a, b = make_case(assignee=USER), make_case(assignee=USER)
    body = rest.call("BulkUnassign", params={"ids": a.id}, json={"ids": [b.id]})
    assert [c["id"] for c in body["cases"]] == [a.id]


# -- lenient JSON --------------------------------------------------------------------------------


def test_value_wrappers(rest: Rest, make_case: MakeCase) -> None:
    case = make_case(title="t")
    got = rest.call(
        "SetPriorityOverride", case.id, json={"priority": {"value": "CASE_PRIORITY_P2"}}
    )
    assert got["case"]["priority"] == "CASE_PRIORITY_P2"
    got = rest.call("UpdateCase", case.id, json={"title": {"value": "wrapped"}})
    assert got["case"]["title"] == "wrapped"
    page = rest.call("ListCases", json={"pagination": {"pageSize": {"value": 1}}})
    assert len(page["cases"]) == 1
    got = rest.call("ResolveCase", case.id, json={"reason": {"value": "wrapped reason"}})
    assert got["case"]["resolutionDetails"]["reason"] == "wrapped reason"
    event = rest.call("CreateComment", case.id, json={"text": {"value": "wrapped text"}})["event"]
    assert event["eventData"]["comment"]["unsafeText"] == "wrapped text"
    got = rest.call("BulkClose", json={"ids": [{"value": case.id}]})
    assert [c["status"] for c in got["cases"]] == ["CASE_STATUS_CLOSED"]


def test_snake_case_names(rest: Rest, make_case: MakeCase) -> None:
    a = make_case(title="alpha one", **rich_case_fields(fingerprint="feedfacecafebeef"))
    make_case(title="beta two")
    page = rest.call(
        "ListCases",
        json={
            "filters": {"text_search": "alpha"},
            "pagination": {"page_size": 5},
            "order_by": {
                "field": "CASE_ORDER_BY_FIELD_CREATED_AT",
                "direction": "CASE_ORDER_BY_DIRECTION_ASCENDING",
            },
        },
    )
    assert [c["id"] for c in page["cases"]] == [a.id]
    got = rest.call("AssignCase", a.id, json={"assignee": {"user_id": USER}})["case"]
    assert got["assignee"] == {"userId": USER}
    found = rest.call(
        "GetCaseByIndicator",
        json={"prometheus_alert": {"fingerprint": "feedfacecafebeef", "started_at": STARTED_AT}},
    )
    assert found["case"]["id"] == a.id
    rest.call("ResolveCase", a.id)
    got = rest.call("UpdateCase", a.id, json={"resolution_reason": "snake"})["case"]
    assert got["resolutionDetails"]["reason"] == "snake"
    response = rest.exchange("BulkAcknowledge", json={"ids": [a.id], "actor": {"user_id": USER}})
    assert [f["code"] for f in bulk_failures(response)] == ["FAILED_PRECONDITION"]


def test_enum_numbers(rest: Rest, make_case: MakeCase) -> None:
    p1 = make_case(priority=1, category=1)
    make_case(priority=4, category=2)
    got = rest.call("SetPriorityOverride", p1.id, json={"priority": 5})["case"]
    assert got["priority"] == "CASE_PRIORITY_P5"
    page = rest.call("ListCases", json={"filters": {"categories": [1], "statuses": [2]}})
    assert [c["id"] for c in page["cases"]] == [p1.id]
    body = rest.call("SetPriorityOverride", p1.id, json={"priority": 0}, expect=400)
    assert "priority" in error_message(body, 400)
    body = rest.call("SetPriorityOverride", p1.id, json={"priority": 42}, expect=400)
    assert "priority" in error_message(body, 400)
    body = rest.call("ListCases", json={"filters": {"statuses": [0]}}, expect=400)
    assert "statuses" in error_message(body, 400)


@pytest.mark.parametrize(
    "started",
    [
        {"seconds": STARTED_SECONDS},
        {"seconds": str(STARTED_SECONDS), "nanos": 0},
        {"seconds": STARTED_SECONDS, "nanos": 999_999_999},
        {"value": STARTED_AT},
        STARTED_AT.replace("Z", "+00:00"),
        "2026-01-02T05:04:05.250+02:00",
    ],
)
def test_timestamp_forms(started: Any, rest: Rest, make_case: MakeCase) -> None:
    case = make_case(**rich_case_fields(fingerprint="0123456789abcdef"))
    body = rest.call(
        "GetCaseByIndicator",
        json={"prometheusAlert": {"fingerprint": "0123456789abcdef", "startedAt": started}},
    )
    assert body["case"]["id"] == case.id


def test_seconds_nanos_keep_their_fraction(rest: Rest, make_case: MakeCase) -> None:
    case = make_case()
    message = {
        "externalId": "m1",
        "text": "hi",
        "eventTime": {"seconds": STARTED_SECONDS, "nanos": 250_000_000},
    }
    rest.call("SyncExternalCaseEvents", case.id, json={"messages": [message]})
    [comment] = [
        e for e in rest.call("ListEvents", case.id)["events"] if "comment" in e["eventData"]
    ]
    assert parse_instant(comment["eventTime"]) == parse_instant("2026-01-02T03:04:05.25Z")


def test_null_means_unset(rest: Rest, make_case: MakeCase) -> None:
    case = make_case()
    got = rest.call("ResolveCase", case.id, json={"reason": None})["case"]
    assert "reason" not in got["resolutionDetails"]
    page = rest.call(
        "ListCases", json={"filters": None, "pagination": {"pageSize": None}, "orderBy": None}
    )
    assert [c["id"] for c in page["cases"]] == [case.id]
    page = rest.call("ListCases", json={"filters": {"statuses": None, "labels": None}})
    assert [c["id"] for c in page["cases"]] == [case.id]
    body = rest.call("ListCases", content=b"null", expect=400)  # the body itself is an object
    assert "JSON object" in error_message(body, 400)
    body = rest.call("SetPriorityOverride", case.id, json={"priority": None}, expect=400)
    assert "priority" in error_message(body, 400)
    body = rest.call(
        "UpdateCase", case.id, json={"title": None, "resolutionReason": None}, expect=400
    )
    assert "patch" in error_message(body, 400)


def test_null_list_items_are_refused(rest: Rest) -> None:
    body = rest.call("ListCases", json={"filters": {"labels": [None]}}, expect=400)
    assert "filters.labels" in error_message(body, 400)


def test_unknown_fields_are_ignored(rest: Rest, make_case: MakeCase) -> None:
    case = make_case()
    got = rest.call(
        "AssignCase", case.id, json={"assignee": {"userId": USER, "email": "x@y"}, "note": 1}
    )
    assert got["case"]["assignee"] == {"userId": USER}


@pytest.mark.parametrize(
    "ctype",
    [
        "application/json",
        "application/json; charset=utf-8",
        "APPLICATION/JSON",
        "application/problem+json",
        "text/json",
        "application/vnd.casekeeper+json",
        None,
    ],
)
def test_json_content_types_are_accepted(
    ctype: str | None, rest: Rest, make_case: MakeCase
) -> None:
    case = make_case()
    headers = {"content-type": ctype} if ctype else {}
    body = rest.call(
        "AssignCase",
        case.id,
        content=b'{"assignee": {"userId": "%s"}}' % USER.encode(),
        headers=headers,
    )
    assert body["case"]["assignee"] == {"userId": USER}
