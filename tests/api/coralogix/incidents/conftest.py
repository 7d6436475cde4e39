"""Fixtures for the Incidents API tests: the real gRPC and HTTP servers of the session (the same
fixtures the cases tests use), an incidents stub and a REST client bound to one API key, and
a way to open incidents: alert events recorded through ``container.alerts.record`` on a case
made by ``make_case`` (as the alerting side will).

Every REST response body, success or error, is validated against Coralogix's
``incidents_service.json`` (``IncidentsReference``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import grpc
import httpx
import jsonschema
import pytest
from referencing import Registry
from referencing.jsonschema import DRAFT7

from casekeeper.api.coralogix.rest.incident_routes import ALT_ROUTES, PROTO_ROUTES, SPEC_ROUTES
from casekeeper.api.coralogix.rest.routes import RouteSpec
from casekeeper.bootstrap import Container
from casekeeper.domain.incidents import AlertEvent, Incident, IncidentSeverity, IncidentState
from casekeeper.domain.model import Case, KeyValue
from casekeeper.proto.com.coralogixapis.incidents.v1 import incidents_service_pb2_grpc
from casekeeper.service.auth import Principal
from tests.api.coralogix.grpc.conftest import (  # noqa: F401  (fixtures)
    TIMEOUT,
    bearer,
    channel,
    grpc_server,
    grpc_target,
    grpcurl_path,
)
from tests.api.coralogix.rest.conftest import (  # noqa: F401  (fixtures)
    FORMATS,
    _strict,
    base_url,
    client,
    http,
    spec_files,
)
from tests.conftest import MakeCase, MakeKey

INCIDENTS_SERVICE = "com.coralogixapis.incidents.v1.IncidentsService"
UNKNOWN_ID = "5d0c9f57-1f2a-4c55-9d8e-1e2b3c4d5e6f"
FAMILIES = {"spec": SPEC_ROUTES, "proto": PROTO_ROUTES, "alt": ALT_ROUTES}


# -- opening incidents ------------------------------------------------------------------------


@dataclass
class Alerts:
    """Records alert events for one key's space, each on its own alert (a new incident) unless
    ``alert_id`` names an earlier one."""

    container: Container
    principal: Principal
    make_case: MakeCase
    case: Case | None = None

    def event(self, **changes: Any) -> AlertEvent:
        if self.case is None:
            self.case = self.make_case(who=self.principal)
        alert_id = str(changes.pop("alert_id", uuid.uuid4()))
        name = str(changes.pop("name", "p99 latency over 2s"))
        base: dict[str, Any] = {
            "case_id": self.case.id,
            "alert_id": alert_id,
            "name": name,
            "state": IncidentState.TRIGGERED,
            "cx_event_key": f"ev-{uuid.uuid4().hex[:16]}",
            "time": self.container.incidents.clock(),
            "severity": IncidentSeverity.ERROR,
            "group_by": {"service": "checkout"},
            "contextual_labels": {
                "alert_id": alert_id,
                "alert_name": name,
                "alert_type": "Standard",
                "alert_severity": "Error",
                "alert_group_by_fields": "coralogix.metadata.applicationName , service",
            },
            "display_labels": {
                "coralogix.metadata.applicationName": "shop",
                "coralogix.metadata.subsystemName": "checkout",
            },
            "meta_labels": (KeyValue("team", "payments"),),
        }
        base.update(changes)
        return AlertEvent(**base)

    def fire(self, **changes: Any) -> Incident:
        """Record a firing alert event (a new incident, or its alert's open one)."""
        return self.container.alerts.record(self.principal, self.event(**changes))

    def report(self, alert: AlertEvent) -> Incident:
        return self.container.alerts.record(self.principal, alert)


@pytest.fixture
def alerts(container: Container, make_key: MakeKey, make_case: MakeCase) -> Alerts:
    """Alert events into the test's space (a key with signals:Write and case:Create)."""
    _, principal = make_key("signals:Write", "case:Create", "case:Read")
    return Alerts(container, principal, make_case)


# -- gRPC ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def incidents_stub(channel: grpc.Channel) -> incidents_service_pb2_grpc.IncidentsServiceStub:  # noqa: F811
    return incidents_service_pb2_grpc.IncidentsServiceStub(channel)


@dataclass
class Grpc:
    """The IncidentsService called with one key: ``api.GetIncident(request)``."""

    key: str
    principal: Principal
    stub: Any

    def __getattr__(self, name: str) -> Callable[[Any], Any]:
        method = getattr(self.stub, name)
        return lambda request: method(request, metadata=bearer(self.key), timeout=TIMEOUT)


MakeGrpc = Callable[..., Grpc]


@pytest.fixture
def make_grpc(make_key: MakeKey, incidents_stub: Any) -> MakeGrpc:
    def make(*permissions: str, space_name: str | None = None) -> Grpc:
        key, principal = make_key(*permissions, space_name=space_name)
        return Grpc(key, principal, incidents_stub)

    return make


@pytest.fixture
def api(make_grpc: MakeGrpc) -> Grpc:
    return make_grpc()


def grpc_error(code: grpc.StatusCode, fn: Callable[[Any], Any], request: Any) -> str:
    """Call ``fn(request)``; it must fail with ``code``. Returns the details."""
    with pytest.raises(grpc.RpcError) as info:
        fn(request)
    err: Any = info.value
    assert err.code() == code, f"expected {code.name}, got {err.code().name}: {err.details()}"
    return str(err.details())


# -- REST ---------------------------------------------------------------------------------------


@dataclass
class IncidentsReference:
    """Coralogix's Incidents OpenAPI document as a validator of response bodies, strict about
    fields it does not declare."""

    doc: dict[str, Any]
    registry: Registry = field(init=False, repr=False)
    checked: set[tuple[str, int]] = field(default_factory=set, repr=False)

    def __post_init__(self) -> None:
        resource = DRAFT7.create_resource(_strict(self.doc))
        self.registry = Registry().with_resource("urn:coralogix:incidents", resource)

    def schema_ref(self, rpc: str, status: int) -> str:
        """The schema the spec declares for ``rpc`` answering ``status`` (the ``Error`` schema
        for a status it does not declare: 403, 404, 413, 415)."""
        route = next(r for r in SPEC_ROUTES if r.rpc == rpc)
        response = self.doc["paths"][route.path][route.method.lower()]["responses"].get(str(status))
        if response is None:
            assert status >= 400, f"{rpc} answered {status}, which its spec does not declare"
            return "urn:coralogix:incidents#/components/schemas/Error"
        ref: str = response["content"]["application/json"]["schema"]["$ref"]
        return f"urn:coralogix:incidents{ref}"

    def errors(self, rpc: str, status: int, body: Any) -> list[str]:
        validator = jsonschema.Draft7Validator(
            {"$ref": self.schema_ref(rpc, status)}, registry=self.registry, format_checker=FORMATS
        )
        return [
            f"{'/'.join(map(str, e.absolute_path)) or '<body>'}: {e.message[:300]}"
            for e in sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
        ]

    def validate(self, rpc: str, response: httpx.Response) -> Any:
        ctype = response.headers.get("content-type", "")
        assert ctype.split(";")[0].strip() == "application/json", (rpc, ctype)
        body = response.json()
        ref = self.schema_ref(rpc, response.status_code)
        problems = self.errors(rpc, response.status_code, body)
        assert not problems, (
            f"{rpc} {response.status_code} body violates {ref}:\n  "
            + "\n  ".join(problems[:20])
            + f"\nbody: {json.dumps(body)[:2000]}"
        )
        self.checked.add((rpc, response.status_code))
        return body


@cache
def _reference() -> IncidentsReference:
    return IncidentsReference(json.loads((spec_files() / "incidents_service.json").read_text()))


@pytest.fixture(scope="session")
def reference() -> IncidentsReference:
    return _reference()


def route_of(rpc: str, family: str = "spec") -> RouteSpec:
    return next(r for r in FAMILIES[family] if r.rpc == rpc)


def fill(path: str, **params: str) -> str:
    for name, value in params.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, path
    return path


@dataclass
class Rest:
    """One key's REST client. ``call(rpc, ...)`` uses the spec's path unless ``family`` says
    ``proto`` or ``alt``, checks the status, and validates the body against the spec."""

    http: httpx.Client = field(repr=False)
    key: str | None
    reference: IncidentsReference = field(repr=False)

    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.key}"} if self.key else {}

    def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        kw["headers"] = {**self.headers(), **kw.get("headers", {})}
        return self.http.request(method, path, **kw)

    def exchange(
        self,
        rpc: str,
        *,
        family: str = "spec",
        prefix: str = "",
        expect: int = 200,
        path_params: dict[str, str] | None = None,
        **kw: Any,
    ) -> httpx.Response:
        route = route_of(rpc, family)
        response = self.request(
            route.method, prefix + fill(route.path, **(path_params or {})), **kw
        )
        assert response.status_code == expect, (
            f"{rpc} ({family}): expected {expect}, got {response.status_code}: "
            f"{response.text[:1000]}"
        )
        self.reference.validate(rpc, response)
        return response

    def call(self, rpc: str, **kw: Any) -> Any:
        return self.exchange(rpc, **kw).json()

    def error(self, rpc: str, expect: int, **kw: Any) -> str:
        """Run ``rpc`` expecting the error status ``expect``; the Error body's message."""
        body = self.call(rpc, expect=expect, **kw)
        assert set(body) == {"code", "message"}, body
        assert body["code"] == expect, body
        message: str = body["message"]
        assert message.strip()
        return message


MakeRest = Callable[..., Rest]


@pytest.fixture
def make_rest(make_key: MakeKey, client: httpx.Client, reference: IncidentsReference) -> MakeRest:  # noqa: F811
    def make(*permissions: str, space_name: str | None = None) -> Rest:
        key, _ = make_key(*permissions, space_name=space_name)
        return Rest(client, key, reference)

    return make


@pytest.fixture
def rest(make_rest: MakeRest) -> Rest:
    return make_rest()
