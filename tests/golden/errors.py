"""The scenario's error answers (authentication, permissions, tenancy, bad input) and its last
look at the final state."""

from __future__ import annotations

import base64
import json
from typing import Any

from tests.golden.scenario import CASE, Transport, only

NOT_A_KEY = "Bearer not-a-key"
UNKNOWN_KEY = "Bearer ck_deadbeef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"


def _token(content: Any) -> str:
    """A well-formed page token of another ordering (PRIORITY, descending): base64url JSON."""
    raw = json.dumps(content, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def errors(t: Transport) -> None:
    t.call("no API key", "GetCase", {"id": "CASE-1"}, key=None)
    t.call("a malformed key", "GetCase", {"id": "CASE-1"}, auth=NOT_A_KEY)
    t.call("an unknown key", "ListCases", {}, auth=UNKNOWN_KEY)
    t.revoke("revoked")
    t.call("a revoked key", "GetCase", {"id": "CASE-1"}, key="revoked")
    t.call("read-only key acknowledges", "AcknowledgeCase", {"id": "CASE-8"}, key="reader")
    t.call("read-only key bulk-closes", "BulkClose", {"ids": ["CASE-8"]}, key="reader")
    t.call(
        "read-only key comments", "CreateComment", {"caseId": "CASE-8", "text": "x"}, key="reader"
    )
    t.call("another space's case by number", "GetCase", {"id": "CASE-1"}, key="other")
    t.call("another space's case by UUID", "GetCase", {"id": CASE[1]}, key="other")
    t.call("another space's list", "ListCases", {}, key="other")
    t.call("another space's filter values", "GetFilterValues", {}, key="other")
    t.call("another space's grouping keys", "GetGroupingKeys", {}, key="other")
    t.call("another space's timeline", "ListEvents", {"caseId": "CASE-1"}, key="other")
    t.call("a bad case id", "GetCase", {"id": "nope!"})
    t.call("an unknown readable id", "GetCase", {"id": "CASE-404"})
    t.call("an unknown UUID", "GetCase", {"id": CASE[9]})
    t.call("another prefix", "GetCase", {"id": "INC-1"})
    t.call("an overlong id", "GetCase", {"id": "CASE-" + "1" * 70})
    t.call("page size over the limit", "ListCases", {"pagination": {"pageSize": 5000}})
    t.call("a page token not issued", "ListCases", {"pagination": {"pageToken": "garbage!"}})
    t.call(
        "a page token of another ordering",
        "ListCases",
        {"pagination": {"pageToken": _token([1, True, 1, [1, 1, "a"]])}},
    )
    t.call("assign a non-UUID user", "AssignCase", {"id": "CASE-8", "assignee": {"userId": "bob"}})
    t.call("assign nobody", "AssignCase", {"id": "CASE-8"})
    t.call("override to no priority", "SetPriorityOverride", {"id": "CASE-8"})
    t.call("a reason over 500 characters", "ResolveCase", {"id": "CASE-8", "reason": "x" * 501})
    t.call("an empty patch", "UpdateCase", {"id": "CASE-8", "patch": {}})
    t.call("a blank title", "UpdateCase", {"id": "CASE-8", "patch": {"title": "  "}})
    t.call(
        "indicator without a start", "GetCaseByIndicator", {"prometheusAlert": {"fingerprint": "f"}}
    )
    t.call(
        "an unknown indicator",
        "GetCaseByIndicator",
        {"prometheusAlert": {"fingerprint": "0000", "startedAt": "2026-03-02T07:58:01Z"}},
    )
    t.call("a bulk id list over the cap", "BulkClose", {"ids": ["CASE-8"] * 1001})
    only(t, "grpc", lambda: t.call("bytes that are no message", "GetCase", raw=b"\x0a\xff\xff"))
    only(t, "rest", lambda: _rest_only(t))


def _rest_only(t: Transport) -> None:
    send = t.send  # type: ignore[attr-defined]
    send("a prefixed path", "GET", "/mgmt/openapi/latest/cases/cases/v1/CASE-8", rpc="GetCase")
    send("not JSON", "POST", "/cases/cases/v1", b"{not json")
    send("a JSON array body", "POST", "/cases/cases/v1", b"[]")
    body = b'{"bogus":1,"pagination":{"pageSize":1}}'
    send("an unknown body field", "POST", "/cases/cases/v1", body, rpc="ListCases")
    send(
        "a text/plain body",
        "POST",
        "/cases/filter-values/v1",
        b"{}",
        headers={"content-type": "text/plain"},
    )
    send("an unknown path", "GET", "/cases/nothing/v1")
    send("a verb the path lacks", "PATCH", "/cases/cases/v1/CASE-8")
    send("resolve a closed case, empty JSON body", "PUT", "/cases/resolved/v1/CASE-6", b"{}")


def final(t: Transport) -> None:
    t.call("final list", "ListCases", {"pagination": {"pageSize": 50}})
    t.call("final filter values", "GetFilterValues", {})
    t.call("final grouping keys", "GetGroupingKeys", {})
