"""One wrapper for every RPC: authenticate, authorize by the permission table, run, and map
errors through the catalog. Servicer methods stay one-liners over the service layer."""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import grpc
from google.protobuf.message import Message

from casekeeper.api.bulk import FAILURES_KEY, TOTAL_KEY, failure_report
from casekeeper.domain.errors import CasekeeperError
from casekeeper.service.auth import KeyService, Principal, authorize
from casekeeper.service.cases import BulkFailure

log = logging.getLogger("casekeeper.grpc")

REQUEST_ID_KEY = "x-request-id"

Resp = TypeVar("Resp", bound=Message)


@dataclass(slots=True)
class Call:
    principal: Principal
    context: grpc.ServicerContext
    request_id: str

    def report_failures(self, failures: Sequence[BulkFailure]) -> None:
        """Tell a bulk caller which ids failed and why, in trailing metadata (see api/bulk.py)."""
        if failures:
            self.context.set_trailing_metadata(
                ((FAILURES_KEY, failure_report(failures)), (TOTAL_KEY, str(len(failures))))
            )


S = TypeVar("S")
Req = TypeVar("Req")


def rpc(
    service: str,
) -> Callable[[Callable[[S, Req, Call], Resp]], Callable[[S, Req, grpc.ServicerContext], Resp]]:
    """Decorate a servicer method ``Name(self, request, call)`` of gRPC service ``service``
    (``/pkg.Service/``); the operation path is ``service + Name``."""

    def wrap(fn: Callable[[S, Req, Call], Resp]) -> Callable[[S, Req, grpc.ServicerContext], Resp]:
        operation = service + fn.__name__

        @functools.wraps(fn)
        def handler(self: S, request: Req, context: grpc.ServicerContext) -> Resp:
            keys: KeyService = self.keys  # type: ignore[attr-defined]
            request_id = ""
            authorization = None
            for key, value in context.invocation_metadata():
                if key == "authorization":
                    authorization = value if isinstance(value, str) else value.decode()
                elif key == REQUEST_ID_KEY:
                    request_id = str(value)[:128]
            request_id = request_id or uuid.uuid4().hex
            try:
                principal = keys.authenticate(authorization)
                authorize(principal, operation)
                return fn(self, request, Call(principal, context, request_id))
            except CasekeeperError as err:
                code = getattr(grpc.StatusCode, err.spec.grpc_status)
                log.info("%s %s -> %s: %s", request_id, operation, code.name, err.message)
                context.abort(code, err.message)
            except Exception:
                log.exception("%s %s failed", request_id, operation)
                context.abort(
                    grpc.StatusCode.INTERNAL, f"internal error; quote request id {request_id}"
                )
            raise AssertionError("unreachable")  # pragma: no cover - abort raises

        return handler

    return wrap
