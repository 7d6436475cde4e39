"""The query RPCs end to end, over gRPC and REST: ListIncidents (filters, multi-key ordering,
severity by rank, pages with totalSize), ListIncidentAggregations, GetFilterValues,
ListIncidentEvents with its count and filter values, and the GET query-string forms. Every
REST body is validated against incidents_service.json; other spaces' incidents never show."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from google.protobuf import json_format

from casekeeper.domain.incidents import Incident, IncidentSeverity
from casekeeper.domain.model import KeyValue
from casekeeper.proto.com.coralogixapis.incidents.v1 import incidents_service_pb2 as pb
from tests.api.coralogix.incidents.conftest import Alerts, Grpc, MakeRest, Rest

SEV = IncidentSeverity


@dataclass
class World:
    """Five incidents of one space, oldest first, and one of another space."""

    info: Incident  # INFO, app shop, assigned to ana
    low: Incident  # LOW, app shop, muted, acknowledged
    warning: Incident  # WARNING, app pay, resolved
    error: Incident  # ERROR, app pay, assigned to bob, meta label team=db
    critical: Incident  # CRITICAL, app shop, closed

    @property
    def all(self) -> list[Incident]:
        return [self.info, self.low, self.warning, self.error, self.critical]


@pytest.fixture
def world(alerts: Alerts, rest: Rest, make_rest: MakeRest) -> World:
    def fire(severity: IncidentSeverity, app: str, **extra: Any) -> Incident:
        return alerts.fire(
            severity=severity,
            name=f"{severity.name.lower()} alert",
            display_labels={"coralogix.metadata.applicationName": app},
            contextual_labels={"alert_name": f"{severity.name.lower()} alert", "env": "prod"},
            **extra,
        )

    w = World(
        info=fire(SEV.INFO, "shop"),
        low=fire(SEV.LOW, "shop", is_muted=True),
        warning=fire(SEV.WARNING, "pay"),
        error=fire(SEV.ERROR, "pay", meta_labels=(KeyValue("team", "db"),)),
        critical=fire(SEV.CRITICAL, "shop"),
    )

    def assign(x: Incident, who: str) -> None:
        rest.call("AssignIncidents", json={"incidentIds": [x.id], "assignedTo": {"userId": who}})

    assign(w.info, "ana@example.com")
    assign(w.error, "bob@example.com")
    rest.call("AcknowledgeIncidents", json={"incidentIds": [w.low.id]})
    rest.call("ResolveIncidents", json={"incidentIds": [w.warning.id]})
    rest.call("CloseIncidents", json={"incidentIds": [w.critical.id]})
    theirs = make_rest(space_name="queries-other-space")
    stranger = alerts.container.keys.authenticate(f"Bearer {theirs.key}")
    Alerts(alerts.container, stranger, alerts.make_case).fire(severity=SEV.CRITICAL)
    return w


def _ids(body: dict[str, Any]) -> list[str]:
    return [x["id"] for x in body["incidents"]]


# -- ListIncidents -------------------------------------------------------------------------------


def test_list_incidents_default_order_is_newest_first(rest: Rest, world: World) -> None:
    body = rest.call("ListIncidents", json={})
    assert _ids(body) == [x.id for x in reversed(world.all)]
    assert body["pagination"] == {"totalSize": 5}
    assert all(x["events"] == [] for x in body["incidents"])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": ["INCIDENT_STATUS_TRIGGERED"]}, ["info", "error", "critical"]),
        ({"state": ["INCIDENT_STATE_RESOLVED"]}, ["warning"]),
        ({"severity": ["INCIDENT_SEVERITY_LOW", "INCIDENT_SEVERITY_ERROR"]}, ["low", "error"]),
        ({"assignee": ["ana@example.com", "bob@example.com"]}, ["info", "error"]),
        ({"isMuted": True}, ["low"]),
        ({"applicationName": ["pay"]}, ["warning", "error"]),
        (
            {
                "displayLabels": {
                    "coralogix.metadata.applicationName": {"displayLabelValues": ["shop"]}
                }
            },
            ["info", "low", "critical"],
        ),
        (
            {"contextualLabels": {"alert_name": {"contextualLabelValues": ["low alert"]}}},
            ["low"],
        ),
        ({"metaLabels": [{"key": "team", "value": "db"}]}, ["error"]),
        (
            {"searchQuery": {"query": "WARN", "incidentField": "INCIDENTS_FIELDS_NAME"}},
            ["warning"],
        ),
        (
            {"status": ["INCIDENT_STATUS_TRIGGERED"], "applicationName": ["shop"]},
            ["info", "critical"],
        ),
    ],
)
def test_list_incidents_filters(
    rest: Rest, world: World, query: dict[str, Any], expected: list[str]
) -> None:
    body = rest.call("ListIncidents", json={"filter": query})
    assert sorted(_ids(body)) == sorted(getattr(world, name).id for name in expected)
    assert body["pagination"]["totalSize"] == len(expected)


def test_severity_orders_by_rank_not_by_number(rest: Rest, world: World) -> None:
    order = [{"incidentField": "INCIDENTS_FIELDS_SEVERITY", "direction": "ORDER_BY_DIRECTION_DESC"}]
    body = rest.call("ListIncidents", json={"orderBys": order})
    assert _ids(body) == [world.critical.id, world.error.id, world.warning.id, world.low.id,
                          world.info.id]  # fmt: skip
    order[0]["direction"] = "ORDER_BY_DIRECTION_ASC"
    body = rest.call("ListIncidents", json={"orderBys": order})
    assert _ids(body)[:2] == [world.info.id, world.low.id]  # LOW (5) after INFO, before WARNING


def test_pages_carry_total_size_and_a_token(api: Grpc, world: World) -> None:
    request = pb.ListIncidentsRequest()
    request.pagination.page_size.value = 2
    seen: list[str] = []
    while True:
        page = api.ListIncidents(request)
        assert page.pagination.total_size.value == 5
        seen += [x.id.value for x in page.incidents]
        if not page.pagination.HasField("next_page_token"):
            break
        request.pagination.page_token.value = page.pagination.next_page_token.value
    assert seen == [x.id for x in reversed(world.all)]


def test_grpc_and_rest_answer_alike(api: Grpc, rest: Rest, world: World) -> None:
    request = pb.ListIncidentsRequest()
    request.filter.application_name.add(value="pay")
    over_grpc = json_format.MessageToDict(api.ListIncidents(request))
    over_rest = rest.call("ListIncidents", json={"filter": {"applicationName": ["pay"]}})
    for x in (*over_grpc["incidents"], *over_rest["incidents"]):
        x.pop("duration")  # grows while the incident is open
    assert [x["id"] for x in over_grpc["incidents"]] == _ids(over_rest)
    assert over_grpc["incidents"] == [
        {k: v for k, v in x.items() if v not in ([], {})} for x in over_rest["incidents"]
    ]


def test_a_page_size_out_of_bounds_is_400(rest: Rest) -> None:
    message = rest.error("ListIncidents", 400, json={"pagination": {"pageSize": 10_001}})
    assert message.startswith("pagination.pageSize")
    message = rest.error("ListIncidentEvents", 400, params={"pagination.pageSize": "1001"})
    assert message.startswith("pagination.pageSize")


# -- aggregations and filter values ----------------------------------------------------------------


@pytest.mark.parametrize("family", ["spec", "proto", "alt"])
def test_list_incident_aggregations(rest: Rest, world: World, family: str) -> None:
    group_bys = [{"incidentField": "INCIDENTS_FIELDS_STATUS"}]
    kw: dict[str, Any] = (
        {"json": {"groupBys": group_bys}}
        if family == "alt"
        else {"params": {"group_bys": json.dumps(group_bys)}}
    )
    body = rest.call("ListIncidentAggregations", family=family, **kw)
    groups = {g["groupBysValue"][0]["incidentField"]["status"]: g for g in body["incidentAggs"]}
    assert set(groups) == {
        "INCIDENT_STATUS_TRIGGERED",
        "INCIDENT_STATUS_ACKNOWLEDGED",
        "INCIDENT_STATUS_RESOLVED",
    }
    triggered = groups["INCIDENT_STATUS_TRIGGERED"]
    assert triggered["allValuesCount"] == 3
    assert sorted(triggered["listIncidentsId"]) == sorted(
        [world.info.id, world.error.id, world.critical.id]
    )
    assert body["pagination"]["totalSize"] == 3
    assert rest.error("ListIncidentAggregations", 400).startswith("groupBys")


@pytest.mark.parametrize("family", ["spec", "proto", "alt"])
def test_get_filter_values(rest: Rest, world: World, family: str) -> None:
    body = rest.call("GetFilterValues", family=family, json={})["filtersValues"]
    statuses = {x["status"]: x["count"] for x in body["statusWithCount"]}
    assert statuses == {
        "INCIDENT_STATUS_TRIGGERED": 3,
        "INCIDENT_STATUS_ACKNOWLEDGED": 1,
        "INCIDENT_STATUS_RESOLVED": 1,
    }
    assignees = {x["assignee"]: x["count"] for x in body["assigneeWithCount"]}
    assert assignees == {"ana@example.com": 1, "bob@example.com": 1}
    apps = body["displayLabels"]["coralogix.metadata.applicationName"]["valuesWithCount"]
    assert {x["displayLabelValue"]: x["count"] for x in apps} == {"shop": 3, "pay": 2}
    assert body["metaLabelsOp"] == "FILTER_OPERATOR_OR_OR_UNSPECIFIED"


# -- incident events ------------------------------------------------------------------------------


@pytest.mark.parametrize("family", ["spec", "proto", "alt"])
def test_list_incident_events(rest: Rest, world: World, family: str) -> None:
    flt = {"severity": ["INCIDENT_SEVERITY_ERROR"]}
    kw: dict[str, Any] = (
        {"json": {"filter": flt, "pagination": {"pageSize": 2}}}
        if family == "alt"
        else {"params": {"filter": json.dumps(flt), "pagination.pageSize": "2"}}
    )
    body = rest.call("ListIncidentEvents", family=family, **kw)
    items = body["items"]
    assert len(items) == 2
    assert body["pagination"]["totalSize"] == 3  # open, trigger, assign
    newest = items[0]
    assert newest["incidentEvent"]["incidentEventType"] == "INCIDENT_EVENT_TYPE_ASSIGN"
    meta = newest["incidentEventExtendedMetadata"]
    assert meta["incidentSeverity"] == "INCIDENT_SEVERITY_ERROR"
    assert meta["alertName"] == "error alert"
    assert meta["alertLabels"] == [{"key": "team", "value": "db"}]
    assert meta["incidentPermutation"] == {"service": "checkout"}
    assert newest["cxEventKey"] == world.error.last_state_update_key


def test_list_incident_events_ascending_and_exploded(rest: Rest, world: World) -> None:
    body = rest.call(
        "ListIncidentEvents",
        params={"severity": "INCIDENT_SEVERITY_CRITICAL", "direction": "ORDER_BY_DIRECTION_ASC"},
    )
    kinds = [x["incidentEvent"]["incidentEventType"] for x in body["items"]]
    assert kinds == [
        "INCIDENT_EVENT_TYPE_OPEN",
        "INCIDENT_EVENT_TYPE_UPSERT_STATE",
        "INCIDENT_EVENT_TYPE_CLOSE",
    ]


@pytest.mark.parametrize("family", ["spec", "proto", "alt"])
def test_list_incident_events_total_count(rest: Rest, world: World, family: str) -> None:
    flt = {"status": ["INCIDENT_STATUS_ACKNOWLEDGED"]}
    kw: dict[str, Any] = (
        {"json": {"filter": flt}} if family == "alt" else {"params": {"filter": json.dumps(flt)}}
    )
    body = rest.call("ListIncidentEventsTotalCount", family=family, **kw)
    assert body == {"count": "1", "reachedLimit": False}  # the acknowledgement's snapshot


@pytest.mark.parametrize("family", ["spec", "proto", "alt"])
def test_list_incident_events_filter_values(rest: Rest, world: World, family: str) -> None:
    kw: dict[str, Any] = {"json": {}} if family == "alt" else {}
    body = rest.call("ListIncidentEventsFilterValues", family=family, **kw)["filtersValues"]
    severities = {x["severity"]: x["count"] for x in body["severityWithCount"]}
    assert set(severities) == {
        "INCIDENT_SEVERITY_INFO",
        "INCIDENT_SEVERITY_LOW",
        "INCIDENT_SEVERITY_WARNING",
        "INCIDENT_SEVERITY_ERROR",
        "INCIDENT_SEVERITY_CRITICAL",
    }
