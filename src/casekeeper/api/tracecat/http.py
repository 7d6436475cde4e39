"""The plumbing every Tracecat route shares: who is calling (the session cookie or a Bearer
key), in which workspace (``?workspace_id=``), the CSRF rule for cookie-authenticated writes,
JSON bodies, query values, and FastAPI's error bodies."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from casekeeper.api.browser import COOKIE as COOKIE
from casekeeper.api.browser import MUTATIONS
from casekeeper.api.browser import check_csrf as check_csrf
from casekeeper.api.calls import BaseCall, json_response
from casekeeper.api.tracecat.errors import tracecat_error, workspace_not_found
from casekeeper.bootstrap import Container
from casekeeper.domain.errors import CasekeeperError, ErrorCode, invalid
from casekeeper.service.auth import Principal, authenticate_async

T = TypeVar("T")


def _unauthenticated(why: str) -> CasekeeperError:
    return CasekeeperError(ErrorCode.UNAUTHENTICATED, why)


@dataclass(frozen=True, slots=True)
class Call(BaseCall):
    """One request as a Tracecat handler sees it: who, in which workspace, and the request."""

    workspace_id: str

    async def point_read(self, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
        """A read of one row by its key. On SQLite it is answered from the page cache in
        microseconds, less than the hop to a worker thread costs, so it runs on the event loop
        (as the Coralogix dialect's point reads do); elsewhere on a worker thread."""
        if self.c.db.sqlite:
            return fn(*args, **kw)
        return await self.run(fn, *args, **kw)

    def many(self, name: str) -> list[str]:
        """A repeated query parameter (``status=new&status=closed``), as FastAPI reads one."""
        return [v.strip() for v in self.request.query_params.getlist(name) if v.strip()]

    def flag(self, name: str) -> bool:
        raw = (self.one(name) or "false").lower()
        if raw not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
            raise invalid("Input should be a valid boolean", field=name)
        return raw in ("true", "1", "yes", "on")


Handler = Callable[[Call], Awaitable[Any]]


async def principal(c: Container, request: Request, space: str) -> Principal:
    """The caller in ``space``: a Bearer key, else the session cookie."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise _unauthenticated(
                "send 'Authorization: Bearer <key>' or log in (POST /auth/login)"
            )
        return await authenticate_async(c.keys, header, run_in_threadpool)
    token = request.cookies.get(COOKIE)
    if not token:
        raise _unauthenticated("Unauthorized: log in (POST /auth/login) or send a Bearer key")
    if request.method in MUTATIONS:
        check_csrf(request)
    found = c.sessions.cached_principal(token, space)
    if found is None:
        found = await run_in_threadpool(c.sessions.principal, token, space)
    return found


def _workspace(raw: str | None) -> str:
    if raw is None:
        raise invalid("Field required", field="workspace_id")
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise invalid("Input should be a valid UUID", field="workspace_id") from None


def places(request: Request) -> dict[str, str]:
    """Where each of the request's inputs came from, for FastAPI's ``loc``."""
    out = dict.fromkeys(request.query_params, "query")
    out.update(dict.fromkeys(request.path_params, "path"))
    return out


def endpoint(c: Container, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint: authenticate, find the workspace, run, answer JSON (or the
    handler's own Response); every refusal in FastAPI's error body."""

    async def run(request: Request) -> Response:
        try:
            workspace_id = _workspace(request.query_params.get("workspace_id"))
            space = c.admin.cached_space(workspace_id) or await run_in_threadpool(
                c.admin.space_of_uuid, workspace_id
            )
            p = await principal(c, request, space.name if space else "")
            if space is None or p.space_id != space.id or not p.permissions:
                raise workspace_not_found()
            result = await handler(Call(c, p, request, workspace_id))
        except CasekeeperError as err:
            return tracecat_error(err, places(request))
        return result if isinstance(result, Response) else json_response(result)

    return run
