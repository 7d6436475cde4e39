"""Logging in and out of the console, and choosing the space to work in. The session is the
same as Tracecat's cookie login (docs/SESSIONS.md)."""

from __future__ import annotations

import hmac
import secrets
from typing import Final

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from casekeeper.api import threads
from casekeeper.api.browser import (
    check_csrf,
    clear_session_cookie,
    remember_space,
    set_session_cookie,
)
from casekeeper.bootstrap import Container
from casekeeper.domain.errors import CasekeeperError, ErrorCode
from casekeeper.web.http import BASE, Env, Page, read_form, redirect, safe_next

LOGIN_COOKIE: Final = "casekeeper_login"  # the login form's double-submit token


class Login:
    def __init__(self, c: Container, env: Env) -> None:
        self.c = c
        self.env = env

    def _form(self, request: Request, status: int = 200, error: str | None = None,
              username: str = "") -> Response:  # fmt: skip
        token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
        html = self.env.render(
            "login.html", page=None, csrf=token, error=error, username=username,
            next=safe_next(request.query_params.get("next")),
        )  # fmt: skip
        response = HTMLResponse(html, status)
        response.set_cookie(LOGIN_COOKIE, token, path=BASE, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")  # fmt: skip
        return response

    async def show(self, request: Request) -> Response:
        return self._form(request)

    async def submit(self, request: Request) -> Response:
        try:
            check_csrf(request)  # a page of another site must not log this browser in
            form = await read_form(request)
        except CasekeeperError as err:
            return self._form(request, 403 if err.code is ErrorCode.PERMISSION_DENIED else 400,
                              err.message)  # fmt: skip
        username = (form.get("username") or [""])[0].strip()
        password = (form.get("password") or [""])[0]
        sent = (form.get("csrf") or [""])[0]
        if not hmac.compare_digest(sent, request.cookies.get(LOGIN_COOKIE) or "-"):
            return self._form(request, 403, "the login form expired: please try again", username)
        if not username or not password:
            return self._form(request, 400, "enter your username and password", username)
        address = request.client.host if request.client else "?"
        try:
            new = await threads.run(self.c.sessions.login, username, password, address,
                                    request.headers.get("user-agent"))  # fmt: skip
        except CasekeeperError as err:
            if err.code is ErrorCode.RATE_LIMITED:
                return self._form(request, 429, err.message, username)
            return self._form(request, 400, "wrong username or password", username)
        target = safe_next((form.get("next") or [""])[0])
        response = redirect(target)
        set_session_cookie(response, request, new.token, self.c.settings.session_max_age)
        response.delete_cookie(LOGIN_COOKIE, path=BASE)
        return response


def logout(page: Page) -> Response:
    page.c.sessions.logout(page.token)
    response = redirect(f"{BASE}/login", "ok", "you are logged out")
    clear_session_cookie(response, page.request)
    return response


def switch_space(page: Page) -> Response:
    space = page.field("space") or ""
    if space not in {s for s, _ in page.spaces}:
        return redirect(BASE + "/", "error", f"you have no role in space {space[:64]!r}")
    response = redirect(BASE + "/", "ok", f"now working in space {space}")
    remember_space(response, space)
    return response
