"""What the HTTP dialects' handlers share: one request as a handler sees it — who (a principal),
the request, and the service calls, path parameters, JSON body and query values it reads. Each
dialect extends it with its own (Kibana's query arrays, Tracecat's workspace)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, TypeVar

import orjson
from starlette.requests import Request
from starlette.responses import Response

from casekeeper.api import threads
from casekeeper.bootstrap import Container
from casekeeper.domain.errors import invalid
from casekeeper.service.auth import Principal

MAX_BODY: Final = 2 * 1024 * 1024
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class BaseCall:
    c: Container
    p: Principal
    request: Request

    async def run(self, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
        """A service call, on a worker thread (the services are synchronous)."""
        return await threads.run(fn, *args, **kw)

    def param(self, name: str) -> str:
        return str(self.request.path_params[name])

    async def body(self) -> dict[str, Any]:
        """The body: a JSON object of at most ``MAX_BODY`` bytes."""
        raw = await self.request.body()
        if len(raw) > MAX_BODY:
            raise invalid(f"a request body is at most {MAX_BODY} bytes", field="body")
        try:
            data = orjson.loads(raw) if raw.strip() else None
        except orjson.JSONDecodeError as exc:
            raise invalid(f"the body is not JSON: {exc}", field="body") from None
        if not isinstance(data, dict):
            raise invalid("the body must be a JSON object", field="body")
        return data

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
            raise invalid(f"a whole number, not {raw[:64]!r}", field=name) from None
        if not least <= value <= most:
            raise invalid(f"must be {least}..{most} (got {value})", field=name)
        return value


def json_response(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status, media_type="application/json")
