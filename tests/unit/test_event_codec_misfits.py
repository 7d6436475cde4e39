"""Stored timeline rows that do not fit their kind: ``decode`` reads them as ``Unknown``,
with a reason naming the key at fault, and never raises (no database)."""

from __future__ import annotations

import random
from typing import Any, Final

import orjson
import pytest

from casekeeper.domain import timeline as t
from casekeeper.domain.enums import EventKind
from casekeeper.domain.model import Json
from casekeeper.store.event_codec import decode, encode
from tests.unit.event_cases import ALICE, BOB, CASES, LOG

K = EventKind
# (kind, stored payload, words the reason must contain)
MALFORMED: Final[list[tuple[EventKind, Any, str]]] = [
    (K.STATUS_CHANGED, None, "the payload is null, not an object"),
    (K.STATUS_CHANGED, ["CASE_STATUS_ACTIVE"], "the payload is an array"),
    (K.COMMENT, "hello", "the payload is a string"),
    (K.STATUS_CHANGED, {"newStatus": "CASE_STATUS_ACTIVE"}, "'oldStatus' is missing"),
    (
        K.STATUS_CHANGED,
        {"oldStatus": "ACTIVE", "newStatus": "CASE_STATUS_ACTIVE"},
        "'oldStatus' is 'ACTIVE', not a case status",
    ),
    (K.STATUS_CHANGED, {"oldStatus": 2, "newStatus": "CASE_STATUS_ACTIVE"}, "'oldStatus' is 2"),
    (K.STATUS_CHANGED, {"oldStatus": ["x"], "newStatus": "CASE_STATUS_ACTIVE"}, "'oldStatus'"),
    (K.CREATED, {"priority": "CASE_PRIORITY_P9"}, "not a case priority"),
    (K.CREATED, {"priority": {"system": "CASE_PRIORITY_P1"}}, "'priority' is {"),
    (K.ASSIGNED, {"previousAssigneeUserId": ALICE}, "'assigneeUserId' is missing"),
    (K.ASSIGNED, {"assigneeUserId": 7}, "'assigneeUserId' is a number, not a string"),
    (K.ASSIGNED, {"assigneeUserId": BOB, "previousAssigneeUserId": 1}, "previousAssigneeUserId"),
    (K.UNASSIGNED, {"previousAssigneeUserId": None}, "'previousAssigneeUserId' is null"),
    (K.COMMENT, {"attachments": []}, "'unsafeText' is missing"),
    (K.COMMENT, {"unsafeText": "x", "attachments": {"log": {}}}, "'attachments' is an object"),
    (K.COMMENT, {"unsafeText": "x", "attachments": [LOG, "f"]}, "attachments[1] is a string"),
    (K.NOTIFICATION_SENT, {"notifications": "tok"}, "'notifications' is a string, not an array"),
    (K.NOTIFICATION_SENT, {"notifications": ["tok"]}, "notifications[0] is a string"),
    (
        K.NOTIFICATION_SENT,
        {"notifications": [{"token": "a"}, {}]},
        "in notifications[1]: 'token' is missing",
    ),
    (
        K.NOTIFICATION_SENT,
        {"notifications": [], "notificationRequestId": 5},
        "'notificationRequestId' is a number",
    ),
    (K.NOTIFICATION_FAILED, {}, "'error' is missing"),
    (K.PRIORITY_DETAILS_CHANGED, {"from": {"system": "CASE_PRIORITY_P1"}}, "'to' is missing"),
    (K.PRIORITY_DETAILS_CHANGED, {"from": "CASE_PRIORITY_P1", "to": {}}, "'from' is a string"),
    (K.PRIORITY_DETAILS_CHANGED, {"from": {}, "to": {}}, "in 'from': 'system' is missing"),
    (
        K.PRIORITY_DETAILS_CHANGED,
        {
            "from": {"system": "CASE_PRIORITY_P1"},
            "to": {"system": "CASE_PRIORITY_P1", "override": "P2"},
        },
        "in 'to': 'override' is 'P2'",
    ),
    (K.TITLE_CHANGED, {"to": "New"}, "'from' is missing"),
    (K.RESOLUTION_REASON_CHANGED, {"from": "a"}, "'to' is missing"),
    (K.RESOLUTION_REASON_CHANGED, {"from": 1, "to": "b"}, "'from' is a number"),
    (
        K.CHANGE_ASSIGNEE_FAILED,
        {"unknownAssigneeEmail": "x@example.test"},
        "'unknownAssigneeError' is missing",
    ),
    (K.CHANGE_ASSIGNEE_FAILED, {"unknownAssigneeError": {}}, "'unknownAssigneeEmail' is missing"),
    (
        K.KPI_BREACHED,
        {"kpiType": "K", "priority": "CASE_PRIORITY_P1", "threshold": 300},
        "'threshold' is 300, not whole seconds",
    ),
    (
        K.KPI_BREACHED,
        {"kpiType": "K", "priority": "CASE_PRIORITY_P1", "threshold": "1.5s"},
        "'threshold' is '1.5s'",
    ),
    (
        K.KPI_BREACHED,
        {"kpiType": "K", "priority": "CASE_PRIORITY_P1", "threshold": "300"},
        "'threshold' is '300'",
    ),
    (
        K.KPI_BREACHED,
        {"kpiType": "K", "priority": "CASE_PRIORITY_P1", "threshold": "٣s"},
        "'threshold'",
    ),
    (K.KPI_BREACHED, {"priority": "CASE_PRIORITY_P1", "threshold": "3s"}, "'kpiType' is missing"),
    (
        K.DESCRIPTION_CHANGED,
        {"hadDescription": "true", "set": True},
        "'hadDescription' is a string, not true or false",
    ),
    (K.DESCRIPTION_CHANGED, {"hadDescription": True, "set": 1}, "'set' is a number"),
    (K.TAGS_CHANGED, {"added": ["a"]}, "'removed' is missing"),
    (K.TAGS_CHANGED, {"added": "a", "removed": []}, "'added' is a string, not an array"),
    (K.TAGS_CHANGED, {"added": ["a", 2], "removed": []}, "added[1] is a number"),
    (K.SEVERITY_CHANGED, {"from": "UNKNOWN", "to": "high"}, "'to' is 'high', not a severity"),
    (K.SEVERITY_CHANGED, {"from": 0, "to": "HIGH"}, "'from' is 0, not a severity"),
    (K.SEVERITY_CHANGED, {"from": "__class__", "to": "HIGH"}, "'from' is '__class__'"),
    (K.ON_HOLD_CHANGED, {"onHold": None}, "'onHold' is null, not true or false"),
    (K.ON_HOLD_CHANGED, {"onHold": 0}, "'onHold' is a number"),
    (K.EXTENSION_CHANGED, {"namespace": {"kibana": {}}}, "'namespace' is an object"),
]


@pytest.mark.parametrize(("kind", "payload", "reason"), MALFORMED)
def test_a_malformed_payload_decodes_to_unknown_with_its_reason_and_encodes_back_unchanged(
    kind: EventKind, payload: Any, reason: str
) -> None:
    before = orjson.dumps(payload)
    decoded = decode(kind, payload)
    assert isinstance(decoded, t.Unknown)
    assert decoded.kind is kind
    assert decoded.payload is payload
    assert reason in decoded.reason
    assert encode(decoded) is payload
    assert orjson.dumps(payload) == before  # decoding never changes what it read


# JSON values of every type, some of them valid somewhere in some kind.
POOL: Final[list[Any]] = [None, True, 0, -1, 2.5, "", "x", "HIGH", "300s", "CASE_PRIORITY_P1"]
POOL.extend(["CASE_STATUS_ACTIVE", [], ["a"], [{"token": "t"}], {}, {"system": 1}])


def mutate(value: Any, rng: random.Random) -> Any:
    """``value`` with one thing changed somewhere inside: a key dropped, added or given another
    value, or an array item replaced."""
    if isinstance(value, dict) and value and rng.random() < 0.8:
        key = rng.choice(sorted(value))
        out = dict(value)
        action = rng.randrange(4)
        if action == 0:
            del out[key]
        elif action == 1:
            out[key] = rng.choice(POOL)
        elif action == 2:
            out[rng.choice(["extra", "system", "token", "override"])] = rng.choice(POOL)
        else:
            out[key] = mutate(value[key], rng)
        return out
    if isinstance(value, list) and value and rng.random() < 0.8:
        i = rng.randrange(len(value))
        return [*value[:i], mutate(value[i], rng), *value[i + 1 :]]
    return rng.choice(POOL)


@pytest.mark.parametrize("row", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_a_damaged_row_never_makes_decode_raise(row: Json) -> None:
    """Each constructor's output, damaged one or two ways at a time: whatever a row holds,
    ``decode`` returns a typed event or ``Unknown`` (a listing must not fail), and what it
    read survives a round trip through its canonical form."""
    ((name, data),) = row.items()
    kind = EventKind(name)
    rng = random.Random(name)
    outcomes = set()
    for _ in range(200):
        payload = mutate(data, rng)
        if rng.random() < 0.5:
            payload = mutate(payload, rng)
        decoded = decode(kind, payload)
        assert decoded.kind is kind
        outcomes.add(type(decoded))
        if not isinstance(decoded, t.Unknown):
            assert decode(kind, encode(decoded)) == decoded
    assert t.Unknown in outcomes
