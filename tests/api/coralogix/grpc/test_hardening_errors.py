"""Errors never carry a caller's input unbounded nor an API key (issue 10, item 3), and a request
body that is not protobuf is INVALID_ARGUMENT, logged without a traceback (item 4)."""

from __future__ import annotations

import logging

import grpc
import pytest

from casekeeper.proto.casekeeper.v1 import api_keys_pb2 as keys_pb
from casekeeper.proto.com.coralogixapis.cases.v1 import case_events_service_pb2 as events_pb
from casekeeper.proto.com.coralogixapis.cases.v1 import case_filters_pb2 as f_pb
from casekeeper.proto.com.coralogixapis.cases.v1 import cases_service_pb2 as pb
from casekeeper.proto.com.coralogixapis.cases.v1 import common_pb2 as common_pb
from tests.api.coralogix.grpc.conftest import TIMEOUT, Client, bearer, expect_error
from tests.conftest import MakeCase, assert_quiet_logs, secret

MiB = "x" * (1 << 20)


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="casekeeper")
    return caplog


def short(err: grpc.RpcError) -> str:
    details = err.details() or ""
    assert len(details.encode()) < 1024, f"{len(details)} characters: {details[:200]}..."
    return details


def assert_quiet_logs_logged(logs: pytest.LogCaptureFixture, *hidden: str) -> None:
    assert_quiet_logs(logs, *hidden, logged=True)


# -- item 3: bounded, redacted quotes ------------------------------------------------------------


def test_a_megabyte_assignee_is_invalid_argument_with_a_short_message(
    api: Client, make_case: MakeCase, logs: pytest.LogCaptureFixture
) -> None:
    case = make_case()
    request = pb.AssignCaseRequest(id=case.id, assignee=common_pb.UserDetails(user_id=MiB))
    details = short(expect_error(grpc.StatusCode.INVALID_ARGUMENT, api.cases.AssignCase, request))
    assert "assignee.userId" in details
    assert "1048576 characters" in details
    assert_quiet_logs_logged(logs, "x" * 100)


@pytest.mark.parametrize("rpc", ["GetEvent", "UpdateComment", "DeleteComment"])
def test_a_megabyte_event_id_is_invalid_argument_with_a_short_message(
    rpc: str, api: Client, logs: pytest.LogCaptureFixture
) -> None:
    request = {
        "GetEvent": events_pb.GetEventRequest(event_id=MiB),
        "UpdateComment": events_pb.UpdateCommentRequest(event_id=MiB, text="hello"),
        "DeleteComment": events_pb.DeleteCommentRequest(event_id=MiB),
    }[rpc]
    err = expect_error(grpc.StatusCode.INVALID_ARGUMENT, getattr(api.events, rpc), request)
    assert "event_id" in short(err)
    assert_quiet_logs_logged(logs, "x" * 100)


def test_a_megabyte_key_id_to_revoke_is_not_found_with_a_short_message(
    api: Client, logs: pytest.LogCaptureFixture
) -> None:
    err = expect_error(
        grpc.StatusCode.NOT_FOUND, api.keys.RevokeApiKey, keys_pb.RevokeApiKeyRequest(id=MiB)
    )
    assert "API key not found" in short(err)
    assert_quiet_logs_logged(logs, "x" * 100)


def test_a_megabyte_permission_name_is_invalid_argument_with_a_short_message(
    api: Client, logs: pytest.LogCaptureFixture
) -> None:
    request = keys_pb.CreateApiKeyRequest(name="bridge", permissions=[MiB])
    err = expect_error(grpc.StatusCode.INVALID_ARGUMENT, api.keys.CreateApiKey, request)
    assert "unknown permission" in short(err)
    assert_quiet_logs_logged(logs, "x" * 100)


def test_a_long_filter_group_key_is_quoted_short(api: Client) -> None:
    group = f_pb.FilterGroup(key="k" * 4096)  # no values
    request = pb.ListCasesRequest(filters=f_pb.CaseFilters(groupings=[group]))
    err = expect_error(grpc.StatusCode.INVALID_ARGUMENT, api.cases.ListCases, request)
    assert "needs at least one value" in short(err)


def test_an_api_key_sent_as_a_case_id_is_never_echoed(
    api: Client, logs: pytest.LogCaptureFixture
) -> None:
    err = expect_error(
        grpc.StatusCode.INVALID_ARGUMENT, api.cases.GetCase, pb.GetCaseRequest(id=api.key)
    )
    details = short(err)
    assert secret(api.key) not in details
    prefix = api.key.split("_")[1]
    assert f"ck_{prefix}_…" in details  # which key it was shows; the secret does not
    assert_quiet_logs_logged(logs, secret(api.key))


def test_an_api_key_sent_as_a_key_id_or_event_id_is_never_echoed(
    api: Client, logs: pytest.LogCaptureFixture
) -> None:
    revoke = keys_pb.RevokeApiKeyRequest(id=api.key)
    err = expect_error(grpc.StatusCode.NOT_FOUND, api.keys.RevokeApiKey, revoke)
    assert secret(api.key) not in short(err)
    get = events_pb.GetEventRequest(event_id=api.key)
    err = expect_error(grpc.StatusCode.INVALID_ARGUMENT, api.events.GetEvent, get)
    assert secret(api.key) not in short(err)
    assert_quiet_logs_logged(logs, secret(api.key))


def test_a_request_id_that_is_a_key_or_odd_is_not_logged(
    api: Client, channel: grpc.Channel, logs: pytest.LogCaptureFixture
) -> None:
    stub = channel.unary_unary(
        "/com.coralogixapis.cases.v1.CasesService/GetCase",
        request_serializer=pb.GetCaseRequest.SerializeToString,
        response_deserializer=pb.GetCaseResponse.FromString,
    )
    for request_id in (api.key, "r" * 4000, "two words"):
        metadata = (*bearer(api.key), ("x-request-id", request_id))
        with pytest.raises(grpc.RpcError) as info:
            stub(pb.GetCaseRequest(id="case-999999"), metadata=metadata, timeout=TIMEOUT)
        assert info.value.code() == grpc.StatusCode.NOT_FOUND
    assert_quiet_logs_logged(logs, secret(api.key), "r" * 200, "two words")
    # A plain request id still names the call in the log.
    metadata = (*bearer(api.key), ("x-request-id", "req-42.a:b"))
    with pytest.raises(grpc.RpcError):
        stub(pb.GetCaseRequest(id="case-999999"), metadata=metadata, timeout=TIMEOUT)
    assert any("req-42.a:b" in r.getMessage() for r in logs.records)


# -- item 4: a body that is not protobuf ---------------------------------------------------------

GARBAGE = b"\xff\xff\xff garbage"
ONE_METHOD_PER_SERVICE = [
    "/com.coralogixapis.cases.v1.CasesService/GetCase",
    "/com.coralogixapis.cases.v1.CaseEventsService/ListEvents",
    "/casekeeper.v1.CaseAdminService/CreateCase",
    "/casekeeper.v1.ApiKeysService/ListApiKeys",
]


def raw_call(channel: grpc.Channel, path: str, body: bytes, key: str | None) -> grpc.RpcError:
    method = channel.unary_unary(path, request_serializer=None, response_deserializer=None)
    with pytest.raises(grpc.RpcError) as info:
        method(body, metadata=bearer(key) if key else None, timeout=TIMEOUT)
    return info.value


@pytest.mark.parametrize("path", ONE_METHOD_PER_SERVICE)
def test_a_body_that_is_not_protobuf_is_invalid_argument_without_a_traceback(
    path: str, api: Client, channel: grpc.Channel, logs: pytest.LogCaptureFixture
) -> None:
    err = raw_call(channel, path, GARBAGE, api.key)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, err.details()
    details = short(err)
    assert details.startswith("request body:"), details
    assert_quiet_logs_logged(logs)
    assert not [r for r in logs.records if r.levelno >= logging.ERROR]


def test_a_body_that_is_not_protobuf_still_needs_a_key(channel: grpc.Channel) -> None:
    err = raw_call(channel, ONE_METHOD_PER_SERVICE[0], GARBAGE, None)
    assert err.code() == grpc.StatusCode.UNAUTHENTICATED


def test_a_raw_protobuf_body_is_served_as_before(api: Client, channel: grpc.Channel) -> None:
    """The hand-built handlers decode and encode what the generated ones did."""
    method = channel.unary_unary(
        "/casekeeper.v1.ApiKeysService/ListApiKeys",
        request_serializer=None,
        response_deserializer=None,
    )
    body = method(
        keys_pb.ListApiKeysRequest().SerializeToString(), metadata=bearer(api.key), timeout=TIMEOUT
    )
    listed = keys_pb.ListApiKeysResponse.FromString(body)
    assert api.key_id in [k.id for k in listed.api_keys]
