"""Coralogix's CasesNotificationService/ListNotificationDeliveries over a real HTTP server and a
real gRPC channel: ledger records made for real (a route, a loopback receiver, the delivery
worker), bodies validated against ``cases_notification_service.json``, ids keyed as sent,
tenancy, validation and permission."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from functools import cache
from typing import Any

import grpc
import httpx
import jsonschema
import pytest
from google.protobuf import json_format
from referencing import Registry
from referencing.jsonschema import DRAFT7

from casekeeper.bootstrap import Container
from casekeeper.domain.commands import Acknowledge, CaseChange, Resolve
from casekeeper.proto.com.coralogixapis.cases.v1 import cases_notification_service_pb2 as pb
from casekeeper.proto.com.coralogixapis.cases.v1 import (
    cases_notification_service_pb2_grpc as pb_grpc,
)
from casekeeper.service.auth import Principal
from casekeeper.service.notify_config import ConnectorInput
from casekeeper.service.notify_routes import RouteInput
from tests.api.coralogix.grpc.conftest import TIMEOUT, bearer
from tests.api.coralogix.rest.conftest import FORMATS, _strict, spec_files
from tests.conftest import MakeCase, MakeKey
from tests.notify.receiver import Receiver

PATH = "/cases/notifications/v1/deliveries"


@cache
def validator() -> jsonschema.Draft7Validator:
    doc = json.loads((spec_files() / "cases_notification_service.json").read_text())
    registry = Registry().with_resource("urn:cx:n", DRAFT7.create_resource(_strict(doc)))
    return jsonschema.Draft7Validator(
        {"$ref": "urn:cx:n#/components/schemas/ListNotificationDeliveriesResponse"},
        registry=registry, format_checker=FORMATS,
    )  # fmt: skip


def valid(body: Any) -> Any:
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
                for e in validator().iter_errors(body)]  # fmt: skip
    assert not problems, problems
    return body


@pytest.fixture
def receivers() -> Iterator[tuple[Receiver, Receiver]]:
    with Receiver() as ok, Receiver() as refusing:
        refusing.status = 400
        yield ok, refusing


@pytest.fixture
def noted(
    container: Container,
    make_key: MakeKey,
    make_case: MakeCase,
    principal: Principal,
    receivers: tuple[Receiver, Receiver],
) -> tuple[str, str]:
    """A case with every kind of ledger record: acknowledged (routed to two connectors, one
    refusing), resolved (a route whose connector is disabled), closed (no route)."""
    ok, refusing = receivers
    c, p = container, principal
    good = c.connectors.create(p, ConnectorInput(name="ok", kind="webhook", url=ok.url))
    bad = c.connectors.create(p, ConnectorInput(name="refusing", kind="webhook",
                                                url=refusing.url))  # fmt: skip
    off = c.connectors.create(p, ConnectorInput(name="off", kind="webhook", url=ok.url,
                                                enabled=False))  # fmt: skip
    c.routes.create(p, RouteInput(name="acks", connectors=(good.id, bad.id),
                                  events=("acknowledged",)))  # fmt: skip
    c.routes.create(p, RouteInput(name="resolutions", connectors=(off.id,),
                                  events=("resolved",)))  # fmt: skip
    case = make_case()
    c.cases.change(p, CaseChange(case.id, (Acknowledge(),)))
    c.cases.change(p, CaseChange(case.id, (Resolve(reason="fixed"),)))
    c.delivery_worker().run(threading.Event(), until_idle=True)
    assert case.readable_id is not None
    return case.id, case.readable_id


def post(client: httpx.Client, key: str, body: Any) -> httpx.Response:
    return client.post(PATH, json=body, headers={"Authorization": f"Bearer {key}"})


def test_rest_lists_every_kind_of_record_keyed_as_sent(
    client: httpx.Client, make_key: MakeKey, noted: tuple[str, str]
) -> None:
    case_id, readable = noted
    key = make_key("case:Read")[0]
    body = valid(post(client, key, {"caseIds": [case_id, readable.lower(), "CASE-999999"]})
                 .json())  # fmt: skip
    by_case = body["deliveriesByCase"]
    assert set(by_case) == {case_id, readable.lower(), "CASE-999999"}
    assert by_case["CASE-999999"] == {"notificationDeliveries": []}
    assert by_case[case_id] == by_case[readable.lower()]
    records = by_case[case_id]["notificationDeliveries"]
    attempted = [r for r in records if "attempted" in r]
    assert len(attempted) == 1
    a = attempted[0]["attempted"]
    assert a["router"]["routerName"] == "acks"
    outcomes = {x["connector"]["connectorName"]: x["outcome"] for x in a["attempts"]}
    assert outcomes["ok"] == {"success": {}}
    assert outcomes["refusing"]["failure"]["errorMessage"].startswith("HTTP 400 from http://")
    assert {x["connector"]["connectorType"] for x in a["attempts"]} == {
        "CONNECTOR_TYPE_GENERIC_HTTPS"
    }
    blocked = [r for r in records if "noNotificationCreated" in r]
    assert [r["noNotificationCreated"]["matchedRouters"][0]["routerName"] for r in blocked] == [
        "resolutions"
    ]
    assert any("noRouterMatched" in r for r in records)  # the activation: no route
    assert all(r["requestNotificationId"] and r["timestamp"] for r in records)


def test_grpc_answers_what_rest_answers(
    client: httpx.Client,
    channel: grpc.Channel,
    make_key: MakeKey,
    noted: tuple[str, str],
) -> None:
    case_id, readable = noted
    key = make_key("case:Read")[0]
    stub = pb_grpc.CasesNotificationServiceStub(channel)
    got = stub.ListNotificationDeliveries(
        pb.ListNotificationDeliveriesRequest(case_ids=[readable, case_id]),
        metadata=bearer(key), timeout=TIMEOUT,
    )  # fmt: skip
    as_json = json_format.MessageToDict(got)
    rest = post(client, key, {"caseIds": [readable, case_id]}).json()
    assert as_json == rest


def test_another_spaces_cases_are_empty_lists(
    client: httpx.Client, make_key: MakeKey, noted: tuple[str, str]
) -> None:
    case_id, readable = noted
    other = make_key("case:Read", space_name="elsewhere-cx-notify")[0]
    body = valid(post(client, other, {"caseIds": [case_id, readable]}).json())
    assert body == {"deliveriesByCase": {case_id: {"notificationDeliveries": []},
                                         readable: {"notificationDeliveries": []}}}  # fmt: skip


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"caseIds": []}, "case_ids"),
        ({"caseIds": ["x" * 65]}, "case_ids[0]"),
        ({"caseIds": [f"CASE-{i}" for i in range(1001)]}, "case_ids"),
        ({"caseIds": "CASE-1"}, "caseIds"),
    ],
)
def test_bad_requests_are_400_naming_the_field(
    client: httpx.Client, make_key: MakeKey, body: Any, needle: str
) -> None:
    response = post(client, make_key("case:Read")[0], body)
    assert response.status_code == 400, response.text
    assert needle.split("[")[0].replace("_", "").lower() in response.text.replace("_", "").lower()


def test_without_case_read_it_is_denied(
    client: httpx.Client,
    channel: grpc.Channel,
    make_key: MakeKey,
) -> None:
    key = make_key("case:Update")[0]
    assert post(client, key, {"caseIds": ["CASE-1"]}).status_code == 403
    stub = pb_grpc.CasesNotificationServiceStub(channel)
    with pytest.raises(grpc.RpcError) as err:
        stub.ListNotificationDeliveries(pb.ListNotificationDeliveriesRequest(case_ids=["CASE-1"]),
                                        metadata=bearer(key), timeout=TIMEOUT)  # fmt: skip
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
