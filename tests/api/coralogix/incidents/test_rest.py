"""Every Incidents REST route over real HTTP, in each path family and under each gateway prefix:
what it answers, how it refuses (400 naming the field, 404 for unknown and other spaces' ids,
401, 403, 405), with every body, success or error, validated against incidents_service.json."""

from __future__ import annotations

import json
from typing import Any

import pytest

from casekeeper.api.coralogix.permissions import OPERATION_PERMISSIONS
from casekeeper.api.coralogix.rest.incident_routes import INCIDENT_ROUTES
from casekeeper.api.coralogix.rest.routes import Body, RouteSpec
from tests.api.coralogix.incidents.conftest import FAMILIES as BY_FAMILY
from tests.api.coralogix.incidents.conftest import (
    UNKNOWN_ID,
    Alerts,
    MakeRest,
    Rest,
    fill,
)

PREFIXES = ["", "/mgmt/openapi", "/mgmt/openapi/latest", "/mgmt/openapi/5"]
FAMILIES = ["spec", "proto", "alt"]
ERROR_CODE = "x-casekeeper-error-code"


def _family(route: RouteSpec) -> str:
    return next(name for name, routes in BY_FAMILY.items() if route in routes)


def _any_params(route: RouteSpec) -> dict[str, str]:
    return dict.fromkeys(("id", "incident_id", "event_id"), UNKNOWN_ID)


def _ids(family: str, rpc: str, ids: list[str]) -> dict[str, Any]:
    """The request's ids as the route takes them: in the body, or in the query string."""
    query = family != "alt" and rpc in ("BatchGetIncident", "UnassignIncidents")
    if rpc == "BatchGetIncident":
        return {"params": {"ids": ids}} if query else {"json": {"ids": ids}}
    return {"params": {"incident_ids": ids}} if query else {"json": {"incidentIds": ids}}


# -- every route, every prefix ---------------------------------------------------------------


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize(
    "route", INCIDENT_ROUTES, ids=[f"{r.method} {r.path}" for r in INCIDENT_ROUTES]
)
def test_every_route_is_served_under_every_prefix(
    route: RouteSpec, prefix: str, make_rest: MakeRest
) -> None:
    """Reached (the handler asks for a key, in the spec's Error shape), not 404."""
    anonymous = make_rest()
    anonymous.key = None
    message = anonymous.error(
        route.rpc,
        401,
        family=_family(route),
        prefix=prefix,
        path_params={k: v for k, v in _any_params(route).items() if "{" + k + "}" in route.path},
    )
    assert "missing API key" in message


@pytest.mark.parametrize(
    "route", INCIDENT_ROUTES, ids=[f"{r.method} {r.path}" for r in INCIDENT_ROUTES]
)
def test_a_key_without_the_permission_is_403(route: RouteSpec, make_rest: MakeRest) -> None:
    needed = OPERATION_PERMISSIONS[route.operation].value
    others = [p for p in ("incidents:read", "incidents:assign", "incidents:acknowledge",
                          "incidents:close", "case:Read") if p != needed]  # fmt: skip
    api = make_rest(*others)
    params = {k: v for k, v in _any_params(route).items() if "{" + k + "}" in route.path}
    message = api.error(route.rpc, 403, family=_family(route), path_params=params)
    assert repr(needed) in message
    assert route.rpc in message


# -- reads --------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("family", ["spec", "alt"])
def test_get_incident(rest: Rest, alerts: Alerts, family: str, prefix: str) -> None:
    fired = alerts.event()
    x = alerts.report(fired)
    body = rest.call("GetIncident", family=family, prefix=prefix, path_params={"id": x.id.upper()})
    got = body["incident"]
    assert got["id"] == x.id
    assert got["state"] == "INCIDENT_STATE_TRIGGERED"
    assert got["status"] == "INCIDENT_STATUS_TRIGGERED"
    assert got["severity"] == "INCIDENT_SEVERITY_ERROR"
    assert got["assignments"] == []
    assert got["contextualLabels"]["alert_id"] == fired.alert_id
    assert got["displayLabels"]["coralogix.metadata.applicationName"] == "shop"
    assert got["metaLabels"] == [{"key": "team", "value": "payments"}]
    assert got["lastStateUpdateKey"] == fired.cx_event_key
    assert got["isMuted"] is False
    assert got["duration"].endswith("s")
    assert "closedAt" not in got
    assert [e["incidentEventType"] for e in got["events"]] == [
        "INCIDENT_EVENT_TYPE_OPEN",
        "INCIDENT_EVENT_TYPE_UPSERT_STATE",
    ]
    assert got["events"][0]["operationalEvent"] == {"systemName": "casekeeper"}
    assert got["events"][0]["upsertState"] == {
        "stateType": "UPSERT_INCIDENT_STATE_TYPE_TRIGGERED",
        "payload": {"cxEventKey": fired.cx_event_key},
    }


@pytest.mark.parametrize("family", ["spec", "alt"])
def test_get_incident_refusals(
    rest: Rest, make_rest: MakeRest, alerts: Alerts, family: str
) -> None:
    x = alerts.fire()
    missing = rest.error("GetIncident", 404, family=family, path_params={"id": UNKNOWN_ID})
    assert UNKNOWN_ID in missing
    stranger = make_rest(space_name="rest-other-space-get")
    stranger.error("GetIncident", 404, family=family, path_params={"id": x.id})
    bad = rest.error("GetIncident", 400, family=family, path_params={"id": "not-a-uuid"})
    assert bad.startswith("id: ")


@pytest.mark.parametrize("family", FAMILIES)
def test_batch_get_incident(rest: Rest, alerts: Alerts, family: str) -> None:
    a, b = alerts.fire(), alerts.fire()
    ids = _ids(family, "BatchGetIncident", [a.id, UNKNOWN_ID, b.id])
    body = rest.call("BatchGetIncident", family=family, **ids)
    assert set(body["incidents"]) == {a.id, b.id}
    assert body["incidents"][a.id]["events"] == []
    assert body["notFoundIds"] == [UNKNOWN_ID]


def test_batch_get_takes_repeated_or_comma_separated_ids(rest: Rest, alerts: Alerts) -> None:
    a, b = alerts.fire(), alerts.fire()
    path = "/incidents/incidents/v1?ids=" + a.id + "&ids=" + b.id
    repeated = rest.request("GET", path)
    rest.reference.validate("BatchGetIncident", repeated)
    assert set(repeated.json()["incidents"]) == {a.id, b.id}
    commas = rest.call("BatchGetIncident", params={"ids": f"{a.id}, {b.id}"})
    assert set(commas["incidents"]) == {a.id, b.id}
    assert rest.error("BatchGetIncident", 400).startswith("ids: ")
    assert rest.error("BatchGetIncident", 400, params={"ids": "x"}).startswith("ids[0]: ")


@pytest.mark.parametrize("family", ["spec", "alt"])
def test_get_incident_events(rest: Rest, alerts: Alerts, family: str) -> None:
    x = alerts.fire()
    rest.call("AcknowledgeIncidents", json={"incidentIds": [x.id]})
    body = rest.call("GetIncidentEvents", family=family, path_params={"incident_id": x.id})
    events = body["incidentEvents"]
    assert [e["incidentEventType"] for e in events] == [
        "INCIDENT_EVENT_TYPE_OPEN",
        "INCIDENT_EVENT_TYPE_UPSERT_STATE",
        "INCIDENT_EVENT_TYPE_ACKNOWLEDGE",
    ]
    assert events[2]["originatorType"] == "ORIGINATOR_TYPE_ADMINISTRATIVE"
    assert set(events[2]) == {
        "id",
        "incidentEventType",
        "originatorType",
        "administrativeEvent",
        "acknowledge",
    }
    who = events[2]["administrativeEvent"]["userId"]
    assert events[2]["acknowledge"] == {"acknowledgedBy": {"userId": who}}
    rest.error("GetIncidentEvents", 404, family=family, path_params={"incident_id": UNKNOWN_ID})


# -- changes ------------------------------------------------------------------------------------


@pytest.mark.parametrize("family", FAMILIES)
def test_assign_and_unassign(rest: Rest, alerts: Alerts, family: str) -> None:
    x = alerts.fire()
    body = rest.call(
        "AssignIncidents",
        family=family,
        json={"incidentIds": [x.id], "assignedTo": {"userId": "ana@example.com"}},
    )
    (got,) = body["incidents"]
    assert got["assignments"][0]["assignedTo"] == {"userId": "ana@example.com"}
    body = rest.call("UnassignIncidents", family=family, **_ids(family, "UnassignIncidents",
                                                                 [x.id]))  # fmt: skip
    assert body["incidents"][0]["assignments"] == []


@pytest.mark.parametrize("family", FAMILIES)
def test_acknowledge_resolve_close(rest: Rest, alerts: Alerts, family: str) -> None:
    x = alerts.fire()
    ids = {"json": {"incidentIds": [x.id]}}
    acked = rest.call("AcknowledgeIncidents", family=family, **ids)["incidents"][0]
    assert acked["status"] == "INCIDENT_STATUS_ACKNOWLEDGED"
    resolved = rest.call("ResolveIncidents", family=family, **ids)["incidents"][0]
    assert (resolved["state"], resolved["status"]) == (
        "INCIDENT_STATE_RESOLVED",
        "INCIDENT_STATUS_RESOLVED",
    )
    closed = rest.call("CloseIncidents", family=family, **ids)["incidents"][0]
    assert "closedAt" in closed
    again = rest.call("CloseIncidents", family=family, **ids)["incidents"][0]
    assert again["closedAt"] == closed["closedAt"]
    assert again["duration"] == closed["duration"]


def test_acknowledging_a_resolved_incident_is_a_400_failed_precondition(
    rest: Rest, alerts: Alerts
) -> None:
    x = alerts.fire()
    rest.call("ResolveIncidents", json={"incidentIds": [x.id]})
    response = rest.exchange("AcknowledgeIncidents", expect=400, json={"incidentIds": [x.id]})
    assert response.headers[ERROR_CODE] == "incident.invalid_transition"
    assert "resolved" in response.json()["message"]


@pytest.mark.parametrize(
    "rpc", ["AcknowledgeIncidents", "CloseIncidents", "ResolveIncidents", "AssignIncidents"]
)
@pytest.mark.parametrize("family", ["spec", "alt"])
def test_change_refusals_name_the_field(rest: Rest, rpc: str, family: str) -> None:
    to = {"assignedTo": {"userId": "ana@example.com"}} if rpc == "AssignIncidents" else {}
    none = rest.error(rpc, 400, family=family, json={**to})
    assert none.startswith("incidentIds: ")
    many = rest.error(rpc, 400, family=family, json={**to, "incidentIds": [UNKNOWN_ID] * 10_001})
    assert many.startswith("incidentIds: ")
    assert "10000" in many
    unknown = rest.error(rpc, 404, family=family, json={**to, "incidentIds": [UNKNOWN_ID]})
    assert UNKNOWN_ID in unknown
    wrong = rest.error(rpc, 400, family=family, json={**to, "incidentIds": "x"})
    assert wrong.startswith("incidentIds")
    garbage = rest.error(rpc, 400, family=family, content=b"{not json", headers={
        "content-type": "application/json"})  # fmt: skip
    assert "JSON" in garbage


def test_another_spaces_incident_is_404_everywhere(make_rest: MakeRest, alerts: Alerts) -> None:
    fired = alerts.event()
    x = alerts.report(fired)
    stranger = make_rest(space_name="rest-other-space-all")
    for rpc in ("AcknowledgeIncidents", "CloseIncidents", "ResolveIncidents"):
        stranger.error(rpc, 404, json={"incidentIds": [x.id]})
    stranger.error(
        "AssignIncidents", 404, json={"incidentIds": [x.id], "assignedTo": {"userId": "a@b.c"}}
    )
    stranger.error("UnassignIncidents", 404, params={"incident_ids": x.id})
    stranger.error("GetIncident", 404, path_params={"id": x.id})
    stranger.error("GetIncidentEvents", 404, path_params={"incident_id": x.id})
    for rpc in ("GetIncidentByEventId", "AcknowledgeIncidentByEventId", "ResolveIncidentByEventId"):
        stranger.error(rpc, 404, path_params={"event_id": fired.cx_event_key})
    body = stranger.call("BatchGetIncident", params={"ids": x.id})
    assert body == {"incidents": {}, "notFoundIds": [x.id]}


# -- by alert event -------------------------------------------------------------------------------


@pytest.mark.parametrize("family", FAMILIES)
def test_by_event_id(rest: Rest, alerts: Alerts, family: str) -> None:
    fired = alerts.event()
    x = alerts.report(fired)
    key = {"event_id": fired.cx_event_key}
    got = rest.call("GetIncidentByEventId", family=family, path_params=key)["incident"]
    assert got["id"] == x.id
    acked = rest.call("AcknowledgeIncidentByEventId", family=family, path_params=key)
    assert acked["incident"]["status"] == "INCIDENT_STATUS_ACKNOWLEDGED"
    resolved = rest.call("ResolveIncidentByEventId", family=family, path_params=key, json={})
    assert resolved["incident"]["status"] == "INCIDENT_STATUS_RESOLVED"
    for rpc in ("GetIncidentByEventId", "AcknowledgeIncidentByEventId", "ResolveIncidentByEventId"):
        message = rest.error(rpc, 404, family=family, path_params={"event_id": "no-such-key"})
        assert "'no-such-key'" in message


# -- routing --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "rpc"),
    [
        ("/incidents/incidents/v1/batch", "BatchGetIncident"),
        ("/incidents/incidents/v1/aggregations", "ListIncidentAggregations"),
        ("/incidents/incidents/v1/events", "ListIncidentEvents"),
        ("/incidents/incidents/v1/events/count", "ListIncidentEventsTotalCount"),
        ("/incidents/incidents/v1/events/filter-values", "ListIncidentEventsFilterValues"),
    ],
)
def test_literal_segments_win_over_the_id(rest: Rest, path: str, rpc: str) -> None:
    """Each literal reaches its operation (which wants its input), never GetIncident's
    "not a UUID"."""
    response = rest.request("GET", path, params={"filter": "not json"})
    rest.reference.validate(rpc, response)
    assert "is not an incident UUID" not in response.text
    assert response.status_code in (200, 400), response.text


def test_wrong_method_is_405_in_the_error_shape(rest: Rest) -> None:
    response = rest.request("PUT", f"/incidents/incidents/v1/{UNKNOWN_ID}")
    assert response.status_code == 405
    assert response.json() == {"code": 405, "message": "method not allowed for this path"}
    assert set(response.headers["allow"].replace(" ", "").split(",")) >= {"GET"}


@pytest.mark.parametrize(
    "path", ["/v1/incidents:nope", "/incidents/nope/v1", "/mgmt/openapi/latest/v1/incidents:x"]
)
def test_unknown_paths_are_404_json(rest: Rest, path: str) -> None:
    response = rest.request("POST", path)
    assert response.status_code == 404
    assert response.json() == {"code": 404, "message": "no such path"}


# -- lenient input ---------------------------------------------------------------------------------


def test_wrappers_and_snake_case_are_accepted(rest: Rest, alerts: Alerts) -> None:
    x = alerts.fire()
    body = rest.call(
        "AssignIncidents",
        json={
            "incident_ids": [{"value": x.id}],
            "assigned_to": {"user_id": {"value": "ana@example.com"}},
        },
    )
    assert body["incidents"][0]["assignments"][0]["assignedTo"] == {"userId": "ana@example.com"}


def test_a_bad_enum_is_400_naming_the_field(rest: Rest) -> None:
    message = rest.error("ListIncidents", 400, json={"filter": {"status": ["INCIDENT_STATUS_NO"]}})
    assert message.startswith("filter.status")
    message = rest.error(
        "ListIncidentEvents",
        400,
        params={"filter": json.dumps({"severity": ["LOUD"]})},
    )
    assert message.startswith("filter.severity")
    message = rest.error(
        "ListIncidentAggregations",
        400,
        params={"group_bys": json.dumps([{"incidentField": "INCIDENTS_FIELDS_SHOE_SIZE"}])},
    )
    assert message.startswith("groupBys.incidentField: ")


def test_query_values_that_are_no_json_are_400(rest: Rest) -> None:
    message = rest.error("ListIncidentEvents", 400, params={"filter": "{status"})
    assert message.startswith("filter: ")
    message = rest.error("ListIncidentEvents", 400, params={"filter.isMuted": "maybe"})
    assert message.startswith("filter.isMuted: ")


def test_a_body_where_none_is_expected_is_ignored_but_must_be_json(rest: Rest) -> None:
    body: dict[str, Any] = {"eventId": "from-the-body"}
    message = rest.error(
        "ResolveIncidentByEventId", 404, path_params={"event_id": "from-the-path"}, json=body
    )
    assert "'from-the-path'" in message  # the path wins


def test_body_kinds_of_the_routes() -> None:
    """GETs and the spec's DELETE read the query string; the protos' bindings take JSON."""
    for route in INCIDENT_ROUTES:
        if route.method in ("GET", "DELETE"):
            assert route.body in (Body.QUERY, Body.NONE), route
        else:
            assert route.body in (Body.JSON, Body.OPTIONAL_JSON), route
        assert fill(route.path, id="x", incident_id="x", event_id="x").count("{") == 0


@pytest.mark.parametrize(
    "path", ["/incidents/incidents/v1/acknowledge", "/incidents/incidents/v1/by-user"]
)
def test_a_literal_path_with_another_method_is_405_not_an_id(rest: Rest, path: str) -> None:
    response = rest.request("GET", path)
    assert response.status_code == 405, response.text
    assert response.json() == {"code": 405, "message": "method not allowed for this path"}


def test_query_id_lists_are_bounded_by_the_request_line(rest: Rest) -> None:
    ids = ",".join([UNKNOWN_ID] * 1001)
    message = rest.error("BatchGetIncident", 400, params={"ids": ids})
    assert message.startswith("ids: at most 1000 ids in a query string")
    message = rest.error("UnassignIncidents", 400, params={"incident_ids": ids})
    assert message.startswith("incidentIds: at most 1000")


def test_a_request_line_over_64_kib_is_a_json_400(rest: Rest, base_url: str) -> None:
    import socket
    from urllib.parse import urlsplit

    where = urlsplit(base_url)
    line = f"GET /incidents/events/v1?filter={'x' * 70_000} HTTP/1.1\r\nHost: t\r\n\r\n"
    with socket.create_connection((where.hostname or "", where.port or 80), timeout=10) as s:
        s.sendall(line.encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert b"content-type: application/json" in head.lower()
    got = json.loads(body)
    assert got["code"] == 400
    assert "64 KiB" in got["message"]
