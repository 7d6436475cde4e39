"""The notification ledger: notifications, deliveries and attempts, and the claims the delivery
worker takes on due deliveries.

A claim is one statement: due rows (pending and due, or sending with an expired lease, left by a
worker that died) get ``state='sending'``, a fresh lease token and a lease end. On PostgreSQL the
candidates are read ``FOR UPDATE SKIP LOCKED`` first, so two workers never claim one row; on
SQLite the writer's lock serializes claims. A result is recorded only under the token it was
claimed with: a worker whose lease ran out cannot overwrite the row another worker now holds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from casekeeper.domain.notifications import (
    CaseView,
    ConnectorKind,
    DeliveryState,
    NotificationResult,
    NotificationView,
    Trigger,
)
from casekeeper.domain.notify_ledger import (
    AttemptRecord,
    DeliveryRecord,
    NotificationRecord,
    RouteRef,
)
from casekeeper.store import driver
from casekeeper.store.schema import notification as n
from casekeeper.store.schema import notify_attempt as a
from casekeeper.store.schema import notify_delivery as d

_N_COLUMNS = (
    "id", "space_id", "case_id", "event_id", "trigger", "result", "route_id", "route_name",
    "matched", "view", "create_time",
)  # fmt: skip
_D_COLUMNS = (
    "id", "notification_id", "space_id", "case_id", "connector_id", "connector_name",
    "connector_kind", "state", "attempts", "budget_attempts", "budget_time",
    "next_attempt_time", "create_time", "update_time",
)  # fmt: skip
_A_COLUMNS = ("delivery_id", "number", "time", "ok", "status_code", "error", "evidence_url",
              "duration_ms")  # fmt: skip


def view_json(v: NotificationView) -> dict[str, Any]:
    c = v.case
    return {
        "id": v.notification_id, "space": v.space_id, "trigger": v.trigger.value,
        "event": v.event_id, "time": v.event_time, "actor": v.actor, "summary": v.summary,
        "title": v.title, "text": v.text, "route": v.route_name, "extra": v.extra,
        "case": {
            "id": c.id, "readable": c.readable_id, "title": c.title, "status": c.status,
            "priority": c.priority, "category": c.category, "assignees": list(c.assignees),
            "labels": dict(c.labels), "link": c.link, "description": c.description,
        },
    }  # fmt: skip


def view_of(j: dict[str, Any]) -> NotificationView:
    c = j["case"]
    return NotificationView(
        notification_id=j["id"], space_id=j["space"], trigger=Trigger(j["trigger"]),
        event_id=j["event"], event_time=j["time"], actor=j["actor"], summary=j["summary"],
        title=j["title"], text=j["text"], route_name=j["route"], extra=j.get("extra") or {},
        case=CaseView(
            id=c["id"], readable_id=c["readable"], title=c["title"], status=c["status"],
            priority=c["priority"], category=c["category"], assignees=tuple(c["assignees"]),
            labels=c["labels"], link=c["link"], description=c.get("description"),
        ),
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class NewNotification:
    id: str
    space_id: int
    case_id: str
    event_id: str | None
    trigger: Trigger
    result: NotificationResult
    route: RouteRef | None
    matched: tuple[RouteRef, ...]
    view: NotificationView | None
    create_time: int


@dataclass(frozen=True, slots=True)
class NewDelivery:
    id: str
    notification_id: str
    space_id: int
    case_id: str
    connector_id: str
    connector_name: str
    connector_kind: ConnectorKind
    create_time: int


@dataclass(frozen=True, slots=True)
class Claim:
    """A delivery a worker holds until ``lease_until``: what it needs to send it."""

    id: str
    notification_id: str
    space_id: int
    case_id: str
    connector_id: str
    connector_name: str
    attempts: int  # made before this one
    budget_attempts: int
    budget_time: int
    token: str
    view: NotificationView


@dataclass(frozen=True, slots=True)
class Result:
    """What became of one claimed attempt; ``state`` PENDING means try again at ``next_time``."""

    claim: Claim
    record: AttemptRecord
    state: DeliveryState
    next_time: int


class LedgerRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def add(self, notes: Sequence[NewNotification], deliveries: Sequence[NewDelivery]) -> None:
        dumps = driver.json_text
        rows = [
            (
                x.id, x.space_id, x.case_id, x.event_id, x.trigger.value, x.result.value,
                None if x.route is None else x.route.id,
                None if x.route is None else x.route.name,
                None if not x.matched else dumps([[r.id, r.name] for r in x.matched]),
                None if x.view is None else dumps(view_json(x.view)), x.create_time,
            )
            for x in notes
        ]  # fmt: skip
        if rows:
            driver.executemany(self.conn, driver.insert_sql(self.conn, "notification", _N_COLUMNS),
                               rows)  # fmt: skip
        drows = [
            (
                x.id, x.notification_id, x.space_id, x.case_id, x.connector_id, x.connector_name,
                x.connector_kind.value, DeliveryState.PENDING.value, 0, 0, x.create_time,
                x.create_time, x.create_time, x.create_time,
            )
            for x in deliveries
        ]  # fmt: skip
        if drows:
            driver.executemany(self.conn, driver.insert_sql(self.conn, "notify_delivery",
                                                            _D_COLUMNS), drows)  # fmt: skip

    # -- the worker's side -----------------------------------------------------------------

    def claim(self, now: int, limit: int, lease_until: int, token: str) -> list[Claim]:
        due = sa.or_(
            sa.and_(d.c.state == DeliveryState.PENDING.value, d.c.next_attempt_time <= now),
            sa.and_(d.c.state == DeliveryState.SENDING.value, d.c.lease_until < now),
        )
        pick = sa.select(d.c.id).where(due).order_by(d.c.next_attempt_time).limit(limit)
        if self.conn.dialect.name != "sqlite":
            pick = pick.with_for_update(skip_locked=True)
        ids = [r[0] for r in self.conn.execute(pick)]
        if not ids:
            return []
        self.conn.execute(
            sa.update(d)
            .where(d.c.id.in_(ids))
            .values(state=DeliveryState.SENDING.value, lease_token=token, lease_until=lease_until)
        )
        stmt = (
            sa.select(
                d.c.id,
                d.c.notification_id,
                d.c.space_id,
                d.c.case_id,
                d.c.connector_id,
                d.c.connector_name,
                d.c.attempts,
                d.c.budget_attempts,
                d.c.budget_time,
                n.c.view,
            )
            .join(n, n.c.id == d.c.notification_id)
            .where(d.c.id.in_(ids))
        )
        return [
            Claim(
                id=r[0], notification_id=r[1], space_id=r[2], case_id=r[3], connector_id=r[4],
                connector_name=r[5], attempts=r[6], budget_attempts=r[7], budget_time=r[8],
                token=token, view=view_of(r[9]),
            )
            for r in self.conn.execute(stmt)
        ]  # fmt: skip

    def record(self, results: Sequence[Result], now: int) -> list[Result]:
        """Write each result under its claim's token; the ones whose lease was lost (another
        worker holds the row now) are left out and returned as not recorded."""
        sql = driver.update_sql(
            self.conn, "notify_delivery",
            ("state", "attempts", "next_attempt_time", "lease_token", "lease_until",
             "last_error", "evidence_url", "update_time"),
            ("id", "lease_token"),
        )  # fmt: skip
        params = [
            (r.state.value, r.record.number, r.next_time, None, None, r.record.error,
             r.record.evidence_url, now, r.claim.id, r.claim.token)
            for r in results
        ]  # fmt: skip
        # One statement for the batch when every lease held (the usual case); row by row, to
        # learn which were lost, only when some were not.
        held = self._held([r.claim for r in results])
        kept = [r for r in results if r.claim.id in held]
        driver.executemany(self.conn, sql, [p for p, r in zip(params, results, strict=True)
                                            if r.claim.id in held])  # fmt: skip
        rows = [
            (r.claim.id, x.number, x.time, x.ok, x.status_code, x.error, x.evidence_url,
             x.duration_ms)
            for r in kept
            for x in (r.record,)
        ]  # fmt: skip
        if rows:
            driver.executemany(self.conn, driver.insert_sql(self.conn, "notify_attempt",
                                                            _A_COLUMNS), rows)  # fmt: skip
        return kept

    def _held(self, claims: Sequence[Claim]) -> set[str]:
        """The ids of ``claims`` whose rows still carry their claim's token (locked on
        PostgreSQL until the transaction ends, so the answer stays true for the update)."""
        held: set[str] = set()
        by_token: dict[str, list[str]] = defaultdict(list)
        for c in claims:
            by_token[c.token].append(c.id)
        for token, ids in by_token.items():
            stmt = sa.select(d.c.id).where(d.c.id.in_(ids), d.c.lease_token == token)
            if self.conn.dialect.name != "sqlite":
                stmt = stmt.with_for_update()
            held.update(r[0] for r in self.conn.execute(stmt))
        return held

    def release(self, claims: Sequence[Claim]) -> None:
        """Give claims back unattempted (the worker is stopping)."""
        for c in claims:
            self.conn.execute(
                sa.update(d)
                .where(d.c.id == c.id, d.c.lease_token == c.token)
                .values(state=DeliveryState.PENDING.value, lease_token=None, lease_until=None)
            )

    def has_due(self, now: int) -> bool:
        """Anything to claim now (``ix_notify_delivery_due`` answers both halves)."""
        for state, column in ((DeliveryState.PENDING, d.c.next_attempt_time),
                              (DeliveryState.SENDING, d.c.lease_until)):  # fmt: skip
            stmt = sa.select(d.c.id).where(d.c.state == state.value, column <= now).limit(1)
            if self.conn.execute(stmt).first() is not None:
                return True
        return False

    def due_count(self) -> int:
        stmt = (
            sa.select(sa.func.count())
            .select_from(d)
            .where(d.c.state.in_([DeliveryState.PENDING.value, DeliveryState.SENDING.value]))
        )
        return int(self.conn.execute(stmt).scalar_one())

    # -- reading and replaying ---------------------------------------------------------------

    def delivery(self, space_id: int, delivery_id: str) -> DeliveryRecord | None:
        stmt = sa.select(d).where(d.c.space_id == space_id, d.c.id == delivery_id)
        row = self.conn.execute(stmt).first()
        if row is None:
            return None
        return _delivery(row, self._attempts([delivery_id])[delivery_id])

    def replay(self, delivery_id: str, now: int) -> bool:
        stmt = (
            sa.update(d)
            .where(d.c.id == delivery_id, d.c.state == DeliveryState.FAILED.value)
            .values(state=DeliveryState.PENDING.value, next_attempt_time=now,
                    budget_attempts=d.c.attempts, budget_time=now, update_time=now)
        )  # fmt: skip
        return self.conn.execute(stmt).rowcount == 1

    def for_cases(self, space_id: int, case_ids: Sequence[str]) -> list[NotificationRecord]:
        if not case_ids:
            return []
        stmt = (
            sa.select(n.c.id, n.c.space_id, n.c.case_id, n.c.event_id, n.c.trigger,
                      n.c.result, n.c.route_id, n.c.route_name, n.c.matched, n.c.create_time)
            .where(n.c.space_id == space_id, n.c.case_id.in_(sorted(set(case_ids))))
            .order_by(n.c.create_time, n.c.id)
        )  # fmt: skip
        notes = list(self.conn.execute(stmt))
        if not notes:
            return []
        dstmt = (
            sa.select(d)
            .where(d.c.notification_id.in_([r[0] for r in notes]))
            .order_by(d.c.create_time, d.c.connector_name)
        )
        drows = list(self.conn.execute(dstmt))
        attempts = self._attempts([r.id for r in drows])
        by_note: dict[str, list[DeliveryRecord]] = defaultdict(list)
        for row in drows:
            by_note[row.notification_id].append(_delivery(row, attempts[row.id]))
        return [
            NotificationRecord(
                id=r[0], space_id=r[1], case_id=r[2], event_id=r[3], trigger=Trigger(r[4]),
                result=NotificationResult(r[5]),
                route=None if r[6] is None else RouteRef(r[6], r[7] or ""),
                matched=tuple(RouteRef(i, name) for i, name in (r[8] or ())),
                create_time=r[9], deliveries=tuple(by_note.get(r[0], ())),
            )
            for r in notes
        ]  # fmt: skip

    def _attempts(self, delivery_ids: Sequence[str]) -> dict[str, tuple[AttemptRecord, ...]]:
        out: dict[str, list[AttemptRecord]] = {i: [] for i in delivery_ids}
        if not delivery_ids:
            return {}
        stmt = sa.select(a).where(a.c.delivery_id.in_(list(delivery_ids))).order_by(a.c.number)
        for r in self.conn.execute(stmt):
            out[r.delivery_id].append(
                AttemptRecord(
                    r.number,
                    r.time,
                    bool(r.ok),
                    r.status_code,
                    r.error,
                    r.evidence_url,
                    r.duration_ms,
                )
            )
        return {k: tuple(v) for k, v in out.items()}

    def prune(self, before: int, limit: int = 5000) -> int:
        """Delete notifications older than ``before`` none of whose deliveries is still to do
        (their deliveries and attempts go with them)."""
        open_ = sa.select(d.c.notification_id).where(
            d.c.state.in_([DeliveryState.PENDING.value, DeliveryState.SENDING.value])
        )
        old = sa.select(n.c.id).where(n.c.create_time < before, n.c.id.not_in(open_)).limit(limit)
        ids = [r[0] for r in self.conn.execute(old)]
        if not ids:
            return 0
        # Children first: SQLite enforces no foreign keys unless asked, so do not rely on it.
        dids = sa.select(d.c.id).where(d.c.notification_id.in_(ids))
        self.conn.execute(sa.delete(a).where(a.c.delivery_id.in_(dids)))
        self.conn.execute(sa.delete(d).where(d.c.notification_id.in_(ids)))
        return self.conn.execute(sa.delete(n).where(n.c.id.in_(ids))).rowcount


def _delivery(row: Any, attempts: tuple[AttemptRecord, ...]) -> DeliveryRecord:
    return DeliveryRecord(
        id=row.id,
        notification_id=row.notification_id,
        case_id=row.case_id,
        connector_id=row.connector_id,
        connector_name=row.connector_name,
        connector_kind=ConnectorKind(row.connector_kind),
        state=DeliveryState(row.state),
        attempts=attempts,
        next_attempt_time=row.next_attempt_time,
        last_error=row.last_error,
        evidence_url=row.evidence_url,
        create_time=row.create_time,
        update_time=row.update_time,
    )
