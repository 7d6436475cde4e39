"""Errors over REST: validation failures name the field, malformed JSON is 400, a wrong content
type 415, an oversized body 413, unknown paths a JSON 404, and no input is ever a 500. Every
error body is the spec's ``Error`` ``{code, message}``, validated against the reference."""

from __future__ import annotations

import json
import os
import re
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from casekeeper.api.coralogix.permissions import CASES
from casekeeper.api.coralogix.rest import handler
from casekeeper.api.http.app import create_app
from casekeeper.bootstrap import Container
from tests.api.coralogix.rest.conftest import (
    STARTED_AT,
    TIMEOUT,
    USER,
    MakeRest,
    ReferenceSpec,
    Rest,
    RunningServer,
    bulk_failures,
    error_message,
    serve_app,
)
from tests.conftest import MakeCase

# -- malformed JSON and wrong types ------------------------------------------------------------

MALFORMED = [
    b"{bad",
    b'{"assignee": {"userId": "x"}',
    b"[]",
    b'"just a string"',
    b"42",
    b"true",
    b"\xff\xfe",
    b'\xef\xbb\xbf{"a": 1}',
    b'{"text": "\\ud800"}',
    b"{'single': 'quotes'}",
    b'{"a": NaN}',
    b"[" * 5000 + b"]" * 5000,
]


@pytest.mark.parametrize("raw", MALFORMED, ids=[repr(m[:20]) for m in MALFORMED])
@pytest.mark.parametrize(
    "rpc", ["AssignCase", "ListCases", "CreateComment", "ResolveCase", "BulkClose"]
)
def test_malformed_json_is_400(rpc: str, raw: bytes, rest: Rest, make_case: MakeCase) -> None:
    case = make_case()
    body = rest.call(
        rpc, case.id, content=raw, headers={"content-type": "application/json"}, expect=400
    )
    message = error_message(body, 400)
    assert "JSON" in message or "body" in message


@pytest.mark.parametrize(
    ("rpc", "payload", "field"),
    [
        ("ListCases", {"pagination": {"pageSize": "abc"}}, "pagination.pageSize"),
        ("ListCases", {"pagination": {"pageSize": -1}}, "pagination.pageSize"),
        ("ListCases", {"pagination": {"skip": 10**12}}, "pagination.skip"),
        ("ListCases", {"filters": {"priorities": ["CASE_PRIORITY_P9"]}}, "filters.priorities"),
        ("ListCases", {"filters": {"statuses": [99]}}, "filters.statuses"),
        ("ListCases", {"filters": {"dateRange": {"from": "yesterday"}}}, "filters.dateRange.from"),
        ("ListCases", {"filters": {"labels": [{"key": "k", "values": []}]}}, "filters.labels"),
        (
            "ListCases",
            {"filters": {"labels": [{"key": " ", "values": ["v"]}]}},
            "filters.labels.key",
        ),
        ("ListCases", {"filters": {"assignees": [{}]}}, "filters.assignees"),
        ("ListCases", {"filters": {"impactedEntities": [{}]}}, "filters.impactedEntities"),
        ("ListCases", {"orderBy": {"field": 99}}, "orderBy.field"),
        ("GetFilterValues", {"filters": {"categories": ["NOPE"]}}, "filters.categories"),
        ("AssignCase", {"assignee": {"userId": 5}}, "assignee.userId"),
        ("AssignCase", {"assignee": {"userId": "not-a-uuid"}}, "assignee.userId"),
        ("SetPriorityOverride", {"priority": "1"}, "priority"),
        ("SetPriorityOverride", {"priority": 2**70}, "priority"),
        ("UpdateCase", {"title": 1}, "patch.title"),
        ("UpdateCase", {"title": ["a"]}, "patch.title"),
        ("UpdateCase", {"resolutionReason": "  "}, "patch.resolutionReason"),
        ("ResolveCase", {"reason": ""}, "reason"),
        ("ResolveCase", {"reason": 7}, "reason"),
        ("BulkClose", {"ids": "CASE-1"}, "ids"),
        ("BulkClose", {"ids": [1, 2]}, "ids"),
        ("BulkClose", {"ids": [None]}, "ids"),
        ("BulkClose", {}, "ids"),
        ("BulkAcknowledge", {"ids": ["CASE-1"], "actor": []}, "actor"),
        (
            "BulkSetPriorityOverride",
            {"ids": ["CASE-1"], "priority": "CASE_PRIORITY_UNSPECIFIED"},
            "priority",
        ),
        ("GetCaseByIndicator", {}, "prometheusAlert"),
        (
            "GetCaseByIndicator",
            {"prometheusAlert": {"fingerprint": "", "startedAt": STARTED_AT}},
            "prometheusAlert.fingerprint",
        ),
        (
            "GetCaseByIndicator",
            {"prometheusAlert": {"fingerprint": "f" * 257, "startedAt": STARTED_AT}},
            "prometheusAlert.fingerprint",
        ),
        ("CreateComment", {}, "text"),
        ("CreateComment", {"text": "x", "attachments": [{"log": {}, "file": {}}]}, "attachments"),
        (
            "CreateComment",
            {"text": "x", "attachments": [{"log": {"logTimestamp": "bad"}}]},
            "logTimestamp",
        ),
        ("CreateComment", {"text": "x", "attachments": "no"}, "attachments"),
        (
            "SyncExternalCaseEvents",
            {"messages": [{"externalId": "", "text": "y"}]},
            "messages.externalId",
        ),
        (
            "SyncExternalCaseEvents",
            {"messages": [{"externalId": "x", "text": "y", "eventTime": "soon"}]},
            "eventTime",
        ),
    ],
)
def test_validation_failure_is_400_naming_the_field(
    rpc: str, payload: dict[str, Any], field: str, rest: Rest, make_case: MakeCase
) -> None:
    case = make_case()
    if rpc == "UpdateCase":
        rest.call("ResolveCase", case.id)  # so that a resolution reason may be patched
    body = rest.call(rpc, case.id, json=payload, expect=400)
    assert field in error_message(body, 400)


def test_invalid_transitions_are_400_naming_the_status(rest: Rest, make_case: MakeCase) -> None:
    case = make_case()
    ident = f"CASE-{case.number}"
    rest.call("ResolveCase", ident)
    for rpc in ("AcknowledgeCase", "UnacknowledgeCase"):
        message = error_message(rest.call(rpc, ident, expect=400), 400)
        assert message.startswith(
            f"cannot {rpc[:-4].lower()} case {ident} in status CASE_STATUS_RESOLVED"
        )
    rest.call("CloseCase", ident)
    calls: list[tuple[str, dict[str, Any]]] = [
        ("ResolveCase", {}),
        ("AcknowledgeCase", {}),
        ("AssignCase", {"json": {"assignee": {"userId": USER}}}),
        ("SetPriorityOverride", {"json": {"priority": 1}}),
    ]
    for rpc, kw in calls:
        message = error_message(rest.call(rpc, ident, expect=400, **kw), 400)
        assert "CASE_STATUS_CLOSED" in message
        assert "a closed case is final" in message


# -- content type ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ctype",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "application/jsonp",
        "image/png",
    ],
)
@pytest.mark.parametrize(
    "rpc", ["AssignCase", "ListCases", "AcknowledgeCase", "SyncExternalCaseEvents"]
)
def test_wrong_content_type_is_415(rpc: str, ctype: str, rest: Rest, make_case: MakeCase) -> None:
    case = make_case()
    raw = json.dumps({"assignee": {"userId": USER}}).encode()
    body = rest.call(rpc, case.id, content=raw, headers={"content-type": ctype}, expect=415)
    message = error_message(body, 415)
    assert ctype.split(";")[0] in message
    assert "application/json" in message
    assert rest.call("GetCase", case.id)["case"].get("assignee") is None


def test_an_empty_body_needs_no_content_type(rest: Rest, make_case: MakeCase) -> None:
    case = make_case()
    body = rest.call(
        "AcknowledgeCase", case.id, content=b"", headers={"content-type": "text/plain"}
    )
    assert body["case"]["status"] == "CASE_STATUS_ACKNOWLEDGED"


# -- body size ---------------------------------------------------------------------------------

LIMIT = 512


@pytest.fixture(scope="module")
def small(container: Container) -> Iterator[RunningServer]:
    with serve_app(create_app(container, max_body=LIMIT)) as running:
        yield running


@pytest.fixture
def small_rest(small: RunningServer, rest: Rest) -> Iterator[Rest]:
    with httpx.Client(base_url=small.url, timeout=TIMEOUT) as c:
        yield Rest(c, rest.key, rest.principal, rest.reference)


def test_body_at_the_limit_is_accepted(small_rest: Rest, make_case: MakeCase) -> None:
    case = make_case()
    raw = json.dumps({"text": "x" * (LIMIT - 12)}).encode()
    assert len(raw) == LIMIT
    small_rest.call(
        "CreateComment", case.id, content=raw, headers={"content-type": "application/json"}
    )


@pytest.mark.parametrize(
    "chunked",
    [
        False,
        True,
    ],
    ids=["content-length", "chunked"],
)
def test_body_over_the_limit_is_413(chunked: bool, small_rest: Rest, make_case: MakeCase) -> None:
    case = make_case()
    raw = json.dumps({"text": "x" * LIMIT}).encode()
    content: Any = iter([raw[:100], raw[100:]]) if chunked else raw
    response = small_rest.raw(
        "CreateComment",
        case.id,
        content=content,
        headers={"content-type": "application/json", "x-request-id": "big-1"},
    )
    body = small_rest.check("CreateComment", response, 413)
    assert error_message(body, 413) == f"request body over {LIMIT} bytes"
    assert response.headers["x-request-id"] == "big-1"
    assert small_rest.call("ListEvents", case.id)["events"][-1]["eventData"].get("comment") is None


def test_declared_length_over_the_limit_is_413_before_auth(
    small: RunningServer, reference: ReferenceSpec
) -> None:
    with httpx.Client(base_url=small.url, timeout=TIMEOUT) as c:
        response = c.post("/cases/cases/v1", content=b"{" + b" " * LIMIT + b"}")
    assert response.status_code == 413
    reference.validate("ListCases", response)


def test_the_default_limit_is_4_mib(rest: Rest, make_case: MakeCase) -> None:
    case = make_case()
    raw = b'{"text": "hi", "pad": "' + b"x" * (4 * 1024 * 1024) + b'"}'
    body = rest.call(
        "CreateComment",
        case.id,
        content=raw,
        headers={"content-type": "application/json"},
        expect=413,
    )
    assert "4194304" in error_message(body, 413)


# -- never a 500 -------------------------------------------------------------------------------

HOSTILE: list[tuple[str, str, Any]] = [
    ("GET", "/cases/cases/v1/%E2%9C%93", None),
    ("GET", "/cases/cases/v1/%00", None),
    ("GET", "/cases/cases/v1/CASE-99999999999999999999999", None),
    ("GET", "/cases/cases/v1/CASE-9223372036854775808", None),
    ("GET", "/cases/cases/v1/CASE-0", None),
    ("GET", "/cases/cases/v1/CASE--1", None),
    ("GET", "/cases/cases/v1/" + "A" * 10000, None),
    ("GET", "/cases/cases/v1/..%2F..%2Fetc", None),
    ("GET", "/cases/events/v1/%E2%9C%93", None),
    ("GET", "/cases/events/v1/00000000-0000-0000-0000-00000000000G", None),
    ("DELETE", "/cases/assigned/v1?ids=CASE-99999999999999999999999", None),
    ("DELETE", "/cases/priority-override/v1?other=1", None),
    ("DELETE", "/cases/priority-override/v1?ids=" + ",".join(["CASE-1"] * 1001), None),
    ("POST", "/cases/closed/v1", {"ids": ["CASE-99999999999999999999999"]}),
    ("POST", "/cases/closed/v1", {"ids": ["é"]}),
    ("POST", "/cases/closed/v1", {"ids": ["00000000-0000-0000-0000-000000000000"] * 1000}),
    (
        "POST",
        "/cases/cases/v1",
        {"filters": {"dateRange": {"from": "0001-01-01T00:00:00Z", "to": "9999-12-31T23:59:59Z"}}},
    ),
    ("POST", "/cases/cases/v1", {"filters": {"dateRange": {"from": {"seconds": "abc"}}}}),
    (
        "POST",
        "/cases/cases/v1",
        {"filters": {"dateRange": {"from": {"seconds": -62135596801}, "to": STARTED_AT}}},
    ),
    (
        "POST",
        "/cases/cases/v1",
        {"filters": {"dateRange": {"from": {"seconds": 253402300800}, "to": STARTED_AT}}},
    ),
    ("POST", "/cases/cases/v1", {"filters": {"dateRange": {"mode": 7}}}),
    ("POST", "/cases/cases/v1", {"filters": {"textSearch": "%_\\'\"; DROP TABLE case; --"}}),
    ("POST", "/cases/cases/v1", {"pagination": {"pageToken": "x" * 5000}}),
    ("POST", "/cases/cases/v1", {"pagination": {"pageToken": "MjAyNi0wMS0wMVQwMDowMDowMFosYWJj"}}),
    ("POST", "/cases/cases/v1", {"pagination": {"skip": 2**63}}),
    (
        "POST",
        "/cases/cases/v1",
        {"filters": {"labels": [{"key": "k" * 5000, "values": ["v" * 5000]}]}},
    ),
    (
        "POST",
        "/cases/filter-values/v1",
        {
            "filters": {
                "labels": [{"key": "team", "values": ["a"]}],
                "groupings": [{"key": "s", "values": ["b"]}],
            }
        },
    ),
    (
        "POST",
        "/cases/filter-values/v1",
        {
            "filters": {
                "alertFilters": {"alertIds": ["x"], "alertVersions": ["y"]},
                "caseLabelsFilter": {"flatLabels": [{"key": "k", "value": "v"}]},
            }
        },
    ),
    (
        "POST",
        "/cases/indicators/v1/get",
        {"prometheusAlert": {"fingerprint": "x", "startedAt": "9999-12-31T23:59:59Z"}},
    ),
    (
        "POST",
        "/cases/indicators/v1/get",
        {"prometheusAlert": {"fingerprint": "x", "startedAt": {"seconds": -(10**12)}}},
    ),
    ("POST", "/cases/indicators/v1/get", {"prometheusAlert": []}),
    (
        "POST",
        "/cases/cases/v1/CASE-1/sync-external-thread-comments",
        {"messages": [{"externalId": "x", "text": "y", "eventTime": {"seconds": -(10**15)}}]},
    ),
    (
        "POST",
        "/cases/cases/v1/CASE-1/sync-external-thread-comments",
        {"messages": [{"externalId": "s", "text": "y", "slack": {}, "actor": {}}]},
    ),
    ("POST", "/cases/cases/v1/CASE-1/sync-external-thread-comments", {"messages": [{}] * 3}),
    ("POST", "/cases/cases/v1/CASE-1/comments", {"text": "\u0000"}),
    (
        "POST",
        "/cases/cases/v1/CASE-1/comments",
        {"text": "x", "text_": "y", "attachments": [None, {"log": None}]},
    ),
    ("PUT", "/cases/cases/v1/CASE-1", {"title": "x" * 100000}),
    ("PUT", "/cases/cases/v1/CASE-1", {"title": "\u202e\ufeff"}),
    ("POST", "/cases/assigned/v1/CASE-1", {"assignee": "x"}),
    ("PUT", "/cases/priority-override/v1/CASE-1", {"priority": True}),
    ("PUT", "/cases/priority-override/v1/CASE-1", {"priority": {"value": {"value": 1}}}),
    ("POST", "/cases/cases/v1", {"a": [[[[[[[[]]]]]]]], "filters": {"statuses": [[1]]}}),
]


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    HOSTILE,
    ids=[f"{m} {p[:60]} {str(b)[:40]}" for m, p, b in HOSTILE],
)
def test_hostile_input_is_never_a_500(
    method: str, path: str, payload: Any, rest: Rest, make_case: MakeCase, reference: ReferenceSpec
) -> None:
    make_case(**({"labels": {"team": "a"}} if "filter-values" in path else {}))
    response = rest.request(method, path, **({} if payload is None else {"json": payload}))
    assert response.status_code < 500, response.text
    rpc = _rpc_of(method, path)
    if rpc is not None:
        reference.validate(rpc, response)
    else:
        error_message(response.json(), response.status_code)


def _rpc_of(method: str, path: str) -> str | None:
    from casekeeper.api.coralogix.rest.routes import ROUTES

    bare = path.split("?")[0]
    for route in ROUTES:
        parts, want = route.path.split("/"), bare.split("/")
        if (
            route.method == method
            and len(parts) == len(want)
            and all(p == w or p.startswith("{") for p, w in zip(parts, want, strict=True))
        ):
            return route.rpc
    return None


@pytest.mark.parametrize("how", ["body", "query"])
def test_non_latin1_bulk_id_is_a_reported_failure(
    how: str, rest: Rest, make_case: MakeCase
) -> None:
    case = make_case()
    if how == "body":
        response = rest.raw("BulkClose", json={"ids": [case.id, "✓"]})
    else:
        response = rest.raw("BulkUnassign", params={"ids": f"{case.id},✓"})
    assert response.status_code == 200, response.text
    assert [f["code"] for f in bulk_failures(response)] == ["INVALID_ARGUMENT"]


@pytest.mark.parametrize(
    ("rpc", "payload"),
    [
        ("ListCases", {"filters": {"dateRange": {"from": {"seconds": 10**20}, "to": STARTED_AT}}}),
        (
            "GetCaseByIndicator",
            {"prometheusAlert": {"fingerprint": "x", "startedAt": {"seconds": 1e300}}},
        ),
    ],
)
def test_huge_seconds_timestamp_is_400(rpc: str, payload: dict[str, Any], own_rest: Rest) -> None:
    rest = own_rest
    body = rest.call(rpc, json=payload, expect=400)
    message = error_message(body, 400)
    assert ("dateRange.from" in message) or ("startedAt" in message), message


def test_bulk_failures_header_is_capped_and_counted(rest: Rest, make_case: MakeCase) -> None:
    """1000 failing ids: the header stays small enough for every HTTP client (h11 refuses
    100 KiB, http.client 64 KiB) and the total says how many failed."""
    case = make_case()
    ids = [case.id] + [f"BAD_{i:04d}_" + "z" * 50 for i in range(999)]
    response = rest.exchange("BulkClose", json={"ids": ids})
    assert [c["id"] for c in response.json()["cases"]] == [case.id]
    header = response.headers["x-casekeeper-bulk-failures"]
    assert len(header) <= 8 * 1024
    listed = bulk_failures(response)
    assert 0 < len(listed) < 999
    assert [f["id"] for f in listed] == ids[1 : len(listed) + 1]
    assert response.headers["x-casekeeper-bulk-failures-total"] == "999"


@pytest.mark.parametrize(
    ("rpc", "payload", "field"),
    [
        ("ListCases", {"filters": "everything"}, "filters"),
        ("ListCases", {"orderBy": "createTime"}, "orderBy"),
        ("GetFilterValues", {"filters": "none"}, "filters"),
    ],
)
def test_a_scalar_for_an_object_is_400(
    rpc: str, payload: dict[str, Any], field: str, rest: Rest, make_case: MakeCase
) -> None:
    case = make_case()
    body = rest.call(rpc, case.id, json=payload, expect=400)
    assert field in error_message(body, 400)


def test_a_fractional_enum_number_is_400(rest: Rest, make_case: MakeCase) -> None:
    case = make_case()
    body = rest.call("SetPriorityOverride", case.id, json={"priority": 1.5}, expect=400)
    assert "priority" in error_message(body, 400)


@pytest.mark.parametrize(
    "attachment",
    [
        {"file": {"fileId": "zz", "fileName": "a.txt", "isDeleted": True}},
        {"file": {"fileId": "3f2504e0-4f89-11d3-9a0c-0305e82c3301", "isDeleted": True}},
        {"log": {"logId": "nope", "logTimestamp": STARTED_AT, "logContent": "x"}},
    ],
)
def test_invalid_attachment_is_400(
    attachment: dict[str, Any], rest: Rest, make_case: MakeCase
) -> None:
    case = make_case()
    body = rest.call(
        "CreateComment", case.id, json={"text": "x", "attachments": [attachment]}, expect=400
    )
    assert "attachments[0]" in error_message(body, 400)


ON_POSTGRES = os.environ.get("CASEKEEPER_TEST_DATABASE_URL", "").startswith("postgres")
NUL = "a\u0000b"


def _pg_bug(*values: Any) -> Any:
    return pytest.param(*values)


@pytest.mark.parametrize(
    ("rpc", "payload"),
    [
        _pg_bug("UpdateCase", {"title": NUL}),
        _pg_bug("ResolveCase", {"reason": NUL}),
        _pg_bug("ListCases", {"filters": {"textSearch": NUL}}),
        _pg_bug("ListCases", {"filters": {"labels": [{"key": NUL, "values": [NUL]}]}}),
        _pg_bug("ListCases", {"filters": {"assignees": [{"assignee": NUL}]}}),
        _pg_bug("GetFilterValues", {"filters": {"groupings": [{"key": NUL, "values": ["x"]}]}}),
        _pg_bug(
            "GetCaseByIndicator", {"prometheusAlert": {"fingerprint": NUL, "startedAt": STARTED_AT}}
        ),
        _pg_bug("SyncExternalCaseEvents", {"messages": [{"externalId": NUL, "text": "t"}]}),
        ("SyncExternalCaseEvents", {"messages": [{"externalId": "e", "text": NUL}]}),
        ("CreateComment", {"text": NUL}),
        ("ListCases", {"pagination": {"pageToken": NUL}}),
        ("BulkClose", {"ids": [NUL]}),
    ],
)
def test_nul_characters_are_never_a_500(
    rpc: str, payload: dict[str, Any], own_rest: Rest, make_case: MakeCase
) -> None:
    case = make_case()
    response = own_rest.raw(rpc, case.id, json=payload)
    assert response.status_code < 500, response.text
    own_rest.check(rpc, response, response.status_code)


# -- a crash ----------------------------------------------------------------------------------


@pytest.fixture
def crashing(container: Container, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningServer]:
    """A private app whose GetGroupingKeys raises an unexpected exception."""
    operation = CASES + "GetGroupingKeys"
    request_type, _ = handler._OPERATIONS[operation]

    def boom(*_: Any) -> Any:
        raise RuntimeError("simulated defect")

    monkeypatch.setitem(handler._OPERATIONS, operation, (request_type, boom))
    with serve_app(create_app(container)) as running:
        yield running


def test_a_crash_is_a_500_error_body_quoting_the_request_id(
    crashing: RunningServer, rest: Rest, reference: ReferenceSpec
) -> None:
    with httpx.Client(base_url=crashing.url, timeout=TIMEOUT, headers=rest.headers()) as c:
        response = c.get("/cases/grouping-keys/v1", headers={"x-request-id": "crash-1"})
        assert response.status_code == 500
        reference.validate("GetGroupingKeys", response)
        assert error_message(response.json(), 500) == "internal error; quote request id crash-1"
        assert "simulated defect" not in response.text
        assert response.headers["x-request-id"] == "crash-1"


def _exchange(sock: socket.socket, request: bytes) -> bytes:
    """Send one HTTP/1.1 request on ``sock`` and read one response (b"" if the peer closed)."""
    sock.sendall(request)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
    except ConnectionResetError:
        return b""
    return data


def test_a_crash_keeps_the_connection_usable(crashing: RunningServer, rest: Rest) -> None:
    auth = f"Authorization: Bearer {rest.key}\r\n".encode()
    with socket.create_connection(("127.0.0.1", crashing.port), timeout=TIMEOUT) as sock:
        first = _exchange(
            sock, b"GET /cases/grouping-keys/v1 HTTP/1.1\r\nHost: x\r\n" + auth + b"\r\n"
        )
        assert first.startswith(b"HTTP/1.1 500")
        assert b"connection: close" not in first.lower()
        time.sleep(0.2)
        second = _exchange(sock, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert second.startswith(b"HTTP/1.1 200"), second


def test_a_crash_is_counted_in_the_metrics(crashing: RunningServer, rest: Rest) -> None:
    with httpx.Client(base_url=crashing.url, timeout=TIMEOUT, headers=rest.headers()) as c:
        assert c.get("/cases/grouping-keys/v1").status_code == 500
    text = httpx.get(f"{crashing.url}/metrics", timeout=TIMEOUT).text  # a fresh connection
    samples = {
        (s.labels.get("route"), s.labels.get("status")): s.value
        for family in text_string_to_metric_families(text)
        if family.name == "casekeeper_http_requests"
        for s in family.samples
        if s.name == "casekeeper_http_requests_total"
    }
    assert samples.get(("/cases/grouping-keys/v1", "500")) == 1.0


def test_unknown_permission_route_never_500(make_rest: MakeRest) -> None:
    """A key whose permissions are all unrelated to cases still gets 403s, not 500s."""
    api = make_rest("api-key:Manage")
    for rpc in ("GetGroupingKeys", "ListCases"):
        api.call(rpc, json={} if rpc == "ListCases" else None, expect=403)
