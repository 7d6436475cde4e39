"""The Coralogix REST dialect as the HTTP app mounts it: its Starlette routes, the path prefixes
it owns and its error shape (the app answers a 404, 405, 413 or 500 under these prefixes with
``error_shape``, the spec's ``Error``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from casekeeper.api.coralogix.rest.handler import Endpoint, error_response
from casekeeper.api.coralogix.rest.routes import ROUTES, RouteSpec
from casekeeper.bootstrap import Container

NAME = "coralogix"
# Coralogix's gateway serves every path under this prefix too (openapi.py's description).
GATEWAY_PREFIX = "/mgmt/openapi"
# The first segment of every route (``/cases``), then the gateway's.
PREFIXES: tuple[str, ...] = (
    *dict.fromkeys("/" + spec.path.split("/")[1] for spec in ROUTES),
    GATEWAY_PREFIX,
)
# The spec's Error body and the catalog-code header, as the handler answers its own errors.
error_shape = error_response


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
