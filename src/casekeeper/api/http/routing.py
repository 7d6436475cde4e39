"""Starlette's router, made to try only the routes a path can match.

Starlette tries every route in order until one matches; with every dialect mounted that is over
a hundred regular expressions for a route near the end of the list (a Tracecat ``GET
/cases/{id}`` spent more time finding its route than reading its case). A route can only match
a path whose leading segments equal the route's literal leading segments, so the router indexes
routes by their first two literal segments and tries, in the original order, only those that
agree with the path. What matches, and what a partial match or a miss does, is Starlette's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.routing import BaseRoute, Match, Router
from starlette.types import Receive, Scope, Send

Key = tuple[str, ...]


def literal_prefix(path: str, most: int = 2) -> Key:
    """The leading segments of a route's path before its first parameter (at most ``most``)."""
    out: list[str] = []
    for segment in path.split("/")[1:]:
        if "{" in segment or len(out) == most:
            break
        out.append(segment)
    return tuple(out)


class IndexedRouter(Router):
    def __init__(self, routes: Sequence[BaseRoute], **kw: Any) -> None:
        super().__init__(routes=list(routes), **kw)
        prefixes = [literal_prefix(str(getattr(r, "path", ""))) for r in self.routes]
        pairs = list(zip(self.routes, prefixes, strict=True))
        # By the path's first two segments: the routes whose literal prefix is a prefix of them.
        self._two = {
            key: [r for r, p in pairs if key[: len(p)] == p]
            for key in {p for p in prefixes if len(p) == 2}
        }
        # By the first segment alone (the second is none a route names): those with at most it.
        self._one = {
            first: [r for r, p in pairs if p in ((), (first,))]
            for first in {p[0] for p in prefixes if p}
        }
        self._any = [r for r, p in pairs if not p]

    def candidates(self, path: str) -> list[BaseRoute]:
        """The routes, in order, whose literal leading segments agree with ``path``'s."""
        parts = path.split("/", 3)
        first = parts[1] if len(parts) > 1 else ""
        if len(parts) > 2:
            found = self._two.get((first, parts[2]))
            if found is not None:
                return found
        return self._one.get(first, self._any)

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().app(scope, receive, send)
            return
        scope.setdefault("router", self)
        partial: BaseRoute | None = None
        partial_scope: Any = {}
        for route in self.candidates(scope["path"]):
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                scope["route"] = route
                scope.update(child_scope)
                await route.handle(scope, receive, send)
                return
            if match is Match.PARTIAL and partial is None:
                partial, partial_scope = route, child_scope
        if partial is not None:  # e.g. the path's route for another method: a 405
            scope["route"] = partial
            scope.update(partial_scope)
            await partial.handle(scope, receive, send)
            return
        await super().app(scope, receive, send)  # Starlette's slash redirect, then its 404
