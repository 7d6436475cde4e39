"""Fixtures for the REST dialect tests: one real uvicorn server on loopback for the session
(``create_app(container)`` as ``casekeeper serve`` runs it), an httpx client bound to an API key,
and the reference Coralogix specs that every response body is validated against.

Every test still works in its own fresh space (``space`` / ``make_key`` from tests/conftest.py).

The reference specs are found through ``CASEKEEPER_REFERENCE_DIR`` (the folder that holds
``coralogix-openapi/``; .ci/run sets it), else ``<repo>/../shared/reference``, else the copies
the package ships (``casekeeper/api/coralogix/rest/spec``, unmodified;
``test_packaged_specs_are_the_reference`` proves it whenever the reference folder is there), so
a clean checkout runs every test.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import uvicorn
from referencing import Registry
from referencing.jsonschema import DRAFT7

from casekeeper.api.coralogix.rest.routes import ROUTES, RouteSpec
from casekeeper.bootstrap import Container
from casekeeper.runner import http_server
from casekeeper.service.auth import Principal
from casekeeper.service.permissions import Permission
from tests.conftest import MakeKey

REPO = Path(__file__).resolve().parents[4]
TIMEOUT = 15.0
ROUTE_BY_RPC: dict[str, RouteSpec] = {r.rpc: r for r in ROUTES}
SPEC_FILES = {"cases": "cases_service.json", "events": "case_events_service.json"}
PACKAGED_SPECS = REPO / "src" / "casekeeper" / "api" / "coralogix" / "rest" / "spec"


# -- the reference specs --------------------------------------------------------------------


def reference_dir() -> Path | None:
    """The folder holding ``coralogix-openapi/``, or None when it cannot be found."""
    configured = os.environ.get("CASEKEEPER_REFERENCE_DIR", "").strip()
    candidate = Path(configured) if configured else REPO.parent / "shared" / "reference"
    return candidate if (candidate / "coralogix-openapi").is_dir() else None


_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")


def is_rfc3339(value: object) -> bool:
    if not isinstance(value, str) or not _RFC3339.match(value):
        return False
    try:
        parse_instant(value)
    except ValueError:
        return False
    return True


def parse_instant(value: str) -> datetime:
    """An RFC 3339 string as an aware datetime (nanoseconds truncated to microseconds)."""
    m = re.match(r"^(.*?)(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$", value)
    if not m:
        raise ValueError(f"not an RFC 3339 timestamp: {value!r}")
    head, frac, zone = m.groups()
    frac = (frac or ".0")[:7].ljust(7, "0")
    zone = "+00:00" if zone in ("Z", "z") else zone
    return datetime.fromisoformat(f"{head.replace('t', 'T')}{frac}{zone}")


FORMATS = jsonschema.FormatChecker(formats=())


def _date_time(value: object) -> bool:
    return not isinstance(value, str) or is_rfc3339(value)


def _int32(value: object) -> bool:
    return not isinstance(value, int) or -(2**31) <= value < 2**31


def _int64(value: object) -> bool:
    if isinstance(value, str) and value.lstrip("-").isdigit():
        value = int(value)
    return not isinstance(value, int) or -(2**63) <= value < 2**63


# Registered by calls, not as decorators: jsonschema is untyped, so its decorators would make
# the checks untyped too.
FORMATS.checks("date-time")(_date_time)
FORMATS.checks("int32")(_int32)
FORMATS.checks("int64")(_int64)


def _strict(node: Any) -> Any:
    """A copy of a schema tree in which every object schema that lists its ``properties`` (and
    says nothing of others) refuses undeclared ones: a misspelt or invented response field is
    then a violation too. The specs' oneOfs only add ``required`` lists, so this is safe."""
    if isinstance(node, dict):
        out = {k: _strict(v) for k, v in node.items()}
        if "properties" in node and "additionalProperties" not in node and "allOf" not in node:
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [_strict(v) for v in node]
    return node


@dataclass
class ReferenceSpec:
    """Coralogix's Cases and Case Events OpenAPI documents, as response validators."""

    docs: dict[str, dict[str, Any]]
    registry: Registry = field(init=False, repr=False)
    checked: set[tuple[str, int]] = field(default_factory=set, repr=False)

    def __post_init__(self) -> None:
        resources = [
            (f"urn:coralogix:{name}", DRAFT7.create_resource(_strict(doc)))
            for name, doc in self.docs.items()
        ]
        self.registry = Registry().with_resources(resources)

    def locate(self, rpc: str) -> tuple[str, dict[str, Any]]:
        """(document name, operation object) of the REST route for ``rpc``."""
        route = ROUTE_BY_RPC[rpc]
        for name, doc in self.docs.items():
            op = doc["paths"].get(route.path, {}).get(route.method.lower())
            if isinstance(op, dict):
                return name, op
        raise KeyError(f"{route.method} {route.path} ({rpc}) is not in the reference specs")

    def schema_ref(self, rpc: str, status: int) -> str:
        """The schema the spec declares for ``rpc`` answering ``status``; ``Error`` for a status
        the operation does not declare (casekeeper's 404/403/413/415 on CasesService)."""
        name, op = self.locate(rpc)
        response = op["responses"].get(str(status))
        if response is None:
            assert status >= 400, f"{rpc} answered {status}, which its spec does not declare"
            return f"urn:coralogix:{name}#/components/schemas/Error"
        ref: str = response["content"]["application/json"]["schema"]["$ref"]
        return f"urn:coralogix:{name}{ref}"

    def errors(self, rpc: str, status: int, body: Any) -> list[str]:
        schema = {"$ref": self.schema_ref(rpc, status)}
        validator = jsonschema.Draft7Validator(
            schema, registry=self.registry, format_checker=FORMATS
        )
        return [
            f"{'/'.join(map(str, e.absolute_path)) or '<body>'}: {e.message[:300]}"
            for e in sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
        ]

    def validate(self, rpc: str, response: httpx.Response) -> Any:
        """Check ``response`` (of operation ``rpc``) against the spec; returns the JSON body."""
        ctype = response.headers.get("content-type", "")
        assert ctype.split(";")[0].strip() == "application/json", (
            f"{rpc} answered {response.status_code} with content type {ctype!r}"
        )
        body = response.json()
        problems = self.errors(rpc, response.status_code, body)
        assert not problems, (
            f"{rpc} {response.status_code} body violates the reference schema "
            f"{self.schema_ref(rpc, response.status_code)}:\n  "
            + "\n  ".join(problems[:20])
            + f"\nbody: {json.dumps(body)[:2000]}"
        )
        self.checked.add((rpc, response.status_code))
        return body


def spec_files() -> Path:
    """The folder of the spec files the tests validate against (see the module docstring)."""
    folder = reference_dir()
    return folder / "coralogix-openapi" if folder is not None else PACKAGED_SPECS


@cache
def _load_reference() -> ReferenceSpec:
    folder = spec_files()
    docs = {name: json.loads((folder / file).read_text()) for name, file in SPEC_FILES.items()}
    return ReferenceSpec(docs)


@pytest.fixture(scope="session")
def reference() -> ReferenceSpec:
    return _load_reference()


# -- the server -------------------------------------------------------------------------------


@dataclass
class RunningServer:
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def port(self) -> int:
        port: int = self.server.servers[0].sockets[0].getsockname()[1]
        return port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        assert not self.thread.is_alive(), "the HTTP server did not stop"


def start_server(server: uvicorn.Server, name: str = "casekeeper-http") -> RunningServer:
    """Run ``server`` (a uvicorn.Server bound to port 0) in a thread until it listens."""
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + TIMEOUT
    while not server.started:
        assert thread.is_alive(), "the HTTP server thread died while starting"
        assert time.monotonic() < deadline, "the HTTP server did not start in time"
        time.sleep(0.01)
    return RunningServer(server, thread)


@contextmanager
def serve_app(app: Any) -> Iterator[RunningServer]:
    """Serve another ASGI app (e.g. ``create_app(container, max_body=...)``) the way ``serve``
    does, on a free loopback port, for the duration of the block."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        loop="uvloop",
        http="httptools",
        lifespan="off",
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=2,
    )
    running = start_server(uvicorn.Server(config), name="casekeeper-http-extra")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def http(container: Container) -> Iterator[RunningServer]:
    """casekeeper's HTTP server exactly as ``serve`` builds it (uvloop, httptools), on a free
    loopback port."""
    running = start_server(http_server(container, "127.0.0.1:0"))
    yield running
    running.stop()


@pytest.fixture(scope="session")
def base_url(http: RunningServer) -> str:
    return http.url


@pytest.fixture(scope="session")
def client(base_url: str) -> Iterator[httpx.Client]:
    """A plain client (no credentials) for the session's server."""
    with httpx.Client(base_url=base_url, timeout=TIMEOUT) as c:
        yield c


# -- a client bound to one API key ----------------------------------------------------------

IDS = {"id", "case_id", "event_id"}


def route_path(rpc: str, ident: str | None = None, prefix: str = "") -> str:
    path = ROUTE_BY_RPC[rpc].path
    for name in IDS:
        if "{" + name + "}" in path:
            assert ident is not None, f"{rpc} needs an id"
            path = path.replace("{" + name + "}", ident)
    return prefix + path


@dataclass
class Rest:
    """Calls one key's REST API. ``call`` addresses an operation by its RPC name, checks the
    status and validates the body against the reference spec."""

    http: httpx.Client = field(repr=False)
    key: str | None
    principal: Principal | None
    reference: ReferenceSpec | None = field(repr=False)

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        out = {"authorization": f"Bearer {self.key}"} if self.key else {}
        out.update(extra or {})
        return out

    def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        kw["headers"] = self.headers(kw.get("headers"))
        return self.http.request(method, path, **kw)

    def exchange(
        self,
        rpc: str,
        ident: str | None = None,
        *,
        expect: int = 200,
        prefix: str = "",
        **kw: Any,
    ) -> httpx.Response:
        """Run ``rpc`` (``json=``, ``content=``, ``params=``, ``headers=`` as for httpx), assert
        the status is ``expect`` and validate the body against the reference spec."""
        route = ROUTE_BY_RPC[rpc]
        response = self.request(route.method, route_path(rpc, ident, prefix), **kw)
        self.check(rpc, response, expect)
        return response

    def call(self, rpc: str, ident: str | None = None, *, expect: int = 200, **kw: Any) -> Any:
        """``exchange`` returning the JSON body."""
        return self.exchange(rpc, ident, expect=expect, **kw).json()

    def raw(self, rpc: str, ident: str | None = None, **kw: Any) -> httpx.Response:
        route = ROUTE_BY_RPC[rpc]
        return self.request(route.method, route_path(rpc, ident), **kw)

    def check(self, rpc: str, response: httpx.Response, expect: int) -> Any:
        assert response.status_code == expect, (
            f"{rpc}: expected {expect}, got {response.status_code}: {response.text[:1000]}"
        )
        if self.reference is not None:
            return self.reference.validate(rpc, response)
        return response.json()


MakeRest = Callable[..., Rest]


@pytest.fixture
def make_rest(make_key: MakeKey, client: httpx.Client, reference: ReferenceSpec) -> MakeRest:
    """``make_rest(*permissions, space_name=None)``: a new key (all permissions when none are
    given; the test's own space unless ``space_name``) and a REST client for it."""

    def make(*permissions: str, space_name: str | None = None, name: str = "rest test key") -> Rest:
        key, principal = make_key(*permissions, space_name=space_name, name=name)
        return Rest(client, key, principal, reference)

    return make


@pytest.fixture
def rest(make_rest: MakeRest) -> Rest:
    """A client with every permission in the test's own space."""
    return make_rest()


@pytest.fixture
def own_rest(rest: Rest, base_url: str) -> Iterator[Rest]:
    """``rest`` on a connection of its own: for requests that may crash the server (a 500 also
    drops the keep-alive connection, which must not fail the next test's request)."""
    with httpx.Client(base_url=base_url, timeout=TIMEOUT) as own:
        yield Rest(own, rest.key, rest.principal, rest.reference)


@pytest.fixture
def anonymous(client: httpx.Client, reference: ReferenceSpec) -> Rest:
    return Rest(client, None, None, reference)


# -- small helpers -----------------------------------------------------------------------------

ALL_PERMISSIONS = [p.value for p in Permission]
USER = "0c7a2b8e-5a61-4f0e-9a43-2a6b1f0f2d11"
OTHER_USER = "7b1f0a52-38c4-4d3e-8a0e-5d7e0b6c9f21"
UNKNOWN_UUID = "5d0c9f57-1f2a-4c55-9d8e-1e2b3c4d5e6f"


def new_uuid() -> str:
    return str(uuid.uuid4())


def error_message(body: Any, status: int) -> str:
    """The Error body's message, after checking the body has exactly the Error shape."""
    assert isinstance(body, dict), body
    assert set(body) <= {"code", "message"}, body
    assert body.get("code") == status, body
    message = body.get("message")
    assert isinstance(message, str), body
    assert message.strip(), body
    return message


def bulk_failures(response: httpx.Response) -> list[dict[str, str]]:
    """The ``x-casekeeper-bulk-failures`` header of a bulk response ([] when absent)."""
    raw = response.headers.get("x-casekeeper-bulk-failures")
    if raw is None:
        return []
    items = json.loads(raw)
    assert isinstance(items, list)
    for item in items:
        assert set(item) == {"id", "code", "message"}, item
    return items


STARTED_AT = "2026-01-02T03:04:05Z"


def rich_case_fields(
    fingerprint: str = "9f2c1d7e3b4a5c6d", started: str = STARTED_AT
) -> dict[str, Any]:
    """``make_case`` keyword arguments for a case with every optional part filled: labels,
    groupings, impacted entities, an alert, a Prometheus and a generic indicator, a KPI breach
    and an AI summary (shapes as Coralogix's spec gives them)."""
    group = '{}:{alertname="HighErrorRate"}'
    return {
        "labels": {"team": "payments", "env": "prod"},
        "groupings": {"service": "checkout"},
        "impacted_entities": [
            {"apmService": {"name": "checkout", "language": "go"}},
            {"apmDatabase": {"name": "orders-db", "system": "postgresql"}},
        ],
        "indicators": {
            "alertIndicators": [
                {
                    "alertId": "2a1b3c4d-5e6f-4a0b-8c1d-2e3f4a5b6c7d",
                    "latestAlertVersion": "v3",
                    "alertVersions": ["v2", "v3"],
                    "priority": "INDICATOR_PRIORITY_P2",
                    "groupingType": "GROUPING_TYPE_NONE",
                    "state": "INDICATOR_STATE_TRIGGERED",
                    "triggerTime": started,
                    "permutations": [{"permutation": {"service": "checkout"}}],
                }
            ],
            "prometheusAlertIndicators": [
                {
                    "alertGroupId": group,
                    "status": {"triggered": {"triggeredAt": started}},
                    "priority": "INDICATOR_PRIORITY_P1",
                    "groupLabels": {"alertname": "HighErrorRate"},
                    "receiver": "casekeeper",
                    "externalUrl": "http://alertmanager.example.test",
                    "receivedAt": started,
                    "updatedAt": started,
                    "alerts": [
                        {
                            "alertGroupId": group,
                            "alertName": "HighErrorRate",
                            "fingerprint": fingerprint,
                            "priority": "INDICATOR_PRIORITY_P1",
                            "labels": {"alertname": "HighErrorRate", "service": "checkout"},
                            "annotations": {"summary": "Error rate above 5%"},
                            "status": {"triggered": {"triggeredAt": started}},
                            "generatorUrl": "http://prometheus.example.test/graph",
                            "createdAt": started,
                            "updatedAt": started,
                        }
                    ],
                }
            ],
            "genericIndicators": [
                {
                    "id": "6c5b4a39-2817-4f6e-9d5c-4b3a29181706",
                    "externalId": "ERR-1234",
                    "indicatorType": "GENERIC_INDICATOR_TYPE_ERROR_TRACKING",
                    "status": "GENERIC_INDICATOR_STATUS_TRIGGERED",
                    "priority": "INDICATOR_PRIORITY_P3",
                    "lastTriggeredAt": started,
                    "labels": [{"key": "service", "value": "checkout"}],
                }
            ],
        },
        "kpi_breaches": [
            {
                "id": "0d9e8f7a-6b5c-4d3e-8f1a-0b9c8d7e6f5a",
                "createdAt": started,
                "kpiType": "KPI_TYPE_TIME_TO_ACKNOWLEDGE",
                "casePriority": "KPI_PRIORITY_P2",
                "breachedAt": started,
                "breachStatus": "BREACH_STATUS_BREACHED",
            }
        ],
        "ai_summary": "Checkout error rate spiked after the 14:00 deploy.",
    }
