"""Pure ASGI middleware (no BaseHTTPMiddleware): path prefixes, request ids, body limits,
metrics and access logs, and a last-resort 500; its 413 and 500 come out in the error shape of
the dialect owning the path (errors.py)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from casekeeper.api import request_id as request_ids
from casekeeper.api.http.errors import CLIENT_PATH, ErrorShapes
from casekeeper.api.http.metrics import Metrics
from casekeeper.domain.errors import CasekeeperError, ErrorCode, redact
from casekeeper.store import db_errors

log = logging.getLogger("casekeeper.rest")
access_log = logging.getLogger("casekeeper.access")

PREFIX = "/mgmt/openapi"
# What nginx logs for a client that went away before its response: no response was sent, and
# it is neither the server's failure (5xx) nor a refusal the client saw (4xx).
CLIENT_CLOSED_REQUEST = 499


def strip_prefix(path: str, served: Callable[[str], bool]) -> str:
    """``/mgmt/openapi[/{version}]/<path>`` → ``/<path>``: the version segment is there when
    what follows the prefix is not a path a dialect serves (``served``), so that
    ``/mgmt/openapi/incidents/…`` and ``/mgmt/openapi/v1/incidents:assign`` keep their first
    segment and ``/mgmt/openapi/latest/cases/…`` loses ``latest``."""
    if not path.startswith(PREFIX + "/"):
        return path
    rest = path[len(PREFIX) :]
    _, _, tail = rest[1:].partition("/")
    if tail and not served(rest):
        return "/" + tail
    return rest


def _shown(path: str) -> str:
    """A request path for a log line: bounded, and a key sent as a case id redacted."""
    return redact(path[:256]) + ("…" if len(path) > 256 else "")


class BodyTooLarge(Exception):
    """Raised while reading a body past the limit; the app answers 413 (see app.py)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"request body over {limit} bytes")
        self.limit = limit


class ServerMiddleware:
    def __init__(
        self, app: ASGIApp, *, max_body: int, metrics: Metrics, shapes: ErrorShapes
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.metrics = metrics
        self.shapes = shapes

    def _served(self, path: str) -> bool:
        """Whether a dialect owns ``path`` itself (not only through the gateway prefix)."""
        return self.shapes.owner(path) is not None and not path.startswith(PREFIX + "/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        client_path = scope["path"]
        path = strip_prefix(client_path, self._served)
        # The gateway prefix is one dialect's (Coralogix's): it never leads into another's.
        if path != client_path and self.shapes.owner(path) is not self.shapes.owner(PREFIX):
            path = client_path
        if path != client_path:
            scope = {**scope, "path": path, "raw_path": path.encode()}
        request_id = ""
        length = 0
        for key, value in scope["headers"]:
            if key == b"x-request-id":
                request_id = request_ids.accepted(value.decode("latin-1"))
            elif key == b"content-length" and value.isdigit():
                length = int(value)
        request_id = request_id or request_ids.new()
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state[CLIENT_PATH] = client_path
        status = 500
        started_response = False
        rid = request_id.encode("ascii")

        async def send_with_id(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                status = message["status"]
                started_response = True
                message = {
                    **message,
                    "headers": [*message.get("headers", []), (b"x-request-id", rid)],
                }
            await send(message)

        try:
            if length > self.max_body:
                message = f"request body over {self.max_body} bytes"
                err = CasekeeperError(ErrorCode.PAYLOAD_TOO_LARGE, message)
                await self._error(scope, receive, send_with_id, err)
            else:
                await self._run(scope, receive, send_with_id)
        except Exception as exc:
            fault = db_errors.translate(exc)
            if fault is None:
                log.exception("request %s %s %s failed", request_id, scope["method"], _shown(path))
            else:  # the database away or its disk full: the operator's to fix, no traceback
                log.warning(
                    "request %s %s %s failed: %s (%s)",
                    request_id, scope["method"], _shown(path), fault.message, type(exc).__name__,
                )  # fmt: skip
            if not started_response:
                message = f"internal error; quote request id {request_id}"
                err = fault or CasekeeperError(ErrorCode.INTERNAL, message)
                await self._error(scope, receive, send_with_id, err)
        finally:
            elapsed = time.perf_counter() - started
            self.metrics.observe(_route_name(scope), scope["method"], status, elapsed)
            level = logging.DEBUG
            if status >= 500:
                level = logging.ERROR
            elif status == CLIENT_CLOSED_REQUEST:
                level = logging.INFO
            if access_log.isEnabledFor(level):
                access_log.log(
                    level,
                    "%s %s %s -> %d in %.1f ms",
                    request_id, scope["method"], _shown(path), status, elapsed * 1000,
                )  # fmt: skip

    async def _run(self, scope: Scope, receive: Receive, send: Send) -> None:
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise BodyTooLarge(self.max_body)
            return message

        await self.app(scope, limited_receive, send)

    async def _error(
        self, scope: Scope, receive: Receive, send: Send, err: CasekeeperError
    ) -> None:
        response = self.shapes.for_scope(scope)(err)
        await response(scope, receive, send)


def _route_name(scope: Scope) -> str:
    route: Any = scope.get("route")
    return str(getattr(route, "path", None) or "unmatched")
