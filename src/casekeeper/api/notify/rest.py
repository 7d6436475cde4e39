"""The NotificationService under ``/api/v1/``: each route parses its path and JSON body into the
RPC's request message, runs the same operation as gRPC (ops.py), and answers the response
message as JSON (camelCase, every field present). Errors are casekeeper's own shape."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import orjson
from google.protobuf import json_format
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from casekeeper.api.http.errors import DialectMount, generic_error
from casekeeper.api.notify.ops import OPERATIONS
from casekeeper.bootstrap import Container
from casekeeper.domain.errors import CasekeeperError, invalid
from casekeeper.service.auth import authenticate_async

MAX_BODY: Final = 1024 * 1024
PREFIX: Final = "/api/v1"


@dataclass(frozen=True, slots=True)
class RestRoute:
    method: str
    path: str
    rpc: str
    body: str | None  # the request field the JSON body fills; "" for the whole request
    path_field: str | None = None  # the request field the path's {id} fills


C, R = f"{PREFIX}/connectors", f"{PREFIX}/routes"
REST_ROUTES: Final[tuple[RestRoute, ...]] = (
    RestRoute("POST", C, "CreateConnector", "connector"),
    RestRoute("GET", C, "ListConnectors", None),
    RestRoute("POST", C + "/{id}:test", "TestConnector", None, "id"),
    RestRoute("GET", C + "/{id}", "GetConnector", None, "id"),
    RestRoute("PATCH", C + "/{id}", "UpdateConnector", "connector", "id"),
    RestRoute("DELETE", C + "/{id}", "DeleteConnector", None, "id"),
    RestRoute("POST", R + ":explain", "ExplainRouting", ""),
    RestRoute("POST", R, "CreateRoute", "route"),
    RestRoute("GET", R, "ListRoutes", None),
    RestRoute("GET", R + "/{id}", "GetRoute", None, "id"),
    RestRoute("PATCH", R + "/{id}", "UpdateRoute", "route", "id"),
    RestRoute("DELETE", R + "/{id}", "DeleteRoute", None, "id"),
    RestRoute("GET", PREFIX + "/cases/{id}/deliveries", "ListDeliveries", None, "case_id"),
    RestRoute("POST", PREFIX + "/deliveries/{id}:replay", "ReplayDelivery", None, "id"),
)


async def _body(request: Request) -> Any:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise invalid(f"a request body is at most {MAX_BODY} bytes")
    if not raw.strip():
        return {}
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise invalid(f"the body is not JSON: {exc}") from None


def _request(spec: RestRoute, body: Any, path_id: str | None) -> Any:
    message = OPERATIONS[spec.rpc][0]()
    if spec.body is not None:
        if not isinstance(body, dict):
            raise invalid("the body must be a JSON object")
        target = message if spec.body == "" else getattr(message, spec.body)
        try:
            json_format.ParseDict(body, target)
        except json_format.ParseError as exc:
            raise invalid(str(exc).replace("\n", " ")[:500]) from None
    if spec.path_field is not None:
        setattr(message, spec.path_field, path_id or "")
    return message


def _endpoint(c: Container, spec: RestRoute) -> Any:
    work = OPERATIONS[spec.rpc][1]

    async def endpoint(request: Request) -> Response:
        try:
            principal = await authenticate_async(
                c.keys, request.headers.get("authorization"), run_in_threadpool
            )
            body = await _body(request) if spec.body is not None else None
            message = _request(spec, body, request.path_params.get("id"))
            result = await run_in_threadpool(work, c, principal, message)
        except CasekeeperError as err:
            return generic_error(err)
        data = json_format.MessageToDict(result, always_print_fields_with_no_presence=True)
        return Response(orjson.dumps(data), 200, media_type="application/json")

    return endpoint


def routes(c: Container) -> Sequence[BaseRoute]:
    return [
        Route(r.path, _endpoint(c, r), methods=[r.method], name=f"NotificationService_{r.rpc}")
        for r in REST_ROUTES
    ]


MOUNT: Final = DialectMount("notify", (PREFIX,), generic_error, routes)
