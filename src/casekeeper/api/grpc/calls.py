"""Running one call of a casekeeper.v1 service whose operations check their own permissions (in
the service layer): authenticate the ``authorization`` metadata, refuse an undecodable request,
run the operation on the worker pool, and map errors through the catalog."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any, NoReturn

import grpc

from casekeeper.api import request_id as request_ids
from casekeeper.api.grpc.handlers import Undecodable
from casekeeper.bootstrap import Container
from casekeeper.domain.errors import CasekeeperError, invalid
from casekeeper.service.auth import Principal, authenticate_async
from casekeeper.store import db_errors

log = logging.getLogger("casekeeper.grpc")
REQUEST_ID_KEY = "x-request-id"  # echoed in log lines and INTERNAL messages (api/request_id.py)


def metadata(context: grpc.aio.ServicerContext[Any, Any]) -> tuple[str | None, str]:
    """The caller's credentials and request id (empty when it sent none)."""
    authorization, request_id = None, ""
    for key, value in context.invocation_metadata() or ():
        if key == "authorization":
            authorization = value if isinstance(value, str) else value.decode()
        elif key == REQUEST_ID_KEY and isinstance(value, str):
            request_id = request_ids.accepted(value)
    return authorization, request_id


async def run_call(
    c: Container,
    executor: Executor,
    operation: str,
    request: Any,
    context: grpc.aio.ServicerContext[Any, Any],
    work: Callable[[Container, Principal, Any], Any],
) -> Any:
    authorization, request_id = metadata(context)
    loop = asyncio.get_running_loop()
    try:
        principal = await authenticate_async(
            c.keys, authorization, lambda verify: loop.run_in_executor(executor, verify)
        )
        if isinstance(request, Undecodable):  # see handlers.py
            raise invalid(f"request body: {request.reason}")
        return await loop.run_in_executor(executor, work, c, principal, request)
    except CasekeeperError as err:
        code = getattr(grpc.StatusCode, err.spec.grpc_status)
        request_id = request_id or request_ids.new()
        log.info("%s %s -> %s: %s", request_id, operation, code.name, err.message)
        await context.abort(code, err.message)
    except Exception as exc:
        await abort_unexpected(context, exc, request_id or request_ids.new(), operation, log)


async def abort_unexpected(
    context: grpc.aio.ServicerContext[Any, Any],
    exc: Exception,
    request_id: str,
    operation: str,
    logger: logging.Logger,
) -> NoReturn:
    """End a call that failed unexpectedly: UNAVAILABLE for a database fault (down, restarting,
    its disk full: db_errors), logged in one line; anything else INTERNAL with the request id
    to quote, logged with its traceback."""
    fault = db_errors.translate(exc)
    if fault is None:
        logger.error("%s %s failed", request_id, operation, exc_info=exc)
        await context.abort(
            grpc.StatusCode.INTERNAL, f"internal error; quote request id {request_id}"
        )
    code = getattr(grpc.StatusCode, fault.spec.grpc_status)
    logger.warning(
        "%s %s -> %s: %s (%s)", request_id, operation, code.name, fault.message,
        type(exc).__name__,
    )  # fmt: skip
    await context.abort(code, fault.message)
