"""PostgreSQL stopped for two seconds under write load (``pg_ctl stop -m fast``: clients
disconnected, a clean shutdown; ``-m immediate``: as if it crashed), then started again, while
``casekeeper serve`` keeps running (a private cluster: tests/pgcluster.py).

While it is down every call is answered 503 / UNAVAILABLE in well under the client's timeout
(never 500, never a hang); once it is back the server recovers by itself (no restart) within a
few seconds; every acknowledged write is there exactly once, each in doubt wholly or not at
all, each event with its outbox message."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa

from casekeeper.store import migrate
from casekeeper.store.engine import normalize_url
from tests.faults.conftest import need_fault
from tests.faults.load import (
    DOUBT,
    OK,
    REQUEST_LOGGERS,
    TIMEOUT,
    Load,
    check_cases,
    logged_tracebacks,
    wait_until,
)
from tests.faults.stored import outbox_problems, read_cases
from tests.pgcluster import PgCluster, free_port, require_binaries
from tests.server.conftest import Serve

DOWN_SECONDS = 2.0
RECOVERY_SECONDS = 5.0  # after PostgreSQL accepts connections again, every call succeeds


@pytest.fixture(scope="module")
def cluster() -> Iterator[PgCluster]:
    try:
        require_binaries()
    except pytest.skip.Exception as skipped:
        need_fault(str(skipped))
    home = PgCluster.temp_dir("casekeeper-faults-")
    pg = PgCluster.init(home / "data", free_port())
    try:
        pg.start()
        yield pg
    finally:
        pg.destroy()
        shutil.rmtree(home, ignore_errors=True)


def _database(pg: PgCluster, name: str) -> str:
    admin = sa.create_engine(normalize_url(pg.url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    url = pg.url_of(name)
    migrate.upgrade(url)
    return url


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_postgresql_down_and_back_under_load(serve: Serve, cluster: PgCluster, mode: str) -> None:
    url = _database(cluster, f"restart_{mode}")
    served = serve(env={"CASEKEEPER_DATABASE_URL": url})
    load = Load(served.http, served.grpc, served.key, threads=6, seed=len(mode)).start()
    time.sleep(1.0)  # load before the fault (it runs meanwhile)
    cluster.stop(mode)
    down = time.monotonic()
    time.sleep(DOWN_SECONDS)  # the load meets a database that is away
    cluster.start()
    up = time.monotonic()

    def recovered() -> bool:
        return httpx.get(f"http://{served.http}/readyz", timeout=TIMEOUT).status_code == 200

    wait_until(recovered, RECOVERY_SECONDS, "readiness after PostgreSQL came back")
    time.sleep(RECOVERY_SECONDS + 1)  # load after the recovery, to see it hold
    ops = load.finish()

    assert served.process.poll() is None, "serve died with its database"
    for op in ops:
        assert op.seconds < TIMEOUT, op  # no hang
        # Refused only as unavailable: never a 500, a transport error, or a timeout.
        assert op.outcome == OK or op.status in ("503", "UNAVAILABLE"), op
        if op.outcome == DOUBT and op.status == "503":
            assert "database" in op.message, op
    refused = [op for op in ops if op.outcome != OK]
    assert any(down <= op.started <= up for op in refused), "the load never met the outage"
    late = [op for op in ops if op.started >= up + RECOVERY_SECONDS]
    assert late, "no load after the recovery"
    assert all(op.outcome == OK for op in late), [op for op in late if op.outcome != OK][:3]

    stored = read_cases(url)
    assert check_cases(ops, stored) == []
    assert outbox_problems(url, stored) == []
    assert not logged_tracebacks(served.output()) & REQUEST_LOGGERS
