"""The real dispatcher through the services and the delivery worker, against a real receiver:
retries under one idempotency key until the budget is spent, the ledger and the timeline of
that, a replay, and a case change that never waits for a receiver."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from casekeeper.bootstrap import Container
from casekeeper.domain import timeline as t
from casekeeper.domain.commands import Acknowledge, CaseChange
from casekeeper.domain.notifications import DeliveryState, NotificationResult
from casekeeper.domain.notify_ledger import DeliveryRecord, NotificationRecord
from casekeeper.service.auth import Principal
from casekeeper.service.notify_config import ConnectorInput
from casekeeper.service.notify_routes import RouteInput
from tests.conftest import MakeCase
from tests.notify.receiver import Receiver

FAST = {"max_attempts": 3, "base_delay": 0.01, "max_delay": 0.02}


def route_acknowledgements(c: Container, p: Principal, url: str) -> None:
    hook = c.connectors.create(p, ConnectorInput(name="hook", kind="webhook", url=url))
    c.routes.create(p, RouteInput(name="acks", connectors=(hook.id,), events=("acknowledged",)))


def routed(c: Container, p: Principal, case_id: str) -> tuple[NotificationRecord, DeliveryRecord]:
    """The case's one routed notification and its one delivery."""
    (note,) = [n for n in c.ledger.for_cases(p, [case_id])[case_id]
               if n.result == NotificationResult.ROUTED]  # fmt: skip
    (delivery,) = note.deliveries
    return note, delivery


def work_until(c: Container, done: Callable[[], bool], timeout: float = 30.0) -> None:
    """Run the worker pass after pass, as its loop would, until ``done()``: a retry is due only
    after its (tiny) backoff, so a pass may find nothing to do yet."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "the worker did not get there in time"
        c.delivery_worker(**FAST).run(threading.Event(), until_idle=True)
        time.sleep(0.05)


def timeline(c: Container, p: Principal, case_id: str) -> list[t.TimelineEvent]:
    return [e.data for e in c.timeline.list_events(p, case_id)]


def test_a_failing_receiver_is_retried_under_one_key_then_given_up_and_replayed(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    with Receiver(record_bodies=True) as r:
        r.status = 500
        route_acknowledgements(container, principal, r.url)
        case = make_case(title="Disk full on db-1")
        container.cases.change(principal, CaseChange(case.id, (Acknowledge(),)))

        def given_up() -> bool:
            notes = container.ledger.for_cases(principal, [case.id])[case.id]
            states = [d.state for n in notes for d in n.deliveries]
            return states == [DeliveryState.FAILED]

        work_until(container, given_up)
        note, delivery = routed(container, principal, case.id)
        sent = [headers for _, headers, _ in r.seen.bodies]
        assert [h["x-casekeeper-delivery"] for h in sent] == [delivery.id] * 3
        assert [h["idempotency-key"] for h in sent] == [delivery.id] * 3
        assert [h["x-casekeeper-attempt"] for h in sent] == ["1", "2", "3"]
        assert [(a.number, a.ok, a.status_code) for a in delivery.attempts] == [
            (1, False, 500), (2, False, 500), (3, False, 500)]  # fmt: skip
        error = f"HTTP 500 from http://127.0.0.1:{r.port}: ok"
        assert [a.error for a in delivery.attempts] == [
            error, error, f"gave up after 3 attempts: {error}"]  # fmt: skip
        assert delivery.last_error == f"gave up after 3 attempts: {error}"
        events = timeline(container, principal, case.id)
        assert [e for e in events if isinstance(e, t.NotificationFailed)] == [
            t.NotificationFailed(error=f"hook: gave up after 3 attempts: {error}")]  # fmt: skip
        assert not [e for e in events if isinstance(e, t.NotificationSent)]

        r.status = 200
        assert container.ledger.replay(principal, delivery.id).state == DeliveryState.PENDING
        work_until(container, lambda: routed(container, principal, case.id)[1].state
                   == DeliveryState.DELIVERED)  # fmt: skip
        _, again = routed(container, principal, case.id)
        last = r.seen.bodies[-1][1]
        assert (last["x-casekeeper-delivery"], last["x-casekeeper-attempt"]) == (delivery.id, "4")
        assert r.seen.requests == 4
    assert [(a.number, a.ok, a.status_code) for a in again.attempts][-1] == (4, True, 200)
    sent_events = [e for e in timeline(container, principal, case.id)
                   if isinstance(e, t.NotificationSent)]  # fmt: skip
    assert sent_events == [t.NotificationSent(request_id=note.id, tokens=(delivery.id,))]


def test_a_case_change_never_waits_for_a_receiver(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    first, second = make_case(), make_case()
    with Receiver() as r:
        r.delay = 5.0  # holds every request this long before answering
        route_acknowledgements(container, principal, r.url)
        container.cases.change(principal, CaseChange(first.id, (Acknowledge(),)))
        worker = threading.Thread(
            target=container.delivery_worker(**FAST).run,
            args=(threading.Event(),), kwargs={"until_idle": True},
        )  # fmt: skip
        worker.start()
        deadline = time.monotonic() + 5
        while r.seen.requests == 0:  # the first notification is on the wire, unanswered
            assert time.monotonic() < deadline
            time.sleep(0.01)

        started = time.monotonic()
        changed = container.cases.change(principal, CaseChange(second.id, (Acknowledge(),)))
        assert time.monotonic() - started < 1.0
        assert changed.status.name == "ACKNOWLEDGED"
        assert routed(container, principal, first.id)[1].state == DeliveryState.SENDING

        r.delay = 0.0
        worker.join(30)
        assert not worker.is_alive()
        for case in (first, second):  # the worker caught up: nothing left for other tests
            assert routed(container, principal, case.id)[1].state == DeliveryState.DELIVERED
        assert r.seen.requests == 2
