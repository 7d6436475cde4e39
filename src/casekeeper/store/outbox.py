"""The transactional outbox: messages written with the change that caused them, delivered later
by a worker (notifications, webhooks). Nothing is sent before commit; nothing committed is lost."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from casekeeper.domain.events import CaseEvent
from casekeeper.store import driver
from casekeeper.store.schema import outbox_message as o

CASE_EVENT_TOPIC = "case.event"
PENDING = "pending"
DONE = "done"
_COLUMNS = (
    "space_id", "topic", "payload", "status", "attempts", "next_attempt_time", "create_time",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class OutboxCaseEvent:
    id: int
    space_id: int
    case_id: str
    event_id: str
    kind: str


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
        stmt = sa.select(sa.func.count()).select_from(o).where(o.c.status == PENDING)
        return int(self.conn.execute(stmt).scalar_one())

    def has_pending(self) -> bool:
        stmt = sa.select(o.c.id).where(o.c.status == PENDING).limit(1)
        return self.conn.execute(stmt).first() is not None

    def claim_case_events(self, limit: int) -> list[OutboxCaseEvent]:
        """The oldest pending case events, held by this transaction (``SKIP LOCKED`` on
        PostgreSQL: another worker takes the next ones; SQLite's writer lock serializes)."""
        stmt = (
            sa.select(o.c.id, o.c.space_id, o.c.payload)
            .where(o.c.status == PENDING, o.c.topic == CASE_EVENT_TOPIC)
            .order_by(o.c.status, o.c.next_attempt_time, o.c.id)
            .limit(limit)
        )
        if self.conn.dialect.name != "sqlite":
            stmt = stmt.with_for_update(skip_locked=True)
        return [
            OutboxCaseEvent(
                r.id, r.space_id, r.payload["caseId"], r.payload["eventId"], r.payload["kind"]
            )
            for r in self.conn.execute(stmt)
        ]

    def mark_done(self, ids: Sequence[int], now: int) -> None:
        if ids:
            stmt = sa.update(o).where(o.c.id.in_(list(ids))).values(status=DONE, done_time=now)
            self.conn.execute(stmt)

    def prune(self, before: int, limit: int = 10_000) -> int:
        """Delete up to ``limit`` messages routed before ``before``."""
        old = (
            sa.select(o.c.id)
            .where(o.c.status == DONE, o.c.done_time < before)
            .order_by(o.c.id)
            .limit(limit)
        )
        return self.conn.execute(sa.delete(o).where(o.c.id.in_(old.scalar_subquery()))).rowcount
