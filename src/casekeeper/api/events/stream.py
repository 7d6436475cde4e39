"""``GET /api/v1/events/stream``: the space's changes as Server-Sent Events, resumable with
``Last-Event-ID``, for a Bearer key or the session cookie (docs/EVENTS_STREAM.md)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Final

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from casekeeper.api import threads
from casekeeper.api.browser import COOKIE, SPACE_COOKIE
from casekeeper.api.events.hub import Hub, Subscriber
from casekeeper.api.http.errors import generic_error
from casekeeper.bootstrap import Container
from casekeeper.domain.errors import CasekeeperError, ErrorCode
from casekeeper.service.auth import Principal, authenticate_async
from casekeeper.service.changes import Change, Cursor, format_cursor, parse_cursor

PATH: Final = "/api/v1/events/stream"
KEEPALIVE: Final = 15.0
MAX_BACKLOG: Final = 10_000  # a client further behind is told to reload
HEADERS: Final = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


async def _principal(c: Container, request: Request) -> Principal:
    header = request.headers.get("authorization")
    if header:
        return await authenticate_async(c.keys, header, threads.run)
    token = request.cookies.get(COOKIE)
    if not token:
        raise CasekeeperError(
            ErrorCode.UNAUTHENTICATED, "send 'Authorization: Bearer <key>' or log in first"
        )
    space = request.query_params.get("space") or request.cookies.get(SPACE_COOKIE) or "default"
    found = c.sessions.cached_principal(token, space)
    if found is None:
        found = await threads.run(c.sessions.principal, token, space)
    return found


def _message(change: Change, position: Cursor) -> bytes:
    data = orjson.dumps(change.data).decode()
    return f"id: {format_cursor(position)}\nevent: {change.stream}\ndata: {data}\n\n".encode()


def _advance(position: Cursor, change: Change) -> Cursor:
    if change.stream == "case":
        return (max(position[0], change.seq), position[1])
    return (position[0], max(position[1], change.seq))


def routes(c: Container) -> Sequence[BaseRoute]:
    hub = Hub(c.changes)

    async def stream(request: Request) -> Response:
        try:
            p = await _principal(c, request)
            await threads.run(c.changes.authorize, p)
            raw = request.headers.get("last-event-id") or request.query_params.get("last_event_id")
            since = parse_cursor(raw) if raw else None
        except CasekeeperError as err:
            return generic_error(err)
        sub = await hub.subscribe(p.space_id)
        return StreamingResponse(
            _events(c, hub, sub, p, since), media_type="text/event-stream", headers=HEADERS
        )

    return [Route(PATH, stream, methods=["GET"], name="events stream")]


async def _events(
    c: Container, hub: Hub, sub: Subscriber, p: Principal, since: Cursor | None
) -> AsyncIterator[bytes]:
    position = sub.start
    sent: set[tuple[str, int]] = set()
    try:
        yield b"retry: 3000\n: connected\n\n"
        if since is not None:
            missed = await threads.run(c.changes.backlog, p, since, sub.start, MAX_BACKLOG + 1)
            if len(missed) > MAX_BACKLOG:
                yield f"id: {format_cursor(position)}\nevent: reset\ndata: {{}}\n\n".encode()
            else:
                position = since
                for old in sorted(missed, key=lambda x: (x.data["time"], x.seq)):
                    position = _advance(position, old)
                    sent.add((old.stream, old.seq))
                    yield _message(old, position)
                position = (max(position[0], sub.start[0]), max(position[1], sub.start[1]))
        while True:
            try:
                change: Change | None = await asyncio.wait_for(sub.queue.get(), KEEPALIVE)
            except TimeoutError:
                yield b": keepalive\n\n"
                continue
            if change is None:  # the server is shutting down
                return
            if sub.overflowed:  # this client fell too far behind: it reloads, then follows
                sub.overflowed = False
                while not sub.queue.empty():
                    sub.queue.get_nowait()
                yield f"id: {format_cursor(position)}\nevent: reset\ndata: {{}}\n\n".encode()
                continue
            if (change.stream, change.seq) in sent:
                continue
            position = _advance(position, change)
            yield _message(change, position)
    finally:
        hub.unsubscribe(sub)
