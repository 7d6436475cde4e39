"""Authentication and authorization of every RPC, driven by the service descriptors.

The RPC list comes from the protobuf descriptors, not from the permission table, so a new RPC
without a table entry fails here, and so does a table entry that names no real RPC.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor

from casekeeper.api.coralogix.permissions import OPERATION_PERMISSIONS
from casekeeper.bootstrap import Container
from casekeeper.proto.casekeeper.v1 import api_keys_pb2, case_admin_pb2
from casekeeper.proto.com.coralogixapis.cases.v1 import (
    case_events_service_pb2,
    case_settings_service_pb2,
    cases_notification_service_pb2,
    cases_service_pb2,
)
from casekeeper.proto.com.coralogixapis.incidents.v1 import incidents_service_pb2
from casekeeper.service.auth import OPERATOR
from casekeeper.service.permissions import Permission
from tests.api.coralogix.grpc.conftest import TIMEOUT, Metadata, bearer
from tests.conftest import MakeKey

SERVICES = (
    cases_service_pb2.DESCRIPTOR.services_by_name["CasesService"],
    case_events_service_pb2.DESCRIPTOR.services_by_name["CaseEventsService"],
    case_admin_pb2.DESCRIPTOR.services_by_name["CaseAdminService"],
    api_keys_pb2.DESCRIPTOR.services_by_name["ApiKeysService"],
)


def _path(method: MethodDescriptor) -> str:
    return f"/{method.containing_service.full_name}/{method.name}"


METHODS: dict[str, MethodDescriptor] = {_path(m): m for s in SERVICES for m in s.methods}
# The incidents RPCs take wrapper ids: their matrix is tests/api/coralogix/incidents/.
INCIDENTS = incidents_service_pb2.DESCRIPTOR.services_by_name["IncidentsService"]
# The case settings RPCs' matrix is tests/api/coralogix/settings/.
SETTINGS = case_settings_service_pb2.DESCRIPTOR.services_by_name["CaseSettingsService"]
# The notification ledger's matrix is tests/api/coralogix/notifications/.
NOTIFY = cases_notification_service_pb2.DESCRIPTOR.services_by_name["CasesNotificationService"]
ALL_METHODS = {
    **METHODS,
    **{_path(m): m for m in INCIDENTS.methods},
    **{_path(m): m for m in SETTINGS.methods},
    **{_path(m): m for m in NOTIFY.methods},
}


def test_descriptors_hold_the_expected_services() -> None:
    counts = {s.full_name: len(s.methods) for s in SERVICES}
    assert counts == {
        "com.coralogixapis.cases.v1.CasesService": 22,
        "com.coralogixapis.cases.v1.CaseEventsService": 6,
        "casekeeper.v1.CaseAdminService": 2,
        "casekeeper.v1.ApiKeysService": 3,
    }


def test_every_rpc_has_a_permission() -> None:
    missing = sorted(set(ALL_METHODS) - set(OPERATION_PERMISSIONS))
    assert missing == [], f"RPCs without an entry in OPERATION_PERMISSIONS: {missing}"


def test_permission_table_names_only_real_rpcs() -> None:
    extra = sorted(set(OPERATION_PERMISSIONS) - set(ALL_METHODS))
    assert extra == [], f"OPERATION_PERMISSIONS entries that are no RPC: {extra}"


def test_seed_permission_table() -> None:
    """The Coralogix doc's permission table (CASE:READ ... CASE:COMMENT), as written there."""
    by_perm: dict[str, set[str]] = {}
    for path, perm in OPERATION_PERMISSIONS.items():
        if path.startswith("/com.coralogixapis.cases.v1."):
            by_perm.setdefault(perm.value, set()).add(path.rsplit("/", 1)[1])
    assert by_perm["case:Update"] == {
        "UpdateCase",
        "SetPriorityOverride",
        "ClearPriorityOverride",
        "BulkSetPriorityOverride",
        "BulkClearPriorityOverride",
    }
    assert by_perm["case:Assign"] == {"AssignCase", "UnassignCase", "BulkAssign", "BulkUnassign"}
    assert by_perm["case:Acknowledge"] == {
        "AcknowledgeCase",
        "UnacknowledgeCase",
        "BulkAcknowledge",
    }
    assert by_perm["case:Close"] == {"ResolveCase", "CloseCase", "BulkResolve", "BulkClose"}
    assert by_perm["case:Comment"] == {
        "CreateComment",
        "UpdateComment",
        "DeleteComment",
        "SyncExternalCaseEvents",
    }
    reads = {
        "GetCase",
        "ListCases",
        "GetFilterValues",
        "GetGroupingKeys",
        "GetCaseDeepLinks",
        "GetCaseByIndicator",
        "ListEvents",
        "GetEvent",
        "ListNotificationDeliveries",  # the spec's, beyond the seed's table
    }
    assert by_perm["case:Read"] == reads


# -- the matrix -------------------------------------------------------------------------------


def _request(method: MethodDescriptor) -> Any:
    """A minimal, well-formed request: ids are random UUIDs (so the answer is at worst
    NOT_FOUND), other fields stay empty (at worst INVALID_ARGUMENT)."""
    msg: Any = message_factory.GetMessageClass(method.input_type)()  # fields known at runtime
    fields = msg.DESCRIPTOR.fields_by_name
    for name in ("id", "case_id", "event_id"):
        if name in fields:
            setattr(msg, name, str(uuid.uuid4()))
    if "ids" in fields:
        msg.ids.append(str(uuid.uuid4()))
    return msg


def _invoke_details(
    channel: grpc.Channel, path: str, metadata: Metadata | None
) -> tuple[grpc.StatusCode, str]:
    """Call ``path`` through a generic unary-unary callable; the status code and details."""
    method = METHODS[path]
    out_cls = message_factory.GetMessageClass(method.output_type)
    call = channel.unary_unary(
        path,
        request_serializer=lambda m: m.SerializeToString(),
        response_deserializer=out_cls.FromString,
    )
    try:
        call(_request(method), metadata=metadata, timeout=TIMEOUT)
    except grpc.RpcError as err:
        return err.code(), err.details() or ""
    return grpc.StatusCode.OK, ""


@dataclass(frozen=True)
class Credential:
    name: str
    build: Callable[[MakeKey, Container, Permission], Metadata | None]


def _no_key(make_key: MakeKey, container: Container, perm: Permission) -> Metadata | None:
    return None


def _malformed(make_key: MakeKey, container: Container, perm: Permission) -> Metadata | None:
    return (("authorization", "Bearer not-a-casekeeper-key"),)


def _wrong_secret(make_key: MakeKey, container: Container, perm: Permission) -> Metadata | None:
    key, _ = make_key(perm.value)
    head, prefix, secret = key.split("_", 2)
    wrong = "A" + secret[1:] if secret[0] != "A" else "B" + secret[1:]
    return bearer(f"{head}_{prefix}_{wrong}")


def _revoked(make_key: MakeKey, container: Container, perm: Permission) -> Metadata | None:
    key, principal = make_key(perm.value)
    container.keys.revoke(OPERATOR, principal.key_id)
    return bearer(key)


def _without(make_key: MakeKey, container: Container, perm: Permission) -> Metadata | None:
    others = [p.value for p in Permission if p is not perm]
    key, _ = make_key(*others)
    return bearer(key)


def _only(make_key: MakeKey, container: Container, perm: Permission) -> Metadata | None:
    key, _ = make_key(perm.value)
    return bearer(key)


UNAUTHENTICATED_CREDENTIALS = [
    Credential("no-key", _no_key),
    Credential("malformed-key", _malformed),
    Credential("wrong-secret", _wrong_secret),
    Credential("revoked-key", _revoked),
]


@pytest.mark.parametrize("path", sorted(METHODS))
@pytest.mark.parametrize("cred", UNAUTHENTICATED_CREDENTIALS, ids=lambda c: c.name)
def test_bad_credentials_are_unauthenticated(
    channel: grpc.Channel, make_key: MakeKey, container: Container, path: str, cred: Credential
) -> None:
    perm = OPERATION_PERMISSIONS.get(path, Permission.CASE_READ)
    metadata = cred.build(make_key, container, perm)
    code, details = _invoke_details(channel, path, metadata)
    assert code == grpc.StatusCode.UNAUTHENTICATED, (code, details)
    assert details


@pytest.mark.parametrize("path", sorted(METHODS))
def test_key_without_the_permission_is_denied(
    channel: grpc.Channel, make_key: MakeKey, container: Container, path: str
) -> None:
    perm = OPERATION_PERMISSIONS[path]
    code, details = _invoke_details(channel, path, _without(make_key, container, perm))
    assert code == grpc.StatusCode.PERMISSION_DENIED, (code, details)
    assert repr(perm.value) in details, details
    assert path.rsplit("/", 1)[1] in details, details


@pytest.mark.parametrize("path", sorted(METHODS))
def test_key_with_only_the_permission_is_let_through(
    channel: grpc.Channel, make_key: MakeKey, container: Container, path: str
) -> None:
    perm = OPERATION_PERMISSIONS[path]
    code, details = _invoke_details(channel, path, _only(make_key, container, perm))
    assert code in {
        grpc.StatusCode.OK,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.INVALID_ARGUMENT,
    }, (code, details)


def test_bare_key_and_lowercase_bearer_are_accepted(
    channel: grpc.Channel, make_key: MakeKey
) -> None:
    key, _ = make_key("case:Read")
    path = "/com.coralogixapis.cases.v1.CasesService/GetGroupingKeys"
    for value in (key, f"bearer {key}", f"Bearer  {key} "):
        code, details = _invoke_details(channel, path, (("authorization", value),))
        assert code == grpc.StatusCode.OK, (value, code, details)


def test_seed_uppercase_permission_names_grant_access(
    channel: grpc.Channel, make_key: MakeKey
) -> None:
    """Keys created with the doc's spelling (CASE:READ) work like case:Read."""
    key, _ = make_key("CASE:READ")
    path = "/com.coralogixapis.cases.v1.CasesService/GetGroupingKeys"
    assert _invoke_details(channel, path, bearer(key))[0] == grpc.StatusCode.OK
    denied = "/com.coralogixapis.cases.v1.CasesService/CloseCase"
    assert _invoke_details(channel, denied, bearer(key))[0] == grpc.StatusCode.PERMISSION_DENIED


def test_unauthenticated_messages_say_why(
    channel: grpc.Channel, make_key: MakeKey, container: Container
) -> None:
    path = "/com.coralogixapis.cases.v1.CasesService/GetGroupingKeys"
    assert "Authorization: Bearer" in _invoke_details(channel, path, None)[1]
    malformed = (("authorization", "Bearer nope"),)
    assert "ck_<prefix>_<secret>" in _invoke_details(channel, path, malformed)[1]
    key, principal = make_key("case:Read")
    assert _invoke_details(channel, path, bearer(key))[0] == grpc.StatusCode.OK
    container.keys.revoke(OPERATOR, principal.key_id)
    code, details = _invoke_details(channel, path, bearer(key))
    assert code == grpc.StatusCode.UNAUTHENTICATED
    assert "revoked" in details
