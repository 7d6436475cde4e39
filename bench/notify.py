"""Notifications out: delivery throughput to a loopback webhook receiver, and what enqueueing
costs a case mutation.

    .venv/bin/python bench/notify.py --backend sqlite [--quick] [--out FILE]
    .venv/bin/python bench/notify.py --backend pg [--quick] [--out FILE]

Throughput: N cases are acknowledged in bulks of 1,000 with a route sending each
acknowledgement to a webhook; then the outbox is drained by workers — on SQLite one worker (this
process), on PostgreSQL two ``casekeeper worker`` processes — and the time from the first claim
to the last delivery recorded is measured: routing, claiming, the HTTP attempt and its record,
end to end. The receiver (tests/notify/receiver.py) is its own process and answers at once.

Enqueue cost: BulkAcknowledge of 1,000 cases in a space with a matching route and in one
without, alternated in the same run; and the same bulk with the outbox write switched off in
this process only (a benchmark patch, never the server's behaviour), so the outbox's share of
the mutation is measured, not inferred.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from common import PYTHON, ROOT, machine_info, utc_now

sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from casekeeper.bootstrap import Container, bootstrap
from casekeeper.domain.commands import Acknowledge, CaseChange
from casekeeper.domain.enums import CaseCategory, CasePriority
from casekeeper.service.admin import NewCase
from casekeeper.service.auth import OPERATOR, Principal
from casekeeper.service.notify_config import ConnectorInput
from casekeeper.service.notify_routes import RouteInput
from casekeeper.settings import Settings
from casekeeper.store import migrate
from casekeeper.store.outbox import OutboxRepository
from casekeeper.store.schema import notify_attempt, notify_delivery
from tests.notify.receiver import free_port

PG_BASE = "postgresql://postgres@127.0.0.1:5432/postgres"
PERMS = ["case:Read", "case:Create", "case:Acknowledge", "notifications:Read",
         "notifications:Manage"]  # fmt: skip


def database(backend: str, tmp: Path) -> tuple[str, Any]:
    if backend == "sqlite":
        url = f"sqlite:///{tmp / 'notify.db'}"
        migrate.upgrade(url)
        return url, None
    name = f"casekeeper_bench_notify_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_BASE, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.make_url(PG_BASE).set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(url)
    return url, (admin, name)


def drop(handle: Any) -> None:
    if handle is None:
        return
    admin, name = handle
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def principal(c: Container, space: str) -> Principal:
    made = c.keys.create(granted_by=OPERATOR, name="bench", permissions=PERMS, space=space)
    return c.keys.authenticate(f"Bearer {made.key}")


def cases(c: Container, p: Principal, n: int) -> list[str]:
    return [
        c.admin.create_case(
            p,
            NewCase(
                title=f"Bench case {i}",
                category=CaseCategory.AVAILABILITY,
                priority=CasePriority.P2,
            ),
        ).id
        for i in range(n)
    ]


def ack(c: Container, p: Principal, ids: list[str]) -> float:
    t0 = time.perf_counter()
    c.cases.change_many(p, [CaseChange(i, (Acknowledge(),)) for i in ids])
    return time.perf_counter() - t0


def routed_space(c: Container, space: str, url: str) -> Principal:
    p = principal(c, space)
    hook = c.connectors.create(p, ConnectorInput(name="hook", kind="webhook", url=url))
    c.routes.create(p, RouteInput(name="acks", connectors=(hook.id,), events=("acknowledged",)))
    return p


def delivered(c: Container) -> tuple[int, int, int]:
    """(deliveries delivered, first attempt time, last attempt time) in µs."""
    with c.db.reader() as uow:
        n = uow.conn.execute(
            sa.select(sa.func.count()).where(notify_delivery.c.state == "delivered")
        ).scalar_one()
        lo, hi = uow.conn.execute(
            sa.select(sa.func.min(notify_attempt.c.time), sa.func.max(notify_attempt.c.time))
        ).one()
    return int(n), int(lo or 0), int(hi or 0)


def receiver(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([PYTHON, str(ROOT / "tests/notify/receiver.py"), "--port", str(port)],
                            cwd=ROOT)  # fmt: skip
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=1).read()
            return proc
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the receiver did not start")


def receiver_stats(port: int) -> dict[str, int]:
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=5).read()
    return dict(json.loads(body))


def throughput(c: Container, url: str, backend: str, n: int, port: int) -> dict[str, Any]:
    p = routed_space(c, "throughput", f"http://127.0.0.1:{port}/hook")
    ids = cases(c, p, n)
    for i in range(0, n, 1000):
        ack(c, p, ids[i : i + 1000])
    t0 = time.perf_counter()
    if backend == "sqlite":
        workers = 1
        c.delivery_worker(batch=500, concurrency=128).run(threading.Event(), until_idle=True)
    else:
        workers = 2
        env = {k: v for k, v in os.environ.items() if not k.startswith("CASEKEEPER_")}
        env.update(CASEKEEPER_DATABASE_URL=url, CASEKEEPER_NOTIFY_CONCURRENCY="128")
        argv = [PYTHON, "-m", "casekeeper", "worker", "--no-timers"]
        procs = [
            subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
            for _ in range(workers)
        ]
        try:
            while delivered(c)[0] < n and time.perf_counter() - t0 < 600:
                time.sleep(0.05)
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(30)
    wall = time.perf_counter() - t0
    count, first, last = delivered(c)
    span = max((last - first) / 1e6, 1e-9)
    stats = receiver_stats(port)
    return {
        "notifications": n, "delivered": count, "workers": workers,
        "wall_s": round(wall, 3), "per_s_wall": round(count / wall, 1),
        "first_to_last_attempt_s": round(span, 3), "per_s_attempts": round(count / span, 1),
        "receiver": stats,
    }  # fmt: skip


def _no_outbox(_self: OutboxRepository, _events: object, _now: int) -> None:
    """The benchmark's counterfactual: the same bulk without its outbox rows."""


def enqueue_cost(c: Container, port: int, reps: int) -> dict[str, Any]:
    routed = routed_space(c, "enqueue-routed", f"http://127.0.0.1:{port}/hook")
    plain = principal(c, "enqueue-plain")
    times: dict[str, list[float]] = {"with_route": [], "without_route": [], "without_outbox": []}
    real = OutboxRepository.add_case_events
    for _ in range(reps):
        times["with_route"].append(ack(c, routed, cases(c, routed, 1000)))
        times["without_route"].append(ack(c, plain, cases(c, plain, 1000)))
        OutboxRepository.add_case_events = _no_outbox  # type: ignore[method-assign]
        try:
            times["without_outbox"].append(ack(c, plain, cases(c, plain, 1000)))
        finally:
            OutboxRepository.add_case_events = real  # type: ignore[method-assign]
    med = {k: statistics.median(v) for k, v in times.items()}
    return {
        "bulk": 1000, "reps": reps,
        "median_s": {k: round(v, 4) for k, v in med.items()},
        "route_vs_none": round(med["with_route"] / med["without_route"], 3),
        "outbox_share": round((med["without_route"] - med["without_outbox"])
                              / med["without_route"], 4),
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", choices=("sqlite", "pg"), default="sqlite")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--size", type=int)  # run_all passes these; fresh databases here
    ap.add_argument("--seed", type=int)
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    n = 2000 if a.quick else 20_000
    reps = 2 if a.quick else 7
    port = free_port()
    rec = receiver(port)
    with tempfile.TemporaryDirectory() as tmp:
        url, handle = database(a.backend, Path(tmp))
        os.environ.pop("CASEKEEPER_NOTIFY_WORKER", None)
        c = bootstrap(Settings.from_env(database_url=url))
        try:
            result = {
                "backend": a.backend, "when": utc_now(), "machine": machine_info(),
                "throughput": throughput(c, url, a.backend, n, port),
                "enqueue": enqueue_cost(c, port, reps),
            }  # fmt: skip
        finally:
            c.close()
            rec.terminate()
            drop(handle)
    text = json.dumps(result, indent=2)
    print(text)
    if a.out:
        a.out.write_text(text)


if __name__ == "__main__":
    main()
