"""What every service needs: the database, the clock, settings."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from casekeeper.domain.events import Actor, CaseEvent, EventData
from casekeeper.domain.ids import uuid7
from casekeeper.domain.model import Case
from casekeeper.domain.timeutil import now_us
from casekeeper.store.uow import Database, UnitOfWork


@dataclass(frozen=True, slots=True)
class ServiceContext:
    db: Database
    clock: Callable[[], int] = now_us
    ui_base_url: str = "http://127.0.0.1:8080"


def new_events(
    case: Case, payloads: Sequence[EventData], actor: Actor, now: int, event_time: int | None = None
) -> list[CaseEvent]:
    return [
        CaseEvent(
            event_id=uuid7(now),
            case_id=case.id,
            space_id=case.space_id,
            data=payload,
            actor=actor,
            create_time=now,
            event_time=event_time if event_time is not None else now,
        )
        for payload in payloads
    ]


def record(uow: UnitOfWork, events: Sequence[CaseEvent], now: int) -> None:
    """Append timeline events and their outbox messages, in the caller's transaction."""
    uow.events.add_many(events)
    uow.outbox.add_case_events(events, now)
