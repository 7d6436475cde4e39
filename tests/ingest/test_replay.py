"""Alertmanager re-sends, retries and runs as an HA pair: every captured webhook delivered twice,
by several threads at once, must leave exactly what one delivery of each leaves; shuffled, it
must never leave a duplicate or an alert open that any delivery resolved (issue 13, §2).

Over HTTP on a loopback server, each thread with its own connection."""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from casekeeper.bootstrap import Container
from casekeeper.service.auth import Principal
from casekeeper.store.schema import case, case_event, incident, incident_event, signal_firing
from tests.api.coralogix.rest.conftest import RunningServer
from tests.conftest import MakeKey
from tests.ingest.conftest import load_payload, payload_files

AM = "/ingest/alertmanager"
THREADS = 4


def deliveries() -> list[dict[str, Any]]:
    return [load_payload(p.name) for p in payload_files()]


def post_all(url: str, key: str, payloads: list[dict[str, Any]]) -> None:
    with httpx.Client(base_url=url, timeout=30) as http:
        for payload in payloads:
            r = http.post(AM, json=payload, headers={"authorization": f"Bearer {key}"})
            assert r.status_code == 200, r.text[:500]


def at_once(url: str, key: str, work: list[list[dict[str, Any]]]) -> None:
    errors: list[BaseException] = []

    def run(payloads: list[dict[str, Any]]) -> None:
        try:
            post_all(url, key, payloads)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=run, args=(w,)) for w in work]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors


def state(container: Container, p: Principal) -> dict[str, Any]:
    """What the deliveries left in ``p``'s space, without ids and times of arrival."""
    sid = p.space_id
    with container.db.reader() as uow:
        conn = uow.conn

        def count(table: sa.Table) -> int:
            q = sa.select(sa.func.count()).select_from(table).where(table.c.space_id == sid)
            return int(conn.execute(q).scalar_one())

        firings = sorted(
            (r.dedup_key, r.starts_at, r.status, r.incident_id is not None)
            for r in conn.execute(sa.select(signal_firing).where(signal_firing.c.space_id == sid))
        )
        incidents = Counter(
            (r.correlation_key, r.state, r.status, r.closed_at is not None)
            for r in conn.execute(sa.select(incident).where(incident.c.space_id == sid))
        )
        cases = Counter(
            (r.title, r.status) for r in conn.execute(sa.select(case).where(case.c.space_id == sid))
        )
        return {
            "firings": firings,
            "incidents": incidents,
            "cases": cases,
            "timeline": count(case_event),
            "incident_events": count(incident_event),
        }


def latest(firings: list[tuple[str, int, str, bool]]) -> dict[str, tuple[int, str]]:
    """Each dedup key's latest firing: (start, status)."""
    out: dict[str, tuple[int, str]] = {}
    for key, start, status, _ in firings:
        if key not in out or start > out[key][0]:
            out[key] = (start, status)
    return out


@pytest.fixture
def two_spaces(make_key: MakeKey) -> tuple[tuple[str, Principal], tuple[str, Principal]]:
    return (
        make_key(space_name=f"once-{uuid.uuid4().hex[:8]}"),
        make_key(space_name=f"many-{uuid.uuid4().hex[:8]}"),
    )


def test_twice_and_concurrently_equals_once(
    ingest_http: RunningServer, container: Container, two_spaces: Any
) -> None:
    (once_key, once), (many_key, many) = two_spaces
    payloads = deliveries()
    post_all(ingest_http.url, once_key, payloads)
    for payload in payloads:  # in order, each by every thread at once, then again
        at_once(ingest_http.url, many_key, [[payload, payload]] * THREADS)
    assert state(container, many) == state(container, once)


def test_shuffled_and_concurrent_leaves_no_duplicate_and_nothing_wrongly_open(
    ingest_http: RunningServer, container: Container, two_spaces: Any
) -> None:
    (once_key, once), (many_key, many) = two_spaces
    payloads = deliveries()
    post_all(ingest_http.url, once_key, payloads)
    rng = random.Random(13)
    work = []
    for _ in range(THREADS):
        mine = payloads * 2
        rng.shuffle(mine)
        work.append(mine)
    at_once(ingest_http.url, many_key, work)
    expected, got = state(container, once), state(container, many)
    # Each alert's latest firing the same, and resolved if any delivery resolved it (a
    # resolution that came first also leaves its own record: ``latest`` skips it).
    assert latest(got["firings"]) == latest(expected["firings"])
    # Never two incidents of one alert open at once; never more incidents than firings.
    open_keys = Counter(key for key, _, _, closed in got["incidents"].elements() if not closed)
    assert all(n == 1 for n in open_keys.values())
    assert sum(got["incidents"].values()) <= len(got["firings"])
    # An incident is triggered only if its alert's latest firing is still firing.
    firing_now = {k for k, _, st, _ in got["firings"] if st == "firing"}
    for key, state_, _, closed in got["incidents"].elements():
        if state_ == 1 and not closed:
            assert key.split(":", 1)[1] in firing_now
    # One case per Alertmanager group at most.
    assert sum(got["cases"].values()) <= sum(expected["cases"].values())
