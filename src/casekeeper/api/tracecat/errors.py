"""FastAPI's error bodies, as Tracecat clients read them: ``{"detail": "<message>"}``, and for
invalid input ``422 {"detail": [{"type", "loc", "msg", "input"}]}``."""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from starlette.responses import Response

from casekeeper.domain.errors import CasekeeperError, ErrorCode

CODE_HEADER = "x-casekeeper-error-code"  # the catalog code, as every dialect sends it
# Invalid input is FastAPI's 422 (the catalog says 400), so clients' validation handling works.
UNPROCESSABLE = frozenset({ErrorCode.INVALID_ARGUMENT, ErrorCode.INVALID_PAGE_TOKEN})


def tracecat_error(err: CasekeeperError, places: Mapping[str, str] | None = None) -> Response:
    """``err`` in FastAPI's shape. ``places`` says where each input came from (a field name →
    ``query``, ``path`` or ``body``: the first segment of FastAPI's ``loc``)."""
    headers = {CODE_HEADER: err.code.value}
    if err.code in UNPROCESSABLE:
        field = err.field or ""
        head = field.partition("[")[0].partition(".")[0]
        where = (places or {}).get(head, "body" if field else "query")
        loc: list[object] = [where, *_path(field)] if field else [where]
        item = {"type": "value_error", "loc": loc, "msg": err.reason[:4096], "input": None}
        body = orjson.dumps({"detail": [item]})
        return Response(body, 422, headers, media_type="application/json")
    status = err.spec.http_status
    if status == 401:
        headers["www-authenticate"] = "Bearer"
    retry = err.detail.get("retry_after")
    if status == 429 and isinstance(retry, int):
        headers["retry-after"] = str(retry)
    body = orjson.dumps({"detail": err.message[:4096]})
    return Response(body, status, headers, media_type="application/json")


def _path(field: str) -> list[object]:
    """``cases[2].summary`` → ``["cases", 2, "summary"]``, as FastAPI's ``loc`` names it."""
    out: list[object] = []
    for part in field.replace("]", "").split("."):
        name, *indexes = part.split("[")
        if name:
            out.append(name)
        out.extend(int(i) if i.isdigit() else i for i in indexes)
    return out


def workspace_not_found() -> CasekeeperError:
    # A workspace the caller may not see is answered as one that does not exist.
    return CasekeeperError(ErrorCode.ROUTE_NOT_FOUND, "Workspace not found")
