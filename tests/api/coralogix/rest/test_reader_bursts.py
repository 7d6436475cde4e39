"""Bursts of concurrent REST reads, with the server's worker threads replaced between bursts
(as they are after 10 s idle), leave the server answering writes and reads at once. Before,
every replaced thread stranded a SQLite connection and the server stopped answering for good."""

from __future__ import annotations

import dataclasses
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
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

    # One HTTP client per thread: a pool shared by 40 threads races on its own sockets
    # ("Bad file descriptor" in the client), which is not what this test is about.
    local = threading.local()

    def list_page(_: int) -> int:
        if not hasattr(local, "rest"):
            client = httpx.Client(base_url=rest.http.base_url, timeout=rest.http.timeout)
            local.rest = dataclasses.replace(rest, http=client)
            clients.append(client)
        return int(local.rest.raw("ListCases", json={"pagination": {"pageSize": 5}}).status_code)

    clients: list[httpx.Client] = []
    with ThreadPoolExecutor(40) as pool:
        for burst in range(12):
            statuses = list(pool.map(list_page, range(40 if burst % 2 else 2)))
            assert set(statuses) == {200}, statuses
            time.sleep(0.05)
    for client in clients:
        client.close()
    pool_state = container.db.engine.pool
    if container.db.sqlite:
        # a few idle readers, and whatever other tests of this process hold at this moment
        assert pool_state.checkedout() <= IDLE_READERS + 8  # type: ignore[attr-defined]
    started = time.monotonic()
    rest.call("AcknowledgeCase", ids[0])
    rest.call("GetCase", ids[0])
    assert time.monotonic() - started < 5
