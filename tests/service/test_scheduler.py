"""Timed transitions with a controllable clock: activation, auto-resolve after inactivity,
auto-close, KPI breaches (once), catch-up after downtime, and the runner thread. Every tick is
limited to the test's own space: the session database holds other tests' cases."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from casekeeper.bootstrap import Container
from casekeeper.domain import commands as cmd
from casekeeper.domain import timeline as t
from casekeeper.domain.case_settings import (
    DAY,
    HOUR,
    MINUTE,
    SECOND,
    CaseLifecycle,
    CaseSettings,
    KpiThreshold,
    KpiType,
    SignalRules,
)
from casekeeper.domain.enums import ActorKind, CasePriority, CaseStatus, KpiFilter, ResolverKind
from casekeeper.domain.events import CaseEvent
from casekeeper.domain.model import Case
from casekeeper.domain.query import CaseFilters, CaseQuery
from casekeeper.domain.timeutil import parse_rfc3339
from casekeeper.service.auth import Principal
from casekeeper.service.context import ServiceContext
from casekeeper.service.scheduler import Scheduler, TickReport, Timers
from casekeeper.store.uow import UnitOfWork
from tests.changes import one
from tests.service.conftest import FakeClock, MakeClockedCase

S = CaseStatus


def timers_with(
    clocked: Container, clock: FakeClock, lifecycle: CaseLifecycle | None = None, **kw: object
) -> Timers:
    settings = CaseSettings(id="", space_id=0, lifecycle=lifecycle or CaseLifecycle())

    def settings_of(_uow: UnitOfWork, space_id: int) -> CaseSettings:
        return replace(settings, space_id=space_id)

    ctx = ServiceContext(db=clocked.db, clock=clock)
    return Timers(ctx, settings_of=settings_of, **kw)  # type: ignore[arg-type]


def tick(timers: Timers, p: Principal, now: int) -> TickReport:
    return timers.tick(now, spaces=[p.space_id])


def get(c: Container, p: Principal, case: Case) -> Case:
    return c.cases.get(p, case.id)


def events(c: Container, p: Principal, case: Case) -> list[CaseEvent]:
    return c.timeline.list_events(p, case.id)


def status_changes(c: Container, p: Principal, case: Case) -> list[tuple[S, S, ActorKind]]:
    return [
        (e.data.old, e.data.new, e.actor.kind)
        for e in events(c, p, case)
        if isinstance(e.data, t.StatusChanged)
    ]


def test_a_pending_case_activates_once_its_suppression_period_has_passed(
    clocked: Container, clock: FakeClock, principal: Principal, make_clocked_case: MakeClockedCase
) -> None:
    timers = timers_with(clocked, clock, CaseLifecycle(suppression_period=5 * MINUTE))
    case = make_clocked_case(pending=True)
    assert case.readable_id is None
    assert tick(timers, principal, case.create_time + 5 * MINUTE - 1).activated == 0
    assert get(clocked, principal, case).status is S.PENDING_ACTIVATION

    due = case.create_time + 5 * MINUTE
    assert tick(timers, principal, due).activated == 1
    active = get(clocked, principal, case)
    assert active.status is S.ACTIVE
    assert active.readable_id is not None
    assert active.update_time == due
    assert status_changes(clocked, principal, case) == [
        (S.PENDING_ACTIVATION, S.ACTIVE, ActorKind.SYSTEM)
    ]
    # a second tick (or a second worker) finds nothing left to do
    assert tick(timers, principal, due + HOUR).total == 0
    assert len(status_changes(clocked, principal, case)) == 1


def test_with_no_suppression_period_the_next_tick_activates(
    clocked: Container, clock: FakeClock, principal: Principal, make_clocked_case: MakeClockedCase
) -> None:
    timers = timers_with(clocked, clock)  # the system default: no delay
    case = make_clocked_case(pending=True)
    assert tick(timers, principal, case.create_time).activated == 1
    assert get(clocked, principal, case).status is S.ACTIVE


def test_an_active_case_auto_resolves_after_its_inactive_period(
    clocked: Container, clock: FakeClock, principal: Principal, make_clocked_case: MakeClockedCase
) -> None:
    life = CaseLifecycle(auto_resolve=True, inactive_period=2 * HOUR)
    timers = timers_with(clocked, clock, life)
    quiet, busy = make_clocked_case(), make_clocked_case()
    clock.advance(HOUR)
    busy = one(clocked.cases, principal, busy.id, cmd.Acknowledge())  # news: its clock restarts
    assert tick(timers, principal, quiet.update_time + 2 * HOUR - 1).auto_resolved == 0

    report = tick(timers, principal, quiet.update_time + 2 * HOUR)
    assert report.auto_resolved == 1
    resolved = get(clocked, principal, quiet)
    assert resolved.status is S.RESOLVED
    assert resolved.resolution is not None
    assert resolved.resolution.resolved_by is ResolverKind.SYSTEM
    assert resolved.resolution.reason == "Resolved automatically: no update for 2 hours"
    assert get(clocked, principal, busy).status is S.ACKNOWLEDGED

    assert tick(timers, principal, busy.update_time + 2 * HOUR).auto_resolved == 1
    assert status_changes(clocked, principal, busy)[-1] == (
        S.ACKNOWLEDGED,
        S.RESOLVED,
        ActorKind.SYSTEM,
    )


def test_a_case_whose_alert_still_fires_is_not_inactive(
    clocked: Container, clock: FakeClock, principal: Principal
) -> None:
    """Alertmanager re-sends a firing alert without changing its case; the case is not quiet."""
    from casekeeper.domain.signals import Signal, SignalBatch, SignalStatus, Source

    def batch(status: SignalStatus) -> SignalBatch:
        starts = clock() - MINUTE
        signal = Signal(
            dedup_key="disk-db1", status=status, title="DiskFull",
            labels={"alertname": "DiskFull", "severity": "critical", "instance": "db1"},
            starts_at=starts, ends_at=clock() if status is SignalStatus.RESOLVED else None,
        )  # fmt: skip
        return SignalBatch(Source.ALERTMANAGER, (signal,), external_url="http://am.test")

    life = CaseLifecycle(auto_resolve=True, inactive_period=2 * HOUR)
    timers = timers_with(clocked, clock, life)
    opened = clocked.signals.ingest(principal, batch(SignalStatus.FIRING)).outcomes[0]
    assert opened.case_id is not None
    case = clocked.cases.get(principal, opened.case_id)
    clock.advance(3 * HOUR)
    assert tick(timers, principal, clock()).auto_resolved == 0
    assert get(clocked, principal, case).status is S.ACTIVE
    # A re-send three hours on changes nothing, and still nothing resolves it for inactivity.
    clocked.signals.ingest(principal, batch(SignalStatus.FIRING))
    assert tick(timers, principal, clock()).auto_resolved == 0
    assert get(clocked, principal, case).status is S.ACTIVE


@pytest.mark.parametrize(
    "life",
    [
        CaseLifecycle(auto_resolve=False, inactive_period=HOUR),
        CaseLifecycle(auto_resolve=True, inactive_period=None),
    ],
    ids=["auto-resolve off", "no inactive period"],
)
def test_without_auto_resolve_and_an_inactive_period_nothing_resolves(
    clocked: Container,
    clock: FakeClock,
    principal: Principal,
    make_clocked_case: MakeClockedCase,
    life: CaseLifecycle,
) -> None:
    timers = timers_with(clocked, clock, life)
    case = make_clocked_case()
    assert tick(timers, principal, case.update_time + 30 * DAY).auto_resolved == 0
    assert get(clocked, principal, case).status is S.ACTIVE


def test_a_resolved_case_closes_after_the_default_post_resolution_week(
    clocked: Container, clock: FakeClock, principal: Principal, make_clocked_case: MakeClockedCase
) -> None:
    timers = timers_with(clocked, clock)  # the default post-resolution period: 7 days
    case = one(clocked.cases, principal, make_clocked_case().id, cmd.Resolve("fixed"))
    assert case.end_time is not None
    assert tick(timers, principal, case.end_time + 7 * DAY - 1).auto_closed == 0
    assert get(clocked, principal, case).status is S.RESOLVED

    assert tick(timers, principal, case.end_time + 7 * DAY).auto_closed == 1
    closed = get(clocked, principal, case)
    assert closed.status is S.CLOSED
    assert closed.end_time == case.end_time  # the case stopped being open when it resolved
    assert status_changes(clocked, principal, case)[-1] == (S.RESOLVED, S.CLOSED, ActorKind.SYSTEM)
    assert tick(timers, principal, case.end_time + 30 * DAY).total == 0


def test_a_shorter_post_resolution_period_closes_sooner(
    clocked: Container, clock: FakeClock, principal: Principal, make_clocked_case: MakeClockedCase
) -> None:
    timers = timers_with(clocked, clock, CaseLifecycle(post_resolution_period=HOUR))
    case = one(clocked.cases, principal, make_clocked_case().id, cmd.Resolve())
    assert case.end_time is not None
    assert tick(timers, principal, case.end_time + HOUR).auto_closed == 1


KPIS = (
    KpiThreshold(KpiType.TIME_TO_ACKNOWLEDGE, CasePriority.P1, 5 * MINUTE),
    KpiThreshold(KpiType.TIME_TO_UPDATE, CasePriority.P1, 10 * MINUTE),
    KpiThreshold(KpiType.TIME_TO_RESOLVE, CasePriority.P1, HOUR),
    KpiThreshold(KpiType.TIME_TO_ACKNOWLEDGE, CasePriority.P2, MINUTE, enabled=False),
)


def breaches(c: Container, p: Principal, case: Case) -> list[t.KpiBreached]:
    return [e.data for e in events(c, p, case) if isinstance(e.data, t.KpiBreached)]


def test_each_kpi_breaches_once_with_an_event_and_an_entry_on_the_case(
    clocked: Container, clock: FakeClock, principal: Principal, make_clocked_case: MakeClockedCase
) -> None:
    timers = timers_with(clocked, clock, CaseLifecycle(kpis=KPIS))
    case = make_clocked_case(priority=1)
    other = make_clocked_case(priority=2)  # its only KPI is disabled
    start = case.create_time

    assert tick(timers, principal, start + 5 * MINUTE).kpi_breaches == 1  # acknowledge
    assert tick(timers, principal, start + 6 * MINUTE).kpi_breaches == 0  # once
    assert tick(timers, principal, start + 10 * MINUTE).kpi_breaches == 1  # update
    clock.now = start + 20 * MINUTE
    acked = one(clocked.cases, principal, case.id, cmd.Acknowledge())
    assert tick(timers, principal, start + 2 * HOUR).kpi_breaches == 1  # resolve (update: once)
    assert tick(timers, principal, start + 9 * HOUR).kpi_breaches == 0

    assert [
        (b.kpi_type, b.priority, b.threshold_seconds) for b in breaches(clocked, principal, case)
    ] == [
        ("KPI_TYPE_TIME_TO_ACKNOWLEDGE", CasePriority.P1, 300),
        ("KPI_TYPE_TIME_TO_UPDATE", CasePriority.P1, 600),
        ("KPI_TYPE_TIME_TO_RESOLVE", CasePriority.P1, 3600),
    ]
    stored = get(clocked, principal, case)
    assert stored.update_time == acked.update_time  # a breach is no news about the case
    entries = stored.kpi_breaches
    assert [e["kpiType"] for e in entries] == [
        "KPI_TYPE_TIME_TO_ACKNOWLEDGE",
        "KPI_TYPE_TIME_TO_UPDATE",
        "KPI_TYPE_TIME_TO_RESOLVE",
    ]
    first = entries[0]
    assert set(first) == {
        "id",
        "createdAt",
        "kpiType",
        "casePriority",
        "breachedAt",
        "breachStatus",
    }
    assert first["casePriority"] == "KPI_PRIORITY_P1"
    assert first["breachStatus"] == "BREACH_STATUS_BREACHED"
    assert parse_rfc3339(first["breachedAt"]) == start + 5 * MINUTE
    assert len({e["id"] for e in entries}) == 3
    timeline = [e for e in events(clocked, principal, case) if isinstance(e.data, t.KpiBreached)]
    assert {e.actor.kind for e in timeline} == {ActorKind.SYSTEM}
    assert breaches(clocked, principal, other) == []

    # the list filters see the breaches
    def listed(kpi: KpiFilter) -> set[str]:
        query = CaseQuery(filters=CaseFilters(breached=(kpi,)))
        return {x.id for x in clocked.cases.list_cases(principal, query)[0]}

    assert listed(KpiFilter.TIME_TO_RESOLVE_BREACHED) == {case.id}
    assert listed(KpiFilter.NOT_BREACHED) == {other.id}


def test_time_to_acknowledge_does_not_breach_once_acknowledged(
    clocked: Container, clock: FakeClock, principal: Principal, make_clocked_case: MakeClockedCase
) -> None:
    timers = timers_with(clocked, clock, CaseLifecycle(kpis=KPIS[:1]))
    case = make_clocked_case(priority=1)
    one(clocked.cases, principal, case.id, cmd.Acknowledge())
    assert tick(timers, principal, case.create_time + DAY).kpi_breaches == 0


def test_a_tick_after_downtime_catches_up_on_everything_once(
    clocked: Container, clock: FakeClock, principal: Principal, make_clocked_case: MakeClockedCase
) -> None:
    life = CaseLifecycle(
        suppression_period=MINUTE, inactive_period=HOUR, post_resolution_period=DAY, kpis=KPIS
    )
    timers = timers_with(clocked, clock, life, batch=4)  # several batches of each kind
    pending = [make_clocked_case(pending=True) for _ in range(9)]
    quiet = [make_clocked_case(priority=1) for _ in range(6)]
    resolved = [
        one(clocked.cases, principal, make_clocked_case().id, cmd.Resolve()) for _ in range(5)
    ]
    back = clock.now + 30 * DAY  # the scheduler was down for a month
    report = tick(timers, principal, back)
    # Each case moves one step: activation and auto-resolve restart the clocks behind them.
    assert (report.activated, report.auto_resolved, report.auto_closed) == (9, 6, 5)
    # the quiet P1 cases breached acknowledge, update and resolve before they auto-resolved
    assert report.kpi_breaches == 18
    assert all(get(clocked, principal, x).status is S.ACTIVE for x in pending)
    assert all(get(clocked, principal, x).status is S.RESOLVED for x in quiet)
    assert all(get(clocked, principal, x).status is S.CLOSED for x in resolved)
    numbers = sorted(get(clocked, principal, x).number or 0 for x in pending)
    assert len(set(numbers)) == 9
    assert tick(timers, principal, back).total == 0
    # a day later the auto-resolved cases close too
    assert tick(timers, principal, back + DAY).auto_closed == 6


def test_kpi_breaches_found_after_downtime_say_when_they_happened(
    clocked: Container, clock: FakeClock, principal: Principal, make_clocked_case: MakeClockedCase
) -> None:
    timers = timers_with(clocked, clock, CaseLifecycle(kpis=KPIS), batch=2)
    cases = [make_clocked_case(priority=1) for _ in range(3)]
    back = clock.now + 30 * DAY
    assert tick(timers, principal, back).kpi_breaches == 9
    for case in cases:
        entries = {e["kpiType"]: e for e in get(clocked, principal, case).kpi_breaches}
        acknowledge = entries["KPI_TYPE_TIME_TO_ACKNOWLEDGE"]
        assert parse_rfc3339(acknowledge["breachedAt"]) == case.create_time + 5 * MINUTE
        assert parse_rfc3339(acknowledge["createdAt"]) == back
        breached = [
            e for e in events(clocked, principal, case) if isinstance(e.data, t.KpiBreached)
        ]
        assert sorted(e.event_time - case.create_time for e in breached) == [
            5 * MINUTE,
            10 * MINUTE,
            HOUR,
        ]


def test_reconciliation_runs_per_space_every_reconcile_interval(
    clocked: Container, clock: FakeClock, principal: Principal
) -> None:
    calls: list[tuple[int, int]] = []

    def reconcile(space: int, now: int) -> int:
        calls.append((space, now))
        return 0

    timers = timers_with(clocked, clock, reconcile=reconcile)
    start = clock.now
    interval = SignalRules().reconcile_interval
    for offset in (0, interval // 2, interval, interval + SECOND):
        tick(timers, principal, start + offset)
    assert calls == [(principal.space_id, start), (principal.space_id, start + interval)]


def test_reconciliation_runs_in_one_process_of_many(
    clocked: Container, clock: FakeClock, principal: Principal
) -> None:
    """Four schedulers (as in four processes) ticking at once on one database: each interval's
    run is claimed by exactly one of them (due.claim_run)."""
    calls: list[int] = []

    def reconcile(_space: int, now: int) -> int:
        calls.append(now)
        return 0

    fleet = [timers_with(clocked, clock, reconcile=reconcile) for _ in range(4)]
    start, interval = clock.now, SignalRules().reconcile_interval
    for offset in (0, SECOND, interval, interval + SECOND, 3 * interval):
        at = start + offset
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda timers, at=at: tick(timers, principal, at), fleet))
    assert calls == [start, start + interval, start + 3 * interval]


def test_a_failing_reconciliation_does_not_stop_the_timers(
    clocked: Container, clock: FakeClock, principal: Principal, make_clocked_case: MakeClockedCase
) -> None:
    def broken(_space: int, _now: int) -> int:
        raise ConnectionError("alertmanager is down")

    timers = timers_with(clocked, clock, reconcile=broken)
    case = make_clocked_case(pending=True)
    report = tick(timers, principal, case.create_time)
    assert (report.activated, report.reconciled) == (1, 0)


def test_the_scheduler_thread_ticks_and_stops(
    clocked: Container, clock: FakeClock, principal: Principal, make_clocked_case: MakeClockedCase
) -> None:
    timers = timers_with(clocked, clock)
    ticked = threading.Event()
    real_tick = timers.tick

    def one_space(now: int | None = None, **kw: object) -> TickReport:
        report = real_tick(now, spaces=[principal.space_id], stop=scheduler.stopping)
        ticked.set()
        return report

    timers.tick = one_space  # type: ignore[method-assign]
    case = make_clocked_case(pending=True)
    scheduler = Scheduler(timers, interval=3600)  # one tick at start, then it waits
    scheduler.start()
    assert ticked.wait(30)
    scheduler.stop()
    assert scheduler.ticks == 1
    assert get(clocked, principal, case).status is S.ACTIVE


def test_one_spaces_failure_does_not_stop_the_others(
    clocked: Container,
    clock: FakeClock,
    principal: Principal,
    make_clocked_case: MakeClockedCase,
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken = principal.space_id + 1_000_000  # a space whose settings cannot be read

    def settings_of(_uow: UnitOfWork, space_id: int) -> CaseSettings:
        if space_id == broken:
            raise RuntimeError("this space's settings are unreadable")
        return CaseSettings(id="", space_id=space_id, lifecycle=CaseLifecycle())

    timers = Timers(ServiceContext(db=clocked.db, clock=clock), settings_of=settings_of)
    case = make_clocked_case(pending=True)
    with caplog.at_level("ERROR", logger="casekeeper.scheduler"):
        report = timers.tick(case.create_time, spaces=[broken, principal.space_id])
    assert report.activated == 1
    assert get(clocked, principal, case).status is S.ACTIVE
    assert f"space {broken}" in caplog.text
