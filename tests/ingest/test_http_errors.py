"""Bad requests to the ingest doors on a real loopback server: each a clear 4xx in the door's
own error shape (casekeeper's for /ingest/..., PagerDuty's for /v2/enqueue)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema
import orjson
import pytest

from casekeeper.bootstrap import Container
from casekeeper.domain.signals import MAX_SIGNALS
from casekeeper.service.auth import OPERATOR
from tests.ingest.conftest import MakeSender, Sender, load_payload

AM = "/ingest/alertmanager"
GENERIC = "/ingest/signals"
ONE_SIGNAL = {"signals": [{"dedup_key": "k1", "title": "disk full"}]}


def generic_error(response: httpx.Response, status: int, code: str) -> str:
    """The message of casekeeper's error shape, after checking the shape."""
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-casekeeper-error-code"] == code
    body = response.json()
    assert set(body) == {"code", "message"}, body
    assert body["code"] == status
    message: str = body["message"]
    assert message.strip()
    return message


def pagerduty_error(response: httpx.Response, status: int = 400) -> list[str]:
    """PagerDuty's ``errors``, after checking its invalid-event shape."""
    assert response.status_code == status, response.text[:500]
    body = response.json()
    assert body["status"] == "invalid event", body
    assert body["message"] == "Event object is invalid"
    errors: list[str] = body["errors"]
    assert errors, body
    assert all(isinstance(e, str) and e for e in errors)
    return errors


# -- authentication and permission ------------------------------------------------------------


@pytest.mark.parametrize("path", [AM, GENERIC])
def test_no_key_is_401(path: str, ingest_client: httpx.Client) -> None:
    response = Sender(ingest_client, None, None).post(path, ONE_SIGNAL)
    message = generic_error(response, 401, "auth.unauthenticated")
    assert "Authorization: Bearer" in message
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("key", ["nonsense", "ck_abcdefgh_notarealsecret"])
@pytest.mark.parametrize("path", [AM, GENERIC])
def test_bad_key_is_401(path: str, key: str, ingest_client: httpx.Client) -> None:
    response = Sender(ingest_client, key, None).post(path, ONE_SIGNAL)
    generic_error(response, 401, "auth.unauthenticated")


@pytest.mark.parametrize("path", [AM, GENERIC])
def test_key_without_signals_write_is_403(path: str, make_sender: MakeSender) -> None:
    reader = make_sender("case:Read", "incidents:read")
    response = reader.post(path, ONE_SIGNAL)
    message = generic_error(response, 403, "auth.permission_denied")
    assert "signals:Write" in message


def test_revoked_key_is_401(make_sender: MakeSender, container: Container) -> None:
    sender = make_sender()
    assert sender.principal is not None
    container.keys.revoke(OPERATOR, sender.principal.key_id)
    generic_error(sender.post(GENERIC, ONE_SIGNAL), 401, "auth.unauthenticated")


# -- bad bodies ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [AM, GENERIC])
@pytest.mark.parametrize("content", [b"", b"not json", b"{", b"\xff\xfe"])
def test_not_json_is_400(path: str, content: bytes, sender: Sender) -> None:
    response = sender.post(path, content=content, headers={"content-type": "application/json"})
    message = generic_error(response, 400, "request.invalid_argument")
    assert "JSON" in message


def test_wrong_version_is_400_naming_it(sender: Sender) -> None:
    payload = load_payload("01_firing_amtool_alert_add.json")
    payload["version"] = "3"
    message = generic_error(sender.post(AM, payload), 400, "request.invalid_argument")
    assert message.startswith("version:")


def test_missing_labels_is_400_naming_the_alert(sender: Sender) -> None:
    payload = load_payload("02_firing_group_2_alerts_api_v2.json")
    del payload["alerts"][1]["labels"]
    message = generic_error(sender.post(AM, payload), 400, "request.invalid_argument")
    assert message.startswith("alerts[1].labels:")


@pytest.mark.parametrize("stamp", ["yesterday", "2026-11-23T05:59:33", "2026-13-01T00:00:00Z"])
def test_bad_timestamp_is_400_naming_it(stamp: str, sender: Sender) -> None:
    payload = load_payload("01_firing_amtool_alert_add.json")
    payload["alerts"][0]["startsAt"] = stamp
    message = generic_error(sender.post(AM, payload), 400, "request.invalid_argument")
    assert message.startswith("alerts[0].startsAt:")
    body = {"signals": [{"dedup_key": "k", "title": "t", "ends_at": stamp}]}
    message = generic_error(sender.post(GENERIC, body), 400, "request.invalid_argument")
    assert message.startswith("signals[0].ends_at:")


def test_unknown_generic_field_is_400_naming_it(sender: Sender) -> None:
    body = {"signals": [{"dedupKey": "k", "title": "t"}]}
    message = generic_error(sender.post(GENERIC, body), 400, "request.invalid_argument")
    assert message.startswith("signals[0].dedupKey:")


@pytest.mark.parametrize("value", ["maybe", "2"])
def test_bad_dry_run_is_400(value: str, sender: Sender) -> None:
    response = sender.post(GENERIC, ONE_SIGNAL, params={"dry_run": value})
    assert generic_error(response, 400, "request.invalid_argument").startswith("dry_run:")


@pytest.mark.parametrize("path", [AM, GENERIC])
def test_ten_megabyte_body_is_413(path: str, sender: Sender) -> None:
    big = b'{"signals": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    response = sender.post(path, content=big, headers={"content-type": "application/json"})
    generic_error(response, 413, "request.payload_too_large")


def test_ten_megabyte_chunked_body_is_413(sender: Sender) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"signals": "'
        for _ in range(160):
            yield b"x" * 65536
        yield b'"}'

    response = sender.post(GENERIC, content=chunks(), headers={"content-type": "application/json"})
    generic_error(response, 413, "request.payload_too_large")


def test_hundred_thousand_alerts_is_413(sender: Sender) -> None:
    payload = load_payload("01_firing_amtool_alert_add.json")
    payload["alerts"] = [{"labels": {"i": str(n)}} for n in range(100_000)]
    content = orjson.dumps(payload)
    assert len(content) < 4 * 1024 * 1024  # under the body limit: the count is what refuses it
    response = sender.post(AM, content=content, headers={"content-type": "application/json"})
    message = generic_error(response, 413, "request.payload_too_large")
    assert message.startswith("alerts:")
    assert str(MAX_SIGNALS) in message


def test_unknown_ingest_path_is_404_in_casekeepers_shape(sender: Sender) -> None:
    generic_error(sender.post("/ingest/nope", ONE_SIGNAL), 404, "request.route_not_found")


def test_get_is_405(sender: Sender) -> None:
    response = sender.http.get(GENERIC)
    generic_error(response, 405, "request.method_not_allowed")


# -- PagerDuty's door ---------------------------------------------------------------------------

TRIGGER: dict[str, Any] = {
    "event_action": "trigger",
    "payload": {"summary": "db down", "source": "db1", "severity": "critical"},
}


@pytest.mark.parametrize("key", [None, "", "nonsense", "ck_abcdefgh_notarealsecret"])
def test_pagerduty_bad_routing_key_is_400(key: str | None, ingest_client: httpx.Client) -> None:
    event = dict(TRIGGER) if key is None else {**TRIGGER, "routing_key": key}
    response = ingest_client.post("/v2/enqueue", json=event)
    errors = pagerduty_error(response)
    assert "routing_key" in errors[0] or errors[0].startswith("Invalid routing key")


def test_pagerduty_bad_routing_key_says_which_refusal(ingest_client: httpx.Client) -> None:
    event = {**TRIGGER, "routing_key": "ck_abcdefgh_notarealsecret"}
    response = ingest_client.post("/v2/enqueue", json=event)
    assert pagerduty_error(response) == ["Invalid routing key"]
    assert response.headers["x-casekeeper-error-code"] == "auth.unauthenticated"


def test_pagerduty_key_without_signals_write_is_refused(make_sender: MakeSender) -> None:
    reader = make_sender("case:Read")
    response = reader.enqueue(TRIGGER)
    (error,) = pagerduty_error(response)
    assert "signals:Write" in error
    assert response.headers["x-casekeeper-error-code"] == "auth.permission_denied"


@pytest.mark.parametrize("content", [b"", b"nope", b"[1, 2]"])
def test_pagerduty_not_json_is_invalid_event(content: bytes, ingest_client: httpx.Client) -> None:
    pagerduty_error(ingest_client.post("/v2/enqueue", content=content))


def test_pagerduty_missing_fields_are_listed(sender: Sender) -> None:
    errors = pagerduty_error(sender.enqueue({"event_action": "trigger", "payload": {}}))
    assert len(errors) == 3
    assert any("payload.summary" in e for e in errors)


def test_pagerduty_resolve_without_dedup_key(sender: Sender) -> None:
    (error,) = pagerduty_error(sender.enqueue({"event_action": "resolve"}))
    assert "dedup_key" in error


def test_pagerduty_too_large_is_413_in_its_shape(sender: Sender) -> None:
    event = {**TRIGGER, "payload": {**TRIGGER["payload"], "custom_details": "x" * (5 << 20)}}
    pagerduty_error(sender.enqueue(event), 413)


def test_pagerduty_get_is_405_in_its_shape(ingest_client: httpx.Client) -> None:
    response = ingest_client.get("/v2/enqueue")
    assert response.status_code == 405
    assert response.json()["status"] == "error"
    assert response.headers["x-casekeeper-error-code"] == "request.method_not_allowed"


# -- the OpenAPI document -------------------------------------------------------------------------


def test_openapi_describes_the_doors(ingest_client: httpx.Client) -> None:
    doc = ingest_client.get("/openapi.json").json()
    for path in (AM, GENERIC, "/v2/enqueue"):
        assert "post" in doc["paths"][path], path
    schemas = doc["components"]["schemas"]
    assert doc["paths"][GENERIC]["post"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ] == {"$ref": "#/components/schemas/IngestReport"}
    # The documented batch schema accepts a valid batch and refuses a misspelt field.
    batch = {**schemas["IngestSignalBatch"], "components": {"schemas": schemas}}
    validator = jsonschema.Draft4Validator(batch)
    assert validator.is_valid(ONE_SIGNAL)
    assert not validator.is_valid({"signals": [{"dedupKey": "k", "title": "t"}]})


# -- collisions ----------------------------------------------------------------------------------


def test_a_batch_that_keeps_colliding_is_503_with_retry_after(
    container: Container, sender: Sender, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Alertmanager (and PagerDuty's senders) retry a 5xx, never a 409: a batch whose conflict
    retries are spent must come back as one they will send again."""
    from casekeeper.domain.errors import CasekeeperError, ErrorCode

    def collide(*_a: Any, **_k: Any) -> Any:
        raise CasekeeperError(ErrorCode.CONFLICT, "the case changed concurrently")

    monkeypatch.setattr(container.signals, "ingest", collide)
    for path in (AM, GENERIC):
        body = load_payload("01_firing_amtool_alert_add.json") if path == AM else ONE_SIGNAL
        response = sender.post(path, body)
        message = generic_error(response, 503, "service.unavailable")
        assert "send it again" in message
        assert response.headers["retry-after"] == "1"
    assert sender.key is not None
    event = {"routing_key": sender.key, "event_action": "trigger", "dedup_key": "d1",
             "payload": {"summary": "s", "source": "h", "severity": "error"}}  # fmt: skip
    response = sender.http.post("/v2/enqueue", json=event)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.headers["x-casekeeper-error-code"] == "case.concurrent_update"
