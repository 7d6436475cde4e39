"""The server's input rules, stated in casekeeper's OpenAPI document.

Coralogix's specs leave most request fields optional and nullable and let every enum take its
``*_UNSPECIFIED`` member; casekeeper refuses many of those requests (400). The document says so,
so that generated clients know the rules and a schema-valid request is one the server accepts
(schemathesis checks both directions, ``tests/api/coralogix/rest/test_schemathesis.py``):

- a required field is never ``null`` (``openapi._nullable``: null means unset);
- enums the server refuses unspecified lose their ``*_UNSPECIFIED`` name and its number 0;
- text the server trims must hold a non-whitespace character and no NUL (``TEXT``);
- list and length limits are the server's own constants.

Only request schemas change here: response schemas stay the specs' (a component shared with
responses is copied inline where a request narrows it).
"""

from __future__ import annotations

import copy
from typing import Any

from casekeeper.api.coralogix.query import MAX_TEXT
from casekeeper.domain.query import (
    MAX_FILTER_GROUPS,
    MAX_FILTER_VALUES,
    MAX_PAGE_SIZE,
    MAX_SKIP,
)
from casekeeper.service.timeline import MAX_ATTACHMENTS, MAX_COMMENT
from casekeeper.service.validation import MAX_BULK

# At least one character that is neither whitespace nor NUL, and no NUL anywhere
# (``service.validation.text``: trimmed, then refused if empty or holding NUL).
TEXT = r"^[^\x00]*[^\s\x00][^\x00]*$"
NO_NUL = r"^[^\x00]*$"
UUID_ANY_CASE = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
OPAQUE_CURSOR = (
    "Opaque token from a previous response's `pagination.nextPageToken`, valid only for the "
    "same ordering; empty or absent for the first page. Any other token (forged, altered, or "
    "from another ordering) is refused with 400 and "
    "`X-Casekeeper-Error-Code: request.invalid_page_token`: start again without a token."
)
# Filter lists of enum values: the server refuses the UNSPECIFIED member as a filter.
_ENUM_FILTERS = ("statuses", "priorities", "categories", "indicatorTypes", "breached")
_VALUE_LISTS = ("assignees", "connectorTypeFilters", "impactedEntities", *_ENUM_FILTERS)


def _component(schemas: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """The schema a ``$ref`` or ``allOf: [$ref]`` points at (or ``node`` itself)."""
    ref = node.get("$ref") or next(
        (part["$ref"] for part in node.get("allOf", []) if "$ref" in part), None
    )
    if ref is None:
        return node
    found: dict[str, Any] = schemas[ref.rsplit("/", 1)[-1]]
    return found


def without_unspecified(schemas: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """An inline copy of the lenient enum ``node`` refers to, without member 0 (its
    ``*_UNSPECIFIED`` name and the number 0: the document takes names or numbers)."""
    enum = copy.deepcopy(_component(schemas, node))
    for option in enum["anyOf"]:
        option["enum"] = [v for v in option["enum"] if v != 0 and not _unspecified(v)]
    if "description" in node:
        enum["description"] = node["description"]
    return enum


def _unspecified(value: object) -> bool:
    return isinstance(value, str) and value.endswith("_UNSPECIFIED")


def _text(prop: dict[str, Any], max_len: int | None = None) -> None:
    prop["pattern"] = TEXT
    prop["minLength"] = 1
    if max_len is not None:
        prop["maxLength"] = max_len


def _uuid(prop: dict[str, Any]) -> None:
    """A UUID in any letter case; the pattern alone (no lengths), so that a wrong one is
    reported by the service, in the words gRPC uses (``'bob' is not a UUID``)."""
    prop["pattern"] = UUID_ANY_CASE
    for key in ("minLength", "maxLength", "nullable"):
        prop.pop(key, None)


def _limit(prop: dict[str, Any], most: int, what: str | None = None) -> None:
    prop["maxItems"] = most
    if what:
        prop["description"] = f"{prop.get('description', '').rstrip('.')}. {what}".lstrip(". ")


def _exactly_one(schema: dict[str, Any]) -> None:
    """Exactly one alternative, set (not null): the server drops nulls, so ``{"log": null}``
    is no attachment at all; and the specs' "neither" branch goes (the server wants one)."""
    props = schema["properties"]
    branches = []
    for branch in schema["oneOf"]:
        if "not" in branch:
            continue
        name = branch["required"][0]
        prop = {k: v for k, v in props[name].items() if k != "nullable"}
        branches.append({**branch, "properties": {name: prop}})
    schema["oneOf"] = branches


def strict_components(schemas: dict[str, Any]) -> None:
    """Narrow the request-only components (filters, pagination, lookups) to what is accepted."""
    filters = schemas["CaseFilters"]["properties"]
    for name in _VALUE_LISTS:
        _limit(filters[name], MAX_FILTER_VALUES)
    for name in _ENUM_FILTERS:
        filters[name]["items"] = without_unspecified(schemas, filters[name]["items"])
    for name in ("groupings", "labels"):
        _limit(
            filters[name],
            MAX_FILTER_GROUPS,
            f"At most {MAX_FILTER_VALUES} values over all groups.",
        )
    _text(filters["textSearch"], MAX_TEXT)
    group = schemas["FilterGroup"]["properties"]
    _text(group["key"], MAX_TEXT)
    group["values"]["minItems"] = 1
    _limit(group["values"], MAX_FILTER_VALUES)
    _text(group["values"]["items"], MAX_TEXT)
    schemas["FilterGroup"]["required"] = sorted({*schemas["FilterGroup"].get("required", []),
                                                 "key", "values"})  # fmt: skip
    flat = schemas["CaseLabelsFilter"]["properties"]["flatLabels"]
    _limit(flat, MAX_FILTER_VALUES, f"At most {MAX_FILTER_GROUPS} distinct keys.")
    pair = copy.deepcopy(_component(schemas, flat["items"]))  # v1.KeyValue is also a response's
    for name in ("key", "value"):
        _text(pair["properties"][name], MAX_TEXT)
    flat["items"] = pair
    _text(schemas["AssigneeOption"]["properties"]["assignee"])
    connector = schemas["ConnectorTypeFilter"]
    connector["properties"]["connectorType"] = {
        **without_unspecified(schemas, connector["properties"]["connectorType"]),
        "nullable": True,
    }
    for entity in ("ApmServiceEntityFilter", "ApmDatabaseEntityFilter"):
        _text(schemas[entity]["properties"]["name"], MAX_TEXT)
    alerts = schemas["AlertFilters"]["properties"]
    for name in ("alertIds", "alertVersions"):
        _limit(alerts[name], MAX_FILTER_VALUES)
    _uuid(alerts["alertIds"]["items"])
    _text(alerts["alertVersions"]["items"], MAX_TEXT)
    dates = schemas["DateRangeFilter"]
    dates["description"] = f"{dates['description'].rstrip('.')}; `from` must not be after `to`."
    page = schemas["cases.v1.PaginationRequest"]["properties"]
    page["pageSize"].update(minimum=1, maximum=MAX_PAGE_SIZE)
    page["skip"].update(minimum=0, maximum=MAX_SKIP)
    page["pageToken"].update(description=OPAQUE_CURSOR, maxLength=MAX_TEXT)
    _text(schemas["PrometheusAlertManagerIndicator"]["properties"]["fingerprint"])
    user = schemas["cases.v1.UserDetails"]
    user["required"] = ["userId"]
    _uuid(user["properties"]["userId"])
    group["values"].pop("nullable", None)
    for name in ("AssigneeOption", "ConnectorTypeFilter", "ImpactedEntityFilter",
                 "CommentAttachment"):  # fmt: skip
        _exactly_one(schemas[name])
    for attachment in ("LogAttachment", "CustomDashboardWidgetAttachment", "FileAttachment"):
        for prop in schemas[attachment]["properties"].values():
            if prop.get("pattern") in (r"^[\s\S]*$", r"^[\s\S]*\S[\s\S]*$"):
                prop["pattern"] = TEXT if prop.get("minLength", 0) >= 1 else NO_NUL


def strict_body(schemas: dict[str, Any], body: dict[str, Any]) -> None:
    """Narrow one operation's inline request body schema."""
    props = body.get("properties", {})
    if set(props) == {"title", "resolutionReason"}:  # UpdateCase's patch: one of them, at least
        body["anyOf"] = [
            {"required": [name], "properties": {name: {"type": "string"}}} for name in props
        ]
    for name, prop in props.items():
        if name == "priority":
            props[name] = without_unspecified(schemas, prop)
        elif name == "ids" and prop.get("type") == "array":
            prop["maxItems"] = MAX_BULK
        elif name == "text":
            _text(prop, MAX_COMMENT)
        elif name == "prometheusAlert":
            prop.pop("nullable", None)
            body["required"] = [name]
        elif name == "attachments":
            prop["maxItems"] = MAX_ATTACHMENTS
        elif name in ("title", "reason", "resolutionReason"):
            _text(prop)  # lengths: the specs' (512, 500, 4096) are the server's


def strict_ids_items() -> dict[str, Any]:
    """Items of the query ``ids`` list: the server splits them at commas and skips blanks."""
    return {"type": "string", "minLength": 1, "pattern": r"[^\s,]"}
