"""The one error catalog. Every failure a caller can see is a ``CasekeeperError`` with a code
from ``ErrorCode``; ``CATALOG`` maps each code to its HTTP status and gRPC status name.

Adapters translate with the catalog and never branch on message text.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class ErrorCode(StrEnum):
    INVALID_ARGUMENT = "request.invalid_argument"
    INVALID_PAGE_TOKEN = "request.invalid_page_token"  # noqa: S105 - not a secret
    UNAUTHENTICATED = "auth.unauthenticated"
    PERMISSION_DENIED = "auth.permission_denied"
    CASE_NOT_FOUND = "case.not_found"
    EVENT_NOT_FOUND = "event.not_found"
    API_KEY_NOT_FOUND = "api_key.not_found"
    INDICATOR_NOT_FOUND = "case.indicator_not_found"
    INVALID_TRANSITION = "case.invalid_transition"
    NOT_EDITABLE = "event.not_editable"
    CONFLICT = "case.concurrent_update"
    ALREADY_EXISTS = "resource.already_exists"
    UNSUPPORTED_MEDIA_TYPE = "request.unsupported_media_type"
    PAYLOAD_TOO_LARGE = "request.payload_too_large"
    ROUTE_NOT_FOUND = "request.route_not_found"
    METHOD_NOT_ALLOWED = "request.method_not_allowed"
    UNAVAILABLE = "service.unavailable"
    INTERNAL = "internal"


@dataclass(frozen=True, slots=True)
class ErrorSpec:
    http_status: int
    grpc_status: str  # name of a grpc.StatusCode member; the domain does not import grpc


CATALOG: Final[dict[ErrorCode, ErrorSpec]] = {
    ErrorCode.INVALID_ARGUMENT: ErrorSpec(400, "INVALID_ARGUMENT"),
    ErrorCode.INVALID_PAGE_TOKEN: ErrorSpec(400, "INVALID_ARGUMENT"),
    ErrorCode.UNAUTHENTICATED: ErrorSpec(401, "UNAUTHENTICATED"),
    ErrorCode.PERMISSION_DENIED: ErrorSpec(403, "PERMISSION_DENIED"),
    ErrorCode.CASE_NOT_FOUND: ErrorSpec(404, "NOT_FOUND"),
    ErrorCode.EVENT_NOT_FOUND: ErrorSpec(404, "NOT_FOUND"),
    ErrorCode.API_KEY_NOT_FOUND: ErrorSpec(404, "NOT_FOUND"),
    ErrorCode.INDICATOR_NOT_FOUND: ErrorSpec(404, "NOT_FOUND"),
    ErrorCode.INVALID_TRANSITION: ErrorSpec(400, "FAILED_PRECONDITION"),
    ErrorCode.NOT_EDITABLE: ErrorSpec(400, "FAILED_PRECONDITION"),
    ErrorCode.CONFLICT: ErrorSpec(409, "ABORTED"),
    ErrorCode.ALREADY_EXISTS: ErrorSpec(409, "ALREADY_EXISTS"),
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: ErrorSpec(415, "INVALID_ARGUMENT"),
    ErrorCode.PAYLOAD_TOO_LARGE: ErrorSpec(413, "RESOURCE_EXHAUSTED"),
    ErrorCode.ROUTE_NOT_FOUND: ErrorSpec(404, "UNIMPLEMENTED"),
    ErrorCode.METHOD_NOT_ALLOWED: ErrorSpec(405, "UNIMPLEMENTED"),
    ErrorCode.UNAVAILABLE: ErrorSpec(503, "UNAVAILABLE"),
    ErrorCode.INTERNAL: ErrorSpec(500, "INTERNAL"),
}


class CasekeeperError(Exception):
    """A failure with a public, actionable message."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def spec(self) -> ErrorSpec:
        return CATALOG[self.code]

    def __repr__(self) -> str:
        return f"CasekeeperError({self.code.value!r}, {self.message!r})"


def invalid(message: str) -> CasekeeperError:
    return CasekeeperError(ErrorCode.INVALID_ARGUMENT, message)


def case_not_found(ref: str) -> CasekeeperError:
    return CasekeeperError(ErrorCode.CASE_NOT_FOUND, f"Case not found: {ref!r}")
