"""Faults, the long way: tests/faults' checks over minutes instead of seconds. Not part of CI.

    python bench/faults.py --duration 300 --kill-every 20 --db both
    python bench/faults.py --duration 300 --pg-restart-every 30      # a private PG 15 cluster

``kill``: a ``casekeeper serve`` under write load (``--threads`` client threads: creates,
comments, acknowledges, assigns, priority overrides) is SIGKILLed every ``--kill-every``
seconds and a new one started on the same database (SQLite, PostgreSQL or both), for
``--duration`` seconds per database. ``pg-restart`` (with ``--pg-restart-every``): one server
keeps running while its PostgreSQL (a private cluster, tests/pgcluster.py; root and the
``postgres`` OS user) is stopped for ``--down`` seconds, fast and immediate in turn.

At the end the database is read with SQL of its own and replayed against every operation's
outcome (tests/faults/load.py): every acknowledged write exactly once, every write in doubt
wholly or not at all, each event with its outbox message; for pg-restart also: no answer but
success or 503 / UNAVAILABLE, and how long each recovery took. Prints a summary JSON (and
writes it to ``--out``); exit status 1 when any check failed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from casekeeper.store import migrate  # noqa: E402 - after the path
from casekeeper.store.engine import normalize_url  # noqa: E402
from tests.faults.load import OK, Load, Op, check_cases, tally  # noqa: E402
from tests.faults.stored import outbox_problems, read_cases  # noqa: E402
from tests.server.conftest import CASEKEEPER, Served, _key, free_port, wait_listening  # noqa: E402

PG_DEFAULT = (
    os.environ.get("CASEKEEPER_TEST_DATABASE_URL")
    or "postgresql://postgres@127.0.0.1:5432/postgres"
)


def start_serve(url: str, logs: Path, n: int) -> Served:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CASEKEEPER_")},
        "CASEKEEPER_DATABASE_URL": url,
        "CASEKEEPER_GRPC_ADDRESS": f"127.0.0.1:{free_port()}",
        "CASEKEEPER_HTTP_ADDRESS": f"127.0.0.1:{free_port()}",
    }
    subprocess.run([CASEKEEPER, "db", "upgrade"], env=env, check=True, capture_output=True)
    log = logs / f"serve-{n}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [CASEKEEPER, "serve"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    served = Served(
        proc, env["CASEKEEPER_GRPC_ADDRESS"], env["CASEKEEPER_HTTP_ADDRESS"], _key(env), log
    )
    wait_listening(served, timeout=60)
    return served


def stop_serve(served: Served) -> None:
    if served.process.poll() is None:
        served.process.send_signal(signal.SIGTERM)
        try:
            served.process.wait(20)
        except subprocess.TimeoutExpired:
            served.process.kill()
            served.process.wait(5)


def pg_database(base: str) -> tuple[str, sa.Engine, str]:
    name = f"casekeeper_faults_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(
        sa.make_url(normalize_url(base)).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.make_url(normalize_url(base)).set(database=name)
    return url.render_as_string(hide_password=False), admin, name


def verdict(ops: list[Op], url: str) -> dict[str, Any]:
    stored = read_cases(url)
    problems = check_cases(ops, stored) + outbox_problems(url, stored)
    return {
        "operations": tally(ops),
        "cases": len(stored),
        "events": sum(len(s.events) for s in stored.values()),
        "problems": problems[:20],
        "problem_count": len(problems),
    }


def kill_loop(url: str, args: argparse.Namespace, logs: Path) -> dict[str, Any]:
    """Load, SIGKILL, a new server on the same database; again until ``--duration``."""
    ops: list[Op] = []
    restarts: list[float] = []
    started, n = time.monotonic(), 0
    while time.monotonic() - started < args.duration:
        t0 = time.monotonic()
        served = start_serve(url, logs, n)
        restarts.append(round(time.monotonic() - t0, 2))
        load = Load(served.http, served.grpc, served.key, threads=args.threads,
                    stop_on_transport_error=True, seed=n).start()  # fmt: skip
        time.sleep(min(args.kill_every, max(1.0, args.duration - (time.monotonic() - started))))
        served.process.send_signal(signal.SIGKILL)
        served.process.wait(10)
        ops += load.finish()
        n += 1
    served = start_serve(url, logs, n)  # the last crash recovered too
    stop_serve(served)
    return {"kills": n, "start_seconds": restarts, **verdict(ops, url)}


def pg_restart_loop(args: argparse.Namespace, logs: Path) -> dict[str, Any]:
    from tests.pgcluster import PgCluster

    home = PgCluster.temp_dir("casekeeper-bench-faults-")
    cluster = PgCluster.init(home / "data", free_port())
    try:
        cluster.start()
        url, admin, _ = pg_database(cluster.url)
        admin.dispose()
        migrate.upgrade(url)
        served = start_serve(url, logs, 0)
        load = Load(served.http, served.grpc, served.key, threads=args.threads).start()
        recoveries: list[dict[str, Any]] = []
        started, n = time.monotonic(), 0
        while time.monotonic() - started < args.duration:
            time.sleep(args.pg_restart_every)
            mode = ("fast", "immediate")[n % 2]
            cluster.stop(mode)
            time.sleep(args.down)
            cluster.start()
            recoveries.append({"mode": mode, "seconds": _recovery(served)})
            n += 1
        ops = load.finish()
        alive = served.process.poll() is None
        stop_serve(served)
        bad = [op for op in ops if op.outcome != OK and op.status not in ("503", "UNAVAILABLE")]
        out = {"restarts": n, "recoveries": recoveries, "server_survived": alive,
               "other_failures": [f"{o.kind} {o.status} {o.message[:80]}" for o in bad[:10]],
               "max_call_seconds": round(max((o.seconds for o in ops), default=0), 3),
               **verdict(ops, url)}  # fmt: skip
        out["problem_count"] += len(bad) + (not alive)
        return out
    finally:
        cluster.destroy()
        shutil.rmtree(home, ignore_errors=True)


def _recovery(served: Served, limit: float = 60.0) -> float | None:
    """Seconds from PostgreSQL accepting connections again until the server is ready."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        try:
            if httpx.get(f"http://{served.http}/readyz", timeout=5).status_code == 200:
                return round(time.monotonic() - t0, 2)
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=float, default=300, help="seconds per scenario")
    ap.add_argument("--kill-every", type=float, default=20)
    ap.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--pg-url", default=PG_DEFAULT, help="PostgreSQL server for --db postgres")
    ap.add_argument("--pg-restart-every", type=float, default=0, help="0: no pg-restart run")
    ap.add_argument("--down", type=float, default=2.0, help="seconds PostgreSQL stays down")
    ap.add_argument("--threads", type=int, default=6)
    ap.add_argument("--out", help="also write the summary JSON here")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="casekeeper-faults-"))
    summary: dict[str, Any] = {
        "duration": args.duration,
        "threads": args.threads,
        "logs": str(work),
    }
    if args.db in ("sqlite", "both"):
        url = f"sqlite:///{work / 'faults.db'}"
        migrate.upgrade(url)
        (work / "sqlite").mkdir()
        summary["kill_sqlite"] = kill_loop(url, args, work / "sqlite")
    if args.db in ("postgres", "both"):
        url, admin, name = pg_database(args.pg_url)
        try:
            migrate.upgrade(url)
            (work / "postgres").mkdir()
            summary["kill_postgres"] = kill_loop(url, args, work / "postgres")
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()
    if args.pg_restart_every > 0:
        (work / "pg_restart").mkdir()
        summary["pg_restart"] = pg_restart_loop(args, work / "pg_restart")
    failed = sum(v.get("problem_count", 0) for v in summary.values() if isinstance(v, dict))
    summary["ok"] = failed == 0
    text = json.dumps(summary, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
