"""Every REST route of the Incidents API, in the three path families (API_DIGEST §1.5): the
public OpenAPI spec's paths ([S]), the public protos' primary HTTP bindings ([P]) and their
``/v1/incidents:<verb>`` additional bindings ([alt]). Each RPC is served by all three; where
two families share a path it is listed once. Every route answers the RPC's response message as
JSON (``Render.MESSAGE``), and is also served under ``/mgmt/openapi[/{version}]``.

The mount orders paths so that a literal segment wins over a parameter in the same place
(``/incidents/incidents/v1/batch`` before ``/incidents/incidents/v1/{id}``).
"""

from __future__ import annotations

from casekeeper.api.coralogix.permissions import INCIDENTS
from casekeeper.api.coralogix.rest.routes import Body, Render, RouteSpec


def _r(method: str, path: str, rpc: str, body: Body) -> RouteSpec:
    return RouteSpec(method, path, INCIDENTS, rpc, body, Render.MESSAGE)


B = Body
V1 = "/incidents/incidents/v1"

# The spec's paths: what the reference document describes (and the conformance tests check).
SPEC_ROUTES: tuple[RouteSpec, ...] = (
    _r("GET", V1 + "/{id}", "GetIncident", B.NONE),
    _r("GET", V1, "BatchGetIncident", B.QUERY),
    _r("POST", V1, "ListIncidents", B.JSON),
    _r("GET", "/incidents/aggregations/v1", "ListIncidentAggregations", B.QUERY),
    _r("POST", "/incidents/filter-values/v1", "GetFilterValues", B.JSON),
    _r("POST", V1 + "/all/by-user", "AssignIncidents", B.JSON),
    _r("DELETE", V1 + "/all/by-user", "UnassignIncidents", B.QUERY),
    _r("POST", V1 + "/all/acknowledge", "AcknowledgeIncidents", B.JSON),
    _r("POST", V1 + "/all/closed", "CloseIncidents", B.JSON),
    _r("POST", V1 + "/all/resolve", "ResolveIncidents", B.JSON),
    _r("GET", V1 + "/{incident_id}/events", "GetIncidentEvents", B.NONE),
    _r("GET", "/incidents/events/v1/{event_id}", "GetIncidentByEventId", B.NONE),
    _r("POST", "/incidents/events/v1/{event_id}/acknowledge", "AcknowledgeIncidentByEventId",
       B.OPTIONAL_JSON),
    _r("POST", "/incidents/events/v1/{event_id}/resolve", "ResolveIncidentByEventId",
       B.OPTIONAL_JSON),
    _r("GET", "/incidents/events/v1", "ListIncidentEvents", B.QUERY),
    _r("GET", "/incidents/events/v1/all/count", "ListIncidentEventsTotalCount", B.QUERY),
    _r("GET", "/incidents/filter-values/v1/events", "ListIncidentEventsFilterValues", B.QUERY),
)  # fmt: skip

# The protos' primary bindings where they differ from the spec's (GetIncident, ListIncidents
# and GetIncidentEvents agree). The seed's ``POST .../v1/by-user`` is one of them.
PROTO_ROUTES: tuple[RouteSpec, ...] = (
    _r("GET", V1 + "/batch", "BatchGetIncident", B.QUERY),
    _r("GET", V1 + "/aggregations", "ListIncidentAggregations", B.QUERY),
    _r("POST", V1 + "/filter-values", "GetFilterValues", B.JSON),
    _r("POST", V1 + "/by-user", "AssignIncidents", B.JSON),
    _r("DELETE", V1 + "/by-user", "UnassignIncidents", B.QUERY),
    _r("POST", V1 + "/acknowledge", "AcknowledgeIncidents", B.JSON),
    _r("POST", V1 + "/close", "CloseIncidents", B.JSON),
    _r("POST", V1 + "/resolve", "ResolveIncidents", B.JSON),
    _r("GET", V1 + "/events/{event_id}", "GetIncidentByEventId", B.NONE),
    _r("POST", V1 + "/events/{event_id}/acknowledge", "AcknowledgeIncidentByEventId",
       B.OPTIONAL_JSON),
    _r("POST", V1 + "/events/{event_id}/resolve", "ResolveIncidentByEventId", B.OPTIONAL_JSON),
    _r("GET", V1 + "/events", "ListIncidentEvents", B.QUERY),
    _r("GET", V1 + "/events/count", "ListIncidentEventsTotalCount", B.QUERY),
    _r("GET", V1 + "/events/filter-values", "ListIncidentEventsFilterValues", B.QUERY),
)  # fmt: skip

# The protos' additional bindings: the request as the body (``body: "*"``), or by path.
ALT_ROUTES: tuple[RouteSpec, ...] = (
    _r("GET", "/v1/incidents/{id}", "GetIncident", B.NONE),
    _r("POST", "/v1/incidents:batchGet", "BatchGetIncident", B.JSON),
    _r("POST", "/v1/incidents", "ListIncidents", B.JSON),
    _r("POST", "/v1/incidents:listIncidentAggregations", "ListIncidentAggregations", B.JSON),
    _r("POST", "/v1/incidents:get-filter-values", "GetFilterValues", B.JSON),
    _r("POST", "/v1/incidents:assign", "AssignIncidents", B.JSON),
    _r("POST", "/v1/incidents:unassign", "UnassignIncidents", B.JSON),
    _r("POST", "/v1/incidents:acknowledge", "AcknowledgeIncidents", B.JSON),
    _r("POST", "/v1/incidents:close", "CloseIncidents", B.JSON),
    _r("POST", "/v1/incidents:resolve", "ResolveIncidents", B.JSON),
    _r("GET", "/v1/incidents/{incident_id}/events", "GetIncidentEvents", B.NONE),
    _r("GET", "/v1/incidents/by:event/{event_id}", "GetIncidentByEventId", B.NONE),
    _r("POST", "/v1/by:event/incidents:acknowledge/{event_id}", "AcknowledgeIncidentByEventId",
       B.OPTIONAL_JSON),
    _r("POST", "/v1/by:event/incidents:resolve/{event_id}", "ResolveIncidentByEventId",
       B.OPTIONAL_JSON),
    _r("POST", "/v1/incidents:list-incident-events", "ListIncidentEvents", B.JSON),
    _r("POST", "/v1/incidents:list-incident-events-total-count", "ListIncidentEventsTotalCount",
       B.JSON),
    _r("POST", "/v1/incidents:list-incident-events-filter-values",
       "ListIncidentEventsFilterValues", B.JSON),
)  # fmt: skip

INCIDENT_ROUTES: tuple[RouteSpec, ...] = SPEC_ROUTES + PROTO_ROUTES + ALT_ROUTES
