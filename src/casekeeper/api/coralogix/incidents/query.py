"""Incidents request messages → domain queries: filters, orderings, groupings and pages.

REST parses its JSON (and its GET query strings) into the same messages, so both transports
share every rule here. Errors name fields as the API does (``filter.createdAtRange``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import IntEnum
from typing import Any, TypeVar

from casekeeper.api.coralogix.convert import micros_of
from casekeeper.domain.errors import invalid
from casekeeper.domain.incident_query import (
    DEFAULT_PAGE_SIZE,
    EventFilter,
    GroupKey,
    IncidentField,
    IncidentFilter,
    OrderKey,
    PageRequest,
    SearchQuery,
    TimeRange,
)
from casekeeper.domain.incidents import IncidentSeverity, IncidentState, IncidentStatus
from casekeeper.domain.model import KeyValue
from casekeeper.domain.query import FilterGroup
from casekeeper.proto.com.coralogixapis.incidents.v1 import common_pb2 as common_pb
from casekeeper.proto.com.coralogixapis.incidents.v1 import enums_pb2 as enums_pb
from casekeeper.proto.com.coralogixapis.incidents.v1 import incident_query_pb2 as q_pb

E = TypeVar("E", bound=IntEnum)

# ORDER_BY_DIRECTION_UNSPECIFIED (the seeds send it) means the default: newest first.
_ASCENDING = enums_pb.ORDER_BY_DIRECTION_ASC
_FOREVER = TimeRange(-(2**62), 2**62)


def text(value: str, field: str) -> str:
    """Caller text that goes into a query: no NUL (PostgreSQL cannot hold one in text)."""
    if "\x00" in value:
        raise invalid("must not contain NUL characters", field=field)
    return value


def _texts(items: Iterable[Any], field: str) -> tuple[str, ...]:
    """Wrapped strings (``repeated StringValue``) as checked text."""
    return tuple(text(w.value, field) for w in items)


def enum(kind: type[E], value: int, field: str) -> E:
    """``value`` (an enum number off the wire) as ``kind``; an unknown number is refused."""
    try:
        return kind(value)
    except ValueError:
        raise invalid(f"unknown value {value}", field=field) from None


def _enums(kind: type[E], values: Iterable[int], field: str) -> tuple[E, ...]:
    return tuple(enum(kind, v, field) for v in values)


def _field(value: int, field: str) -> IncidentField:
    found = enum(IncidentField, value, field)
    if found is IncidentField.UNSPECIFIED:
        raise invalid("give a field (INCIDENTS_FIELDS_UNSPECIFIED names none)", field=field)
    return found


def _groups(items: Mapping[str, Any], inner: str, field: str) -> tuple[FilterGroup, ...]:
    """A label map (key → {<inner>: [values]}) as filter groups, in key order."""
    out = []
    for key in sorted(items):
        where = f"{field}[{key[:64]!r}]"
        values = _texts(getattr(items[key], inner), where)
        if not values:
            raise invalid("give at least one value to match", field=where)
        out.append(FilterGroup(text(key, field), values))
    return tuple(out)


def _range(pb: common_pb.TimeRange, field: str) -> TimeRange:
    if not pb.HasField("start_time") or not pb.HasField("end_time"):
        raise invalid("give both startTime and endTime", field=field)
    return TimeRange(
        micros_of(pb.start_time, f"{field}.startTime"), micros_of(pb.end_time, f"{field}.endTime")
    )


def _labels(items: Iterable[common_pb.MetaLabel], field: str) -> tuple[KeyValue, ...]:
    return tuple(
        KeyValue(text(m.key.value, f"{field}.key"), text(m.value.value, f"{field}.value"))
        for m in items
    )


def _open_during(pb: q_pb.IncidentQueryFilter) -> TimeRange | None:
    if pb.HasField("incident_duration_range"):
        return _range(pb.incident_duration_range, "filter.incidentDurationRange")
    if not pb.HasField("start_time") and not pb.HasField("end_time"):
        return None
    # The deprecated pair: open at some time between them (either end may be left open).
    start = micros_of(pb.start_time, "filter.startTime") if pb.HasField("start_time") else None
    end = micros_of(pb.end_time, "filter.endTime") if pb.HasField("end_time") else None
    if start is not None and end is not None and end < start:
        raise invalid("before filter.startTime", field="filter.endTime")
    return TimeRange(
        _FOREVER.start if start is None else start, _FOREVER.end if end is None else end
    )


def _search(pb: q_pb.IncidentSearchQuery) -> SearchQuery:
    which = pb.WhichOneof("field")
    query = text(pb.query.value, _SQ + ".query")
    if which == "incident_field":
        return SearchQuery(query, field=_field(pb.incident_field, _SQ + ".incidentField"))
    if which == "contextual_label":
        label = text(pb.contextual_label.value, _SQ + ".contextualLabel")
        return SearchQuery(query, contextual_label=label)
    raise invalid("give incidentField or contextualLabel to search in", field=_SQ)


_SQ = "filter.searchQuery"


def incident_filter(pb: q_pb.IncidentQueryFilter) -> IncidentFilter:
    """IncidentQueryFilter (ListIncidents, aggregations, GetFilterValues) → domain."""
    return IncidentFilter(
        assignees=_texts(pb.assignee, "filter.assignee"),
        statuses=_enums(IncidentStatus, pb.status, "filter.status"),
        states=_enums(IncidentState, pb.state, "filter.state"),
        severities=_enums(IncidentSeverity, pb.severity, "filter.severity"),
        contextual_labels=_groups(
            pb.contextual_labels, "contextual_label_values", "filter.contextualLabels"
        ),
        display_labels=_groups(pb.display_labels, "display_label_values", "filter.displayLabels"),
        application_names=_texts(pb.application_name, "filter.applicationName"),
        subsystem_names=_texts(pb.subsystem_name, "filter.subsystemName"),
        is_muted=pb.is_muted.value if pb.HasField("is_muted") else None,
        created=_range(pb.created_at_range, "filter.createdAtRange")
        if pb.HasField("created_at_range")
        else None,
        open_during=_open_during(pb),
        meta_labels=_labels(pb.meta_labels, "filter.metaLabels"),
        meta_labels_all=pb.meta_labels_op == enums_pb.FILTER_OPERATOR_AND,
        search=_search(pb.search_query) if pb.HasField("search_query") else None,
    )


def event_filter(pb: q_pb.IncidentEventQueryFilter) -> EventFilter:
    """IncidentEventQueryFilter (ListIncidentEvents, its count and filter values) → domain."""
    return EventFilter(
        statuses=_enums(IncidentStatus, pb.status, "filter.status"),
        severities=_enums(IncidentSeverity, pb.severity, "filter.severity"),
        contextual_labels=_groups(
            pb.contextual_labels, "contextual_label_values", "filter.contextualLabels"
        ),
        display_labels=_groups(pb.display_labels, "display_label_values", "filter.displayLabels"),
        name=text(pb.name.value, "filter.name") if pb.HasField("name") else None,
        is_muted=pb.is_muted.value if pb.HasField("is_muted") else None,
        time=_range(pb.timestamp, "filter.timestamp") if pb.HasField("timestamp") else None,
        meta_labels=_labels(pb.labels.meta_labels, "filter.labels.metaLabels"),
        meta_labels_all=pb.labels.operator == enums_pb.FILTER_OPERATOR_AND,
    )


def _key(pb: Any, i: int, name: str) -> tuple[IncidentField | None, str | None]:
    """The field or contextual label of an OrderBy or GroupBy (``name[i]``)."""
    which = pb.WhichOneof("field")
    if which == "incident_field":
        return _field(pb.incident_field, f"{name}[{i}].incidentField"), None
    if which == "contextual_label":
        return None, text(pb.contextual_label.value, f"{name}[{i}].contextualLabel")
    raise invalid("give incidentField or contextualLabel", field=f"{name}[{i}]")


def order(items: Iterable[q_pb.OrderBy]) -> tuple[OrderKey, ...]:
    """``orderBys``, applied in list order; none means the default (creation time)."""
    out = []
    for i, pb in enumerate(items):
        field, label = _key(pb, i, "orderBys")
        enum(_Direction, pb.direction, f"orderBys[{i}].direction")
        out.append(OrderKey(field, label, descending=pb.direction != _ASCENDING))
    return tuple(out)


def group_by(items: Iterable[q_pb.GroupBy]) -> tuple[GroupKey, ...]:
    out = []
    for i, pb in enumerate(items):
        field, label = _key(pb, i, "groupBys")
        direction = enum(_Direction, pb.order_by_direction, f"groupBys[{i}].orderByDirection")
        out.append(GroupKey(field, label, descending=direction is _Direction.DESC))
    return tuple(out)


class _Direction(IntEnum):
    UNSPECIFIED = enums_pb.ORDER_BY_DIRECTION_UNSPECIFIED
    ASC = enums_pb.ORDER_BY_DIRECTION_ASC
    DESC = enums_pb.ORDER_BY_DIRECTION_DESC


def descending(direction: int, field: str) -> bool:
    """An OrderByDirection: ascending only when asked for."""
    return enum(_Direction, direction, field) is not _Direction.ASC


def page(pb: common_pb.PaginationRequest, default: int = DEFAULT_PAGE_SIZE) -> PageRequest:
    """The page asked for; without a size, ``default``. The service bounds the size."""
    size = pb.page_size.value if pb.HasField("page_size") else default
    token = text(pb.page_token.value, "pagination.pageToken") or None
    return PageRequest(size, token)
