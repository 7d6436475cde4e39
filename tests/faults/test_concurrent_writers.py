"""Two ``casekeeper serve`` processes on one PostgreSQL database, 8 client threads each, all
changing the same three cases at once: comments, acknowledge and unacknowledge, assign, priority
override (without a version check), and retitles through the Kibana dialect (with one).

No lost update: every acknowledged comment, assignment and retitle is in the timeline exactly
once; every status and priority event starts from where the one before it ended (a change made
from a stale read would not); the version counts every change; a retitle acknowledged from
version v made version v + 1. PostgreSQL only: SQLite is one process's database."""

from __future__ import annotations

import collections
import random
import threading
import time
import uuid

import pytest

from tests.faults.conftest import pg_base
from tests.faults.load import CREATE_EVENTS, OK, PRIORITIES, Api, Op, Stored, tally
from tests.faults.stored import outbox_problems, read_cases
from tests.server.conftest import Serve, Served

pytestmark = pytest.mark.skipif(
    pg_base() is None, reason="two servers on one database: CASEKEEPER_TEST_DATABASE_URL"
)
SECONDS = 3.0
THREADS = 8  # per server


def _writer(served: Served, cases: list[str], seed: int, stop: threading.Event) -> list[Op]:
    rng, ops = random.Random(seed), []
    api = Api(served.http, served.grpc, served.key)
    try:
        while not stop.is_set():
            case_id, pick = rng.choice(cases), rng.random()
            if pick < 0.3:
                op = api.comment(case_id, f"comment {uuid.uuid4().hex}")
            elif pick < 0.45:
                op = api.ack(case_id)
            elif pick < 0.6:
                op = api.unack(case_id)
            elif pick < 0.75:
                op = api.priority(case_id, rng.choice(PRIORITIES))
            elif pick < 0.9:
                op = api.assign(case_id, str(uuid.uuid4()))
            else:
                op = api.retitle(case_id, f"title {uuid.uuid4().hex}")
            ops.append(op)
    finally:
        api.close()
    return ops


def _problems(case_id: str, ops: list[Op], case: Stored) -> list[str]:
    mine = [op for op in ops if op.case_id == case_id]
    done = collections.Counter((op.kind, op.token) for op in mine if op.outcome == OK)
    kinds = {"comment": "comment", "assigned": "assign", "titleChangedEvent": "title"}
    stored = collections.Counter(
        (kinds[kind], token) for kind, token in case.events if kind in kinds
    )
    problems = []
    exact = {key: n for key, n in done.items() if key[0] in kinds.values()}
    if stored != exact:
        problems.append(f"{case_id}: stored {sum(stored.values())}, acknowledged {len(exact)}")
    status, override = "CASE_STATUS_PENDING_ACTIVATION", None  # created pending, made active
    for (kind, _), data in zip(case.events, case.data, strict=True):
        if kind == "statusChanged":
            if data["oldStatus"] != status:
                problems.append(f"{case_id}: {data} after {status}")
            status = data["newStatus"]
        elif kind == "priorityDetailsChanged":
            if data["from"].get("override") != override:
                problems.append(f"{case_id}: {data} after {override}")
            override = data["to"].get("override")
    if case.status != status:
        problems.append(f"{case_id}: status {case.status}, its timeline ends at {status}")
    if case.version != 1 + len(case.events) - len(CREATE_EVENTS):
        problems.append(f"{case_id}: version {case.version} for {len(case.events)} events")
    for op in mine:
        if (
            op.kind == "title"
            and op.outcome == OK
            and op.returned["version"] != op.returned["base"] + 1
        ):
            problems.append(f"{case_id}: retitle from v{op.returned['base']} made {op.returned}")
    return problems


def test_two_servers_writing_the_same_cases_lose_no_update(serve: Serve, fault_db: str) -> None:
    env = {"CASEKEEPER_DATABASE_URL": fault_db}
    servers = [serve(env=env), serve(env=env)]
    api = Api(servers[0].http, servers[0].grpc, servers[0].key)
    made = [api.create(f"shared {n}") for n in range(3)]
    api.close()
    cases = [str(op.case_id) for op in made if op.outcome == OK]
    assert len(cases) == 3, made

    stop, results = threading.Event(), []
    lock = threading.Lock()

    def run(served: Served, seed: int) -> None:
        ops = _writer(served, cases, seed, stop)
        with lock:
            results.extend(ops)

    workers = [threading.Thread(target=run, args=(servers[n % 2], n)) for n in range(2 * THREADS)]
    for w in workers:
        w.start()
    time.sleep(SECONDS)  # the writers run meanwhile
    stop.set()
    for w in workers:
        w.join(30)
        assert not w.is_alive()

    counts = tally(results)
    assert sum(n.get(OK, 0) for n in counts.values()) >= 100, counts
    for op in results:  # refused: only a retitle from a version another change had passed
        assert op.outcome == OK or (op.kind == "title" and op.status == "409"), op
    stored = read_cases(fault_db)
    problems = [p for case_id in cases for p in _problems(case_id, results, stored[case_id])]
    assert problems == []
    assert outbox_problems(fault_db, stored) == []
