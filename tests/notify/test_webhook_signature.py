"""The webhook signature, checked by a real receiver with the snippet docs/CONNECTORS.md gives
(read from the document, so the documentation cannot drift from what is sent)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from casekeeper.domain.notifications import (
    CaseView,
    Connector,
    ConnectorKind,
    Envelope,
    NotificationView,
    SecretRef,
    Trigger,
    WebhookOptions,
)
from casekeeper.outbound.notify import deliver_once
from tests.notify.receiver import Receiver

DOC = Path(__file__).resolve().parents[2] / "docs" / "CONNECTORS.md"
Verify = Callable[[str, Mapping[str, str], bytes], bool]


def documented_verify() -> Verify:
    text = DOC.read_text()
    start, end = "<!-- verify-snippet:start -->", "<!-- verify-snippet:end"
    block = re.search(re.escape(start) + r"\n```python\n(.*?)```\n" + re.escape(end), text, re.S)
    assert block is not None, "docs/CONNECTORS.md lost its verification snippet"
    scope: dict[str, Any] = {}
    exec(compile(block.group(1), str(DOC), "exec"), scope)
    fn: Verify = scope["verify"]
    return fn


def envelope(url: str, secret: str | None, webhook: WebhookOptions | None = None) -> Envelope:
    conn = Connector(id="c1", space_id=1, name="hook", kind=ConnectorKind.WEBHOOK, url=url,
                     secret=SecretRef(env="X"), create_time=0, update_time=0,
                     webhook=webhook)  # fmt: skip
    view = NotificationView(
        notification_id="n1", space_id=1, trigger=Trigger.ACKNOWLEDGED, event_id="e1",
        event_time=1_764_900_000_000_000, actor="alice", summary="CASE-12 acknowledged",
        title="[P2] CASE-12: Disk full", text="Disk full on db-1",
        case=CaseView("c-12", "CASE-12", "Disk full", "ACKNOWLEDGED", "P2", "AVAILABILITY",
                      ("alice",), {"team": "db"}, "https://cases.example.test/cases/c-12"),
    )  # fmt: skip
    return Envelope("d1", 2, conn, secret, view)


def test_a_signed_webhook_verifies_with_the_documented_snippet() -> None:
    verify = documented_verify()
    with Receiver(record_bodies=True) as r:
        outcome = deliver_once(envelope(r.url, "s3cr3t-signing-key"))
        assert outcome.ok, outcome
        (_, headers, body) = r.seen.bodies[0]
    assert verify("s3cr3t-signing-key", headers, body)
    assert not verify("another-key", headers, body)
    assert not verify("s3cr3t-signing-key", headers, body + b" ")
    stale = {
        **headers,
        "x-casekeeper-timestamp": str(int(headers["x-casekeeper-timestamp"]) - 3600),
    }
    assert not verify("s3cr3t-signing-key", stale, body)
    assert headers["idempotency-key"] == headers["x-casekeeper-delivery"] == "d1"
    assert headers["x-casekeeper-attempt"] == "2"
    sent = json.loads(body)
    assert (sent["type"], sent["version"], sent["event"]) == ("casekeeper.notification", 1,
                                                              "acknowledged")  # fmt: skip
    assert sent["case"]["labels"] == {"team": "db"}


def test_templates_shape_the_body_but_not_casekeepers_headers() -> None:
    options = WebhookOptions(
        body_template='{"text": "{{ case.readable_id }} {{ event }}", '
        '"team": "{{ case.labels.team }}"}',
        header_templates=(("X-Team", "{{ case.labels.team }}"),
                          ("X-Casekeeper-Delivery", "forged")),
    )  # fmt: skip
    with Receiver(record_bodies=True) as r:
        assert deliver_once(envelope(r.url, None, options)).ok
        (_, headers, body) = r.seen.bodies[0]
    assert json.loads(body) == {"text": "CASE-12 acknowledged", "team": "db"}
    assert headers["content-type"] == "application/json"
    assert headers["x-team"] == "db"
    assert headers["x-casekeeper-delivery"] == "d1"
    assert "x-casekeeper-signature" not in headers  # no secret, no signature
    broken = WebhookOptions(body_template="{{ case.title | nosuchfilter }}")
    with Receiver() as r:
        failed = deliver_once(envelope(r.url, None, broken))
    assert not failed.ok
    assert failed.retry.value == "no"
