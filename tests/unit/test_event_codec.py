"""Stored timeline JSON <-> typed timeline events, both ways (no database).

The expected typed events are written out by hand (tests/unit/event_cases.py), not derived
from the codec, and every round trip compares the JSON bytes, key order included.
"""

from __future__ import annotations

import itertools
from typing import Final, get_args

import orjson
import pytest

from casekeeper.domain import timeline as t
from casekeeper.domain.enums import CasePriority, CaseStatus, EventKind, Severity
from casekeeper.domain.model import Json, PriorityDetails
from casekeeper.store.event_codec import decode, encode
from tests.unit.event_cases import BOB, CASES, LOG, SLACK, P, as_row, assert_round_trip


@pytest.mark.parametrize(("row", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_stored_event_decodes_to_its_typed_event_and_encodes_back_byte_identical(
    row: Json, expected: t.TimelineEvent
) -> None:
    assert_round_trip(row, expected)


def test_every_kind_has_a_typed_event_and_is_in_the_table() -> None:
    known = [cls for cls in get_args(t.TimelineEvent) if cls is not t.Unknown]
    assert sorted(cls.kind for cls in known) == sorted(EventKind)
    assert {c[2].kind for c in CASES} == set(EventKind)


def test_typed_events_encode_and_decode_back_to_themselves() -> None:
    for _, _, typed in CASES:
        assert decode(typed.kind, encode(typed)) == typed
    # The two spellings of "none" that the stored form does not keep apart.
    reason = t.ResolutionReasonChanged("", "b")
    assert decode(reason.kind, encode(reason)) == t.ResolutionReasonChanged(None, "b")
    comment = t.Comment("x", (), {})
    assert decode(comment.kind, encode(comment)) == t.Comment("x", (), None)


# Rows as they sit in ``case_event`` today (kind column, data column's JSON text).
ROWS: Final[list[tuple[str, bytes, t.TimelineEvent]]] = [
    (
        "statusChanged",
        b'{"oldStatus":"CASE_STATUS_PENDING_ACTIVATION","newStatus":"CASE_STATUS_ACTIVE"}',
        t.StatusChanged(CaseStatus.PENDING_ACTIVATION, CaseStatus.ACTIVE),
    ),
    (
        "priorityDetailsChanged",
        b'{"from":{"system":"CASE_PRIORITY_P4"},'
        b'"to":{"system":"CASE_PRIORITY_P4","override":"CASE_PRIORITY_P3"}}',
        t.PriorityChanged(PriorityDetails(P.P4), PriorityDetails(P.P4, P.P3)),
    ),
    (
        "comment",
        b'{"unsafeText":"Customer support reports checkout failures.","attachments":[],'
        b'"slack":{"workspaceId":"T0DEMO","channelId":"C0INCIDENT","threadId":"1700000000.000000",'
        b'"userId":"U0SUPPORT","userEmail":"support@example.test"}}',
        t.Comment(
            "Customer support reports checkout failures.",
            (),
            {
                "slack": {
                    "workspaceId": "T0DEMO",
                    "channelId": "C0INCIDENT",
                    "threadId": "1700000000.000000",
                    "userId": "U0SUPPORT",
                    "userEmail": "support@example.test",
                }
            },
        ),
    ),
    (
        "resolutionReasonChangedEvent",
        b'{"to":"Mitigated; follow-up in postmortem"}',
        t.ResolutionReasonChanged(None, "Mitigated; follow-up in postmortem"),
    ),
    ("created", b'{"priority":"CASE_PRIORITY_P1"}', t.Created(P.P1)),
    (
        "severityChanged",
        b'{"from":"UNKNOWN","to":"CRITICAL"}',
        t.SeverityChanged(Severity.UNKNOWN, Severity.CRITICAL),
    ),
    (
        "descriptionChanged",
        b'{"hadDescription":false,"set":true}',
        t.DescriptionChanged(False, True),
    ),
]


@pytest.mark.parametrize(("kind", "text", "expected"), ROWS, ids=[r[0] for r in ROWS])
def test_a_stored_row_decodes_and_encodes_back_to_the_same_bytes(
    kind: str, text: bytes, expected: t.TimelineEvent
) -> None:
    typed = decode(EventKind(kind), orjson.loads(text))
    assert typed == expected
    assert typed.kind.value == kind
    assert orjson.dumps(encode(typed)) == text


def test_kpi_thresholds_round_trip() -> None:
    for seconds in (0, 1, 59, 86_400, 10**12, -5):
        row = {
            "kpiBreached": {
                "kpiType": "K",
                "priority": "CASE_PRIORITY_P2",
                "threshold": f"{seconds}s",
            }
        }
        assert_round_trip(row, t.KpiBreached("K", P.P2, seconds))


def test_every_status_pair_round_trips() -> None:
    for old, new in itertools.product(CaseStatus, repeat=2):
        row = {
            "statusChanged": {
                "oldStatus": f"CASE_STATUS_{old.name}",
                "newStatus": f"CASE_STATUS_{new.name}",
            }
        }
        assert_round_trip(row, t.StatusChanged(old, new))


def _details(details: PriorityDetails) -> Json:
    out = {"system": f"CASE_PRIORITY_{details.system.name}"}
    if details.override is not None:
        out["override"] = f"CASE_PRIORITY_{details.override.name}"
    return out


def test_every_priority_round_trips_in_created_kpi_and_priority_details() -> None:
    overrides: list[CasePriority | None] = [None, *CasePriority]
    for p in CasePriority:
        name = f"CASE_PRIORITY_{p.name}"
        assert_round_trip({"created": {"priority": name}}, t.Created(p))
        kpi = {"kpiType": "K", "priority": name, "threshold": "60s"}
        assert_round_trip({"kpiBreached": kpi}, t.KpiBreached("K", p, 60))
        for old_o, new_o in itertools.product(overrides, repeat=2):
            old, new = PriorityDetails(p, old_o), PriorityDetails(P.P3, new_o)
            changed = {"from": _details(old), "to": _details(new)}
            assert_round_trip({"priorityDetailsChanged": changed}, t.PriorityChanged(old, new))


def test_every_severity_pair_round_trips() -> None:
    for old, new in itertools.product(Severity, repeat=2):
        row = {"severityChanged": {"from": old.name, "to": new.name}}
        assert_round_trip(row, t.SeverityChanged(old, new))


def test_an_edited_synced_comment_keeps_its_source() -> None:
    """``update_comment`` rewrites the text and attachments in place (service/timeline.py)."""
    first = as_row(t.Comment("old", (), SLACK))["comment"]
    edited = {"comment": dict(first, unsafeText="new", attachments=[LOG])}
    assert_round_trip(edited, t.Comment("new", (LOG,), SLACK))


def test_optional_keys_stored_as_null_or_left_out_read_as_absent() -> None:
    tolerated: list[tuple[Json, t.TimelineEvent]] = [
        ({"assigneeUserId": BOB, "previousAssigneeUserId": None}, t.Assigned(BOB, None)),
        ({"to": "b", "from": None}, t.ResolutionReasonChanged(None, "b")),
        ({"notifications": None, "notificationRequestId": None}, t.NotificationSent(None, ())),
        ({}, t.NotificationSent(None, ())),
        ({"unsafeText": "hi"}, t.Comment("hi")),
        ({"unsafeText": "hi", "attachments": None}, t.Comment("hi")),
        (
            {
                "from": {"system": "CASE_PRIORITY_P2", "override": None},
                "to": {"system": "CASE_PRIORITY_P1"},
            },
            t.PriorityChanged(PriorityDetails(P.P2), PriorityDetails(P.P1)),
        ),
    ]
    for payload, expected in tolerated:
        assert decode(expected.kind, payload) == expected


def test_keys_a_kind_does_not_use_are_ignored() -> None:
    payload = {"oldStatus": "CASE_STATUS_ACTIVE", "newStatus": "CASE_STATUS_CLOSED", "why": 1}
    decoded = decode(EventKind.STATUS_CHANGED, payload)
    assert decoded == t.StatusChanged(CaseStatus.ACTIVE, CaseStatus.CLOSED)
