"""What each connector sends: one function per wire format, so a reader sees the whole body
(docs/CONNECTORS.md shows them)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from importlib import metadata
from typing import Any, Final

import orjson

from casekeeper.domain.notifications import (
    ConnectorKind,
    Envelope,
    NotificationView,
    Trigger,
)
from casekeeper.domain.notify_templates import render


def _version() -> str:
    try:
        return metadata.version("casekeeper")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "dev"


USER_AGENT: Final = f"casekeeper/{_version()}"
PROTECTED = ("idempotency-key", "x-casekeeper-", "content-length", "host")
COLORS: Final = {"P1": "#d32f2f", "P2": "#f57c00", "P3": "#fbc02d", "P4": "#1976d2",
                 "P5": "#607d8b"}  # fmt: skip
PD_SEVERITY: Final = {"P1": "critical", "P2": "error", "P3": "warning"}
PD_ACTION: Final = {Trigger.ACKNOWLEDGED: "acknowledge", Trigger.RESOLVED: "resolve",
                    Trigger.CLOSED: "resolve"}  # fmt: skip


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``v1=<hex HMAC-SHA256(secret, "<timestamp>." + body)>`` (docs/CONNECTORS.md)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


def _iso(micros: int) -> str:
    return datetime.fromtimestamp(micros / 1e6, UTC).isoformat(timespec="milliseconds")


def _facts(v: NotificationView) -> list[tuple[str, str]]:
    c = v.case
    return [("Status", c.status), ("Priority", c.priority), ("Category", c.category),
            ("Assignee", ", ".join(c.assignees) or "nobody")]  # fmt: skip


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def webhook(env: Envelope, now_s: int) -> tuple[dict[str, str], bytes]:
    """Headers and body of a generic webhook: casekeeper's JSON, or the connector's templates."""
    v, opts = env.view, env.connector.webhook
    ctx = v.context()
    if opts is not None and opts.body_template is not None:
        body = render(opts.body_template, ctx, "body_template").encode()
        try:
            orjson.loads(body)
            ctype = "application/json"
        except orjson.JSONDecodeError:
            ctype = "text/plain; charset=utf-8"
    else:
        body = orjson.dumps({"type": "casekeeper.notification", "version": 1, **ctx})
        ctype = "application/json"
    headers = {"Content-Type": ctype}
    if opts is not None:
        for name, template in opts.header_templates:
            if not name.lower().startswith(PROTECTED):
                headers[name] = render(template, ctx, f"header {name}")
    headers.update({
        "User-Agent": USER_AGENT,
        "Idempotency-Key": env.delivery_id,
        "X-Casekeeper-Delivery": env.delivery_id,
        "X-Casekeeper-Attempt": str(env.attempt),
        "X-Casekeeper-Event": v.trigger.value,
        "X-Casekeeper-Timestamp": str(now_s),
    })  # fmt: skip
    if env.secret:
        headers["X-Casekeeper-Signature"] = sign(env.secret, now_s, body)
    return headers, body


def slack(v: NotificationView) -> dict[str, Any]:
    fields = [{"type": "mrkdwn", "text": f"*{k}*\n{val}"} for k, val in _facts(v)]
    return {
        "text": _cut(v.summary, 3000),  # the notification's own text, and the fallback
        "blocks": [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": _cut(v.title, 150), "emoji": True},
            },
            {"type": "section", "text": {"type": "mrkdwn", "text": _cut(v.text, 3000)}},
            {"type": "section", "fields": fields},
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open case"},
                        "url": v.case.link,
                        "action_id": "open_case",
                    },
                ],
            },
        ],
    }


def mattermost(v: NotificationView) -> dict[str, Any]:
    return {
        "text": v.summary,
        "username": "casekeeper",
        "attachments": [{
            "fallback": v.summary, "color": COLORS.get(v.case.priority, "#607d8b"),
            "title": v.title, "title_link": v.case.link, "text": v.text,
            "fields": [{"short": True, "title": k, "value": val} for k, val in _facts(v)],
        }],
    }  # fmt: skip


def teams(v: NotificationView) -> dict[str, Any]:
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "text": v.title, "weight": "Bolder", "size": "Medium",
             "wrap": True},
            {"type": "TextBlock", "text": v.text, "wrap": True},
            {"type": "FactSet", "facts": [{"title": k, "value": val} for k, val in _facts(v)]},
        ],
        "actions": [{"type": "Action.OpenUrl", "title": "Open case", "url": v.case.link}],
    }  # fmt: skip
    return {"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None,
         "content": card},
    ]}  # fmt: skip


def pagerduty_dedup_key(v: NotificationView) -> str:
    """One per case: PagerDuty folds every event of a case into one incident."""
    return f"casekeeper:{v.space_id}:{v.case.id}"


def pagerduty(env: Envelope) -> dict[str, Any]:
    v, c = env.view, env.view.case
    action = PD_ACTION.get(v.trigger, "trigger")
    body: dict[str, Any] = {
        "routing_key": env.secret or "",
        "event_action": action,
        "dedup_key": pagerduty_dedup_key(v),
        "client": "casekeeper",
        "client_url": c.link,
    }
    if action == "trigger":
        body["payload"] = {
            "summary": _cut(v.summary, 1024),
            "source": "casekeeper",
            "severity": PD_SEVERITY.get(c.priority, "info"),
            "timestamp": _iso(v.event_time),
            "group": c.category,
            "class": v.trigger.value,
            "custom_details": {
                "case_id": c.id, "readable_id": c.readable_id, "title": c.title,
                "status": c.status, "priority": c.priority, "assignees": list(c.assignees),
                "labels": dict(c.labels), "link": c.link, "actor": v.actor,
            },
        }  # fmt: skip
        body["links"] = [{"href": c.link, "text": "Open case"}]
    return body


def json_body(env: Envelope) -> dict[str, Any]:
    kind = env.connector.kind
    if kind == ConnectorKind.SLACK:
        return slack(env.view)
    if kind == ConnectorKind.MATTERMOST:
        return mattermost(env.view)
    if kind == ConnectorKind.TEAMS:
        return teams(env.view)
    if kind == ConnectorKind.PAGERDUTY:
        return pagerduty(env)
    raise ValueError(f"{kind} is not a JSON connector")
