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
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa

from casekeeper.domain.case_settings import DAY, MINUTE
from casekeeper.domain.enums import CaseCategory, CasePriority, CaseStatus, EventKind
from casekeeper.domain.timeutil import now_us
from casekeeper.service.admin import NewCase, build_case
from casekeeper.store import migrate
from casekeeper.store.engine import is_sqlite, make_engine, normalize_url
from casekeeper.store.schema import case as case_table
from casekeeper.store.schema import case_event
from casekeeper.store.uow import Database
from tests.server.conftest import Serve

CASEKEEPER = [sys.executable, "-m", "casekeeper"]
PENDING, RESOLVED = 150, 150


@pytest.fixture
def private_url(tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database of this test's own (the workers tick every space in it)."""
    base = os.environ.get("CASEKEEPER_TEST_DATABASE_URL", "").strip()
    if not base or is_sqlite(base):
        url = f"sqlite:///{tmp_path / 'workers.db'}"
        migrate.upgrade(url)
        yield url
        return
    name = f"casekeeper_workers_{uuid.uuid4().hex[:10]}"
    admin_url = sa.make_url(normalize_url(base)).set(database="postgres")
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


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


def _load_due_cases(db: Database) -> tuple[list[str], list[str]]:
    """PENDING pending cases a minute old and RESOLVED cases resolved 8 days ago, committed
    in one transaction so the workers find them all at once."""
    now = now_us()
    spec = NewCase(title="due", category=CaseCategory.AVAILABILITY, priority=CasePriority.P2)
    with db.writer() as uow:
        space_id = uow.spaces.ensure("workers", now)
        pending = [build_case(spec, space_id, now - MINUTE) for _ in range(PENDING)]
        resolved = [
            replace(
                build_case(spec, space_id, now - 9 * DAY),
                status=CaseStatus.RESOLVED,
                end_time=now - 8 * DAY,
            )
            for _ in range(RESOLVED)
        ]
        uow.cases.add_many(pending + resolved)
        uow.commit()
    return [x.id for x in pending], [x.id for x in resolved]


def _statuses(db: Database, ids: list[str]) -> dict[str, int]:
    with db.reader() as uow:
        stmt = sa.select(case_table.c.id, case_table.c.status).where(case_table.c.id.in_(ids))
        return {row[0]: row[1] for row in uow.conn.execute(stmt)}


def test_two_workers_on_one_database_do_each_transition_once(private_url: str) -> None:
    workers = [_worker(private_url, "--interval", "0.02", "--batch", "5") for _ in range(2)]
    db = Database(make_engine(private_url))
    try:
        for w in workers:  # both are ticking before anything is due
            _wait_for_line(w, "casekeeper worker: timed transitions every 0.02s (batch 5)")
        pending, resolved = _load_due_cases(db)
        deadline = time.monotonic() + 120
        while True:
            states = _statuses(db, pending + resolved)
            done = [states[x] == CaseStatus.ACTIVE for x in pending] + [
                states[x] == CaseStatus.CLOSED for x in resolved
            ]
            if all(done):
                break
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
    with db.reader() as uow:
        stmt = (
            sa.select(case_event.c.case_id, sa.func.count())
            .where(
                case_event.c.case_id.in_(pending + resolved),
                case_event.c.kind == EventKind.STATUS_CHANGED.value,
            )
            .group_by(case_event.c.case_id)
        )
        changes: dict[str, int] = {row[0]: row[1] for row in uow.conn.execute(stmt)}
        numbers = uow.conn.execute(
            sa.select(case_table.c.number).where(case_table.c.id.in_(pending))
        ).scalars()
        number_list = sorted(n for n in numbers)
    db.dispose()
    assert {changes.get(x, 0) for x in pending + resolved} == {1}  # each moved exactly once
    assert number_list == list(range(1, PENDING + 1))  # one readable number each, no gaps
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
    assert once() == f"{PENDING} activated, {RESOLVED} auto_closed"
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
        while _statuses(on_db, [on_case])[on_case] != CaseStatus.ACTIVE:
            assert time.monotonic() < deadline, on.output()
            time.sleep(0.05)
        # the other server had as long, and more
        assert _statuses(off_db, [off_case])[off_case] == CaseStatus.PENDING_ACTIVATION
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
