"""Signals in over HTTP, end to end on a loopback server: Alertmanager's captured webhooks, the
generic batch and PagerDuty events become incidents and cases readable through the services;
a dry run and a refused request store nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from casekeeper.bootstrap import Container
from casekeeper.domain.incident_query import IncidentFilter, PageRequest
from casekeeper.domain.query import CaseQuery
from casekeeper.service.auth import Principal
from tests.conftest import MakeKey
from tests.ingest.conftest import Sender, load_payload

AM = "/ingest/alertmanager"
GENERIC = "/ingest/signals"


@pytest.fixture
def reader(make_key: MakeKey) -> Principal:
    """Every permission, in the test's space: to read what the sender stored."""
    return make_key()[1]


def stored(container: Container, p: Principal) -> tuple[int, int]:
    """(cases, incidents) in ``p``'s space."""
    cases, _ = container.cases.list_cases(p, CaseQuery())
    incidents = container.incidents.list_incidents(p, IncidentFilter(), (), PageRequest())
    return len(cases), incidents.total_size


def report(response: httpx.Response, dry_run: bool = False) -> dict[str, Any]:
    assert response.status_code == 200, response.text[:1000]
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert body["dry_run"] is dry_run
    for outcome in body["outcomes"]:
        assert set(outcome) == {
            "dedup_key", "action", "reason", "incident_id", "case_id", "case_readable_id",
            "new_case", "group_key", "priority", "priority_reason",
        }  # fmt: skip
        assert outcome["reason"]
    return body


def actions(body: dict[str, Any]) -> list[str]:
    return [o["action"] for o in body["outcomes"]]


def test_alertmanager_group_fires_and_resolves(
    sender: Sender, reader: Principal, container: Container
) -> None:
    firing = load_payload("02_firing_group_2_alerts_api_v2.json")
    body = report(sender.post(AM, firing, headers={"user-agent": "Alertmanager/0.25.0"}))
    assert actions(body) == ["opened", "opened"]
    assert body["counts"] == {"opened": 2}
    first, second = body["outcomes"]
    assert [first["dedup_key"], second["dedup_key"]] == [a["fingerprint"] for a in firing["alerts"]]
    # One group (receiver + groupKey): one case, both incidents in it.
    assert first["case_id"] == second["case_id"]
    # The service's group: the source's door, the receiver and Alertmanager's groupKey.
    assert first["group_key"].endswith(f"hook:{firing['groupKey']}")
    assert [first["new_case"], second["new_case"]].count(True) == 1
    assert first["priority"]
    incident = container.incidents.get(reader, first["incident_id"])
    assert incident.name == "DiskFull"
    case = container.cases.get(reader, first["case_id"])
    assert case.id == first["case_id"]
    assert stored(container, reader) == (1, 2)

    # Alertmanager re-sends the group every repeat_interval: nothing changes.
    again = report(sender.post(AM, firing))
    assert actions(again) == ["unchanged", "unchanged"]
    assert stored(container, reader) == (1, 2)

    resolved = report(sender.post(AM, load_payload("04_resolved_group_2_alerts.json")))
    assert actions(resolved) == ["resolved", "resolved"]
    assert [o["incident_id"] for o in resolved["outcomes"]] == [
        first["incident_id"],
        second["incident_id"],
    ]


@pytest.mark.parametrize(
    "name",
    [
        "01_firing_amtool_alert_add.json",
        "03_firing_new_group_no_startsAt.json",
        "07_firing_truncated_max_alerts_trimmed.json",
        "08_firing_subroute_groupKey.json",
    ],
)
def test_every_firing_payload_opens_its_incidents(
    name: str, sender: Sender, reader: Principal, container: Container
) -> None:
    payload = load_payload(name)
    body = report(sender.post(AM, payload))
    assert actions(body) == ["opened"] * len(payload["alerts"])
    assert stored(container, reader) == (1, len(payload["alerts"]))


def test_dry_run_answers_and_stores_nothing(
    sender: Sender, reader: Principal, container: Container
) -> None:
    payload = load_payload("02_firing_group_2_alerts_api_v2.json")
    dry = report(sender.post(AM, payload, params={"dry_run": "true"}), dry_run=True)
    assert actions(dry) == ["opened", "opened"]
    assert all(o["group_key"].endswith(f"hook:{payload['groupKey']}") for o in dry["outcomes"])
    assert all(o["priority"] and o["priority_reason"] for o in dry["outcomes"])
    assert stored(container, reader) == (0, 0)
    # A bare ?dry_run means yes too.
    report(sender.post(AM, payload, params={"dry_run": ""}), dry_run=True)
    assert stored(container, reader) == (0, 0)
    # The real delivery then opens them: the dry runs left no trace.
    assert actions(report(sender.post(AM, payload, params={"dry_run": "false"}))) == [
        "opened",
        "opened",
    ]
    assert stored(container, reader) == (1, 2)


def test_generic_batch(sender: Sender, reader: Principal, container: Container) -> None:
    signals = [
        {
            "dedup_key": f"checkout-{n}",
            "title": f"Checkout error {n}",
            "labels": {"service": "checkout", "severity": "critical"},
            "group_key": "checkout",
            "starts_at": "2026-12-01T10:00:00Z",
            "links": [{"url": "https://grafana.example.test/d/1", "text": "dashboard"}],
        }
        for n in range(3)
    ]
    body = report(sender.post(GENERIC, {"source": "my-monitor", "signals": signals}))
    assert actions(body) == ["opened"] * 3
    assert len({o["case_id"] for o in body["outcomes"]}) == 1
    assert stored(container, reader) == (1, 3)
    resolve = [{**signals[0], "status": "resolved", "ends_at": "2026-12-01T10:05:00Z"}]
    assert actions(report(sender.post(GENERIC, {"signals": resolve}))) == ["resolved"]


@pytest.mark.parametrize(
    "bad",
    [
        {"dedup_key": "b", "title": "x" * 2000},  # the service's limit: 400, and all or nothing
        {"dedup_key": "b", "title": "t", "labels": {"k": 5}},  # the adapter's check
    ],
)
def test_refused_batch_stores_nothing(
    bad: dict[str, Any], sender: Sender, reader: Principal, container: Container
) -> None:
    good = {"dedup_key": "a", "title": "fine"}
    response = sender.post(GENERIC, {"signals": [good, bad]})
    assert response.status_code == 400, response.text
    assert response.json()["message"].startswith("signals[1].")
    assert stored(container, reader) == (0, 0)
    assert actions(report(sender.post(GENERIC, {"signals": [good]}))) == ["opened"]


def test_refused_webhook_names_the_alert_and_stores_nothing(
    sender: Sender, reader: Principal, container: Container
) -> None:
    payload = load_payload("02_firing_group_2_alerts_api_v2.json")
    payload["alerts"][1]["labels"]["alertname"] = "x" * 10_000  # over the service's limit
    response = sender.post(AM, payload)
    assert response.status_code == 400, response.text
    assert response.json()["message"].startswith("alerts[1].")
    assert stored(container, reader) == (0, 0)


def test_key_without_signals_write_stores_nothing(
    make_key: MakeKey, reader: Principal, container: Container, ingest_client: httpx.Client
) -> None:
    key, _ = make_key("case:Read")
    payload = load_payload("01_firing_amtool_alert_add.json")
    response = Sender(ingest_client, key, None).post(AM, payload)
    assert response.status_code == 403
    assert stored(container, reader) == (0, 0)


def test_pagerduty_trigger_acknowledge_resolve(
    sender: Sender, reader: Principal, container: Container
) -> None:
    trigger = {
        "event_action": "trigger",
        "client": "Sample Monitoring Service",
        "client_url": "https://monitoring.example.com",
        "payload": {
            "summary": "db1 disk full",
            "source": "db1.example.com",
            "severity": "critical",
            "component": "postgres",
            "custom_details": {"free": "2%"},
        },
    }
    response = sender.enqueue(trigger)
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["status"] == "success"
    assert answer["message"] == "Event processed"
    key = answer["dedup_key"]
    assert key
    assert stored(container, reader) == (1, 1)
    # The same dedup key again: the same open alert.
    again = sender.enqueue({**trigger, "dedup_key": key})
    assert again.status_code == 202
    assert again.json()["dedup_key"] == key
    assert stored(container, reader) == (1, 1)
    for action in ("acknowledge", "resolve"):
        step = sender.enqueue({"event_action": action, "dedup_key": key})
        assert step.status_code == 202, step.text
        assert step.json() == {"status": "success", "message": "Event processed", "dedup_key": key}
    assert stored(container, reader) == (1, 1)


def test_pagerduty_refused_event_stores_nothing(
    sender: Sender, reader: Principal, container: Container
) -> None:
    response = sender.enqueue({"event_action": "trigger", "payload": {"summary": "x"}})
    assert response.status_code == 400
    assert stored(container, reader) == (0, 0)
