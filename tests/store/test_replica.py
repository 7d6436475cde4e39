"""Reads from a real streaming standby (docs/REPLICA.md): a private PostgreSQL 15 primary and a
hot standby of it (tests/pgcluster.py), started once for this module's tests.

What proves a read ran on the standby: with the standby's replay paused, a read there cannot
see a case the primary just committed (a read on the primary would).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from casekeeper.bootstrap import Container, bootstrap
from casekeeper.domain.enums import CaseCategory, CasePriority
from casekeeper.domain.errors import CasekeeperError, ErrorCode
from casekeeper.domain.model import Case
from casekeeper.domain.query import CaseQuery
from casekeeper.service.admin import NewCase
from casekeeper.service.auth import OPERATOR, Principal
from casekeeper.settings import Settings
from casekeeper.store import migrate
from casekeeper.store.engine import make_engine
from casekeeper.store.replica import Replica, replica_read
from casekeeper.store.uow import Database
from tests.conftest import ALL_PERMISSIONS
from tests.pgcluster import PgCluster, free_port, require_binaries
from tests.server.conftest import CASEKEEPER, Serve, serve

__all__ = ["serve"]  # the fixture, for the end-to-end test

DB = "casekeeper"


class Pair:
    def __init__(self, primary: PgCluster, standby: PgCluster) -> None:
        self.primary, self.standby = primary, standby

    def on_standby(self, sql: str) -> Any:
        engine = sa.create_engine(self.standby.url.replace("postgresql:", "postgresql+psycopg:"))
        try:
            with engine.connect() as conn:
                return conn.exec_driver_sql(sql).scalar()
        finally:
            engine.dispose()

    def pause_replay(self) -> None:
        self.on_standby("SELECT pg_wal_replay_pause()")
        # Requested is enough: replay stops before the next record.
        assert self.on_standby("SELECT pg_get_wal_replay_pause_state()") != "not paused"

    def resume_replay(self) -> None:
        self.on_standby("SELECT pg_wal_replay_resume()")


@pytest.fixture(scope="session")
def pair() -> Iterator[Pair]:
    require_binaries()
    base = PgCluster.temp_dir()
    primary = PgCluster.init(base / "primary", free_port())
    standby: PgCluster | None = None
    try:
        primary.start()
        admin = sa.create_engine(
            primary.url.replace("postgresql:", "postgresql+psycopg:"), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {DB}")
        admin.dispose()
        migrate.upgrade(primary.url_of(DB))
        standby = primary.standby(base / "standby", free_port())
        yield Pair(primary, standby)
    finally:
        if standby is not None:
            standby.destroy()
        primary.destroy()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def c(pair: Pair) -> Iterator[Container]:
    settings = Settings(
        database_url=pair.primary.url_of(DB), database_replica_url=pair.standby.url_of(DB)
    )
    container = bootstrap(settings)
    yield container
    container.close()


@pytest.fixture
def replica(c: Container) -> Replica:
    assert c.db.replica is not None
    return c.db.replica


def wait_until(check: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"waited {timeout} s for {what}"
        time.sleep(0.02)


def caller(c: Container, space: str, name: str) -> Principal:
    new = c.keys.create(granted_by=OPERATOR, name=name, permissions=ALL_PERMISSIONS, space=space)
    return c.keys.authenticate(f"Bearer {new.key}")


def new_case(c: Container, p: Principal, title: str = "a case") -> Case:
    spec = NewCase(title=title, category=CaseCategory(2), priority=CasePriority(3))
    return c.admin.create_case(p, spec)


def visible(c: Container, p: Principal, case: Case) -> bool:
    try:
        c.cases.get(p, case.id)
    except CasekeeperError as err:
        if err.code is not ErrorCode.CASE_NOT_FOUND:
            raise
        return False
    return True


def on_standby_again(c: Container, p: Principal, replica: Replica, case: Case) -> None:
    """Wait until ``p``'s reads are served by the standby (and it has replayed ``case``)."""

    def served() -> bool:
        before = replica.counts["replica"]
        return visible(c, p, case) and replica.counts["replica"] > before

    wait_until(served, "reads to go to the standby")


@pytest.fixture
def two(c: Container, pair: Pair, replica: Replica) -> Iterator[tuple[Principal, Principal, Case]]:
    """A writer and another caller in a fresh space, and a case of the writer's that both can
    see on the standby; replay runs again afterwards, whatever the test did."""
    space = f"r-{uuid.uuid4().hex[:10]}"
    writer, other = caller(c, space, "writer"), caller(c, space, "other")
    case = new_case(c, writer, "seen by both")
    on_standby_again(c, other, replica, case)
    yield writer, other, case
    if pair.standby.running():
        pair.resume_replay()


def test_reads_go_to_the_standby(c: Container, replica: Replica, two: Any) -> None:
    writer, other, case = two
    on_standby_again(c, writer, replica, case)
    taken = {"replica": 0, "primary": 0}

    def count(name: str) -> Callable[..., None]:
        def checkout(*_: object) -> None:
            taken[name] += 1

        return checkout

    engines = {"replica": replica.engine, "primary": c.db.engine}
    listeners = {name: count(name) for name in engines}
    for name, engine in engines.items():
        sa.event.listen(engine, "checkout", listeners[name])
    try:
        for p in (writer, other):
            assert c.cases.get(p, case.id).id == case.id
            page = c.cases.list_page(p, CaseQuery())
            assert [x.id for x in page.cases] == [case.id]
            assert c.timeline.list_events(p, case.id)
    finally:
        for name, engine in engines.items():
            sa.event.remove(engine, "checkout", listeners[name])
    assert taken == {"replica": 6, "primary": 0}


def test_the_writer_reads_its_writes_while_replay_is_paused(
    c: Container, pair: Pair, replica: Replica, two: Any
) -> None:
    writer, other, _ = two
    pair.pause_replay()
    fresh = new_case(c, writer, "written while replay is paused")
    behind = replica.counts["primary_behind"]
    # The writer's reads go to the primary until the standby has replayed its commit...
    assert c.cases.get(writer, fresh.id).title == "written while replay is paused"
    listed = c.cases.list_page(writer, CaseQuery()).cases
    assert fresh.id in [x.id for x in listed]
    assert replica.counts["primary_behind"] == behind + 2
    # ...while another caller's go to the standby, which has not replayed it: stale, as allowed.
    served = replica.counts["replica"]
    assert not visible(c, other, fresh)
    assert fresh.id not in [x.id for x in c.cases.list_page(other, CaseQuery()).cases]
    assert replica.counts["replica"] == served + 2
    pair.resume_replay()
    on_standby_again(c, writer, replica, fresh)
    assert visible(c, other, fresh)


def test_a_lagging_standby_is_left_but_an_idle_primary_is_no_lag(
    c: Container, pair: Pair, replica: Replica, two: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer, other, _ = two
    monkeypatch.setattr(replica, "max_lag", 0.5)
    # Nothing written for twice the limit: the standby has replayed everything, so no lag
    # (a lag taken as the time since the last replayed commit would be 1 s by now).
    time.sleep(1.0)
    assert replica.healthy()
    assert replica.lag < 0.5
    pair.pause_replay()
    fresh = new_case(c, writer, "written while the standby lags")
    wait_until(lambda: not replica.healthy(), "the lagging standby to be left", timeout=5)
    unhealthy = replica.counts["primary_unhealthy"]
    assert visible(c, other, fresh)  # the primary answers everyone now
    assert replica.counts["primary_unhealthy"] == unhealthy + 1
    pair.resume_replay()
    on_standby_again(c, other, replica, fresh)


def test_a_standby_found_behind_is_not_trusted_before_it_catches_up(
    c: Container, pair: Pair, two: Any
) -> None:
    writer, _, _ = two
    pair.pause_replay()
    new_case(c, writer, "the standby has not replayed this")
    # A poller that connects now has no history to date the backlog by: however generous
    # the lag limit, it trusts the standby only once it replays what the primary had then.
    primary = make_engine(pair.primary.url_of(DB))
    late = Replica(make_engine(pair.standby.url_of(DB)), primary, max_lag=60)
    db = Database(primary, late)
    try:
        assert replica_read(db, "someone", lambda uow: uow.spaces.get_id("")) is None
        time.sleep(0.5)
        assert not late.healthy()
        pair.resume_replay()
        wait_until(late.healthy, "the standby to catch up")
    finally:
        db.dispose()


def test_a_stopped_standby_sends_reads_to_the_primary_until_it_is_back(
    c: Container, pair: Pair, replica: Replica, two: Any
) -> None:
    writer, other, case = two
    pair.standby.stop("fast")
    try:
        for _ in range(20):  # from the moment it stopped: no read fails
            assert visible(c, other, case)
            time.sleep(0.01)
        wait_until(lambda: not replica.healthy(), "the poller to see it stopped", timeout=5)
        fresh = new_case(c, writer, "written while the standby is down")
        unhealthy = replica.counts["primary_unhealthy"]
        assert visible(c, other, fresh)
        assert visible(c, writer, fresh)
        assert replica.counts["primary_unhealthy"] == unhealthy + 2
    finally:
        pair.standby.start()
    on_standby_again(c, other, replica, fresh)


def test_a_read_failing_on_the_standby_is_run_again_on_the_primary(
    c: Container, pair: Pair, replica: Replica, two: Any
) -> None:
    _, other, case = two
    assert visible(c, other, case)  # leaves an idle standby connection in the pool
    # Kill the pooled connections (not the poller's): the next read meets a dead one.
    killed = pair.on_standby(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        f"WHERE datname = '{DB}' AND pid <> pg_backend_pid() "
        "AND application_name <> 'casekeeper-replica-poller'"
    )
    assert killed >= 1
    retried = replica.counts["retried"]
    assert c.cases.get(other, case.id).id == case.id
    assert replica.counts["retried"] == retried + 1
    on_standby_again(c, other, replica, case)


def test_the_setting_needs_postgresql() -> None:
    standby = "postgresql://postgres@127.0.0.1:1/casekeeper"
    with pytest.raises(ValueError, match="CASEKEEPER_DATABASE_REPLICA_URL needs PostgreSQL"):
        Settings(database_url="sqlite:///x.db", database_replica_url=standby)
    with pytest.raises(ValueError, match="CASEKEEPER_DATABASE_REPLICA_URL needs PostgreSQL"):
        Settings(database_url=standby, database_replica_url="sqlite:///x.db")


def test_serve_reads_a_new_case_through_the_replica_setting(serve: Serve, pair: Pair) -> None:
    env = {
        "CASEKEEPER_DATABASE_URL": pair.primary.url_of(DB),
        "CASEKEEPER_DATABASE_REPLICA_URL": pair.standby.url_of(DB),
        "CASEKEEPER_SCHEDULER": "off",
        "CASEKEEPER_NOTIFY_WORKER": "off",
    }
    served = serve(env=env)
    url = f"http://{served.http}"
    auth = {"authorization": f"Bearer {served.key}"}
    other = {"authorization": f"Bearer {cli_key({**os.environ, **env})}"}
    # Warm up: the server's poller starts with its first standby read and has to see the
    # standby sound before any read goes there.
    listed = httpx.post(f"{url}/cases/cases/v1", json={}, headers=auth, timeout=10)
    assert listed.status_code == 200, listed.text
    time.sleep(1.0)
    pair.pause_replay()
    try:
        case_id = made_and_read_back(url, auth, other)
    finally:
        pair.resume_replay()
    wait_until(
        lambda: httpx.get(f"{url}/cases/cases/v1/{case_id}", headers=other).status_code == 200,
        "the standby to replay the new case",
    )
    metrics = httpx.get(f"{url}/metrics", timeout=10).text
    served_by = dict(
        re.findall(r'casekeeper_replica_reads_total\{served_by="(\w+)"\} (\S+)', metrics)
    )
    assert float(served_by["replica"]) >= 2  # the other key's reads
    assert float(served_by["primary_behind"]) >= 2  # the writer's own, while replay was paused
    assert "casekeeper_replica_lag_seconds" in metrics
    assert "Traceback" not in served.output()


def made_and_read_back(url: str, auth: dict[str, str], other: dict[str, str]) -> str:
    """Create a case over REST (Kibana's dialect), read it back at once (GetCase, ListCases) and
    see that another key, served by the paused standby, does not see it yet."""
    body = {
        "title": "made over REST",
        "description": "read back at once",
        "tags": [],
        "connector": {"id": "none", "name": "none", "type": ".none", "fields": None},
        "settings": {"syncAlerts": False},
        "owner": "cases",
    }
    made = httpx.post(
        f"{url}/api/cases", json=body, headers={**auth, "kbn-xsrf": "true"}, timeout=10
    )
    assert made.status_code == 200, made.text
    case_id = made.json()["id"]
    got = httpx.get(f"{url}/cases/cases/v1/{case_id}", headers=auth, timeout=10)
    assert got.status_code == 200, got.text
    assert got.json()["case"]["title"] == "made over REST"
    listed = httpx.post(f"{url}/cases/cases/v1", json={}, headers=auth, timeout=10)
    assert case_id in listed.text
    # Another key's read is served by the standby, which has not replayed the case yet.
    stale = httpx.get(f"{url}/cases/cases/v1/{case_id}", headers=other, timeout=10)
    assert stale.status_code == 404, stale.text
    return str(case_id)


def cli_key(env: dict[str, str]) -> str:
    perms = [arg for p in ALL_PERMISSIONS for arg in ("-p", p)]
    made = subprocess.run(
        [CASEKEEPER, "keys", "create", "--name", "another", *perms, "--json"],
        env=env, capture_output=True, check=True, timeout=60,
    )  # fmt: skip
    key: str = json.loads(made.stdout)["key"]
    return key
