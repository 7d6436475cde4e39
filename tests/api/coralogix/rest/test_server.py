"""The HTTP server's own endpoints: health, readiness, Prometheus metrics, casekeeper's OpenAPI
document, the docs page, and request ids."""

from __future__ import annotations

import dataclasses
import logging
import re
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema
import pytest
from prometheus_client.parser import text_string_to_metric_families

from casekeeper.api.coralogix.rest.incident_routes import INCIDENT_ROUTES
from casekeeper.api.coralogix.rest.routes import ROUTES
from casekeeper.api.coralogix.rest.settings_routes import NOTIFICATION_ROUTES, SETTINGS_ROUTES
from casekeeper.api.http.app import create_app
from casekeeper.api.ingest.openapi import ingest_paths
from casekeeper.api.kibana.mount import ROUTES as KIBANA_ROUTES
from casekeeper.api.notify.rest import REST_ROUTES
from casekeeper.api.tracecat.mount import ROUTES as TRACECAT_ROUTES
from casekeeper.bootstrap import Container
from tests.api.coralogix.rest.conftest import Rest, error_message, serve_app
from tests.conftest import MakeCase

# -- health and readiness --------------------------------------------------------------------


def test_healthz(client: httpx.Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["status"] == "ok"
    assert isinstance(body["pid"], int)  # which process answered (serve --processes N)


def test_readyz(client: httpx.Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


def test_readyz_is_503_when_the_database_fails(
    client: httpx.Client, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable() -> None:
        raise OSError("connection refused")

    monkeypatch.setattr(container.cases, "ping", unreachable)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert error_message(response.json(), 503) == "database unreachable"
    assert client.get("/healthz").status_code == 200  # alive, just not ready


def test_health_needs_no_key_but_the_api_does(client: httpx.Client) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/cases/grouping-keys/v1").status_code == 401


# -- metrics ---------------------------------------------------------------------------------


def _samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {
        tuple(sorted(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    }


def test_metrics_count_requests_by_route_method_and_status(
    client: httpx.Client, rest: Rest, make_case: MakeCase
) -> None:
    case = make_case()

    def count(route: str, method: str, status: str) -> float:
        text = client.get("/metrics").text
        key = (("method", method), ("route", route), ("status", status))
        return _samples(text, "casekeeper_http_requests_total").get(key, 0.0)

    before_ok = count("/cases/cases/v1/{id}", "GET", "200")
    before_404 = count("/cases/cases/v1/{id}", "GET", "404")
    before_post = count("/cases/closed/v1/{id}", "POST", "200")
    rest.call("GetCase", case.id)
    rest.call("GetCase", case.id, prefix="/mgmt/openapi/latest")  # the same route, prefixed
    rest.call("GetCase", "CASE-999999", expect=404)
    rest.call("CloseCase", case.id)
    assert count("/cases/cases/v1/{id}", "GET", "200") == before_ok + 2
    assert count("/cases/cases/v1/{id}", "GET", "404") == before_404 + 1
    assert count("/cases/closed/v1/{id}", "POST", "200") == before_post + 1


def test_metrics_have_latency_and_unmatched_paths(client: httpx.Client) -> None:
    client.get("/no/such/path")
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    assert re.search(
        r'casekeeper_http_requests_total\{method="GET",route="unmatched",status="404"\}', text
    )
    assert "casekeeper_http_request_duration_seconds_bucket" in text
    hist = _samples(text, "casekeeper_http_request_duration_seconds_count")
    assert hist[(("method", "GET"), ("route", "/healthz"))] >= 1


def test_metrics_gauge_the_notification_backlog(
    client: httpx.Client, rest: Rest, make_case: MakeCase
) -> None:
    def backlog() -> tuple[float, float]:
        text = client.get("/metrics").text
        outbox = _samples(text, "casekeeper_outbox_backlog")[()]
        return outbox, _samples(text, "casekeeper_notification_deliveries_open")[()]

    before, open_before = backlog()
    case = make_case()  # no worker runs beside this app: its events wait in the outbox
    rest.call("CloseCase", case.id)
    after, open_after = backlog()
    assert after >= before + 2
    assert open_after == open_before


@pytest.fixture(scope="module")
def metrics_by_space(container: Container) -> Iterator[str]:
    """A server with per-space case gauges turned on (CASEKEEPER_METRICS_SPACE_LABELS)."""
    settings = dataclasses.replace(container.settings, metrics_space_labels=True)
    with serve_app(create_app(dataclasses.replace(container, settings=settings))) as running:
        yield running.url


def test_metrics_name_no_space_by_default(
    client: httpx.Client, rest: Rest, make_case: MakeCase, space: str
) -> None:
    rest.call("AcknowledgeCase", make_case().id)
    text = client.get("/metrics").text
    assert space not in text
    gauges = _samples(text, "casekeeper_cases")
    assert all(dict(labels).keys() == {"status"} for labels in gauges)
    assert gauges[(("status", "ACKNOWLEDGED"),)] >= 1


def test_metrics_count_cases_by_space_and_status_when_asked(
    metrics_by_space: str, rest: Rest, make_case: MakeCase, space: str
) -> None:
    a, b, _ = make_case(), make_case(), make_case(pending=True)
    rest.call("AcknowledgeCase", a.id)
    rest.call("CloseCase", b.id)
    text = httpx.get(f"{metrics_by_space}/metrics").text
    gauges = _samples(text, "casekeeper_cases")
    mine = {
        dict(labels)["status"]: v for labels, v in gauges.items() if dict(labels)["space"] == space
    }
    assert mine == {"ACKNOWLEDGED": 1.0, "CLOSED": 1.0, "PENDING_ACTIVATION": 1.0}
    assert re.search(rf'casekeeper_cases\{{space="{space}",status="ACKNOWLEDGED"\}} 1\.0', text)


def test_metrics_token_is_required_when_set(container: Container) -> None:
    settings = dataclasses.replace(container.settings, metrics_token="s3cret-token")
    with serve_app(create_app(dataclasses.replace(container, settings=settings))) as running:
        url = f"{running.url}/metrics"
        assert httpx.get(url).status_code == 401
        assert httpx.get(url, headers={"authorization": "Bearer wrong"}).status_code == 401
        ok = httpx.get(url, headers={"authorization": "Bearer s3cret-token"})
        assert ok.status_code == 200
        assert "casekeeper_cases" in ok.text
        assert httpx.get(f"{running.url}/healthz").status_code == 200  # health stays open


# -- a client that goes away mid-body -----------------------------------------------------------


def test_a_client_gone_mid_body_is_499_not_500(
    base_url: str, client: httpx.Client, rest: Rest, caplog: pytest.LogCaptureFixture
) -> None:
    def count(status: str) -> float:
        text = client.get("/metrics").text
        key = (("method", "POST"), ("route", "/cases/cases/v1"), ("status", status))
        return _samples(text, "casekeeper_http_requests_total").get(key, 0.0)

    before_499, before_500 = count("499"), count("500")
    port = int(base_url.rsplit(":", 1)[1])
    head = (
        "POST /cases/cases/v1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {rest.key}\r\nContent-Type: application/json\r\n"
        "Content-Length: 1000\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(head.encode() + b'{"filters": ')
        time.sleep(0.2)  # the handler is waiting for the rest of the body
    deadline = time.monotonic() + 5
    while count("499") == before_499 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert count("499") == before_499 + 1
    assert count("500") == before_500
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


# -- the OpenAPI document and the docs page -----------------------------------------------------


@pytest.fixture(scope="module")
def openapi(client: httpx.Client) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    doc: dict[str, Any] = response.json()
    return doc


def test_openapi_is_a_valid_openapi_3_document(openapi: dict[str, Any]) -> None:
    try:
        from openapi_spec_validator import validate  # type: ignore[import-not-found]
    except ImportError:  # not installed: the official OpenAPI 3.0 JSON Schema ships in schemathesis
        from schemathesis.specs.openapi.definitions import OPENAPI_30

        jsonschema.Draft4Validator(OPENAPI_30).validate(openapi)
    else:
        validate(openapi)
    assert openapi["openapi"].startswith("3.0.")


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_openapi_describes_every_route(openapi: dict[str, Any]) -> None:
    paths = openapi["paths"]
    for route in ROUTES:
        op = paths[route.path][route.method.lower()]
        assert op["operationId"] == f"{route.service.split('.')[-1].rstrip('/')}_{route.rpc}"
        assert op["security"] == [{"bearer": []}]
        for status in ("200", "400", "401", "403", "404", "413"):
            assert status in op["responses"], (route.rpc, status)
        declared = {p["name"] for p in op["parameters"] if p["in"] == "path"}
        assert declared == set(re.findall(r"\{(\w+)\}", route.path))
    ops = [op["operationId"] for ops in paths.values() for op in ops.values()]
    ingest = len(ingest_paths())  # the ingest doors (api/ingest/openapi.py), one operation each
    settings = len(SETTINGS_ROUTES) + len(NOTIFICATION_ROUTES) + len(REST_ROUTES)  # + /api/v1
    kibana = 2 * len(KIBANA_ROUTES)  # each in the default space and under /s/{space_id}
    tracecat = len(TRACECAT_ROUTES) + 2  # and /auth/login, /auth/logout
    events = 1  # the change feed, GET /api/v1/events/stream
    assert (
        len(ops)
        == len(set(ops))
        == (len(ROUTES) + len(INCIDENT_ROUTES) + settings + 2 + ingest + kibana + tracecat + events)
    )
    assert openapi["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
    }
    schemas = openapi["components"]["schemas"]
    for ref in _refs(openapi):
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.rsplit("/", 1)[1] in schemas, ref
    for schema in schemas.values():
        jsonschema.Draft4Validator.check_schema(schema)


def test_docs_page(client: httpx.Client) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "SwaggerUIBundle" in response.text
    assert '"/openapi.json"' in response.text
    for asset in re.findall(r'(?:src|href)="(/docs/static/[^"]+)"', response.text):
        assert client.get(asset).status_code == 200, asset


# -- request ids -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/healthz", 200),
        ("GET", "/cases/grouping-keys/v1", 401),
        ("GET", "/nope", 404),
        ("PATCH", "/cases/cases/v1/CASE-1", 405),
        ("GET", "/metrics", 200),
        ("GET", "/openapi.json", 200),
    ],
)
def test_request_id_is_echoed(method: str, path: str, status: int, client: httpx.Client) -> None:
    response = client.request(method, path, headers={"x-request-id": "trace-abc-123"})
    assert response.status_code == status
    assert response.headers["x-request-id"] == "trace-abc-123"


def test_request_id_is_generated_when_absent(client: httpx.Client) -> None:
    first, second = client.get("/healthz"), client.get("/healthz")
    for response in (first, second):
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


def test_unusable_request_id_is_replaced(client: httpx.Client) -> None:
    for bad in ("r" * 500, "has space", "semi;colon", "ck_0a1b2c3d_S3cr3tS3cr3t"):
        response = client.get("/healthz", headers={"x-request-id": bad})
        generated = response.headers["x-request-id"]
        assert generated != bad
        assert len(generated) == 32
        assert all(ch in "0123456789abcdef" for ch in generated)


def test_request_id_on_api_responses(rest: Rest, make_case: MakeCase) -> None:
    case = make_case()
    response = rest.exchange("GetCase", case.id, headers={"x-request-id": "get-1"})
    assert response.headers["x-request-id"] == "get-1"
    response = rest.exchange(
        "BulkClose", json={"ids": [case.id, "nope!"]}, headers={"x-request-id": "bulk-1"}
    )
    assert response.headers["x-request-id"] == "bulk-1"
    assert response.headers.get_list("x-request-id") == ["bulk-1"]
