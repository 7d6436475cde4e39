"""What of a case is indexed for filtering: derived from the case, rewritten with it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from casekeeper.domain.errors import CasekeeperError
from casekeeper.domain.model import Case, Json
from casekeeper.domain.timeutil import parse_rfc3339
from casekeeper.store.schema import TAG_TEXT_MAX

GROUPING = "g"
LABEL = "l"
ENTITY = "e"
ALERT_ID = "a"
ALERT_VERSION = "v"
PROMETHEUS = "p"
TAG = "t"  # the case's tags (key "")

INDICATOR_ALERT = 1
INDICATOR_PROMETHEUS = 2
INDICATOR_ERROR_TRACKING = 4

KPI_BITS = {
    "KPI_TYPE_TIME_TO_ACKNOWLEDGE": 1,
    "KPI_TYPE_TIME_TO_RESOLVE": 2,
    "KPI_TYPE_TIME_TO_UPDATE": 4,
}


def tag_text(text: str) -> str:
    """Index-safe form of a tag key or value: long text becomes a stable digest."""
    if len(text) <= TAG_TEXT_MAX:
        return text
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _started_seconds(alert: Json) -> int | None:
    status = alert.get("status") or {}
    for branch in ("triggered", "resolved"):
        started = (status.get(branch) or {}).get("triggeredAt")
        if started:
            return _seconds(started)
    created = alert.get("createdAt")
    return _seconds(created) if created else None


def _seconds(text: str) -> int | None:
    try:
        return parse_rfc3339(text) // 1_000_000
    except CasekeeperError:
        return None


def prometheus_key(fingerprint: str, started_seconds: int) -> tuple[str, str]:
    return tag_text(fingerprint), str(started_seconds)


def case_tags(case: Case) -> Iterator[tuple[str, str, str]]:
    """(kind, key, value) triples for ``case``; duplicates are removed by the caller."""
    for kv in case.groupings:
        yield GROUPING, tag_text(kv.key), tag_text(kv.value)
    for kv in case.labels:
        yield LABEL, tag_text(kv.key), tag_text(kv.value)
    for tag in case.tags:
        yield TAG, "", tag_text(tag)
    for entity in case.impacted_entities:
        for kind, body in entity.items():
            name = (body or {}).get("name")
            if name:
                yield ENTITY, kind, tag_text(str(name).lower())
    for alert in case.indicators.get("alertIndicators") or ():
        if alert.get("alertId"):
            yield ALERT_ID, "", tag_text(alert["alertId"])
        versions = set(alert.get("alertVersions") or ())
        if alert.get("latestAlertVersion"):
            versions.add(alert["latestAlertVersion"])
        for version in versions:
            yield ALERT_VERSION, "", tag_text(version)
    for group in case.indicators.get("prometheusAlertIndicators") or ():
        for alert in group.get("alerts") or ():
            started = _started_seconds(alert)
            if alert.get("fingerprint") and started is not None:
                key, value = prometheus_key(alert["fingerprint"], started)
                yield PROMETHEUS, key, value


def indicator_bits(case: Case) -> int:
    bits = 0
    if case.indicators.get("alertIndicators"):
        bits |= INDICATOR_ALERT
    if case.indicators.get("prometheusAlertIndicators"):
        bits |= INDICATOR_PROMETHEUS
    for generic in case.indicators.get("genericIndicators") or ():
        if generic.get("indicatorType") == "GENERIC_INDICATOR_TYPE_ERROR_TRACKING":
            bits |= INDICATOR_ERROR_TRACKING
    return bits


def kpi_bits(case: Case) -> int:
    bits = 0
    for breach in case.kpi_breaches:
        bits |= KPI_BITS.get(str(breach.get("kpiType")), 0)
    return bits
