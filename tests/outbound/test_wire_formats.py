"""Every connector's request as a real receiver on loopback gets it: method, path, headers and
the exact body (docs/CONNECTORS.md shows the same). The envelopes are built as the worker builds
them and go through the real dispatcher."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest

from casekeeper.domain.notifications import (
    ConnectorKind,
    Envelope,
    Outcome,
    Retry,
    Trigger,
    WebhookOptions,
)
from casekeeper.outbound.notify import deliver_once
from tests.notify.receiver import Receiver
from tests.outbound.envelopes import LINK, case_view, documented_verify, envelope, view, with_case

SLACK_PATH = "/services/T0001/B0002/tok3nAbCdEfGh"
FACTS = [("Status", "ACKNOWLEDGED"), ("Priority", "P2"), ("Category", "AVAILABILITY"),
         ("Assignee", "alice, bob")]  # fmt: skip
CASE_JSON = {
    "id": "c-12", "readable_id": "CASE-12", "title": "Disk full", "status": "ACKNOWLEDGED",
    "priority": "P2", "category": "AVAILABILITY", "assignees": ["alice", "bob"],
    "labels": {"team": "db"}, "link": LINK, "description": "db-1 /var at 100%",
}  # fmt: skip


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver(record_bodies=True) as r:
        yield r


def sent(r: Receiver, env: Envelope) -> Request:
    """Deliver ``env`` and return the one request ``r`` got for it."""
    before = len(r.seen.bodies)
    outcome = deliver_once(env)
    assert outcome.ok, outcome
    assert len(r.seen.bodies) == before + 1
    path, headers, body = r.seen.bodies[-1]
    return Request(r.seen.methods[-1], path, headers, body)


def secret_url(r: Receiver) -> str:
    return f"http://127.0.0.1:{r.port}{SLACK_PATH}"


def assert_json_headers(req: Request, delivery_id: str = "d-1") -> None:
    assert req.method == "POST"
    assert req.headers["content-type"] == "application/json"
    assert re.fullmatch(r"casekeeper/\S+", req.headers["user-agent"])
    assert req.headers["idempotency-key"] == delivery_id
    assert int(req.headers["content-length"]) == len(req.body)


# -- Slack, Mattermost, Teams: the URL is the secret ---------------------------------------------


def test_slack_is_block_kit_with_a_fallback_text_and_a_button_to_the_case(
    receiver: Receiver,
) -> None:
    long_title = "[P2] CASE-12: " + "x" * 200
    env = envelope(ConnectorKind.SLACK, secret_url(receiver), notification=view(title=long_title))
    req = sent(receiver, env)
    assert req.path == SLACK_PATH
    assert_json_headers(req)
    assert not any(name.startswith("x-casekeeper-") for name in req.headers)
    assert req.json() == {
        "text": "CASE-12 acknowledged by alice: Disk full",
        "blocks": [
            {"type": "header",
             "text": {"type": "plain_text", "text": long_title[:149] + "…", "emoji": True}},
            {"type": "section", "text": {"type": "mrkdwn",
                                         "text": "CASE-12 acknowledged by alice: Disk full\n"
                                                 "Status ACKNOWLEDGED"}},
            {"type": "section",
             "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in FACTS]},
            {"type": "actions", "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "Open case"},
                 "url": LINK, "action_id": "open_case"}]},
        ],
    }  # fmt: skip
    assert len(req.json()["blocks"][0]["text"]["text"]) == 150


def test_slack_names_nobody_for_an_unassigned_case(receiver: Receiver) -> None:
    unassigned = replace(case_view(), assignees=())
    env = envelope(ConnectorKind.SLACK, secret_url(receiver),
                   notification=view(case=unassigned))  # fmt: skip
    fields = sent(receiver, env).json()["blocks"][2]["fields"]
    assert fields[-1] == {"type": "mrkdwn", "text": "*Assignee*\nnobody"}


def test_mattermost_is_one_slack_attachment(receiver: Receiver) -> None:
    req = sent(receiver, envelope(ConnectorKind.MATTERMOST, secret_url(receiver)))
    assert req.path == SLACK_PATH
    assert_json_headers(req)
    assert req.json() == {
        "text": "CASE-12 acknowledged by alice: Disk full",
        "username": "casekeeper",
        "attachments": [{
            "fallback": "CASE-12 acknowledged by alice: Disk full", "color": "#f57c00",
            "title": "[P2] CASE-12: Disk full", "title_link": LINK,
            "text": "CASE-12 acknowledged by alice: Disk full\nStatus ACKNOWLEDGED",
            "fields": [{"short": True, "title": k, "value": v} for k, v in FACTS],
        }],
    }  # fmt: skip


@pytest.mark.parametrize(
    ("priority", "color"),
    [("P1", "#d32f2f"), ("P2", "#f57c00"), ("P3", "#fbc02d"), ("P4", "#1976d2"),
     ("P5", "#607d8b"), ("UNSPECIFIED", "#607d8b")],
)  # fmt: skip
def test_mattermost_colors_by_priority(receiver: Receiver, priority: str, color: str) -> None:
    notification = view(case=case_view(priority=priority))
    env = envelope(ConnectorKind.MATTERMOST, secret_url(receiver), notification=notification)
    assert sent(receiver, env).json()["attachments"][0]["color"] == color


def test_teams_is_one_adaptive_card_for_workflows(receiver: Receiver) -> None:
    req = sent(receiver, envelope(ConnectorKind.TEAMS, secret_url(receiver)))
    assert req.path == SLACK_PATH
    assert_json_headers(req)
    assert req.json() == {
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": None,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [
                    {"type": "TextBlock", "text": "[P2] CASE-12: Disk full", "weight": "Bolder",
                     "size": "Medium", "wrap": True},
                    {"type": "TextBlock",
                     "text": "CASE-12 acknowledged by alice: Disk full\nStatus ACKNOWLEDGED",
                     "wrap": True},
                    {"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in FACTS]},
                ],
                "actions": [{"type": "Action.OpenUrl", "title": "Open case", "url": LINK}],
            },
        }],
    }  # fmt: skip


# -- PagerDuty Events v2 --------------------------------------------------------------------------


def pd(r: Receiver, trigger: Trigger, priority: str = "P2", **kw: Any) -> Envelope:
    notification = view(trigger, case=case_view(priority=priority))
    return envelope(ConnectorKind.PAGERDUTY, r.url, secret="R0UTING-KEY",
                    notification=notification, **kw)  # fmt: skip


def test_pagerduty_triggers_with_the_routing_key_and_a_full_payload(receiver: Receiver) -> None:
    req = sent(receiver, pd(receiver, Trigger.OPENED, "P1"))
    assert req.path == "/hook"
    assert_json_headers(req)
    assert req.json() == {
        "routing_key": "R0UTING-KEY",
        "event_action": "trigger",
        "dedup_key": "casekeeper:7:c-12",
        "client": "casekeeper",
        "client_url": LINK,
        "payload": {
            "summary": "CASE-12 acknowledged by alice: Disk full",
            "source": "casekeeper",
            "severity": "critical",
            "timestamp": "2025-12-05T02:00:00.000+00:00",
            "group": "AVAILABILITY",
            "class": "opened",
            "custom_details": {
                "case_id": "c-12", "readable_id": "CASE-12", "title": "Disk full",
                "status": "ACKNOWLEDGED", "priority": "P1", "assignees": ["alice", "bob"],
                "labels": {"team": "db"}, "link": LINK, "actor": "alice",
            },
        },
        "links": [{"href": LINK, "text": "Open case"}],
    }  # fmt: skip


@pytest.mark.parametrize(
    ("priority", "severity"),
    [("P1", "critical"), ("P2", "error"), ("P3", "warning"), ("P4", "info"), ("P5", "info"),
     ("UNSPECIFIED", "info")],
)  # fmt: skip
def test_pagerduty_severity_follows_the_priority(
    receiver: Receiver, priority: str, severity: str
) -> None:
    assert sent(receiver, pd(receiver, Trigger.OPENED, priority)).json()["payload"]["severity"] \
        == severity  # fmt: skip


@pytest.mark.parametrize("trigger", list(Trigger))
def test_pagerduty_event_action_follows_the_trigger(receiver: Receiver, trigger: Trigger) -> None:
    body = sent(receiver, pd(receiver, trigger)).json()
    expected = {Trigger.ACKNOWLEDGED: "acknowledge", Trigger.RESOLVED: "resolve",
                Trigger.CLOSED: "resolve"}.get(trigger, "trigger")  # fmt: skip
    assert body["event_action"] == expected
    assert body["routing_key"] == "R0UTING-KEY"
    # Only a trigger carries a payload: PagerDuty refuses one on acknowledge and resolve.
    assert ("payload" in body, "links" in body) == (expected == "trigger",) * 2


def test_pagerduty_dedup_key_is_one_per_case(receiver: Receiver) -> None:
    keys = {
        (case, trigger, attempt): sent(
            receiver, with_case(pd(receiver, trigger, attempt=attempt), case)
        ).json()["dedup_key"]
        for case in ("c-12", "c-13")
        for trigger in (Trigger.OPENED, Trigger.ACKNOWLEDGED, Trigger.RESOLVED)
        for attempt in (1, 2)
    }  # fmt: skip
    by_case = {case: {k for (c, _, _), k in keys.items() if c == case} for case in ("c-12", "c-13")}
    assert by_case == {"c-12": {"casekeeper:7:c-12"}, "c-13": {"casekeeper:7:c-13"}}


def test_pagerduty_cuts_a_long_summary_to_its_limit(receiver: Receiver) -> None:
    env = pd(receiver, Trigger.OPENED)
    env = replace(env, view=replace(env.view, summary="s" * 2000))
    assert sent(receiver, env).json()["payload"]["summary"] == "s" * 1023 + "…"


# -- generic webhook ------------------------------------------------------------------------------


def test_a_webhook_sends_casekeepers_json_with_its_headers(receiver: Receiver) -> None:
    before = int(time.time())
    env = envelope(ConnectorKind.WEBHOOK, receiver.url, secret="s3cr3t-signing-key",
                   attempt=3, delivery_id="0193aa-d1")  # fmt: skip
    req = sent(receiver, env)
    assert req.path == "/hook"
    assert_json_headers(req, "0193aa-d1")
    assert req.headers["x-casekeeper-delivery"] == "0193aa-d1"
    assert req.headers["x-casekeeper-attempt"] == "3"
    assert req.headers["x-casekeeper-event"] == "acknowledged"
    assert before <= int(req.headers["x-casekeeper-timestamp"]) <= time.time()
    assert re.fullmatch(r"v1=[0-9a-f]{64}", req.headers["x-casekeeper-signature"])
    assert req.json() == {
        "type": "casekeeper.notification", "version": 1, "notification_id": "n-1",
        "event": "acknowledged", "event_id": "e-1", "event_time_us": 1_764_900_000_000_000,
        "actor": "alice", "summary": "CASE-12 acknowledged by alice: Disk full",
        "title": "[P2] CASE-12: Disk full",
        "text": "CASE-12 acknowledged by alice: Disk full\nStatus ACKNOWLEDGED",
        "route": "urgent", "case": CASE_JSON,
    }  # fmt: skip


def test_the_signature_verifies_with_the_documented_snippet(receiver: Receiver) -> None:
    verify = documented_verify()
    req = sent(receiver, envelope(ConnectorKind.WEBHOOK, receiver.url, secret="s3cr3t"))
    assert verify("s3cr3t", req.headers, req.body)
    as_sent = {k.title(): v for k, v in req.headers.items()}  # header names in any case
    assert verify("s3cr3t", as_sent, req.body)
    assert not verify("another-secret", req.headers, req.body)
    assert not verify("s3cr3t", req.headers, req.body + b" ")
    stamp = int(req.headers["x-casekeeper-timestamp"])
    assert not verify("s3cr3t", {**req.headers, "x-casekeeper-timestamp": str(stamp - 3600)},
                      req.body)  # fmt: skip
    assert not verify("s3cr3t", {**req.headers, "x-casekeeper-signature": ""}, req.body)
    unsigned = sent(receiver, envelope(ConnectorKind.WEBHOOK, receiver.url))
    assert "x-casekeeper-signature" not in unsigned.headers
    assert not verify("s3cr3t", unsigned.headers, unsigned.body)


def test_templates_render_the_body_and_headers_but_not_casekeepers_own(
    receiver: Receiver,
) -> None:
    options = WebhookOptions(
        body_template='{"text": "{{ case.readable_id }} {{ event }}", '
        '"team": "{{ case.labels.team }}", "who": {{ case.assignees | tojson }}}',
        header_templates=(
            ("X-Team", "{{ case.labels.team }}"),
            ("Authorization", "Bearer {{ case.labels.missing }}fixed"),
            ("X-Casekeeper-Delivery", "forged"),
            ("x-casekeeper-signature", "forged"),
            ("Idempotency-Key", "forged"),
        ),
    )
    env = envelope(ConnectorKind.WEBHOOK, receiver.url, secret="k", webhook=options)
    req = sent(receiver, env)
    assert req.json() == {"text": "CASE-12 acknowledged", "team": "db", "who": ["alice", "bob"]}
    assert req.headers["content-type"] == "application/json"
    assert req.headers["x-team"] == "db"
    assert req.headers["authorization"] == "Bearer fixed"
    assert req.headers["x-casekeeper-delivery"] == req.headers["idempotency-key"] == "d-1"
    assert documented_verify()("k", req.headers, req.body)  # signed over the rendered body


def test_a_body_template_that_is_not_json_is_sent_as_text(receiver: Receiver) -> None:
    options = WebhookOptions(body_template="{{ summary }} <{{ case.link }}>")
    req = sent(receiver, envelope(ConnectorKind.WEBHOOK, receiver.url, webhook=options))
    assert req.body == f"CASE-12 acknowledged by alice: Disk full <{LINK}>".encode()
    assert req.headers["content-type"] == "text/plain; charset=utf-8"
    typed = replace(options, header_templates=(("content-type", "text/markdown"),))
    req = sent(receiver, envelope(ConnectorKind.WEBHOOK, receiver.url, webhook=typed))
    assert req.headers["content-type"] == "text/markdown"  # a header template may say otherwise


@pytest.mark.parametrize(
    "options",
    [
        WebhookOptions(body_template="{{ case.title | nosuchfilter }}"),  # does not compile
        WebhookOptions(body_template="{{ 1 // 0 }}"),  # fails while rendering
        WebhookOptions(body_template="{{ case.__class__.__mro__ }}{{ ''.__class__.mro() }}"),
        WebhookOptions(header_templates=(("X-Broken", "{{ case.priority + 1 }}"),)),
    ],
    ids=["compile", "render", "sandbox", "header"],
)
def test_a_template_that_fails_is_a_permanent_failure_and_sends_nothing(
    receiver: Receiver, options: WebhookOptions
) -> None:
    outcome: Outcome = deliver_once(envelope(ConnectorKind.WEBHOOK, receiver.url,
                                             webhook=options))  # fmt: skip
    assert not outcome.ok
    assert outcome.retry == Retry.NO
    assert outcome.error is not None
    assert outcome.error.startswith("template failed: ")
    assert receiver.seen.requests == 0


def test_a_location_on_a_2xx_is_the_attempts_evidence(receiver: Receiver) -> None:
    receiver.status = 201
    receiver.headers = {"Location": "https://tickets.example.test/T-1"}
    outcome = deliver_once(envelope(ConnectorKind.WEBHOOK, receiver.url))
    assert (outcome.ok, outcome.status_code, outcome.evidence_url) == (
        True, 201, "https://tickets.example.test/T-1")  # fmt: skip
