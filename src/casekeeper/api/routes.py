"""Starlette routes for a dialect's (method, path, endpoint) table: one route per path with
every method it allows, so a wrong method is a 405 whose ``Allow`` names them all (a route per
method would name only the first one's)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

Endpoint = Callable[[Request], Awaitable[Response]]


def by_path(table: Iterable[tuple[str, str, Endpoint]], name: str) -> list[Route]:
    """A route per path, in the order paths first appear, dispatching on the method."""
    paths: dict[str, dict[str, Endpoint]] = {}
    for method, path, endpoint in table:
        paths.setdefault(path, {})[method] = endpoint
    return [
        Route(path, _dispatch(methods), methods=list(methods), name=f"{name} {path}")
        for path, methods in paths.items()
    ]


def _dispatch(methods: dict[str, Endpoint]) -> Endpoint:
    async def dispatch(request: Request) -> Response:
        # HEAD is GET without a body (Starlette adds HEAD wherever GET is allowed).
        return await methods[request.method if request.method != "HEAD" else "GET"](request)

    return dispatch
