"""The Coralogix REST dialect's Starlette routes, for the HTTP app to mount."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from casekeeper.api.coralogix.rest.handler import Endpoint
from casekeeper.api.coralogix.rest.routes import ROUTES, RouteSpec
from casekeeper.bootstrap import Container


def routes(container: Container) -> list[Route]:
    """One Starlette route per path (so a 405 lists every method the path allows)."""
    paths: dict[str, list[RouteSpec]] = {}
    for spec in ROUTES:
        paths.setdefault(spec.path, []).append(spec)
    return [
        Route(path, _dispatcher(specs, container), methods=[s.method for s in specs])
        for path, specs in paths.items()
    ]


def _dispatcher(
    specs: list[RouteSpec], container: Container
) -> Callable[[Request], Awaitable[Response]]:
    handlers = {s.method: Endpoint(s, container).handle for s in specs}

    async def dispatch(request: Request) -> Response:
        return await handlers[request.method](request)

    return dispatch
