"""The transactional outbox: messages written with the change that caused them, delivered later
by a worker (notifications, webhooks). Nothing is sent before commit; nothing committed is lost."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from casekeeper.domain.events import CaseEvent
from casekeeper.store import driver
from casekeeper.store.schema import outbox_message as o

CASE_EVENT_TOPIC = "case.event"
_COLUMNS = (
    "space_id", "topic", "payload", "status", "attempts", "next_attempt_time", "create_time",
)  # fmt: skip


class OutboxRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def add_case_events(self, events: Sequence[CaseEvent], now: int) -> None:
        if not events:
            return
        dumps = driver.json_text
        rows = [
            (
                ev.space_id,
                CASE_EVENT_TOPIC,
                dumps({"caseId": ev.case_id, "eventId": ev.event_id, "kind": ev.kind.value}),
                "pending",
                0,
                now,
                now,
            )
            for ev in events
        ]
        sql = driver.insert_sql(self.conn, "outbox_message", _COLUMNS)
        driver.executemany(self.conn, sql, rows)

    def pending_count(self) -> int:
        stmt = sa.select(sa.func.count()).select_from(o).where(o.c.status == "pending")
        return int(self.conn.execute(stmt).scalar_one())
