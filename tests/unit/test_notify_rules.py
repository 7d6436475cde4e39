"""The pure rules of notifications: which events are triggers, what a route matches and why,
and what an attempt's outcome makes of its delivery (retry times, budgets)."""

from __future__ import annotations

import random

import pytest

from casekeeper.domain import timeline as t
from casekeeper.domain.enums import CaseCategory, CasePriority, CaseStatus
from casekeeper.domain.errors import CasekeeperError
from casekeeper.domain.model import Case, KeyValue, PriorityDetails
from casekeeper.domain.notifications import (
    TRIGGER_KINDS,
    CaseView,
    DeliveryState,
    NotificationView,
    Outcome,
    Retry,
    RouteFilter,
    Trigger,
    trigger_of,
)
from casekeeper.domain.notify_templates import TemplateError, compile_template, render
from casekeeper.service.notify_delivery import SECOND, DeliveryPolicy, backoff, decide
from casekeeper.store.ledger import Claim

S = CaseStatus


@pytest.mark.parametrize(
    ("event", "trigger"),
    [
        (t.StatusChanged(S.PENDING_ACTIVATION, S.ACTIVE), Trigger.OPENED),
        (t.StatusChanged(S.RESOLVED, S.ACTIVE), Trigger.REOPENED),
        (t.StatusChanged(S.CLOSED, S.ACTIVE), Trigger.REOPENED),
        (t.StatusChanged(S.ACKNOWLEDGED, S.ACTIVE), None),  # unacknowledged: nobody is paged
        (t.StatusChanged(S.ACTIVE, S.ACKNOWLEDGED), Trigger.ACKNOWLEDGED),
        (t.StatusChanged(S.ACTIVE, S.RESOLVED), Trigger.RESOLVED),
        (t.StatusChanged(S.RESOLVED, S.CLOSED), Trigger.CLOSED),
        (t.PriorityChanged(PriorityDetails(CasePriority.P3), PriorityDetails(CasePriority.P1)),
         Trigger.PRIORITY_CHANGED),
        # a new system priority under an unchanged override: nothing a person sees changed
        (t.PriorityChanged(PriorityDetails(CasePriority.P3, CasePriority.P1),
                           PriorityDetails(CasePriority.P4, CasePriority.P1)), None),
        (t.NotificationSent("x", ("y",)), None),
        (t.NotificationFailed("boom"), None),
        (t.TagsChanged(("a",)), None),
    ],
)  # fmt: skip
def test_which_events_are_triggers(event: t.TimelineEvent, trigger: Trigger | None) -> None:
    assert trigger_of(event) == trigger
    if trigger is not None:  # routing reads only events of these kinds
        assert event.kind in TRIGGER_KINDS


def _case(**kw: object) -> Case:
    base: dict[str, object] = {
        "id": "c1", "space_id": 1, "title": "Disk full", "status": S.ACTIVE,
        "priority": PriorityDetails(CasePriority.P3), "category": CaseCategory.AVAILABILITY,
        "create_time": 1, "update_time": 1, "labels": (KeyValue("team", "db"),),
    }  # fmt: skip
    base.update(kw)
    return Case(**base)  # type: ignore[arg-type]


def test_a_filter_says_why_for_each_part() -> None:
    f = RouteFilter(
        triggers=frozenset({Trigger.OPENED}),
        min_priority=CasePriority.P2,
        categories=frozenset({CaseCategory.SECURITY}),
        labels=(("team", "db"), ("env", "prod")),
    )
    ok, reasons = f.explain(Trigger.ACKNOWLEDGED, _case())
    assert not ok
    assert reasons == (
        "event acknowledged is not one of opened",
        "priority P3 is below P2",
        "category AVAILABILITY is not one of SECURITY",
        "label team=db is on the case",
        "label env=prod is not on the case",
    )
    assert RouteFilter(min_priority=CasePriority.P3).explain(Trigger.OPENED, _case())[0]
    unset = _case(priority=PriorityDetails(CasePriority.UNSPECIFIED))
    assert not RouteFilter(min_priority=CasePriority.P5).explain(Trigger.OPENED, unset)[0]


def _claim(attempts: int = 0, budget_attempts: int = 0, budget_time: int = 0) -> Claim:
    view = NotificationView(
        notification_id="n", space_id=1, trigger=Trigger.OPENED, event_id=None, event_time=0,
        actor="a", summary="s", title="t", text="x",
        case=CaseView("c", None, "t", "ACTIVE", "P1", "SECURITY", (), {}, "http://l"),
    )  # fmt: skip
    return Claim("d", "n", 1, "c", "k", "hook", attempts, budget_attempts, budget_time, "tok", view)


POLICY = DeliveryPolicy(max_attempts=5, max_age=3600, base_delay=2, max_delay=600)


def test_backoff_doubles_with_jitter_in_the_upper_half_and_is_capped() -> None:
    rng = random.Random(7)
    for attempt, ceiling in ((1, 2), (2, 4), (3, 8), (12, 600)):
        for _ in range(50):
            delay = backoff(attempt, POLICY, rng)
            assert ceiling / 2 <= delay <= ceiling


def test_outcomes_become_states() -> None:
    rng = random.Random(1)
    now = 10 * SECOND
    assert decide(_claim(), Outcome(ok=True), now, POLICY, rng).state == DeliveryState.DELIVERED
    bad = Outcome(ok=False, error="HTTP 400", retry=Retry.NO, status_code=400)
    assert decide(_claim(), bad, now, POLICY, rng).state == DeliveryState.FAILED

    later = decide(_claim(), Outcome(ok=False, error="503", retry=Retry.BACKOFF), now, POLICY, rng)
    assert later.state == DeliveryState.PENDING
    assert now + 1 * SECOND <= later.next_time <= now + 2 * SECOND
    assert later.record.number == 1


def test_retry_after_is_honoured_and_capped() -> None:
    rng = random.Random(1)
    slow = Outcome(ok=False, error="429", retry=Retry.AFTER, retry_after=30.0, status_code=429)
    r = decide(_claim(), slow, 0, POLICY, rng)
    assert (r.state, r.next_time) == (DeliveryState.PENDING, 30 * SECOND)
    huge = Outcome(ok=False, error="429", retry=Retry.AFTER, retry_after=1e9)
    assert decide(_claim(), huge, 0, POLICY, rng).next_time == 3600 * SECOND  # capped
    short = DeliveryPolicy(max_age=600)
    assert decide(_claim(), huge, 0, short, rng).state == DeliveryState.FAILED  # past its age


def test_the_budget_counts_from_the_last_replay() -> None:
    rng = random.Random(1)
    fail = Outcome(ok=False, error="503", retry=Retry.BACKOFF)
    spent = decide(_claim(attempts=4), fail, 0, POLICY, rng)
    assert spent.state == DeliveryState.FAILED
    assert spent.record.error == "gave up after 5 attempts: 503"
    replayed = decide(_claim(attempts=4, budget_attempts=4), fail, 0, POLICY, rng)
    assert replayed.state == DeliveryState.PENDING


def test_templates_are_sandboxed_and_checked() -> None:
    assert render("{{ case.title | upper }}", {"case": {"title": "disk"}}) == "DISK"
    assert render("[{{ case.labels.team }}]", {"case": {"labels": {}}}) == "[]"
    with pytest.raises(CasekeeperError) as err:
        compile_template("{{ oops", "template.title")
    assert err.value.field == "template.title"
    assert render("{{ ''.__class__.__mro__ }}", {}) == ""  # the sandbox hides it
    with pytest.raises(TemplateError):
        render("{{ 1 / 0 }}", {})
    with pytest.raises(TemplateError, match="rendered to more than"):
        render("{% for i in range(90000) %}{{ 'xx' }}{% endfor %}", {})
