"""Domain ⇄ protobuf conversions for the Coralogix cases messages."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from casekeeper.api.coralogix.fastjson import fill_from_json
from casekeeper.api.coralogix.timeline import actor_from_json, actor_json, event_data_json
from casekeeper.domain.errors import invalid
from casekeeper.domain.events import Actor, CaseEvent
from casekeeper.domain.model import Case, Json, KeyValue
from casekeeper.domain.query import (
    FilterValues,
)
from casekeeper.domain.versioned import VersionedCache
from casekeeper.proto.com.coralogixapis.cases.v1 import case_event_pb2 as ev_pb
from casekeeper.proto.com.coralogixapis.cases.v1 import case_pb2 as c_pb
from casekeeper.proto.com.coralogixapis.cases.v1 import cases_service_pb2 as svc_pb
from casekeeper.proto.com.coralogixapis.cases.v1 import common_pb2 as common_pb

_RESOLVER_FIELD = {
    "system": "system",
    "cxUser": "cx_user",
    "serviceNow": "service_now",
    "apiKey": "api_key",
    "slack": "slack",
    "prometheusAlertManager": "prometheus_alert_manager",
    "pagerDuty": "pager_duty",
    "microsoftTeams": "microsoft_teams",
}


def set_time(ts: Timestamp, micros: int) -> None:
    seconds, us = divmod(micros, 1_000_000)
    ts.seconds = seconds
    ts.nanos = us * 1000


# google.protobuf.Timestamp's valid range: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z.
MIN_SECONDS, MAX_SECONDS = -62_135_596_800, 253_402_300_799


def micros_of(ts: Timestamp, field: str = "timestamp") -> int:
    if not MIN_SECONDS <= ts.seconds <= MAX_SECONDS or not 0 <= ts.nanos < 1_000_000_000:
        raise invalid(f"{field}: out of range; use a time between years 1 and 9999")
    return ts.seconds * 1_000_000 + ts.nanos // 1000


def json_into(message: Message, data: Json, what: str) -> None:
    try:
        fill_from_json(message, data)
    except json_format.ParseError as err:  # stored data always parses; this guards input
        raise invalid(f"{what}: {err}") from None


# Serialized ``Case`` messages by (id, version, update time), so a case read again is not
# converted again (the JSON-shaped indicator detail is the expensive part). ``duration``
# depends on the clock and is set after every decode. Bounded by the bytes held.
_ENCODED: VersionedCache[bytes] = VersionedCache(16 * 2**20)


def case_to_pb(
    case: Case, now: int, out: c_pb.Case | None = None, *, cached: bool = True
) -> c_pb.Case:
    """``case`` as protobuf. ``cached=False`` for versions just made (a bulk change's), which
    the cache cannot hold yet and would only push readers' entries out of it."""
    pb = out if out is not None else c_pb.Case()
    if not cached:
        _fill_case(case, pb)
    else:
        key = (case.id, case.version, case.update_time)
        encoded = _ENCODED.get(key)
        if encoded is not None:
            pb.MergeFromString(encoded)
        else:
            _fill_case(case, pb)
            data = pb.SerializeToString()
            _ENCODED.put(key, data, len(data))
    pb.duration = case.duration_ms(now)
    return pb


def _fill_case(case: Case, pb: c_pb.Case) -> None:
    pb.id = case.id
    pb.title = case.title
    pb.status = int(case.status)  # type: ignore[assignment]
    pb.priority = int(case.effective_priority)  # type: ignore[assignment]
    pb.category = int(case.category)  # type: ignore[assignment]
    pd = pb.priority_details
    pd.system = int(case.priority.system)  # type: ignore[assignment]
    if case.priority.override is not None:
        pd.override = int(case.priority.override)  # type: ignore[assignment]
    if case.assignee is not None:
        pb.assignee.user_id = case.assignee
    set_time(pb.create_time, case.create_time)
    set_time(pb.update_time, case.update_time)
    if case.acknowledge_time is not None:
        set_time(pb.acknowledge_time, case.acknowledge_time)
    res = case.resolution
    if res is not None:
        rd = pb.resolution_details
        if res.reason is not None:
            rd.reason = res.reason
        if res.resolve_time is not None:
            set_time(rd.resolve_time, res.resolve_time)
        if res.resolved_by is not None:
            getattr(rd.resolved_by, _RESOLVER_FIELD[res.resolved_by.value]).SetInParent()
    for kv in case.labels:
        pb.labels.add(key=kv.key, value=kv.value)
    for kv in case.groupings:
        pb.groupings.add(key=kv.key, value=kv.value)
    if case.number is not None:
        pb.readable_id = f"CASE-{case.number}"
    for entity in case.impacted_entities:
        json_into(pb.impacted_entities.add(), entity, "impactedEntities")
    pb.case_indicators.SetInParent()
    if case.indicators:
        json_into(pb.case_indicators, case.indicators, "caseIndicators")
    if case.kpi_breaches:
        json_into(pb.kpi_breaches, {"breachedKpis": list(case.kpi_breaches)}, "kpiBreaches")
    if case.ai_summary is not None:
        pb.ai_summary = case.ai_summary
    if case.olly_analysis is not None:
        json_into(pb.olly_analysis, case.olly_analysis, "ollyAnalysis")


def cases_to_pb(cases: Iterable[Case], now: int, field: Any, *, cached: bool = True) -> None:
    add = field.add
    for case in cases:
        case_to_pb(case, now, add(), cached=cached)


def to_json(message: Message, field: str = "body", *, with_defaults: bool = False) -> Json:
    """The spec's JSON of ``message``; a value protobuf cannot render is INVALID_ARGUMENT.

    ``with_defaults`` keeps fields without presence that hold their zero value (``false``,
    ``[]``): the specs require them (``isDeleted``, ``alertVersions``, ...)."""
    try:
        return json_format.MessageToDict(
            message, always_print_fields_with_no_presence=with_defaults
        )
    except (ValueError, json_format.SerializeToJsonError) as err:
        raise invalid(f"{field}: {err}") from None


def event_to_pb(event: CaseEvent, out: ev_pb.CaseEvent | None = None) -> ev_pb.CaseEvent:
    pb = out if out is not None else ev_pb.CaseEvent()
    pb.event_id = event.event_id
    fill_from_json(pb.event_data, event_data_json(event.data))
    fill_from_json(pb.actor, actor_json(event.actor))
    set_time(pb.create_time, event.create_time)
    set_time(pb.event_time, event.event_time)
    if event.update_time is not None:
        set_time(pb.update_time, event.update_time)
    return pb


def actor_from_pb(pb: ev_pb.EventActor) -> Actor | None:
    if pb.WhichOneof("actor") is None:
        return None
    return actor_from_json(json_format.MessageToDict(pb))


def key_values(items: Iterable[common_pb.KeyValue]) -> list[KeyValue]:
    return [KeyValue(kv.key, kv.value) for kv in items]


# -- GetFilterValues output --------------------------------------------------------------------


ESTIMATE_KEY = "casekeeper-estimate"  # gRPC metadata; REST: the X-Casekeeper-Estimate header


def estimate_note(fv: FilterValues) -> str | None:
    """How an estimated answer was made, for callers of the spec's shape (None when exact)."""
    if not fv.estimated:
        return None
    return f"sampled {fv.sampled} cases, ~{fv.matching or 0} match"


def filter_values_to_pb(fv: FilterValues, out: svc_pb.GetFilterValuesResponse) -> None:
    for p, n in sorted(fv.priorities.items()):
        out.priority_aggregations.add(priority=int(p), count=n)
    for cat, n in sorted(fv.categories.items()):
        out.category_aggregations.add(category=int(cat), count=n)
    for s, n in sorted(fv.statuses.items()):
        out.status_aggregations.add(status=int(s), count=n)
    _tag_aggregations(fv.groupings, out.grouping_aggregations)
    _tag_aggregations(fv.labels, out.label_aggregations)
    for key, values in fv.labels.items():
        for value, n in values.items():
            out.flat_labels_aggregation.add(
                filter=common_pb.KeyValue(key=key, value=value), count=n
            )
    for alert_id, n in fv.alert_ids.items():
        out.alert_id_aggregations.add(alert_id=alert_id, count=n)
    agg = out.assignee_aggregations
    agg.unassigned_count = fv.unassigned
    for who, n in fv.assignees.items():
        agg.assigned_counts.add(assignee=who, count=n)


def _tag_aggregations(data: Mapping[str, Mapping[str, int]], field: Any) -> None:
    for key, values in data.items():
        agg = field.add(key=key)
        for value, n in values.items():
            agg.value_counts.add(value=value, count=n)
