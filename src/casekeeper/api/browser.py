"""What every page or API a browser uses with the session cookie shares: the cookie itself
(Tracecat's ``fastapiusersauth``, also the web console's) and the cross-site check on writes
(docs/SESSIONS.md)."""

from __future__ import annotations

from typing import Final
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from casekeeper.domain.errors import CasekeeperError, ErrorCode

COOKIE: Final = "fastapiusersauth"  # fastapi-users' cookie name, as Tracecat sets it
SPACE_COOKIE: Final = "casekeeper_space"  # the space chosen in the console
MUTATIONS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SAME_SITE: Final = frozenset({"same-origin", "none"})


def csrf_refused(why: str) -> CasekeeperError:
    return CasekeeperError(ErrorCode.PERMISSION_DENIED, f"CSRF check failed: {why}")


def check_csrf(request: Request) -> None:
    """A write authorised by the cookie must come from this server's own pages: a browser
    says where a request comes from (``Sec-Fetch-Site``, else ``Origin``), and a cross-site
    one is refused. A client that sends neither is not a browser (a script or a tool), and
    cross-site forgery needs a browser. The cookie is SameSite=Lax as well."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        if site.lower() not in SAME_SITE:
            raise csrf_refused(f"a {site} request cannot use the session cookie to change data")
        return
    origin = request.headers.get("origin")
    if origin is None:
        return
    host = request.headers.get("host", "")
    if origin == "null" or urlsplit(origin).netloc.lower() != host.lower():
        raise csrf_refused(f"origin {origin[:200]!r} is not this server ({host[:200]!r})")


def set_session_cookie(response: Response, request: Request, token: str, max_age: float) -> None:
    response.set_cookie(
        COOKIE, token, max_age=int(max_age), path="/", httponly=True, samesite="lax",
        secure=request.url.scheme == "https",
    )  # fmt: skip


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        COOKIE, path="/", httponly=True, samesite="lax", secure=request.url.scheme == "https"
    )


def remember_space(response: Response, space: str) -> None:
    """Keep the console's chosen space (the change feed follows it too)."""
    response.set_cookie(SPACE_COOKIE, space, path="/", samesite="lax", max_age=365 * 86400,
                        httponly=True)  # fmt: skip
