"""``POST /auth/login`` and ``POST /auth/logout``, as fastapi-users answers them for Tracecat:
a form login that sets the ``fastapiusersauth`` cookie (HttpOnly, SameSite=Lax, Secure over
TLS), and a logout that ends the session and clears the cookie (docs/SESSIONS.md)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from casekeeper.api.browser import clear_session_cookie, set_session_cookie
from casekeeper.api.tracecat.errors import tracecat_error
from casekeeper.api.tracecat.http import COOKIE, check_csrf
from casekeeper.bootstrap import Container
from casekeeper.domain.errors import CasekeeperError, ErrorCode, invalid

MAX_FORM: Final = 16 * 1024
FORM: Final = "application/x-www-form-urlencoded"
Endpoint = Callable[[Request], Awaitable[Response]]


async def _form(request: Request) -> dict[str, str]:
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != FORM:
        raise CasekeeperError(
            ErrorCode.UNSUPPORTED_MEDIA_TYPE, f"send the credentials as {FORM} (username, password)"
        )
    raw = await request.body()
    if len(raw) > MAX_FORM:
        raise invalid(f"a login form is at most {MAX_FORM} bytes", field="body")
    try:
        fields = parse_qs(raw.decode(), keep_blank_values=True, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        raise invalid("not a form", field="body") from None
    out = {}
    for name in ("username", "password"):
        values = fields.get(name)
        if not values:
            raise invalid("Field required", field=name)
        out[name] = values[0]
    return out


def _bad_credentials() -> Response:
    # fastapi-users' answer to a failed login, whatever failed.
    body = b'{"detail":"LOGIN_BAD_CREDENTIALS"}'
    return Response(body, 400, {"x-casekeeper-error-code": ErrorCode.UNAUTHENTICATED.value},
                    media_type="application/json")  # fmt: skip


def login(c: Container) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        try:
            check_csrf(request)  # a cross-site page must not log a browser in as someone else
            form = await _form(request)
            address = request.client.host if request.client else "?"
            new = await run_in_threadpool(
                c.sessions.login, form["username"], form["password"], address,
                request.headers.get("user-agent"),
            )  # fmt: skip
        except CasekeeperError as err:
            if err.code is ErrorCode.UNAUTHENTICATED:
                return _bad_credentials()
            return tracecat_error(err, {"username": "body", "password": "body"})
        response = Response(status_code=204)
        set_session_cookie(response, request, new.token, c.settings.session_max_age)
        return response

    return endpoint


def logout(c: Container) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        token = request.cookies.get(COOKIE)
        try:
            if not token:
                raise CasekeeperError(ErrorCode.UNAUTHENTICATED, "Unauthorized: not logged in")
            check_csrf(request)
            await run_in_threadpool(c.sessions.logout, token)
        except CasekeeperError as err:
            return tracecat_error(err)
        response = Response(status_code=204)
        clear_session_cookie(response, request)
        return response

    return endpoint
