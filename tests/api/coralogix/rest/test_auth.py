"""Authentication and authorization over REST: ``Authorization: Bearer <key>``, the spec's Error
body for 401/403, and the one permission table shared with gRPC."""

from __future__ import annotations

import pytest

from casekeeper.api.coralogix.cases import CASES_OPERATIONS, EVENTS_OPERATIONS
from casekeeper.api.coralogix.permissions import CASES, EVENTS, OPERATION_PERMISSIONS
from casekeeper.api.coralogix.rest.routes import ROUTES, RouteSpec
from casekeeper.bootstrap import Container
from casekeeper.proto.com.coralogixapis.cases.v1 import (
    case_events_service_pb2,
    cases_service_pb2,
)
from casekeeper.service.auth import OPERATOR
from tests.api.coralogix.rest.conftest import (
    UNKNOWN_UUID,
    MakeRest,
    Rest,
    bulk_failures,
    error_message,
)
from tests.api.coralogix.rest.test_conformance import _kw
from tests.conftest import MakeCase, MakeKey


def _service_rpcs() -> set[str]:
    cases = cases_service_pb2.DESCRIPTOR.services_by_name["CasesService"]
    events = case_events_service_pb2.DESCRIPTOR.services_by_name["CaseEventsService"]
    return {CASES + m.name for m in cases.methods} | {EVENTS + m.name for m in events.methods}


def test_every_route_names_an_entry_of_the_permission_table() -> None:
    for route in ROUTES:
        assert route.operation in OPERATION_PERMISSIONS, route
        assert route.service in (CASES, EVENTS), route


def test_every_cases_and_events_rpc_has_exactly_one_rest_route() -> None:
    rpcs = _service_rpcs()
    assert len(rpcs) == 28
    routed = [r.operation for r in ROUTES]
    assert sorted(routed) == sorted(rpcs)
    table = {op for op in OPERATION_PERMISSIONS if op.startswith((CASES, EVENTS))}
    assert table == rpcs
    assert set(CASES_OPERATIONS) | set(EVENTS_OPERATIONS) == {r.rpc for r in ROUTES}


@pytest.mark.parametrize("route", ROUTES, ids=[r.rpc for r in ROUTES])
def test_a_key_with_only_the_needed_permission_passes(
    route: RouteSpec, make_rest: MakeRest
) -> None:
    api = make_rest(OPERATION_PERMISSIONS[route.operation].value)
    response = api.raw(route.rpc, UNKNOWN_UUID, **_kw(route))
    assert response.status_code not in (401, 403), response.text
    api.check(route.rpc, response, response.status_code)


@pytest.mark.parametrize(
    "header",
    ["Bearer {key}", "bearer {key}", "BEARER   {key}", "{key}"],
    ids=["Bearer", "lowercase", "spaces", "bare key"],
)
def test_authorization_header_forms(header: str, rest: Rest, make_case: MakeCase) -> None:
    case = make_case()
    response = rest.http.get(
        f"/cases/cases/v1/{case.id}", headers={"authorization": header.format(key=rest.key)}
    )
    assert rest.check("GetCase", response, 200)["case"]["id"] == case.id


@pytest.mark.parametrize(
    ("header", "needle"),
    [
        (None, "missing API key"),
        ("", "missing API key"),
        ("Bearer", "invalid API key"),
        ("Basic dXNlcjpwYXNz", "invalid API key"),
        ("Bearer ck_12345678_wrongsecret", "invalid API key"),
        ("Bearer ck_short_secret", "invalid API key"),
        ("Bearer ☃".encode(), "invalid API key"),
    ],
)
def test_bad_credentials_are_401(header: str | bytes | None, needle: str, rest: Rest) -> None:
    headers = {} if header is None else {"authorization": header}
    # A bytes value under a str name on purpose (httpx sends it; its types keep the two apart).
    response = rest.http.get("/cases/grouping-keys/v1", headers=headers)  # type: ignore[arg-type]
    body = rest.check("GetGroupingKeys", response, 401)
    assert needle in error_message(body, 401)
    assert response.headers["www-authenticate"] == "Bearer"


def test_key_of_another_secret_with_the_same_prefix_is_401(rest: Rest) -> None:
    assert rest.key is not None
    forged = rest.key[:-4] + ("AAAA" if not rest.key.endswith("AAAA") else "BBBB")
    response = rest.http.get(
        "/cases/grouping-keys/v1", headers={"authorization": f"Bearer {forged}"}
    )
    assert error_message(rest.check("GetGroupingKeys", response, 401), 401) == "invalid API key"


def test_revoked_key_is_401(container: Container, make_rest: MakeRest) -> None:
    api = make_rest()
    api.call("GetGroupingKeys")
    assert api.principal is not None
    container.keys.revoke(OPERATOR, api.principal.key_id)
    body = api.call("GetGroupingKeys", expect=401)
    assert "revoked" in error_message(body, 401)


def test_403_names_the_permission_and_operation(make_rest: MakeRest, make_case: MakeCase) -> None:
    case = make_case()
    reader = make_rest("case:Read")
    assert reader.call("GetCase", case.id)["case"]["id"] == case.id
    body = reader.call("CloseCase", case.id, expect=403)
    assert error_message(body, 403) == (
        "this API key lacks the permission 'case:Close' needed for CloseCase"
    )
    body = reader.call("BulkClose", json={"ids": [case.id]}, expect=403)
    assert "'case:Close'" in error_message(body, 403)
    assert reader.call("GetCase", case.id)["case"]["status"] == "CASE_STATUS_ACTIVE"


def test_permission_names_are_case_insensitive(make_key: MakeKey, rest: Rest) -> None:
    key, _ = make_key("CASE:READ")
    api = Rest(rest.http, key, None, rest.reference)
    assert api.call("GetGroupingKeys") == {"groupingKeys": []}


def test_spaces_are_isolated(make_rest: MakeRest, make_case: MakeCase, space: str) -> None:
    case = make_case()
    stranger = make_rest(space_name=space + "-other")
    body = stranger.call("GetCase", case.id, expect=404)
    assert case.id in error_message(body, 404)
    stranger.call("GetCase", f"CASE-{case.number}", expect=404)
    stranger.call("ListEvents", case.id, expect=404)
    assert stranger.call("ListCases", json={}) == {
        "cases": [],
        "pagination": {},
        "pbacTruncated": False,
    }
    response = stranger.exchange("BulkClose", json={"ids": [case.id]})
    assert response.json() == {"cases": []}
    assert [f["code"] for f in bulk_failures(response)] == ["NOT_FOUND"]
    owner = make_rest()
    assert owner.call("GetCase", case.id)["case"]["status"] == "CASE_STATUS_ACTIVE"
