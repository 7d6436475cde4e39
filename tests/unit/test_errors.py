"""The error catalog: every code maps to a real gRPC status and the intended HTTP status."""

from __future__ import annotations

from typing import Final

import grpc
import pytest

from casekeeper.domain.errors import (
    CATALOG,
    CasekeeperError,
    ErrorCode,
    ErrorSpec,
    case_not_found,
    invalid,
)

# Written out from API_DIGEST §7.1 (and §4.1 for transitions), not copied from CATALOG. Keyed by
# member name so the table can name codes the service raises and transport-level REST codes.
EXPECTED: Final[dict[str, tuple[int, str]]] = {
    "INVALID_ARGUMENT": (400, "INVALID_ARGUMENT"),
    "INVALID_PAGE_TOKEN": (400, "INVALID_ARGUMENT"),
    "UNAUTHENTICATED": (401, "UNAUTHENTICATED"),
    "USER_NOT_FOUND": (404, "NOT_FOUND"),
    "TAG_NOT_FOUND": (404, "NOT_FOUND"),
    "VIEW_NOT_FOUND": (404, "NOT_FOUND"),
    "RATE_LIMITED": (429, "RESOURCE_EXHAUSTED"),
    "PERMISSION_DENIED": (403, "PERMISSION_DENIED"),
    "CASE_NOT_FOUND": (404, "NOT_FOUND"),
    "EVENT_NOT_FOUND": (404, "NOT_FOUND"),
    "API_KEY_NOT_FOUND": (404, "NOT_FOUND"),
    "INDICATOR_NOT_FOUND": (404, "NOT_FOUND"),
    "INCIDENT_NOT_FOUND": (404, "NOT_FOUND"),
    "SETTINGS_NOT_FOUND": (404, "NOT_FOUND"),
    "CONNECTOR_NOT_FOUND": (404, "NOT_FOUND"),
    "NOTIFICATION_ROUTE_NOT_FOUND": (404, "NOT_FOUND"),
    "DELIVERY_NOT_FOUND": (404, "NOT_FOUND"),
    "IN_USE": (400, "FAILED_PRECONDITION"),
    "NOT_REPLAYABLE": (400, "FAILED_PRECONDITION"),
    "INCIDENT_INVALID_TRANSITION": (400, "FAILED_PRECONDITION"),
    "INVALID_TRANSITION": (400, "FAILED_PRECONDITION"),
    "NOT_EDITABLE": (400, "FAILED_PRECONDITION"),
    "CONFLICT": (409, "ABORTED"),
    "ALREADY_EXISTS": (409, "ALREADY_EXISTS"),
    "INTERNAL": (500, "INTERNAL"),
    # REST transport errors: HTTP is what the client sees; the gRPC name is for logs/metrics.
    "UNSUPPORTED_MEDIA_TYPE": (415, "INVALID_ARGUMENT"),
    "PAYLOAD_TOO_LARGE": (413, "RESOURCE_EXHAUSTED"),
    "ROUTE_NOT_FOUND": (404, "UNIMPLEMENTED"),
    "METHOD_NOT_ALLOWED": (405, "UNIMPLEMENTED"),
    "UNAVAILABLE": (503, "UNAVAILABLE"),
}
TRANSPORT_ONLY: Final = frozenset(
    {"UNSUPPORTED_MEDIA_TYPE", "PAYLOAD_TOO_LARGE", "ROUTE_NOT_FOUND", "METHOD_NOT_ALLOWED"}
)
SERVER_ERRORS: Final = frozenset({"INTERNAL", "UNAVAILABLE"})

# The HTTP status grpc-gateway uses for each gRPC code (google.rpc.Code → HTTP).
GATEWAY_HTTP: Final[dict[str, int]] = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ABORTED": 409,
    "ALREADY_EXISTS": 409,
    "RESOURCE_EXHAUSTED": 429,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
}

ALL_CODES: Final = [pytest.param(code, id=code.name) for code in ErrorCode]
GRPC_REACHABLE: Final = [
    pytest.param(code, id=code.name) for code in ErrorCode if code.name not in TRANSPORT_ONLY
]


def test_every_error_code_has_a_catalog_entry_and_an_expectation() -> None:
    assert set(CATALOG) == set(ErrorCode)
    assert {code.name for code in ErrorCode} <= set(EXPECTED)


@pytest.mark.parametrize("code", ALL_CODES)
def test_catalog_maps_code_to_intended_http_and_grpc_status(code: ErrorCode) -> None:
    assert (CATALOG[code].http_status, CATALOG[code].grpc_status) == EXPECTED[code.name]


@pytest.mark.parametrize("code", ALL_CODES)
def test_grpc_status_is_a_real_status_code_member(code: ErrorCode) -> None:
    name = CATALOG[code].grpc_status
    member = grpc.StatusCode[name]
    assert member.name == name
    assert member is not grpc.StatusCode.OK


@pytest.mark.parametrize("code", ALL_CODES)
def test_http_status_is_a_client_or_server_error(code: ErrorCode) -> None:
    status = CATALOG[code].http_status
    expected_class = 5 if code.name in SERVER_ERRORS else 4
    assert status // 100 == expected_class


@pytest.mark.parametrize("code", GRPC_REACHABLE)
def test_http_status_agrees_with_grpc_gateway_when_error_can_come_from_grpc(
    code: ErrorCode,
) -> None:
    spec = CATALOG[code]
    assert spec.http_status == GATEWAY_HTTP[spec.grpc_status]


def test_error_codes_are_unique_dotted_strings() -> None:
    values = [code.value for code in ErrorCode]
    assert len(values) == len(set(values))
    assert all(v == v.lower() and " " not in v for v in values)


def test_error_exposes_its_catalog_spec_and_message() -> None:
    err = CasekeeperError(ErrorCode.NOT_EDITABLE, "only comments can be edited")
    assert err.spec == ErrorSpec(400, "FAILED_PRECONDITION")
    assert err.message == "only comments can be edited"
    assert str(err) == "only comments can be edited"
    assert repr(err) == "CasekeeperError('event.not_editable', 'only comments can be edited')"


def test_invalid_builds_an_invalid_argument_error() -> None:
    err = invalid("title: required")
    assert err.code is ErrorCode.INVALID_ARGUMENT
    assert err.message == "title: required"
    assert err.spec.http_status == 400


def test_case_not_found_names_the_reference_as_given() -> None:
    err = case_not_found("case-999999")
    assert err.code is ErrorCode.CASE_NOT_FOUND
    assert "'case-999999'" in err.message
    assert err.spec == ErrorSpec(404, "NOT_FOUND")
