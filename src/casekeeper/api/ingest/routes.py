"""The HTTP doors: ``POST /ingest/alertmanager``, ``POST /ingest/signals`` and PagerDuty's
``POST /v2/enqueue``.

Each authenticates, parses its wire format into a ``SignalBatch`` and calls
``SignalService.ingest``, which validates every signal and commits before the answer; a refused
request stores nothing. Parsing and the service run on a worker thread in one hop: a batch of
ten thousand alerts takes milliseconds to decode, and the service waits on the database.
Alertmanager and the generic door answer errors in casekeeper's own shape; PagerDuty's door in
PagerDuty's (``pagerduty_error``), because its senders read that.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from casekeeper.api.http.errors import ERROR_CODE_HEADER, generic_error
from casekeeper.api.ingest import wire
from casekeeper.api.ingest.alertmanager import parse_webhook
from casekeeper.api.ingest.generic import parse_batch
from casekeeper.api.ingest.pagerduty import invalid_event, parse_event, routing_key
from casekeeper.api.ingest.render import explanation_json, report_json
from casekeeper.bootstrap import Container
from casekeeper.domain.errors import CasekeeperError, ErrorCode, invalid, quote
from casekeeper.domain.signals import SignalBatch
from casekeeper.service.auth import Principal, authenticate_async
from casekeeper.service.permissions import Permission

ALERTMANAGER_PATH: Final = "/ingest/alertmanager"
SIGNALS_PATH: Final = "/ingest/signals"
ENQUEUE_PATH: Final = "/v2/enqueue"
EXPLAIN_PATH: Final = "/ingest/cases/{case_id}/explanation"
DOING: Final = "send signals"
MAX_SENDER: Final = 256  # characters of a User-Agent kept as the batch's sender
_TRUE: Final = frozenset({"", "true", "1", "yes"})  # a bare ``?dry_run`` means yes
_FALSE: Final = frozenset({"false", "0", "no"})

Parse = Callable[[Any, Request], SignalBatch]
# The service names a signal's field by its place in the batch (``signals[3].title``): in an
# Alertmanager payload that place is ``alerts[3]``.
AM_NAMES: Final = {"signals": "alerts"}


def dry_run_param(request: Request) -> bool:
    value = request.query_params.get("dry_run")
    if value is None:
        return False
    word = value.strip().lower()
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    raise invalid(f"must be true or false, not {quote(value)}", field="dry_run")


def _json(status: int, data: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status, headers, media_type="application/json")


RETRY_AFTER: Final = "1"  # seconds: the deliveries it collided with are done by then


def busy(err: CasekeeperError) -> CasekeeperError:
    """A batch that kept colliding with concurrent deliveries on the same cases (its retries
    spent) as 503: Alertmanager and PagerDuty's senders retry a 5xx, never a 409, and nothing
    of the batch was stored. Any other error is itself."""
    if err.code is not ErrorCode.CONFLICT:
        return err
    return CasekeeperError(
        ErrorCode.UNAVAILABLE,
        "other deliveries were changing the same cases at the same time; nothing was stored: "
        "send it again",
        detail={"code": err.code.value},
    )


def _retry_later(response: Response, err: CasekeeperError) -> Response:
    if err.code is ErrorCode.UNAVAILABLE:
        response.headers["retry-after"] = RETRY_AFTER
    return response


def pagerduty_error(err: CasekeeperError) -> Response:
    """An error as PagerDuty's Events API words it: a refused event is 400 ``invalid event``
    with the list of ``errors``; the catalog's code is in ``X-Casekeeper-Error-Code``."""
    status = err.spec.http_status
    listed = err.detail.get("errors")
    errors = [str(e) for e in listed] if isinstance(listed, tuple) and listed else [err.message]
    refused = err.detail.get("code")  # a refused routing key: 401 or 403 in the catalog
    code = refused if isinstance(refused, str) else err.code.value
    if status in (400, 413, 415):
        body = {"status": "invalid event", "message": "Event object is invalid", "errors": errors}
    else:
        body = {"status": "error", "message": err.message, "errors": errors}
    return _json(status, body, {ERROR_CODE_HEADER: code})


def _webhook(data: Any, request: Request) -> SignalBatch:
    agent = request.headers.get("user-agent", "").strip()[:MAX_SENDER]
    return parse_webhook(data, sender=agent or None)


def _generic(data: Any, _: Request) -> SignalBatch:
    return parse_batch(data)


class IngestRoutes:
    """The handlers, bound to the container's services."""

    def __init__(self, container: Container) -> None:
        self.c = container

    async def alertmanager(self, request: Request) -> Response:
        return await self._batch(request, _webhook, AM_NAMES)

    async def signals(self, request: Request) -> Response:
        return await self._batch(request, _generic, {})

    async def _batch(self, request: Request, parse: Parse, names: Mapping[str, str]) -> Response:
        try:
            principal = await authenticate_async(
                self.c.keys, request.headers.get("authorization"), run_in_threadpool
            )
            # Before the body is read: a key that may not send is refused whatever it sent.
            principal.require((Permission.SIGNALS_WRITE,), DOING)
            dry_run = dry_run_param(request)
            body = await request.body()
            work = (principal, body, request, parse, dry_run)
            rendered = await run_in_threadpool(self._ingest, *work)
        except CasekeeperError as err:
            shown = busy(err.rename(names))
            return _retry_later(generic_error(shown), shown)
        return Response(rendered, 200, media_type="application/json")

    def _ingest(
        self, principal: Principal, body: bytes, request: Request, parse: Parse, dry_run: bool
    ) -> bytes:
        batch = parse(wire.load_json(body), request)
        report = self.c.signals.ingest(principal, batch, dry_run=dry_run)
        return orjson.dumps(report_json(report))

    async def explanation(self, request: Request) -> Response:
        """Why a case has its priority, and which groups and firings made it."""
        try:
            principal = await authenticate_async(
                self.c.keys, request.headers.get("authorization"), run_in_threadpool
            )
            case_id = request.path_params["case_id"]
            why = await run_in_threadpool(self.c.signals.explain, principal, case_id)
        except CasekeeperError as err:
            return generic_error(err)
        return _json(200, explanation_json(why))

    async def enqueue(self, request: Request) -> Response:
        try:
            body = await request.body()
            dedup_key = await run_in_threadpool(self._enqueue, body)
        except CasekeeperError as err:
            shown = busy(err)
            return _retry_later(pagerduty_error(shown), shown)
        answer = {"status": "success", "message": "Event processed", "dedup_key": dedup_key}
        return _json(202, answer)

    def _enqueue(self, body: bytes) -> str:
        try:
            data = wire.load_json(body)
        except CasekeeperError as err:
            raise invalid_event([err.message]) from None
        key = routing_key(data)
        try:
            principal = self.c.keys.authenticate(key)
        except CasekeeperError as err:
            # PagerDuty answers a routing key it does not know with a 400, which its senders
            # do not retry; the catalog's code says which refusal it was.
            raise _refused(err, "Invalid routing key") from None
        try:
            principal.require((Permission.SIGNALS_WRITE,), DOING)
        except CasekeeperError as err:
            raise _refused(err, f"Invalid routing key: {err.message}") from None
        event = parse_event(data)
        try:
            self.c.signals.ingest(principal, event.batch)
        except CasekeeperError as err:
            if err.code is ErrorCode.INVALID_ARGUMENT:
                raise invalid_event([err.message]) from None
            raise
        return event.dedup_key


def _refused(err: CasekeeperError, why: str) -> CasekeeperError:
    """``err``'s code (401/403 in the catalog) answered as PagerDuty does: 400."""
    return CasekeeperError(
        ErrorCode.INVALID_ARGUMENT, why, detail={"errors": (why,), "code": err.code.value}
    )


def ingest_routes(container: Container) -> list[Route]:
    handlers = IngestRoutes(container)
    return [
        Route(ALERTMANAGER_PATH, handlers.alertmanager, methods=["POST"]),
        Route(SIGNALS_PATH, handlers.signals, methods=["POST"]),
        Route(EXPLAIN_PATH, handlers.explanation, methods=["GET"]),
    ]


def pagerduty_routes(container: Container) -> list[Route]:
    return [Route(ENQUEUE_PATH, IngestRoutes(container).enqueue, methods=["POST"])]
