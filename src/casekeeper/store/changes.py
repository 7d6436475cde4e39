"""The change feed's reads: timeline and incident events of every space by commit sequence
(``case_event.seq``, ``incident_event.seq``), for the live stream (docs/EVENTS_STREAM.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from casekeeper.domain.model import READABLE_PREFIX
from casekeeper.store.event_codec import decode_actor
from casekeeper.store.schema import case as c
from casekeeper.store.schema import case_event as e
from casekeeper.store.schema import incident_event as ie


@dataclass(frozen=True, slots=True)
class Change:
    stream: str  # "case" or "incident"
    seq: int
    space_id: int
    data: dict[str, Any]  # what a subscriber receives, as JSON


def heads(conn: sa.Connection) -> tuple[int, int]:
    """The newest case-event and incident-event sequence numbers (0 when none)."""
    a = conn.execute(sa.select(sa.func.coalesce(sa.func.max(e.c.seq), 0))).scalar_one()
    b = conn.execute(sa.select(sa.func.coalesce(sa.func.max(ie.c.seq), 0))).scalar_one()
    return int(a), int(b)


def case_changes(
    conn: sa.Connection, after: int, limit: int, space_id: int | None = None
) -> list[Change]:
    stmt = (
        sa.select(
            e.c.seq,
            e.c.space_id,
            e.c.case_id,
            e.c.kind,
            e.c.actor,
            e.c.event_time,
            c.c.number,
            c.c.status,
            c.c.priority,
            c.c.assignee,
        )
        .join_from(e, c, c.c.id == e.c.case_id)
        .where(e.c.seq > after)
        .order_by(e.c.seq)
        .limit(limit)
    )
    if space_id is not None:
        stmt = stmt.where(e.c.space_id == space_id)
    out = []
    for r in conn.execute(stmt):
        data = {
            "kind": r.kind,
            "case_id": r.case_id,
            "ref": None if r.number is None else f"{READABLE_PREFIX}-{r.number}",
            "actor": decode_actor(r.actor).label,
            "time": int(r.event_time),
            "status": int(r.status),
            "priority": int(r.priority),
            "assignee": r.assignee,
        }
        out.append(Change("case", int(r.seq), int(r.space_id), data))
    return out


def incident_changes(
    conn: sa.Connection, after: int, limit: int, space_id: int | None = None
) -> list[Change]:
    stmt = (
        sa.select(
            ie.c.seq,
            ie.c.space_id,
            ie.c.incident_id,
            ie.c.type,
            ie.c.by,
            ie.c.time,
            ie.c.status,
            ie.c.severity,
        )
        .where(ie.c.seq > after)
        .order_by(ie.c.seq)
        .limit(limit)
    )
    if space_id is not None:
        stmt = stmt.where(ie.c.space_id == space_id)
    return [
        Change(
            "incident",
            int(r.seq),
            int(r.space_id),
            {
                "type": int(r.type),
                "incident_id": r.incident_id,
                "by": r.by,
                "time": int(r.time),
                "status": int(r.status),
                "severity": int(r.severity),
            },
        )
        for r in conn.execute(stmt)
    ]
