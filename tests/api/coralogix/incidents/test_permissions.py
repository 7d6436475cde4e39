"""Every IncidentsService RPC is in the one permission table, and the table is enforced over
gRPC before the request is read: a key without the RPC's permission is PERMISSION_DENIED
naming it, a key with only that permission gets through (to NOT_FOUND or INVALID_ARGUMENT
for these empty requests, or OK)."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import message_factory

from casekeeper.api.coralogix.permissions import INCIDENTS, OPERATION_PERMISSIONS
from casekeeper.api.coralogix.rest.incident_routes import INCIDENT_ROUTES
from casekeeper.proto.com.coralogixapis.incidents.v1 import incidents_service_pb2
from casekeeper.service.permissions import Permission
from tests.api.coralogix.grpc.conftest import TIMEOUT, bearer
from tests.api.coralogix.incidents.conftest import UNKNOWN_ID
from tests.conftest import MakeKey

SERVICE = incidents_service_pb2.DESCRIPTOR.services_by_name["IncidentsService"]
METHODS = {m.name: m for m in SERVICE.methods}
INCIDENT_PERMISSIONS = {
    Permission.INCIDENTS_READ,
    Permission.INCIDENTS_ASSIGN,
    Permission.INCIDENTS_ACKNOWLEDGE,
    Permission.INCIDENTS_CLOSE,
}


def test_every_incidents_rpc_and_route_has_its_permission() -> None:
    assert len(METHODS) == 18
    table = {op: p for op, p in OPERATION_PERMISSIONS.items() if op.startswith(INCIDENTS)}
    assert set(table) == {INCIDENTS + name for name in METHODS}
    assert set(table.values()) == INCIDENT_PERMISSIONS
    for route in INCIDENT_ROUTES:
        assert route.operation in table, route


def _call(channel: grpc.Channel, name: str, key: str) -> tuple[grpc.StatusCode, str]:
    method = METHODS[name]
    request = message_factory.GetMessageClass(method.input_type)()
    for field in ("id", "incident_id"):
        if field in request.DESCRIPTOR.fields_by_name:
            getattr(request, field).value = UNKNOWN_ID
    out = message_factory.GetMessageClass(method.output_type)
    call = channel.unary_unary(
        f"/{SERVICE.full_name}/{name}",
        request_serializer=lambda m: m.SerializeToString(),
        response_deserializer=out.FromString,
    )
    try:
        call(request, metadata=bearer(key), timeout=TIMEOUT)
    except grpc.RpcError as err:
        return err.code(), err.details() or ""
    return grpc.StatusCode.OK, ""


@pytest.mark.parametrize("name", sorted(METHODS))
def test_a_key_without_the_permission_is_denied(
    channel: grpc.Channel, make_key: MakeKey, name: str
) -> None:
    needed = OPERATION_PERMISSIONS[INCIDENTS + name]
    key, _ = make_key(*[p.value for p in Permission if p is not needed])
    code, details = _call(channel, name, key)
    assert code == grpc.StatusCode.PERMISSION_DENIED, (code, details)
    assert repr(needed.value) in details
    assert name in details


@pytest.mark.parametrize("name", sorted(METHODS))
def test_a_key_with_only_the_permission_gets_through(
    channel: grpc.Channel, make_key: MakeKey, name: str
) -> None:
    key, _ = make_key(OPERATION_PERMISSIONS[INCIDENTS + name].value)
    code, details = _call(channel, name, key)
    assert code in {
        grpc.StatusCode.OK,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.INVALID_ARGUMENT,
    }, (code, details)
