"""The one error catalog. Every failure a caller can see is a ``CasekeeperError`` with a code
from ``ErrorCode``; ``CATALOG`` maps each code to its HTTP status and gRPC status name.

Adapters translate with the catalog and never branch on message text.

Messages quote caller input only through ``quote``: bounded, and with anything that looks like
an API key redacted, so a status message or a log line never carries a megabyte of input nor a
secret sent by mistake (an API key given as a case id). Every message is bounded as a last
resort too (``MAX_MESSAGE``), since some quote a parser's own words about the input.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
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
    USER_NOT_FOUND = "user.not_found"
    TAG_NOT_FOUND = "tag.not_found"
    VIEW_NOT_FOUND = "saved_view.not_found"
    RATE_LIMITED = "auth.rate_limited"
    INDICATOR_NOT_FOUND = "case.indicator_not_found"
    INCIDENT_NOT_FOUND = "incident.not_found"
    SETTINGS_NOT_FOUND = "case_settings.not_found"
    CONNECTOR_NOT_FOUND = "connector.not_found"
    NOTIFICATION_ROUTE_NOT_FOUND = "notification_route.not_found"
    DELIVERY_NOT_FOUND = "delivery.not_found"
    INCIDENT_INVALID_TRANSITION = "incident.invalid_transition"
    INVALID_TRANSITION = "case.invalid_transition"
    NOT_EDITABLE = "event.not_editable"
    CONFLICT = "case.concurrent_update"
    ALREADY_EXISTS = "resource.already_exists"
    IN_USE = "resource.in_use"
    NOT_REPLAYABLE = "delivery.not_replayable"
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
    ErrorCode.USER_NOT_FOUND: ErrorSpec(404, "NOT_FOUND"),
    ErrorCode.TAG_NOT_FOUND: ErrorSpec(404, "NOT_FOUND"),
    ErrorCode.VIEW_NOT_FOUND: ErrorSpec(404, "NOT_FOUND"),
    ErrorCode.RATE_LIMITED: ErrorSpec(429, "RESOURCE_EXHAUSTED"),
    ErrorCode.INDICATOR_NOT_FOUND: ErrorSpec(404, "NOT_FOUND"),
    ErrorCode.INCIDENT_NOT_FOUND: ErrorSpec(404, "NOT_FOUND"),
    ErrorCode.SETTINGS_NOT_FOUND: ErrorSpec(404, "NOT_FOUND"),
    ErrorCode.CONNECTOR_NOT_FOUND: ErrorSpec(404, "NOT_FOUND"),
    ErrorCode.NOTIFICATION_ROUTE_NOT_FOUND: ErrorSpec(404, "NOT_FOUND"),
    ErrorCode.DELIVERY_NOT_FOUND: ErrorSpec(404, "NOT_FOUND"),
    ErrorCode.INCIDENT_INVALID_TRANSITION: ErrorSpec(400, "FAILED_PRECONDITION"),
    ErrorCode.INVALID_TRANSITION: ErrorSpec(400, "FAILED_PRECONDITION"),
    ErrorCode.NOT_EDITABLE: ErrorSpec(400, "FAILED_PRECONDITION"),
    ErrorCode.CONFLICT: ErrorSpec(409, "ABORTED"),
    ErrorCode.ALREADY_EXISTS: ErrorSpec(409, "ALREADY_EXISTS"),
    ErrorCode.IN_USE: ErrorSpec(400, "FAILED_PRECONDITION"),
    ErrorCode.NOT_REPLAYABLE: ErrorSpec(400, "FAILED_PRECONDITION"),
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: ErrorSpec(415, "INVALID_ARGUMENT"),
    ErrorCode.PAYLOAD_TOO_LARGE: ErrorSpec(413, "RESOURCE_EXHAUSTED"),
    ErrorCode.ROUTE_NOT_FOUND: ErrorSpec(404, "UNIMPLEMENTED"),
    ErrorCode.METHOD_NOT_ALLOWED: ErrorSpec(405, "UNIMPLEMENTED"),
    ErrorCode.UNAVAILABLE: ErrorSpec(503, "UNAVAILABLE"),
    ErrorCode.INTERNAL: ErrorSpec(500, "INTERNAL"),
}


QUOTE_LIMIT = 64  # characters of a quoted value: ids and names fit, a megabyte does not
MAX_MESSAGE = 1000  # bytes (UTF-8) of a whole message: gRPC metadata and log lines stay small
# ``ck_<prefix>_<secret>`` (service/auth.py: 8 characters of prefix), in any letter case: the
# prefix is public (keys are listed by it), the secret never is, even cut short or glued to
# the text before it (over-redacting a word ending in "ck" costs nothing).
_KEY = re.compile(r"ck_([A-Za-z0-9]{8})_[A-Za-z0-9_\-]+", re.IGNORECASE)


def redact(text: str) -> str:
    """``text`` with every API key-like part reduced to ``ck_<prefix>_…``."""
    return _KEY.sub(lambda m: f"{m.group(0)[:3]}{m.group(1)}_…", text) if "_" in text else text


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """A caller's ``value`` for an error message or a log line: its ``repr`` (so control
    characters show escaped), keys redacted, at most ``limit`` characters of it, and its
    length when it was cut: ``'xxxx…' (1048576 characters)``."""
    text = value if isinstance(value, str) else repr(value)
    # Redact a little beyond the cut, so a key that crosses it is still recognized.
    head = redact(text[: limit + 80])
    if len(text) <= limit and len(head) <= limit:
        return repr(head) if isinstance(value, str) else head
    shown = repr(head[:limit]) if isinstance(value, str) else head[:limit]
    return f"{shown}… ({len(text)} characters)"


def _bounded(message: str) -> str:
    message = redact(message[: MAX_MESSAGE + 80])
    data = message.encode()
    if len(data) <= MAX_MESSAGE:
        return message
    return data[: MAX_MESSAGE - 3].decode(errors="ignore") + "…"


class CasekeeperError(Exception):
    """A failure with a public, actionable message.

    ``field`` is the canonical path of the input at fault (``title``, ``assignees[2]``), kept
    apart from ``reason`` so each dialect can name it its own way (``rename``); ``detail``
    holds typed facts (the status a transition was refused in, the version a caller sent) for
    a dialect that words the failure itself. ``message`` is ``field: reason``.
    """

    def __init__(
        self,
        code: ErrorCode,
        reason: str,
        *,
        field: str | None = None,
        detail: Mapping[str, object] | None = None,
    ) -> None:
        reason = _bounded(reason)
        message = reason if field is None else _bounded(f"{field}: {reason}")
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.field = field
        self.detail: Mapping[str, object] = detail or {}
        self.message = message

    @property
    def spec(self) -> ErrorSpec:
        return CATALOG[self.code]

    def rename(self, names: Mapping[str, str]) -> CasekeeperError:
        """This error with its field named as a dialect names it: ``names`` maps a canonical
        path, or the first segment of one (``assignees`` for ``assignees[2]``), to the
        dialect's path. An error whose field is not in ``names`` comes back as it is."""
        field = self.field
        if field is None:
            return self
        head, sep, rest = field.partition("[")
        renamed = names.get(field) or (names[head] + sep + rest if head in names else None)
        if renamed is None or renamed == field:
            return self
        return CasekeeperError(self.code, self.reason, field=renamed, detail=self.detail)

    def __repr__(self) -> str:
        return f"CasekeeperError({self.code.value!r}, {self.message!r})"


def invalid(reason: str, *, field: str | None = None) -> CasekeeperError:
    return CasekeeperError(ErrorCode.INVALID_ARGUMENT, reason, field=field)


def case_not_found(ref: str) -> CasekeeperError:
    return CasekeeperError(ErrorCode.CASE_NOT_FOUND, f"Case not found: {quote(ref)}")


def event_not_found(event_id: str) -> CasekeeperError:
    return CasekeeperError(ErrorCode.EVENT_NOT_FOUND, f"Event not found: {quote(event_id)}")


def incident_not_found(ref: str) -> CasekeeperError:
    return CasekeeperError(ErrorCode.INCIDENT_NOT_FOUND, f"Incident not found: {quote(ref)}")
