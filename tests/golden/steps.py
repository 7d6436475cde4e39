"""The scenario's steps, in order. Each ``t.call`` is one recorded step (see scenario.py).

Readable ids: cases 1-5 are CASE-1..CASE-5; case 6 is born pending (no readable id), so cases 7
and 8 become CASE-6 and CASE-7, and case 6 gets CASE-8 when the system activates it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.golden.scenario import (
    ALERT_A,
    ALERT_B,
    ALICE,
    ATTACHMENTS,
    BOB,
    CAROL,
    CASE,
    FINGERPRINT,
    THREAD,
    UNKNOWN_CASE,
    UNKNOWN_EVENT,
    Transport,
    only,
)
from tests.golden.world import START_US, STEP_US

P = "CASE_PRIORITY_"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _time(tick: int, offset_us: int = 0) -> str:
    """RFC 3339 of the clock at ``tick`` (case n is created at tick 3 + n)."""
    at = EPOCH + timedelta(microseconds=START_US + tick * STEP_US + offset_us)
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _token(page: dict[str, Any] | None) -> str:
    assert page is not None, "a list call failed"
    token = page.get("pagination", {}).get("nextPageToken")
    assert token, f"no next page token in {page}"
    return str(token)


def reads(t: Transport) -> None:
    t.call("get the rich case by readable id", "GetCase", {"id": "CASE-1"})
    t.call("get by upper-case UUID", "GetCase", {"id": CASE[2].upper()})
    t.call("get by lower-case readable id", "GetCase", {"id": "case-3"})
    t.call("get the pending case (no readable id yet)", "GetCase", {"id": CASE[6]})
    t.call("a read-only key reads", "GetCase", {"id": "CASE-4"}, key="reader")
    t.call("list, no request fields", "ListCases", {})
    page = t.call("list page 1 of 3", "ListCases", {"pagination": {"pageSize": 3}})
    page = t.call(
        "list page 2 of 3", "ListCases", {"pagination": {"pageSize": 3, "pageToken": _token(page)}}
    )
    t.call(
        "list page 3 of 3 (no token)",
        "ListCases",
        {"pagination": {"pageSize": 3, "pageToken": _token(page)}},
    )
    by = "CASE_ORDER_BY_FIELD_"
    asc, desc = "CASE_ORDER_BY_DIRECTION_ASCENDING", "CASE_ORDER_BY_DIRECTION_DESCENDING"
    t.call(
        "list open by priority, most urgent first",
        "ListCases",
        {
            "filters": {"statuses": ["CASE_STATUS_ACTIVE", "CASE_STATUS_PENDING_ACTIVATION"]},
            "orderBy": {"field": by + "PRIORITY", "direction": desc},
        },
    )
    t.call(
        "list by priority ascending",
        "ListCases",
        {"orderBy": {"field": by + "PRIORITY", "direction": asc}},
    )
    page = t.call(
        "list by status, page 1",
        "ListCases",
        {"orderBy": {"field": by + "STATUS", "direction": asc}, "pagination": {"pageSize": 5}},
    )
    t.call(
        "list by status, page 2",
        "ListCases",
        {
            "orderBy": {"field": by + "STATUS", "direction": asc},
            "pagination": {"pageSize": 5, "pageToken": _token(page)},
        },
    )
    t.call(
        "list by category", "ListCases", {"orderBy": {"field": by + "CATEGORY", "direction": desc}}
    )
    t.call(
        "list by duration with skip",
        "ListCases",
        {"orderBy": {"field": by + "DURATION"}, "pagination": {"pageSize": 3, "skip": 2}},
    )
    t.call(
        "list by update time ascending",
        "ListCases",
        {"orderBy": {"field": by + "UPDATED_AT", "direction": asc}},
    )
    t.call(
        "list by creation ascending",
        "ListCases",
        {"orderBy": {"field": by + "CREATED_AT", "direction": asc}},
    )
    t.call(
        "filter labels and groupings",
        "ListCases",
        {
            "filters": {
                "labels": [{"key": "team", "values": ["payments", "security"]}],
                "groupings": [{"key": "service", "values": ["checkout", "orders-db", "auth"]}],
            }
        },
    )
    t.call(
        "filter text, priorities, categories",
        "ListCases",
        {
            "filters": {
                "textSearch": "LOGIN",
                "priorities": [P + "P1", P + "P3"],
                "categories": ["CASE_CATEGORY_SECURITY"],
            }
        },
    )
    t.call(
        "filter assignees (one user or nobody)",
        "ListCases",
        {"filters": {"assignees": [{"assignee": ALICE}, {"unassigned": {}}]}},
    )
    t.call(
        "filter flat labels",
        "ListCases",
        {"filters": {"caseLabelsFilter": {"flatLabels": [{"key": "env", "value": "prod"}]}}},
    )
    t.call(
        "filter created between cases 2 and 4",
        "ListCases",
        {
            "filters": {
                "dateRange": {
                    "from": _time(5, -1),
                    "to": _time(7, 1),
                    "mode": "DATE_RANGE_MODE_CREATED_AT",
                }
            }
        },
    )
    t.call(
        "filter active window",
        "ListCases",
        {"filters": {"dateRange": {"from": _time(9), "to": _time(30)}}},
    )
    t.call(
        "filter indicator type and breached KPI",
        "ListCases",
        {
            "filters": {
                "indicatorTypes": ["INDICATOR_TYPE_PROMETHEUS_ALERTMANAGER"],
                "breached": ["KPI_FILTER_TIME_TO_ACKNOWLEDGE_BREACHED"],
            }
        },
    )
    t.call(
        "filter not breached, no connector, impacted service",
        "ListCases",
        {
            "filters": {
                "breached": ["KPI_FILTER_NOT_BREACHED"],
                "connectorTypeFilters": [{"noConnector": {}}],
            }
        },
    )
    t.call(
        "filter impacted service (any case of its name)",
        "ListCases",
        {"filters": {"impactedEntities": [{"apmService": {"name": "CHECKOUT"}}]}},
    )
    t.call(
        "filter alert id and version",
        "ListCases",
        {"filters": {"alertFilters": {"alertIds": [ALERT_A], "alertVersions": ["v3"]}}},
    )
    t.call("filter values, no filter", "GetFilterValues", {})
    t.call(
        "filter values with alert filters",
        "GetFilterValues",
        {
            "filters": {
                "statuses": ["CASE_STATUS_ACTIVE"],
                "alertFilters": {"alertIds": [ALERT_A, ALERT_B]},
            }
        },
    )
    t.call("grouping keys", "GetGroupingKeys", {})
    t.call("deep links of the rich case", "GetCaseDeepLinks", {"caseId": "CASE-1"})
    t.call("deep links of a plain case", "GetCaseDeepLinks", {"caseId": CASE[2]})
    t.call(
        "case by Prometheus indicator",
        "GetCaseByIndicator",
        {"prometheusAlert": {"fingerprint": FINGERPRINT, "startedAt": "2026-03-02T07:58:01.900Z"}},
    )


def mutations(t: Transport) -> None:
    t.call("assign", "AssignCase", {"id": "CASE-2", "assignee": {"userId": BOB}})
    t.call(
        "assign the same user again", "AssignCase", {"id": "CASE-2", "assignee": {"userId": BOB}}
    )
    t.call("reassign", "AssignCase", {"id": "CASE-2", "assignee": {"userId": CAROL}})
    t.call("unassign", "UnassignCase", {"id": "CASE-1"})
    t.call("unassign again", "UnassignCase", {"id": "CASE-1"})
    t.call("acknowledge", "AcknowledgeCase", {"id": "CASE-2"})
    t.call("acknowledge again", "AcknowledgeCase", {"id": "CASE-2"})
    t.call("unacknowledge", "UnacknowledgeCase", {"id": "CASE-2"})
    t.call("unacknowledge an active case", "UnacknowledgeCase", {"id": "CASE-2"})
    t.call(
        "acknowledge naming an actor",
        "AcknowledgeCase",
        {"id": "CASE-3", "actor": {"userId": ALICE}},
    )
    t.call("set a priority override", "SetPriorityOverride", {"id": "CASE-3", "priority": P + "P1"})
    t.call("set the same override", "SetPriorityOverride", {"id": "CASE-3", "priority": P + "P1"})
    t.call("clear the override", "ClearPriorityOverride", {"id": "CASE-3"})
    t.call("clear it again", "ClearPriorityOverride", {"id": "CASE-3"})
    t.call(
        "retitle (trimmed)",
        "UpdateCase",
        {"id": "CASE-4", "patch": {"title": "  Login burst from AS64500  "}},
    )
    t.call("resolve with a reason", "ResolveCase", {"id": "CASE-4", "reason": "blocked the ASN"})
    t.call(
        "change the resolution reason",
        "UpdateCase",
        {"id": "CASE-4", "patch": {"resolutionReason": "blocked AS64500 at the edge"}},
    )
    t.call(
        "change title and reason",
        "UpdateCase",
        {"id": CASE[4], "patch": {"title": "Login burst (AS64500)", "resolutionReason": "blocked"}},
    )
    t.call("resolve again", "ResolveCase", {"id": "CASE-4"})
    t.call("acknowledge a resolved case", "AcknowledgeCase", {"id": "CASE-4"})
    t.call("close a resolved case", "CloseCase", {"id": "CASE-4"})
    t.call("close an active case", "CloseCase", {"id": "CASE-6"})
    t.call("close it again", "CloseCase", {"id": "CASE-6"})
    t.call("assign a closed case", "AssignCase", {"id": "CASE-6", "assignee": {"userId": BOB}})
    t.call("override a closed case", "SetPriorityOverride", {"id": "CASE-6", "priority": P + "P2"})
    t.call("acknowledge a pending case", "AcknowledgeCase", {"id": CASE[6]})
    t.system(CASE[6], "activate")
    t.call("the activated case", "GetCase", {"id": "CASE-8"})
    t.system(CASE[5], "auto-resolve")
    t.call("the case the system resolved", "GetCase", {"id": "CASE-5"})
    t.call("resolve without a reason", "ResolveCase", {"id": "CASE-3"})


def bulk(t: Transport) -> None:
    t.call(
        "bulk assign with failures",
        "BulkAssign",
        {
            "ids": ["CASE-1", "CASE-2", "CASE-404", "not an id!", "CASE-6", UNKNOWN_CASE, "case-1"],
            "assignee": {"userId": CAROL},
        },
    )
    t.call("bulk unassign", "BulkUnassign", {"ids": ["CASE-1", "CASE-8", "CASE-7"]})
    only(
        t,
        "rest",
        lambda: t.send(  # type: ignore[attr-defined]
            "bulk unassign, ids comma-separated", "DELETE",
            "/cases/assigned/v1?ids=CASE-2,%20CASE-8&ids=&ids=CASE-404", rpc="BulkUnassign",
        ),
    )  # fmt: skip
    t.call(
        "bulk acknowledge with failures",
        "BulkAcknowledge",
        {"ids": ["CASE-1", "CASE-2", "CASE-3", "CASE-4", "CASE-8"], "actor": {"userId": ALICE}},
    )
    t.call("bulk acknowledge without an actor", "BulkAcknowledge", {"ids": ["CASE-1"]})
    t.call(
        "bulk set override with failures",
        "BulkSetPriorityOverride",
        {"ids": ["CASE-1", "CASE-7", "CASE-6"], "priority": P + "P5"},
    )
    t.call(
        "bulk clear override",
        "BulkClearPriorityOverride",
        {"ids": ["CASE-1", "CASE-7", "CASE-404"]},
    )
    t.call(
        "bulk resolve",
        "BulkResolve",
        {"ids": ["CASE-1", "CASE-2", "CASE-5"], "reason": "mitigated by the rollback"},
    )
    t.call(
        "bulk close, one id twice and a closed case",
        "BulkClose",
        {"ids": ["CASE-1", "CASE-2", CASE[1], "CASE-6", "CASE-3"]},
    )
    t.call("bulk close without ids", "BulkClose", {"ids": []})


def events(t: Transport) -> None:
    t.call("timeline of the rich case", "ListEvents", {"caseId": "CASE-1"})
    first = t.call(
        "comment with attachments",
        "CreateComment",
        {"caseId": "CASE-7", "text": "  Looking into it  ", "attachments": ATTACHMENTS},
    )
    second = t.call("plain comment", "CreateComment", {"caseId": CASE[8], "text": "second thought"})
    assert first is not None, "a comment was refused"
    assert second is not None, "a comment was refused"
    one, two = first["event"]["eventId"], second["event"]["eventId"]
    t.call("get a comment", "GetEvent", {"eventId": one})
    t.call(
        "edit a comment",
        "UpdateComment",
        {
            "eventId": one,
            "text": "Steal comes from vm-17 — über noisy",
            "attachments": ATTACHMENTS[:1],
        },
    )
    t.call("delete a comment", "DeleteComment", {"eventId": two})
    t.call("delete it again", "DeleteComment", {"eventId": two})
    t.call("get the deleted comment", "GetEvent", {"eventId": two})
    timeline = t.call("timeline with comments", "ListEvents", {"caseId": "CASE-7"})
    assert timeline is not None
    created = timeline["events"][0]["eventId"]
    t.call("edit a status event", "UpdateComment", {"eventId": created, "text": "nope"})
    t.call("delete a status event", "DeleteComment", {"eventId": created})
    t.call("get an event by a bad id", "GetEvent", {"eventId": "not-a-uuid"})
    t.call("get an unknown event", "GetEvent", {"eventId": UNKNOWN_EVENT})
    t.call("comment without text", "CreateComment", {"caseId": "CASE-7", "text": "   "})
    t.call("comment on an unknown case", "CreateComment", {"caseId": "CASE-404", "text": "hi"})
    t.call("sync, no thread yet", "SyncExternalCaseEvents", {"caseId": "CASE-7"})
    t.call(
        "sync two thread messages",
        "SyncExternalCaseEvents",
        {"caseId": "CASE-7", "messages": THREAD},
    )
    t.call(
        "sync the same messages again",
        "SyncExternalCaseEvents",
        {"caseId": "CASE-7", "messages": THREAD},
    )
    t.call("timeline after the sync", "ListEvents", {"caseId": CASE[8]})
    t.call("timeline of the activated case", "ListEvents", {"caseId": CASE[6]})
    t.call("timeline of the retitled, resolved, closed case", "ListEvents", {"caseId": "CASE-4"})
    t.call("timeline of the case the system resolved", "ListEvents", {"caseId": "CASE-5"})
    t.call("timeline of an unknown case", "ListEvents", {"caseId": "CASE-404"})
