"""The reconstructed incidents protos against Coralogix's incidents OpenAPI spec.

Names come from the spec (so protojson names equal the REST JSON names) and field numbers from
the public incidents protos (API digest §9.1). The spec side is walked generically: every RPC,
every component schema, every inline request body and query/path parameter. The numbering traps
of digest §10 are pinned explicitly, since the spec carries no field numbers.

The spec is found like the REST tests find theirs: ``CASEKEEPER_REFERENCE_DIR`` (the folder that
holds ``coralogix-openapi/``), else ``<repo>/../shared/reference``; without it the spec-walking
tests skip.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor

from casekeeper.proto.com.coralogixapis.incidents.v1 import (
    incident_event_pb2,
    incident_pb2,
    incidents_service_pb2,
)

Schema = dict[str, Any]

REPO = Path(__file__).resolve().parents[2]
PACKAGE = "com.coralogixapis.incidents.v1"
SERVICE = incidents_service_pb2.DESCRIPTOR.services_by_name["IncidentsService"]
POOL = incidents_service_pb2.DESCRIPTOR.pool
# In the spec but not part of the incidents protos: the REST error body, and the schemas no
# operation references (digest §3).
NOT_PROTO = {
    "Error",
    "Filters",
    "FilterPathAndValues",
    "MultipleValues",
    "events.v3.FilterMatcher",
    "v3.FilterOperator",
}
# What a spec scalar may be in the protos: wrapper types everywhere (plain scalars would break
# real clients), Timestamp/Duration for time strings, UInt64Value for the count string.
SCALARS: dict[tuple[str, str | None], set[str]] = {
    ("string", None): {
        "google.protobuf.StringValue",
        "google.protobuf.Duration",
        "google.protobuf.UInt64Value",
    },
    ("string", "date-time"): {"google.protobuf.Timestamp"},
    ("boolean", None): {"google.protobuf.BoolValue"},
    ("integer", "int32"): {"google.protobuf.Int32Value"},
    ("integer", "int64"): {"google.protobuf.UInt32Value", "google.protobuf.UInt64Value"},
}


@cache
def spec() -> Schema:
    configured = os.environ.get("CASEKEEPER_REFERENCE_DIR", "").strip()
    base = Path(configured) if configured else REPO.parent / "shared" / "reference"
    path = base / "coralogix-openapi" / "incidents_service.json"
    if not path.is_file():
        pytest.skip(f"incidents OpenAPI spec not found at {path}")
    loaded: Schema = json.loads(path.read_text())
    return loaded


def components() -> dict[str, Schema]:
    schemas: dict[str, Schema] = spec()["components"]["schemas"]
    return schemas


def proto_name(schema_name: str) -> str:
    """`incidents.v1.MetaLabel` / `v1.OrderBy` -> the message or enum name in the package."""
    return schema_name.removeprefix("incidents.").removeprefix("v1.")


def ref_name(prop: Schema) -> str | None:
    """The component a property points to, directly or through a one-item allOf."""
    if "$ref" in prop:
        return str(prop["$ref"]).rsplit("/", 1)[-1]
    if len(prop.get("allOf", [])) == 1 and "$ref" in prop["allOf"][0]:
        return str(prop["allOf"][0]["$ref"]).rsplit("/", 1)[-1]
    return None


def message(name: str) -> Descriptor:
    return POOL.FindMessageTypeByName(f"{PACKAGE}.{name}")


def operations() -> list[tuple[str, str, Schema]]:
    return [
        (verb.upper(), path, op)
        for path, ops in spec()["paths"].items()
        for verb, op in ops.items()
        if isinstance(op, dict) and "operationId" in op
    ]


# -- the generic walk --------------------------------------------------------------------------


def check_value(prop: Schema, field: FieldDescriptor, where: str, problems: list[str]) -> None:
    """One spec property (or array item / map value) against the field that carries it."""
    target = ref_name(prop)
    if target is not None:
        if "enum" in components()[target]:
            got = field.enum_type.name if field.enum_type else field.type
        else:
            got = field.message_type.name if field.message_type else field.type
        if got != proto_name(target):
            problems.append(f"{where}: spec type {target}, proto {got}")
        return
    if prop.get("type") == "object" and "properties" in prop:
        if field.message_type is None:
            problems.append(f"{where}: spec object, proto field is not a message")
            return
        check_object(prop, field.message_type, where, problems)
        return
    kind, fmt = str(prop.get("type")), prop.get("format")
    if kind == "string" and fmt != "date-time":
        fmt = None  # other string formats (if any) are plain text
    allowed = SCALARS.get((kind, fmt))
    got = field.message_type.full_name if field.message_type else f"scalar {field.type}"
    if allowed is None or got not in allowed:
        problems.append(f"{where}: spec {kind}/{fmt}, proto {got}")


def check_property(prop: Schema, field: FieldDescriptor, where: str, problems: list[str]) -> None:
    entry = field.message_type
    is_map = entry is not None and entry.GetOptions().map_entry
    if prop.get("type") == "array":
        if not field.is_repeated or is_map:
            problems.append(f"{where}: spec array, proto field is not a repeated non-map field")
            return
        check_value(prop["items"], field, f"{where}[]", problems)
    elif prop.get("type") == "object" and "additionalProperties" in prop:
        if entry is None or not is_map:
            problems.append(f"{where}: spec map, proto field is not a map")
            return
        value = entry.fields_by_name["value"]
        values = prop["additionalProperties"]
        if values.get("type") == "string" and value.type == FieldDescriptor.TYPE_STRING:
            return  # map<string, string>: the one place plain strings belong
        check_value(values, value, f"{where}{{}}", problems)
    else:
        if field.is_repeated:
            problems.append(f"{where}: spec single value, proto field is repeated")
            return
        check_value(prop, field, where, problems)


def oneof_groups(schema: Schema) -> list[set[str]]:
    """Sets of properties the spec makes mutually exclusive (`oneOf` of `required: [x]`)."""
    blocks = [schema, *schema.get("allOf", [])]
    return [
        {name for branch in block["oneOf"] for name in branch.get("required", [])}
        for block in blocks
        if "oneOf" in block
    ]


def check_object(schema: Schema, desc: Descriptor, where: str, problems: list[str]) -> None:
    """Both ways: every spec property has a field with that json_name, and every field is in
    the spec; then the field types and the oneofs."""
    by_json = {f.json_name: f for f in desc.fields}
    props: dict[str, Schema] = schema.get("properties", {})
    for name in sorted(set(props) - set(by_json)):
        problems.append(f"{where}: no field with json_name {name!r} in {desc.name}")
    for name in sorted(set(by_json) - set(props)):
        problems.append(f"{where}: {desc.name}.{by_json[name].name} is not in the spec")
    for name in sorted(set(props) & set(by_json)):
        check_property(props[name], by_json[name], f"{where}.{name}", problems)
    for group in oneof_groups(schema):
        oneofs = {by_json[n].containing_oneof for n in group if n in by_json}
        oneof = oneofs.pop() if len(oneofs) == 1 else None
        members = {f.json_name for f in oneof.fields} if oneof is not None else set()
        if members != group:
            problems.append(f"{where}: spec oneOf {sorted(group)} is not one proto oneof")


# -- the service -------------------------------------------------------------------------------


def test_service_has_the_17_spec_rpcs_plus_the_internal_one() -> None:
    spec_rpcs = {op["operationId"].removeprefix("IncidentsService_") for _, _, op in operations()}
    assert len(spec_rpcs) == 17
    assert SERVICE.full_name == f"{PACKAGE}.IncidentsService"
    assert {m.name for m in SERVICE.methods} == spec_rpcs | {"GetIncidentUsingCorrelationKey"}


def test_every_rpc_takes_and_returns_the_spec_messages() -> None:
    problems: list[str] = []
    for verb, path, op in operations():
        rpc = op["operationId"].removeprefix("IncidentsService_")
        method = SERVICE.methods_by_name[rpc]
        where = f"{verb} {path} ({rpc})"
        if method.input_type.name != f"{rpc}Request":
            problems.append(f"{where}: takes {method.input_type.name}")
        response = ref_name(op["responses"]["200"]["content"]["application/json"]["schema"])
        if response is None or method.output_type.name != proto_name(response):
            problems.append(f"{where}: returns {method.output_type.name}, spec {response}")
    assert problems == []


def test_request_bodies_and_parameters_are_the_request_fields() -> None:
    """Bodies use camelCase json names; path and query parameters the snake_case field names."""
    problems: list[str] = []
    for verb, path, op in operations():
        desc = SERVICE.methods_by_name[op["operationId"].removeprefix("IncidentsService_")]
        request = desc.input_type
        where = f"{verb} {path}"
        covered: set[str] = set()
        body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
        if body:
            check_object(body["schema"], request, f"{where} body", problems)
            covered |= {f.name for f in request.fields}
        for param in op.get("parameters", []):
            field = request.fields_by_name.get(param["name"])
            if field is None:
                problems.append(f"{where}: no field {param['name']!r} in {request.name}")
                continue
            covered.add(field.name)
            check_property(param["schema"], field, f"{where} ?{param['name']}", problems)
        missing = sorted({f.name for f in request.fields} - covered)
        if missing:
            problems.append(f"{where}: {request.name} fields {missing} are not in the spec")
    assert problems == []


# -- the component schemas ---------------------------------------------------------------------


def test_every_component_message_matches_its_schema() -> None:
    problems: list[str] = []
    for name, schema in sorted(components().items()):
        if name in NOT_PROTO or "enum" in schema:
            continue
        check_object(schema, message(proto_name(name)), name, problems)
    assert problems == []


def test_enum_values_are_the_spec_lists_in_spec_order() -> None:
    mismatched = {}
    for name, schema in sorted(components().items()):
        if name in NOT_PROTO or "enum" not in schema:
            continue
        enum: EnumDescriptor = POOL.FindEnumTypeByName(f"{PACKAGE}.{proto_name(name)}")
        values = [v.name for v in enum.values]
        if values != schema["enum"]:
            mismatched[name] = (values, schema["enum"])
    assert mismatched == {}


# -- the numbering of digest §9.1 / §10 --------------------------------------------------------

NUMBERS = [
    ("ListIncidentsRequest", {"filter": 4, "pagination": 5, "order_bys": 6}),
    ("ListIncidentsResponse", {"incidents": 1, "pagination": 4}),
    ("AssignIncidentsRequest", {"incident_ids": 5, "assigned_to": 2}),
    ("AssignIncidentsResponse", {"incidents": 2}),
    ("AcknowledgeIncidentsRequest", {"incident_ids": 2}),
    ("AcknowledgeIncidentsResponse", {"incidents": 2}),
    ("CloseIncidentsRequest", {"incident_ids": 2}),
    ("CloseIncidentsResponse", {"incidents": 2}),
    ("UnassignIncidentsRequest", {"incident_ids": 1}),
    ("UnassignIncidentsResponse", {"incidents": 1}),
    ("ResolveIncidentsRequest", {"incident_ids": 1}),
    ("ResolveIncidentsResponse", {"incidents": 1}),
    ("GetIncidentByEventIdRequest", {"event_id": 2}),
    ("GetIncidentByEventIdResponse", {"incident": 1}),
    ("AcknowledgeIncidentByEventIdRequest", {"event_id": 2}),
    ("AcknowledgeIncidentByEventIdResponse", {"incident": 2}),
    ("ResolveIncidentByEventIdRequest", {"event_id": 2}),
    ("ResolveIncidentByEventIdResponse", {"incident": 2}),
    ("GetIncidentUsingCorrelationKeyRequest", {"correlation_key": 1, "incident_point_in_time": 2}),
    (
        "Incident",
        {"severity": 7, "events": 10, "created_at": 11, "contextual_labels": 13, "duration": 19},
    ),
    (
        "IncidentEvent",
        {
            "id": 1,
            "incident_event_type": 2,
            "originator_type": 3,
            "administrative_event": 100,
            "operational_event": 101,
            "snooze_indicator": 200,
            "assignment": 201,
            "upsert_state": 202,
            "acknowledge": 203,
            "close": 204,
            "unassign": 205,
        },
    ),
    ("IncidentEventExtended", {"cx_event_key": 1, "cx_event_timestamp": 4}),
    ("OrderBy", {"direction": 2, "incident_field": 10, "contextual_label": 11}),
    ("GroupBy", {"order_by_direction": 1, "incident_field": 10, "contextual_label": 11}),
    ("IncidentQueryFilter", {"search_query": 8, "display_labels": 16}),
    ("ListIncidentEventsTotalCountResponse", {"count": 1, "reached_limit": 2}),
    ("DeleteIncidentRequest", {"id": 1}),
]


@pytest.mark.parametrize(("name", "numbers"), NUMBERS, ids=[n for n, _ in NUMBERS])
def test_field_numbers_follow_the_public_protos(name: str, numbers: dict[str, int]) -> None:
    fields = message(name).fields_by_name
    assert {f: fields[f].number for f in numbers} == numbers


def test_incident_event_oneofs_are_payload_and_originator() -> None:
    oneofs = message("IncidentEvent").oneofs_by_name
    payload = {f.name: f.number for f in oneofs["incident_event_payload"].fields}
    assert payload == {
        "snooze_indicator": 200,
        "assignment": 201,
        "upsert_state": 202,
        "acknowledge": 203,
        "close": 204,
        "unassign": 205,
    }
    originator = {f.name: f.number for f in oneofs["originator"].fields}
    assert originator == {"administrative_event": 100, "operational_event": 101}


def test_enum_numbers_keep_their_gaps_and_late_additions() -> None:
    event_type = incident_event_pb2.IncidentEventType
    assert dict(event_type.items()) == {
        "INCIDENT_EVENT_TYPE_UNSPECIFIED": 0,
        "INCIDENT_EVENT_TYPE_UPSERT_STATE": 2,
        "INCIDENT_EVENT_TYPE_OPEN": 4,
        "INCIDENT_EVENT_TYPE_CLOSE": 5,
        "INCIDENT_EVENT_TYPE_SNOOZE_INDICATOR": 6,
        "INCIDENT_EVENT_TYPE_ASSIGN": 7,
        "INCIDENT_EVENT_TYPE_ACKNOWLEDGE": 8,
        "INCIDENT_EVENT_TYPE_UNASSIGN": 9,
    }
    severity = POOL.FindEnumTypeByName(f"{PACKAGE}.IncidentSeverity").values_by_name
    assert severity["INCIDENT_SEVERITY_CRITICAL"].number == 4
    assert severity["INCIDENT_SEVERITY_LOW"].number == 5
    fields = POOL.FindEnumTypeByName(f"{PACKAGE}.IncidentFields").values_by_name
    assert fields["INCIDENTS_FIELDS_DURATION"].number == 11


def test_canonical_json_has_bare_wrappers_duration_strings_and_a_string_count() -> None:
    incident = incident_pb2.Incident()
    incident.id.value = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
    incident.is_muted.value = False
    incident.duration.FromSeconds(5400)
    incident.contextual_labels["alert_name"] = "cpu"
    assert json_format.MessageToDict(incident) == {
        "id": "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
        "isMuted": False,
        "duration": "5400s",
        "contextualLabels": {"alert_name": "cpu"},
    }
    count = incidents_service_pb2.ListIncidentEventsTotalCountResponse()
    count.count.value = 12
    assert json_format.MessageToDict(count) == {"count": "12"}
    # Wire: the wrapper is a length-delimited sub-message (field 1, then StringValue field 1).
    request = incidents_service_pb2.GetIncidentByEventIdRequest()
    request.event_id.value = "k"
    assert request.SerializeToString() == b"\x12\x03\x0a\x01k"
