"""What the database holds after a fault, read with SQL of its own (not through the server):
every case with its timeline, and the outbox beside it."""

from __future__ import annotations

import collections

import sqlalchemy as sa

from casekeeper.domain.enums import CaseStatus
from casekeeper.store.engine import normalize_url
from casekeeper.store.outbox import CASE_EVENT_TOPIC
from casekeeper.store.schema import case, case_event, outbox_message
from tests.faults.load import Stored, event_token


def _engine(url: str) -> sa.Engine:
    return sa.create_engine(normalize_url(url), poolclass=sa.NullPool)


def read_cases(url: str) -> dict[str, Stored]:
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(case.c.id, case.c.title, case.c.version, case.c.status))
            out = {
                r.id: Stored(r.title, r.version, f"CASE_STATUS_{CaseStatus(r.status).name}", [], [])
                for r in rows
            }
            events = conn.execute(
                sa.select(case_event.c.case_id, case_event.c.event_id, case_event.c.kind,
                          case_event.c.data).order_by(case_event.c.seq)
            )  # fmt: skip
            for e in events:
                stored = out[e.case_id]
                stored.events.append((e.kind, event_token(e.kind, e.data)))
                stored.event_ids.append(e.event_id)
                stored.data.append(e.data)
        return out
    finally:
        engine.dispose()


def outbox_problems(url: str, stored: dict[str, Stored]) -> list[str]:
    """Every stored event has exactly one outbox message, and every message its event (the
    outbox is written in the event's own transaction: store/outbox.py)."""
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            payloads = conn.execute(
                sa.select(outbox_message.c.payload).where(
                    outbox_message.c.topic == CASE_EVENT_TOPIC
                )
            ).scalars()
            carried = collections.Counter(p["eventId"] for p in payloads)
    finally:
        engine.dispose()
    events = {event_id for s in stored.values() for event_id in s.event_ids}
    problems = [f"{n} outbox messages for event {e}" for e, n in carried.items() if n > 1]
    if missing := events - carried.keys():
        problems.append(f"{len(missing)} events without an outbox message")
    if orphans := carried.keys() - events:
        problems.append(f"{len(orphans)} outbox messages without their event")
    return problems


def count_events(url: str) -> int:
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            count = sa.select(sa.func.count()).select_from(case_event)
            return int(conn.execute(count).scalar_one())
    finally:
        engine.dispose()
