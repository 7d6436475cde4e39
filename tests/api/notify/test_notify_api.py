"""casekeeper.v1.NotificationService over a real HTTP server (/api/v1) and a real gRPC channel:
CRUD, write-only secrets, the routing dry run, the ledger and replay, permissions and bad
input, and response bodies validated against the schemas /openapi.json publishes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import jsonschema
import pytest
from google.protobuf import json_format

from casekeeper.bootstrap import Container
from casekeeper.domain.commands import Acknowledge, CaseChange
from casekeeper.proto.casekeeper.v1 import notifications_pb2 as pb
from casekeeper.proto.casekeeper.v1 import notifications_pb2_grpc as pb_grpc
from tests.api.coralogix.grpc.conftest import TIMEOUT, bearer
from tests.conftest import MakeCase, MakeKey
from tests.notify.receiver import Receiver

MANAGE = ("notifications:Read", "notifications:Manage", "case:Read", "case:Acknowledge")


class Api:
    def __init__(self, client: httpx.Client, key: str, doc: dict[str, Any]) -> None:
        self.client, self.key, self.doc = client, key, doc

    def call(self, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        r = self.client.request(method, "/api/v1" + path, json=body,
                                headers={"Authorization": f"Bearer {self.key}"})  # fmt: skip
        assert r.status_code == expect, r.text
        data = r.json()
        if expect == 200:
            self.check(method, path, data)
        else:
            assert set(data) == {"code", "message"}
            assert data["code"] == expect
        return data

    def check(self, method: str, path: str, data: Any) -> None:
        """The body validates against the response schema /openapi.json gives this route."""
        for template, ops in self.doc["paths"].items():
            if not template.startswith("/api/v1"):
                continue
            parts, got = template.split("/"), ("/api/v1" + path).split("/")
            if len(parts) != len(got) or method.lower() not in ops:
                continue
            if all(a == b or (a.startswith("{") and b.endswith(a[a.index("}") + 1:]))
                   for a, b in zip(parts, got, strict=True)):  # fmt: skip
                schema = ops[method.lower()]["responses"]["200"]["content"]["application/json"]
                jsonschema.validate(
                    data, {**schema["schema"], "components": self.doc["components"]}
                )
                return
        raise AssertionError(f"no documented route for {method} {path}")


@pytest.fixture(scope="module")
def doc(client: httpx.Client) -> dict[str, Any]:
    return dict(client.get("/openapi.json").json())


@pytest.fixture
def api(client: httpx.Client, make_key: MakeKey, doc: dict[str, Any]) -> Api:
    return Api(client, make_key(*MANAGE)[0], doc)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def test_connectors_round_trip_and_secrets_never_come_back(api: Api) -> None:
    made = api.call("POST", "/connectors", {"name": "oncall", "type": "slack",
                                            "secretEnv": "SLACK_WEBHOOK_URL"})  # fmt: skip
    c = made["connector"]
    assert (c["type"], c["secret"], c["enabled"]) == ("slack", "env:SLACK_WEBHOOK_URL", True)
    assert "url" not in c
    assert api.call("GET", f"/connectors/{c['id']}")["connector"] == c
    assert api.call("GET", "/connectors/oncall")["connector"]["id"] == c["id"]  # by name
    mail = api.call("POST", "/connectors", {
        "name": "mail", "type": "email", "smtp": "127.0.0.1:2525", "sender": "ck@example.com",
        "to": ["a@example.com"], "starttls": True,
    })["connector"]  # fmt: skip
    assert mail["email"] == {"smtp": "127.0.0.1:2525", "sender": "ck@example.com",
                             "to": ["a@example.com"], "starttls": True}  # fmt: skip
    changed = api.call("PATCH", f"/connectors/{c['id']}", {"name": "oncall-2", "enabled": False})
    assert (changed["connector"]["name"], changed["connector"]["enabled"]) == ("oncall-2", False)
    listed = api.call("GET", "/connectors")["connectors"]
    assert sorted(x["name"] for x in listed) == ["mail", "oncall-2"]
    refused = api.call("POST", "/connectors", {"name": "s", "type": "slack",
                                               "url": "https://hooks.slack.example/T/B/secret"},
                       expect=400)  # fmt: skip
    assert "CASEKEEPER_SECRET_KEY" in refused["message"]
    assert "T/B/secret" not in refused["message"]
    api.call("DELETE", f"/connectors/{c['id']}")
    api.call("GET", f"/connectors/{c['id']}", expect=404)


def test_routes_explain_deliveries_and_replay(
    api: Api, container: Container, make_case: MakeCase, receiver: Receiver
) -> None:
    hook = api.call("POST", "/connectors", {"name": "hook", "type": "webhook",
                                            "url": receiver.url})["connector"]  # fmt: skip
    route = api.call("POST", "/routes", {"name": "acks", "connectors": ["hook"],
                                         "events": ["acknowledged"], "minPriority": "P3",
                                         "labels": ["team=db"]})["route"]  # fmt: skip
    assert route["connectors"] == [hook["id"]]
    case = make_case(priority=2, labels={"team": "db"})
    why = api.call("POST", "/routes:explain", {"caseId": case.readable_id,
                                               "event": "acknowledged"})  # fmt: skip
    (verdict,) = why["routes"]
    assert verdict["matched"] is True
    assert verdict["connectors"] == [{"connectorId": hook["id"], "connectorName": "hook",
                                      "type": "webhook", "usable": True}]  # fmt: skip
    cleared = api.call("PATCH", f"/routes/{route['id']}", {"clear": ["labels"],
                                                            "minPriority": "P1"})  # fmt: skip
    assert cleared["route"]["labels"] == []
    assert cleared["route"]["minPriority"] == "P1"
    no = api.call("POST", "/routes:explain", {"caseId": case.id, "event": "acknowledged"})
    assert no["routes"][0]["reasons"] == ["event acknowledged is one of acknowledged",
                                          "priority P2 is below P1"]  # fmt: skip
    api.call("PATCH", f"/routes/{route['id']}", {"clear": ["min_priority"]})

    receiver.status = 400
    container.cases.change(
        container.keys.authenticate(f"Bearer {api.key}"), CaseChange(case.id, (Acknowledge(),))
    )
    container.delivery_worker().run(threading.Event(), until_idle=True)
    ledger = api.call("GET", f"/cases/{case.readable_id}/deliveries")["notifications"]
    routed = [n for n in ledger if n["result"] == "routed"]
    (delivery,) = routed[0]["deliveries"]
    assert delivery["state"] == "failed"
    assert delivery["attempts"][0]["statusCode"] == 400
    receiver.status = 200
    again = api.call("POST", f"/deliveries/{delivery['id']}:replay")["delivery"]
    assert again["state"] == "pending"
    container.delivery_worker().run(threading.Event(), until_idle=True)
    ledger = api.call("GET", f"/cases/{case.id}/deliveries")["notifications"]
    states = [d["state"] for n in ledger for d in n["deliveries"]]
    assert states == ["delivered"]
    api.call("POST", f"/deliveries/{delivery['id']}:replay", expect=400)
    api.call("DELETE", f"/connectors/{hook['id']}", expect=400)  # used by a route
    api.call("DELETE", f"/routes/{route['id']}")
    api.call("DELETE", f"/connectors/{hook['id']}")


def test_test_connector_sends_now(api: Api, receiver: Receiver) -> None:
    api.call("POST", "/connectors", {"name": "hook", "type": "webhook", "url": receiver.url})
    ok = api.call("POST", "/connectors/hook:test")
    assert ok["ok"] is True
    assert ok["statusCode"] == 200
    receiver.status = 503
    failed = api.call("POST", "/connectors/hook:test")
    assert failed["ok"] is False
    assert failed["error"].startswith("HTTP 503 from http://127.0.0.1")


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "needle"),
    [
        ("POST", "/connectors", {"name": "x", "type": "fax", "url": "http://a"}, 400, "fax"),
        ("POST", "/connectors", {"name": "x", "kind": "webhook"}, 400, "kind"),
        ("POST", "/connectors", {"name": 7, "type": "webhook"}, 400, "name"),
        ("POST", "/connectors", {"name": "x" * 300, "type": "webhook", "url": "http://a"}, 400,
         "name"),
        ("POST", "/connectors", [1, 2], 400, "object"),
        ("POST", "/routes", {"name": "r", "connectors": ["nope"]}, 404, "nope"),
        ("POST", "/routes", {"name": "r", "connectors": []}, 400, "connector"),
        ("POST", "/routes:explain", {"caseId": "CASE-999999"}, 404, "CASE-999999"),
        ("GET", "/routes/nope", None, 404, "nope"),
        ("GET", "/nothing-here", None, 404, "no such path"),
    ],
)  # fmt: skip
def test_bad_input_is_a_clear_4xx(
    api: Api, method: str, path: str, body: Any, status: int, needle: str
) -> None:
    data = api.call(method, path, body, expect=status)
    assert needle.lower() in data["message"].lower(), data


def test_malformed_json_and_permissions(client: httpx.Client, make_key: MakeKey) -> None:
    key = make_key(*MANAGE)[0]
    r = client.post("/api/v1/connectors", content=b"{not json",
                    headers={"Authorization": f"Bearer {key}"})  # fmt: skip
    assert r.status_code == 400
    assert "not JSON" in r.json()["message"]
    reader = make_key("notifications:Read")[0]
    r = client.post("/api/v1/connectors", json={"name": "x", "type": "webhook",
                                                "url": "http://a"},
                    headers={"Authorization": f"Bearer {reader}"})  # fmt: skip
    assert r.status_code == 403
    assert "notifications:Manage" in r.json()["message"]
    assert client.get("/api/v1/connectors").status_code == 401


def test_grpc_answers_as_rest(api: Api, channel: grpc.Channel, make_key: MakeKey) -> None:
    api.call("POST", "/connectors", {"name": "pd", "type": "pagerduty", "secretEnv": "PD_KEY"})
    stub = pb_grpc.NotificationServiceStub(channel)
    got = stub.ListConnectors(pb.ListConnectorsRequest(), metadata=bearer(api.key),
                              timeout=TIMEOUT)  # fmt: skip
    rest = api.call("GET", "/connectors")
    assert json_format.MessageToDict(got, always_print_fields_with_no_presence=True) == rest
    made = stub.CreateRoute(
        pb.CreateRouteRequest(route=pb.RouteSpec(name="r", connectors=["pd"], events=["opened"])),
        metadata=bearer(api.key), timeout=TIMEOUT,
    )  # fmt: skip
    assert list(made.route.events) == ["opened"]
    with pytest.raises(grpc.RpcError) as err:
        stub.GetRoute(pb.RouteRef(id="nope"), metadata=bearer(api.key), timeout=TIMEOUT)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as err:
        stub.CreateRoute(pb.CreateRouteRequest(route=pb.RouteSpec(name="r2", connectors=["pd"],
                                                                  events=["exploded"])),
                         metadata=bearer(api.key), timeout=TIMEOUT)  # fmt: skip
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "exploded" in str(err.value.details())
    with pytest.raises(grpc.RpcError) as err:
        stub.ListRoutes(pb.ListRoutesRequest(), metadata=bearer(make_key("case:Read")[0]),
                        timeout=TIMEOUT)  # fmt: skip
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
