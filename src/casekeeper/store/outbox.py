"""The transactional outbox: messages written with the change that caused them, delivered later
by a worker (notifications, webhooks). Nothing is sent before commit; nothing committed is lost."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from casekeeper.domain.events import CaseEvent
from casekeeper.store.schema import outbox_message as o

CASE_EVENT_TOPIC = "case.event"


class OutboxRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def add_case_events(self, events: Sequence[CaseEvent], now: int) -> None:
        if not events:
            return
        rows: list[dict[str, Any]] = [
            {
                "space_id": ev.space_id,
                "topic": CASE_EVENT_TOPIC,
                "payload": {"caseId": ev.case_id, "eventId": ev.event_id, "kind": ev.kind.value},
                "status": "pending",
                "attempts": 0,
                "next_attempt_time": now,
                "create_time": now,
            }
            for ev in events
        ]
        self.conn.execute(sa.insert(o), rows)

    def pending_count(self) -> int:
        stmt = sa.select(sa.func.count()).select_from(o).where(o.c.status == "pending")
        return int(self.conn.execute(stmt).scalar_one())
