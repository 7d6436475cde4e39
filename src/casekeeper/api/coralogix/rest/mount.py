"""The Coralogix REST dialect as the HTTP app mounts it: its Starlette routes, the path prefixes
it owns and its error shape (the app answers a 404, 405, 413 or 500 under these prefixes with
``error_shape``, the spec's ``Error``)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Scope

from casekeeper.api.coralogix.rest.handler import Endpoint, error_response
from casekeeper.api.coralogix.rest.incident_routes import INCIDENT_ROUTES
from casekeeper.api.coralogix.rest.routes import ROUTES, RouteSpec
from casekeeper.api.coralogix.rest.settings_routes import NOTIFICATION_ROUTES, SETTINGS_ROUTES
from casekeeper.bootstrap import Container

NAME = "coralogix"
# Coralogix's gateway serves every path under this prefix too (openapi.py's description).
GATEWAY_PREFIX = "/mgmt/openapi"
# Every route this dialect serves: the Cases, Case Events and Case Settings specs', the
# Incidents API's.
ALL_ROUTES: tuple[RouteSpec, ...] = ROUTES + INCIDENT_ROUTES + SETTINGS_ROUTES + NOTIFICATION_ROUTES


def _prefix(path: str) -> str:
    """The leading segment a path is owned by: ``/incidents``; for the protos' ``/v1/...``
    bindings and the Cases specs' ``/cases/<resource>/...`` paths the first two
    (``/v1/incidents``, ``/cases/cases``, ``/cases/assigned``), so ``/v1`` and ``/cases``
    itself stay free for others (Tracecat's ``/cases?workspace_id=``)."""
    segments = path.split("/")
    two = segments[1] in ("v1", "cases")
    return "/".join(segments[:3]) if two else "/" + segments[1]


# The first segment(s) of every route, then the gateway's.
PREFIXES: tuple[str, ...] = (
    *dict.fromkeys(_prefix(spec.path) for spec in ALL_ROUTES),
    GATEWAY_PREFIX,
)
# Every Cases spec path is /cases/<resource>/v1/…: an unknown resource in that shape is still
# this dialect's (its 404 in the spec's shape), though /cases itself is Tracecat's.
PATTERNS: tuple[re.Pattern[str], ...] = (re.compile(r"/cases/[^/]+/v1(/|$)"),)
# The spec's Error body and the catalog-code header, as the handler answers its own errors.
error_shape = error_response


def _literal_first(path: str) -> tuple[int, ...]:
    """Sort key: where two paths differ by a literal segment against a parameter, the literal
    one is tried first (``/incidents/incidents/v1/batch`` before ``.../v1/{id}``)."""
    return tuple(int(seg.startswith("{")) for seg in path.split("/"))


def _reserved(path: str, paths: Iterable[str]) -> dict[str, frozenset[str]]:
    """Parameter of ``path`` → the literal segments other paths have in its place after the
    same leading segments: ``/incidents/incidents/v1/{id}`` never takes ``batch`` or
    ``acknowledge`` for an id, so ``GET .../v1/acknowledge`` is 405, not "not a UUID"."""
    mine = path.split("/")
    out: dict[str, set[str]] = {}
    for other in paths:
        theirs = other.split("/")
        for n, seg in enumerate(mine):
            if n >= len(theirs) or theirs[n] != seg:
                if seg.startswith("{") and n < len(theirs) and not theirs[n].startswith("{"):
                    out.setdefault(seg[1:-1], set()).add(theirs[n])
                break
    return {name: frozenset(words) for name, words in out.items()}


class _Route(Route):
    """A route whose parameters never take a literal segment another route has there."""

    def __init__(self, *args: Any, reserved: dict[str, frozenset[str]], **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.reserved = reserved

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child = super().matches(scope)
        if match is not Match.NONE and self.reserved:
            params = child.get("path_params", {})
            if any(params.get(name) in words for name, words in self.reserved.items()):
                return Match.NONE, {}
        return match, child


def routes(container: Container) -> list[Route]:
    """One Starlette route per path (so a 405 lists every method the path allows)."""
    paths: dict[str, list[RouteSpec]] = {}
    for spec in ALL_ROUTES:
        paths.setdefault(spec.path, []).append(spec)
    return [
        _Route(
            path,
            _dispatcher(paths[path], container),
            methods=[s.method for s in paths[path]],
            reserved=_reserved(path, paths),
        )
        for path in sorted(paths, key=_literal_first)
    ]


def _dispatcher(
    specs: list[RouteSpec], container: Container
) -> Callable[[Request], Awaitable[Response]]:
    handlers = {s.method: Endpoint(s, container).handle for s in specs}

    async def dispatch(request: Request) -> Response:
        return await handlers[request.method](request)

    return dispatch
