"""Every IncidentsService RPC as one function of (container, principal, request message) that
returns the response message. The gRPC servicer sends it; the REST routes render it as JSON.

The service authorizes, validates and names fields in canonical words; the errors reach the
caller with the API's names for them (``incidentIds``, ``assignedTo.userId``, ``filter.*``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from casekeeper.api.coralogix.convert import micros_of
from casekeeper.api.coralogix.incidents import convert as out
from casekeeper.api.coralogix.incidents import query as q
from casekeeper.bootstrap import Container
from casekeeper.domain.errors import CasekeeperError, invalid
from casekeeper.domain.incident_query import DEFAULT_ORDER, IncidentFilterValues
from casekeeper.domain.incidents import Incident
from casekeeper.proto.com.coralogixapis.incidents.v1 import incident_query_pb2 as q_pb
from casekeeper.proto.com.coralogixapis.incidents.v1 import incidents_service_pb2 as pb
from casekeeper.service.auth import Principal

# Canonical field → the API's name for it, in the errors the service raises.
_FIELDS = {
    "incident_ids": "incidentIds",
    "assigned_to.user_id": "assignedTo.userId",
    "pagination.page_size": "pagination.pageSize",
    "pagination.page_token": "pagination.pageToken",
    "page.size": "pagination.pageSize",
    "page.token": "pagination.pageToken",
    "order_bys": "orderBys",
    "group_bys": "groupBys",
    "correlation_key": "correlationKey",
    "assignee": "filter.assignee",
    "status": "filter.status",
    "state": "filter.state",
    "severity": "filter.severity",
    "application_name": "filter.applicationName",
    "subsystem_name": "filter.subsystemName",
    "meta_labels": "filter.metaLabels",
    "contextual_labels": "filter.contextualLabels",
    "display_labels": "filter.displayLabels",
    "created_at_range": "filter.createdAtRange",
    "duration": "filter.incidentDurationRange",
    "search_query.query": "filter.searchQuery.query",
    "search_query": "filter.searchQuery.incidentField",
}

F = TypeVar("F", bound=Callable[..., Any])
R = TypeVar("R")


def _worded(fn: F) -> F:
    """An operation whose service errors name fields as the Incidents API does."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except CasekeeperError as err:
            raise err.rename(_FIELDS) from None

    return cast(F, run)


def _ids(items: Any) -> list[str]:
    return [w.value for w in items]


def _now(c: Container) -> int:
    return c.incidents.clock()


def _one(c: Container, p: Principal, x: Incident, response: R) -> R:
    """``response`` with ``x`` and its events (a single incident's read shows its history)."""
    events = c.incidents.events(p, x.id)
    out.incident_to_pb(x, _now(c), cast(Any, response).incident, events)
    return response


def _changed(c: Container, incidents: list[Incident], response: R) -> R:
    out.incidents_to_pb(incidents, _now(c), cast(Any, response).incidents)
    return response


def _filter_values(fv: IncidentFilterValues, response: R) -> R:
    out.filter_values_to_pb(fv, cast(Any, response).filters_values)
    return response


@_worded
def get_incident(c: Container, p: Principal, r: pb.GetIncidentRequest) -> pb.GetIncidentResponse:
    return _one(c, p, c.incidents.get(p, r.id.value), pb.GetIncidentResponse())


@_worded
def batch_get_incident(
    c: Container, p: Principal, r: pb.BatchGetIncidentRequest
) -> pb.BatchGetIncidentResponse:
    found, missing = c.incidents.batch_get(p, _ids(r.ids))
    response, now = pb.BatchGetIncidentResponse(), _now(c)
    for incident_id, x in found.items():
        out.incident_to_pb(x, now, response.incidents[incident_id])
    for incident_id in missing:
        response.not_found_ids.add(value=incident_id)
    return response


@_worded
def list_incidents(
    c: Container, p: Principal, r: pb.ListIncidentsRequest
) -> pb.ListIncidentsResponse:
    order = q.order(r.order_bys) or DEFAULT_ORDER
    found = c.incidents.list_incidents(p, q.incident_filter(r.filter), order, q.page(r.pagination))
    response = pb.ListIncidentsResponse()
    out.incidents_to_pb(found.incidents, _now(c), response.incidents)
    out.page_to_pb(found.total_size, found.next_token, response.pagination)
    return response


@_worded
def list_incident_aggregations(
    c: Container, p: Principal, r: pb.ListIncidentAggregationsRequest
) -> pb.ListIncidentAggregationsResponse:
    found = c.incidents.aggregations(
        p, q.incident_filter(r.filter), q.group_by(r.group_bys), q.page(r.pagination)
    )
    response = pb.ListIncidentAggregationsResponse()
    for agg in found.groups:
        out.aggregation_to_pb(agg, response.incident_aggs.add())
    out.page_to_pb(found.total_size, found.next_token, response.pagination)
    return response


@_worded
def get_filter_values(
    c: Container, p: Principal, r: pb.GetFilterValuesRequest
) -> pb.GetFilterValuesResponse:
    fv = c.incidents.filter_values(p, q.incident_filter(r.filter))
    return _filter_values(fv, pb.GetFilterValuesResponse())


@_worded
def assign_incidents(
    c: Container, p: Principal, r: pb.AssignIncidentsRequest
) -> pb.AssignIncidentsResponse:
    done = c.incidents.assign(p, _ids(r.incident_ids), r.assigned_to.user_id.value)
    return _changed(c, done, pb.AssignIncidentsResponse())


@_worded
def unassign_incidents(
    c: Container, p: Principal, r: pb.UnassignIncidentsRequest
) -> pb.UnassignIncidentsResponse:
    done = c.incidents.unassign(p, _ids(r.incident_ids))
    return _changed(c, done, pb.UnassignIncidentsResponse())


@_worded
def acknowledge_incidents(
    c: Container, p: Principal, r: pb.AcknowledgeIncidentsRequest
) -> pb.AcknowledgeIncidentsResponse:
    done = c.incidents.acknowledge(p, _ids(r.incident_ids))
    return _changed(c, done, pb.AcknowledgeIncidentsResponse())


@_worded
def close_incidents(
    c: Container, p: Principal, r: pb.CloseIncidentsRequest
) -> pb.CloseIncidentsResponse:
    done = c.incidents.close(p, _ids(r.incident_ids))
    return _changed(c, done, pb.CloseIncidentsResponse())


@_worded
def resolve_incidents(
    c: Container, p: Principal, r: pb.ResolveIncidentsRequest
) -> pb.ResolveIncidentsResponse:
    done = c.incidents.resolve(p, _ids(r.incident_ids))
    return _changed(c, done, pb.ResolveIncidentsResponse())


@_worded
def get_incident_events(
    c: Container, p: Principal, r: pb.GetIncidentEventsRequest
) -> pb.GetIncidentEventsResponse:
    response = pb.GetIncidentEventsResponse()
    for e in c.incidents.events(p, r.incident_id.value):
        out.event_to_pb(e, response.incident_events.add())
    return response


@_worded
def get_incident_by_event_id(
    c: Container, p: Principal, r: pb.GetIncidentByEventIdRequest
) -> pb.GetIncidentByEventIdResponse:
    x = c.incidents.by_event_key(p, r.event_id.value)
    return _one(c, p, x, pb.GetIncidentByEventIdResponse())


@_worded
def acknowledge_incident_by_event_id(
    c: Container, p: Principal, r: pb.AcknowledgeIncidentByEventIdRequest
) -> pb.AcknowledgeIncidentByEventIdResponse:
    x = c.incidents.acknowledge_by_event(p, r.event_id.value)
    response = pb.AcknowledgeIncidentByEventIdResponse()
    out.incident_to_pb(x, _now(c), response.incident)
    return response


@_worded
def resolve_incident_by_event_id(
    c: Container, p: Principal, r: pb.ResolveIncidentByEventIdRequest
) -> pb.ResolveIncidentByEventIdResponse:
    x = c.incidents.resolve_by_event(p, r.event_id.value)
    response = pb.ResolveIncidentByEventIdResponse()
    out.incident_to_pb(x, _now(c), response.incident)
    return response


def _events_order(r: pb.ListIncidentEventsRequest) -> bool:
    """Whether events come newest first (the default; the only field is their time)."""
    if r.order_by.field != q_pb.INCIDENT_EVENT_ORDER_BY_FIELD_TYPE_TIMESTAMP_OR_UNSPECIFIED:
        raise invalid(f"unknown value {r.order_by.field}", field="orderBy.field")
    return q.descending(r.order_by.direction, "orderBy.direction")


@_worded
def list_incident_events(
    c: Container, p: Principal, r: pb.ListIncidentEventsRequest
) -> pb.ListIncidentEventsResponse:
    found = c.incidents.list_events(
        p, q.event_filter(r.filter), q.page(r.pagination), descending=_events_order(r)
    )
    response = pb.ListIncidentEventsResponse()
    for item in found.items:
        out.extended_to_pb(item, response.items.add())
    out.page_to_pb(found.total_size, found.next_token, response.pagination)
    return response


@_worded
def list_incident_events_total_count(
    c: Container, p: Principal, r: pb.ListIncidentEventsTotalCountRequest
) -> pb.ListIncidentEventsTotalCountResponse:
    count, reached = c.incidents.count_events(p, q.event_filter(r.filter))
    response = pb.ListIncidentEventsTotalCountResponse()
    response.count.value = count
    response.reached_limit.value = reached
    return response


@_worded
def list_incident_events_filter_values(
    c: Container, p: Principal, r: pb.ListIncidentEventsFilterValuesRequest
) -> pb.ListIncidentEventsFilterValuesResponse:
    fv = c.incidents.event_filter_values(p, q.event_filter(r.filter))
    response = pb.ListIncidentEventsFilterValuesResponse()
    return _filter_values(fv, response)


@_worded
def get_incident_using_correlation_key(
    c: Container, p: Principal, r: pb.GetIncidentUsingCorrelationKeyRequest
) -> pb.GetIncidentUsingCorrelationKeyResponse:
    when = (
        micros_of(r.incident_point_in_time, "incidentPointInTime")
        if r.HasField("incident_point_in_time")
        else _now(c)
    )
    x = c.incidents.at_correlation(p, r.correlation_key.value, when)
    response = pb.GetIncidentUsingCorrelationKeyResponse()
    out.incident_to_pb(x, _now(c), response.incident)
    return response


Run = Callable[[Container, Principal, Any], Any]

# RPC name → (request message type, implementation). gRPC and REST dispatch through it.
INCIDENTS_OPERATIONS: dict[str, tuple[type[Any], Run]] = {
    "GetIncident": (pb.GetIncidentRequest, get_incident),
    "BatchGetIncident": (pb.BatchGetIncidentRequest, batch_get_incident),
    "ListIncidents": (pb.ListIncidentsRequest, list_incidents),
    "ListIncidentAggregations": (
        pb.ListIncidentAggregationsRequest,
        list_incident_aggregations,
    ),
    "GetFilterValues": (pb.GetFilterValuesRequest, get_filter_values),
    "AssignIncidents": (pb.AssignIncidentsRequest, assign_incidents),
    "UnassignIncidents": (pb.UnassignIncidentsRequest, unassign_incidents),
    "AcknowledgeIncidents": (pb.AcknowledgeIncidentsRequest, acknowledge_incidents),
    "CloseIncidents": (pb.CloseIncidentsRequest, close_incidents),
    "ResolveIncidents": (pb.ResolveIncidentsRequest, resolve_incidents),
    "GetIncidentEvents": (pb.GetIncidentEventsRequest, get_incident_events),
    "GetIncidentByEventId": (pb.GetIncidentByEventIdRequest, get_incident_by_event_id),
    "AcknowledgeIncidentByEventId": (
        pb.AcknowledgeIncidentByEventIdRequest,
        acknowledge_incident_by_event_id,
    ),
    "ResolveIncidentByEventId": (
        pb.ResolveIncidentByEventIdRequest,
        resolve_incident_by_event_id,
    ),
    "ListIncidentEvents": (pb.ListIncidentEventsRequest, list_incident_events),
    "ListIncidentEventsTotalCount": (
        pb.ListIncidentEventsTotalCountRequest,
        list_incident_events_total_count,
    ),
    "ListIncidentEventsFilterValues": (
        pb.ListIncidentEventsFilterValuesRequest,
        list_incident_events_filter_values,
    ),
    "GetIncidentUsingCorrelationKey": (
        pb.GetIncidentUsingCorrelationKeyRequest,
        get_incident_using_correlation_key,
    ),
}
