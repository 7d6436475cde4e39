"""Alertmanager's webhook payload → SignalBatch, on every captured payload and on bad ones."""

from __future__ import annotations

import copy
import filecmp
import json
from pathlib import Path
from typing import Any

import pytest

from casekeeper.api.ingest.alertmanager import fingerprint, links_of, parse_webhook
from casekeeper.domain.errors import CasekeeperError, ErrorCode
from casekeeper.domain.signals import MAX_LINKS, MAX_SIGNALS, SignalStatus, Source
from casekeeper.domain.timeutil import parse_rfc3339
from tests.ingest.conftest import (
    PACKAGED_PAYLOADS,
    load_payload,
    payload_files,
    reference_payload_dir,
)

FILES = [p.name for p in payload_files()]


def refused(data: Any) -> CasekeeperError:
    with pytest.raises(CasekeeperError) as caught:
        parse_webhook(data)
    return caught.value


def test_packaged_payloads_are_the_reference() -> None:
    reference = reference_payload_dir()
    if reference is None:
        pytest.skip("the reference folder is not here: the packaged copies are the payloads")
    names = sorted(p.name for p in reference.glob("*.json"))
    assert names == sorted(p.name for p in PACKAGED_PAYLOADS.glob("*.json"))
    for name in names:
        assert filecmp.cmp(reference / name, PACKAGED_PAYLOADS / name, shallow=False), name


@pytest.mark.parametrize("name", FILES)
def test_every_captured_payload_parses_field_by_field(name: str) -> None:
    data = load_payload(name)
    batch = parse_webhook(data, sender="Alertmanager/0.25.0")
    assert batch.source is Source.ALERTMANAGER
    assert batch.receiver == data["receiver"]
    assert batch.external_url == data["externalURL"]
    assert batch.truncated == data["truncatedAlerts"]
    assert batch.sender == "Alertmanager/0.25.0"
    assert len(batch.signals) == len(data["alerts"])
    for signal, alert in zip(batch.signals, data["alerts"], strict=True):
        assert signal.dedup_key == alert["fingerprint"]
        assert signal.status is SignalStatus(alert["status"])
        assert signal.title == alert["labels"]["alertname"]
        assert dict(signal.labels) == alert["labels"]
        assert dict(signal.annotations) == alert["annotations"]
        assert signal.starts_at == parse_rfc3339(alert["startsAt"])
        if alert["endsAt"].startswith("0001-"):
            assert signal.ends_at is None
        else:
            assert signal.ends_at == parse_rfc3339(alert["endsAt"])
        assert signal.generator_url == (alert["generatorURL"] or None)
        assert signal.description == alert["annotations"].get("summary")
        assert signal.group_key == f"{data['receiver']}:{data['groupKey']}"
        assert dict(signal.group_labels) == data["groupLabels"]
        assert signal.severity is None  # the service reads the severity label
        # Alertmanager's fingerprint is ours: the same hash of the same labels.
        assert fingerprint(alert["labels"]) == alert["fingerprint"]


def test_nanosecond_start_keeps_its_microseconds() -> None:
    (signal,) = parse_webhook(load_payload("01_firing_amtool_alert_add.json")).signals
    assert signal.starts_at == parse_rfc3339("2026-11-23T05:59:33.389135Z")


def test_truncated_alerts_reach_the_batch() -> None:
    batch = parse_webhook(load_payload("07_firing_truncated_max_alerts_trimmed.json"))
    assert batch.truncated == 40660


def test_subroute_group_key_is_receiver_and_group_key() -> None:
    (signal,) = parse_webhook(load_payload("08_firing_subroute_groupKey.json")).signals
    assert signal.group_key == 'hook:{}/{env=~"prod|staging",team="sre"}:{alertname="ApiErrors"}'


def test_runbook_annotation_becomes_a_link() -> None:
    first = parse_webhook(load_payload("02_firing_group_2_alerts_api_v2.json")).signals[0]
    assert [(x.url, x.text) for x in first.links] == [("https://example.invalid/rb", "runbook")]
    assert first.generator_url == "http://127.0.0.1:9090/graph"


def test_links_only_from_web_addresses_and_bounded() -> None:
    annotations = {
        "summary": "disk full",
        "runbook_url": "https://wiki.example.test/rb",
        "dashboard": "http://grafana.example.test/d/x",
        "note": "see https://example.test later",  # a sentence, not an address
        "ftp": "ftp://example.test/file",
        "long": "https://example.test/" + "x" * 5000,
    }
    links = links_of(annotations)
    assert [(x.text, x.url) for x in links] == [
        ("dashboard", "http://grafana.example.test/d/x"),
        ("runbook_url", "https://wiki.example.test/rb"),
    ]
    many = {f"l{n:03d}": f"https://example.test/{n}" for n in range(MAX_LINKS + 10)}
    assert len(links_of(many)) == MAX_LINKS


def test_fingerprint_computed_when_absent() -> None:
    data = load_payload("03_firing_new_group_no_startsAt.json")
    expected = data["alerts"][0].pop("fingerprint")
    (signal,) = parse_webhook(data).signals
    assert signal.dedup_key == expected == "1c5bb575f34396da"


def test_fingerprint_matches_prometheus_for_unicode_and_order() -> None:
    # Label order in the payload does not matter; names sort bytewise as Go sorts them.
    a = fingerprint({"b": "2", "a": "1", "é": "ü"})
    b = fingerprint({"é": "ü", "a": "1", "b": "2"})
    assert a == b
    assert len(a) == 16
    assert a == a.lower()
    assert fingerprint({"a": "1"}) != fingerprint({"a": "2"})
    # Separators keep ("ab", "c") and ("a", "bc") apart.
    assert fingerprint({"ab": "c"}) != fingerprint({"a": "bc"})


def test_title_falls_back_and_description_uses_description() -> None:
    data = load_payload("01_firing_amtool_alert_add.json")
    alert = data["alerts"][0]
    del alert["labels"]["alertname"]
    alert["annotations"] = {"description": "longer words"}
    (signal,) = parse_webhook(data).signals
    assert signal.title == "alert"
    assert signal.description == "longer words"


def test_unknown_fields_are_ignored() -> None:
    data = load_payload("01_firing_amtool_alert_add.json")
    data["notification_reason"] = "first notification"
    data["routeLabels"] = {}
    data["alerts"][0]["silencedBy"] = ["x"]
    assert len(parse_webhook(data).signals) == 1


def test_no_group_key_means_no_group() -> None:
    data = load_payload("01_firing_amtool_alert_add.json")
    del data["groupKey"]
    (signal,) = parse_webhook(data).signals
    assert signal.group_key is None


@pytest.mark.parametrize("version", ["3", 4, None, "4.0"])
def test_wrong_version_is_refused_naming_it(version: object) -> None:
    data = load_payload("01_firing_amtool_alert_add.json")
    data["version"] = version
    err = refused(data)
    assert err.code is ErrorCode.INVALID_ARGUMENT
    assert err.field == "version"
    assert "'4'" in err.message


@pytest.mark.parametrize("labels", [{}, None, "alertname=x", {"a": 1}])
def test_alert_without_labels_is_refused_naming_it(labels: object) -> None:
    data = load_payload("02_firing_group_2_alerts_api_v2.json")
    data["alerts"][1]["labels"] = labels
    err = refused(data)
    assert err.code is ErrorCode.INVALID_ARGUMENT
    assert err.field is not None
    assert err.field.startswith("alerts[1].labels")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("startsAt", "yesterday"),
        ("startsAt", "2026-11-23T05:59:33"),  # no zone
        ("endsAt", 12345),
        ("status", "pending"),
        ("annotations", ["summary"]),
        ("fingerprint", 7),
    ],
)
def test_bad_alert_field_is_named(field: str, value: object) -> None:
    data = load_payload("01_firing_amtool_alert_add.json")
    data["alerts"][0][field] = value
    err = refused(data)
    assert err.code is ErrorCode.INVALID_ARGUMENT
    assert err.field is not None
    assert err.field.startswith(f"alerts[0].{field}")


@pytest.mark.parametrize(
    "body", [[], "text", None, {"version": "4"}, {"version": "4", "alerts": {}}]
)
def test_not_a_webhook_is_refused(body: Any) -> None:
    assert refused(body).code is ErrorCode.INVALID_ARGUMENT


def test_negative_truncated_alerts_is_refused() -> None:
    data = load_payload("01_firing_amtool_alert_add.json")
    data["truncatedAlerts"] = -1
    assert refused(data).field == "truncatedAlerts"


def test_more_alerts_than_a_batch_takes_is_413() -> None:
    data = load_payload("01_firing_amtool_alert_add.json")
    one = data["alerts"][0]
    data["alerts"] = [copy.deepcopy(one) for _ in range(MAX_SIGNALS + 1)]
    err = refused(data)
    assert err.code is ErrorCode.PAYLOAD_TOO_LARGE
    assert err.field == "alerts"
    assert str(MAX_SIGNALS) in err.message


def test_a_full_batch_is_taken() -> None:
    data = load_payload("01_firing_amtool_alert_add.json")
    alert = data["alerts"][0]
    data["alerts"] = [
        {**alert, "labels": {**alert["labels"], "instance": str(n)}, "fingerprint": None}
        for n in range(MAX_SIGNALS)
    ]
    batch = parse_webhook(json.loads(json.dumps(data)))
    assert len({s.dedup_key for s in batch.signals}) == MAX_SIGNALS


def test_payload_files_exist() -> None:
    assert len(FILES) >= 8
    assert all(Path(PACKAGED_PAYLOADS / name).is_file() for name in FILES)
