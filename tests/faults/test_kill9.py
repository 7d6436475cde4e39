"""``kill -9`` of a server under write load, then a new server on the same database (SQLite,
or PostgreSQL when CASEKEEPER_TEST_DATABASE_URL names it).

Every write the server acknowledged must be there exactly once, each in-flight one wholly or
not at all (its case row, version, timeline events and outbox messages are one transaction),
every event must have its outbox message, and the new server must start (SQLite recovers its
WAL) and serve."""

from __future__ import annotations

import signal
import time

from tests.faults.load import DOUBT, OK, Api, Load, check_cases, tally
from tests.faults.stored import outbox_problems, read_cases
from tests.server.conftest import Serve, healthz

LOAD_SECONDS = 2.5  # of writes before the kill: a few hundred operations on this machine


def test_kill9_under_write_load_loses_and_duplicates_nothing(serve: Serve, fault_db: str) -> None:
    env = {"CASEKEEPER_DATABASE_URL": fault_db}
    first = serve(env=env)
    load = Load(first.http, first.grpc, first.key, threads=6, stop_on_transport_error=True)
    load.start()
    time.sleep(LOAD_SECONDS)  # the load runs meanwhile; the kill lands mid-write
    killed_at = time.monotonic()
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(10)
    ops = load.finish()
    counts = tally(ops)
    assert sum(n.get(OK, 0) for n in counts.values()) >= 50, counts  # the kill met real load
    for op in ops:  # before the kill, nothing but acknowledgements; at it, lost connections
        if op.outcome != OK:
            assert op.started + op.seconds >= killed_at, op
            assert op.outcome == DOUBT or op.status.endswith("Error"), op

    second = serve(env=env)  # same database: SQLite replays its WAL here
    assert healthz(f"http://{second.http}") == 200
    stored = read_cases(fault_db)
    assert check_cases(ops, stored) == []
    assert outbox_problems(fault_db, stored) == []

    # The new server serves: reads what the first acknowledged, and takes writes.
    api = Api(second.http, second.grpc, second.key)
    acknowledged = [op for op in ops if op.kind == "create" and op.outcome == OK]
    case_id = acknowledged[-1].case_id
    got = api.http.get(f"/cases/cases/v1/{case_id}")
    assert got.status_code == 200
    assert got.json()["case"]["status"] == stored[str(case_id)].status
    after = api.comment(str(case_id), "after the restart")
    assert after.outcome == OK, after
    api.close()
    in_doubt = [op for op in ops if op.outcome == DOUBT]
    assert len(in_doubt) <= load.threads  # one in flight per thread at most
