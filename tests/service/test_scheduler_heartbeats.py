"""Heartbeats through the scheduler: a heartbeat that stops arriving opens a case through
ingestion, and one that comes back resolves it; the space's stored case settings drive the
timers. A controllable clock: nothing sleeps."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from casekeeper.bootstrap import Container
from casekeeper.domain.case_settings import MINUTE, CaseLifecycle, CaseSettings, SignalRules
from casekeeper.domain.enums import ActorKind, CaseStatus
from casekeeper.domain.model import Case, CaseRef
from casekeeper.domain.signals import Firing, Signal, SignalBatch, SignalStatus, Source
from casekeeper.service.auth import Principal
from casekeeper.service.context import ServiceContext
from casekeeper.service.heartbeats import dedup_key
from casekeeper.service.scheduler import TickReport, Timers
from casekeeper.service.signals import SignalService
from tests.service.conftest import START_US, FakeClock, MakeClockedCase

BEAT = 5 * MINUTE


@pytest.fixture
def still() -> FakeClock:
    return FakeClock(step=0)


@pytest.fixture
def signals(container: Container, still: FakeClock) -> SignalService:
    return SignalService(ServiceContext(db=container.db, clock=still))


@pytest.fixture
def timers(container: Container, still: FakeClock, signals: SignalService) -> Timers:
    return Timers(ServiceContext(db=container.db, clock=still), signals=signals.ingest)


def store_settings(container: Container, p: Principal, **parts: object) -> None:
    settings = CaseSettings(id=str(uuid.uuid4()), space_id=p.space_id, name="timers", **parts)  # type: ignore[arg-type]
    with container.db.writer() as uow:
        uow.case_settings.add(settings)
        uow.commit()


def watchdog(status: SignalStatus = SignalStatus.FIRING) -> SignalBatch:
    signal = Signal(
        dedup_key="wd-fingerprint",
        status=status,
        title="Watchdog",
        labels={"alertname": "Watchdog", "severity": "none"},
        starts_at=START_US - MINUTE,
        group_key='{}:{alertname="Watchdog"}',
    )
    return SignalBatch(Source.ALERTMANAGER, (signal,), receiver="casekeeper")


def tick(timers: Timers, p: Principal, now: int) -> TickReport:
    return timers.tick(now, spaces=[p.space_id])


def firing(container: Container, p: Principal) -> Firing | None:
    with container.db.reader() as uow:
        return uow.firings.latest(p.space_id, Source.HEARTBEAT, dedup_key("Watchdog"))


def case(container: Container, p: Principal, case_id: str | None) -> Case:
    assert case_id is not None
    with container.db.reader() as uow:
        found = uow.cases.get(p.space_id, CaseRef(raw=case_id, uuid=case_id))
    assert found is not None
    return found


def test_a_missing_heartbeat_opens_a_case_and_its_return_resolves_it(
    container: Container,
    principal: Principal,
    still: FakeClock,
    signals: SignalService,
    timers: Timers,
) -> None:
    store_settings(container, principal, rules=SignalRules(heartbeats={"Watchdog": BEAT}))
    heard = still.now = START_US
    signals.ingest(principal, watchdog())  # heard: no case, the clock starts
    assert tick(timers, principal, heard + BEAT - 1).heartbeats_missed == 0
    assert firing(container, principal) is None

    still.now = heard + BEAT
    report = tick(timers, principal, still.now)
    assert report.heartbeats_missed == 1
    missed = firing(container, principal)
    assert missed is not None
    assert missed.is_open
    assert missed.starts_at == heard + BEAT  # when it fell due, whoever noticed
    opened = case(container, principal, missed.case_id)
    assert opened.status is CaseStatus.ACTIVE
    assert opened.title == "Heartbeat Watchdog stopped arriving"
    with container.db.reader() as uow:
        actors = {e.actor.kind for e in uow.events.for_case(opened.id)}
    assert actors == {ActorKind.SYSTEM}

    # level-triggered: later ticks (any worker's) see the open firing and do nothing more
    for later in (heard + BEAT, heard + 2 * BEAT):
        again = tick(timers, principal, later)
        assert (again.heartbeats_missed, again.heartbeats_back) == (0, 0)
    assert firing(container, principal) == missed

    back = still.now = heard + 3 * BEAT
    signals.ingest(principal, watchdog())  # it arrives again
    assert tick(timers, principal, back).heartbeats_back == 1
    resolved = firing(container, principal)
    assert resolved is not None
    assert not resolved.is_open
    assert resolved.ends_at == back
    assert case(container, principal, missed.case_id).status is CaseStatus.RESOLVED
    assert tick(timers, principal, back + MINUTE).heartbeats_back == 0

    # a second outage is a second firing and a new case
    still.now = back + BEAT
    assert tick(timers, principal, still.now).heartbeats_missed == 1
    second = firing(container, principal)
    assert second is not None
    assert second.starts_at == back + BEAT
    assert second.case_id != missed.case_id


def test_a_heartbeat_dropped_from_the_settings_is_not_missed(
    container: Container,
    principal: Principal,
    still: FakeClock,
    signals: SignalService,
    timers: Timers,
) -> None:
    store_settings(container, principal, rules=SignalRules(heartbeats={"Watchdog": BEAT}))
    still.now = START_US
    signals.ingest(principal, watchdog())
    with container.db.writer() as uow:
        stored = uow.case_settings.active(principal.space_id)
        uow.case_settings.save(dataclasses.replace(stored, rules=SignalRules()))
        uow.commit()
    assert tick(timers, principal, START_US + 10 * BEAT).heartbeats_missed == 0


def test_the_stored_settings_drive_the_timers(
    clocked: Container,
    principal: Principal,
    make_clocked_case: MakeClockedCase,
    timers: Timers,
) -> None:
    store_settings(clocked, principal, lifecycle=CaseLifecycle(suppression_period=10 * MINUTE))
    pending = make_clocked_case(pending=True)
    assert tick(timers, principal, pending.create_time + 10 * MINUTE - 1).activated == 0
    assert tick(timers, principal, pending.create_time + 10 * MINUTE).activated == 1
