"""The Incidents API's part of casekeeper's OpenAPI document: every route of the three path
families (``incident_routes``), each described by the spec's operation for its RPC, and the
server's input rules on the request schemas (as ``openapi_rules`` does for cases).

What differs from Coralogix's spec, and why:

- the spec's query objects (``filter``, ``pagination``, ``order_by``, ``group_bys``) are
  JSON-encoded query values here (``content: application/json``), which say exactly what the
  server reads; dotted and exploded forms are accepted too (``querystring.py``);
- the ``/v1/incidents:<verb>`` bindings take the request as a JSON body, so a GET's query
  parameters become the properties of that body;
- enums the server refuses unspecified (the field to order, group or search by) lose member 0,
  text it trims must hold a non-whitespace character, and no text may hold a NUL;
- ``ids`` (BatchGetIncident) and ``group_bys`` are required (the server needs one at least);
  ListIncidentEvents pages hold at most 1000 events.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from casekeeper.api.coralogix.rest.incident_routes import (
    INCIDENT_ROUTES,
    PROTO_ROUTES,
    SPEC_ROUTES,
)
from casekeeper.api.coralogix.rest.openapi_rules import NO_NUL, TEXT, without_unspecified
from casekeeper.api.coralogix.rest.querystring import MAX_QUERY_IDS
from casekeeper.api.coralogix.rest.routes import Body, RouteSpec
from casekeeper.domain.incident_query import MAX_EVENTS_PAGE_SIZE
from casekeeper.domain.incidents import MAX_USER
from casekeeper.domain.query import MAX_FILTER_GROUPS, MAX_FILTER_VALUES

Finish = Callable[[dict[str, Any], RouteSpec], None]
_JSON_PARAMS = ("filter", "pagination", "order_by", "group_bys")
_BY_RPC = {r.rpc: r for r in SPEC_ROUTES}
MAX_EVENT_ID = 64  # the spec's bound on the by-event paths' event_id
# The fields a search looks in (the store's; the others are no text to search).
_SEARCHABLE = frozenset(
    {
        "INCIDENTS_FIELDS_ID", 1,
        "INCIDENTS_FIELDS_NAME", 3,
        "INCIDENTS_FIELDS_APPLICATION_NAME", 9,
        "INCIDENTS_FIELDS_SUBSYSTEM_NAME", 10,
    }
)  # fmt: skip


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _path_names(path: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", path))


def _json_param(param: dict[str, Any]) -> dict[str, Any]:
    """A query parameter holding an object (or a list of them) as JSON text."""
    out = {k: v for k, v in param.items() if k not in ("schema", "style", "explode")}
    out["content"] = {"application/json": {"schema": param["schema"]}}
    return out


def _list_param(param: dict[str, Any]) -> dict[str, Any]:
    """A list of ids, the parameter repeated for each (or comma-separated), as many as a
    request line holds (the POST bindings take the spec's 10000)."""
    schema = {**param["schema"], "maxItems": MAX_QUERY_IDS}
    schema["description"] = (
        f"{schema.get('description', '').rstrip('.')}. At most {MAX_QUERY_IDS} in a query "
        "string; the POST /v1/incidents:<verb> binding takes 10000."
    )
    return {**param, "schema": schema, "style": "form", "explode": True}


def _as_body(params: list[dict[str, Any]], rpc: str) -> dict[str, Any]:
    """The JSON body of an additional binding: the GET's query parameters as its properties."""
    schema: dict[str, Any] = {
        "title": f"{rpc} request",
        "type": "object",
        "properties": {_camel(p["name"]): p["schema"] for p in params},
    }
    required = [_camel(p["name"]) for p in params if p.get("required")]
    if required:
        schema["required"] = required
    return {"content": {"application/json": {"schema": schema}}, "required": bool(required)}


def _family(route: RouteSpec) -> str:
    if route in SPEC_ROUTES:
        return ""
    return "_proto" if route in PROTO_ROUTES else "_alt"


# The spec writes its query objects inline; here each is a component (so one set of rules
# narrows them wherever they appear): query parameter → component name.
def _component_of(param: dict[str, Any]) -> str:
    name = param["name"]
    if name == "filter":
        event = "name" in param["schema"].get("properties", {})
        return "IncidentEventQueryFilter" if event else "IncidentQueryFilter"
    return {
        "pagination": "incidents.v1.PaginationRequest",
        "group_bys": "v1.GroupBy",
        "order_by": "ListIncidentEventRequestOrderBy",
    }[name]


def _by_ref(param: dict[str, Any], schemas: dict[str, Any]) -> None:
    """Replace the inline schema of query object ``param`` by a reference to its component."""
    if param["name"] not in _JSON_PARAMS:
        return
    component = _component_of(param)
    schema = param["schema"]
    inline = schema["items"] if schema.get("type") == "array" else schema
    inline = {k: v for k, v in inline.items() if k not in ("externalDocs", "description")}
    schemas.setdefault(component, inline)
    ref = {"$ref": f"#/components/schemas/{component}"}
    if schema.get("type") == "array":
        param["schema"] = {**schema, "items": ref}
    else:
        param["schema"] = {"allOf": [ref], "description": param.get("description", "")}


def incident_paths(spec: dict[str, Any], schemas: dict[str, Any], finish: Finish) -> dict[str, Any]:
    """Path → method → operation for every incidents route (adding the components its query
    objects become to ``schemas``); ``finish`` adds what every casekeeper operation documents
    (its extra statuses, its security)."""
    paths: dict[str, Any] = {}
    for route in INCIDENT_ROUTES:
        source = _BY_RPC[route.rpc]
        op = copy.deepcopy(spec["paths"][source.path][source.method.lower()])
        op["operationId"] += _family(route)
        op.pop("externalDocs", None)
        params = op.get("parameters", [])
        for param in params:
            if param["in"] == "query":
                _by_ref(param, schemas)
        names = _path_names(route.path)
        in_path = [p for p in params if p["in"] == "path" and p["name"] in names]
        query = [p for p in params if p["in"] == "query"]
        if route.body is Body.JSON and source.body is Body.QUERY:
            op["requestBody"] = _as_body(query, route.rpc)
            query = []
        query = [_json_param(p) if p["name"] in _JSON_PARAMS else _list_param(p) for p in query]
        op["parameters"] = in_path + query
        finish(op, route)
        paths.setdefault(route.path, {})[route.method.lower()] = op
    return paths


# -- the server's input rules ------------------------------------------------------------------


def _no_nul(prop: dict[str, Any]) -> None:
    prop["pattern"] = NO_NUL


def _text(prop: dict[str, Any], max_len: int) -> None:
    prop.update(pattern=TEXT, minLength=1, maxLength=max_len)


def _field_without_unspecified(schemas: dict[str, Any], owner: dict[str, Any]) -> None:
    props = owner["properties"]
    field = props["incidentField"]
    props["incidentField"] = {**without_unspecified(schemas, field), "nullable": True}


def strict_incident_components(schemas: dict[str, Any]) -> None:
    """Narrow the incidents request components to what the server accepts."""
    f = schemas["IncidentQueryFilter"]["properties"]
    for name in ("assignee", "applicationName", "subsystemName"):
        _no_nul(f[name]["items"])
    for name in ("contextualLabels", "displayLabels"):
        f[name]["maxProperties"] = MAX_FILTER_GROUPS
        f[name]["description"] = (
            f"{f[name].get('description', '').rstrip('.')}. At most {MAX_FILTER_GROUPS} keys "
            f"and {MAX_FILTER_VALUES} values over all keys."
        )
    for name in ("ContextualLabelValues", "DisplayLabelValues"):
        (values,) = schemas[name]["properties"].values()
        _no_nul(values["items"])
        values["minItems"] = 1  # a label key with no value to match is refused
    search = schemas["IncidentSearchQuery"]
    _no_nul(search["properties"]["query"])
    _no_nul(search["properties"]["contextualLabel"])
    _field_without_unspecified(schemas, search)
    for option in search["properties"]["incidentField"]["anyOf"]:
        option["enum"] = [v for v in option["enum"] if v in _SEARCHABLE]
    _exactly_one(search)

    order = schemas["v1.OrderBy"]
    _no_nul(order["properties"]["contextualLabel"])
    _field_without_unspecified(schemas, order)
    _exactly_one(order)
    del order["required"]  # no direction is the default direction (newest first)
    order["properties"]["direction"]["nullable"] = True
    pagination = schemas["incidents.v1.PaginationRequest"]
    del pagination["required"]  # no size is the default size (100)
    page = pagination["properties"]
    page["pageSize"]["nullable"] = True
    _no_nul(page["pageToken"])
    page["pageToken"]["description"] = (
        "Opaque token from a previous response's `pagination.nextPageToken`, valid only for "
        "the same request; any other token is refused with 400 and "
        "`X-Casekeeper-Error-Code: request.invalid_page_token`."
    )
    labels = schemas["incidents.v1.MetaLabel"]  # only requests carry it with NUL-free text
    for name in ("key", "value"):
        _no_nul(labels["properties"][name])
    user = schemas["incidents.v1.UserDetails"]
    _text(user["properties"]["userId"], MAX_USER)
    events = schemas["IncidentEventQueryFilter"]["properties"]
    _no_nul(events["name"])
    for name in ("contextualLabels", "displayLabels"):
        events[name]["maxProperties"] = MAX_FILTER_GROUPS
    for props in (f, events):
        for name in ("contextualLabels", "displayLabels"):
            props[name] = _map_or_pairs(props[name])
    group = schemas["v1.GroupBy"]
    _no_nul(group["properties"]["contextualLabel"])
    _field_without_unspecified(schemas, group)
    _exactly_one(group)
    labels_filter = schemas["LabelsFilter"]
    del labels_filter["required"]  # no meta labels: no condition on them
    labels_filter["properties"]["metaLabels"]["nullable"] = True


def _map_or_pairs(prop: dict[str, Any]) -> dict[str, Any]:
    """A label map, or the seeds' ``[{"key", "value"}]`` list of its entries (both read)."""
    described = {k: v for k, v in prop.items() if k in ("description", "nullable")}
    as_map = {k: v for k, v in prop.items() if k not in described}
    pair = {
        "type": "object",
        "required": ["key", "value"],
        "properties": {"key": {"type": "string"}, "value": as_map["additionalProperties"]},
    }
    most = as_map.get("maxProperties", MAX_FILTER_GROUPS)
    pairs = {
        "type": "array",
        "items": pair,
        "description": f"At most {most} distinct keys; a key given twice: the last one holds.",
    }
    return {**described, "anyOf": [as_map, pairs]}


def _inline(schemas: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """A copy of the component ``node`` refers to (to narrow it for one operation)."""
    ref = node.get("$ref") or next(
        (part["$ref"] for part in node.get("allOf", []) if "$ref" in part), None
    )
    if ref is None:
        return node
    out: dict[str, Any] = copy.deepcopy(schemas[ref.rsplit("/", 1)[-1]])
    out.pop("externalDocs", None)
    for key in ("description", "nullable"):
        if key in node:
            out[key] = node[key]
    return out


def _body(op: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = (
        op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    )
    return schema


def _inputs(op: dict[str, Any]) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """The request's inputs by camelCase name: (schema, where it is required), where the
    second is the body schema or the query parameter object."""
    body = _body(op)
    found = {name: (prop, body) for name, prop in body.get("properties", {}).items()}
    for p in op.get("parameters", []):
        if p["in"] == "query":
            holder = p["content"]["application/json"] if "content" in p else p
            found[_camel(p["name"])] = (holder["schema"], p)
    return found


def _set(op: dict[str, Any], name: str, schema: dict[str, Any]) -> None:
    """Put ``schema`` in place of input ``name`` (a body property or a query parameter)."""
    props = _body(op).get("properties", {})
    if name in props:
        props[name] = schema
        return
    for p in op.get("parameters", []):
        if _camel(p["name"]) == name:
            holder = p["content"]["application/json"] if "content" in p else p
            holder["schema"] = schema


def _require(op: dict[str, Any], name: str, schema: dict[str, Any], owner: dict[str, Any]) -> None:
    schema.pop("nullable", None)
    schema["minItems"] = 1
    if owner.get("in") == "query":
        owner["required"] = True
    else:
        owner["required"] = sorted({*owner.get("required", []), name})
        op["requestBody"]["required"] = True


def strict_incident_op(schemas: dict[str, Any], op: dict[str, Any], route: RouteSpec) -> None:
    """Narrow one incidents operation's request: the lists that need an item, groupings, the
    events page size, event ids."""
    inputs = _inputs(op)
    for name in ("ids", "groupBys"):
        if name in inputs:
            _require(op, name, *inputs[name])
    if route.rpc == "ListIncidentEvents" and "pagination" in inputs:
        page = _inline(schemas, inputs["pagination"][0])
        page["properties"]["pageSize"]["maximum"] = MAX_EVENTS_PAGE_SIZE
        page["description"] = f"At most {MAX_EVENTS_PAGE_SIZE} events a page (default 100)."
        _set(op, "pagination", page)
    for p in op.get("parameters", []):
        if p["in"] == "path" and p["name"] == "event_id":
            _text(p["schema"], MAX_EVENT_ID)


def _exactly_one(schema: dict[str, Any]) -> None:
    """A oneOf of required members, each set and not null (the server drops nulls, so
    ``{"incidentField": X, "contextualLabel": null}`` is one member, not two)."""
    props = schema["properties"]
    branches = []
    for branch in schema["oneOf"]:
        (name,) = branch["required"]
        prop = {k: v for k, v in props[name].items() if k != "nullable"}
        branches.append({**branch, "properties": {name: prop}})
    schema["oneOf"] = branches
