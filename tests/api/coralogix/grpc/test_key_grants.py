"""Over gRPC, a key with ``api-key:Manage`` mints keys with at most its own permissions: a
manage-only key used to mint a key that closes cases (issue 10, item 9)."""

from __future__ import annotations

import grpc

from casekeeper.proto.casekeeper.v1 import api_keys_pb2 as keys_pb
from tests.api.coralogix.grpc.conftest import MakeClient, expect_error


def test_a_manage_only_key_cannot_mint_a_key_that_closes_cases(make_client: MakeClient) -> None:
    manager = make_client("api-key:Manage")
    request = keys_pb.CreateApiKeyRequest(name="escalate", permissions=["case:Close"])
    err = expect_error(grpc.StatusCode.PERMISSION_DENIED, manager.keys.CreateApiKey, request)
    assert "case:Close" in (err.details() or "")
    everything = keys_pb.CreateApiKeyRequest(
        name="everything", permissions=["case:Read", "case:Close", "api-key:Manage"]
    )
    err = expect_error(grpc.StatusCode.PERMISSION_DENIED, manager.keys.CreateApiKey, everything)
    details = err.details() or ""
    assert "case:Read" in details
    assert "case:Close" in details
    listed = manager.keys.ListApiKeys(keys_pb.ListApiKeysRequest())
    assert not {"escalate", "everything"} & {k.name for k in listed.api_keys}


def test_a_key_mints_keys_within_its_own_permissions(make_client: MakeClient) -> None:
    grantor = make_client("api-key:Manage", "case:Read")
    request = keys_pb.CreateApiKeyRequest(name="reader", permissions=["CASE:READ"])
    created = grantor.keys.CreateApiKey(request)
    assert list(created.api_key.permissions) == ["case:Read"]
    assert created.api_key.space == grantor.principal.space_name
    manage = keys_pb.CreateApiKeyRequest(name="deputy", permissions=["api-key:Manage"])
    assert list(grantor.keys.CreateApiKey(manage).api_key.permissions) == ["api-key:Manage"]
