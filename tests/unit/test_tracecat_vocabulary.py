"""OCSF / Tracecat words both ways (docs/TRACECAT.md): every canonical state reads as one word,
every word written from every state reads back as written, the words casekeeper cannot act on
are refused, and every kind of timeline event renders as a Tracecat event."""

from __future__ import annotations

import orjson
import pytest

from casekeeper.api.tracecat import render
from casekeeper.api.tracecat import vocabulary as vocab
from casekeeper.domain import timeline as t
from casekeeper.domain.enums import (
    ActorKind,
    CaseCategory,
    CasePriority,
    CaseStatus,
    EventKind,
    Severity,
)
from casekeeper.domain.errors import CasekeeperError
from casekeeper.domain.events import Actor, CaseEvent
from casekeeper.domain.lifecycle import apply_all
from casekeeper.domain.model import Case, PriorityDetails
from tests.unit.event_cases import CASES

S = CaseStatus
WRITABLE = ("new", "in_progress", "on_hold", "resolved", "closed")


def case(
    status: CaseStatus, *, on_hold: bool = False, override: CasePriority | None = None
) -> Case:
    return Case(
        id="c", space_id=1, title="t", status=status,
        priority=PriorityDetails(system=CasePriority.P3, override=override),
        category=CaseCategory.SECURITY, create_time=1, update_time=1, on_hold=on_hold,
    )  # fmt: skip


STATES = [case(S.ACTIVE), case(S.ACKNOWLEDGED), case(S.ACKNOWLEDGED, on_hold=True),
          case(S.RESOLVED), case(S.CLOSED)]  # fmt: skip


def test_every_canonical_state_reads_as_one_ocsf_word() -> None:
    assert [vocab.status_of(c) for c in STATES] == list(WRITABLE)
    assert vocab.status_of(case(S.PENDING_ACTIVATION)) == "new"
    assert {vocab.PRIORITY_WORD[p] for p in CasePriority} <= set(vocab.PRIORITIES)
    assert [vocab.SEVERITY_WORD[s] for s in Severity] == [
        "unknown", "informational", "low", "medium", "high", "critical", "fatal", "other",
    ]  # fmt: skip


@pytest.mark.parametrize("start", STATES, ids=[vocab.status_of(c) for c in STATES])
@pytest.mark.parametrize("wanted", WRITABLE)
def test_a_status_written_from_any_state_reads_back(start: Case, wanted: str) -> None:
    commands = vocab.status_commands(start, wanted)
    after = apply_all(start, commands, actor_kind=ActorKind.USER, now=2).case if commands else start
    assert vocab.status_of(after) == wanted
    assert (commands == ()) == (vocab.status_of(start) == wanted)  # a repeat changes nothing


@pytest.mark.parametrize("word", ["unknown", "other"])
def test_statuses_nobody_normalized_are_refused_and_match_nothing(word: str) -> None:
    with pytest.raises(CasekeeperError, match="new, in_progress, on_hold"):
        vocab.status_commands(case(S.ACTIVE), word)
    assert vocab.status_filter([word]) == ((S.UNSPECIFIED,), None)


def test_status_filters_split_acknowledged_cases_by_hold() -> None:
    assert vocab.status_filter(["in_progress"]) == ((S.ACKNOWLEDGED,), False)
    assert vocab.status_filter(["on_hold"]) == ((S.ACKNOWLEDGED,), True)
    assert vocab.status_filter(["on_hold", "in_progress"]) == ((S.ACKNOWLEDGED,), None)
    assert vocab.status_filter(["new", "closed"]) == ((S.PENDING_ACTIVATION, S.ACTIVE, S.CLOSED),
                                                      None)  # fmt: skip
    assert vocab.status_filter([]) == ((), None)


@pytest.mark.parametrize("word", ["low", "medium", "high", "critical"])
def test_a_priority_written_is_an_override_that_reads_back(word: str) -> None:
    start = case(S.ACTIVE)
    after = apply_all(start, vocab.priority_commands(start, word), actor_kind=ActorKind.USER,
                      now=2).case  # fmt: skip
    assert vocab.priority_of(after) == word
    assert after.priority.override is not None


def test_unknown_priority_clears_the_override_and_other_is_refused() -> None:
    start = case(S.ACTIVE, override=CasePriority.P1)
    after = apply_all(start, vocab.priority_commands(start, "unknown"),
                      actor_kind=ActorKind.USER, now=2).case  # fmt: skip
    assert after.priority.override is None
    assert vocab.priority_of(after) == "medium"  # the system's P3
    assert vocab.priority_commands(after, "unknown") == ()
    with pytest.raises(CasekeeperError, match="'other' is not a priority"):
        vocab.priority_commands(start, "other")
    assert vocab.priority_filter(["low"]) == (CasePriority.P4, CasePriority.P5)
    assert vocab.priority_filter(["other"]) == (CasePriority.UNSPECIFIED,)


TRACECAT_TYPES = {
    EventKind.CREATED: {"case_created"},
    EventKind.COMMENT: {"comment_created"},
    EventKind.STATUS_CHANGED: {"status_changed", "case_closed", "case_reopened"},
    EventKind.ON_HOLD_CHANGED: {"status_changed"},
    EventKind.ASSIGNED: {"assignee_changed"},
    EventKind.UNASSIGNED: {"assignee_changed"},
    EventKind.PRIORITY_DETAILS_CHANGED: {"priority_changed"},
    EventKind.SEVERITY_CHANGED: {"severity_changed"},
    EventKind.TITLE_CHANGED: {"case_updated"},
    EventKind.DESCRIPTION_CHANGED: {"case_updated"},
    EventKind.RESOLUTION_REASON_CHANGED: {"case_updated"},
    EventKind.TAGS_CHANGED: {"tag_added", "tag_removed"},
}


@pytest.mark.parametrize(("name", "data"), [(n, d) for n, _, d in CASES],
                         ids=[n for n, *_ in CASES])  # fmt: skip
def test_every_event_kind_renders_as_a_tracecat_event(name: str, data: t.TimelineEvent) -> None:
    event = CaseEvent("e", "c", 1, data, Actor.api_key("k", "bot"), 1_000, 1_000)
    out = render.event_json(event, "ws")
    assert out or isinstance(data, t.TagsChanged)  # an empty tag change shows nothing
    for item in out:
        orjson.dumps(item)  # JSON all the way down
        assert item["user_id"] is None
        assert item["actor"] == "apiKey:bot"
        expected = TRACECAT_TYPES.get(data.kind)
        if expected is None:
            assert item["type"] == f"casekeeper.{data.kind.value}", name
        else:
            assert item["type"] in expected, name


def test_status_events_say_closed_and_reopened() -> None:
    def one(old: CaseStatus, new: CaseStatus) -> tuple[str, str, str]:
        (x,) = render.event_json(CaseEvent("e", "c", 1, t.StatusChanged(old, new),
                                           Actor.user("u"), 1, 1), "ws")  # fmt: skip
        return x["type"], x["old"], x["new"]

    assert one(S.ACTIVE, S.ACKNOWLEDGED) == ("status_changed", "new", "in_progress")
    assert one(S.RESOLVED, S.CLOSED) == ("case_closed", "resolved", "closed")
    assert one(S.CLOSED, S.ACTIVE) == ("case_reopened", "closed", "new")
