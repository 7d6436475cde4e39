"""The ASGI application: every HTTP dialect's routes (``DEFAULT_MOUNTS``: the Coralogix REST
dialect today), plus health, readiness, metrics and the API docs, behind the shared middleware.

This is where dialects are wired in: each mounts as a ``DialectMount`` (errors.py) with its
routes, the path prefixes it owns and its error shape. An error no route handler rendered (404,
405, 413, 500, and the readiness and metrics refusals) is answered in the shape of the dialect
owning the path, by longest prefix, and in casekeeper's own shape on paths no dialect owns."""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Sequence
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from casekeeper.api import threads
from casekeeper.api.coralogix.rest import mount as coralogix
from casekeeper.api.coralogix.rest.openapi import openapi_document
from casekeeper.api.events import mount as events
from casekeeper.api.http.errors import DialectMount, ErrorShapes
from casekeeper.api.http.metrics import Metrics
from casekeeper.api.http.middleware import (
    CLIENT_CLOSED_REQUEST,
    BodyTooLarge,
    ServerMiddleware,
)
from casekeeper.api.http.routing import IndexedRouter
from casekeeper.api.ingest.mount import MOUNTS as INGEST_MOUNTS
from casekeeper.api.ingest.openapi import add_ingest
from casekeeper.api.kibana import mount as kibana
from casekeeper.api.kibana.openapi import add_kibana
from casekeeper.api.notify.openapi import add_notify
from casekeeper.api.notify.rest import MOUNT as NOTIFY_MOUNT
from casekeeper.api.tracecat import mount as tracecat
from casekeeper.api.tracecat.openapi import add_tracecat
from casekeeper.bootstrap import Container
from casekeeper.domain.errors import CasekeeperError, ErrorCode
from casekeeper.store import db_errors
from casekeeper.web import mount as web

log = logging.getLogger("casekeeper.rest")
DEFAULT_MAX_BODY = 4 * 1024 * 1024

CORALOGIX = DialectMount(
    coralogix.NAME, coralogix.PREFIXES, coralogix.error_shape, coralogix.routes,
    patterns=coralogix.PATTERNS,
)  # fmt: skip
KIBANA = DialectMount(kibana.NAME, kibana.PREFIXES, kibana.error_shape, kibana.routes)
TRACECAT = DialectMount(tracecat.NAME, tracecat.PREFIXES, tracecat.error_shape, tracecat.routes)
WEB = DialectMount(web.NAME, web.PREFIXES, web.error_shape, web.routes)
EVENTS = DialectMount(events.NAME, events.PREFIXES, events.error_shape, events.routes)
DEFAULT_MOUNTS: tuple[DialectMount, ...] = (
    CORALOGIX,
    *INGEST_MOUNTS,
    NOTIFY_MOUNT,
    EVENTS,
    KIBANA,
    TRACECAT,
    WEB,
)

DOCS_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>casekeeper API</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/openapi.json", dom_id: "#ui", deepLinking: true});</script>
</body></html>"""


def create_app(
    container: Container,
    *,
    max_body: int = DEFAULT_MAX_BODY,
    mounts: Sequence[DialectMount] = DEFAULT_MOUNTS,
) -> Any:
    """Build the app with ``mounts``' dialects. Returns the ASGI callable (the Starlette app
    wrapped in our middleware). Raises ValueError if two dialects claim a prefix or a dialect
    has a route outside its prefixes."""
    settings = container.settings
    threads.configure(settings.service_threads)
    shapes = ErrorShapes(mounts)
    routes: list[Any] = []
    for mount in mounts:
        mounted = mount.routes(container)
        shapes.check_routes(mount, mounted)
        routes += mounted

    def error_response(request: Request, err: CasekeeperError) -> Response:
        return shapes.for_scope(request.scope)(err)

    metrics = Metrics(
        container.cases.count_by_status,
        by_space=settings.metrics_space_labels,
        backlog=container.ledger.backlog,
        replica=container.replica_stats if container.db.replica is not None else None,
    )
    metrics_token = settings.metrics_token.encode()
    openapi_bytes = orjson.dumps(
        events.add_events(add_tracecat(add_kibana(add_notify(add_ingest(openapi_document())))))
    )

    # The pid tells which of `serve --processes N` answered (docs/SCALING.md).
    alive = orjson.dumps({"status": "ok", "pid": os.getpid()})

    async def healthz(_: Request) -> Response:
        return Response(alive, media_type="application/json")

    async def readyz(request: Request) -> Response:
        try:
            await run_in_threadpool(container.cases.ping)
        except Exception as err:  # any database failure means "not ready"
            log.warning("readiness check failed: %s", err)
            unreachable = CasekeeperError(ErrorCode.UNAVAILABLE, "database unreachable")
            return error_response(request, unreachable)
        return _json({"status": "ready"})

    async def metrics_endpoint(request: Request) -> Response:
        if metrics_token and not _bearer_matches(request, metrics_token):
            return error_response(
                request,
                CasekeeperError(
                    ErrorCode.UNAUTHENTICATED,
                    "/metrics wants 'Authorization: Bearer <token>' (CASEKEEPER_METRICS_TOKEN)",
                ),
            )
        body = await run_in_threadpool(metrics.render)
        return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")

    async def openapi(_: Request) -> Response:
        return Response(openapi_bytes, media_type="application/json")

    async def docs(_: Request) -> Response:
        return HTMLResponse(DOCS_HTML)

    async def not_found(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = ErrorCode.METHOD_NOT_ALLOWED if exc.status_code == 405 else ErrorCode.ROUTE_NOT_FOUND
        message = "method not allowed for this path" if exc.status_code == 405 else "no such path"
        response = error_response(request, CasekeeperError(code, message))
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    import swagger_ui_bundle

    async def too_large(request: Request, exc: Exception) -> Response:
        return error_response(request, CasekeeperError(ErrorCode.PAYLOAD_TOO_LARGE, str(exc)))

    async def disconnected(_: Request, __: Exception) -> Response:
        # Nobody is there to read it: the status is for metrics and the access log.
        return Response(status_code=CLIENT_CLOSED_REQUEST)

    async def home(_: Request) -> Response:
        return RedirectResponse(web.BASE + "/", 303)  # the console's queue

    routes += [
        Route("/", home, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/docs", docs, methods=["GET"]),
        Mount("/docs/static", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path)),
    ]

    async def crashed(request: Request, exc: Exception) -> Response:
        fault = db_errors.translate(exc)  # the database away or its disk full: 503
        if fault is not None:
            return error_response(request, fault)
        rid = request.scope.get("state", {}).get("request_id", "")
        crash = CasekeeperError(ErrorCode.INTERNAL, f"internal error; quote request id {rid}")
        return error_response(request, crash)

    app = Starlette(
        routes=routes,
        exception_handlers={
            404: not_found,
            405: not_found,
            BodyTooLarge: too_large,
            ClientDisconnect: disconnected,
            Exception: crashed,
        },
    )
    app.router = IndexedRouter(routes)  # Starlette's routing, trying only candidates
    return ServerMiddleware(app, max_body=max_body, metrics=metrics, shapes=shapes)


def _json(data: Any) -> Response:
    return Response(orjson.dumps(data), media_type="application/json")


def _bearer_matches(request: Request, token: bytes) -> bool:
    given = request.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token)
