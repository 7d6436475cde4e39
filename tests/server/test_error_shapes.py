"""Errors no route handler rendered, over real HTTP: under each dialect's prefixes a 404, 405,
413 (declared or streamed) and 500 come out in that dialect's error shape, by the longest
matching prefix; on paths no dialect owns, in casekeeper's own shape. A test-only dialect with a
Kibana-like shape stands for the dialects to come, mounted the way they will be."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

import casekeeper.api.http
from casekeeper.api.coralogix.rest import handler
from casekeeper.api.http.app import CORALOGIX, DEFAULT_MOUNTS, TRACECAT, create_app
from casekeeper.api.http.errors import DialectMount, ErrorShapes, generic_error
from casekeeper.api.http.metrics import Metrics
from casekeeper.api.http.middleware import ServerMiddleware
from casekeeper.bootstrap import Container
from casekeeper.domain.errors import CasekeeperError
from tests.api.coralogix.rest.conftest import TIMEOUT, RunningServer, serve_app
from tests.conftest import MakeKey

LIMIT = 512
TOO_BIG = b'{"text": "' + b"x" * LIMIT + b'"}'
CODE_HEADER = "x-casekeeper-error-code"
NOT_ALLOWED = "method not allowed for this path"


# -- a test-only dialect: its own prefixes, routes and a Kibana-like error shape -------------


def kibana_like(err: CasekeeperError) -> Response:
    status = err.spec.http_status
    body = {"statusCode": status, "error": HTTPStatus(status).phrase, "message": err.message}
    return Response(orjson.dumps(body), status, media_type="application/json")


def kibana_routes(_: Container) -> list[BaseRoute]:
    async def get_case(request: Request) -> Response:
        if request.path_params["id"] == "crash":
            raise RuntimeError("simulated defect")
        return JSONResponse({"id": request.path_params["id"]})

    async def create_case(request: Request) -> Response:
        return JSONResponse({"read": len(await request.body())})

    return [
        Route("/kb/api/cases/{id}", get_case, methods=["GET"]),
        Route("/kb/api/cases", create_case, methods=["POST"]),
        Route("/cases/kb/{id}", get_case, methods=["GET"]),  # nested in Coralogix's /cases
    ]


KIBANA_LIKE = DialectMount("kibana-like", ("/kb", "/cases/kb"), kibana_like, kibana_routes)


def kibana_body(status: int, message: str) -> dict[str, Any]:
    return {"statusCode": status, "error": HTTPStatus(status).phrase, "message": message}


def coralogix_bytes(status: int, message: str) -> bytes:
    """The spec's Error body exactly as casekeeper has always written it (golden bytes)."""
    return json.dumps({"code": status, "message": message}, separators=(",", ":")).encode()


# -- servers and requests -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped(container: Container) -> Iterator[RunningServer]:
    """The app as ``serve`` builds it (the default mounts), with a small body limit."""
    with serve_app(create_app(container, max_body=LIMIT)) as running:
        yield running


@pytest.fixture(scope="module")
def mixed(container: Container) -> Iterator[RunningServer]:
    """The app with the test-only dialect mounted beside Coralogix."""
    app = create_app(container, max_body=LIMIT, mounts=(*DEFAULT_MOUNTS, KIBANA_LIKE))
    with serve_app(app) as running:
        yield running


@pytest.fixture
def key(make_key: MakeKey) -> str:
    return make_key()[0]


def call(server: RunningServer, method: str, path: str, **kw: Any) -> httpx.Response:
    """One request on a connection of its own (a 500 must not spoil the next test's)."""
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as c:
        return c.request(method, path, **kw)


def chunked(data: bytes) -> Iterator[bytes]:
    """``data`` as a streamed body: no Content-Length, so only reading it finds it too big."""
    yield data[:100]
    yield data[100:]


def allow(response: httpx.Response) -> set[str]:
    return set(response.headers["allow"].split(", "))


def assert_coralogix(response: httpx.Response, status: int, message: str, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.content == coralogix_bytes(status, message)
    assert response.headers["content-type"] == "application/json"
    assert response.headers[CODE_HEADER] == code


def assert_kibana(response: httpx.Response, status: int, message: str) -> None:
    assert response.status_code == status, response.text
    assert response.json() == kibana_body(status, message)
    assert response.headers["content-type"] == "application/json"
    assert CODE_HEADER not in response.headers  # the dialect's headers, not Coralogix's
    assert response.headers["x-request-id"]


# -- the shipped app: Coralogix paths in the Coralogix shape ------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/cases/nothing/v1", "/cases/cases/v1/CASE-1/nothing", "/mgmt/openapi/latest/cases/x/v1"],
)
def test_an_unknown_coralogix_path_is_a_404_in_its_shape(shipped: RunningServer, path: str) -> None:
    response = call(shipped, "GET", path)
    assert_coralogix(response, 404, "no such path", "request.route_not_found")


def test_a_verb_a_coralogix_path_lacks_is_a_405_in_its_shape_with_allow(
    shipped: RunningServer,
) -> None:
    response = call(shipped, "PATCH", "/cases/cases/v1/CASE-1")
    assert_coralogix(response, 405, NOT_ALLOWED, "request.method_not_allowed")
    assert allow(response) == {"GET", "HEAD", "PUT"}


def test_a_declared_body_over_the_limit_is_a_413_in_the_coralogix_shape(
    shipped: RunningServer,
) -> None:
    response = call(shipped, "POST", "/cases/cases/v1", content=TOO_BIG)
    message = f"request body over {LIMIT} bytes"
    assert_coralogix(response, 413, message, "request.payload_too_large")


def test_a_streamed_body_over_the_limit_is_a_413_in_the_coralogix_shape(
    shipped: RunningServer, key: str
) -> None:
    headers = {"authorization": f"Bearer {key}", "content-type": "application/json"}
    response = call(shipped, "POST", "/cases/cases/v1", content=chunked(TOO_BIG), headers=headers)
    assert "content-length" not in response.request.headers
    message = f"request body over {LIMIT} bytes"
    assert_coralogix(response, 413, message, "request.payload_too_large")


def test_a_crash_under_coralogix_is_a_500_in_its_shape(
    shipped: RunningServer, key: str, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*_: Any) -> Any:
        raise RuntimeError("simulated defect")

    monkeypatch.setattr(container.cases, "grouping_keys", boom)
    headers = {"authorization": f"Bearer {key}", "x-request-id": "crash-1"}
    response = call(shipped, "GET", "/cases/grouping-keys/v1", headers=headers)
    assert_coralogix(response, 500, "internal error; quote request id crash-1", "internal")
    assert response.headers["x-request-id"] == "crash-1"


@pytest.mark.parametrize(
    ("method", "path", "status", "message"),
    [
        ("GET", "/nope", 404, "no such path"),
        ("GET", "/casesx/v1", 404, "no such path"),  # a prefix owns whole segments only
        ("POST", "/healthz", 405, NOT_ALLOWED),
    ],
)
def test_paths_no_dialect_owns_get_the_generic_shape(
    shipped: RunningServer, method: str, path: str, status: int, message: str
) -> None:
    response = call(shipped, method, path)
    assert response.status_code == status
    assert response.json() == {"code": status, "message": message}
    assert response.headers[CODE_HEADER].startswith("request.")


INCIDENT_VERBS = (
    "batchGet",
    "listIncidentAggregations",
    "get-filter-values",
    "assign",
    "unassign",
    "acknowledge",
    "close",
    "resolve",
    "list-incident-events",
    "list-incident-events-total-count",
    "list-incident-events-filter-values",
)


def test_the_coralogix_mount_owns_its_route_prefixes_and_the_gateway() -> None:
    # The Cases spec's resources under /cases (and any /cases/<x>/v1 by its shape); /cases
    # itself is Tracecat's (/cases?workspace_id=, /cases/{uuid}).
    assert CORALOGIX.prefixes[:3] == ("/cases/cases", "/cases/priority-override", "/cases/assigned")
    assert "/incidents" in CORALOGIX.prefixes
    assert CORALOGIX.prefixes[-1] == "/mgmt/openapi"
    # The protos' bindings own /v1/incidents, each /v1/incidents:<verb> and /v1/by:event.
    assert {p for p in CORALOGIX.prefixes if p.startswith("/v1/")} == {
        "/v1/incidents",
        "/v1/by:event",
        *(f"/v1/incidents:{verb}" for verb in INCIDENT_VERBS),
    }
    assert CORALOGIX.error_shape is handler.error_response
    shapes = ErrorShapes(DEFAULT_MOUNTS)
    assert shapes.owner("/mgmt/openapi/latest/nope") is CORALOGIX
    assert shapes.owner("/cases/cases/v1/CASE-1") is CORALOGIX
    assert shapes.owner("/cases/nothing/v1") is CORALOGIX
    for tracecat in ("/cases", "/cases/search", "/cases/kbx/1"):
        assert shapes.owner(tracecat) is TRACECAT
    for path in ("/nope", "/healthz", "/metrics", "/casesx", "/mgmt/openapix"):
        assert shapes.owner(path) is None
        assert shapes.shape(path) is generic_error


# -- a second dialect: its own shape under its own prefixes -----------------------------------


def test_the_second_dialect_answers_its_404_in_its_shape(mixed: RunningServer) -> None:
    assert call(mixed, "GET", "/kb/api/cases/7").json() == {"id": "7"}
    assert_kibana(call(mixed, "GET", "/kb/api/nothing"), 404, "no such path")


def test_the_second_dialect_answers_its_405_in_its_shape_with_allow(mixed: RunningServer) -> None:
    response = call(mixed, "DELETE", "/kb/api/cases/7")
    assert_kibana(response, 405, NOT_ALLOWED)
    assert allow(response) == {"GET", "HEAD"}


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
def test_the_second_dialect_answers_its_413_in_its_shape(
    mixed: RunningServer, streamed: bool
) -> None:
    content: Any = chunked(TOO_BIG) if streamed else TOO_BIG
    response = call(mixed, "POST", "/kb/api/cases", content=content)
    assert_kibana(response, 413, f"request body over {LIMIT} bytes")
    assert call(mixed, "POST", "/kb/api/cases", content=b"{}").json() == {"read": 2}


def test_the_second_dialect_answers_its_500_in_its_shape(mixed: RunningServer) -> None:
    response = call(mixed, "GET", "/kb/api/cases/crash", headers={"x-request-id": "crash-2"})
    assert_kibana(response, 500, "internal error; quote request id crash-2")
    assert "simulated defect" not in response.text


def test_the_longest_prefix_picks_the_shape(mixed: RunningServer) -> None:
    assert_kibana(call(mixed, "GET", "/cases/kb"), 404, "no such path")
    response = call(mixed, "GET", "/cases/kb/crash", headers={"x-request-id": "crash-4"})
    assert_kibana(response, 500, "internal error; quote request id crash-4")
    # Beside it, the rest of the Coralogix-shaped /cases/<x>/v1 paths stays Coralogix's.
    response = call(mixed, "GET", "/cases/kbx/v1/1")
    assert_coralogix(response, 404, "no such path", "request.route_not_found")


def test_beside_the_second_dialect_coralogix_and_unowned_paths_keep_their_shapes(
    mixed: RunningServer, key: str
) -> None:
    response = call(mixed, "GET", "/cases/nothing/v1")
    assert_coralogix(response, 404, "no such path", "request.route_not_found")
    response = call(mixed, "PATCH", "/cases/cases/v1/CASE-1")
    assert_coralogix(response, 405, NOT_ALLOWED, "request.method_not_allowed")
    headers = {"authorization": f"Bearer {key}", "content-type": "application/json"}
    for content in (TOO_BIG, chunked(TOO_BIG)):
        response = call(mixed, "POST", "/cases/cases/v1", content=content, headers=headers)
        message = f"request body over {LIMIT} bytes"
        assert_coralogix(response, 413, message, "request.payload_too_large")
    response = call(mixed, "GET", "/nope")
    assert response.json() == {"code": 404, "message": "no such path"}
    response = call(mixed, "POST", "/kbx/api/cases", content=TOO_BIG)
    assert response.json() == {"code": 413, "message": f"request body over {LIMIT} bytes"}


# -- the middleware's last-resort 500 (an app that fails before it answers) ------------------


@pytest.fixture(scope="module")
def broken() -> Iterator[RunningServer]:
    async def fails(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("simulated defect")

    middleware = ServerMiddleware(
        fails,
        max_body=LIMIT,
        metrics=Metrics(lambda: []),
        shapes=ErrorShapes((*DEFAULT_MOUNTS, KIBANA_LIKE)),
    )
    with serve_app(middleware) as running:
        yield running


def test_the_middlewares_500_comes_in_the_shape_of_the_path(broken: RunningServer) -> None:
    rid = {"x-request-id": "crash-3"}
    message = "internal error; quote request id crash-3"
    assert_kibana(call(broken, "GET", "/kb/api/cases/1", headers=rid), 500, message)
    response = call(broken, "GET", "/mgmt/openapi/latest/cases/cases/v1/CASE-1", headers=rid)
    assert_coralogix(response, 500, message, "internal")
    response = call(broken, "GET", "/nope", headers=rid)
    assert response.json() == {"code": 500, "message": message}


# -- mounting: prefixes are claimed once, routes lie under their dialect's prefixes ------------


def test_two_dialects_cannot_claim_one_prefix(container: Container) -> None:
    twin = DialectMount("twin", ("/kb",), generic_error, lambda _: [])
    with pytest.raises(ValueError, match="/kb is claimed by kibana-like and twin"):
        create_app(container, mounts=(*DEFAULT_MOUNTS, KIBANA_LIKE, twin))


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("/elsewhere/x", "under none of its prefixes"),
        ("/cases/cases/x", "under coralogix's prefixes"),
        ("/cases/x", "under tracecat's prefixes"),
    ],
)
def test_a_dialect_cannot_mount_a_route_outside_its_prefixes(
    container: Container, path: str, why: str
) -> None:
    async def ok(_: Request) -> Response:
        return Response()

    stray = DialectMount("stray", ("/stray",), generic_error, lambda _: [Route(path, ok)])
    with pytest.raises(ValueError, match=f"stray mounts {path}, which is {why}"):
        create_app(container, mounts=(*DEFAULT_MOUNTS, stray))


def test_only_the_app_imports_a_dialect() -> None:
    """api/http is a transport: only app.py, the composition point, wires dialects in."""
    folder = Path(casekeeper.api.http.__file__).parent
    shared = ("casekeeper.api.http", "casekeeper.api.request_id")
    for source in sorted(folder.glob("*.py")):
        if source.name == "app.py":
            continue
        for node in ast.walk(ast.parse(source.read_text())):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                if name.startswith("casekeeper.api."):
                    assert name.startswith(shared), f"{source.name} imports {name}"
