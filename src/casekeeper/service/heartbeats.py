"""Heartbeats watched: a signal that must keep arriving (Prometheus' always-firing ``Watchdog``)
opens a case when it stops, and resolves it when it comes back (docs/LIFECYCLE_TIMERS.md).

Ingestion records when each heartbeat named in a space's settings (``rules.heartbeats``) was
last heard (the ``heartbeat`` table). Each tick compares that with the clock and tells
ingestion what it sees, as casekeeper's own ``HEARTBEAT`` signals: a firing when one is missing
and nothing says so yet, a resolution when it is back and its firing is still open. It is
level-triggered and idempotent: the firing of one outage starts when the heartbeat fell due
(``last seen + interval``), the same instant for every process that notices, so ingestion's
identity of a firing (source, dedup key, start) makes a second notice change nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from casekeeper.domain.case_settings import CaseSettings
from casekeeper.domain.signals import Signal, SignalBatch, SignalStatus, Source
from casekeeper.domain.timeutil import to_rfc3339
from casekeeper.service.auth import Principal
from casekeeper.service.context import ServiceContext
from casekeeper.service.permissions import Permission

# Ingestion's entry point (SignalService.ingest), as the scheduler calls it.
Ingest = Callable[[Principal, SignalBatch], object]


def dedup_key(name: str) -> str:
    """The heartbeat's own name: its source (``heartbeat``) already says what it is."""
    return name


def title(name: str) -> str:
    return f"Heartbeat {name} stopped arriving"


@dataclass(frozen=True, slots=True)
class Moved:
    fired: int = 0
    cleared: int = 0


def scheduler_principal(space_id: int, space_name: str) -> Principal:
    """Who the scheduler is when it hands ingestion a signal: it may only send signals, and
    the timeline names the actor ``system`` for heartbeat signals."""
    return Principal(
        key_id="system:scheduler",
        key_name="casekeeper scheduler",
        space_id=space_id,
        space_name=space_name,
        permissions=frozenset({Permission.SIGNALS_WRITE}),
    )


def check(ctx: ServiceContext, ingest: Ingest, settings: CaseSettings, now: int) -> Moved:
    """Fire or clear the space's heartbeat signals as they stand at ``now``."""
    space_id = settings.space_id
    with ctx.db.reader() as uow:
        beats = uow.heartbeats.all([space_id])
        if not beats:
            return Moved()
        space_name = uow.spaces.name_of(space_id)
        latest = {
            name: uow.firings.latest(space_id, Source.HEARTBEAT, dedup_key(name))
            for _, name, _, _ in beats
        }
    watched = settings.rules.heartbeats
    fire: list[Signal] = []
    clear: list[Signal] = []
    for _, name, interval, last_seen in beats:
        firing = latest[name]
        is_open = firing is not None and firing.is_open
        # a heartbeat dropped from the settings is no longer missed
        missing = name in watched and last_seen + interval <= now
        if missing and not is_open:
            fire.append(
                Signal(
                    dedup_key=dedup_key(name),
                    status=SignalStatus.FIRING,
                    title=title(name),
                    labels={"heartbeat": name},
                    severity="critical",
                    starts_at=last_seen + interval,
                    description=(
                        f"{name} was last heard {to_rfc3339(last_seen)}; it must arrive at "
                        f"least every {interval // 1_000_000} s"
                    ),
                )
            )
        elif not missing and is_open and firing is not None:
            clear.append(
                Signal(
                    dedup_key=dedup_key(name),
                    status=SignalStatus.RESOLVED,
                    title=title(name),
                    labels={"heartbeat": name},
                    severity="critical",
                    starts_at=firing.starts_at,
                    ends_at=max(last_seen, firing.starts_at),
                )
            )
    signals = tuple(fire + clear)
    if signals:
        ingest(scheduler_principal(space_id, space_name), SignalBatch(Source.HEARTBEAT, signals))
    return Moved(len(fire), len(clear))
