"""Every REST route of the Coralogix Cases and Case Events specs: verb, path, operation, how the
request is built and how the result is rendered. One generic handler serves them all, and the
Incidents routes (``incident_routes.INCIDENT_ROUTES``, in three path families) too."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from casekeeper.api.coralogix.permissions import CASES, EVENTS


class Body(Enum):
    NONE = "none"  # no request body (path parameters only)
    JSON = "json"  # the body holds the request's fields
    PATCH = "patch"  # the body is the request's ``patch`` (UpdateCase)
    QUERY_IDS = "query_ids"  # ``ids`` in the query string (?ids=a&ids=b or ?ids=a,b)
    OPTIONAL_JSON = "optional_json"  # a body may be sent (e.g. ResolveCase's reason)
    QUERY = "query"  # the request's fields in the query string (querystring.py)


class Render(Enum):
    CASE = "case"
    CASES = "cases"  # bulk: {"cases": [...]} + failures header
    PAGE = "page"
    FILTER_VALUES = "filter_values"
    GROUPING_KEYS = "grouping_keys"
    DEEP_LINKS = "deep_links"
    EVENTS = "events"
    EVENT = "event"
    EMPTY = "empty"
    SYNC = "sync"
    MESSAGE = "message"  # the operation returns its response message: its JSON, as gRPC's


@dataclass(frozen=True, slots=True)
class RouteSpec:
    method: str
    path: str
    service: str
    rpc: str
    body: Body
    render: Render

    @property
    def operation(self) -> str:
        return self.service + self.rpc


R = RouteSpec
B = Body
V = Render

ROUTES: tuple[RouteSpec, ...] = (
    R("GET", "/cases/cases/v1/{id}", CASES, "GetCase", B.NONE, V.CASE),
    R("POST", "/cases/cases/v1", CASES, "ListCases", B.JSON, V.PAGE),
    R("PUT", "/cases/cases/v1/{id}", CASES, "UpdateCase", B.PATCH, V.CASE),
    R("PUT", "/cases/priority-override/v1/{id}", CASES, "SetPriorityOverride", B.JSON, V.CASE),
    R("DELETE", "/cases/priority-override/v1/{id}", CASES, "ClearPriorityOverride", B.NONE, V.CASE),
    R("POST", "/cases/assigned/v1/{id}", CASES, "AssignCase", B.JSON, V.CASE),
    R("DELETE", "/cases/assigned/v1/{id}", CASES, "UnassignCase", B.NONE, V.CASE),
    R("PUT", "/cases/acknowledged/v1/{id}", CASES, "AcknowledgeCase", B.OPTIONAL_JSON, V.CASE),
    R("DELETE", "/cases/acknowledged/v1/{id}", CASES, "UnacknowledgeCase", B.NONE, V.CASE),
    R("PUT", "/cases/resolved/v1/{id}", CASES, "ResolveCase", B.OPTIONAL_JSON, V.CASE),
    R("POST", "/cases/closed/v1/{id}", CASES, "CloseCase", B.NONE, V.CASE),
    R("PUT", "/cases/assigned/v1", CASES, "BulkAssign", B.JSON, V.CASES),
    R("DELETE", "/cases/assigned/v1", CASES, "BulkUnassign", B.QUERY_IDS, V.CASES),
    R("POST", "/cases/acknowledged/v1", CASES, "BulkAcknowledge", B.JSON, V.CASES),
    R("POST", "/cases/resolved/v1", CASES, "BulkResolve", B.JSON, V.CASES),
    R("POST", "/cases/closed/v1", CASES, "BulkClose", B.JSON, V.CASES),
    R("POST", "/cases/priority-override/v1", CASES, "BulkSetPriorityOverride", B.JSON, V.CASES),
    R("DELETE", "/cases/priority-override/v1", CASES, "BulkClearPriorityOverride", B.QUERY_IDS,
      V.CASES),
    R("POST", "/cases/filter-values/v1", CASES, "GetFilterValues", B.JSON, V.FILTER_VALUES),
    R("GET", "/cases/grouping-keys/v1", CASES, "GetGroupingKeys", B.NONE, V.GROUPING_KEYS),
    R("GET", "/cases/cases/v1/{case_id}/deep-links", CASES, "GetCaseDeepLinks", B.NONE,
      V.DEEP_LINKS),
    R("POST", "/cases/indicators/v1/get", CASES, "GetCaseByIndicator", B.JSON, V.CASE),
    R("GET", "/cases/cases/v1/{case_id}/events", EVENTS, "ListEvents", B.NONE, V.EVENTS),
    R("GET", "/cases/events/v1/{event_id}", EVENTS, "GetEvent", B.NONE, V.EVENT),
    R("POST", "/cases/cases/v1/{case_id}/comments", EVENTS, "CreateComment", B.JSON, V.EVENT),
    R("PUT", "/cases/events/v1/{event_id}/comments", EVENTS, "UpdateComment", B.JSON, V.EVENT),
    R("DELETE", "/cases/events/v1/{event_id}/comments", EVENTS, "DeleteComment", B.NONE, V.EMPTY),
    R("POST", "/cases/cases/v1/{case_id}/sync-external-thread-comments", EVENTS,
      "SyncExternalCaseEvents", B.OPTIONAL_JSON, V.SYNC),
)  # fmt: skip
