"""Every timeline event constructor's output with the typed event it means, shared by the
event codec tests. Written out by hand, not derived from the codec."""

from __future__ import annotations

from typing import Final

import orjson

from casekeeper.domain import events as ev
from casekeeper.domain import timeline as t
from casekeeper.domain.enums import CasePriority, CaseStatus, Severity
from casekeeper.domain.events import EventData
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

# Every constructor, with every optional field both ways, and the typed event it means.
CASES: Final[list[tuple[str, EventData, t.TimelineEvent]]] = [
    ("created", ev.created(P.P3), t.Created(P.P3)),
    ("assigned first", ev.assigned(ALICE, None), t.Assigned(ALICE, None)),
    ("assigned instead", ev.assigned(BOB, ALICE), t.Assigned(BOB, ALICE)),
    ("unassigned", ev.unassigned(ALICE), t.Unassigned(ALICE)),
    ("comment", ev.comment("Looking into it."), t.Comment("Looking into it.")),
    ("comment, empty", ev.comment(""), t.Comment("")),
    (
        "comment with attachments",
        ev.comment("see logs", [LOG, FILE]),
        t.Comment("see logs", (LOG, FILE)),
    ),
    ("comment from Slack", ev.comment("hi", (), SLACK), t.Comment("hi", (), SLACK)),
    ("comment from Teams", ev.comment("hi", [FILE], TEAMS), t.Comment("hi", (FILE,), TEAMS)),
    (
        "status",
        ev.status_changed(CaseStatus.ACTIVE, CaseStatus.ACKNOWLEDGED),
        t.StatusChanged(CaseStatus.ACTIVE, CaseStatus.ACKNOWLEDGED),
    ),
    (
        "notified",
        ev.notification_sent("req-1", ["tok-a", "tok-b"]),
        t.NotificationSent("req-1", ("tok-a", "tok-b")),
    ),
    ("notified, no request", ev.notification_sent(None, []), t.NotificationSent(None, ())),
    ("notified, empty request", ev.notification_sent("", ["x"]), t.NotificationSent("", ("x",))),
    ("notify failed", ev.notification_failed("SMTP 550"), t.NotificationFailed("SMTP 550")),
    (
        "priority, system",
        ev.priority_details_changed(PriorityDetails(P.P3), PriorityDetails(P.P2)),
        t.PriorityChanged(PriorityDetails(P.P3), PriorityDetails(P.P2)),
    ),
    (
        "priority, override",
        ev.priority_details_changed(PriorityDetails(P.P3), PriorityDetails(P.P3, P.P1)),
        t.PriorityChanged(PriorityDetails(P.P3), PriorityDetails(P.P3, P.P1)),
    ),
    ("title", ev.title_changed("Old", "New"), t.TitleChanged("Old", "New")),
    ("title, unicode", ev.title_changed("", "Ünïcode ✓"), t.TitleChanged("", "Ünïcode ✓")),
    (
        "reason, first",
        ev.resolution_reason_changed(None, "found it"),
        t.ResolutionReasonChanged(None, "found it"),
    ),
    (
        "reason, changed",
        ev.resolution_reason_changed("a", "b"),
        t.ResolutionReasonChanged("a", "b"),
    ),
    (
        "reason, from empty",
        ev.resolution_reason_changed("", "b"),
        t.ResolutionReasonChanged(None, "b"),
    ),
    (
        "assignee failed",
        ev.change_assignee_failed("who@example.test"),
        t.ChangeAssigneeFailed("who@example.test"),
    ),
    (
        "kpi",
        ev.kpi_breached("KPI_TYPE_TIME_TO_ACKNOWLEDGE", P.P1, 300),
        t.KpiBreached("KPI_TYPE_TIME_TO_ACKNOWLEDGE", P.P1, 300),
    ),
    (
        "kpi, zero",
        ev.kpi_breached("KPI_TYPE_TIME_TO_RESOLVE", P.P5, 0),
        t.KpiBreached("KPI_TYPE_TIME_TO_RESOLVE", P.P5, 0),
    ),
    ("description set", ev.description_changed(None, "x"), t.DescriptionChanged(False, True)),
    ("description edited", ev.description_changed("x", "y"), t.DescriptionChanged(True, True)),
    ("description cleared", ev.description_changed("x", None), t.DescriptionChanged(True, False)),
    ("description none", ev.description_changed(None, None), t.DescriptionChanged(False, False)),
    ("tags", ev.tags_changed(["a", "b"], ["c"]), t.TagsChanged(("a", "b"), ("c",))),
    ("tags, none", ev.tags_changed([], []), t.TagsChanged((), ())),
    (
        "severity",
        ev.severity_changed(Severity.UNKNOWN, Severity.HIGH),
        t.SeverityChanged(Severity.UNKNOWN, Severity.HIGH),
    ),
    ("on hold", ev.on_hold_changed(True), t.OnHoldChanged(True)),
    ("off hold", ev.on_hold_changed(False), t.OnHoldChanged(False)),
    ("extension", ev.extension_changed("kibana"), t.ExtensionChanged("kibana")),
]


def stored(data: EventData) -> bytes:
    """What the store writes for ``data`` (kind and payload), as bytes."""
    return orjson.dumps(data.to_json())


def assert_round_trip(data: EventData, expected: t.TimelineEvent) -> None:
    typed = decode(data)
    assert typed == expected
    assert type(typed) is type(expected)
    back = encode(typed)
    assert back.kind is data.kind
    assert stored(back) == stored(data)
