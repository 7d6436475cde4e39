"""The console over the session's real HTTP server: users of the test's space, logged in
through the login form with an httpx client (this file) or a real Chromium (browser.py)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from casekeeper.bootstrap import Container
from tests.api.coralogix.grpc.conftest import (  # noqa: F401  (fixtures)
    admin_stub,
    api,
    cases_stub,
    channel,
    events_stub,
    grpc_server,
    grpc_target,
    keys_stub,
    make_client,
)
from tests.api.coralogix.rest.conftest import (  # noqa: F401  (fixtures)
    TIMEOUT,
    base_url,
    client,
    http,
)
from tests.api.tracecat.conftest import PASSWORD, make_user
from tests.web.browser import chromium  # noqa: F401  (fixture: one browser per test process)

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Browser:
    """A logged-in console user, as plain HTTP: what a browser's forms send."""

    http: httpx.Client
    username: str
    csrf: str

    def get(self, path: str, expect: int = 200, **kw: object) -> str:
        r = self.http.get(path, **kw)  # type: ignore[arg-type]
        assert r.status_code == expect, (r.status_code, r.text[:2000])
        return r.text

    def post(
        self,
        path: str,
        data: Mapping[str, object] | None = None,
        *,
        expect: int = 303,
        csrf: bool = True,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf", self.csrf)
        r = self.http.post(path, data=form, headers=headers)
        assert r.status_code == expect, (r.status_code, r.text[:2000])
        return r

    def follow(self, r: httpx.Response) -> str:
        """The page an action redirected to (its flash message included)."""
        return self.get(r.headers["location"])


def web_login(url: str, username: str, password: str = PASSWORD) -> Browser:
    c = httpx.Client(base_url=url, timeout=TIMEOUT)
    page = c.get("/ui/login")
    token = CSRF.search(page.text)
    assert token, page.text
    r = c.post(
        "/ui/login",
        data={"username": username, "password": password, "csrf": token.group(1), "next": "/ui/"},
    )
    assert r.status_code == 303, r.text
    assert "fastapiusersauth" in c.cookies
    queue = c.get("/ui/")
    assert queue.status_code == 200, queue.text
    found = CSRF.search(queue.text)
    assert found
    return Browser(c, username, found.group(1))


LogIn = Callable[..., Browser]


@pytest.fixture
def log_in(base_url: str, container: Container, space: str) -> Iterator[LogIn]:  # noqa: F811
    """``log_in(role)``: a new user of the test's space with that role, logged in."""
    made: list[Browser] = []

    def make(role: str = "responder") -> Browser:
        made.append(web_login(base_url, make_user(container, space, role)))
        return made[-1]

    yield make
    for b in made:
        b.http.close()


@pytest.fixture
def contexts(chromium: Any) -> Iterator[Callable[..., Any]]:  # noqa: F811
    """``contexts(width)``: a new browser context (its own cookies), closed after the test."""
    made: list[Any] = []

    def new(width: int = 1280) -> Any:
        made.append(chromium.new_context(viewport={"width": width, "height": 900}))
        return made[-1]

    yield new
    for ctx in made:
        ctx.close()
