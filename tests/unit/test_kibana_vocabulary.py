"""Kibana's words, both ways: every canonical status and priority has a Kibana word, every
Kibana write means the commands docs/KIBANA.md says, and reading back gives the word written."""

from __future__ import annotations

import pytest

from casekeeper.api.kibana import vocabulary as vocab
from casekeeper.domain import commands as cmd
from casekeeper.domain.enums import ActorKind, CaseCategory, CasePriority, CaseStatus
from casekeeper.domain.lifecycle import apply_all
from casekeeper.domain.model import Case, PriorityDetails

S = CaseStatus


def case(status: CaseStatus, priority: CasePriority = CasePriority.P3, **kw: object) -> Case:
    kw.setdefault("category", CaseCategory.AVAILABILITY)
    return Case(
        id="c",
        space_id=1,
        title="t",
        status=status,
        priority=PriorityDetails(system=priority),
        create_time=1,
        update_time=1,
        **kw,  # type: ignore[arg-type]
    )


def test_every_status_and_priority_has_a_word() -> None:
    assert {s for s in CaseStatus if s is not S.UNSPECIFIED} <= set(vocab.STATUS)
    assert set(vocab.STATUSES_OF) == {"open", "in-progress", "closed"}
    for word, statuses in vocab.STATUSES_OF.items():
        assert all(vocab.STATUS[s] == word for s in statuses)
    for word, priority in vocab.PRIORITY_OF.items():
        assert vocab.SEVERITY[priority] == word
        assert priority in vocab.PRIORITIES_OF[word]


@pytest.mark.parametrize("start", [S.ACTIVE, S.ACKNOWLEDGED, S.RESOLVED, S.CLOSED])
@pytest.mark.parametrize("wanted", ["open", "in-progress", "closed"])
def test_a_status_write_reads_back_as_written(start: CaseStatus, wanted: str) -> None:
    before = case(start)
    commands = vocab.status_commands(before, wanted)
    after = (
        apply_all(before, commands, actor_kind=ActorKind.USER, now=2).case if commands else before
    )
    assert vocab.STATUS[after.status] == wanted
    if wanted == "closed" and start is not S.RESOLVED and start is not S.CLOSED:
        assert commands == (cmd.Close(),)  # closed is Close, never Resolve


def test_in_progress_acknowledges_and_open_unacknowledges_or_reopens() -> None:
    assert vocab.status_commands(case(S.ACTIVE), "in-progress") == (cmd.Acknowledge(),)
    assert vocab.status_commands(case(S.CLOSED), "in-progress") == (cmd.Reopen(), cmd.Acknowledge())
    assert vocab.status_commands(case(S.ACKNOWLEDGED), "open") == (cmd.Unacknowledge(),)
    assert vocab.status_commands(case(S.RESOLVED), "open") == (cmd.Reopen(),)
    assert vocab.status_commands(case(S.RESOLVED), "closed") == ()  # it reads closed already
    assert vocab.status_commands(case(S.CLOSED), "closed") == ()


@pytest.mark.parametrize("word", ["low", "medium", "high", "critical"])
def test_a_severity_write_is_an_override_that_reads_back(word: str) -> None:
    before = case(S.ACTIVE, CasePriority.P5 if word != "low" else CasePriority.P1)
    (command,) = vocab.severity_commands(before, word)
    assert isinstance(command, cmd.SetPriorityOverride)
    after = apply_all(before, (command,), actor_kind=ActorKind.USER, now=2).case
    assert vocab.SEVERITY[after.effective_priority] == word
    assert vocab.severity_commands(after, word) == ()


def test_owner_comes_from_the_extension_or_the_category() -> None:
    assert vocab.owner_of(case(S.ACTIVE)) == "observability"
    sec = case(S.ACTIVE, category=CaseCategory.SECURITY)
    assert vocab.owner_of(sec) == "securitySolution"
    mine = case(S.ACTIVE, extensions={"kibana": {"owner": "cases"}})
    assert vocab.owner_of(mine) == "cases"
    assert vocab.category_of("securitySolution") is CaseCategory.SECURITY
    assert vocab.category_of("cases") is CaseCategory.AVAILABILITY
