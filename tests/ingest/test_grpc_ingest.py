"""casekeeper.v1.IngestService on a real loopback server and channel: SendSignals and
PostAlertmanagerWebhook open incidents in cases as HTTP's doors do; dry runs and refusals store
nothing; auth and bad input are the catalog's statuses."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from casekeeper.bootstrap import Container
from casekeeper.domain.incident_query import IncidentFilter, PageRequest
from casekeeper.domain.query import CaseQuery
from casekeeper.domain.signals import MAX_SIGNALS
from casekeeper.proto.casekeeper.v1 import ingest_pb2 as pb
from casekeeper.proto.casekeeper.v1.ingest_pb2_grpc import IngestServiceStub
from casekeeper.service.auth import Principal
from tests.conftest import MakeKey
from tests.ingest.conftest import TIMEOUT, load_payload


def stored(container: Container, p: Principal) -> tuple[int, int]:
    cases, _ = container.cases.list_cases(p, CaseQuery())
    incidents = container.incidents.list_incidents(p, IncidentFilter(), (), PageRequest())
    return len(cases), incidents.total_size


@pytest.fixture
def reader(make_key: MakeKey) -> Principal:
    return make_key()[1]


@pytest.fixture
def key(make_key: MakeKey) -> str:
    return make_key("signals:Write")[0]


def call(method: Any, request: Any, key: str | None) -> Any:
    metadata = (("authorization", f"Bearer {key}"),) if key else ()
    return method(request, metadata=metadata, timeout=TIMEOUT)


@dataclass(frozen=True)
class Refusal:
    code: grpc.StatusCode
    details: str


def refused(method: Any, request: Any, key: str | None) -> Refusal:
    with pytest.raises(grpc.RpcError) as caught:
        call(method, request, key)
    return Refusal(caught.value.code(), caught.value.details() or "")


def signal(n: int, **kw: Any) -> pb.Signal:
    started = Timestamp()
    started.FromJsonString("2026-12-01T10:00:00.123456Z")
    return pb.Signal(
        dedup_key=f"job-{n}",
        status=pb.SIGNAL_STATUS_FIRING,
        title=f"Job {n} failed",
        labels={"job": "backup", "severity": "warning"},
        starts_at=started,
        group_key="backups",
        links=[pb.SignalLink(url="https://ci.example.test/1", text="build")],
        **kw,
    )


def test_send_signals_opens_then_resolves(
    ingest_stub: IngestServiceStub, key: str, reader: Principal, container: Container
) -> None:
    request = pb.SendSignalsRequest(signals=[signal(1), signal(2)], source="backup-cron")
    response = call(ingest_stub.SendSignals, request, key)
    assert not response.dry_run
    assert [o.action for o in response.outcomes] == [pb.INGEST_ACTION_OPENED] * 2
    first, second = response.outcomes
    assert first.dedup_key == "job-1"
    assert first.HasField("incident_id")
    assert first.case_id == second.case_id
    assert first.reason
    assert first.HasField("priority")
    assert container.incidents.get(reader, first.incident_id).name == "Job 1 failed"
    assert stored(container, reader) == (1, 2)

    again = call(ingest_stub.SendSignals, request, key)
    assert [o.action for o in again.outcomes] == [pb.INGEST_ACTION_UNCHANGED] * 2
    done = signal(1, ends_at=Timestamp(seconds=1_796_119_300))
    done.status = pb.SIGNAL_STATUS_RESOLVED
    resolved = call(ingest_stub.SendSignals, pb.SendSignalsRequest(signals=[done]), key)
    assert [o.action for o in resolved.outcomes] == [pb.INGEST_ACTION_RESOLVED]


def test_send_signals_dry_run_stores_nothing(
    ingest_stub: IngestServiceStub, key: str, reader: Principal, container: Container
) -> None:
    request = pb.SendSignalsRequest(signals=[signal(1)], dry_run=True)
    response = call(ingest_stub.SendSignals, request, key)
    assert response.dry_run
    assert [o.action for o in response.outcomes] == [pb.INGEST_ACTION_OPENED]
    assert stored(container, reader) == (0, 0)


def test_webhook_bytes_as_alertmanager_posts_them(
    ingest_stub: IngestServiceStub, key: str, reader: Principal, container: Container
) -> None:
    payload = load_payload("02_firing_group_2_alerts_api_v2.json")
    request = pb.PostAlertmanagerWebhookRequest(payload=json.dumps(payload).encode())
    response = call(ingest_stub.PostAlertmanagerWebhook, request, key)
    assert [o.dedup_key for o in response.outcomes] == [a["fingerprint"] for a in payload["alerts"]]
    assert [o.action for o in response.outcomes] == [pb.INGEST_ACTION_OPENED] * 2
    assert response.outcomes[0].group_key.endswith(payload["groupKey"])
    assert stored(container, reader) == (1, 2)


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda s: setattr(s, "status", pb.SIGNAL_STATUS_UNSPECIFIED), "signals[1].status"),
        (lambda s: s.links.add(url="ftp://x"), "signals[1].links[1].url"),
        (lambda s: setattr(s, "title", "x" * 5000), "signals[1].title"),
        (lambda s: setattr(s, "dedup_key", ""), "signals[1].dedup_key"),
    ],
)
def test_bad_signal_is_invalid_argument_naming_it(
    mutate: Any,
    field: str,
    ingest_stub: IngestServiceStub,
    key: str,
    reader: Principal,
    container: Container,
) -> None:
    bad = signal(2)
    mutate(bad)
    err = refused(ingest_stub.SendSignals, pb.SendSignalsRequest(signals=[signal(1), bad]), key)
    assert err.code is grpc.StatusCode.INVALID_ARGUMENT
    assert err.details.startswith(field + ":"), err.details
    assert stored(container, reader) == (0, 0)


@pytest.mark.parametrize(
    ("payload", "starts"),
    [
        (b"not json", "the request body is not JSON"),
        (json.dumps({"version": "3", "alerts": []}).encode(), "version:"),
        (
            json.dumps({"version": "4", "alerts": [{"status": "firing", "labels": {}}]}).encode(),
            "alerts[0].labels:",
        ),
    ],
)
def test_bad_webhook_is_invalid_argument(
    payload: bytes, starts: str, ingest_stub: IngestServiceStub, key: str
) -> None:
    request = pb.PostAlertmanagerWebhookRequest(payload=payload)
    err = refused(ingest_stub.PostAlertmanagerWebhook, request, key)
    assert err.code is grpc.StatusCode.INVALID_ARGUMENT
    assert err.details.startswith(starts), err.details


def test_service_refusal_names_the_alert(ingest_stub: IngestServiceStub, key: str) -> None:
    payload = load_payload("02_firing_group_2_alerts_api_v2.json")
    payload["alerts"][1]["labels"]["alertname"] = "x" * 10_000
    request = pb.PostAlertmanagerWebhookRequest(payload=json.dumps(payload).encode())
    err = refused(ingest_stub.PostAlertmanagerWebhook, request, key)
    assert err.code is grpc.StatusCode.INVALID_ARGUMENT
    assert err.details.startswith("alerts[1]."), err.details


def test_too_many_signals_is_resource_exhausted(ingest_stub: IngestServiceStub, key: str) -> None:
    many = [pb.Signal(dedup_key="k", title="t")] * (MAX_SIGNALS + 1)
    err = refused(ingest_stub.SendSignals, pb.SendSignalsRequest(signals=many), key)
    assert err.code is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert str(MAX_SIGNALS) in err.details


@pytest.mark.parametrize("bad_key", [None, "nonsense", "ck_abcdefgh_notarealsecret"])
def test_missing_or_bad_key_is_unauthenticated(
    bad_key: str | None, ingest_stub: IngestServiceStub
) -> None:
    err = refused(ingest_stub.SendSignals, pb.SendSignalsRequest(signals=[signal(1)]), bad_key)
    assert err.code is grpc.StatusCode.UNAUTHENTICATED


def test_key_without_signals_write_is_permission_denied(
    ingest_stub: IngestServiceStub, make_key: MakeKey, reader: Principal, container: Container
) -> None:
    key, _ = make_key("case:Read", "case:Update")
    for method, request in (
        (ingest_stub.SendSignals, pb.SendSignalsRequest(signals=[signal(1)])),
        (ingest_stub.PostAlertmanagerWebhook, pb.PostAlertmanagerWebhookRequest(payload=b"{}")),
    ):
        err = refused(method, request, key)
        assert err.code is grpc.StatusCode.PERMISSION_DENIED
        assert "signals:Write" in err.details
    assert stored(container, reader) == (0, 0)


def test_undecodable_request_is_invalid_argument(ingest_channel: grpc.Channel, key: str) -> None:
    raw = ingest_channel.unary_unary(
        "/casekeeper.v1.IngestService/SendSignals",
        request_serializer=None,
        response_deserializer=None,
    )
    with pytest.raises(grpc.RpcError) as caught:
        raw(b"\xff\xff\xff", metadata=(("authorization", f"Bearer {key}"),), timeout=TIMEOUT)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert (caught.value.details() or "").startswith("request body:")
