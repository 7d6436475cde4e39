"""The session's real HTTP and gRPC servers, and Kibana-speaking clients of the test's space."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
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
    base_url,
    client,
    http,
)

PASSWORD = "correct horse battery"
XSRF = {"kbn-xsrf": "true"}
CONNECTOR = {"id": "none", "name": "none", "type": ".none", "fields": None}


def basic(username: str, password: str = PASSWORD) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"authorization": f"Basic {token}"}


@dataclass
class Kibana:
    """One caller of the Kibana API in one space (``/s/<space>/api/cases``, or ``/api/cases``
    for the default space)."""

    http: httpx.Client
    space: str
    auth: dict[str, str]

    @property
    def base(self) -> str:
        return "/api/cases" if self.space == "default" else f"/s/{self.space}/api/cases"

    def call(self, method: str, path: str = "", *, expect: int | None = 200, **kw: Any) -> Any:
        headers = {**self.auth, **XSRF, **kw.pop("headers", {})}
        r = self.http.request(method, self.base + path, headers=headers, **kw)
        if expect is not None:
            assert r.status_code == expect, (r.status_code, r.text)
        return r.json() if r.content else None

    def create(self, **fields: Any) -> dict[str, Any]:
        body = {
            "title": "Case title 1",
            "description": "A case description",
            "tags": ["tag 1"],
            "connector": CONNECTOR,
            "settings": {"syncAlerts": True},
            "owner": "cases",
        }
        body.update(fields)
        out: dict[str, Any] = self.call("POST", json=body)
        return out


@pytest.fixture
def user(container: Container, space: str) -> str:
    """A responder in the test's space; its password is PASSWORD."""
    name = f"u{uuid.uuid4().hex[:10]}"
    container.users.create(
        OPERATOR,
        username=name,
        password=PASSWORD,
        space=space,
        role="admin",
        email=f"{name}@example.com",
        full_name="Test User",
    )
    return name


@pytest.fixture
def kibana(client: httpx.Client, space: str, user: str) -> Kibana:  # noqa: F811
    return Kibana(client, space, basic(user))


@pytest.fixture
def fresh_throttle(container: Container) -> Iterator[None]:
    """Failed logins of this test do not count against the next ones (one address: 127.0.0.1)."""
    container.users.throttle = LoginThrottle()
    yield
    container.users.throttle = LoginThrottle()
