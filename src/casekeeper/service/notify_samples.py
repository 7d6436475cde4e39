"""The notification a "send a test notification" request sends: a made-up case, plainly
marked as a test, so a receiver's owner sees exactly what real ones will look like."""

from __future__ import annotations

from casekeeper.domain.ids import uuid7
from casekeeper.domain.notifications import CaseView, Connector, NotificationView, Trigger


def test_view(conn: Connector, ui_base_url: str, now: int) -> NotificationView:
    case = CaseView(
        id="00000000-0000-0000-0000-000000000000",
        readable_id="CASE-0",
        title="Test notification from casekeeper",
        status="ACTIVE",
        priority="P3",
        category="AVAILABILITY",
        assignees=(),
        labels={"test": "true"},
        link=f"{ui_base_url.rstrip('/')}/cases",
    )
    summary = f"Test notification for connector {conn.name}: this is what casekeeper sends"
    return NotificationView(
        notification_id=uuid7(now),
        space_id=conn.space_id,
        trigger=Trigger.TEST,
        event_id=None,
        event_time=now,
        actor="casekeeper",
        summary=summary,
        title=f"casekeeper test: {conn.name}",
        text=f"{summary}.\nNo case changed; nothing is recorded in the ledger.",
        case=case,
    )
