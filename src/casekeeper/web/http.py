"""What every console page shares: who is logged in (the session cookie) and in which space,
the CSRF token of its forms, one worker-thread hop per page (service calls and rendering
together), flash messages, and the answers to refusals."""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qs, quote, unquote, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from casekeeper.api import threads
from casekeeper.api.browser import COOKIE, SPACE_COOKIE, check_csrf, remember_space
from casekeeper.bootstrap import Container
from casekeeper.domain.errors import CATALOG, CasekeeperError, ErrorCode, invalid
from casekeeper.service.auth import Principal
from casekeeper.web.assets import Assets

log = logging.getLogger(__name__)
FLASH_COOKIE: Final = "casekeeper_flash"
MAX_FORM: Final = 64 * 1024
FORM: Final = "application/x-www-form-urlencoded"
SPACES_SECONDS: Final = 10.0  # how long a user's list of spaces is reused for the switcher
BASE: Final = "/ui"


def csrf_token(session_token: str) -> str:
    """The token every form of a session carries: derived from the HttpOnly cookie, so a
    page of another site can neither read nor compute it."""
    return hashlib.sha256(b"casekeeper-csrf:" + session_token.encode()).hexdigest()[:40]


class Spaces:
    """Each user's (space, role) list, remembered briefly: every page shows the switcher."""

    def __init__(self, c: Container) -> None:
        self.c = c
        self._memo: dict[str, tuple[float, list[tuple[str, str]]]] = {}
        self._lock = threading.Lock()

    def of(self, user_id: str) -> list[tuple[str, str]]:
        now = time.monotonic()
        with self._lock:
            found = self._memo.get(user_id)
        if found is not None and found[0] > now:
            return found[1]
        spaces = self.c.users.spaces_of(user_id)
        with self._lock:
            if len(self._memo) > 10_000:
                self._memo.clear()
            self._memo[user_id] = (now + SPACES_SECONDS, spaces)
        return spaces


@dataclass(slots=True)
class Page:
    """One request to the console, as a page handler (on a worker thread) sees it."""

    c: Container
    request: Request
    p: Principal
    token: str
    spaces: list[tuple[str, str]]
    env: Env
    form: dict[str, list[str]] = field(default_factory=dict)
    flash: tuple[str, str] | None = None  # (kind, message) from the action before

    @property
    def csrf(self) -> str:
        return csrf_token(self.token)

    def arg(self, name: str) -> str | None:
        value = self.request.query_params.get(name)
        return value.strip() if value is not None and value.strip() else None

    def args(self, name: str) -> list[str]:
        return [v.strip() for v in self.request.query_params.getlist(name) if v.strip()]

    def field(self, name: str) -> str | None:
        values = self.form.get(name)
        return values[0].strip() if values and values[0].strip() else None

    def fields(self, name: str) -> list[str]:
        return [v.strip() for v in self.form.get(name, []) if v.strip()]

    def param(self, name: str) -> str:
        return str(self.request.path_params[name])

    def render(self, template: str, context: dict[str, Any] | None = None, /,
               **more: Any) -> Response:  # fmt: skip
        html = self.env.render(template, page=self, **(context or {}), **more)
        return HTMLResponse(html)

    def can(self, permission: str) -> bool:
        """Whether the user may do what ``permission`` (its value) allows: pages show only
        the actions it may take (the service checks again)."""
        return any(x.value == permission for x in self.p.permissions)

    @property
    def role(self) -> str:
        return next((r for s, r in self.spaces if s == self.p.space_name), "")


Handler = Callable[[Page], Response]


class Env:
    """The Jinja2 environment and the assets, built once per app."""

    def __init__(self, assets: Assets, render: Callable[..., str]) -> None:
        self.assets = assets
        self.render = render


def flashed(response: Response, kind: str, message: str) -> Response:
    response.set_cookie(
        FLASH_COOKIE, quote(f"{kind}:{message[:500]}"), max_age=60, path=BASE, httponly=True,
        samesite="strict",
    )  # fmt: skip
    return response


def redirect(url: str, kind: str | None = None, message: str | None = None) -> Response:
    response = RedirectResponse(url, 303)
    if kind and message:
        flashed(response, kind, message)
    return response


def _read_flash(request: Request) -> tuple[str, str] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    kind, _, message = unquote(raw.strip('"')).partition(":")
    return (kind, message) if kind in ("ok", "error") and message else None


def safe_next(raw: str | None) -> str:
    """Where to go after a login or an action: only a path of this console."""
    if raw and raw.startswith(BASE) and not raw.startswith("//") and "\\" not in raw:
        return raw
    return BASE + "/"


async def read_form(request: Request) -> dict[str, list[str]]:
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != FORM:
        raise CasekeeperError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, f"send the form as {FORM}")
    raw = await request.body()
    if len(raw) > MAX_FORM:
        raise invalid(f"a form is at most {MAX_FORM} bytes", field="body")
    try:
        return parse_qs(raw.decode(), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        raise invalid("not a form", field="body") from None


def error_page(env: Env, err: CasekeeperError, status: int | None = None) -> Response:
    code = status or CATALOG.get(err.code, CATALOG[ErrorCode.INTERNAL]).http_status
    html = env.render("error.html", page=None, status=code, message=err.message)
    return HTMLResponse(html, code)


class Console:
    """Turns page handlers into Starlette endpoints."""

    def __init__(self, c: Container, env: Env) -> None:
        self.c = c
        self.env = env
        self.spaces = Spaces(c)

    def _who(self, token: str, space: str | None) -> tuple[Principal, list[tuple[str, str]]]:
        """The session's principal in ``space`` (the user's first space when it names none
        of theirs) and the user's spaces; UNAUTHENTICATED if the session has ended."""
        c = self.c
        p = c.sessions.cached_principal(token, space or "") if space else None
        if p is None:
            p = c.sessions.principal(token, space or "")
        spaces = self.spaces.of(p.user or "")
        if not p.permissions and spaces and p.space_name != spaces[0][0]:
            p = c.sessions.principal(token, spaces[0][0])
        return p, spaces

    def page(
        self, handler: Handler, *, write: bool = False
    ) -> Callable[[Request], Awaitable[Response]]:
        """A page (GET) or an action (POST, ``write``): the session is required; an action's
        form must carry the session's CSRF token and come from this site."""

        async def endpoint(request: Request) -> Response:
            token = request.cookies.get(COOKIE)
            if not token:
                return self._to_login(request, write)
            try:
                form: dict[str, list[str]] = {}
                if write:
                    check_csrf(request)
                    form = await read_form(request)
                    sent = (form.get("csrf") or [""])[0]
                    if not hmac.compare_digest(sent, csrf_token(token)):
                        raise CasekeeperError(
                            ErrorCode.PERMISSION_DENIED,
                            "the form is stale or was not made by this console: reload the "
                            "page and try again",
                        )
                space = request.cookies.get(SPACE_COOKIE)
                p, spaces = await threads.run(self._who, token, space)
            except CasekeeperError as err:
                if err.code is ErrorCode.UNAUTHENTICATED:
                    return self._to_login(request, write)
                return error_page(self.env, err)
            page = Page(self.c, request, p, token, spaces, self.env, form, _read_flash(request))
            try:
                response = await threads.run(_guarded, handler, page)
            except CasekeeperError as err:
                return error_page(self.env, err)
            if page.flash is not None and FLASH_COOKIE in request.cookies:
                response.delete_cookie(FLASH_COOKIE, path=BASE)
            chose = any(
                v.startswith(SPACE_COOKIE + "=") for v in response.headers.getlist("set-cookie")
            )
            if space != p.space_name and not chose:  # an action that chose a space wins
                remember_space(response, p.space_name)
            return response

        return endpoint

    def _to_login(self, request: Request, write: bool) -> Response:
        if write:
            err = CasekeeperError(ErrorCode.UNAUTHENTICATED, "your session has ended: log in")
            return error_page(self.env, err, 401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        response = RedirectResponse(f"{BASE}/login?{urlencode({'next': target})}", 303)
        return response


def _guarded(handler: Handler, page: Page) -> Response:
    try:
        return handler(page)
    except CasekeeperError:
        raise
    except Exception:  # a page must not take the server's error shape down with it
        log.exception("console page %s failed", page.request.url.path)
        raise CasekeeperError(ErrorCode.INTERNAL, "the page failed to render") from None
