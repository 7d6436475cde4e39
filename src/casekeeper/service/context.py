"""What every service needs: the database, the clock, settings."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from casekeeper.domain.events import Actor, CaseEvent
from casekeeper.domain.ids import uuid7
from casekeeper.domain.model import Case, CaseRef
from casekeeper.domain.timeline import TimelineEvent
from casekeeper.domain.timeutil import now_us
from casekeeper.store.uow import Database, UnitOfWork


@dataclass(frozen=True, slots=True)
class ServiceContext:
    db: Database
    clock: Callable[[], int] = now_us
    ui_base_url: str = "http://127.0.0.1:8080"


def new_events(
    case: Case,
    payloads: Sequence[TimelineEvent],
    actor: Actor,
    now: int,
    event_time: int | None = None,
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


def locked_case(uow: UnitOfWork, space_id: int, ref: CaseRef) -> Case:
    """The case for a change, its row locked until the transaction ends (``FOR UPDATE`` on
    PostgreSQL; on SQLite the writer already holds the database lock). Every single-case write
    reads through here, so its save cannot lose a race: a concurrent change waits instead of
    failing (comments used to fail a quarter of the time under two processes)."""
    return uow.cases.require(space_id, ref, for_update=True)


def save_locked(uow: UnitOfWork, old: Case, new: Case) -> None:
    """Write ``new`` over ``old``, read by ``locked_case`` in this transaction."""
    if not uow.cases.save(old, new):
        raise AssertionError(f"case {old.id} changed while its row was locked")
