"""The plumbing every Kibana route shares: the space from the path, authentication, the
``kbn-xsrf`` rule, JSON bodies, query arrays, and Kibana's error body."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final, TypeVar

import orjson
from starlette.requests import Request
from starlette.responses import Response

from casekeeper.api import threads
from casekeeper.api.kibana.auth import principal
from casekeeper.api.kibana.errors import kibana_error, require_xsrf, space_not_found
from casekeeper.bootstrap import Container
from casekeeper.domain.errors import CasekeeperError, invalid
from casekeeper.service.auth import Principal, normalize_space

MAX_BODY: Final = 2 * 1024 * 1024
DEFAULT_SPACE: Final = "default"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Call:
    """One request as a handler sees it: who, in which space, and the request."""

    c: Container
    p: Principal
    request: Request

    async def run(self, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
        """A service call, on a worker thread (the services are synchronous)."""
        return await threads.run(fn, *args, **kw)

    def param(self, name: str) -> str:
        return str(self.request.path_params[name])

    async def body(self) -> dict[str, Any]:
        raw = await self.request.body()
        if len(raw) > MAX_BODY:
            raise invalid(f"a request body is at most {MAX_BODY} bytes")
        try:
            data = orjson.loads(raw) if raw.strip() else None
        except orjson.JSONDecodeError as exc:
            raise invalid(f"the body is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise invalid("the body must be a JSON object")
        return data

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

    def one(self, name: str) -> str | None:
        value = self.request.query_params.get(name)
        return value.strip() if value is not None and value.strip() else None

    def number(self, name: str, default: int, least: int, most: int) -> int:
        raw = self.one(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise invalid(f"a whole number, not {raw!r}", field=name) from None
        if not least <= value <= most:
            raise invalid(f"must be {least}..{most} (got {value})", field=name)
        return value


Handler = Callable[[Call], Awaitable[Any]]


def json_response(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status, media_type="application/json")


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
