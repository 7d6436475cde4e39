"""Kibana's error body, ``{"statusCode", "error", "message"}``, and its ``kbn-xsrf`` rule."""

from __future__ import annotations

from http import HTTPStatus

import orjson
from starlette.requests import Request
from starlette.responses import Response

from casekeeper.domain.errors import CasekeeperError, ErrorCode, invalid

CODE_HEADER = "x-casekeeper-error-code"  # the catalog code, as every dialect sends it
MUTATIONS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def kibana_error(err: CasekeeperError) -> Response:
    status = err.spec.http_status
    body = {
        "statusCode": status, "error": HTTPStatus(status).phrase, "message": err.message[:4096],
    }  # fmt: skip
    headers = {CODE_HEADER: err.code.value}
    if status == 401:
        headers["www-authenticate"] = 'Basic realm="casekeeper", ApiKey, Bearer'
    retry = err.detail.get("retry_after")
    if status == 429 and isinstance(retry, int):
        headers["retry-after"] = str(retry)
    return Response(orjson.dumps(body), status, headers, media_type="application/json")


def require_xsrf(request: Request) -> None:
    """Kibana refuses a mutation without ``kbn-xsrf`` (any value): a browser cannot send it
    cross-site without a CORS preflight, so it stops cross-site request forgery."""
    if request.method in MUTATIONS and "kbn-xsrf" not in request.headers:
        raise invalid("Request must contain a kbn-xsrf header.")


def space_not_found(space: str) -> CasekeeperError:
    # A space the caller may not see is answered as one that does not exist.
    return CasekeeperError(ErrorCode.ROUTE_NOT_FOUND, f"Saved object [space/{space}] not found")
