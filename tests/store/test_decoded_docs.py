"""Large signal detail is decoded once per (case, version): reads of an unchanged alert group
share it, a change (a new version) is read afresh, and the cache keeps to its budget."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from casekeeper.bootstrap import Container
from casekeeper.domain.query import CaseQuery
from casekeeper.domain.signal_indicators import MAX_ALERTS
from casekeeper.domain.signals import Signal, SignalBatch, SignalStatus, Source
from casekeeper.service.auth import Principal
from casekeeper.service.validation import case_ref
from casekeeper.store.case_rows import DOCS, WRITING, DecodedDocs
from tests.conftest import MakeKey


def _doc(n: int) -> bytes:
    return orjson.dumps(
        {"caseIndicators": {"alertIndicators": [{"id": f"a{i}"} for i in range(n)]}}
    )


def test_large_documents_are_decoded_once_per_version() -> None:
    docs = DecodedDocs(budget=1 << 20, largest=1 << 16, smallest=64)
    big = _doc(40)
    first = docs.decode(("case-1", 3, 100), big)
    assert docs.decode(("case-1", 3, 100), big) is first  # the same version: no second decode
    assert docs.decode(("case-1", 4, 101), big) is not first  # a new version: decoded afresh
    assert docs.decode(("case-1", 3, 205), big) is not first  # deleted and made again
    assert docs.decode(("case-2", 3, 100), big) is not first
    assert docs.cache.held == 4 * len(big)
    small = _doc(1)
    assert len(small) < 64
    assert docs.decode(("case-3", 1, 1), small) == orjson.loads(small)
    assert ("case-3", 1, 1) not in docs.cache.items  # cheaper to decode than to keep


def test_the_budget_bounds_what_is_held_and_drops_the_least_recently_read() -> None:
    big = _doc(40)
    docs = DecodedDocs(budget=16 * len(big) + 10, largest=2 * len(big), smallest=64)
    for n in range(16):
        docs.decode((f"case-{n}", 1, 1), big)
    docs.decode(("case-0", 1, 1), big)  # read again: now the most recent
    docs.decode(("case-16", 1, 1), big)  # over budget: the least recently read goes
    assert docs.cache.held <= docs.cache.budget
    assert ("case-0", 1, 1) in docs.cache.items
    assert ("case-1", 1, 1) not in docs.cache.items
    huge = _doc(100)  # more than ``largest``: decoded, never kept
    assert docs.decode(("case-huge", 1, 1), huge) == orjson.loads(huge)
    assert ("case-huge", 1, 1) not in docs.cache.items


def test_a_write_transaction_takes_from_the_cache_but_never_adds() -> None:
    docs = DecodedDocs(budget=1 << 20, largest=1 << 16, smallest=64)
    big = _doc(40)
    kept = docs.decode(("case-1", 1, 1), big)
    token = WRITING.set(True)
    try:
        assert docs.decode(("case-1", 1, 1), big) is kept
        docs.decode(("case-1", 2, 2), big)  # a version that may never commit
    finally:
        WRITING.reset(token)
    assert ("case-1", 2, 2) not in docs.cache.items


def _stored_alert(n: int) -> dict[str, Any]:
    """One alert of a Prometheus indicator as casekeeper stores it (taken from a real one)."""
    name = "NodeExporterDown"
    at = "2026-12-05T21:44:38.686766Z"
    return {
        "alertGroupId": f'casekeeper:{{}}:{{alertname="{name}"}}', "fingerprint": f"{n:016x}",
        "createdAt": at, "alertName": name, "priority": "INDICATOR_PRIORITY_P1",
        "labels": {"alertname": name, "instance": f"host-{n}.example:9100", "job": "node",
                   "service": f"svc{n % 20}", "severity": "critical", "region": "eu-west-1"},
        "annotations": {"summary": f"node exporter {n} is down",
                        "runbook_url": "https://runbooks.example.test/node-down"},
        "status": {"triggered": {"triggeredAt": at}},
        "generatorUrl": "http://prometheus.example:9090/graph?g0.expr=up", "updatedAt": at,
    }  # fmt: skip


def test_the_largest_alert_group_is_kept() -> None:
    alerts = [_stored_alert(n) for n in range(MAX_ALERTS)]
    group = {"alertGroupId": "g", "alerts": alerts}
    text = orjson.dumps({"caseIndicators": {"prometheusAlertIndicators": [group]}})
    assert len(text) > DOCS.cache.budget // 16  # past the cache's default cap for one entry
    assert len(text) <= DOCS.cache.largest
    DOCS.decode(("largest-group", 1, 1), text)
    assert ("largest-group", 1, 1) in DOCS.cache.items


def _alerts(group: str, names: range) -> SignalBatch:
    signals = tuple(
        Signal(
            dedup_key=f"{group}-fp-{n}",
            status=SignalStatus.FIRING,
            title="NodeDown",
            labels={"alertname": "NodeDown", "instance": f"host-{n}:9100", "severity": "warning"},
            starts_at=1_700_000_000_000_000,
            group_key=group,
        )
        for n in names
    )
    return SignalBatch(Source.ALERTMANAGER, signals)


def _open_group(container: Container, sender: Principal, group: str) -> str:
    """The case 30 alerts of ``group`` open."""
    opened = container.signals.ingest(sender, _alerts(group, range(30)))
    case_id = opened.outcomes[0].case_id
    assert case_id is not None
    return case_id


def test_a_read_after_another_write_sees_it(
    container: Container, make_key: MakeKey, space: str
) -> None:
    _, sender = make_key("signals:Write", "case:Read")
    group = f'{{}}:{{alertname="NodeDown", space="{space}"}}'
    case_id = _open_group(container, sender, group)

    before = container.cases.get(sender, case_id)
    alerts = before.indicators["prometheusAlertIndicators"][0]["alerts"]
    assert len(alerts) == 30
    # Read again, by id and in a list: the same decoded detail (on PostgreSQL too: the row
    # brings the detail as text, so the store decodes it, not the driver).
    assert container.cases.get(sender, case_id).indicators is before.indicators
    listed, _ = container.cases.list_cases(sender, CaseQuery())
    assert next(x.indicators for x in listed if x.id == case_id) is before.indicators
    assert (case_id, before.version, before.update_time) in DOCS.cache.items

    container.signals.ingest(sender, _alerts(group, range(30, 32)))  # two more join the group
    after = container.cases.get(sender, case_id)
    assert after.version > before.version
    assert len(after.indicators["prometheusAlertIndicators"][0]["alerts"]) == 32
    assert len(alerts) == 30  # what the earlier read returned is left as it was


def test_reads_inside_a_write_are_not_kept_and_the_mark_ends_with_it(
    container: Container, make_key: MakeKey, space: str
) -> None:
    _, sender = make_key("signals:Write", "case:Read")
    case_id = _open_group(container, sender, f'{{}}:{{space="{space}", writer="yes"}}')
    DOCS.cache.clear()
    with container.db.writer() as uow:
        assert WRITING.get() is True
        case = uow.cases.require(sender.space_id, case_ref(case_id))
    assert (case_id, case.version, case.update_time) not in DOCS.cache.items
    assert WRITING.get() is False
    with pytest.raises(RuntimeError), container.db.writer():
        raise RuntimeError("a failed write")
    assert WRITING.get() is False  # a failed unit of work ends its mark too
    container.cases.get(sender, case_id)  # a read outside any write keeps it
    assert (case_id, case.version, case.update_time) in DOCS.cache.items
