"""The plumbing every Kibana route shares: the space from the path, authentication, the
``kbn-xsrf`` rule, JSON bodies, query arrays, and Kibana's error body."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final, TypeVar

import orjson
from starlette.requests import Request
from starlette.responses import Response

from casekeeper.api.calls import BaseCall, json_response
from casekeeper.api.kibana.auth import principal
from casekeeper.api.kibana.errors import kibana_error, require_xsrf, space_not_found
from casekeeper.bootstrap import Container
from casekeeper.domain.errors import CasekeeperError, invalid
from casekeeper.service.auth import normalize_space

DEFAULT_SPACE: Final = "default"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Call(BaseCall):
    """One request as a Kibana handler sees it: who, in the path's space, and the request."""

    def many(self, name: str) -> list[str]:
        """A query array as Kibana clients send one: repeated (``tags=a&tags=b``), or one
        JSON array (``ids=["a","b"]``)."""
        out: list[str] = []
        for value in self.request.query_params.getlist(name):
            text = value.strip()
            if text.startswith("["):
                try:
                    items = orjson.loads(text)
                except orjson.JSONDecodeError:
                    raise invalid("not a JSON array", field=name) from None
                if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                    raise invalid("a JSON array of strings", field=name)
                out.extend(items)
            elif text:
                out.append(text)
        return out


Handler = Callable[[Call], Awaitable[Any]]


def endpoint(c: Container, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint: authenticate in the path's space, run, answer JSON (or the
    handler's own Response); every refusal in Kibana's error body."""

    async def run(request: Request) -> Response:
        try:
            require_xsrf(request)
            raw_space = request.path_params.get("space_id", DEFAULT_SPACE)
            try:
                space = normalize_space(raw_space)
            except CasekeeperError:
                raise space_not_found(raw_space[:64]) from None
            p = await principal(c, request, space)
            result = await handler(Call(c, p, request))
        except CasekeeperError as err:
            return kibana_error(err)
        return result if isinstance(result, Response) else json_response(result)

    return run
