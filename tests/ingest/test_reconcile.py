"""Reconciliation against the real Alertmanager: a silenced alert sends no "resolved", so its
incident stays open until casekeeper asks Alertmanager (``GET /api/v2/alerts``) and resolves
what is no longer there, saying why on the timeline. An Alertmanager that cannot be asked
changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx

from casekeeper.bootstrap import Container
from casekeeper.domain.case_settings import SECOND
from casekeeper.domain.enums import CaseStatus
from casekeeper.domain.incidents import IncidentState
from casekeeper.domain.signals import Source
from casekeeper.outbound.alertmanager import AlertmanagerClient
from casekeeper.service.alertmanager_sync import AlertmanagerSync
from casekeeper.service.context import ServiceContext
from tests.api.coralogix.rest.conftest import RunningServer
from tests.ingest.alertmanager_harness import (
    Alertmanager,
    alertmanager,
    casekeeper_http,
    needs_alertmanager,
    wait_for,
)
from tests.ingest.am_world import FiringRow, World, am_sync, fingerprint, world

pytestmark = needs_alertmanager
__all__ = ["alertmanager", "am_sync", "casekeeper_http", "world"]  # fixtures used by name

API1 = {"alertname": "ApiErrors", "service": "api", "severity": "warning", "instance": "api1"}
API2 = {"alertname": "ApiErrors", "service": "api", "severity": "warning", "instance": "api2"}
CASEKEEPER = [sys.executable, "-m", "casekeeper"]
NOTE = "reconciled: Alertmanager at {url} no longer reports this alert"


def arrived(world: World, labels: dict[str, str]) -> FiringRow:
    def check() -> FiringRow | None:
        f = world.firing(fingerprint(labels))
        return f if f is not None and f.case_id and f.status == "firing" else None

    return wait_for(check, what=f"{dict(labels)} to reach casekeeper as a firing")


def reconciled_notes(world: World, case_id: str, url: str) -> list[str]:
    prefix = NOTE.format(url=url)
    return [n.text for n in world.notes(case_id) if n.text.startswith(prefix)]


def test_a_silenced_alert_that_stopped_is_resolved_by_reconciliation(
    alertmanager: Alertmanager, world: World, am_sync: AlertmanagerSync
) -> None:
    am = alertmanager
    am.fire(API1)
    first = arrived(world, API1)
    assert first.case_id is not None
    am.silence(API1)
    am.resolve(API1)  # it stops firing while silenced: Alertmanager will not say so
    # A second alert of the same group: the notification that carries it is the group's
    # first after the silence, and it does not carry API1's "resolved".
    am.fire(API2)
    second = arrived(world, API2)
    assert second.case_id == first.case_id
    am.resolve(API2)
    wait_for(
        lambda: (f := world.firing(fingerprint(API2))) is not None and f.status == "resolved",
        what="API2's resolved notification",
    )
    still = world.firing(fingerprint(API1))
    assert still is not None
    assert still.status == "firing", "Alertmanager sent a resolved for a silenced alert"
    assert world.case(first.case_id).status not in (CaseStatus.RESOLVED, CaseStatus.CLOSED)

    result = am_sync.reconcile(world.space_id, now=world.container.cases.clock())

    assert result.resolved == 1
    assert result.unreachable == ()
    gone = world.firing(fingerprint(API1))
    assert gone is not None
    assert gone.status == "resolved"
    assert first.incident_id is not None
    assert world.incident(first.incident_id).state is IncidentState.RESOLVED
    assert world.case(first.case_id).status is CaseStatus.RESOLVED
    assert reconciled_notes(world, first.case_id, am.url), world.notes(first.case_id)
    # Asked again, there is nothing left to resolve.
    again = am_sync.reconcile(world.space_id, now=world.container.cases.clock())
    assert (again.checked, again.resolved) == (0, 0)


def test_an_alert_muted_by_someone_elses_silence_is_resolved(
    alertmanager: Alertmanager, world: World, am_sync: AlertmanagerSync
) -> None:
    am = alertmanager
    am.fire(API1)
    am.fire(API2)
    one, two = arrived(world, API1), arrived(world, API2)
    # Both still fire; nothing to do.
    result = am_sync.reconcile(world.space_id, now=world.container.cases.clock())
    assert (result.checked, result.resolved) == (2, 0)

    silence = am.silence(API1, created_by="oncall")
    wait_for(
        lambda: silence in ((am.alert(API1) or {}).get("status", {}).get("silencedBy") or []),
        what="Alertmanager to mark API1 silenced",
    )
    result = am_sync.reconcile(world.space_id, now=world.container.cases.clock())

    assert result.resolved == 1
    assert world.firing(fingerprint(API1)).status == "resolved"  # type: ignore[union-attr]
    assert world.firing(fingerprint(API2)).status == "firing"  # type: ignore[union-attr]
    assert one.case_id is not None
    assert two.case_id == one.case_id
    assert world.case(one.case_id).status not in (CaseStatus.RESOLVED, CaseStatus.CLOSED)
    assert reconciled_notes(world, one.case_id, am.url)


def test_a_lost_notification_is_found_by_asking_alertmanager(
    alertmanager: Alertmanager,
    casekeeper_http: RunningServer,
    world: World,
    database_url: str,
) -> None:
    # casekeeper heard of an alert that this Alertmanager no longer holds (it restarted, or
    # the resolved notification was lost for good).
    labels = {"alertname": "QueueStuck", "service": "jobs", "severity": "critical"}
    payload = {
        "version": "4",
        "status": "firing",
        "receiver": "casekeeper",
        "groupKey": '{}:{alertname="QueueStuck"}',
        "groupLabels": {"alertname": "QueueStuck"},
        "commonLabels": labels,
        "commonAnnotations": {},
        "externalURL": alertmanager.url,
        "truncatedAlerts": 0,
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": {"summary": "jobs queue stuck"},
                "startsAt": "2026-12-01T10:00:00.123456789Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "",
                "fingerprint": fingerprint(labels),
            }
        ],
    }
    r = httpx.post(
        f"{casekeeper_http.url}/ingest/alertmanager",
        json=payload,
        headers={"authorization": f"Bearer {world.key}"},
        timeout=15,
    )
    assert r.status_code < 300, r.text
    f = arrived(world, labels)
    assert f.case_id is not None

    # On demand, from the command line (as an operator would, after an outage): first a dry
    # run, which changes nothing, then the real one.
    space_name = world.reader.space_name

    def reconcile(*extra: str, warmup: str = "0", status: int = 0) -> str:
        env = {
            **os.environ,
            "CASEKEEPER_DATABASE_URL": database_url,
            "CASEKEEPER_AM_WARMUP": warmup,
            "COLUMNS": "200",
        }
        proc = subprocess.run(
            [*CASEKEEPER, "signals", "reconcile", "--space", space_name, *extra],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert proc.returncode == status, proc.stdout + proc.stderr
        assert space_name in proc.stdout
        return proc.stdout

    # This Alertmanager has just started: with the default warm-up its missing alerts prove
    # nothing yet, and the command says so (status 2, as for an unreachable one).
    early = reconcile(warmup="300", status=2)
    assert "started" in early
    assert world.firing(fingerprint(labels)).status == "firing"  # type: ignore[union-attr]
    assert "dry run" in reconcile("--dry-run")
    assert world.firing(fingerprint(labels)).status == "firing"  # type: ignore[union-attr]
    assert world.case(f.case_id).status is CaseStatus.ACTIVE
    reconcile()

    assert world.firing(fingerprint(labels)).status == "resolved"  # type: ignore[union-attr]
    assert world.case(f.case_id).status is CaseStatus.RESOLVED
    assert reconciled_notes(world, f.case_id, alertmanager.url)


def test_a_scheduled_pass_resolves_only_what_two_passes_missed(
    alertmanager: Alertmanager, world: World, container: Container
) -> None:
    am = alertmanager
    am.fire(API1)
    am.fire(API2)
    one, two = arrived(world, API1), arrived(world, API2)
    sync = AlertmanagerSync(
        ServiceContext(db=container.db, clock=container.cases.clock),
        container.signals,
        AlertmanagerClient(),
        warmup=0,
        confirm_after=60 * SECOND,
    )
    try:
        t0 = container.cases.clock()
        am.silence(API1, created_by="oncall")  # both muted by someone else: both missing
        silenced = am.silence(API2, created_by="oncall")
        wait_for(
            lambda: all(
                (am.alert(x) or {}).get("status", {}).get("silencedBy") for x in (API1, API2)
            ),
            what="Alertmanager to mark both silenced",
        )
        first = sync.reconcile(world.space_id, now=t0)
        assert (first.resolved, first.awaiting) == (0, 2)
        # API2's silence ends before the next pass: seen again, it starts over.
        am.expire(silenced)
        wait_for(
            lambda: not (am.alert(API2) or {}).get("status", {}).get("silencedBy"),
            what="API2 to be unsilenced",
        )
        soon = sync.reconcile(world.space_id, now=t0 + 30 * SECOND)
        assert (soon.resolved, soon.awaiting) == (0, 1)  # not yet: 30 s after the first miss
        later = sync.reconcile(world.space_id, now=t0 + 61 * SECOND)
        assert (later.resolved, later.awaiting) == (1, 0)
        assert world.firing(fingerprint(API1)).status == "resolved"  # type: ignore[union-attr]
        assert world.firing(fingerprint(API2)).status == "firing"  # type: ignore[union-attr]
        assert one.case_id == two.case_id
    finally:
        sync.close()


def test_a_freshly_started_alertmanager_resolves_nothing(
    alertmanager: Alertmanager, world: World, container: Container
) -> None:
    alertmanager.fire(API1)
    f = arrived(world, API1)
    sync = AlertmanagerSync(
        ServiceContext(db=container.db, clock=container.cases.clock),
        container.signals,
        AlertmanagerClient(),
        confirm_after=0,
    )
    try:
        # Muted by someone else's silence: a pass would resolve it, but this Alertmanager has
        # just started and may not hold its alerts yet.
        silence = alertmanager.silence(API1, created_by="oncall")
        wait_for(
            lambda: (
                silence
                in ((alertmanager.alert(API1) or {}).get("status", {}).get("silencedBy") or [])
            ),
            what="Alertmanager to mark API1 silenced",
        )
        result = sync.reconcile(world.space_id, now=container.cases.clock(), at_once=True)
    finally:
        sync.close()
    assert result.resolved == 0
    (down,) = result.unreachable
    assert "started" in down.reason
    assert "proves nothing" in down.reason
    assert world.firing(fingerprint(API1)).status == "firing"  # type: ignore[union-attr]
    assert f.case_id is not None


def test_a_pass_past_its_time_budget_asks_no_more_alertmanagers(
    alertmanager: Alertmanager, world: World, container: Container
) -> None:
    alertmanager.fire(API1)
    f = arrived(world, API1)
    sync = AlertmanagerSync(
        ServiceContext(db=container.db, clock=container.cases.clock),
        container.signals,
        AlertmanagerClient(),
        warmup=0,
        confirm_after=0,
        budget=0,  # spent before the first Alertmanager
    )
    try:
        alertmanager.resolve(API1)
        result = sync.sync(world.space_id, now=container.cases.clock())
    finally:
        sync.close()
    assert result.reconcile is not None
    assert result.reconcile.resolved == 0
    (skipped,) = result.reconcile.unreachable
    assert "budget" in skipped.reason
    assert f.case_id is not None


def test_an_unreachable_alertmanager_changes_nothing(
    alertmanager: Alertmanager,
    world: World,
    am_sync: AlertmanagerSync,
) -> None:
    am = alertmanager
    am.fire(API1)
    f = arrived(world, API1)
    assert f.case_id is not None
    before = world.case(f.case_id)
    notes_before = world.notes(f.case_id)
    am.stop()  # the port is closed now: connection refused

    result = am_sync.reconcile(world.space_id, now=world.container.cases.clock())

    assert result.resolved == 0
    assert [u.url for u in result.unreachable] == [am.url]
    assert world.firing(fingerprint(API1)).status == "firing"  # type: ignore[union-attr]
    assert world.case(f.case_id).status is before.status
    assert world.notes(f.case_id) == notes_before
    # The scheduled pass (reconciliation, then silences) behaves the same, and counts it.
    run = am_sync.sync(world.space_id, now=world.container.cases.clock())
    assert run.reconcile is not None
    assert run.reconcile.unreachable
    with world.container.db.reader() as uow:
        still = uow.firings.open_of_source(world.space_id, Source.ALERTMANAGER)
    assert [x.dedup_key for x in still] == [fingerprint(API1)]
