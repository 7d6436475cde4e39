"""The ingestion benchmark's databases and its in-process measurements.

A fresh migrated database per server (``fresh_database``) with a key that may send signals;
then, without HTTP (the route's parsing, ``container.signals.ingest``, the answer's JSON, as
``IngestRoutes._ingest`` does it): a cProfile of new and re-sent batches, their rates and time
inside the DBAPI by statement, and how the cost of a batch grows with the case it joins.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import shutil
import statistics
import time
from collections.abc import Callable
from typing import Any

import orjson
import sqlalchemy as sa
from common import DATA, PG_BASE
from dataset import SqlTimer
from ingest_load import BATCH, Batch, make_batches

from casekeeper.store import driver

SPACE = "bench-ingest"
PG_NAME = "casekeeper_bench_ingest"


def fresh_database(backend: str) -> str:
    """An empty, migrated database of its own (the dataset's is never touched)."""
    from casekeeper.store import migrate

    if backend == "sqlite":
        folder = DATA / "ingest"
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        url = f"sqlite:///{folder / 'ingest.db'}"
    else:
        admin = sa.create_engine(f"{PG_BASE}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{PG_NAME}"'))
        admin.dispose()
        url = f"{PG_BASE}/{PG_NAME}"
    migrate.upgrade(url)
    return url


def make_key(url: str) -> str:
    """A key that may send signals (and read cases, for the read-back checks)."""
    from casekeeper.bootstrap import bootstrap
    from casekeeper.service.auth import OPERATOR
    from casekeeper.settings import Settings

    c = bootstrap(Settings(database_url=url))
    try:
        new = c.keys.create(
            granted_by=OPERATOR,
            name="bench ingest",
            permissions=["signals:Write", "case:Read"],
            space=SPACE,
        )
        return str(new.key)
    finally:
        c.close()


def analyze(url: str) -> None:
    """PostgreSQL's ANALYZE of the whole database, as autovacuum would run it in time."""
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("ANALYZE"))
    finally:
        engine.dispose()


def stored(url: str) -> dict[str, int]:
    """Rows the loads left behind, counted in the database after the server stopped."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                t: int(conn.execute(sa.text(f'SELECT COUNT(*) FROM "{t}"')).scalar_one())
                for t in ("signal_firing", "incident", "case")
            }
    finally:
        engine.dispose()


class DbTimer(SqlTimer):
    """``SqlTimer`` plus the statements the store runs on the raw DBAPI cursor
    (``driver.executemany``, ``driver.fetch``), which SQLAlchemy's events never see."""

    def __enter__(self) -> DbTimer:
        super().__enter__()
        self._saved = (driver.executemany, driver.fetch)
        driver.executemany = self._timed(self._saved[0])
        driver.fetch = self._timed(self._saved[1])
        return self

    def __exit__(self, *exc: object) -> None:
        driver.executemany, driver.fetch = self._saved
        super().__exit__(*exc)

    def _timed(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def run(conn: Any, sql: str, *args: Any, **kw: Any) -> Any:
            t0 = time.perf_counter_ns()
            try:
                return fn(conn, sql, *args, **kw)
            finally:
                key = " ".join(sql.split()[:4])[:60]
                self.ns[key] = self.ns.get(key, 0) + time.perf_counter_ns() - t0
                self.calls[key] = self.calls.get(key, 0) + 1

        return run


def _ingester(url: str) -> tuple[Any, Callable[[bytes], None]]:
    """A container on ``url`` and a function doing what the route does with one body."""
    from casekeeper.api.ingest import wire
    from casekeeper.api.ingest.alertmanager import parse_webhook
    from casekeeper.api.ingest.render import report_json
    from casekeeper.bootstrap import bootstrap
    from casekeeper.settings import Settings

    key = make_key(url)
    c = bootstrap(Settings(database_url=url))
    p = c.keys.authenticate(f"Bearer {key}")

    def one(body: bytes) -> None:
        batch = parse_webhook(wire.load_json(body), sender="Alertmanager/0.25.0")
        orjson.dumps(report_json(c.signals.ingest(p, batch)))

    return c, one


def profile(backend: str, batches: list[Batch]) -> dict[str, Any]:
    """cProfile of the first half of ``batches`` new, then re-sent; the second half unprofiled
    (rates, DBAPI time by statement)."""
    c, one = _ingester(fresh_database(backend))
    half = len(batches) // 2
    try:
        out: dict[str, Any] = {}
        for name, part in (("new", batches[:half]), ("resend", batches[:half])):
            prof = cProfile.Profile()
            prof.enable()
            for b in part:
                one(b.webhook)
            prof.disable()
            out[f"{name}_top_tottime"] = _stats(prof, "tottime")
            out[f"{name}_top_cumulative"] = _stats(prof, "cumulative")
        rest = batches[half:]
        for name in ("new", "resend"):
            with DbTimer(c.db.engine) as timer:
                t0, cpu0 = time.perf_counter(), time.process_time()
                for b in rest:
                    one(b.webhook)
                seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
            out[f"{name}_alerts_per_s_in_process"] = len(rest) * BATCH / seconds
            out[f"{name}_ms_per_batch"] = round(seconds * 1000 / len(rest), 2)
            out[f"{name}_cpu_us_per_alert"] = round(cpu * 1e6 / (len(rest) * BATCH), 1)
            out[f"{name}_dbapi_per_batch"] = _per(timer.report(), len(rest))
        return out
    finally:
        c.close()


def growth(backend: str, sizes: list[int], tag: str) -> list[dict[str, Any]]:
    """Milliseconds for one batch of ``BATCH`` new firings joining a case that already holds
    ``n`` incidents (all of one alert group), for each ``n`` in ``sizes`` (median of 3
    batches), with the DBAPI time by statement of those batches."""
    c, one = _ingester(fresh_database(backend))
    top = max(sizes) // BATCH + 3
    batches = make_batches(tag, top + 3 * len(sizes), 1, time.time() - 60)
    out = []
    try:
        done = 0
        for n in sorted(sizes):
            while done * BATCH < n:
                one(batches[done].webhook)
                done += 1
            ms = []
            with DbTimer(c.db.engine) as timer:
                for _ in range(3):
                    t0 = time.perf_counter()
                    one(batches[done].webhook)
                    ms.append((time.perf_counter() - t0) * 1000)
                    done += 1
            out.append({"incidents_in_case": n, "ms_per_batch": round(statistics.median(ms), 1),
                        "dbapi_per_batch": _per(timer.report(), 3)})  # fmt: skip
    finally:
        c.close()
    return out


def _per(report: dict[str, Any], n: int) -> dict[str, Any]:
    return {
        k: {"ms": round(v["ms"] / n, 3), "calls": round(v["calls"] / n, 1)}
        for k, v in report.items()
    }


def _stats(prof: cProfile.Profile, key: str) -> str:
    s = io.StringIO()
    pstats.Stats(prof, stream=s).strip_dirs().sort_stats(key).print_stats(25)
    text = s.getvalue()
    return text[text.find("   ncalls") :].rstrip() if "   ncalls" in text else text
