"""Notifications through the services with a recording deliverer (a fake for the pure rules:
routing, the ledger, retries and budgets, timeline events). The real connectors against real
receivers are tested in tests/outbound and tests/notify."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from casekeeper.bootstrap import Container, bootstrap
from casekeeper.domain.commands import Acknowledge, CaseChange, Resolve
from casekeeper.domain.enums import EventKind
from casekeeper.domain.errors import CasekeeperError, ErrorCode
from casekeeper.domain.notifications import (
    DeliveryState,
    Envelope,
    NotificationResult,
    Outcome,
    Retry,
    Trigger,
)
from casekeeper.service.auth import Principal
from casekeeper.service.context import ServiceContext
from casekeeper.service.notify_config import ConnectorInput
from casekeeper.service.notify_ports import Deliverer
from casekeeper.service.notify_routes import RouteInput
from tests.conftest import MakeCase, case_maker
from tests.service.conftest import FakeClock

SECOND = 1_000_000


@dataclass
class Recorder:
    """Answers each envelope with ``answer(envelope)``; keeps every envelope it got."""

    answer: Callable[[Envelope], Outcome] = lambda _e: Outcome(ok=True)
    got: list[Envelope] = field(default_factory=list)

    def factory(self) -> Deliverer:
        rec = self

        class _D:
            async def deliver(self, envelope: Envelope) -> Outcome:
                rec.got.append(envelope)
                return rec.answer(envelope)

            async def aclose(self) -> None:
                return None

        return _D()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def notifying(container: Container, recorder: Recorder, clock: FakeClock) -> Container:
    ctx = ServiceContext(db=container.db, clock=clock, ui_base_url="https://cases.example.test")
    return bootstrap(container.settings, ctx=ctx, deliverers=recorder.factory)


@pytest.fixture
def make(notifying: Container, principal: Principal) -> MakeCase:
    return case_maker(notifying, principal)


def drain(c: Container) -> None:
    c.delivery_worker().run(threading.Event(), until_idle=True)


def hook(c: Container, p: Principal, name: str = "hook", **route: object) -> str:
    conn = c.connectors.create(p, ConnectorInput(name=name, kind="webhook",
                                                 url="http://127.0.0.1:9/hook"))  # fmt: skip
    c.routes.create(p, RouteInput(name=f"{name} route", connectors=(conn.id,), **route))  # type: ignore[arg-type]
    return conn.id


def test_an_acknowledged_case_reaches_the_matching_route_once(
    notifying: Container, principal: Principal, make: MakeCase, recorder: Recorder
) -> None:
    hook(notifying, principal, events=("acknowledged",))
    case = make(title="Disk full on db-1")
    drain(notifying)  # the creation and activation match nothing
    notifying.cases.change(principal, CaseChange(case.id, (Acknowledge(),)))
    drain(notifying)
    assert [e.view.trigger for e in recorder.got] == [Trigger.ACKNOWLEDGED]
    env = recorder.got[0]
    assert env.view.case.id == case.id
    assert env.attempt == 1
    assert env.view.case.link == f"https://cases.example.test/cases/{case.id}"
    assert "Disk full on db-1" in env.view.title

    ledger = notifying.ledger.for_cases(principal, [case.id, case.readable_id or ""])
    assert ledger[case.id] == ledger[case.readable_id or ""]
    routed = [n for n in ledger[case.id] if n.result == NotificationResult.ROUTED]
    assert len(routed) == 1
    (delivery,) = routed[0].deliveries
    assert delivery.id == env.delivery_id
    assert delivery.state == DeliveryState.DELIVERED
    assert [a.ok for a in delivery.attempts] == [True]
    sent = [e for e in notifying.timeline.list_events(principal, case.id)
            if e.data.kind == EventKind.NOTIFICATION_SENT]  # fmt: skip
    assert [(e.data.request_id, e.data.tokens) for e in sent] == [  # type: ignore[union-attr]
        (routed[0].id, (delivery.id,))
    ]


def test_an_event_no_route_matches_is_recorded_as_such(
    notifying: Container, principal: Principal, make: MakeCase, recorder: Recorder
) -> None:
    hook(notifying, principal, events=("resolved",), min_priority="P1")
    case = make(priority=3)
    notifying.cases.change(principal, CaseChange(case.id, (Resolve(reason="fixed"),)))
    drain(notifying)
    assert recorder.got == []
    notes = notifying.ledger.for_cases(principal, [case.id])[case.id]
    assert {n.result for n in notes} == {NotificationResult.NO_ROUTE}
    assert Trigger.RESOLVED in {n.trigger for n in notes}


def test_retries_back_off_then_give_up_with_a_failed_event(
    notifying: Container,
    principal: Principal,
    make: MakeCase,
    recorder: Recorder,
    clock: FakeClock,
) -> None:
    recorder.answer = lambda _e: Outcome(ok=False, error="HTTP 503 from x", retry=Retry.BACKOFF,
                                         status_code=503)  # fmt: skip
    hook(notifying, principal, events=("acknowledged",))
    case = make()
    notifying.cases.change(principal, CaseChange(case.id, (Acknowledge(),)))
    worker = notifying.delivery_worker(max_attempts=3)
    for _ in range(3):
        worker.run(threading.Event(), until_idle=True)
        clock.advance(3600 * SECOND)
    worker.run(threading.Event(), until_idle=True)
    assert len(recorder.got) == 3
    assert len({e.delivery_id for e in recorder.got}) == 1  # one idempotency key throughout
    assert [e.attempt for e in recorder.got] == [1, 2, 3]
    (note,) = [n for n in notifying.ledger.for_cases(principal, [case.id])[case.id]
               if n.result == NotificationResult.ROUTED]  # fmt: skip
    (d,) = note.deliveries
    assert d.state == DeliveryState.FAILED
    assert d.attempts[-1].error == "gave up after 3 attempts: HTTP 503 from x"
    failed = [e for e in notifying.timeline.list_events(principal, case.id)
              if e.data.kind == EventKind.NOTIFICATION_FAILED]  # fmt: skip
    assert len(failed) == 1

    # A replay gives it a new budget under the same key.
    recorder.answer = lambda _e: Outcome(ok=True)
    again = notifying.ledger.replay(principal, d.id)
    assert again.state == DeliveryState.PENDING
    drain(notifying)
    assert recorder.got[-1].delivery_id == d.id
    assert recorder.got[-1].attempt == 4
    assert notifying.ledger.delivery(principal, d.id).state == DeliveryState.DELIVERED
    with pytest.raises(CasekeeperError) as err:
        notifying.ledger.replay(principal, d.id)
    assert err.value.code == ErrorCode.NOT_REPLAYABLE


def test_a_permanent_failure_is_not_retried(
    notifying: Container, principal: Principal, make: MakeCase, recorder: Recorder
) -> None:
    recorder.answer = lambda _e: Outcome(ok=False, error="HTTP 400", retry=Retry.NO)
    hook(notifying, principal, events=("acknowledged",))
    case = make()
    notifying.cases.change(principal, CaseChange(case.id, (Acknowledge(),)))
    drain(notifying)
    assert len(recorder.got) == 1
    (note,) = [n for n in notifying.ledger.for_cases(principal, [case.id])[case.id]
               if n.result == NotificationResult.ROUTED]  # fmt: skip
    assert note.deliveries[0].state == DeliveryState.FAILED


def test_the_dry_run_explains_every_route(
    notifying: Container, principal: Principal, make: MakeCase
) -> None:
    hook(notifying, principal, "p1", min_priority="P1")
    hook(notifying, principal, "team", labels=("team=db",), stop=True)
    hook(notifying, principal, "after")
    case = make(priority=2, labels={"team": "db"})
    run = notifying.routes.dry_run(principal, case.id, "acknowledged")
    got = [(v.route.name, v.matched, v.reached) for v in run.reach.verdicts]
    assert got == [("p1 route", False, True), ("team route", True, True),
                   ("after route", False, False)]  # fmt: skip
    assert run.reach.verdicts[0].reasons == ("priority P2 is below P1",)
    assert run.reach.verdicts[2].reasons == ("route team route stops evaluation",)


def test_another_spaces_cases_give_empty_lists(
    notifying: Container, principal: Principal, make: MakeCase, make_key: object
) -> None:
    case = make()
    other = make_key(space_name="elsewhere-notify")[1]  # type: ignore[operator]
    assert notifying.ledger.for_cases(other, [case.id, "CASE-1", "nope"]) == {
        case.id: [],
        "CASE-1": [],
        "nope": [],
    }


def test_secrets_never_come_back(notifying: Container, principal: Principal) -> None:
    made = notifying.connectors.create(
        principal,
        ConnectorInput(name="pd", kind="pagerduty", secret_env="PD_ROUTING_KEY"),
    )
    assert made.secret.shown == "env:PD_ROUTING_KEY"
    slack = notifying.connectors.create(
        principal,
        ConnectorInput(name="slack", kind="slack", secret_env="SLACK_URL"),
    )
    assert slack.url is None
    with pytest.raises(CasekeeperError) as err:
        notifying.connectors.create(
            principal, ConnectorInput(name="s2", kind="slack", url="https://hooks.slack.com/x")
        )
    assert "CASEKEEPER_SECRET_KEY" in err.value.message
