"""casekeeper's own OpenAPI document, built from Coralogix's specs (vendored in ``spec/``).

The operations and schemas are the specs'; the document then says what casekeeper really does:
ids are accepted in any letter case, bulk ids are checked one by one (a bad one is reported, not
fatal), enums are accepted as names or numbers, and every operation documents the statuses it
can answer (401, 403, 404, 413, 415 besides the specs' 400 and 500). It also states what the
server refuses (``openapi_rules``), so that a request it calls valid is accepted.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any

from casekeeper.api.coralogix.rest.incident_routes import INCIDENT_ROUTES
from casekeeper.api.coralogix.rest.openapi_incidents import (
    incident_paths,
    strict_incident_components,
    strict_incident_op,
)
from casekeeper.api.coralogix.rest.openapi_rules import (
    strict_body,
    strict_components,
    strict_ids_items,
)
from casekeeper.api.coralogix.rest.openapi_settings import (
    settings_paths,
    strict_settings_body,
    strict_settings_components,
)
from casekeeper.api.coralogix.rest.routes import ROUTES, Body, RouteSpec
from casekeeper.api.coralogix.rest.settings_routes import NOTIFICATION_ROUTES, SETTINGS_ROUTES
from casekeeper.service.validation import MAX_BULK

CASE_ID = r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[A-Za-z]+-[0-9]+)$"  # noqa: E501
EVENT_ID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
ERROR_REF = {"$ref": "#/components/schemas/Error"}
EXTRA_STATUSES = {
    "401": "Missing, invalid or revoked API key",
    "403": "The API key lacks the operation's permission",
    "404": "No such case, event or incident in the key's space",
    "413": "Request body too large",
    "415": "Request body is not JSON",
}
DESCRIPTION = """casekeeper serves Coralogix's Cases, Case Events, Case Settings and Incidents APIs.

Every path is also served under `/mgmt/openapi` and `/mgmt/openapi/{version}` (e.g.
`/mgmt/openapi/latest/cases/cases/v1/CASE-12`), as Coralogix's gateway does. Each Incidents
operation is served at the spec's path, at the path of Coralogix's protos (`*_proto`) and at
their `/v1/incidents:<verb>` binding (`*_alt`), which takes the request as a JSON body.

Authenticate with `Authorization: Bearer <API key>` (`casekeeper keys create`). Bulk operations
return the processed cases; ids that failed are listed, with the reason, in the
`X-Casekeeper-Bulk-Failures` response header (a JSON array of `{id, code, message}`).

A request this document calls valid is accepted, except where the answer depends on state: an
unknown id is 404, and a lifecycle step the case's status forbids is 400 with
`X-Casekeeper-Error-Code: case.invalid_transition` (or `event.not_editable`). Every error names
its code in that header (`request.invalid_argument` for a malformed request)."""


def _load(name: str) -> dict[str, Any]:
    text = resources.files("casekeeper.api.coralogix.rest").joinpath("spec", name).read_text()
    data: dict[str, Any] = json.loads(text)
    return data


def _lenient_enums(node: Any) -> Any:
    """String enums also accept their numbers (as protojson does)."""
    if isinstance(node, dict):
        if node.get("type") == "string" and isinstance(node.get("enum"), list):
            names = node["enum"]
            described = {k: v for k, v in node.items() if k not in ("type", "enum")}
            return {
                **described,
                "anyOf": [
                    {"type": "string", "enum": names},
                    {"type": "integer", "enum": list(range(len(names)))},
                ],
            }
        return {k: _lenient_enums(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_lenient_enums(v) for v in node]
    return node


def _nullable(node: Any) -> Any:
    """Every optional property accepts ``null`` (meaning unset), as casekeeper's parser does; a
    required one does not (unset, it is refused)."""
    if isinstance(node, list):
        return [_nullable(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _nullable(v) for k, v in node.items()}
    if out.get("format") == "date-time":  # any RFC 3339 time parses, with any precision
        out.pop("maxLength", None)
    if out.get("additionalProperties") is False:  # unknown fields are ignored, as in protojson
        del out["additionalProperties"]
    props = out.get("properties")
    required = out.get("required", [])
    if isinstance(props, dict):
        for name, prop in list(props.items()):
            if not isinstance(prop, dict) or name in required:
                continue
            if "$ref" in prop:
                rest = {k: v for k, v in prop.items() if k != "$ref"}
                props[name] = {"allOf": [{"$ref": prop["$ref"]}], **rest, "nullable": True}
            else:
                prop["nullable"] = True
    return out


def _adjust(schemas: dict[str, Any]) -> dict[str, Any]:
    """Where casekeeper is more lenient than Coralogix's text, say so."""
    out = copy.deepcopy(schemas)
    token = out.get("cases.v1.PaginationRequest", {}).get("properties", {}).get("pageToken")
    if token is not None:
        token["minLength"] = 0  # an empty token means "first page"
    attachment = out.get("FileAttachment", {})
    if "isDeleted" in attachment.get("required", []):
        attachment["required"] = [r for r in attachment["required"] if r != "isDeleted"]
        attachment["properties"]["isDeleted"]["description"] = "Defaults to false."
    return out


def _id_param(name: str) -> dict[str, Any]:
    pattern, what = (EVENT_ID, "event UUID") if name == "event_id" else (
        CASE_ID, "case UUID or readable id such as CASE-123 (any letter case)"
    )  # fmt: skip
    return {
        "in": "path",
        "name": name,
        "required": True,
        "description": f"The {what}.",
        "schema": {"type": "string", "pattern": pattern, "minLength": 1, "maxLength": 64},
        "style": "simple",
    }


def _bulk_ids_param() -> dict[str, Any]:
    return {
        "in": "query",
        "name": "ids",
        "required": True,
        "description": "Case ids (repeat the parameter, or separate with commas). Ids that are "
        "malformed or unknown are reported in X-Casekeeper-Bulk-Failures.",
        "schema": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_BULK,
            "items": strict_ids_items(),
        },
        "style": "form",
        "explode": True,
    }


def _relax_bulk_ids(schema: dict[str, Any]) -> None:
    ids = schema.get("properties", {}).get("ids")
    if isinstance(ids, dict) and ids.get("type") == "array":
        ids["items"] = {"type": "string"}
        ids["minItems"] = 1


def _finish(op: dict[str, Any], route: RouteSpec) -> None:
    """What every operation documents besides the spec's: the statuses casekeeper may also
    answer, the bulk failures header, the bearer key."""
    for status, text in EXTRA_STATUSES.items():
        if status == "415" and route.body in (Body.NONE, Body.QUERY_IDS, Body.QUERY):
            continue
        op["responses"].setdefault(
            status,
            {"description": text, "content": {"application/json": {"schema": ERROR_REF}}},
        )
    if route.render.value == "cases":
        op["responses"]["200"]["headers"] = {
            "X-Casekeeper-Bulk-Failures": {
                "description": "JSON array of {id, code, message} for ids not processed.",
                "schema": {"type": "string"},
            }
        }
    op["security"] = [{"bearer": []}]


@cache
def openapi_document() -> dict[str, Any]:
    cases, events = _load("cases_service.json"), _load("case_events_service.json")
    incidents = _load("incidents_service.json")
    settings = _load("case_settings_service.json")
    notifications = _load("cases_notification_service.json")
    # The specs share a few schemas (Error, ...), identical in each.
    schemas = {
        **cases["components"]["schemas"],
        **events["components"]["schemas"],
        **incidents["components"]["schemas"],
        **settings["components"]["schemas"],
        **notifications["components"]["schemas"],
    }
    source_paths = {**cases["paths"], **events["paths"]}
    paths: dict[str, Any] = {}
    for route in ROUTES:
        op = copy.deepcopy(source_paths[route.path][route.method.lower()])
        op.pop("externalDocs", None)
        names = [seg[1:-1] for seg in route.path.split("/") if seg.startswith("{")]
        params = [p for p in op.get("parameters", []) if p.get("in") != "path"]
        if route.body is Body.QUERY_IDS:
            params = [p for p in params if p.get("name") != "ids"] + [_bulk_ids_param()]
        op["parameters"] = [_id_param(n) for n in names] + params
        body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
        if "schema" in body:
            _relax_bulk_ids(body["schema"])
        _finish(op, route)
        paths.setdefault(route.path, {})[route.method.lower()] = op
    paths.update(incident_paths(incidents, schemas, _finish))
    paths.update(settings_paths(settings, _finish))
    for route in NOTIFICATION_ROUTES:
        op = copy.deepcopy(notifications["paths"][route.path][route.method.lower()])
        op.pop("externalDocs", None)
        _finish(op, route)
        paths.setdefault(route.path, {})[route.method.lower()] = op
    paths = _lenient_enums(_nullable(paths))
    components = _lenient_enums(_nullable(_adjust(schemas)))
    strict_components(components)
    strict_incident_components(components)
    strict_settings_components(components)
    settings_ops = {(r.path, r.method.lower()) for r in SETTINGS_ROUTES}
    incident_ops = {(r.path, r.method.lower()): r for r in INCIDENT_ROUTES}
    for path, ops in paths.items():
        for method, op in ops.items():
            incident = incident_ops.get((path, method))
            if incident is not None:
                strict_incident_op(components, op, incident)
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            if "schema" in body:
                if (path, method) in settings_ops:
                    strict_settings_body(body["schema"])
                elif incident is None:
                    strict_body(components, body["schema"])
                if body["schema"].get("required") or body["schema"].get("anyOf"):
                    op["requestBody"]["required"] = True  # no body is no required field
    paths.update(_own_paths())
    doc: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {"title": "casekeeper", "version": "1.0.0", "description": DESCRIPTION},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
    return doc


def _own_paths() -> dict[str, Any]:
    plain = {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}
    return {
        "/healthz": {"get": {"operationId": "Healthz", "summary": "Liveness", "tags": ["Server"],
                             "security": [], "responses": {"200": plain}}},
        "/readyz": {"get": {"operationId": "Readyz", "summary": "Readiness (database reachable)",
                            "tags": ["Server"], "security": [],
                            "responses": {"200": plain, "503": {
                                "description": "Database unreachable",
                                "content": {"application/json": {"schema": ERROR_REF}}}}}},
    }  # fmt: skip
