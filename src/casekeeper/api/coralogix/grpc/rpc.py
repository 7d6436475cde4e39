"""One wrapper for every RPC: authenticate, authorize by the permission table, run, and map
errors through the catalog. Servicer methods stay synchronous one-liners over the service layer.

The server is ``grpc.aio``. A point read on SQLite runs right on the event loop: it costs less
than handing it to a thread and back. Everything else runs in the server's worker pool, so a
long list page or a bulk write never stalls the loop (``api.coralogix.cases.runs_inline`` decides,
for the REST dialect too)."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message

from casekeeper.api import request_id as request_ids
from casekeeper.api.coralogix.bulk import FAILURES_KEY, TOTAL_KEY, failure_report
from casekeeper.api.coralogix.cases import runs_inline
from casekeeper.api.coralogix.convert import ESTIMATE_KEY
from casekeeper.api.coralogix.permissions import authorize
from casekeeper.api.grpc.calls import abort_unexpected, metadata
from casekeeper.api.grpc.handlers import Undecodable
from casekeeper.bootstrap import Container
from casekeeper.domain.errors import CasekeeperError, invalid
from casekeeper.service.auth import Principal, authenticate_async
from casekeeper.service.cases import BulkFailure

log = logging.getLogger("casekeeper.grpc")


Resp = TypeVar("Resp", bound=Message)
S = TypeVar("S", bound="Servicer")
Req = TypeVar("Req")


@dataclass(slots=True)
class Call:
    principal: Principal
    request_id: str
    failures: Sequence[BulkFailure] = field(default=())
    estimate: str | None = None  # set when GetFilterValues' counts are estimates

    def report_failures(self, failures: Sequence[BulkFailure]) -> None:
        """Tell a bulk caller which ids failed and why, in trailing metadata (see api/bulk.py)."""
        self.failures = failures


class Servicer:
    """Base of every servicer: what the wrapper needs to run a call."""

    def __init__(self, container: Container, executor: Executor) -> None:
        self.c = container
        self.keys = container.keys
        self.executor = executor


def _or_new(request_id: str) -> str:
    """The caller's request id, or a new one for a log line that needs one."""
    return request_id or request_ids.new()


Handler = Callable[[S, Req, grpc.aio.ServicerContext[Any, Any]], Awaitable[Resp]]


def rpc(service: str) -> Callable[[Callable[[S, Req, Call], Resp]], Handler[S, Req, Resp]]:
    """Decorate a servicer method ``Name(self, request, call)`` of gRPC service ``service``
    (``/pkg.Service/``); the operation path is ``service + Name``."""

    def wrap(fn: Callable[[S, Req, Call], Resp]) -> Handler[S, Req, Resp]:
        operation = service + fn.__name__

        @functools.wraps(fn)
        async def handler(
            self: S, request: Req | Undecodable, context: grpc.aio.ServicerContext[Any, Any]
        ) -> Resp:
            authorization, request_id = metadata(context)
            try:
                principal = await authenticate_async(
                    self.keys,
                    authorization,
                    lambda verify: asyncio.get_running_loop().run_in_executor(
                        self.executor, verify
                    ),
                )
                authorize(principal, operation)
                if isinstance(request, Undecodable):  # see handlers.py
                    raise invalid(f"request body: {request.reason}")
                call = Call(principal, request_id)
                if runs_inline(operation, self.c):
                    response = fn(self, request, call)
                else:
                    loop = asyncio.get_running_loop()
                    response = await loop.run_in_executor(self.executor, fn, self, request, call)
            except CasekeeperError as err:
                request_id = _or_new(request_id)
                code = getattr(grpc.StatusCode, err.spec.grpc_status)
                log.info("%s %s -> %s: %s", request_id, operation, code.name, err.message)
                await context.abort(code, err.message)
            except Exception as exc:
                await abort_unexpected(context, exc, _or_new(request_id), operation, log)
            trailing: list[tuple[str, str]] = []
            if call.failures:
                trailing.append((FAILURES_KEY, failure_report(call.failures)))
                trailing.append((TOTAL_KEY, str(len(call.failures))))
            if call.estimate is not None:
                trailing.append((ESTIMATE_KEY, call.estimate))
            if trailing:
                context.set_trailing_metadata(tuple(trailing))
            return response

        return handler

    return wrap
