"""End to end with the real Prometheus Alertmanager: alerts fired with its API v2 reach
casekeeper through its webhook receiver as incidents and cases with Prometheus indicators;
resolving them resolves both; a failed delivery that Alertmanager retries duplicates nothing."""

from __future__ import annotations

from pathlib import Path

from casekeeper.domain.enums import CaseStatus
from casekeeper.domain.incidents import IncidentEventType, IncidentState
from casekeeper.domain.query import CaseQuery
from tests.api.coralogix.rest.conftest import RunningServer
from tests.ingest.alertmanager_harness import (
    Alertmanager,
    FlakyProxy,
    alertmanager,
    alertmanager_for,
    casekeeper_http,
    needs_alertmanager,
    wait_for,
)
from tests.ingest.am_world import FiringRow, World, fingerprint, world

pytestmark = needs_alertmanager
__all__ = ["alertmanager", "casekeeper_http", "world"]  # fixtures used by name

DB1 = {"alertname": "DiskFull", "service": "db", "severity": "critical", "instance": "db1:9100"}
DB2 = {"alertname": "DiskFull", "service": "db", "severity": "critical", "instance": "db2:9100"}


def test_alerts_become_incidents_and_cases_and_resolve(
    alertmanager: Alertmanager, world: World
) -> None:
    alertmanager.fire(DB1, annotations={"summary": "Disk almost full on db1"})
    alertmanager.fire(DB2, annotations={"summary": "Disk almost full on db2"})
    fps = {fingerprint(DB1), fingerprint(DB2)}

    def arrived() -> list[FiringRow] | None:
        fs = world.firings()
        return fs if {f.dedup_key for f in fs if f.case_id} == fps else None

    firings = wait_for(arrived, what="both alerts to reach casekeeper")
    assert {f.status for f in firings} == {"firing"}
    assert {f.external_url for f in firings} == {alertmanager.url}
    # One group (group_by alertname) is one case, holding both alerts as incidents.
    (case_id,) = {f.case_id for f in firings}
    assert case_id is not None
    case = world.case(case_id)
    assert case.status in (CaseStatus.PENDING_ACTIVATION, CaseStatus.ACTIVE)
    (indicator,) = case.indicators["prometheusAlertIndicators"]
    assert indicator["receiver"] == "casekeeper"
    assert indicator["externalUrl"] == alertmanager.url
    assert indicator["groupLabels"] == {"alertname": "DiskFull"}
    alerts = {a["fingerprint"]: a for a in indicator["alerts"]}
    assert set(alerts) == fps
    assert alerts[fingerprint(DB1)]["labels"] == DB1
    assert alerts[fingerprint(DB1)]["annotations"] == {"summary": "Disk almost full on db1"}
    assert alerts[fingerprint(DB1)]["generatorUrl"] == "http://prometheus.example.test/graph"
    incidents = [world.incident(f.incident_id) for f in firings if f.incident_id]
    assert len(incidents) == 2
    assert {i.case_id for i in incidents} == {case_id}
    assert {i.state for i in incidents} == {IncidentState.TRIGGERED}

    alertmanager.resolve(DB1)
    alertmanager.resolve(DB2)

    def resolved() -> bool:
        fs = world.firings()
        return all(f.status == "resolved" for f in fs) and world.case(case_id).status in (
            CaseStatus.RESOLVED,
            CaseStatus.CLOSED,
        )

    wait_for(resolved, what="the resolved notification to resolve incidents and case")
    assert {world.incident(f.incident_id).state for f in firings if f.incident_id} == {
        IncidentState.RESOLVED
    }
    assert len(world.firings()) == 2  # resolving changed the firings; it added none


def test_a_retried_delivery_duplicates_nothing(
    tmp_path: Path, casekeeper_http: RunningServer, world: World
) -> None:
    # casekeeper stores the first POST, but Alertmanager sees a 500 (the answer was lost) and
    # sends the same notification again.
    proxy = FlakyProxy(casekeeper_http.url, failures=1, deliver=True)
    am = alertmanager_for(tmp_path, proxy.url, world.key)
    try:
        am.fire(DB1, annotations={"summary": "Disk almost full on db1"})
        wait_for(lambda: proxy.forwarded >= 2, what="Alertmanager to retry after the 500")
        wait_for(
            lambda: "Notify success" in am.log() or None,
            what="Alertmanager to log the retry's success",
        )
    finally:
        am.stop()
        proxy.close()
    firings = world.firings()
    assert len(firings) == 1, firings
    (f,) = firings
    assert f.dedup_key == fingerprint(DB1)
    assert f.case_id
    assert f.incident_id
    case = world.case(f.case_id)
    (indicator,) = case.indicators["prometheusAlertIndicators"]
    assert [a["fingerprint"] for a in indicator["alerts"]] == [fingerprint(DB1)]
    cases, _ = world.container.cases.list_cases(world.reader, CaseQuery())
    assert [c.id for c in cases] == [f.case_id]
    # One delivery's history: the incident opened once and triggered once.
    events = world.container.incidents.events(world.reader, f.incident_id)
    assert [e.type for e in events].count(IncidentEventType.OPEN) == 1, events
    upserts = [e for e in events if e.type is IncidentEventType.UPSERT_STATE]
    assert [e.state for e in upserts].count(IncidentState.TRIGGERED) <= 1, events


def test_a_500_before_storing_is_retried_and_stored_once(
    tmp_path: Path, casekeeper_http: RunningServer, world: World
) -> None:
    proxy = FlakyProxy(casekeeper_http.url, failures=1)
    am = alertmanager_for(tmp_path, proxy.url, world.key)
    try:
        am.fire(DB2)
        wait_for(
            lambda: (f := world.firing(fingerprint(DB2))) is not None and f.case_id,
            what="the retried notification to arrive",
        )
        assert proxy.posts >= 2
    finally:
        am.stop()
        proxy.close()
    assert len(world.firings()) == 1
