"""Parity of the two dialects: the same scenario run over gRPC (a real server and channel) and
over REST, on two twin cases, leaves the same cases and timelines, answers every step the same
and reports the same bulk failures; the same error has the same message in both.

Normalisation, and nothing else: case, readable and event ids are replaced by placeholders;
timestamps are parsed to instants (and, across the twins, only checked to be valid); ``duration``
likewise; and proto3 default values (absent vs ``[]``, ``{}``, ``false``, ``0``, ``""``) compare
equal, since protojson omits what REST must emit for the spec's required collections.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.protobuf.json_format import MessageToDict

from casekeeper.api.grpc.server import GrpcServer
from casekeeper.bootstrap import Container
from casekeeper.domain.model import Case
from casekeeper.proto.com.coralogixapis.cases.v1 import case_events_service_pb2 as epb
from casekeeper.proto.com.coralogixapis.cases.v1 import (
    case_events_service_pb2_grpc,
    cases_service_pb2_grpc,
)
from casekeeper.proto.com.coralogixapis.cases.v1 import case_pb2 as c_pb
from casekeeper.proto.com.coralogixapis.cases.v1 import cases_service_pb2 as pb
from casekeeper.proto.com.coralogixapis.cases.v1 import common_pb2 as common_pb
from tests.api.coralogix.rest.conftest import (
    TIMEOUT,
    USER,
    MakeRest,
    Rest,
    bulk_failures,
    error_message,
    is_rfc3339,
    parse_instant,
    rich_case_fields,
)
from tests.conftest import MakeCase

ATTACHMENTS: list[dict[str, Any]] = [
    {
        "file": {
            "fileId": "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
            "fileName": "t.txt",
            "isDeleted": True,
        }
    },
    {
        "log": {
            "logId": "4a2504e0-4f89-11d3-9a0c-0305e82c3302",
            "logTimestamp": "2026-01-02T03:04:05.5Z",
            "logContent": "ERROR timeout",
        }
    },
]
GRPC_TO_HTTP = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
}


# -- a real gRPC server beside the REST one ---------------------------------------------------


@dataclass
class Grpc:
    cases: cases_service_pb2_grpc.CasesServiceStub
    events: case_events_service_pb2_grpc.CaseEventsServiceStub


@pytest.fixture(scope="module")
def grpc_stubs(container: Container) -> Iterator[Grpc]:
    server = GrpcServer(container, "127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    grpc.channel_ready_future(channel).result(timeout=TIMEOUT)
    yield Grpc(
        cases_service_pb2_grpc.CasesServiceStub(channel),
        case_events_service_pb2_grpc.CaseEventsServiceStub(channel),
    )
    channel.close()
    server.stop(grace=1.0)


def _md(key: str | None) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {key}"),)


def _grpc(method: Any, request: Any, key: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Call; returns (response as protojson dict, trailing metadata)."""
    response, call = method.with_call(request, metadata=_md(key), timeout=TIMEOUT)
    return MessageToDict(response), dict(call.trailing_metadata() or ())


# -- normalisation --------------------------------------------------------------------------


@dataclass
class Names:
    """Placeholders for the ids that differ between the twins."""

    exact: dict[str, str]
    readable: dict[str, str]

    @classmethod
    def of(cls, case: Case, event_ids: list[str]) -> Names:
        exact = {case.id: "<case>"}
        exact.update({e: f"<event{i}>" for i, e in enumerate(event_ids)})
        return cls(exact, {f"CASE-{case.number}": "<readable>"})

    def text(self, value: str) -> str:
        for raw, name in self.exact.items():
            value = value.replace(raw, name)
        for raw, name in self.readable.items():
            value = re.sub(rf"\b{re.escape(raw)}\b", name, value)
        return value


DEFAULTS: tuple[Any, ...] = ([], {}, False, 0, "")


def normalise(value: Any, names: Names, *, instants: bool) -> Any:
    """``instants``: timestamps become datetimes (same case, both dialects); otherwise "<ts>"
    (twins, whose clocks differ). ``duration`` follows the same rule."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if any(item == d and type(item) is type(d) for d in DEFAULTS):
                continue
            if key == "duration" and not instants:
                assert isinstance(item, str), item
                assert item.isdigit(), item
                out[key] = "<duration>"
                continue
            out[key] = normalise(item, names, instants=instants)
        return out
    if isinstance(value, list):
        return [normalise(v, names, instants=instants) for v in value]
    if isinstance(value, str):
        if is_rfc3339(value):
            return parse_instant(value) if instants else "<ts>"
        return names.text(value)
    return value


# -- the scenario ------------------------------------------------------------------------------


Step = tuple[str, Callable[[str], tuple[dict[str, Any], dict[str, Any]]]]


def _steps_grpc(g: Grpc, key: str) -> list[Step]:
    ids = ["nope!", "CASE-999999"]
    return [
        (
            "assign",
            lambda c: _grpc(
                g.cases.AssignCase,
                pb.AssignCaseRequest(id=c, assignee=common_pb.UserDetails(user_id=USER)),
                key,
            ),
        ),
        (
            "acknowledge",
            lambda c: _grpc(g.cases.AcknowledgeCase, pb.AcknowledgeCaseRequest(id=c), key),
        ),
        (
            "comment",
            lambda c: _grpc(
                g.events.CreateComment,
                epb.CreateCommentRequest(
                    case_id=c, text="on it", attachments=[_attachment(a) for a in ATTACHMENTS]
                ),
                key,
            ),
        ),
        (
            "override",
            lambda c: _grpc(
                g.cases.SetPriorityOverride,
                pb.SetPriorityOverrideRequest(id=c, priority=c_pb.CASE_PRIORITY_P1),
                key,
            ),
        ),
        (
            "resolve",
            lambda c: _grpc(
                g.cases.ResolveCase, pb.ResolveCaseRequest(id=c, reason="rolled back"), key
            ),
        ),
        ("close", lambda c: _grpc(g.cases.CloseCase, pb.CloseCaseRequest(id=c), key)),
        (
            "bulk ack",
            lambda c: _grpc(
                g.cases.BulkAcknowledge,
                pb.BulkAcknowledgeRequest(ids=[c, *ids], actor=common_pb.UserDetails(user_id=USER)),
                key,
            ),
        ),
    ]


def _attachment(data: dict[str, Any]) -> Any:
    from google.protobuf.json_format import ParseDict

    from casekeeper.proto.com.coralogixapis.cases.v1 import case_event_pb2

    return ParseDict(data, case_event_pb2.CommentAttachment())


def _rest_step(
    rest: Rest, rpc: str, ident: str | None, **kw: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    response = rest.exchange(rpc, ident, **kw)
    meta = {}
    if "x-casekeeper-bulk-failures" in response.headers:
        meta["casekeeper-bulk-failures"] = response.headers["x-casekeeper-bulk-failures"]
        meta["casekeeper-bulk-failures-total"] = response.headers.get(
            "x-casekeeper-bulk-failures-total"
        )
    return response.json(), meta


def _steps_rest(rest: Rest) -> list[Step]:
    ids = ["nope!", "CASE-999999"]
    return [
        (
            "assign",
            lambda c: _rest_step(rest, "AssignCase", c, json={"assignee": {"userId": USER}}),
        ),
        ("acknowledge", lambda c: _rest_step(rest, "AcknowledgeCase", c)),
        (
            "comment",
            lambda c: _rest_step(
                rest, "CreateComment", c, json={"text": "on it", "attachments": ATTACHMENTS}
            ),
        ),
        (
            "override",
            lambda c: _rest_step(
                rest, "SetPriorityOverride", c, json={"priority": "CASE_PRIORITY_P1"}
            ),
        ),
        ("resolve", lambda c: _rest_step(rest, "ResolveCase", c, json={"reason": "rolled back"})),
        ("close", lambda c: _rest_step(rest, "CloseCase", c)),
        (
            "bulk ack",
            lambda c: _rest_step(
                rest, "BulkAcknowledge", None, json={"ids": [c, *ids], "actor": {"userId": USER}}
            ),
        ),
    ]


def _timeline_grpc(g: Grpc, key: str, case: Case) -> list[dict[str, Any]]:
    body, _ = _grpc(g.events.ListEvents, epb.ListEventsRequest(case_id=case.id), key)
    events: list[dict[str, Any]] = body["events"]
    return events


def test_the_same_scenario_gives_the_same_cases_timelines_and_failures(
    grpc_stubs: Grpc, rest: Rest, make_case: MakeCase
) -> None:
    spec = {"title": "Twin", "priority": 4, **rich_case_fields()}
    via_grpc, via_rest = make_case(**spec), make_case(**spec)
    assert rest.key is not None
    key = rest.key

    answers_grpc = [(name, run(via_grpc.id)) for name, run in _steps_grpc(grpc_stubs, key)]
    answers_rest = [(name, run(via_rest.id)) for name, run in _steps_rest(rest)]

    events_grpc = _timeline_grpc(grpc_stubs, key, via_grpc)
    events_rest = rest.call("ListEvents", via_rest.id)["events"]
    names_grpc = Names.of(via_grpc, [e["eventId"] for e in events_grpc])
    names_rest = Names.of(via_rest, [e["eventId"] for e in events_rest])

    # every step answered alike (bodies, and the bulk failures in trailer / header)
    for (name, (body_g, meta_g)), (_, (body_r, meta_r)) in zip(
        answers_grpc, answers_rest, strict=True
    ):
        assert normalise(body_g, names_grpc, instants=False) == normalise(
            body_r, names_rest, instants=False
        ), name
        failures_g = json.loads(meta_g.get("casekeeper-bulk-failures", "[]"))
        failures_r = json.loads(meta_r.get("casekeeper-bulk-failures", "[]"))
        assert normalise(failures_g, names_grpc, instants=False) == normalise(
            failures_r, names_rest, instants=False
        ), name
        assert meta_g.get("casekeeper-bulk-failures-total") == meta_r.get(
            "casekeeper-bulk-failures-total"
        ), name

    failures = {f["id"]: f for f in json.loads(answers_rest[-1][1][1]["casekeeper-bulk-failures"])}
    assert {i: f["code"] for i, f in failures.items()} == {
        via_rest.id: "FAILED_PRECONDITION",
        "nope!": "INVALID_ARGUMENT",
        "CASE-999999": "NOT_FOUND",
    }
    assert (
        f"CASE-{via_rest.number} in status CASE_STATUS_CLOSED" in failures[via_rest.id]["message"]
    )

    # the resulting cases and timelines
    case_g, _ = _grpc(grpc_stubs.cases.GetCase, pb.GetCaseRequest(id=via_grpc.id), key)
    case_r = rest.call("GetCase", via_rest.id)
    assert normalise(case_g, names_grpc, instants=False) == normalise(
        case_r, names_rest, instants=False
    )
    assert case_r["case"]["status"] == "CASE_STATUS_CLOSED"
    assert len(events_grpc) == len(events_rest) == 8
    assert normalise(events_grpc, names_grpc, instants=False) == normalise(
        events_rest, names_rest, instants=False
    )


def test_each_dialect_renders_the_same_case_identically(
    grpc_stubs: Grpc, rest: Rest, make_case: MakeCase
) -> None:
    """One case, read through both: equal field by field, timestamps as instants, duration
    exact (the case is closed, so it no longer grows)."""
    case = make_case(**rich_case_fields())
    assert rest.key is not None
    rest.call("AssignCase", case.id, json={"assignee": {"userId": USER}})
    rest.call("CreateComment", case.id, json={"text": "hello", "attachments": ATTACHMENTS})
    rest.call("ResolveCase", case.id, json={"reason": "done"})
    rest.call("CloseCase", case.id)
    case_g, _ = _grpc(grpc_stubs.cases.GetCase, pb.GetCaseRequest(id=case.id), rest.key)
    case_r = rest.call("GetCase", case.id)
    names = Names({}, {})
    assert normalise(case_g, names, instants=True) == normalise(case_r, names, instants=True)
    assert case_g["case"]["duration"] == case_r["case"]["duration"]
    events_g = _timeline_grpc(grpc_stubs, rest.key, case)
    events_r = rest.call("ListEvents", case.id)["events"]
    assert normalise(events_g, names, instants=True) == normalise(events_r, names, instants=True)
    links_g, _ = _grpc(
        grpc_stubs.cases.GetCaseDeepLinks, pb.GetCaseDeepLinksRequest(case_id=case.id), rest.key
    )
    links_r = rest.call("GetCaseDeepLinks", case.id)
    assert normalise(links_g, names, instants=True) == normalise(links_r, names, instants=True)
    values_g, _ = _grpc(grpc_stubs.cases.GetFilterValues, pb.GetFilterValuesRequest(), rest.key)
    values_r = rest.call("GetFilterValues", json={})
    assert normalise(values_g, names, instants=True) == normalise(values_r, names, instants=True)


@pytest.mark.parametrize(
    ("rpc", "grpc_call", "rest_kw"),
    [
        (
            "GetCase",
            lambda g, c: (g.cases.GetCase, pb.GetCaseRequest(id="CASE-999999")),
            {"ident": "CASE-999999"},
        ),
        (
            "GetCase",
            lambda g, c: (g.cases.GetCase, pb.GetCaseRequest(id="bad id!")),
            {"ident": "bad id!"},
        ),
        (
            "CloseCase",
            lambda g, c: (g.cases.CloseCase, pb.CloseCaseRequest(id=c)),
            {"ident": "{pending}"},
        ),
        (
            "AssignCase",
            lambda g, c: (
                g.cases.AssignCase,
                pb.AssignCaseRequest(id=c, assignee=common_pb.UserDetails(user_id="bob")),
            ),
            {"ident": "{pending}", "json": {"assignee": {"userId": "bob"}}},
        ),
        (
            "SetPriorityOverride",
            lambda g, c: (g.cases.SetPriorityOverride, pb.SetPriorityOverrideRequest(id=c)),
            {"ident": "{pending}", "json": {}},
        ),
        (
            "BulkAcknowledge",
            lambda g, c: (g.cases.BulkAcknowledge, pb.BulkAcknowledgeRequest(ids=[c])),
            {"json": {"ids": ["{pending}"]}},
        ),
        (
            "CreateComment",
            lambda g, c: (g.events.CreateComment, epb.CreateCommentRequest(case_id=c, text="  ")),
            {"ident": "{pending}", "json": {"text": "  "}},
        ),
        (
            "GetEvent",
            lambda g, c: (g.events.GetEvent, epb.GetEventRequest(event_id="nope")),
            {"ident": "nope"},
        ),
    ],
    ids=[
        "not found",
        "bad id",
        "invalid transition",
        "bad user",
        "missing priority",
        "missing actor",
        "blank comment",
        "bad event id",
    ],
)
def test_the_same_error_has_the_same_message(
    rpc: str,
    grpc_call: Any,
    rest_kw: dict[str, Any],
    grpc_stubs: Grpc,
    rest: Rest,
    make_case: MakeCase,
) -> None:
    pending = make_case(pending=True)
    method, request = grpc_call(grpc_stubs, pending.id)
    with pytest.raises(grpc.RpcError) as info:
        method(request, metadata=_md(rest.key), timeout=TIMEOUT)
    kw = {
        k: (json.loads(json.dumps(v).replace("{pending}", pending.id))) for k, v in rest_kw.items()
    }
    ident = kw.pop("ident", None)
    status = GRPC_TO_HTTP[info.value.code()]
    body = rest.call(rpc, ident, expect=status, **kw)
    assert error_message(body, status) == info.value.details()


@pytest.mark.parametrize("permissions", [(), ("case:Read",)], ids=["no key", "read-only key"])
def test_auth_errors_have_the_same_message(
    permissions: tuple[str, ...],
    grpc_stubs: Grpc,
    make_rest: MakeRest,
    make_case: MakeCase,
    anonymous: Rest,
) -> None:
    case = make_case()
    api = make_rest(*permissions) if permissions else anonymous
    metadata = _md(api.key) if api.key else ()
    with pytest.raises(grpc.RpcError) as info:
        grpc_stubs.cases.CloseCase(
            pb.CloseCaseRequest(id=case.id), metadata=metadata, timeout=TIMEOUT
        )
    status = GRPC_TO_HTTP[info.value.code()]
    assert status == (403 if permissions else 401)
    body = api.call("CloseCase", case.id, expect=status)
    assert error_message(body, status) == info.value.details()


def test_bulk_failure_reports_agree_when_capped(
    grpc_stubs: Grpc, rest: Rest, make_case: MakeCase
) -> None:
    case = make_case()
    assert rest.key is not None
    ids = [case.id] + [f"BAD_{i:04d}" for i in range(400)]
    body_g, meta_g = _grpc(grpc_stubs.cases.BulkClose, pb.BulkCloseRequest(ids=ids), rest.key)
    response = rest.exchange("BulkClose", json={"ids": ids})
    assert (
        [c["id"] for c in response.json()["cases"]]
        == [c["id"] for c in body_g["cases"]]
        == [case.id]
    )
    assert json.loads(meta_g["casekeeper-bulk-failures"]) == bulk_failures(response)
    assert (
        meta_g["casekeeper-bulk-failures-total"]
        == response.headers["x-casekeeper-bulk-failures-total"]
        == "400"
    )
