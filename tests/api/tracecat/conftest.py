"""The session's real HTTP server, and Tracecat-speaking clients of the test's workspace: logged
in with the session cookie, or with a Bearer key."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from casekeeper.bootstrap import Container
from casekeeper.service.auth import OPERATOR
from casekeeper.service.users import LoginThrottle
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

PASSWORD = "correct horse battery"


@dataclass
class Tracecat:
    """One caller of the Tracecat API in one workspace."""

    http: httpx.Client
    workspace_id: str

    def call(self, method: str, path: str = "", *, expect: int | None = 200, **kw: Any) -> Any:
        params = {"workspace_id": self.workspace_id, **kw.pop("params", {})}
        r = self.http.request(method, "/cases" + path, params=params, **kw)
        if expect is not None:
            assert r.status_code == expect, (r.status_code, r.text)
        return r.json() if r.content else None

    def create(self, **fields: Any) -> dict[str, Any]:
        body = {"summary": "Suspicious login", "description": "from 203.0.113.7"}
        body.update(fields)
        out: dict[str, Any] = self.call("POST", json=body, expect=201)
        return out


def workspace_of(container: Container, space: str) -> str:
    (row,) = [r for r in container.admin.spaces(OPERATOR) if r.name == space]
    return row.uuid


def make_user(container: Container, space: str, role: str = "admin") -> str:
    name = f"u{uuid.uuid4().hex[:10]}"
    container.users.create(
        OPERATOR, username=name, password=PASSWORD, space=space, role=role,
        email=f"{name}@example.com", full_name="Test User",
    )  # fmt: skip
    return name


def login(url: str, username: str, password: str = PASSWORD) -> httpx.Client:
    """A client holding a session cookie from a real login."""
    c = httpx.Client(base_url=url, timeout=TIMEOUT)
    r = c.post("/auth/login", data={"username": username, "password": password})
    assert r.status_code == 204, r.text
    assert "fastapiusersauth" in c.cookies
    return c


@pytest.fixture
def user(container: Container, space: str) -> str:
    return make_user(container, space)


@pytest.fixture
def workspace_id(container: Container, space: str, user: str) -> str:
    return workspace_of(container, space)


@pytest.fixture
def tracecat(base_url: str, user: str, workspace_id: str) -> Iterator[Tracecat]:  # noqa: F811
    c = login(base_url, user)
    yield Tracecat(c, workspace_id)
    c.close()


LogIn = Callable[[str, str], Tracecat]


@pytest.fixture
def logged_in(base_url: str) -> Iterator[LogIn]:  # noqa: F811
    """Log a user in (a client of its own, closed after the test) in a workspace."""
    made: list[httpx.Client] = []

    def log_in(username: str, workspace_id: str) -> Tracecat:
        made.append(login(base_url, username))
        return Tracecat(made[-1], workspace_id)

    yield log_in
    for c in made:
        c.close()


@pytest.fixture
def fresh_throttle(container: Container) -> Iterator[None]:
    container.users.throttle = LoginThrottle()
    yield
    container.users.throttle = LoginThrottle()
