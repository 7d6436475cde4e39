"""Timed transitions: what happens to cases because time passed (docs/LIFECYCLE_TIMERS.md).

One ``Timers.tick(now)`` finds, for every space and under that space's active case settings,
the cases a timer has come due for and moves them: activation after the suppression period,
auto-resolve after the inactive period, auto-close after the post-resolution period, and KPI
breaches. Each kind is drained in batches: a batch is claimed (``store.due``: locked rows on
PostgreSQL, passed over when another process holds them), re-checked under the lock, changed
through the domain lifecycle, recorded with actor ``system`` and committed, so each transition
happens once however many processes tick over one database. Every condition is on stored
times, so a tick after downtime catches up on whatever fell due meanwhile.

``Scheduler`` runs ticks on a thread (``casekeeper serve``, ``casekeeper worker``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Final

from casekeeper.domain.case_settings import CaseSettings
from casekeeper.domain.enums import CaseStatus
from casekeeper.domain.errors import CasekeeperError, ErrorCode
from casekeeper.domain.events import Actor
from casekeeper.domain.model import Case
from casekeeper.service import heartbeats
from casekeeper.service.context import ServiceContext, new_events, record
from casekeeper.service.incident_effects import close_with_cases
from casekeeper.service.timer_steps import (
    OPEN,
    Claim,
    Step,
    activate,
    auto_close,
    auto_resolve,
    breach_step,
    kpi_claim,
    timed,
)
from casekeeper.store import due
from casekeeper.store.uow import UnitOfWork

if TYPE_CHECKING:
    from casekeeper.bootstrap import Container

log = logging.getLogger("casekeeper.scheduler")
S = CaseStatus
BATCH: Final = 200  # cases claimed, changed and committed together
SettingsOf = Callable[[UnitOfWork, int], CaseSettings]
# Alertmanager reconciliation and silence sync for one space: (space id, now in µs).
# (space id, now) → alerts resolved by reconciliation; silences made or expired.
Reconcile = Callable[[int, int], int]
Silence = Callable[[int, int], int]


def active_settings(uow: UnitOfWork, space_id: int) -> CaseSettings:
    """The space's active case settings (the system defaults when it has none)."""
    return uow.case_settings.active(space_id)


@dataclass(slots=True)
class TickReport:
    """What one tick did."""

    activated: int = 0
    auto_resolved: int = 0
    auto_closed: int = 0
    kpi_breaches: int = 0
    heartbeats_missed: int = 0  # heartbeats found missing: a firing signal ingested
    heartbeats_back: int = 0  # heartbeats back: their firing resolved
    reconciled: int = 0  # alerts resolved because their Alertmanager no longer has them
    silences: int = 0  # Alertmanager silences made, renewed or expired (acknowledge-until-clear)
    conflicts: int = 0  # batches undone by a concurrent change, left for the next tick

    def add(self, other: TickReport) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def total(self) -> int:
        return self.activated + self.auto_resolved + self.auto_closed + self.kpi_breaches


# What a claim returns (cases due, locked) and what a step makes of one case under its lock:
# None when it is no longer due, else (new case, timeline payloads, their event time).


@dataclass
class Timers:
    """The timed transitions over one database. ``signals`` (ingestion) is told about missing
    heartbeats; without it they are not watched. ``reconcile`` (optional) is called for each
    space every ``rules.reconcile_interval`` of its settings."""

    ctx: ServiceContext
    batch: int = BATCH
    settings_of: SettingsOf = active_settings
    signals: heartbeats.Ingest | None = None
    reconcile: Reconcile | None = None
    silence: Silence | None = None  # every tick, in spaces with acknowledge_silences on
    _reconciled: dict[int, int] = field(default_factory=dict)  # space → not before (µs)

    def tick(
        self,
        now: int | None = None,
        *,
        spaces: Iterable[int] | None = None,
        stop: threading.Event | None = None,
    ) -> TickReport:
        """Apply everything due at ``now`` (the context's clock by default) in ``spaces`` (all
        by default). ``stop`` ends the tick between batches."""
        now = self.ctx.clock() if now is None else now
        if spaces is None:
            with self.ctx.db.reader() as uow:
                spaces = due.space_ids(uow.conn)
        report = TickReport()
        for space_id in spaces:
            if stop is not None and stop.is_set():
                break
            try:  # one space's failure must not stop the others' timers
                report.add(self.tick_space(space_id, now, stop=stop))
            except Exception:
                log.exception("space %s: this tick's timed transitions failed", space_id)
        return report

    def tick_space(
        self, space_id: int, now: int, *, stop: threading.Event | None = None
    ) -> TickReport:
        with self.ctx.db.reader() as uow:
            settings = self.settings_of(uow, space_id)
        life = settings.lifecycle
        report = TickReport()
        n = self.batch

        def drain(claim: Claim, step: Step, kind: str, *, kpi: bool = False) -> int:
            done, conflict = _drain(self.ctx, claim, step, n, now, kind, kpi=kpi, stop=stop)
            report.conflicts += conflict
            return done

        if self.signals is not None:  # first: a case it opens may activate in this tick
            try:
                moved = heartbeats.check(self.ctx, self.signals, settings, now)
                report.heartbeats_missed, report.heartbeats_back = moved.fired, moved.cleared
            except CasekeeperError as err:
                if err.code is not ErrorCode.CONFLICT:
                    raise
                report.conflicts += 1  # level-triggered: the next tick sees the same
        # Breaches first: one found after downtime happened before whatever this tick moves.
        for kpi in life.kpis:
            if kpi.enabled and timed(kpi.type):
                report.kpi_breaches += drain(
                    kpi_claim(space_id, kpi, now),
                    breach_step(kpi, now),
                    "kpi",
                    kpi=True,
                )
        report.activated = drain(
            lambda uow, k: due.pending(uow.conn, space_id, now - life.suppression_period, k),
            lambda uow, case: activate(uow, case, now, life.suppression_period),
            "activate",
        )
        if life.auto_resolve and life.inactive_period is not None:
            quiet_since = now - life.inactive_period
            report.auto_resolved = drain(
                lambda uow, k: due.quiet(uow.conn, space_id, OPEN, quiet_since, k, not_firing=True),
                lambda _uow, case: auto_resolve(case, now, life.inactive_period or 0),
                "auto-resolve",
            )
        ended_by = now - life.post_resolution_period
        report.auto_closed = drain(
            lambda uow, k: due.resolved(uow.conn, space_id, ended_by, k),
            lambda _uow, case: auto_close(case, now, life.post_resolution_period),
            "auto-close",
        )
        report.reconciled = self._maybe_reconcile(space_id, settings, now)
        if self.silence is not None and settings.rules.acknowledge_silences:
            try:
                report.silences = self.silence(space_id, now)
            except Exception:  # an Alertmanager being down must not stop the timers
                log.exception("silences of space %s failed", space_id)
        return report

    def _maybe_reconcile(self, space_id: int, settings: CaseSettings, now: int) -> int:
        """Reconcile the space if its interval has passed, in one process of however many
        tick: the run is claimed in the database (``due.claim_run``)."""
        interval = settings.rules.reconcile_interval
        if self.reconcile is None or interval <= 0:
            return 0
        if now < self._reconciled.get(space_id, 0):
            return 0  # this process ran or saw a claim less than an interval ago
        self._reconciled[space_id] = now + interval
        with self.ctx.db.writer() as uow:
            claimed = due.claim_run(uow.conn, space_id, "reconcile", now, interval)
            uow.commit()
        if not claimed:
            return 0
        try:
            return self.reconcile(space_id, now)
        except Exception:  # one space's Alertmanager being down must not stop the timers
            log.exception("reconciliation of space %s failed", space_id)
            return 0


def _drain(
    ctx: ServiceContext,
    claim: Claim,
    step: Step,
    batch: int,
    now: int,
    kind: str,
    *,
    kpi: bool,
    stop: threading.Event | None,
) -> tuple[int, int]:
    """Claim, change and commit batches until none is left; (cases changed, conflicts)."""
    done = 0
    while stop is None or not stop.is_set():
        try:
            changed, claimed = _batch(ctx, claim, step, batch, now, kpi=kpi)
        except CasekeeperError as err:
            if err.code is not ErrorCode.CONFLICT:
                raise
            # A deadlock or serialization failure with a concurrent writer: PostgreSQL undid
            # the batch, and its cases are still due at the next tick.
            log.info("%s batch collided with a concurrent change; retried next tick", kind)
            return done, 1
        done += changed
        if claimed < batch or changed == 0:
            break  # nothing more is due (or what is left is not ours to change now)
    return done, 0


def _batch(
    ctx: ServiceContext, claim: Claim, step: Step, batch: int, now: int, *, kpi: bool
) -> tuple[int, int]:
    with ctx.db.writer() as uow:
        cases = claim(uow, batch)
        pairs: list[tuple[Case, Case]] = []
        events = []
        for case in cases:
            result = step(uow, case)
            if result is None:
                continue
            new, payloads, event_time = result
            pairs.append((case, new))
            events.extend(new_events(case, payloads, Actor.system(), now, event_time))
        if not pairs:
            return 0, len(cases)
        saved = due.save_breaches(uow.conn, pairs) if kpi else uow.cases.save_many(pairs)
        if not saved:  # the rows are locked: nothing else can have moved them
            raise AssertionError("a case changed while the scheduler held its row")
        record(uow, events, now)
        close_with_cases(uow, pairs, "system", now)
        uow.commit()
    return len(pairs), len(cases)


class Scheduler:
    """Ticks ``timers`` every ``interval`` seconds on a daemon thread until ``stop()``. A
    failing tick is logged and the next one runs as usual."""

    def __init__(self, timers: Timers, interval: float = 10.0) -> None:
        self.timers = timers
        self.interval = interval
        self.stopping = threading.Event()
        self.ticks = 0
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="scheduler", daemon=True)
        self._thread.start()

    def run(self) -> None:
        """Tick until stopped (the worker runs this on its main thread)."""
        while not self.stopping.is_set():
            self.run_once()
            self.stopping.wait(self.interval)

    def run_once(self) -> TickReport | None:
        try:
            report = self.timers.tick(stop=self.stopping)
        except Exception:  # the database may be briefly away; the next tick tries again
            log.exception("scheduler tick failed")
            return None
        self.ticks += 1
        if report.total or report.conflicts:
            log.info("scheduler tick: %s", report)
        return report

    def stop(self, timeout: float | None = 30) -> None:
        """Stop after the batch in progress (it commits or rolls back whole)."""
        self.stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)


def timers_for(container: Container, *, batch: int = BATCH) -> Timers:
    """The timers of a running server or worker, over its database and clock."""
    ctx = ServiceContext(db=container.db, clock=container.cases.clock)
    sync = container.am_sync

    def reconcile(space_id: int, now: int) -> int:
        return sync.reconcile(space_id, now=now).resolved

    def silence(space_id: int, now: int) -> int:
        done = sync.sync_silences(space_id, now=now)
        return done.created + done.renewed + done.expired

    return Timers(
        ctx, batch=batch, signals=container.signals.ingest, reconcile=reconcile, silence=silence
    )


def count(report: TickReport) -> Sequence[tuple[str, int]]:
    """The report's non-zero counts, for a terminal."""
    return [(f.name, getattr(report, f.name)) for f in fields(report) if getattr(report, f.name)]
