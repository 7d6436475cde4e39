"""Envelopes as the worker builds them, for sending straight through the dispatcher: one
connector of each kind and a notification about one case."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from casekeeper.domain.notifications import (
    URL_IS_SECRET,
    CaseView,
    Connector,
    ConnectorKind,
    EmailOptions,
    Envelope,
    NotificationView,
    SecretRef,
    Trigger,
    WebhookOptions,
)

EVENT_TIME = 1_764_900_000_000_000  # 2025-12-05T02:00:00Z, in microseconds
LINK = "https://cases.example.test/cases/c-12"
DOC = Path(__file__).resolve().parents[2] / "docs" / "CONNECTORS.md"
Verify = Callable[[str, Mapping[str, str], bytes], bool]


def case_view(case_id: str = "c-12", priority: str = "P2", title: str = "Disk full") -> CaseView:
    return CaseView(
        id=case_id, readable_id="CASE-12", title=title, status="ACKNOWLEDGED",
        priority=priority, category="AVAILABILITY", assignees=("alice", "bob"),
        labels={"team": "db"}, link=LINK, description="db-1 /var at 100%",
    )  # fmt: skip


def view(
    trigger: Trigger = Trigger.ACKNOWLEDGED,
    *,
    case: CaseView | None = None,
    space_id: int = 7,
    title: str = "[P2] CASE-12: Disk full",
    text: str = "CASE-12 acknowledged by alice: Disk full\nStatus ACKNOWLEDGED",
) -> NotificationView:
    return NotificationView(
        notification_id="n-1", space_id=space_id, trigger=trigger, event_id="e-1",
        event_time=EVENT_TIME, actor="alice", summary="CASE-12 acknowledged by alice: Disk full",
        title=title, text=text, case=case or case_view(), route_name="urgent",
    )  # fmt: skip


def envelope(
    kind: ConnectorKind,
    target: str,
    *,
    secret: str | None = None,
    notification: NotificationView | None = None,
    attempt: int = 1,
    delivery_id: str = "d-1",
    webhook: WebhookOptions | None = None,
    email: EmailOptions | None = None,
) -> Envelope:
    """One attempt on a ``kind`` connector sending to ``target``: its URL, or for Slack, Teams
    and Mattermost the secret (their URL is the credential, and the connector has none)."""
    url_is_secret = kind in URL_IS_SECRET
    conn = Connector(
        id="conn-1", space_id=7, name=f"my {kind.value}", kind=kind,
        url=None if url_is_secret or kind == ConnectorKind.EMAIL else target,
        secret=SecretRef(env="CONNECTOR_SECRET"), create_time=0, update_time=0,
        email=email, webhook=webhook,
    )  # fmt: skip
    return Envelope(
        delivery_id=delivery_id,
        attempt=attempt,
        connector=conn,
        secret=target if url_is_secret else secret,
        view=notification or view(),
    )


def with_case(env: Envelope, case_id: str) -> Envelope:
    return replace(env, view=replace(env.view, case=replace(env.view.case, id=case_id)))


def documented_verify() -> Verify:
    """The ``verify`` function docs/CONNECTORS.md gives receivers, run as they would run it."""
    text = DOC.read_text()
    block = re.search(
        r"<!-- verify-snippet:start -->\n```python\n(.*?)```\n<!-- verify-snippet:end -->",
        text,
        re.S,
    )
    assert block is not None, "docs/CONNECTORS.md lost its verification snippet"
    scope: dict[str, Any] = {}
    exec(compile(block.group(1), str(DOC), "exec"), scope)
    fn: Verify = scope["verify"]
    return fn
