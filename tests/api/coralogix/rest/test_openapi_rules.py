"""``/openapi.json`` states the rules the server enforces (issue 10, item 13): what it calls
valid, the server accepts. schemathesis checks that at large (``test_schemathesis.py``, slow);
these are the quick checks of each rule, and of the header that tells state from input."""

from __future__ import annotations

from typing import Any

import pytest

from casekeeper.api.coralogix.rest.openapi import openapi_document
from casekeeper.api.coralogix.rest.openapi_rules import TEXT
from casekeeper.domain.query import MAX_FILTER_GROUPS, MAX_FILTER_VALUES, MAX_PAGE_SIZE
from casekeeper.service.timeline import MAX_COMMENT
from casekeeper.service.validation import MAX_BULK
from tests.api.coralogix.rest.conftest import Rest, error_message
from tests.conftest import MakeCase

DOC = openapi_document()
SCHEMAS = DOC["components"]["schemas"]


def _body(path: str, method: str) -> dict[str, Any]:
    body: dict[str, Any] = DOC["paths"][path][method]["requestBody"]
    return body


def _schema(path: str, method: str) -> dict[str, Any]:
    schema: dict[str, Any] = _body(path, method)["content"]["application/json"]["schema"]
    return schema


def _enum_values(node: dict[str, Any]) -> list[Any]:
    return [v for option in node["anyOf"] for v in option["enum"]]


BULK_BODIES = [
    ("/cases/assigned/v1", "put"),
    ("/cases/acknowledged/v1", "post"),
    ("/cases/resolved/v1", "post"),
    ("/cases/closed/v1", "post"),
    ("/cases/priority-override/v1", "post"),
]


@pytest.mark.parametrize(("path", "method"), BULK_BODIES)
def test_bulk_ids_are_required_not_null_and_bounded(path: str, method: str) -> None:
    schema = _schema(path, method)
    ids = schema["properties"]["ids"]
    assert "ids" in schema["required"]
    assert not ids.get("nullable")
    assert (ids["minItems"], ids["maxItems"]) == (1, MAX_BULK)


@pytest.mark.parametrize("path", ["/cases/assigned/v1", "/cases/priority-override/v1"])
def test_query_ids_need_one_id_that_is_not_blank(path: str) -> None:
    (param,) = [p for p in DOC["paths"][path]["delete"]["parameters"] if p["name"] == "ids"]
    assert param["required"]
    assert (param["schema"]["minItems"], param["schema"]["maxItems"]) == (1, MAX_BULK)
    assert param["schema"]["items"]["minLength"] == 1


@pytest.mark.parametrize(
    ("path", "method"), [("/cases/priority-override/v1/{id}", "put"), *BULK_BODIES[-1:]]
)
def test_priority_overrides_exclude_unspecified_by_name_and_number(path: str, method: str) -> None:
    schema = _schema(path, method)
    values = _enum_values(schema["properties"]["priority"])
    assert "priority" in schema["required"]
    assert "CASE_PRIORITY_UNSPECIFIED" not in values
    assert 0 not in values
    assert {"CASE_PRIORITY_P1", 1, "CASE_PRIORITY_P5", 5} <= set(values)
    assert "CASE_PRIORITY_UNSPECIFIED" in _enum_values(SCHEMAS["CasePriority"])  # responses


@pytest.mark.parametrize(
    "name", ["statuses", "priorities", "categories", "indicatorTypes", "breached"]
)
def test_enum_filters_exclude_unspecified(name: str) -> None:
    prop = SCHEMAS["CaseFilters"]["properties"][name]
    values = _enum_values(prop["items"])
    assert 0 not in values
    assert not [v for v in values if str(v).endswith("_UNSPECIFIED")]
    assert prop["maxItems"] == MAX_FILTER_VALUES
    connector = SCHEMAS["ConnectorTypeFilter"]["properties"]["connectorType"]
    assert 0 not in _enum_values(connector)


def test_filter_lists_carry_the_servers_limits() -> None:
    filters = SCHEMAS["CaseFilters"]["properties"]
    assert filters["groupings"]["maxItems"] == MAX_FILTER_GROUPS
    assert filters["labels"]["maxItems"] == MAX_FILTER_GROUPS
    assert str(MAX_FILTER_VALUES) in filters["labels"]["description"]
    assert SCHEMAS["FilterGroup"]["properties"]["values"]["minItems"] == 1
    flat = SCHEMAS["CaseLabelsFilter"]["properties"]["flatLabels"]
    assert flat["maxItems"] == MAX_FILTER_VALUES
    assert flat["items"]["properties"]["key"]["pattern"] == TEXT
    assert SCHEMAS["v1.KeyValue"]["properties"]["key"].get("pattern") != TEXT  # responses'
    assert filters["textSearch"]["pattern"] == TEXT
    page = SCHEMAS["cases.v1.PaginationRequest"]["properties"]
    assert page["pageSize"]["maximum"] == MAX_PAGE_SIZE
    assert "400" in page["pageToken"]["description"]


@pytest.mark.parametrize(
    "path", ["/cases/cases/v1/{case_id}/comments", "/cases/events/v1/{event_id}/comments"]
)
def test_comment_text_is_required_not_null_and_not_blank(path: str) -> None:
    method = "post" if path.endswith("{case_id}/comments") else "put"
    schema = _schema(path, method)
    text = schema["properties"]["text"]
    assert "text" in schema["required"]
    assert not text.get("nullable")
    assert (text["pattern"], text["maxLength"]) == (TEXT, MAX_COMMENT)


@pytest.mark.parametrize(
    ("path", "method", "field"),
    [
        ("/cases/assigned/v1/{id}", "post", "assignee"),
        ("/cases/assigned/v1", "put", "assignee"),
        ("/cases/acknowledged/v1", "post", "actor"),
    ],
)
def test_users_are_required_with_their_id(path: str, method: str, field: str) -> None:
    schema = _schema(path, method)
    assert field in schema["required"]
    assert not schema["properties"][field].get("nullable")
    assert SCHEMAS["cases.v1.UserDetails"]["required"] == ["userId"]


def test_bodies_with_required_fields_are_required() -> None:
    assert _body("/cases/indicators/v1/get", "post")["required"]
    assert _schema("/cases/indicators/v1/get", "post")["required"] == ["prometheusAlert"]
    patch = _schema("/cases/cases/v1/{id}", "put")
    assert _body("/cases/cases/v1/{id}", "put")["required"]
    assert sorted(b["required"][0] for b in patch["anyOf"]) == ["resolutionReason", "title"]


def test_one_of_alternatives_are_exactly_one_and_not_null() -> None:
    attachment = SCHEMAS["CommentAttachment"]
    assert len(attachment["oneOf"]) == 3
    for branch in attachment["oneOf"]:
        (name,) = branch["required"]
        assert not branch["properties"][name].get("nullable")
    assert all("not" not in b for b in SCHEMAS["AssigneeOption"]["oneOf"])


# -- the server agrees --------------------------------------------------------------------------


def test_a_lifecycle_refusal_is_told_apart_from_bad_input(rest: Rest, make_case: MakeCase) -> None:
    case = make_case()
    rest.call("CloseCase", case.id)
    refused = rest.raw("AcknowledgeCase", case.id)
    assert refused.status_code == 400
    assert refused.headers["x-casekeeper-error-code"] == "case.invalid_transition"
    bad = rest.raw("SetPriorityOverride", case.id, json={"priority": 0})
    assert bad.status_code == 400
    assert bad.headers["x-casekeeper-error-code"] == "request.invalid_argument"
    token = rest.raw("ListCases", json={"pagination": {"pageToken": "bm90IGEgdG9rZW4"}})
    assert token.status_code == 400
    assert token.headers["x-casekeeper-error-code"] == "request.invalid_page_token"


def test_two_invalid_fields_one_seen_through_null_are_a_400_not_a_500(
    rest: Rest, make_case: MakeCase
) -> None:
    """jsonschema's best_match compared a path starting with a name (``text``, required, so
    never null) with one starting with an index (inside ``attachments``, nullable): a 500."""
    case = make_case()
    body = {"text": "x" * (MAX_COMMENT + 1), "attachments": [{}]}
    response = rest.raw("CreateComment", case.id, json=body)
    assert response.status_code == 400, response.text
    assert error_message(response.json(), 400)
