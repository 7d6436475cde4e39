"""The command-line contract that scripts and docs depend on, run as real processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from casekeeper.proto.com.coralogixapis.cases.v1 import cases_service_pb2 as pb
from casekeeper.proto.com.coralogixapis.cases.v1 import cases_service_pb2_grpc as pb_grpc

CASEKEEPER = [sys.executable, "-m", "casekeeper"]


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('cli') / 'cli.db'}"


def ck(db_url: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CASEKEEPER_DATABASE_URL": db_url, "COLUMNS": "200"}
    proc = subprocess.run(
        [*CASEKEEPER, *args], capture_output=True, text=True, env=env, timeout=120
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} failed ({proc.returncode}): {proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def loaded(db_url: str) -> str:
    ck(db_url, "db", "upgrade")
    ck(db_url, "demo")
    return db_url


def test_demo_loads_users_and_what_they_did(loaded: str) -> None:
    from casekeeper.bootstrap import bootstrap
    from casekeeper.domain.query import CaseQuery
    from casekeeper.service.auth import OPERATOR
    from casekeeper.settings import Settings

    c = bootstrap(Settings.from_env(database_url=loaded))
    try:
        users = {u.username: u for u in c.users.list_users(OPERATOR)}
        assert {n: [r.value for _, r in u.roles] for n, u in users.items()} == {
            "alice": ["admin"],
            "bob": ["responder"],
            "carol": ["viewer"],
        }
        bob = c.users.authenticate("bob", "casekeeper-demo", "default", "127.0.0.1")
        listed, _ = c.cases.list_cases(bob, CaseQuery())
        (case,) = [x for x in listed if x.title == "Customer reports failed card payments"]
        assert case.status.name == "ACKNOWLEDGED"
        assert case.assignees == (users["bob"].id,)
        kinds = [e.kind.value for e in c.timeline.list_events(bob, case.id)]
        assert kinds[0] == "created"
        assert "comment" in kinds
        (held,) = [x for x in listed if x.title.startswith("Impossible travel")]
        assert (held.status.name, held.on_hold, held.severity.name) == (
            "ACKNOWLEDGED", True, "HIGH",
        )  # fmt: skip
        assert held.extensions["tracecat"]["payload"]["source"] == "okta"
    finally:
        c.close()


def test_db_upgrade_is_idempotent(db_url: str) -> None:
    ck(db_url, "db", "upgrade")
    assert "head" in ck(db_url, "db", "upgrade").stdout


def test_demo_loads_every_status_priority_and_category_once(loaded: str) -> None:
    again = ck(loaded, "demo")
    assert "already loaded" in again.stdout
    from casekeeper.bootstrap import bootstrap
    from casekeeper.domain.query import CaseQuery, PageRequest
    from casekeeper.settings import Settings
    from casekeeper.store.keys import SpaceRepository

    c = bootstrap(Settings.from_env(database_url=loaded))
    try:
        with c.db.reader() as uow:
            space_id = SpaceRepository(uow.conn).get_id("default")
        assert space_id is not None
        from casekeeper.service.demo import _principal

        who = _principal(space_id, "test")
        cases, _ = c.cases.list_cases(who, CaseQuery(page=PageRequest(size=1000)))
        assert len(cases) >= 60
        assert {x.status.name for x in cases} == {
            "PENDING_ACTIVATION", "ACTIVE", "ACKNOWLEDGED", "RESOLVED", "CLOSED"
        }  # fmt: skip
        assert {x.effective_priority.name for x in cases} == {"P1", "P2", "P3", "P4", "P5"}
        assert {x.category.name for x in cases} == {"SECURITY", "AVAILABILITY"}
        assert any(x.assignee for x in cases)
        assert any(x.indicators.get("alertIndicators") for x in cases)
        assert any(x.indicators.get("prometheusAlertIndicators") for x in cases)
        kinds = {e.kind.value for x in cases for e in c.timeline.list_events(who, x.id)}
        assert {"created", "statusChanged", "assigned", "comment"} <= kinds
    finally:
        c.close()


def test_demo_loads_incidents_of_every_state_status_and_severity(loaded: str) -> None:
    from casekeeper.bootstrap import bootstrap
    from casekeeper.domain.incidents import IncidentEventType, IncidentSeverity, Originator
    from casekeeper.domain.model import CaseRef
    from casekeeper.service.demo import DEMO_CASES, _case_id, _principal
    from casekeeper.settings import Settings
    from casekeeper.store.keys import SpaceRepository

    c = bootstrap(Settings.from_env(database_url=loaded))
    try:
        with c.db.reader() as uow:
            space_id = SpaceRepository(uow.conn).get_id("default")
            assert space_id is not None
            cases = [
                uow.cases.get(space_id, CaseRef(raw="", uuid=_case_id(i)))
                for i in range(DEMO_CASES)
            ]
            incidents = [x for case in cases if case for x in uow.incidents.of_case(case.id)]
            events = {x.id: uow.incidents.events_of(x.id) for x in incidents}
        assert len(incidents) >= 40
        assert {x.state.name for x in incidents} == {"TRIGGERED", "RESOLVED"}
        assert {x.status.name for x in incidents} == {"TRIGGERED", "ACKNOWLEDGED", "RESOLVED"}
        assert set(IncidentSeverity) - {x.severity for x in incidents} == {
            IncidentSeverity.UNSPECIFIED
        }
        assert any(x.is_closed for x in incidents)
        assert any(not x.is_closed for x in incidents)
        assert any(x.is_muted for x in incidents)
        seed_001 = {"alert_id", "alert_name", "alert_type", "alert_severity",
                    "alert_group_by_fields", "alert_notification_group_id"}  # fmt: skip
        for x in incidents:
            assert seed_001 <= set(x.contextual_labels)
            assert set(x.display_labels) == {
                "coralogix.metadata.applicationName",
                "coralogix.metadata.subsystemName",
            }
            assert x.meta_labels
        assignees = {x.assignee for x in incidents if x.assignee}
        assert any("@" in a for a in assignees)
        assert any("@" not in a for a in assignees)
        types = [e.type for x in incidents for e in events[x.id]]
        assert set(IncidentEventType) - set(types) == {
            IncidentEventType.UNSPECIFIED,
            IncidentEventType.SNOOZE_INDICATOR,  # no API snoozes
        }
        assert {e.originator for x in incidents for e in events[x.id]} == {
            Originator.OPERATIONAL,
            Originator.ADMINISTRATIVE,
        }
        upserts = [[e.type for e in events[x.id]].count(IncidentEventType.UPSERT_STATE)
                   for x in incidents]  # fmt: skip
        assert max(upserts) >= 3  # fired, resolved, fired again
        who = _principal(space_id, "test")
        with_incidents = {x.case_id for x in incidents}
        kinds = {e.kind.value for ref in with_incidents for e in c.timeline.list_events(who, ref)}
        assert "incidentChanged" in kinds
    finally:
        c.close()


def test_keys_create_json_list_and_revoke(loaded: str) -> None:
    out = ck(loaded, "keys", "create", "--name", "ci", "-p", "CASE:READ", "-p", "case:Close",
             "--space", "cli-space", "--json")  # fmt: skip
    created = json.loads(out.stdout)
    assert created["key"].startswith("ck_")
    assert created["permissions"] == ["case:Read", "case:Close"]
    assert created["space"] == "cli-space"
    listed = json.loads(ck(loaded, "keys", "list", "--space", "cli-space", "--json").stdout)
    assert [k["id"] for k in listed] == [created["id"]]
    assert created["key"] not in json.dumps(listed)
    ck(loaded, "keys", "revoke", created["id"])
    assert json.loads(ck(loaded, "keys", "list", "--space", "cli-space", "--json").stdout) == []
    bad = ck(loaded, "keys", "create", "--name", "x", "-p", "case:Fly", check=False)
    assert bad.returncode == 1
    assert "unknown permission" in bad.stderr


def test_keys_take_the_incident_and_signal_permissions(loaded: str) -> None:
    out = ck(loaded, "keys", "create", "--name", "oncall", "-p", "incidents:read",
             "-p", "INCIDENTS:ACKNOWLEDGE", "-p", "signals:write", "--json")  # fmt: skip
    perms = json.loads(out.stdout)["permissions"]
    assert perms == ["incidents:read", "incidents:acknowledge", "signals:Write"]


def test_cases_commands_work_a_case(loaded: str) -> None:
    listed = ck(loaded, "cases", "list", "--status", "ACTIVE", "--limit", "1000").stdout
    target = next(w for w in listed.split() if w.startswith("CASE-"))
    assert target in ck(loaded, "cases", "get", target.lower()).stdout
    ck(loaded, "cases", "assign", target, "--user", "11111111-2222-4333-8444-555555555555")
    assert "acknowledged" in ck(loaded, "cases", "ack", target).stdout
    ck(loaded, "cases", "comment", target, "-m", "looking")
    assert "RESOLVED" in ck(loaded, "cases", "resolve", target, "--reason", "fixed").stdout
    assert "CLOSED" in ck(loaded, "cases", "close", target).stdout
    shown = ck(loaded, "cases", "get", target).stdout
    assert "looking" in shown
    assert "fixed" in shown
    refused = ck(loaded, "cases", "ack", target, check=False)
    assert refused.returncode == 1
    assert "in status closed: reopen it first" in refused.stderr
    missing = ck(loaded, "cases", "get", "CASE-999999", check=False)
    assert missing.returncode == 1
    assert "not found" in missing.stderr
    assert "ACTIVE" in ck(loaded, "cases", "reopen", target).stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(loaded: str) -> Iterator[tuple[str, str]]:
    address = f"127.0.0.1:{_free_port()}"
    http = f"127.0.0.1:{_free_port()}"
    env = {**os.environ, "CASEKEEPER_DATABASE_URL": loaded}
    command = [*CASEKEEPER, "serve", "--grpc", address, "--http", http]
    proc = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        channel = grpc.insecure_channel(address)
        grpc.channel_ready_future(channel).result(timeout=30)
        health = health_pb2_grpc.HealthStub(channel)
        assert health.Check(health_pb2.HealthCheckRequest()).status == 1  # SERVING
        channel.close()
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://{http}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.1)
        yield address, http
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, output


def test_serve_answers_grpc_and_http_and_stops_on_sigterm(
    loaded: str, served: tuple[str, str]
) -> None:
    grpc_address, http = served
    key = json.loads(
        ck(loaded, "keys", "create", "--name", "srv", "-p", "case:Read", "--json").stdout
    )
    with grpc.insecure_channel(grpc_address) as channel:
        stub = pb_grpc.CasesServiceStub(channel)
        md = (("authorization", f"Bearer {key['key']}"),)
        started = time.monotonic()
        resp = stub.GetCase(pb.GetCaseRequest(id="case-1"), metadata=md, timeout=10)
        assert resp.case.readable_id == "CASE-1"
        assert time.monotonic() - started < 10
    got = httpx.get(
        f"http://{http}/mgmt/openapi/latest/cases/cases/v1/case-1",
        headers={"Authorization": f"Bearer {key['key']}"},
        timeout=10,
    )
    assert got.status_code == 200
    assert got.json()["case"]["readableId"] == "CASE-1"


def test_package_has_no_stray_files() -> None:
    root = Path(__file__).resolve().parents[2] / "src" / "casekeeper"
    assert (root / "py.typed").exists()


def test_demo_ingests_alert_signals_and_explains_their_cases(loaded: str) -> None:
    from casekeeper.bootstrap import bootstrap
    from casekeeper.domain.signals import Source
    from casekeeper.service.demo import _principal
    from casekeeper.settings import Settings
    from casekeeper.store.keys import SpaceRepository

    c = bootstrap(Settings.from_env(database_url=loaded))
    try:
        with c.db.reader() as uow:
            space_id = SpaceRepository(uow.conn).get_id("default")
            assert space_id is not None
            firings = uow.firings.open_of_source(space_id, Source.ALERTMANAGER)
        assert {f.labels["alertname"] for f in firings} == {"DiskFull", "HighLatency"}
        disk = next(f for f in firings if f.labels["alertname"] == "DiskFull")
        assert disk.case_id is not None
        why = c.signals.explain(_principal(space_id, "reader"), disk.case_id)
        case = c.cases.get(_principal(space_id, "reader"), disk.case_id)
    finally:
        c.close()
    assert why.priority == "P1"
    assert case.readable_id == "CASE-58"  # scripts/demo.sh and the README show this one
    assert len(case.indicators["prometheusAlertIndicators"][0]["alerts"]) == 2
    out = ck(loaded, "cases", "explain", case.readable_id).stdout
    assert "the most urgent of its firing indicators" in out
    assert 'label severity="critical" maps to P1' in out
    assert "alertmanager:" in out


def test_demo_has_an_example_notification_setup(loaded: str) -> None:
    conns = json.loads(ck(loaded, "connectors", "list", "--json").stdout)
    assert [(c["name"], c["enabled"]) for c in conns] == [("example-webhook", False)]
    routes = json.loads(ck(loaded, "routes", "list", "--json").stdout)
    assert [r["name"] for r in routes] == ["urgent-availability", "security-everything"]
    why = json.loads(
        ck(loaded, "routes", "explain", "--case", "CASE-58", "--event", "opened", "--json").stdout
    )
    assert [r["route"] for r in why["routes"]] == ["urgent-availability", "security-everything"]
    for r in why["routes"]:
        for conn in r["connectors"]:
            assert conn == {"id": conns[0]["id"], "name": "example-webhook", "usable": False,
                            "why": "the connector is disabled"}  # fmt: skip
    assert "demo data already loaded" in ck(loaded, "demo").stdout
