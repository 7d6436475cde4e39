"""The one REST handler: authenticate, authorize by the shared permission table, decode the
request into the operation's protobuf message, run the shared operation, render the spec's JSON.
It serves the Cases, Case Events and Incidents routes alike.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from casekeeper.api.coralogix.bulk import failure_report
from casekeeper.api.coralogix.case_settings.ops import SETTINGS_OPERATIONS
from casekeeper.api.coralogix.cases import (
    CASES_OPERATIONS,
    EVENTS_OPERATIONS,
    Links,
    Page,
    runs_inline,
)
from casekeeper.api.coralogix.convert import estimate_note, to_json
from casekeeper.api.coralogix.incidents.ops import INCIDENTS_OPERATIONS
from casekeeper.api.coralogix.links import deep_links_to_pb
from casekeeper.api.coralogix.notifications.ops import NOTIFICATION_OPERATIONS
from casekeeper.api.coralogix.permissions import (
    CASES,
    EVENTS,
    INCIDENTS,
    NOTIFICATIONS,
    SETTINGS,
    authorize,
)
from casekeeper.api.coralogix.rest.parse import load_json, normalize, parse_into
from casekeeper.api.coralogix.rest.querystring import query_to_json
from casekeeper.api.coralogix.rest.render import (
    case_json,
    error_json,
    event_json,
    filter_values_json,
    message_json,
)
from casekeeper.api.coralogix.rest.routes import Body, Render, RouteSpec
from casekeeper.api.coralogix.rest.validate import check_body, check_query
from casekeeper.bootstrap import Container
from casekeeper.domain.errors import CasekeeperError, ErrorCode, invalid, quote
from casekeeper.domain.model import Case
from casekeeper.proto.com.coralogixapis.cases.v1 import cases_service_pb2 as pb
from casekeeper.service.auth import authenticate_async
from casekeeper.service.cases import BulkResult
from casekeeper.service.validation import MAX_BULK

log = logging.getLogger("casekeeper.rest")

BULK_FAILURES_HEADER = "x-casekeeper-bulk-failures"
BULK_FAILURES_TOTAL_HEADER = "x-casekeeper-bulk-failures-total"
ESTIMATE_HEADER = "x-casekeeper-estimate"
# The catalog's code of an error, so that a REST client can tell a lifecycle refusal
# (``case.invalid_transition``: 400 as the specs say) from a malformed request (also 400).
ERROR_CODE_HEADER = "x-casekeeper-error-code"
# Operation path (``/pkg.Service/Rpc``) → (request message type, implementation).
_OPERATIONS = {
    **{CASES + rpc: op for rpc, op in CASES_OPERATIONS.items()},
    **{EVENTS + rpc: op for rpc, op in EVENTS_OPERATIONS.items()},
    **{INCIDENTS + rpc: op for rpc, op in INCIDENTS_OPERATIONS.items()},
    **{SETTINGS + rpc: op for rpc, op in SETTINGS_OPERATIONS.items()},
    **{NOTIFICATIONS + rpc: op for rpc, op in NOTIFICATION_OPERATIONS.items()},
}
_JSON_TYPES = ("application/json", "application/problem+json", "text/json")


def _path_params(path: str) -> list[str]:
    return [seg[1:-1] for seg in path.split("/") if seg.startswith("{")]


def json_response(status: int, data: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status, headers, media_type="application/json")


def error_response(err: CasekeeperError) -> Response:
    status = err.spec.http_status
    headers = {ERROR_CODE_HEADER: err.code.value}
    if status == 401:
        headers["www-authenticate"] = "Bearer"
    return json_response(status, error_json(status, err.message), headers)


def _unsupported(content_type: str) -> CasekeeperError:
    return CasekeeperError(
        ErrorCode.UNSUPPORTED_MEDIA_TYPE,
        f"unsupported content type {quote(content_type)}; send application/json",
    )


class Endpoint:
    """A Starlette endpoint for one route."""

    def __init__(self, route: RouteSpec, container: Container) -> None:
        self.route = route
        self.container = container
        self.request_type, self.run = _OPERATIONS[route.operation]
        self.inline = runs_inline(route.operation, container)
        fields = self.request_type.DESCRIPTOR.fields_by_name
        # Path parameters that are wrapper messages (the Incidents API's) go through the JSON
        # reader; plain strings (the Cases API's) straight into the message.
        self.plain_path = all(
            fields[name].message_type is None for name in _path_params(route.path)
        )

    async def handle(self, request: Request) -> Response:
        route = self.route
        try:
            principal = await authenticate_async(
                self.container.keys, request.headers.get("authorization"), run_in_threadpool
            )
            authorize(principal, route.operation)
            if route.body is Body.NONE:  # path parameters only: no JSON to interpret
                if route.method != "GET":
                    # A change runs only once its request has been read whole: a body that
                    # never completes (a bad chunk) is a client gone (499), nothing applied.
                    await request.body()
                if self.plain_path:
                    message = self.request_type(**request.path_params)
                else:
                    message = parse_into(dict(request.path_params), self.request_type())
            else:
                data = await self._request_data(request)
                message = parse_into(data, self.request_type(), normalized=True)
            args: tuple[Any, ...] = (self.container, principal, message)
            if self.route.render is Render.CASES:  # bulk: the body renders during the COMMIT
                args += (self._cases_body,)
            if self.inline:
                result = self.run(*args)
            else:
                result = await run_in_threadpool(self.run, *args)
            return self._render(result)
        except CasekeeperError as err:
            return error_response(err)

    def _cases_body(self, cases: list[Case]) -> bytes:
        now = self.container.cases.clock()
        return orjson.dumps({"cases": [case_json(x, now, cached=False) for x in cases]})

    async def _request_data(self, request: Request) -> dict[str, Any]:
        route = self.route
        data: dict[str, Any] = {}
        if route.body in (Body.JSON, Body.PATCH, Body.OPTIONAL_JSON):
            body = await request.body()
            if body.strip():
                ctype = request.headers.get("content-type", "application/json")
                if not ctype.split(";")[0].strip().lower().endswith((*_JSON_TYPES, "+json")):
                    raise _unsupported(ctype)
            shape: Any = self.request_type.DESCRIPTOR
            if route.body is Body.PATCH:
                shape = shape.fields_by_name["patch"].message_type
            payload = normalize(load_json(body), shape)
            check_body(
                route.path,
                route.method,
                payload,
                prefix="patch" if route.body is Body.PATCH else "",
            )
            data = {"patch": payload} if route.body is Body.PATCH else payload
        elif route.body is Body.QUERY:
            shape = self.request_type.DESCRIPTOR
            data = normalize(query_to_json(request.query_params.multi_items(), shape), shape)
            check_query(route.path, route.method, data)
        elif route.body is Body.QUERY_IDS:
            raw = request.query_params.getlist("ids")
            if len(raw) > MAX_BULK:
                raise invalid(f"ids: at most {MAX_BULK} ids per call (got {len(raw)})")
            # Repeated (?ids=a&ids=b) or comma-separated (?ids=a, b); blanks are skipped.
            parts = (part.strip() for item in raw for part in item.split(","))
            data = {"ids": [part for part in parts if part]}
        fields = self.request_type.DESCRIPTOR.fields_by_name
        for name, value in request.path_params.items():  # the path wins over the body
            data.pop(name, None)
            data[fields[name].json_name] = value
        return data

    def _render(self, result: Any) -> Response:
        c = self.container
        render = self.route.render
        if render is Render.CASE:
            return json_response(200, {"case": case_json(result, c.cases.clock())})
        if render is Render.CASES:
            bulk: BulkResult = result
            headers = {}
            if bulk.failures:
                headers[BULK_FAILURES_HEADER] = failure_report(bulk.failures)
                headers[BULK_FAILURES_TOTAL_HEADER] = str(len(bulk.failures))
            rendered = bulk.rendered if isinstance(bulk.rendered, bytes) else None
            if rendered is None:  # not rendered alongside a commit (see BulkResult.rendered)
                rendered = self._cases_body(bulk.cases)
            return Response(rendered, 200, headers, media_type="application/json")
        if render is Render.PAGE:
            page: Page = result
            now = c.cases.clock()
            pagination = {"nextPageToken": page.next_token} if page.next_token else {}
            body = {
                "cases": [case_json(x, now) for x in page.cases],
                "pagination": pagination,
                "pbacTruncated": False,
            }
            return json_response(200, body)
        if render is Render.FILTER_VALUES:
            note = estimate_note(result)  # an estimate says so in a header, the body as specified
            return json_response(200, filter_values_json(result),
                                 {ESTIMATE_HEADER: note} if note else None)  # fmt: skip
        if render is Render.GROUPING_KEYS:
            return json_response(200, {"groupingKeys": result})
        if render is Render.DEEP_LINKS:
            links: Links = result
            out = pb.GetCaseDeepLinksResponse()
            deep_links_to_pb(links.case, c.settings.ui_base_url, out.deep_links)
            deep = to_json(out.deep_links)
            deep.setdefault("alertIndicators", {})
            deep.setdefault("impactedEntities", [])
            return json_response(200, {"deepLinks": deep})
        if render is Render.EVENTS:
            return json_response(200, {"events": [event_json(e) for e in result]})
        if render is Render.EVENT:
            return json_response(200, {"event": event_json(result)})
        if render is Render.SYNC:
            return json_response(200, {"syncRegistered": bool(result)})
        if render is Render.MESSAGE:
            return json_response(200, message_json(result))
        return json_response(200, {})
