"""Domain → the specs' JSON (camelCase, enums as names, RFC 3339 times, ``duration`` as a
millisecond digit string; required collections always present, unset fields omitted)."""

from __future__ import annotations

from typing import Any

import orjson
from google.protobuf.message import Message

from casekeeper.api.coralogix.convert import to_json
from casekeeper.api.coralogix.timeline import actor_json, event_data_json
from casekeeper.api.coralogix.vocabulary import (
    CATEGORY_NAME,
    PRIORITY_NAME,
    STATUS_NAME,
    priority_details,
)
from casekeeper.domain.events import CaseEvent
from casekeeper.domain.model import Case, Json
from casekeeper.domain.query import FilterValues
from casekeeper.domain.timeutil import to_rfc3339
from casekeeper.domain.versioned import VersionedCache

# A large ``caseIndicators`` (an alert group's: one indicator per alert) as JSON, by case
# version: busy lists show the same open groups again and again (docs/PERFORMANCE.md, the
# headline). Smaller ones are encoded each time, which costs less than keeping them.
_INDICATORS: VersionedCache[orjson.Fragment] = VersionedCache(16 * 2**20, largest=2**20)
_CACHED_FROM_ENTRIES = 16  # indicators and Prometheus alerts in one case


def _entries(indicators: Json) -> int:
    n = len(indicators.get("alertIndicators") or ()) + len(
        indicators.get("genericIndicators") or ()
    )
    for group in indicators.get("prometheusAlertIndicators") or ():
        n += 1 + len(group.get("alerts") or ())
    return n


def _indicators(case: Case) -> Json:
    out = dict(case.indicators)
    out.setdefault("alertIndicators", [])
    return out


def _indicators_json(case: Case, cached: bool) -> Any:
    if not cached or _entries(case.indicators) < _CACHED_FROM_ENTRIES:
        return _indicators(case)
    key = (case.id, case.version, case.update_time)
    found = _INDICATORS.get(key)
    if found is None:
        data = orjson.dumps(_indicators(case))
        found = orjson.Fragment(data)
        _INDICATORS.put(key, found, len(data))
    return found


def case_json(case: Case, now: int, *, cached: bool = True) -> Json:
    """The spec's JSON of ``case``. ``cached=False`` for versions not yet committed (a bulk
    change's, rendered during its COMMIT): a failed commit's version could come again with
    other content."""
    out: Json = {
        "id": case.id,
        "title": case.title,
        "status": STATUS_NAME[case.status],
        "priority": PRIORITY_NAME[case.effective_priority],
        "category": CATEGORY_NAME[case.category],
    }
    if case.assignee is not None:
        out["assignee"] = {"userId": case.assignee}
    out["createTime"] = to_rfc3339(case.create_time)
    out["updateTime"] = to_rfc3339(case.update_time)
    if case.acknowledge_time is not None:
        out["acknowledgeTime"] = to_rfc3339(case.acknowledge_time)
    res = case.resolution
    if res is not None:
        rd: Json = {}
        if res.resolved_by is not None:
            rd["resolvedBy"] = {res.resolved_by.value: {}}
        if res.resolve_time is not None:
            rd["resolveTime"] = to_rfc3339(res.resolve_time)
        if res.reason is not None:
            rd["reason"] = res.reason
        out["resolutionDetails"] = rd
    out["labels"] = [{"key": kv.key, "value": kv.value} for kv in case.labels]
    out["groupings"] = [{"key": kv.key, "value": kv.value} for kv in case.groupings]
    out["priorityDetails"] = priority_details(case.priority)
    out["caseIndicators"] = _indicators_json(case, cached)
    if case.number is not None:
        out["readableId"] = f"CASE-{case.number}"
    out["impactedEntities"] = list(case.impacted_entities)
    if case.ai_summary is not None:
        out["aiSummary"] = case.ai_summary
    out["duration"] = str(case.duration_ms(now))
    if case.kpi_breaches:
        out["kpiBreaches"] = {"breachedKpis": list(case.kpi_breaches)}
    if case.olly_analysis is not None:
        out["ollyAnalysis"] = case.olly_analysis
    return out


def event_json(event: CaseEvent) -> Json:
    out: Json = {
        "eventId": event.event_id,
        "eventData": event_data_json(event.data),
        "actor": actor_json(event.actor),
        "createTime": to_rfc3339(event.create_time),
        "eventTime": to_rfc3339(event.event_time),
    }
    if event.update_time is not None:
        out["updateTime"] = to_rfc3339(event.update_time)
    return out


def filter_values_json(fv: FilterValues) -> Json:
    def tag_aggs(data: dict[str, dict[str, int]]) -> list[Json]:
        return [
            {"key": key, "valueCounts": [{"value": v, "count": n} for v, n in values.items()]}
            for key, values in data.items()
        ]

    return {
        "priorityAggregations": [
            {"priority": PRIORITY_NAME[p], "count": n} for p, n in sorted(fv.priorities.items())
        ],
        "categoryAggregations": [
            {"category": CATEGORY_NAME[c], "count": n} for c, n in sorted(fv.categories.items())
        ],
        "groupingAggregations": tag_aggs(fv.groupings),
        "labelAggregations": tag_aggs(fv.labels),
        "statusAggregations": [
            {"status": STATUS_NAME[s], "count": n} for s, n in sorted(fv.statuses.items())
        ],
        "assigneeAggregations": {
            "unassignedCount": fv.unassigned,
            "assignedCounts": [{"assignee": a, "count": n} for a, n in fv.assignees.items()],
        },
        "flatLabelsAggregation": [
            {"filter": {"key": k, "value": v}, "count": n}
            for k, values in fv.labels.items()
            for v, n in values.items()
        ],
        "alertIdAggregations": [{"alertId": a, "count": n} for a, n in fv.alert_ids.items()],
    }


# What an IncidentAggregation says for ``lastClosedAt`` when none of its incidents is closed:
# the spec requires the field, and a gRPC client reads the unset Timestamp as this instant too.
NEVER_CLOSED = "1970-01-01T00:00:00Z"


def message_json(message: Message) -> Json:
    """A response message as the spec's JSON: protojson's camelCase, wrappers as bare values,
    enums by name, and collections present even when empty (the spec requires them)."""
    out = to_json(message, with_defaults=True)
    for agg in out.get("incidentAggs", ()):
        agg.setdefault("lastClosedAt", NEVER_CLOSED)
    return out


def error_json(status: int, message: str) -> dict[str, Any]:
    return {"code": status, "message": message[:4096]}
