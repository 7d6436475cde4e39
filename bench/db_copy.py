"""``casekeeper db copy`` of the SQLite benchmark dataset (N cases, bench/dataset.py) into a
fresh PostgreSQL database: total time and rows per second, split into the copy itself (read,
COPY, checksum of the source), the verification (every target row read back and checksummed)
and the rest (migrating the target first, ANALYZE after), with this process's peak RSS (the
copy streams: it must not grow with the dataset).

It calls ``store.transfer.copy_database``, what the command runs, in this process, so the
phases can be timed. The target database (``casekeeper_bench_copy``) is dropped afterwards.
Result: ``bench/.data/results/n<size>-s<seed>/db_copy.json`` unless ``--out`` says otherwise.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import psutil
import sqlalchemy as sa
from common import RESULTS, machine_info, step_args, wait_idle, write_result
from dataset import _pg_admin, ensure, pg_url

from casekeeper.store.transfer import copy_database

TARGET_DB = "casekeeper_bench_copy"


class Timeline:
    """A ``transfer.Progress`` noting when each step starts and last advanced, and this
    process's peak RSS (sampled every batch)."""

    def __init__(self) -> None:
        self.starts: dict[str, float] = {}
        self.last = 0.0
        self.peak_rss = 0
        self._proc = psutil.Process()

    def task(self, description: str, total: int) -> Callable[[int], None]:  # noqa: ARG002
        self.starts[description] = self.last = time.perf_counter()

        def advance(_n: int) -> None:
            self.last = time.perf_counter()
            self.peak_rss = max(self.peak_rss, self._proc.memory_info().rss)

        return advance


def _recreate(drop_only: bool = False) -> None:
    admin = _pg_admin()
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{TARGET_DB}" WITH (FORCE)')
            if not drop_only:
                conn.exec_driver_sql(f'CREATE DATABASE "{TARGET_DB}"')
    finally:
        admin.dispose()


def _db_mb(url: str) -> float:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            size = conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar()
    finally:
        engine.dispose()
    return round((size or 0) / 2**20, 1)


def measure(source: str) -> dict[str, Any]:
    _recreate()
    target = pg_url(TARGET_DB)
    line = Timeline()
    try:
        t0 = time.perf_counter()
        results = copy_database(source, target, line)
        total = time.perf_counter() - t0
        target_mb = _db_mb(target)
    finally:
        _recreate(drop_only=True)
    # Before the first table: checks and the target's migration. After the last batch
    # verified: sequences, COMMIT, ANALYZE.
    first = min(line.starts.values())
    verify_at = line.starts["verifying"]
    copy_s, verify_s = verify_at - first, line.last - verify_at
    rows = sum(r.rows for r in results)
    return {
        "rows": rows,
        "tables": {r.name: r.rows for r in results if r.rows},
        "all_verified": all(r.ok for r in results),
        "seconds": round(total, 1),
        "rows_per_s": round(rows / total),
        "prepare_seconds": round(first - t0, 1),
        "copy_seconds": round(copy_s, 1),
        "copy_rows_per_s": round(rows / copy_s),
        "verify_seconds": round(verify_s, 1),
        "commit_analyze_seconds": round(t0 + total - line.last, 1),
        "peak_rss_mb": round(line.peak_rss / 2**20, 1),
        "target_mb": target_mb,
    }


def main() -> None:
    ap = step_args(__doc__)
    a = ap.parse_args()
    ds = ensure("sqlite", a.size, a.seed)
    wait_idle(timeout=30)
    print(f"db copy: {ds.url} -> PostgreSQL {TARGET_DB}", flush=True)
    out = {
        "size": a.size,
        "seed": a.seed,
        "source": ds.meta.get("name"),
        "source_mb": ds.meta.get("file_mb"),
        **measure(ds.url),
        "machine": machine_info(),
    }
    print(
        f"  {out['rows']:,} rows in {out['seconds']} s: {out['rows_per_s']:,} rows/s "
        f"(copy {out['copy_seconds']} s, verify {out['verify_seconds']} s), "
        f"peak RSS {out['peak_rss_mb']} MB",
        flush=True,
    )
    write_result(a.out or RESULTS / f"n{a.size}-s{a.seed}" / "db_copy.json", "db_copy", out)


if __name__ == "__main__":
    main()
