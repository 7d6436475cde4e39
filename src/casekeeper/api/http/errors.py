"""Errors no route handler rendered (404, 405, 413, 500, the readiness and metrics refusals),
answered in the error shape of the dialect that owns the request's path.

Each dialect mounts with the path prefixes it owns and its error shape (``DialectMount``); the
longest prefix matching the path picks the shape, and a path no dialect owns (``/healthz``,
``/metrics``, ``/nope``) gets casekeeper's own (``generic_error``). A dialect builds its mount
from its own values and never imports this module (ARCHITECTURE.md); app.py assembles them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import orjson
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import Scope

from casekeeper.bootstrap import Container
from casekeeper.domain.errors import CasekeeperError

ErrorShape = Callable[[CasekeeperError], Response]
"""One dialect's rendering of an error: the catalog's status, the dialect's body and headers."""

# The catalog code of an error, whatever the shape: clients tell refusals apart by it.
ERROR_CODE_HEADER = "x-casekeeper-error-code"
# The path as the client sent it, kept in the scope's state by the middleware, which rewrites
# ``scope["path"]`` (a gateway prefix such as ``/mgmt/openapi`` belongs to its dialect too).
CLIENT_PATH = "client_path"


def generic_error(err: CasekeeperError) -> Response:
    """casekeeper's own shape, for paths no dialect owns: ``{"code": <status>, "message"}``."""
    status = err.spec.http_status
    headers = {ERROR_CODE_HEADER: err.code.value}
    if status == 401:
        headers["www-authenticate"] = "Bearer"
    body = orjson.dumps({"code": status, "message": err.message[:4096]})
    return Response(body, status, headers, media_type="application/json")


@dataclass(frozen=True, slots=True)
class DialectMount:
    """A dialect as the HTTP app mounts it. ``prefixes`` are whole leading path segments
    (``/cases`` owns ``/cases`` and ``/cases/…``, not ``/casesx``); every route the dialect
    mounts must lie under one of them, so its 404s and 405s come out in its own shape."""

    name: str
    prefixes: tuple[str, ...]
    error_shape: ErrorShape
    routes: Callable[[Container], Sequence[BaseRoute]]
    # Paths the dialect owns by their shape, before any prefix: Coralogix's /cases/<x>/v1/…
    # beside Tracecat's /cases.
    patterns: tuple[re.Pattern[str], ...] = ()


class ErrorShapes:
    """Path → the error shape of the dialect owning it: by a dialect's path pattern, else by
    the longest matching prefix."""

    def __init__(self, mounts: Sequence[DialectMount], default: ErrorShape = generic_error):
        owners: dict[str, DialectMount] = {}
        for mount in mounts:
            for prefix in mount.prefixes:
                if not prefix.startswith("/") or prefix.endswith("/") or "{" in prefix:
                    raise ValueError(f"{mount.name}: prefix {prefix!r} is not a literal /path")
                other = owners.setdefault(prefix, mount)
                if other is not mount:
                    raise ValueError(f"{prefix} is claimed by {other.name} and {mount.name}")
        # Longest first, so the first match is the longest; a handful of prefixes, so a scan.
        self._owners = sorted(owners.items(), key=lambda item: len(item[0]), reverse=True)
        self._patterns = [(p, mount) for mount in mounts for p in mount.patterns]
        self.default = default

    def owner(self, path: str) -> DialectMount | None:
        for pattern, mount in self._patterns:
            if pattern.match(path):
                return mount
        for prefix, mount in self._owners:
            if path.startswith(prefix) and (len(path) == len(prefix) or path[len(prefix)] == "/"):
                return mount
        return None

    def shape(self, path: str) -> ErrorShape:
        mount = self.owner(path)
        return self.default if mount is None else mount.error_shape

    def for_scope(self, scope: Scope) -> ErrorShape:
        """The shape for a request, by the path its client sent."""
        return self.shape(scope.get("state", {}).get(CLIENT_PATH) or scope["path"])

    def check_routes(self, mount: DialectMount, routes: Iterable[BaseRoute]) -> None:
        """Refuse a route of ``mount`` outside its prefixes (or inside another dialect's)."""
        for route in routes:
            path = getattr(route, "path", None)
            owner = self.owner(path) if isinstance(path, str) else mount
            if owner is not mount:
                raise ValueError(
                    f"{mount.name} mounts {path}, which is "
                    + (f"under {owner.name}'s prefixes" if owner else "under none of its prefixes")
                )
