"""Fixtures for the Case Settings API tests: the session's real gRPC and HTTP servers (the same
fixtures the cases tests use), a CaseSettingsService stub and a REST client bound to one API
key, each in the test's own fresh space.

Every REST response body, success or error, is validated against Coralogix's
``case_settings_service.json`` (``SettingsReference``), strict about undeclared fields.
"""

from __future__ import annotations

import json
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

from casekeeper.api.coralogix.rest.settings_routes import SETTINGS_ROUTES
from casekeeper.proto.com.coralogixapis.cases.v1 import case_settings_service_pb2_grpc
from casekeeper.service.auth import Principal
from tests.api.coralogix.grpc.conftest import (  # noqa: F401  (fixtures)
    TIMEOUT,
    bearer,
    channel,
    grpc_server,
    grpc_target,
)
from tests.api.coralogix.rest.conftest import (  # noqa: F401  (fixtures)
    FORMATS,
    _strict,
    base_url,
    client,
    http,
    spec_files,
)
from tests.conftest import MakeKey

SETTINGS_SERVICE = "com.coralogixapis.cases.v1.CaseSettingsService"
UNKNOWN_ID = "8c0c02a3-3c1c-4d56-9a2d-9f6ab6a4b321"  # the spec's example id
READ, UPDATE = "case-config:Read", "case-config:Update"
ROUTE = {r.rpc: r for r in SETTINGS_ROUTES}

# A full create body in the spec's JSON: every part set to something other than the default.
FULL: dict[str, Any] = {
    "name": "SRE Case Settings",
    "globalIndicatorSettings": {
        "enabled": True,
        "filteringConditions": [
            {
                "enabled": True,
                "priorities": {
                    "values": {"items": ["INDICATOR_PRIORITY_P1", "INDICATOR_PRIORITY_P2"]}
                },
                "entityLabels": {"all": {}},
            },
            {
                "enabled": False,
                "priorities": {"all": {}},
                "entityLabels": {"values": {"items": [{"key": "service", "value": "payments"}]}},
            },
        ],
    },
    "caseLifecycle": {
        "suppressionPeriod": "300s",
        "resolutionSnoozePeriod": "600s",
        "autoResolve": {"enabled": False, "inactivePeriod": "86400s"},
        "autoClose": {"postResolutionPeriod": "3600s"},
        "kpi": {
            "thresholds": [
                {
                    "enabled": True,
                    "type": "KPI_TYPE_TIME_TO_ACKNOWLEDGE",
                    "priority": "CASE_PRIORITY_P1",
                    "threshold": "900s",
                },
                {
                    "enabled": False,
                    "type": "KPI_TYPE_TIME_TO_RESOLVE",
                    "priority": "CASE_PRIORITY_P2",
                    "threshold": "1.500s",
                },
            ]
        },
        "alertSuppressionStrategy": "ALERT_SUPPRESSION_STRATEGY_CREATE_CASE",
    },
}


# -- gRPC ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def settings_stub(
    channel: grpc.Channel,  # noqa: F811
) -> case_settings_service_pb2_grpc.CaseSettingsServiceStub:
    return case_settings_service_pb2_grpc.CaseSettingsServiceStub(channel)


@dataclass
class Grpc:
    """The CaseSettingsService called with one key: ``api.GetCaseSettings(request)``."""

    key: str
    principal: Principal
    stub: Any

    def __getattr__(self, name: str) -> Callable[[Any], Any]:
        method = getattr(self.stub, name)
        return lambda request: method(request, metadata=bearer(self.key), timeout=TIMEOUT)


MakeGrpc = Callable[..., Grpc]


@pytest.fixture
def make_grpc(make_key: MakeKey, settings_stub: Any) -> MakeGrpc:
    def make(*permissions: str, space_name: str | None = None) -> Grpc:
        key, principal = make_key(*permissions, space_name=space_name)
        return Grpc(key, principal, settings_stub)

    return make


@pytest.fixture
def api(make_grpc: MakeGrpc) -> Grpc:
    return make_grpc(READ, UPDATE)


def grpc_error(code: grpc.StatusCode, fn: Callable[[Any], Any], request: Any) -> str:
    """Call ``fn(request)``; it must fail with ``code``. Returns the details."""
    with pytest.raises(grpc.RpcError) as info:
        fn(request)
    err: Any = info.value
    assert err.code() == code, f"expected {code.name}, got {err.code().name}: {err.details()}"
    return str(err.details())


# -- REST ---------------------------------------------------------------------------------------


@dataclass
class SettingsReference:
    """Coralogix's Case Settings OpenAPI document as a validator of response bodies."""

    doc: dict[str, Any]
    registry: Registry = field(init=False, repr=False)

    def __post_init__(self) -> None:
        resource = DRAFT7.create_resource(_strict(self.doc))
        self.registry = Registry().with_resource("urn:coralogix:settings", resource)

    def schema_ref(self, rpc: str, status: int) -> str:
        route = ROUTE[rpc]
        responses = self.doc["paths"][route.path][route.method.lower()]["responses"]
        response = responses.get(str(status))
        if response is None:
            assert status >= 400, f"{rpc} answered {status}, which its spec does not declare"
            return "urn:coralogix:settings#/components/schemas/Error"
        ref: str = response["content"]["application/json"]["schema"]["$ref"]
        return f"urn:coralogix:settings{ref}"

    def validate(self, rpc: str, response: httpx.Response) -> Any:
        ctype = response.headers.get("content-type", "")
        assert ctype.split(";")[0].strip() == "application/json", (rpc, ctype)
        body = response.json()
        validator = jsonschema.Draft7Validator(
            {"$ref": self.schema_ref(rpc, response.status_code)},
            registry=self.registry,
            format_checker=FORMATS,
        )
        problems = [
            f"{'/'.join(map(str, e.absolute_path)) or '<body>'}: {e.message[:300]}"
            for e in validator.iter_errors(body)
        ]
        assert not problems, (
            f"{rpc} {response.status_code} body violates the spec:\n  "
            + "\n  ".join(problems[:20])
            + f"\nbody: {json.dumps(body)[:2000]}"
        )
        return body


@cache
def _reference() -> SettingsReference:
    return SettingsReference(json.loads((spec_files() / "case_settings_service.json").read_text()))


@dataclass
class Rest:
    """One key's REST client: ``call(rpc, ...)`` uses the spec's path, checks the status, and
    validates the body against the spec."""

    http: httpx.Client = field(repr=False)
    key: str | None
    reference: SettingsReference = field(repr=False)

    def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        auth = {"authorization": f"Bearer {self.key}"} if self.key else {}
        kw["headers"] = {**auth, **kw.get("headers", {})}
        return self.http.request(method, path, **kw)

    def exchange(
        self, rpc: str, *, id: str | None = None, prefix: str = "", expect: int = 200, **kw: Any
    ) -> httpx.Response:
        route = ROUTE[rpc]
        path = route.path if id is None else route.path.replace("{id}", id)
        assert "{" not in path, f"{rpc} needs an id"
        response = self.request(route.method, prefix + path, **kw)
        assert response.status_code == expect, (
            f"{rpc}: expected {expect}, got {response.status_code}: {response.text[:1000]}"
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
def make_rest(make_key: MakeKey, client: httpx.Client) -> MakeRest:  # noqa: F811
    def make(*permissions: str, space_name: str | None = None) -> Rest:
        key, _ = make_key(*permissions, space_name=space_name)
        return Rest(client, key, _reference())

    return make


@pytest.fixture
def rest(make_rest: MakeRest) -> Rest:
    return make_rest(READ, UPDATE)
