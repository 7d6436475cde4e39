"""PagerDuty Events API v2 → SignalBatch: PagerDuty's documented examples and bad events."""

from __future__ import annotations

from typing import Any

import pytest

from casekeeper.api.ingest.pagerduty import flatten_details, parse_event, routing_key
from casekeeper.domain.errors import CasekeeperError
from casekeeper.domain.signals import MAX_LABEL_VALUE, MAX_LABELS, SignalStatus, Source

# PagerDuty's own trigger example (developer-docs, events-API-v2 "Send an Alert Event").
TRIGGER: dict[str, Any] = {
    "payload": {
        "summary": "Example alert on host1.example.com",
        "timestamp": "2015-07-17T08:42:58.315+0000",
        "source": "monitoringtool:cloudvendor:central-region-dc-01:852559987:cluster/api-stats",
        "severity": "info",
        "component": "postgres",
        "group": "prod-datapipe",
        "class": "deploy",
        "custom_details": {"ping time": "1500ms", "load avg": 0.75},
    },
    "routing_key": "samplekeyhere",
    "dedup_key": "samplekeyhere",
    "images": [
        {
            "src": "https://www.pagerduty.com/wp-content/uploads/2016/05/pagerduty-logo-green.png",
            "href": "https://example.com/",
            "alt": "Example text",
        }
    ],
    "links": [{"href": "https://example.com/", "text": "Link text"}],
    "event_action": "trigger",
    "client": "Sample Monitoring Service",
    "client_url": "https://monitoring.example.com",
}


def errors_of(event: dict[str, Any]) -> list[str]:
    with pytest.raises(CasekeeperError) as caught:
        parse_event(event)
    listed = caught.value.detail["errors"]
    assert isinstance(listed, tuple)
    return [str(x) for x in listed]


def test_documented_trigger_maps_every_field() -> None:
    event = parse_event(TRIGGER)
    assert event.dedup_key == "samplekeyhere"
    batch = event.batch
    assert batch.source is Source.PAGERDUTY
    assert batch.sender == "Sample Monitoring Service"
    (signal,) = batch.signals
    assert signal.status is SignalStatus.FIRING
    assert signal.title == "Example alert on host1.example.com"
    assert signal.severity == "info"
    assert dict(signal.labels) == {
        "source": TRIGGER["payload"]["source"],
        "component": "postgres",
        "group": "prod-datapipe",
        "class": "deploy",
    }
    assert dict(signal.annotations) == {
        "timestamp": "2015-07-17T08:42:58.315+0000",
        "ping time": "1500ms",
        "load avg": "0.75",
    }
    assert [(x.url, x.text) for x in signal.links] == [
        ("https://example.com/", "Link text"),
        (TRIGGER["images"][0]["src"], "Example text"),
        ("https://monitoring.example.com", "Sample Monitoring Service"),
    ]


def test_trigger_without_dedup_key_gets_a_new_one_each_time() -> None:
    event = {k: v for k, v in TRIGGER.items() if k != "dedup_key"}
    first, second = parse_event(event), parse_event(event)
    assert first.dedup_key != second.dedup_key
    assert first.batch.signals[0].dedup_key == first.dedup_key
    assert len(first.dedup_key) == 32


@pytest.mark.parametrize(
    ("action", "status"),
    [("acknowledge", SignalStatus.ACKNOWLEDGED), ("resolve", SignalStatus.RESOLVED)],
)
def test_acknowledge_and_resolve_need_only_a_dedup_key(action: str, status: SignalStatus) -> None:
    event = parse_event({"routing_key": "k", "dedup_key": "db-disk", "event_action": action})
    (signal,) = event.batch.signals
    assert signal.status is status
    assert signal.dedup_key == event.dedup_key == "db-disk"
    assert signal.title == "db-disk"


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_acknowledge_and_resolve_without_dedup_key_are_invalid(action: str) -> None:
    (problem,) = errors_of({"routing_key": "k", "event_action": action})
    assert "'dedup_key'" in problem


def test_trigger_missing_required_fields_lists_each() -> None:
    problems = errors_of({"routing_key": "k", "event_action": "trigger", "payload": {}})
    assert len(problems) == 3
    assert any("payload.summary" in p for p in problems)
    assert any("payload.source" in p for p in problems)
    assert any("payload.severity" in p for p in problems)


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"event_action": "explode"}, "event_action"),
        ({"event_action": None}, "event_action"),
        ({"payload": None}, "'payload'"),
        ({"dedup_key": "x" * 256}, "dedup_key"),
        ({"dedup_key": 12}, "dedup_key"),
        ({"links": [{"text": "no href"}]}, "links[0].href"),
        ({"links": "https://example.com"}, "'links'"),
        ({"client_url": 5}, "client_url"),
        ({"client": ["x"]}, "client"),
    ],
)
def test_invalid_event_field_is_named(change: dict[str, Any], needle: str) -> None:
    problems = errors_of({**TRIGGER, **change})
    assert any(needle in p for p in problems), problems


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("summary", "s" * 1025, "payload.summary"),
        ("summary", "  ", "payload.summary"),
        ("severity", "fatal", "payload.severity"),
        ("timestamp", "last tuesday", "payload.timestamp"),
        ("component", 3, "payload.component"),
    ],
)
def test_invalid_payload_field_is_named(field: str, value: object, needle: str) -> None:
    problems = errors_of({**TRIGGER, "payload": {**TRIGGER["payload"], field: value}})
    assert any(needle in p for p in problems), problems


@pytest.mark.parametrize("data", [[], "x", None, {}, {"routing_key": ""}, {"routing_key": 5}])
def test_missing_routing_key_is_invalid(data: object) -> None:
    with pytest.raises(CasekeeperError) as caught:
        routing_key(data)
    assert caught.value.spec.http_status == 400


def test_routing_key_is_returned() -> None:
    assert routing_key({"routing_key": "ck_abcdefgh_secret"}) == "ck_abcdefgh_secret"


def test_custom_details_flatten_bounded() -> None:
    nested = {"a": {"b": {"c": 1}}, "flag": True, "none": None, "list": [1, "x"]}
    assert flatten_details(nested) == {
        "a.b.c": "1",
        "flag": "true",
        "none": "null",
        "list": '[1,"x"]',
    }
    assert flatten_details("free text") == {"details": "free text"}
    assert flatten_details(None) == {}
    many = {f"k{n}": n for n in range(MAX_LABELS * 2)}
    assert len(flatten_details(many)) == MAX_LABELS
    long = flatten_details({"big": "x" * (MAX_LABEL_VALUE * 2)})["big"]
    assert len(long) == MAX_LABEL_VALUE
    assert long.endswith("…")
    deep: dict[str, Any] = {"v": 1}
    for _ in range(50):
        deep = {"d": deep}
    (only,) = flatten_details(deep).values()
    assert only.startswith("{")  # kept as JSON past the depth limit


def test_links_keep_web_addresses_only() -> None:
    event = {
        **TRIGGER,
        "links": [{"href": "javascript:alert(1)"}, {"href": "https://ok.example.test"}],
        "images": [],
        "client_url": None,
    }
    (signal,) = parse_event(event).batch.signals
    assert [x.url for x in signal.links] == ["https://ok.example.test"]
