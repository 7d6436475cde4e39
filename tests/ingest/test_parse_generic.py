"""The generic signal batch (``POST /ingest/signals``) → SignalBatch."""

from __future__ import annotations

from typing import Any

import pytest

from casekeeper.api.ingest.generic import parse_batch
from casekeeper.domain.errors import CasekeeperError, ErrorCode
from casekeeper.domain.signals import MAX_SIGNALS, SignalStatus, Source
from casekeeper.domain.timeutil import parse_rfc3339

FULL: dict[str, Any] = {
    "dedup_key": "checkout-errors",
    "status": "firing",
    "title": "Checkout error rate high",
    "labels": {"service": "checkout", "severity": "critical"},
    "annotations": {"summary": "5xx above 5%"},
    "severity": "critical",
    "starts_at": "2026-12-01T10:00:00.123456789Z",
    "ends_at": "2026-12-01T11:00:00Z",
    "description": "Error rate above 5% for 5 minutes",
    "links": [{"url": "https://grafana.example.test/d/1", "text": "dashboard"}],
    "group_key": "checkout",
    "group_labels": {"service": "checkout"},
}


def refused(body: Any) -> CasekeeperError:
    with pytest.raises(CasekeeperError) as caught:
        parse_batch(body)
    return caught.value


def test_every_field_maps() -> None:
    batch = parse_batch({"source": "  my-monitor ", "signals": [FULL]})
    assert batch.source is Source.GENERIC
    assert batch.sender == "my-monitor"
    (s,) = batch.signals
    assert s.dedup_key == "checkout-errors"
    assert s.status is SignalStatus.FIRING
    assert s.title == FULL["title"]
    assert dict(s.labels) == FULL["labels"]
    assert dict(s.annotations) == FULL["annotations"]
    assert s.severity == "critical"
    assert s.starts_at == parse_rfc3339("2026-12-01T10:00:00.123456Z")
    assert s.ends_at == parse_rfc3339("2026-12-01T11:00:00Z")
    assert s.description == FULL["description"]
    assert [(x.url, x.text) for x in s.links] == [("https://grafana.example.test/d/1", "dashboard")]
    assert s.group_key == "checkout"
    assert dict(s.group_labels) == {"service": "checkout"}


def test_minimal_signal_defaults_to_firing() -> None:
    (s,) = parse_batch({"signals": [{"dedup_key": "k", "title": "t"}]}).signals
    assert s.status is SignalStatus.FIRING
    assert s.labels == {}
    assert s.starts_at is None
    assert s.group_key is None
    assert parse_batch({"signals": []}).sender is None


def test_resolved() -> None:
    body = {"signals": [{"dedup_key": "k", "title": "t", "status": "resolved"}]}
    assert parse_batch(body).signals[0].status is SignalStatus.RESOLVED


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"dedup_key": ""}, "signals[0].dedup_key"),
        ({"dedup_key": None}, "signals[0].dedup_key"),
        ({"title": 5}, "signals[0].title"),
        ({"status": "acknowledged"}, "signals[0].status"),
        ({"labels": {"a": 1}}, "signals[0].labels.a"),
        ({"labels": ["a"]}, "signals[0].labels"),
        ({"starts_at": "noon"}, "signals[0].starts_at"),
        ({"ends_at": "2026-12-01 11:00"}, "signals[0].ends_at"),
        ({"links": [{"url": "ftp://x"}]}, "signals[0].links[0].url"),
        ({"links": [{"href": "https://x.test"}]}, "signals[0].links[0].href"),
        ({"dedupKey": "k"}, "signals[0].dedupKey"),
    ],
)
def test_bad_signal_field_is_named(change: dict[str, Any], field: str) -> None:
    err = refused({"signals": [{**FULL, **change}]})
    assert err.code is ErrorCode.INVALID_ARGUMENT
    assert err.field == field, err.message


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "signals"),
        ({"signals": {}}, "signals"),
        ({"signals": [], "extra": 1}, "extra"),
        ({"signals": [], "source": 3}, "source"),
        ({"signals": ["x"]}, "signals[0]"),
        ([], "body"),
    ],
)
def test_bad_batch_is_refused(body: Any, field: str) -> None:
    assert refused(body).field == field


def test_over_max_signals_is_413() -> None:
    err = refused({"signals": [{"dedup_key": "k", "title": "t"}] * (MAX_SIGNALS + 1)})
    assert err.code is ErrorCode.PAYLOAD_TOO_LARGE
