"""``casekeeper.v1.NotificationService`` over gRPC: each RPC runs its operation (ops.py) through
the shared call runner; the services check permissions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from typing import Any, Final

import grpc

from casekeeper.api.grpc.calls import run_call
from casekeeper.api.notify.ops import OPERATIONS, Operation
from casekeeper.bootstrap import Container
from casekeeper.proto.casekeeper.v1 import notifications_pb2 as pb

SERVICE: Final = pb.DESCRIPTOR.services_by_name["NotificationService"].full_name


class NotificationServicer:
    """One method per RPC, named as the RPC (``api/grpc/handlers.method_handlers`` binds them)."""

    def __init__(self, container: Container, executor: Executor) -> None:
        self.c = container
        self.executor = executor


def _method(name: str, work: Operation) -> Callable[..., Awaitable[Any]]:
    operation = f"/{SERVICE}/{name}"

    async def handler(
        self: NotificationServicer, request: Any, context: grpc.aio.ServicerContext[Any, Any]
    ) -> Any:
        return await run_call(self.c, self.executor, operation, request, context, work)

    handler.__name__ = name
    return handler


for _name, (_request, _work) in OPERATIONS.items():
    setattr(NotificationServicer, _name, _method(_name, _work))
