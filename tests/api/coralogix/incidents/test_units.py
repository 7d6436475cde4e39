"""The Incidents dialect's parts without servers: query-string decoding, the gateway prefix,
route order, domain → message conversions, and the OpenAPI document's incidents operations."""

from __future__ import annotations

import re
from typing import Any

import pytest

from casekeeper.api.coralogix.incidents import convert
from casekeeper.api.coralogix.incidents import query as q
from casekeeper.api.coralogix.rest import mount
from casekeeper.api.coralogix.rest.incident_routes import (
    ALT_ROUTES,
    INCIDENT_ROUTES,
    PROTO_ROUTES,
    SPEC_ROUTES,
)
from casekeeper.api.coralogix.rest.openapi import openapi_document
from casekeeper.api.coralogix.rest.querystring import query_to_json
from casekeeper.api.coralogix.rest.render import NEVER_CLOSED, message_json
from casekeeper.api.http.middleware import strip_prefix
from casekeeper.bootstrap import Container
from casekeeper.domain import incidents as i
from casekeeper.domain.errors import CasekeeperError
from casekeeper.domain.incident_query import (
    Aggregation,
    EventItem,
    GroupKey,
    GroupValue,
    IncidentField,
    IncidentFilterValues,
)
from casekeeper.domain.incidents import (
    AlertType,
    Incident,
    IncidentEvent,
    IncidentSeverity,
    IncidentState,
    IncidentStatus,
    Originator,
    correlation_key,
)
from casekeeper.domain.model import KeyValue
from casekeeper.proto.com.coralogixapis.incidents.v1 import incident_event_pb2 as ev_pb
from casekeeper.proto.com.coralogixapis.incidents.v1 import incident_pb2 as inc_pb
from casekeeper.proto.com.coralogixapis.incidents.v1 import incidents_service_pb2 as pb
from tests.api.coralogix.incidents.conftest import IncidentsReference

EVENTS = pb.ListIncidentEventsRequest.DESCRIPTOR
AGGS = pb.ListIncidentAggregationsRequest.DESCRIPTOR
BATCH = pb.BatchGetIncidentRequest.DESCRIPTOR
ID = "0190f5b2-6f0e-7a3c-8b1d-2e3f4a5b6c7d"


# -- the query string ---------------------------------------------------------------------------


def test_dotted_paths_in_either_spelling_and_repeated_keys() -> None:
    pairs = [
        ("filter.status", "INCIDENT_STATUS_TRIGGERED"),
        ("filter.status", "2"),
        ("filter.is_muted", "false"),
        ("pagination.pageSize", "50"),
        ("pagination.page_token", "abc"),
        ("order_by.direction", "ORDER_BY_DIRECTION_ASC"),
    ]
    assert query_to_json(pairs, EVENTS) == {
        "filter": {"status": ["INCIDENT_STATUS_TRIGGERED", 2], "isMuted": False},
        "pagination": {"pageSize": 50, "pageToken": "abc"},
        "orderBy": {"direction": "ORDER_BY_DIRECTION_ASC"},
    }


def test_json_values_for_messages_maps_and_lists_of_messages() -> None:
    pairs = [
        ("filter", '{"contextualLabels": {"env": {"contextualLabelValues": ["prod"]}}}'),
        ("filter.severity", "INCIDENT_SEVERITY_LOW"),
        ("group_bys", '[{"incidentField": "INCIDENTS_FIELDS_SEVERITY"}]'),
        ("group_bys", '{"contextualLabel": "env"}'),
    ]
    got = query_to_json(pairs, AGGS)
    assert got["filter"] == {
        "contextualLabels": {"env": {"contextualLabelValues": ["prod"]}},
        "severity": ["INCIDENT_SEVERITY_LOW"],
    }
    assert got["groupBys"] == [
        {"incidentField": "INCIDENTS_FIELDS_SEVERITY"},
        {"contextualLabel": "env"},
    ]


def test_exploded_form_objects_name_fields_of_one_parameter() -> None:
    """How clients generated from the spec send ``filter`` and ``pagination`` (style form)."""
    pairs = [("status", "INCIDENT_STATUS_RESOLVED"), ("pageSize", "10"), ("name", "cpu")]
    assert query_to_json(pairs, EVENTS) == {
        "filter": {"status": ["INCIDENT_STATUS_RESOLVED"], "name": "cpu"},
        "pagination": {"pageSize": 10},
    }


def test_id_lists_take_commas_and_unknown_keys_are_ignored() -> None:
    pairs = [("ids", f"{ID}, {ID.upper()}"), ("ids", ID), ("nonsense", "1"), ("ids", " ")]
    assert query_to_json(pairs, BATCH) == {"ids": [ID, ID.upper(), ID]}


@pytest.mark.parametrize(
    ("pairs", "field"),
    [
        ([("filter", "{nope")], "filter"),
        ([("filter.isMuted", "sometimes")], "filter.isMuted"),
        ([("filter.name", "a"), ("filter.name", "b")], "filter.name"),
        ([("pagination", "{}"), ("pagination", "{}")], "pagination"),
    ],
)
def test_query_mistakes_name_the_parameter(pairs: list[tuple[str, str]], field: str) -> None:
    with pytest.raises(CasekeeperError) as err:
        query_to_json(pairs, EVENTS)
    assert err.value.field == field


# -- the gateway prefix and the route table -----------------------------------------------------

SERVED = re.compile(r"^/(cases|incidents|v1/incidents[^/]*|v1/by:event)(/|$)")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/mgmt/openapi/incidents/incidents/v1/by-user", "/incidents/incidents/v1/by-user"),
        ("/mgmt/openapi/latest/incidents/incidents/v1", "/incidents/incidents/v1"),
        ("/mgmt/openapi/5/incidents/events/v1/e1", "/incidents/events/v1/e1"),
        ("/mgmt/openapi/v1/incidents:assign", "/v1/incidents:assign"),
        ("/mgmt/openapi/latest/v1/incidents:assign", "/v1/incidents:assign"),
        ("/mgmt/openapi/v1/by:event/incidents:resolve/k", "/v1/by:event/incidents:resolve/k"),
        ("/mgmt/openapi/cases/cases/v1/CASE-1", "/cases/cases/v1/CASE-1"),
        ("/mgmt/openapi/latest/cases/cases/v1/CASE-1", "/cases/cases/v1/CASE-1"),
        ("/mgmt/openapi/latest", "/latest"),
        ("/incidents/incidents/v1", "/incidents/incidents/v1"),
    ],
)
def test_the_gateway_prefix_and_its_version_are_stripped(path: str, expected: str) -> None:
    assert strip_prefix(path, lambda p: bool(SERVED.match(p))) == expected


def test_every_route_lies_under_a_prefix_of_the_mount() -> None:
    for route in INCIDENT_ROUTES:
        assert any(route.path == p or route.path.startswith(p + "/") for p in mount.PREFIXES), (
            route.path
        )


def test_literal_segments_are_tried_before_parameters(container: Container) -> None:
    order = [getattr(r, "path", "") for r in mount.routes(container)]
    position = {path: n for n, path in enumerate(order)}
    for literal, param in [
        ("/incidents/incidents/v1/batch", "/incidents/incidents/v1/{id}"),
        ("/incidents/incidents/v1/aggregations", "/incidents/incidents/v1/{id}"),
        ("/incidents/incidents/v1/events", "/incidents/incidents/v1/{id}"),
        ("/incidents/incidents/v1/by-user", "/incidents/incidents/v1/{id}"),
        ("/incidents/incidents/v1/events/count", "/incidents/incidents/v1/events/{event_id}"),
        ("/incidents/incidents/v1/events/count", "/incidents/incidents/v1/{incident_id}/events"),
        ("/incidents/events/v1/all/count", "/incidents/events/v1/{event_id}/resolve"),
        ("/v1/incidents/by:event/{event_id}", "/v1/incidents/{incident_id}/events"),
    ]:
        assert position[literal] < position[param], (literal, param)


def test_each_rpc_has_a_route_in_each_family() -> None:
    rpcs = {r.rpc for r in SPEC_ROUTES}
    assert len(rpcs) == 17
    assert {r.rpc for r in ALT_ROUTES} == rpcs
    assert {r.rpc for r in PROTO_ROUTES} | {"GetIncident", "ListIncidents",
                                            "GetIncidentEvents"} == rpcs  # fmt: skip


# -- conversions ----------------------------------------------------------------------------------


def _incident(**changes: Any) -> Incident:
    base: dict[str, Any] = {
        "id": ID,
        "space_id": 1,
        "case_id": ID,
        "correlation_key": correlation_key("a-1", {"region": "eu", "host": "h=1"}),
        "name": "CPU high",
        "state": IncidentState.TRIGGERED,
        "status": IncidentStatus.TRIGGERED,
        "severity": IncidentSeverity.LOW,
        "created_at": 1_000_000,
        "last_state_update_time": 2_000_000,
        "last_state_update_key": "k1",
        "contextual_labels": {
            "alert_type": "New Value",
            "alert_group_by_fields": "region , host,",
        },
        "meta_labels": (KeyValue("team", "sre"),),
    }
    base.update(changes)
    return Incident(**base)


def _event(payload: i.IncidentEventPayload, originator: Originator) -> IncidentEvent:
    return IncidentEvent(
        id="e1", incident_id=ID, space_id=1, payload=payload, originator=originator,
        by="who", time=3_000_000, cx_event_key="k1", severity=IncidentSeverity.ERROR,
        state=IncidentState.TRIGGERED, status=IncidentStatus.ACKNOWLEDGED, is_muted=True,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, AlertType.STANDARD),
        ("Standard", AlertType.STANDARD),
        ("Metric", AlertType.METRIC),
        ("New Value", AlertType.NEW_VALUE),
        ("unique-count", AlertType.UNIQUE_COUNT),
        ("INCIDENT_EVENT_ALERT_TYPE_SLO", AlertType.SLO),
        ("something else", AlertType.STANDARD),
    ],
)
def test_alert_type_from_the_label(text: str | None, expected: AlertType) -> None:
    assert convert.alert_type(text) is expected


def test_extended_event_metadata_comes_from_the_event_and_its_incident() -> None:
    out = ev_pb.IncidentEventExtended()
    x = _incident()
    convert.extended_to_pb(EventItem(_event(i.Acknowledged("who"), Originator.ADMINISTRATIVE), x),
                           out)  # fmt: skip
    meta = out.incident_event_extended_metadata
    assert out.cx_event_key.value == "k1"
    assert out.cx_event_timestamp.ToMicroseconds() == 3_000_000
    assert out.incident_event.acknowledge.acknowledged_by.user_id.value == "who"
    assert (meta.incident_severity, meta.incident_state, meta.incident_status) == (3, 1, 2)
    assert meta.is_muted.value is True
    assert meta.alert_id.value == "a-1"  # no alert_id label: the correlation key's
    assert meta.alert_name.value == "CPU high"
    assert int(meta.alert_type) == int(AlertType.NEW_VALUE)
    assert [w.value for w in meta.alert_group_by_fields] == ["region", "host"]
    assert [(m.key.value, m.value.value) for m in meta.alert_labels] == [("team", "sre")]
    assert dict(meta.incident_permutation) == {"region": "eu", "host": "h=1"}


@pytest.mark.parametrize(
    ("payload", "member"),
    [
        (i.Opened(), "upsert_state"),
        (i.StateUpserted(IncidentState.RESOLVED, None, True), "upsert_state"),
        (i.Acknowledged("u"), "acknowledge"),
        (i.Closed("u"), "close"),
        (i.Assigned(i.Assignment("to", "by")), "assignment"),
        (i.Unassigned(), "unassign"),
        (i.Snoozed(5_000_000, 30, "u"), "snooze_indicator"),
        (i.Snoozed(), "snooze_indicator"),
    ],
)
def test_every_event_carries_one_payload_and_one_originator(
    payload: i.IncidentEventPayload, member: str
) -> None:
    for originator, who in ((Originator.ADMINISTRATIVE, "administrative_event"),
                            (Originator.OPERATIONAL, "operational_event")):  # fmt: skip
        out = convert.event_to_pb(_event(payload, originator))
        assert out.WhichOneof("incident_event_payload") == member
        assert out.WhichOneof("originator") == who
        assert out.incident_event_type == int(payload.type)
    upsert = convert.event_to_pb(_event(i.StateUpserted(IncidentState.RESOLVED), Originator(2)))
    assert upsert.upsert_state.payload.cx_event_key.value == "k1"  # the incident's key


def test_aggregations_render_every_required_field() -> None:
    agg = Aggregation(
        values=(
            GroupValue(GroupKey(IncidentField.SEVERITY), IncidentSeverity.LOW),
            GroupValue(GroupKey(IncidentField.CLOSED_TIME), None),
            GroupValue(GroupKey(contextual_label="env"), None),
            GroupValue(GroupKey(IncidentField.DURATION), 1_500_000),
        ),
        count=2, incident_ids=(ID, ID), states={IncidentState.TRIGGERED: 2},
        statuses={IncidentStatus.TRIGGERED: 2}, severities={IncidentSeverity.LOW: 2},
        assignees={"ana": 1}, meta_labels={KeyValue("team", "sre"): 2},
        first_created_at=1_000_000, last_closed_at=None, last_state_update_time=2_000_000,
    )  # fmt: skip
    response = pb.ListIncidentAggregationsResponse()
    convert.aggregation_to_pb(agg, response.incident_aggs.add())
    convert.page_to_pb(1, None, response.pagination)
    body = message_json(response)
    (got,) = body["incidentAggs"]
    assert got["groupBysValue"] == [
        {"incidentField": {"severity": "INCIDENT_SEVERITY_LOW"}},
        {"incidentField": {}},
        {"contextualLabels": {"fieldName": "env", "fieldValue": ""}},
        {"incidentField": {"duration": "1.500s"}},
    ]
    assert got["lastClosedAt"] == NEVER_CLOSED
    assert got["allValuesCount"] == 2
    assert got["aggMetaLabelsCount"] == [{"metaLabel": {"key": "team", "value": "sre"},
                                          "count": 2}]  # fmt: skip
    assert body["pagination"] == {"totalSize": 1}


def test_incident_duration_freezes_at_close() -> None:
    closed = convert.incident_to_pb(_incident(closed_at=4_000_000), now=9_000_000)
    assert closed.duration.ToMicroseconds() == 3_000_000
    open_ = convert.incident_to_pb(_incident(), now=9_000_000)
    assert open_.duration.ToMicroseconds() == 8_000_000
    assert inc_pb.Incident.DESCRIPTOR.fields_by_name["duration"].number == 19


def test_filters_refuse_nul_and_empty_label_groups() -> None:
    f = pb.ListIncidentsRequest().filter
    f.assignee.add(value="a\x00b")
    with pytest.raises(CasekeeperError) as err:
        q.incident_filter(f)
    assert err.value.field == "filter.assignee"
    g = pb.ListIncidentsRequest().filter
    g.contextual_labels["env"].SetInParent()
    with pytest.raises(CasekeeperError) as err:
        q.incident_filter(g)
    assert err.value.field == "filter.contextualLabels['env']"


# -- the OpenAPI document -------------------------------------------------------------------------


def test_the_document_describes_every_incidents_route() -> None:
    doc = openapi_document()
    for route in INCIDENT_ROUTES:
        op = doc["paths"][route.path][route.method.lower()]
        suffix = "" if route in SPEC_ROUTES else "_proto" if route in PROTO_ROUTES else "_alt"
        assert op["operationId"] == f"IncidentsService_{route.rpc}{suffix}"
        assert op["security"] == [{"bearer": []}]
        assert {"200", "400", "401", "403", "404"} <= set(op["responses"])


def test_the_document_states_the_servers_rules() -> None:
    doc = openapi_document()
    schemas = doc["components"]["schemas"]
    batch = doc["paths"]["/incidents/incidents/v1"]["get"]["parameters"]
    assert next(p for p in batch if p["name"] == "ids")["required"] is True
    aggs = doc["paths"]["/incidents/aggregations/v1"]["get"]["parameters"]
    assert next(p for p in aggs if p["name"] == "group_bys")["required"] is True
    alt = doc["paths"]["/v1/incidents:listIncidentAggregations"]["post"]["requestBody"]
    assert alt["content"]["application/json"]["schema"]["required"] == ["groupBys"]
    events = doc["paths"]["/incidents/events/v1"]["get"]["parameters"]
    page = next(p for p in events if p["name"] == "pagination")
    assert (
        page["content"]["application/json"]["schema"]["properties"]["pageSize"]["maximum"] == 1000
    )
    for name in ("v1.OrderBy", "v1.GroupBy", "IncidentSearchQuery"):
        field = schemas[name]["properties"]["incidentField"]
        assert "INCIDENTS_FIELDS_UNSPECIFIED" not in field["anyOf"][0]["enum"], name
        assert 0 not in field["anyOf"][1]["enum"], name


# -- every response message, rendered, against the spec -------------------------------------------


def _filter_values() -> IncidentFilterValues:
    return IncidentFilterValues(
        assignees={"ana@example.com": 2},
        statuses={IncidentStatus.TRIGGERED: 3, IncidentStatus.RESOLVED: 1},
        states={IncidentState.TRIGGERED: 3},
        severities={IncidentSeverity.LOW: 1, IncidentSeverity.CRITICAL: 2},
        contextual_labels={"alert_name": {"cpu": 2, "disk": 1}},
        display_labels={"coralogix.metadata.applicationName": {"shop": 3}},
        meta_labels={KeyValue("team", "sre"): 1},
        meta_labels_all=True,
    )


def _responses() -> dict[str, Any]:
    """A response message of every RPC, filled from domain objects as the ops fill them."""
    x, closed = _incident(), _incident(id=ID.replace("7", "8"), closed_at=3_000_000)
    events = [
        _event(i.Opened(), Originator.OPERATIONAL),
        _event(i.Assigned(i.Assignment("ana", "key")), Originator.ADMINISTRATIVE),
    ]
    out: dict[str, Any] = {}
    one = pb.GetIncidentResponse()
    convert.incident_to_pb(x, 9_000_000, one.incident, events)
    out["GetIncident"] = one
    batch = pb.BatchGetIncidentResponse()
    convert.incident_to_pb(closed, 9_000_000, batch.incidents[closed.id])
    batch.not_found_ids.add(value=ID)
    out["BatchGetIncident"] = batch
    listed = pb.ListIncidentsResponse()
    convert.incidents_to_pb([x, closed], 9_000_000, listed.incidents)
    convert.page_to_pb(7, "token", listed.pagination)
    out["ListIncidents"] = listed
    empty = pb.ListIncidentsResponse()
    convert.page_to_pb(0, None, empty.pagination)
    out["ListIncidents (empty)"] = empty
    fv = pb.GetFilterValuesResponse()
    convert.filter_values_to_pb(_filter_values(), fv.filters_values)
    out["GetFilterValues"] = fv
    none = pb.ListIncidentEventsFilterValuesResponse()
    convert.filter_values_to_pb(IncidentFilterValues(), none.filters_values)
    out["ListIncidentEventsFilterValues"] = none
    history = pb.GetIncidentEventsResponse()
    for e in events:
        convert.event_to_pb(e, history.incident_events.add())
    out["GetIncidentEvents"] = history
    items = pb.ListIncidentEventsResponse()
    for e in events:
        convert.extended_to_pb(EventItem(e, x), items.items.add())
    convert.page_to_pb(2, None, items.pagination)
    out["ListIncidentEvents"] = items
    aggs = pb.ListIncidentAggregationsResponse()
    for closed_at in (None, 3_000_000):
        group = Aggregation(
            values=(GroupValue(GroupKey(IncidentField.STATUS), IncidentStatus.RESOLVED),
                    GroupValue(GroupKey(contextual_label="env"), "prod")),
            count=1, incident_ids=(ID,), states={IncidentState.RESOLVED: 1},
            statuses={IncidentStatus.RESOLVED: 1}, severities={IncidentSeverity.INFO: 1},
            assignees={}, meta_labels={}, first_created_at=1_000_000, last_closed_at=closed_at,
            last_state_update_time=2_000_000,
        )  # fmt: skip
        convert.aggregation_to_pb(group, aggs.incident_aggs.add())
    convert.page_to_pb(2, "next", aggs.pagination)
    out["ListIncidentAggregations"] = aggs
    count = pb.ListIncidentEventsTotalCountResponse()
    count.count.value, count.reached_limit.value = 10_000, True
    out["ListIncidentEventsTotalCount"] = count
    for rpc, kind in (("AssignIncidents", pb.AssignIncidentsResponse),
                      ("CloseIncidents", pb.CloseIncidentsResponse)):  # fmt: skip
        changed = kind()
        convert.incidents_to_pb([closed], 9_000_000, changed.incidents)
        out[rpc] = changed
    return out


@pytest.mark.parametrize("name", list(_responses()))
def test_every_response_renders_as_the_spec_says(name: str, reference: IncidentsReference) -> None:
    message = _responses()[name]
    rpc = name.split(" ")[0]
    body = message_json(message)
    problems = reference.errors(rpc, 200, body)
    assert not problems, (problems, body)


def test_total_count_is_a_decimal_string() -> None:
    body = message_json(_responses()["ListIncidentEventsTotalCount"])
    assert body == {"count": "10000", "reachedLimit": True}


def test_empty_filter_values_keep_every_required_member() -> None:
    body = message_json(_responses()["ListIncidentEventsFilterValues"])
    assert body == {
        "filtersValues": {
            "assigneeWithCount": [],
            "statusWithCount": [],
            "stateWithCount": [],
            "severityWithCount": [],
            "contextualLabels": {},
            "metaLabelsWithCount": [],
            "metaLabelsOp": "FILTER_OPERATOR_OR_OR_UNSPECIFIED",
            "displayLabels": {},
        }
    }


def test_label_maps_take_objects_or_key_value_lists_and_refuse_the_rest() -> None:
    from casekeeper.api.coralogix.rest.parse import parse_into

    values = {"contextualLabelValues": ["prod"]}
    for given in ({"env": values}, [{"key": "env", "value": values}]):
        got = parse_into({"filter": {"contextualLabels": given}}, pb.ListIncidentsRequest())
        assert [w.value for w in got.filter.contextual_labels["env"].contextual_label_values] == [
            "prod"
        ]
    for bad in ({"env": None}, [None], ["env"], [{"value": values}]):
        with pytest.raises(CasekeeperError) as err:
            parse_into({"filter": {"contextualLabels": bad}}, pb.ListIncidentsRequest())
        assert str(err.value.message).startswith("filter.contextualLabels: ")


def test_the_deprecated_window_is_checked_in_its_own_words() -> None:
    request = pb.ListIncidentsRequest()
    request.filter.start_time.FromSeconds(2_000)
    request.filter.end_time.FromSeconds(1_000)
    with pytest.raises(CasekeeperError) as err:
        q.incident_filter(request.filter)
    assert err.value.field == "filter.endTime"
    request.filter.ClearField("end_time")
    assert q.incident_filter(request.filter).open_during is not None
