"""API digest §9.1 and §3 typed out by hand: every incidents message with its field numbers,
types and wrappers, every enum with its exact numbers, and the service's methods.

Written from the digest's text alone (never from our .proto files or the generated code), so
``test_wire_compat`` can build descriptors that disagree with ours wherever ours drifted.

Types: ``SV``/``BV``/``I32V``/``U32V``/``U64V`` are the wrapper types, ``TS``/``DUR`` Timestamp
and Duration, ``STR`` a plain string (map keys and values only); any other type names an enum
of ``ENUMS`` or a message of ``MESSAGES``.
"""

from __future__ import annotations

from dataclasses import dataclass

SV = "google.protobuf.StringValue"
BV = "google.protobuf.BoolValue"
I32V = "google.protobuf.Int32Value"
U32V = "google.protobuf.UInt32Value"
U64V = "google.protobuf.UInt64Value"
TS = "google.protobuf.Timestamp"
DUR = "google.protobuf.Duration"
STR = "string"


@dataclass(frozen=True)
class Field:
    name: str
    number: int
    type: str  # for a map, the type of its values (its keys are strings)
    rep: bool = False
    oneof: str | None = None
    map: bool = False


def f(name: str, number: int, type_: str, *, rep: bool = False, oneof: str | None = None) -> Field:
    return Field(name, number, type_, rep=rep, oneof=oneof)


def m(name: str, number: int, value: str) -> Field:
    """A ``map<string, value>`` field."""
    return Field(name, number, value, map=True)


def one(group: str, *fields: tuple[str, int, str]) -> list[Field]:
    return [Field(name, number, type_, oneof=group) for name, number, type_ in fields]


_FIELD_ONE_OF = [("incident_field", 10, "IncidentFields"), ("contextual_label", 11, SV)]

MESSAGES: dict[str, list[Field]] = {
    # -- the incident and its parts ------------------------------------------------------------
    "Incident": [
        f("id", 1, SV),
        f("name", 2, SV),
        f("state", 3, "IncidentState"),
        f("status", 4, "IncidentStatus"),
        f("assignments", 5, "Assignment", rep=True),
        f("description", 6, SV),
        f("severity", 7, "IncidentSeverity"),
        f("events", 10, "IncidentEvent", rep=True),
        f("created_at", 11, TS),
        f("closed_at", 12, TS),
        m("contextual_labels", 13, STR),
        m("display_labels", 14, STR),
        f("last_state_update_time", 15, TS),
        f("last_state_update_key", 16, SV),
        f("is_muted", 17, BV),
        f("meta_labels", 18, "MetaLabel", rep=True),
        f("duration", 19, DUR),
    ],
    "Assignment": [f("assigned_to", 1, "UserDetails"), f("assigned_by", 2, "UserDetails")],
    "UserDetails": [f("user_id", 1, SV)],
    "MetaLabel": [f("key", 1, SV), f("value", 2, SV)],
    # -- aggregations ----------------------------------------------------------------------------
    "IncidentFieldOneOf": one(
        "field",
        ("id", 1, SV),
        ("severity", 2, "IncidentSeverity"),
        ("name", 3, SV),
        ("created_at", 4, TS),
        ("closed_at", 5, TS),
        ("state", 6, "IncidentState"),
        ("status", 7, "IncidentStatus"),
        ("last_state_update_time", 8, TS),
        ("application_name", 9, SV),
        ("subsystem_name", 10, SV),
        ("duration", 11, DUR),
    ),
    "ContextualLabels": [f("field_name", 1, SV), f("field_value", 2, SV)],
    "GroupByValues": one(
        "values",
        ("incident_field", 1, "IncidentFieldOneOf"),
        ("contextual_labels", 2, "ContextualLabels"),
    ),
    "IncidentAggregation": [
        f("group_bys_value", 1, "GroupByValues", rep=True),
        f("agg_state_count", 2, "IncidentStateCount", rep=True),
        f("agg_status_count", 3, "IncidentStatusCount", rep=True),
        f("agg_severity_count", 4, "IncidentSeverityCount", rep=True),
        f("agg_assignments_count", 5, "IncidentAssignmentCount", rep=True),
        f("first_created_at", 6, TS),
        f("last_closed_at", 7, TS),
        f("all_values_count", 8, U32V),
        f("list_incidents_id", 9, SV, rep=True),
        f("last_state_update_time", 10, TS),
        f("agg_meta_labels_count", 11, "IncidentMetaLabelsCount", rep=True),
    ],
    "IncidentStateCount": [f("state", 1, "IncidentState"), f("count", 2, U32V)],
    "IncidentStatusCount": [f("status", 1, "IncidentStatus"), f("count", 2, U32V)],
    "IncidentSeverityCount": [f("severity", 1, "IncidentSeverity"), f("count", 2, U32V)],
    "IncidentAssignmentCount": [f("assigned_to", 1, "UserDetails"), f("count", 2, U32V)],
    "IncidentMetaLabelsCount": [f("meta_label", 1, "MetaLabel"), f("count", 2, U32V)],
    # -- ordering, grouping, filters -------------------------------------------------------------
    "OrderBy": [*one("field", *_FIELD_ONE_OF), f("direction", 2, "OrderByDirection")],
    "GroupBy": [*one("field", *_FIELD_ONE_OF), f("order_by_direction", 1, "OrderByDirection")],
    "IncidentSearchQuery": [f("query", 1, SV), *one("field", *_FIELD_ONE_OF)],
    "IncidentQueryFilter": [
        f("assignee", 1, SV, rep=True),
        f("status", 2, "IncidentStatus", rep=True),
        f("state", 3, "IncidentState", rep=True),
        f("severity", 4, "IncidentSeverity", rep=True),
        m("contextual_labels", 5, "ContextualLabelValues"),
        f("start_time", 6, TS),
        f("end_time", 7, TS),
        f("search_query", 8, "IncidentSearchQuery"),
        f("application_name", 9, SV, rep=True),
        f("subsystem_name", 10, SV, rep=True),
        f("is_muted", 11, BV),
        f("created_at_range", 12, "TimeRange"),
        f("incident_duration_range", 13, "TimeRange"),
        f("meta_labels", 14, "MetaLabel", rep=True),
        f("meta_labels_op", 15, "FilterOperator"),
        m("display_labels", 16, "DisplayLabelValues"),
    ],
    "TimeRange": [f("start_time", 1, TS), f("end_time", 2, TS)],
    "ContextualLabelValues": [f("contextual_label_values", 1, SV, rep=True)],
    "DisplayLabelValues": [f("display_label_values", 1, SV, rep=True)],
    "IncidentEventQueryFilter": [
        f("status", 1, "IncidentStatus", rep=True),
        f("severity", 2, "IncidentSeverity", rep=True),
        m("contextual_labels", 3, "ContextualLabelValues"),
        f("name", 4, SV),
        f("is_muted", 5, BV),
        f("timestamp", 6, "TimeRange"),
        f("labels", 7, "LabelsFilter"),
        m("display_labels", 8, "DisplayLabelValues"),
    ],
    "LabelsFilter": [
        f("meta_labels", 1, "MetaLabel", rep=True),
        f("operator", 2, "FilterOperator"),
    ],
    # -- filter values ---------------------------------------------------------------------------
    "AssigneeWithCount": [f("assignee", 1, SV), f("count", 2, I32V)],
    "IncidentStatusWithCount": [f("status", 1, "IncidentStatus"), f("count", 2, I32V)],
    "IncidentStateWithCount": [f("state", 1, "IncidentState"), f("count", 2, I32V)],
    "IncidentSeverityWithCount": [f("severity", 1, "IncidentSeverity"), f("count", 2, I32V)],
    "IncidentMetaLabelsWithCount": [f("meta_label", 1, "MetaLabel"), f("count", 2, I32V)],
    "IncidentQueryFiltersValues": [
        f("assignee_with_count", 1, "AssigneeWithCount", rep=True),
        f("status_with_count", 2, "IncidentStatusWithCount", rep=True),
        f("state_with_count", 3, "IncidentStateWithCount", rep=True),
        f("severity_with_count", 4, "IncidentSeverityWithCount", rep=True),
        m("contextual_labels", 5, "ContextualLabelValuesWithCount"),
        f("meta_labels_with_count", 6, "IncidentMetaLabelsWithCount", rep=True),
        f("meta_labels_op", 7, "FilterOperator"),
        m("display_labels", 8, "DisplayLabelValuesWithCount"),
    ],
    "ContextualLabelValuesWithCount": [
        f("values_with_count", 1, "ContextualLabelValueWithCount", rep=True)
    ],
    "ContextualLabelValueWithCount": [f("contextual_label_value", 1, SV), f("count", 2, I32V)],
    "DisplayLabelValuesWithCount": [
        f("values_with_count", 1, "DisplayLabelValueWithCount", rep=True)
    ],
    "DisplayLabelValueWithCount": [f("display_label_value", 1, SV), f("count", 2, I32V)],
    # -- incident events -------------------------------------------------------------------------
    "IncidentEvent": [
        f("id", 1, SV),
        f("incident_event_type", 2, "IncidentEventType"),
        f("originator_type", 3, "OriginatorType"),
        *one(
            "originator",
            ("administrative_event", 100, "IncidentEventOriginatorAdministrative"),
            ("operational_event", 101, "IncidentEventOriginatorOperational"),
        ),
        *one(
            "incident_event_payload",
            ("snooze_indicator", 200, "IncidentEventSnoozeIndicator"),
            ("assignment", 201, "IncidentEventAssign"),
            ("upsert_state", 202, "IncidentEventUpsertState"),
            ("acknowledge", 203, "IncidentEventAcknowledge"),
            ("close", 204, "IncidentEventClose"),
            ("unassign", 205, "IncidentEventUnassign"),
        ),
    ],
    "IncidentEventSnoozeIndicator": [
        f("start_time", 1, TS),
        f("duration_minutes", 2, I32V),
        f("user_id", 3, SV),
    ],
    "IncidentEventAssign": [f("assignment", 1, "Assignment")],
    "IncidentEventUnassign": [],
    "IncidentEventUpsertState": [
        f("state_type", 1, "UpsertIncidentStateType"),
        f("payload", 2, "UpsertIncidentStatePayload"),
        f("is_muted", 3, BV),
    ],
    "UpsertIncidentStatePayload": [f("cx_event_key", 1, SV)],
    "IncidentEventAcknowledge": [f("acknowledged_by", 1, "UserDetails")],
    "IncidentEventClose": [f("closed_by", 1, "UserDetails")],
    "IncidentEventOriginatorAdministrative": [f("user_id", 1, SV)],
    "IncidentEventOriginatorOperational": [f("system_name", 1, SV)],
    "IncidentEventExtended": [
        f("cx_event_key", 1, SV),
        f("incident_event", 2, "IncidentEvent"),
        f("cx_event_timestamp", 4, TS),
        f("incident_event_extended_metadata", 5, "IncidentEventExtendedMetadata"),
    ],
    "IncidentEventExtendedMetadata": [
        f("incident_severity", 1, "IncidentSeverity"),
        f("alert_id", 2, SV),
        f("incident_state", 3, "IncidentState"),
        f("alert_name", 4, SV),
        f("alert_type", 5, "IncidentEventAlertType"),
        f("is_muted", 6, BV),
        f("incident_status", 7, "IncidentStatus"),
        f("alert_group_by_fields", 8, SV, rep=True),
        f("alert_labels", 9, "MetaLabel", rep=True),
        m("incident_permutation", 10, STR),
    ],
    # -- the service's requests and responses ----------------------------------------------------
    "PaginationRequest": [f("page_size", 1, U32V), f("page_token", 2, SV)],
    "PaginationResponse": [f("total_size", 1, U32V), f("next_page_token", 2, SV)],
    "GetIncidentRequest": [f("id", 1, SV)],
    "GetIncidentResponse": [f("incident", 1, "Incident")],
    "BatchGetIncidentRequest": [f("ids", 1, SV, rep=True)],
    "BatchGetIncidentResponse": [
        m("incidents", 1, "Incident"),
        f("not_found_ids", 2, SV, rep=True),
    ],
    "ListIncidentsRequest": [
        f("filter", 4, "IncidentQueryFilter"),
        f("pagination", 5, "PaginationRequest"),
        f("order_bys", 6, "OrderBy", rep=True),
    ],
    "ListIncidentsResponse": [
        f("incidents", 1, "Incident", rep=True),
        f("pagination", 4, "PaginationResponse"),
    ],
    "ListIncidentAggregationsRequest": [
        f("filter", 1, "IncidentQueryFilter"),
        f("group_bys", 2, "GroupBy", rep=True),
        f("pagination", 3, "PaginationRequest"),
    ],
    "ListIncidentAggregationsResponse": [
        f("incident_aggs", 1, "IncidentAggregation", rep=True),
        f("pagination", 2, "PaginationResponse"),
    ],
    "GetFilterValuesRequest": [f("filter", 1, "IncidentQueryFilter")],
    "GetFilterValuesResponse": [f("filters_values", 1, "IncidentQueryFiltersValues")],
    "GetIncidentEventsRequest": [f("incident_id", 1, SV)],
    "GetIncidentEventsResponse": [f("incident_events", 1, "IncidentEvent", rep=True)],
    "AssignIncidentsRequest": [
        f("incident_ids", 5, SV, rep=True),
        f("assigned_to", 2, "UserDetails"),
    ],
    "AssignIncidentsResponse": [f("incidents", 2, "Incident", rep=True)],
    "UnassignIncidentsRequest": [f("incident_ids", 1, SV, rep=True)],
    "UnassignIncidentsResponse": [f("incidents", 1, "Incident", rep=True)],
    "AcknowledgeIncidentsRequest": [f("incident_ids", 2, SV, rep=True)],
    "AcknowledgeIncidentsResponse": [f("incidents", 2, "Incident", rep=True)],
    "CloseIncidentsRequest": [f("incident_ids", 2, SV, rep=True)],
    "CloseIncidentsResponse": [f("incidents", 2, "Incident", rep=True)],
    "ResolveIncidentsRequest": [f("incident_ids", 1, SV, rep=True)],
    "ResolveIncidentsResponse": [f("incidents", 1, "Incident", rep=True)],
    "GetIncidentByEventIdRequest": [f("event_id", 2, SV)],
    "GetIncidentByEventIdResponse": [f("incident", 1, "Incident")],
    "AcknowledgeIncidentByEventIdRequest": [f("event_id", 2, SV)],
    "AcknowledgeIncidentByEventIdResponse": [f("incident", 2, "Incident")],
    "ResolveIncidentByEventIdRequest": [f("event_id", 2, SV)],
    "ResolveIncidentByEventIdResponse": [f("incident", 2, "Incident")],
    "GetIncidentUsingCorrelationKeyRequest": [
        f("correlation_key", 1, SV),
        f("incident_point_in_time", 2, TS),
    ],
    "GetIncidentUsingCorrelationKeyResponse": [f("incident", 1, "Incident")],
    "ListIncidentEventsRequest": [
        f("filter", 1, "IncidentEventQueryFilter"),
        f("pagination", 2, "PaginationRequest"),
        f("order_by", 3, "ListIncidentEventRequestOrderBy"),
    ],
    "ListIncidentEventRequestOrderBy": [
        f("field", 1, "IncidentEventOrderByFieldType"),
        f("direction", 2, "OrderByDirection"),
    ],
    "ListIncidentEventsResponse": [
        f("items", 1, "IncidentEventExtended", rep=True),
        f("pagination", 2, "PaginationResponse"),
    ],
    "ListIncidentEventsTotalCountRequest": [f("filter", 1, "IncidentEventQueryFilter")],
    "ListIncidentEventsTotalCountResponse": [f("count", 1, U64V), f("reached_limit", 2, BV)],
    "ListIncidentEventsFilterValuesRequest": [f("filter", 1, "IncidentEventQueryFilter")],
    "ListIncidentEventsFilterValuesResponse": [
        f("filters_values", 1, "IncidentQueryFiltersValues")
    ],
    "DeleteIncidentRequest": [f("id", 1, SV)],
}


def _enum(prefix: str, *names: str, numbers: tuple[int, ...] | None = None) -> dict[str, int]:
    return {f"{prefix}{n}": i for n, i in zip(names, numbers or range(len(names)), strict=True)}


ENUMS: dict[str, dict[str, int]] = {
    "IncidentState": _enum("INCIDENT_STATE_", "UNSPECIFIED", "TRIGGERED", "RESOLVED"),
    "IncidentStatus": _enum(
        "INCIDENT_STATUS_", "UNSPECIFIED", "TRIGGERED", "ACKNOWLEDGED", "RESOLVED"
    ),
    "IncidentSeverity": _enum(
        "INCIDENT_SEVERITY_", "UNSPECIFIED", "INFO", "WARNING", "ERROR", "CRITICAL", "LOW"
    ),
    "IncidentEventType": _enum(
        "INCIDENT_EVENT_TYPE_",
        "UNSPECIFIED",
        "UPSERT_STATE",
        "OPEN",
        "CLOSE",
        "SNOOZE_INDICATOR",
        "ASSIGN",
        "ACKNOWLEDGE",
        "UNASSIGN",
        numbers=(0, 2, 4, 5, 6, 7, 8, 9),
    ),
    "OriginatorType": _enum("ORIGINATOR_TYPE_", "UNSPECIFIED", "OPERATIONAL", "ADMINISTRATIVE"),
    "UpsertIncidentStateType": _enum(
        "UPSERT_INCIDENT_STATE_TYPE_", "UNSPECIFIED", "TRIGGERED", "RESOLVED"
    ),
    "IncidentEventAlertType": _enum(
        "INCIDENT_EVENT_ALERT_TYPE_",
        "STANDARD_OR_UNSPECIFIED",
        "METRIC",
        "NEW_VALUE",
        "RATIO",
        "TIME_RELATIVE",
        "UNIQUE_COUNT",
        "TRACING",
        "FLOW",
        "SLO",
    ),
    "IncidentFields": _enum(
        "INCIDENTS_FIELDS_",
        "UNSPECIFIED",
        "ID",
        "SEVERITY",
        "NAME",
        "CREATED_TIME",
        "CLOSED_TIME",
        "STATE",
        "STATUS",
        "LAST_STATE_UPDATE_TIME",
        "APPLICATION_NAME",
        "SUBSYSTEM_NAME",
        "DURATION",
    ),
    "OrderByDirection": _enum("ORDER_BY_DIRECTION_", "UNSPECIFIED", "ASC", "DESC"),
    "FilterOperator": _enum("FILTER_OPERATOR_", "OR_OR_UNSPECIFIED", "AND"),
    "IncidentEventOrderByFieldType": _enum(
        "INCIDENT_EVENT_ORDER_BY_FIELD_TYPE_", "TIMESTAMP_OR_UNSPECIFIED"
    ),
    "OrderByFields": _enum(
        "ORDER_BY_FIELDS_", "UNSPECIFIED", "ID", "SEVERITY", "NAME", "CREATED_TIME", "CLOSED_TIME"
    ),
}

# The 17 public RPCs and the internal one; each takes <Rpc>Request and returns <Rpc>Response.
RPCS = [
    "GetIncident",
    "BatchGetIncident",
    "ListIncidents",
    "ListIncidentAggregations",
    "GetFilterValues",
    "AssignIncidents",
    "UnassignIncidents",
    "AcknowledgeIncidents",
    "CloseIncidents",
    "ResolveIncidents",
    "GetIncidentEvents",
    "GetIncidentByEventId",
    "AcknowledgeIncidentByEventId",
    "ResolveIncidentByEventId",
    "ListIncidentEvents",
    "ListIncidentEventsTotalCount",
    "ListIncidentEventsFilterValues",
    "GetIncidentUsingCorrelationKey",
]
