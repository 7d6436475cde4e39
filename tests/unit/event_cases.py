"""Every kind of timeline event as the store holds it (``{kind: data}``, exactly what versions
before the typed timeline wrote), with the typed event it means; shared by the event codec
tests. Written out by hand, not derived from the codec."""

from __future__ import annotations

from typing import Final

import orjson

from casekeeper.domain import timeline as t
from casekeeper.domain.enums import CasePriority, CaseStatus, EventKind, Severity
from casekeeper.domain.model import Json, PriorityDetails
from casekeeper.store.event_codec import decode, encode

P = CasePriority
ALICE: Final = "0b7c3f52-6a9e-4e0c-9f0e-2c1d5b8a7e11"
BOB: Final = "9d2f4a10-1c3b-4d5e-8f60-7a8b9c0d1e22"
LOG: Final[Json] = {"log": {"query": "service:checkout", "startTime": "2026-11-23T10:00:00Z"}}
FILE: Final[Json] = {"file": {"name": "trace.txt", "url": "https://files.example.test/1"}}
SLACK: Final[Json] = {
    "slack": {"workspaceId": "T0DEMO", "channelId": "C0INCIDENT", "threadId": "1700000000.000011"}
}
TEAMS: Final[Json] = {
    "microsoftTeams": {"teamId": "team-1", "channelId": "19:abc", "messageId": "1"}
}

# Every kind, with every optional field both ways, and the typed event it means.
CASES: Final[list[tuple[str, Json, t.TimelineEvent]]] = [
    ("created", {"created": {"priority": "CASE_PRIORITY_P3"}}, t.Created(P.P3)),
    (
        "assigned first",
        {"assigned": {"assigneeUserId": "0b7c3f52-6a9e-4e0c-9f0e-2c1d5b8a7e11"}},
        t.Assigned(ALICE, None),
    ),
    (
        "assigned instead",
        {
            "assigned": {
                "assigneeUserId": "9d2f4a10-1c3b-4d5e-8f60-7a8b9c0d1e22",
                "previousAssigneeUserId": "0b7c3f52-6a9e-4e0c-9f0e-2c1d5b8a7e11",
            }
        },
        t.Assigned(BOB, ALICE),
    ),
    (
        "unassigned",
        {"unassigned": {"previousAssigneeUserId": "0b7c3f52-6a9e-4e0c-9f0e-2c1d5b8a7e11"}},
        t.Unassigned(ALICE),
    ),
    (
        "comment",
        {"comment": {"unsafeText": "Looking into it.", "attachments": []}},
        t.Comment("Looking into it."),
    ),
    ("comment, empty", {"comment": {"unsafeText": "", "attachments": []}}, t.Comment("")),
    (
        "comment with attachments",
        {
            "comment": {
                "unsafeText": "see logs",
                "attachments": [
                    {"log": {"query": "service:checkout", "startTime": "2026-11-23T10:00:00Z"}},
                    {"file": {"name": "trace.txt", "url": "https://files.example.test/1"}},
                ],
            }
        },
        t.Comment("see logs", (LOG, FILE)),
    ),
    (
        "comment from Slack",
        {
            "comment": {
                "unsafeText": "hi",
                "attachments": [],
                "slack": {
                    "workspaceId": "T0DEMO",
                    "channelId": "C0INCIDENT",
                    "threadId": "1700000000.000011",
                },
            }
        },
        t.Comment("hi", (), SLACK),
    ),
    (
        "comment from Teams",
        {
            "comment": {
                "unsafeText": "hi",
                "attachments": [
                    {"file": {"name": "trace.txt", "url": "https://files.example.test/1"}}
                ],
                "microsoftTeams": {"teamId": "team-1", "channelId": "19:abc", "messageId": "1"},
            }
        },
        t.Comment("hi", (FILE,), TEAMS),
    ),
    (
        "status",
        {
            "statusChanged": {
                "oldStatus": "CASE_STATUS_ACTIVE",
                "newStatus": "CASE_STATUS_ACKNOWLEDGED",
            }
        },
        t.StatusChanged(CaseStatus.ACTIVE, CaseStatus.ACKNOWLEDGED),
    ),
    (
        "notified",
        {
            "notificationSent": {
                "notifications": [{"token": "tok-a"}, {"token": "tok-b"}],
                "notificationRequestId": "req-1",
            }
        },
        t.NotificationSent("req-1", ("tok-a", "tok-b")),
    ),
    (
        "notified, no request",
        {"notificationSent": {"notifications": []}},
        t.NotificationSent(None, ()),
    ),
    (
        "notified, empty request",
        {"notificationSent": {"notifications": [{"token": "x"}], "notificationRequestId": ""}},
        t.NotificationSent("", ("x",)),
    ),
    (
        "notify failed",
        {"notificationFailed": {"error": "SMTP 550"}},
        t.NotificationFailed("SMTP 550"),
    ),
    (
        "priority, system",
        {
            "priorityDetailsChanged": {
                "from": {"system": "CASE_PRIORITY_P3"},
                "to": {"system": "CASE_PRIORITY_P2"},
            }
        },
        t.PriorityChanged(PriorityDetails(P.P3), PriorityDetails(P.P2)),
    ),
    (
        "priority, override",
        {
            "priorityDetailsChanged": {
                "from": {"system": "CASE_PRIORITY_P3"},
                "to": {"system": "CASE_PRIORITY_P3", "override": "CASE_PRIORITY_P1"},
            }
        },
        t.PriorityChanged(PriorityDetails(P.P3), PriorityDetails(P.P3, P.P1)),
    ),
    ("title", {"titleChangedEvent": {"from": "Old", "to": "New"}}, t.TitleChanged("Old", "New")),
    (
        "title, unicode",
        {"titleChangedEvent": {"from": "", "to": "Ünïcode ✓"}},
        t.TitleChanged("", "Ünïcode ✓"),
    ),
    (
        "reason, first",
        {"resolutionReasonChangedEvent": {"to": "found it"}},
        t.ResolutionReasonChanged(None, "found it"),
    ),
    (
        "reason, changed",
        {"resolutionReasonChangedEvent": {"to": "b", "from": "a"}},
        t.ResolutionReasonChanged("a", "b"),
    ),
    (
        "reason, from empty",
        {"resolutionReasonChangedEvent": {"to": "b"}},
        t.ResolutionReasonChanged(None, "b"),
    ),
    (
        "assignee failed",
        {
            "changeAssigneeFailed": {
                "unknownAssigneeError": {"unknownAssigneeEmail": "who@example.test"}
            }
        },
        t.ChangeAssigneeFailed("who@example.test"),
    ),
    (
        "kpi",
        {
            "kpiBreached": {
                "kpiType": "KPI_TYPE_TIME_TO_ACKNOWLEDGE",
                "priority": "CASE_PRIORITY_P1",
                "threshold": "300s",
            }
        },
        t.KpiBreached("KPI_TYPE_TIME_TO_ACKNOWLEDGE", P.P1, 300),
    ),
    (
        "kpi, zero",
        {
            "kpiBreached": {
                "kpiType": "KPI_TYPE_TIME_TO_RESOLVE",
                "priority": "CASE_PRIORITY_P5",
                "threshold": "0s",
            }
        },
        t.KpiBreached("KPI_TYPE_TIME_TO_RESOLVE", P.P5, 0),
    ),
    (
        "description set",
        {"descriptionChanged": {"hadDescription": False, "set": True}},
        t.DescriptionChanged(False, True),
    ),
    (
        "description edited",
        {"descriptionChanged": {"hadDescription": True, "set": True}},
        t.DescriptionChanged(True, True),
    ),
    (
        "description cleared",
        {"descriptionChanged": {"hadDescription": True, "set": False}},
        t.DescriptionChanged(True, False),
    ),
    (
        "description none",
        {"descriptionChanged": {"hadDescription": False, "set": False}},
        t.DescriptionChanged(False, False),
    ),
    (
        "tags",
        {"tagsChanged": {"added": ["a", "b"], "removed": ["c"]}},
        t.TagsChanged(("a", "b"), ("c",)),
    ),
    ("tags, none", {"tagsChanged": {"added": [], "removed": []}}, t.TagsChanged((), ())),
    (
        "severity",
        {"severityChanged": {"from": "UNKNOWN", "to": "HIGH"}},
        t.SeverityChanged(Severity.UNKNOWN, Severity.HIGH),
    ),
    ("on hold", {"onHoldChanged": {"onHold": True}}, t.OnHoldChanged(True)),
    ("off hold", {"onHoldChanged": {"onHold": False}}, t.OnHoldChanged(False)),
    (
        "incident acknowledged",
        {"incidentChanged": {"incidentId": ALICE, "change": "acknowledged", "user": "bob@x.test"}},
        t.IncidentChanged(ALICE, t.IncidentChange.ACKNOWLEDGED, "bob@x.test"),
    ),
    (
        "incident opened",
        {"incidentChanged": {"incidentId": BOB, "change": "opened"}},
        t.IncidentChanged(BOB, t.IncidentChange.OPENED),
    ),
    ("extension", {"extensionChanged": {"namespace": "kibana"}}, t.ExtensionChanged("kibana")),
    (
        "signal note",
        {"signalNote": {"topic": "truncated", "text": "3 alerts were left out"}},
        t.SignalNote(t.SignalTopic.TRUNCATED, "3 alerts were left out"),
    ),
]


def stored(row: Json) -> bytes:
    """``row`` (``{kind: data}``) as the bytes the store writes."""
    return orjson.dumps(row)


def as_row(event: t.TimelineEvent) -> Json:
    """What the store writes for ``event``: its kind and the codec's JSON."""
    return {event.kind.value: encode(event)}


def assert_round_trip(row: Json, expected: t.TimelineEvent) -> None:
    ((kind, data),) = row.items()
    typed = decode(EventKind(kind), data)
    assert typed == expected
    assert type(typed) is type(expected)
    assert stored(as_row(typed)) == stored(row)
