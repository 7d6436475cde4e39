"""``casekeeper worker`` and the scheduler in ``casekeeper serve``, as real processes.

The main test starts two workers on one database (a private PostgreSQL database when
CASEKEEPER_TEST_DATABASE_URL names PostgreSQL, else a SQLite file), then makes hundreds of
transitions due at once, and counts: every case moved exactly once, whoever moved it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

import sqlalchemy as sa

from casekeeper.domain.case_settings import (
    DAY,
    HOUR,
    MINUTE,
    CaseLifecycle,
    CaseSettings,
    KpiThreshold,
    KpiType,
)
from casekeeper.domain.enums import CaseCategory, CasePriority, CaseStatus, EventKind
from casekeeper.domain.model import Case
from casekeeper.domain.timeutil import now_us
from casekeeper.service.admin import NewCase, build_case
from casekeeper.store.cases import row_to_case
from casekeeper.store.engine import is_sqlite, make_engine
from casekeeper.store.schema import case as case_table
from casekeeper.store.schema import case_event
from casekeeper.store.uow import Database
from tests.server.conftest import Serve

CASEKEEPER = [sys.executable, "-m", "casekeeper"]


def _env(url: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CASEKEEPER_")}
    return {**clean, "CASEKEEPER_DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}


def _worker(url: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CASEKEEPER, "worker", *args],
        env=_env(url),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for_line(proc: subprocess.Popen[str], text: str) -> None:
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:  # ends when the process does
        if text in line:
            return
        seen.append(line)
    raise AssertionError(f"{text!r} never came:\n{''.join(seen)}")


@dataclass(frozen=True)
class Due:
    pending: list[str]  # activate
    quiet: list[str]  # auto-resolve after the inactive period
    resolved: list[str]  # auto-close
    late: list[str]  # breach time-to-acknowledge

    @property
    def all(self) -> list[str]:
        return self.pending + self.quiet + self.resolved + self.late


SETTINGS = CaseLifecycle(
    auto_resolve=True,
    inactive_period=HOUR,
    kpis=(KpiThreshold(KpiType.TIME_TO_ACKNOWLEDGE, CasePriority.P1, 5 * MINUTE),),
)


def _load_due_cases(db: Database, n: int = 60) -> Due:
    """``n`` cases due for each timer under SETTINGS (each case for one only), committed in
    one transaction so the workers find them all at once."""
    now = now_us()

    def made(
        priority: CasePriority,
        created: int,
        status: CaseStatus = CaseStatus.PENDING_ACTIVATION,
        end_time: int | None = None,
    ) -> Case:
        spec = NewCase(title="due", category=CaseCategory.AVAILABILITY, priority=priority)
        return replace(build_case(spec, space_id, created), status=status, end_time=end_time)

    with db.writer() as uow:
        space_id = uow.spaces.ensure("workers", now)
        uow.case_settings.add(
            CaseSettings(id=str(uuid.uuid4()), space_id=space_id, name="w", lifecycle=SETTINGS)
        )
        p2, p1, a = CasePriority.P2, CasePriority.P1, CaseStatus.ACTIVE
        pending = [made(p2, now - MINUTE) for _ in range(n)]
        quiet = [made(p2, now - 2 * HOUR, status=a) for _ in range(n)]
        ended = (CaseStatus.RESOLVED, now - 8 * DAY)
        resolved = [made(p2, now - 9 * DAY, *ended) for _ in range(n)]
        late = [made(p1, now - 10 * MINUTE, status=a) for _ in range(n)]
        uow.cases.add_many(pending + quiet + resolved + late)
        uow.commit()
    return Due(*([x.id for x in group] for group in (pending, quiet, resolved, late)))


def _rows(db: Database, ids: list[str]) -> dict[str, tuple[int, int]]:
    """(status, breached KPI bits) by case id."""
    c = case_table.c
    with db.reader() as uow:
        stmt = sa.select(c.id, c.status, c.breached_kpis).where(c.id.in_(ids))
        return {row[0]: (row[1], row[2]) for row in uow.conn.execute(stmt)}


def _event_counts(db: Database, ids: list[str], kind: EventKind) -> dict[str, int]:
    e = case_event.c
    with db.reader() as uow:
        stmt = (
            sa.select(e.case_id, sa.func.count())
            .where(e.case_id.in_(ids), e.kind == kind.value)
            .group_by(e.case_id)
        )
        return {row[0]: row[1] for row in uow.conn.execute(stmt)}


def _done(rows: dict[str, tuple[int, int]], due: Due) -> list[bool]:
    want = (
        [(x, CaseStatus.ACTIVE) for x in due.pending]
        + [(x, CaseStatus.RESOLVED) for x in due.quiet]
        + [(x, CaseStatus.CLOSED) for x in due.resolved]
    )
    return [rows[x][0] == status for x, status in want] + [rows[x][1] != 0 for x in due.late]


def test_two_workers_on_one_database_do_each_transition_once(private_url: str) -> None:
    workers = [_worker(private_url, "--interval", "0.02", "--batch", "5") for _ in range(2)]
    db = Database(make_engine(private_url))
    try:
        for w in workers:  # both are ticking before anything is due
            _wait_for_line(w, "casekeeper worker: timed transitions every 0.02s (batch 5)")
        due = _load_due_cases(db)
        deadline = time.monotonic() + 120
        while not all(done := _done(_rows(db, due.all), due)):
            assert time.monotonic() < deadline, f"{done.count(False)} cases still due"
            time.sleep(0.05)
    finally:
        outputs = []
        for w in workers:
            w.send_signal(signal.SIGTERM)
            outputs.append(w.communicate(timeout=60)[0])
    for w, out in zip(workers, outputs, strict=True):
        assert w.returncode == 0, out
        assert "stopped after" in out
    moved = due.pending + due.quiet + due.resolved
    changes = _event_counts(db, due.all, EventKind.STATUS_CHANGED)
    breaches = _event_counts(db, due.all, EventKind.KPI_BREACHED)
    with db.reader() as uow:
        c = case_table.c
        numbers = sorted(
            uow.conn.execute(sa.select(c.number).where(c.id.in_(due.pending))).scalars()
        )
        late = [
            row_to_case(r)
            for r in uow.conn.execute(sa.select(case_table).where(c.id.in_(due.late)))
        ]
    db.dispose()
    assert {changes.get(x, 0) for x in moved} == {1}  # each moved exactly once
    assert {changes.get(x, 0) for x in due.late} == {0}
    assert {breaches.get(x, 0) for x in due.late} == {1}  # each breached exactly once
    assert {breaches.get(x, 0) for x in moved} == {0}
    assert {len(x.kpi_breaches) for x in late} == {1}
    assert numbers == list(range(1, len(due.pending) + 1))  # one readable number each, no gaps
    if not is_sqlite(private_url):
        # both workers took part (each logs the ticks that changed something); on SQLite one
        # writer at a time holds the database, and the first may well drain it all
        assert all("scheduler tick: TickReport(" in out for out in outputs), outputs


def test_worker_once_says_what_it_did(private_url: str) -> None:
    def once() -> str:
        proc = subprocess.run(
            [*CASEKEEPER, "worker", "--once"],
            env=_env(private_url),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout.strip()

    assert once() == "nothing was due"
    db = Database(make_engine(private_url))
    try:
        _load_due_cases(db)
    finally:
        db.dispose()
    # The transitions' timeline events are routed too (no route: the ledger says so).
    assert once() == (
        "60 activated, 60 auto_resolved, 60 auto_closed, 60 kpi_breaches, 240 events routed"
    )
    assert once() == "nothing was due"


def _pending_case(url: str) -> tuple[Database, str]:
    db = Database(make_engine(url))
    spec = NewCase(title="due", category=CaseCategory.AVAILABILITY, priority=CasePriority.P2)
    with db.writer() as uow:
        case = build_case(spec, uow.spaces.ensure("default", now_us()), now_us() - MINUTE)
        uow.cases.add(case)
        uow.commit()
    return db, case.id


def test_serve_runs_the_scheduler_unless_it_is_switched_off(serve: Serve, tmp_path: Path) -> None:
    off_url, on_url = f"sqlite:///{tmp_path}/off.db", f"sqlite:///{tmp_path}/on.db"
    fast = {"CASEKEEPER_SCHEDULER_INTERVAL": "0.05"}
    serve(env={"CASEKEEPER_DATABASE_URL": off_url, "CASEKEEPER_SCHEDULER": "off", **fast})
    on = serve(env={"CASEKEEPER_DATABASE_URL": on_url, **fast})  # on by default
    off_db, off_case = _pending_case(off_url)
    on_db, on_case = _pending_case(on_url)
    try:
        deadline = time.monotonic() + 60
        while _rows(on_db, [on_case])[on_case][0] != CaseStatus.ACTIVE:
            assert time.monotonic() < deadline, on.output()
            time.sleep(0.05)
        # the other server had as long, and more
        assert _rows(off_db, [off_case])[off_case][0] == CaseStatus.PENDING_ACTIVATION
    finally:
        on_db.dispose()
        off_db.dispose()
    on.process.send_signal(signal.SIGTERM)
    assert on.process.wait(30) == 0, on.output()


def test_worker_refuses_a_bad_interval(private_url: str) -> None:
    proc = subprocess.run(
        [*CASEKEEPER, "worker", "--once"],
        env={**_env(private_url), "CASEKEEPER_SCHEDULER_INTERVAL": "soon"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "CASEKEEPER_SCHEDULER_INTERVAL: expected a number, got 'soon'" in proc.stderr
