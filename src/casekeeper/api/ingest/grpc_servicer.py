"""``casekeeper.v1.IngestService``: the HTTP doors' ``/ingest/signals`` and
``/ingest/alertmanager`` over gRPC, with the same parsing, the same service and the same
outcomes.

Authentication is the other servicers': ``authorization: Bearer <key>`` metadata, a cached key
checked on the event loop and a miss verified on the server's worker pool; then ``signals:Write``
before the request is looked at. The conversion and the service call run on the worker pool in
one hop: the service waits on the database.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from typing import Any, Final, TypeVar

import grpc

from casekeeper.api import request_id as request_ids
from casekeeper.api.grpc.calls import abort_unexpected, metadata
from casekeeper.api.grpc.handlers import Undecodable
from casekeeper.api.ingest import wire
from casekeeper.api.ingest.alertmanager import parse_webhook
from casekeeper.bootstrap import Container
from casekeeper.domain.errors import CasekeeperError, invalid, quote
from casekeeper.domain.signals import (
    Action,
    IngestReport,
    Link,
    Signal,
    SignalBatch,
    SignalStatus,
    Source,
)
from casekeeper.proto.casekeeper.v1 import ingest_pb2 as pb
from casekeeper.proto.casekeeper.v1 import ingest_pb2_grpc as ingest_grpc
from casekeeper.service.auth import Principal, authenticate_async
from casekeeper.service.permissions import Permission

log = logging.getLogger("casekeeper.grpc")

SERVICE: Final = pb.DESCRIPTOR.services_by_name["IngestService"].full_name
DOING: Final = "send signals"
_STATUS: Final = {
    pb.SIGNAL_STATUS_FIRING: SignalStatus.FIRING,
    pb.SIGNAL_STATUS_RESOLVED: SignalStatus.RESOLVED,
}
_ACTION: Final = {
    Action.OPENED: pb.INGEST_ACTION_OPENED,
    Action.RETRIGGERED: pb.INGEST_ACTION_RETRIGGERED,
    Action.ACKNOWLEDGED: pb.INGEST_ACTION_ACKNOWLEDGED,
    Action.RESOLVED: pb.INGEST_ACTION_RESOLVED,
    Action.UNCHANGED: pb.INGEST_ACTION_UNCHANGED,
    Action.IGNORED: pb.INGEST_ACTION_IGNORED,
    Action.FILTERED: pb.INGEST_ACTION_FILTERED,
}
# The service names fields by their place in the batch; the webhook's places are alerts.
_WEBHOOK_NAMES: Final = {"signals": "alerts"}

Req = TypeVar("Req")


def signal_of(m: pb.Signal, at: str) -> Signal:
    """A request's signal: the wire's checks (the status is set, links are web addresses); the
    service checks the rest."""
    if m.status not in _STATUS:
        raise invalid(
            "must be SIGNAL_STATUS_FIRING or SIGNAL_STATUS_RESOLVED", field=f"{at}.status"
        )
    links = []
    for n, link in enumerate(m.links):
        if not wire.is_http_url(link.url.strip()):
            why = f"must be an http(s) URL, not {quote(link.url)}"
            raise invalid(why, field=f"{at}.links[{n}].url")
        links.append(Link(url=link.url.strip(), text=link.text))
    return Signal(
        dedup_key=m.dedup_key,
        status=_STATUS[m.status],
        title=m.title,
        labels=dict(m.labels),
        annotations=dict(m.annotations),
        severity=m.severity if m.HasField("severity") else None,
        starts_at=m.starts_at.ToMicroseconds() if m.HasField("starts_at") else None,
        ends_at=m.ends_at.ToMicroseconds() if m.HasField("ends_at") else None,
        description=m.description if m.HasField("description") else None,
        links=tuple(links),
        group_key=m.group_key if m.HasField("group_key") else None,
        group_labels=dict(m.group_labels),
    )


def response_of(report: IngestReport) -> pb.IngestResponse:
    out = pb.IngestResponse(dry_run=report.dry_run)
    for o in report.outcomes:
        item = out.outcomes.add(
            dedup_key=o.dedup_key, action=_ACTION[o.action], reason=o.reason, new_case=o.new_case
        )
        for name in ("incident_id", "case_id", "case_readable_id", "group_key", "priority"):
            value = getattr(o, name)
            if value is not None:
                setattr(item, name, value)
        if o.priority_reason is not None:
            item.priority_reason = o.priority_reason
    return out


class IngestServicer(ingest_grpc.IngestServiceServicer):
    def __init__(self, container: Container, executor: Executor) -> None:
        self.c = container
        self.executor = executor

    async def SendSignals(
        self, request: pb.SendSignalsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.IngestResponse:
        return await self._call("SendSignals", request, context, self._send)

    async def PostAlertmanagerWebhook(
        self,
        request: pb.PostAlertmanagerWebhookRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> pb.IngestResponse:
        return await self._call("PostAlertmanagerWebhook", request, context, self._webhook)

    def _send(self, p: Principal, req: pb.SendSignalsRequest) -> pb.IngestResponse:
        items = wire.batch(list(req.signals), "signals")
        batch = SignalBatch(
            source=Source.GENERIC,
            signals=tuple(signal_of(m, f"signals[{n}]") for n, m in enumerate(items)),
            sender=req.source.strip() or None,
        )
        return response_of(self.c.signals.ingest(p, batch, dry_run=req.dry_run))

    def _webhook(self, p: Principal, req: pb.PostAlertmanagerWebhookRequest) -> pb.IngestResponse:
        batch = parse_webhook(wire.load_json(req.payload))
        return response_of(self._ingest(p, batch, req.dry_run, _WEBHOOK_NAMES))

    def _ingest(
        self, p: Principal, batch: SignalBatch, dry_run: bool, names: Mapping[str, str]
    ) -> IngestReport:
        try:
            return self.c.signals.ingest(p, batch, dry_run=dry_run)
        except CasekeeperError as err:
            raise err.rename(names) from None

    async def _call(
        self,
        rpc: str,
        request: Req | Undecodable,
        context: grpc.aio.ServicerContext[Any, Any],
        work: Callable[[Principal, Req], pb.IngestResponse],
    ) -> pb.IngestResponse:
        authorization, request_id = metadata(context)
        loop = asyncio.get_running_loop()
        try:
            principal = await authenticate_async(
                self.c.keys,
                authorization,
                lambda verify: loop.run_in_executor(self.executor, verify),
            )
            principal.require((Permission.SIGNALS_WRITE,), DOING)
            if isinstance(request, Undecodable):  # see api/grpc/handlers.py
                raise invalid(f"request body: {request.reason}")
            return await loop.run_in_executor(self.executor, work, principal, request)
        except CasekeeperError as err:
            code = getattr(grpc.StatusCode, err.spec.grpc_status)
            request_id = request_id or request_ids.new()
            log.info("%s /%s/%s -> %s: %s", request_id, SERVICE, rpc, code.name, err.message)
            await context.abort(code, err.message)
        except Exception as exc:
            request_id = request_id or request_ids.new()
            await abort_unexpected(context, exc, request_id, f"/{SERVICE}/{rpc}", log)
