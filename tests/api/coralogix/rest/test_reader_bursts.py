"""Bursts of concurrent REST reads, with the server's worker threads replaced between bursts
(as they are after 10 s idle), leave the server answering writes and reads at once. Before,
every replaced thread stranded a SQLite connection and the server stopped answering for good."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from anyio._backends._asyncio import WorkerThread

from casekeeper.bootstrap import Container
from casekeeper.store.uow import IDLE_READERS
from tests.api.coralogix.rest.conftest import Rest
from tests.conftest import MakeCase


def test_read_bursts_with_replaced_threads(
    rest: Rest, make_case: MakeCase, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(WorkerThread, "MAX_IDLE_TIME", 0)  # every idle worker is replaced
    case = make_case()
    ids = [case.id]

    def list_page(_: int) -> int:
        return rest.raw("ListCases", json={"pagination": {"pageSize": 5}}).status_code

    with ThreadPoolExecutor(40) as pool:
        for burst in range(12):
            statuses = list(pool.map(list_page, range(40 if burst % 2 else 2)))
            assert set(statuses) == {200}, statuses
            time.sleep(0.05)
    pool_state = container.db.engine.pool
    if container.db.sqlite:
        # a few idle readers, and whatever other tests of this process hold at this moment
        assert pool_state.checkedout() <= IDLE_READERS + 8  # type: ignore[attr-defined]
    started = time.monotonic()
    rest.call("AcknowledgeCase", ids[0])
    rest.call("GetCase", ids[0])
    assert time.monotonic() - started < 5
