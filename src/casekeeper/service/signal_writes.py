"""What one ingestion batch writes, collected as its signals are applied and written together
at its end (one executemany per table), and the read-only fast path for batches of re-sends.
"""

from __future__ import annotations

import dataclasses

from casekeeper.domain import incident_lifecycle as il
from casekeeper.domain.case_settings import CaseSettings
from casekeeper.domain.enums import ActorKind
from casekeeper.domain.events import Actor
from casekeeper.domain.incidents import Incident, IncidentEvent, Originator
from casekeeper.domain.signals import Action, Firing, Outcome, SignalBatch, SignalStatus, Source
from casekeeper.service.incident_effects import stamp
from casekeeper.store.uow import UnitOfWork

A = Action


def sender_actor(batch: SignalBatch, fallback: Actor) -> Actor:
    """Who the case timeline names for what the signals did."""
    if batch.source is Source.ALERTMANAGER:
        return Actor(ActorKind.PROMETHEUS_ALERT_MANAGER, {"receiverName": batch.receiver or ""})
    if batch.source is Source.PAGERDUTY:
        return Actor(ActorKind.PAGER_DUTY, {"displayName": batch.sender or "Events API v2"})
    if batch.source is Source.HEARTBEAT:
        return Actor.system()
    return fallback


_RESENT = {
    SignalStatus.FIRING: "already known: a re-send of a firing it has",
    SignalStatus.ACKNOWLEDGED: "already acknowledged",
    SignalStatus.RESOLVED: "already resolved",
}


def resent(firing: Firing) -> Outcome:
    """A signal that says what its firing already says (the case's readable id is not
    looked up: a re-send reads nothing but its firing)."""
    return Outcome(
        firing.dedup_key, A.UNCHANGED, _RESENT[firing.status], firing.incident_id, firing.case_id
    )


def only_resends(
    batch: SignalBatch, settings: CaseSettings, latest: dict[str, Firing]
) -> list[Outcome] | None:
    """The outcomes when every signal of ``batch`` repeats what its firing already says (the
    common case: Alertmanager re-sends an unchanged group every repeat_interval, and every
    alert of a group each time the group changes), else None: then
    nothing needs writing, and the batch is answered from a read."""
    out = []
    for s in batch.signals:
        f = latest.get(s.dedup_key)
        if f is None or s.title in settings.rules.heartbeats:
            return None
        same_start = f.starts_at == s.starts_at or (s.starts_at is None and f.is_open)
        if not same_start:
            return None
        if s.status is SignalStatus.FIRING and f.status is SignalStatus.RESOLVED:
            return None  # ignored, not unchanged: the full path says why
        if s.status is not SignalStatus.FIRING and s.status is not f.status:
            return None
        out.append(resent(f))
    return out


class BatchWrites:
    """The batch's firings and incidents: read once at its start (each signal's latest
    firing, the open incidents of the alerts that fire anew), then kept here as they change."""

    def __init__(self, uow: UnitOfWork, space_id: int, batch: SignalBatch, now: int) -> None:
        self.uow = uow
        self.space_id = space_id
        self.source = batch.source
        self.now = now
        keys = [s.dedup_key for s in batch.signals]
        # Locked (PostgreSQL): a concurrent batch about the same alerts waits, then reads what
        # this one wrote, instead of deciding from the same stale row.
        self.latest = uow.firings.latest_many(space_id, self.source, keys, for_update=True)
        self.firings_new: dict[tuple[str, int], Firing] = {}
        self.firings_changed: dict[tuple[str, int], Firing] = {}
        fresh = [
            f"{self.source.value}:{s.dedup_key}"
            for s in batch.signals
            if s.status is SignalStatus.FIRING
            and ((f := self.latest.get(s.dedup_key)) is None or f.starts_at != s.starts_at)
        ]
        self.open_incidents = uow.incidents.open_for_many(space_id, fresh) if fresh else {}
        self.incidents_new: dict[str, Incident] = {}
        self.incidents_changed: dict[str, tuple[Incident, Incident]] = {}
        self.incident_events: list[IncidentEvent] = []

    def stored_firing(self, dedup_key: str, starts: int) -> Firing | None:
        key = (dedup_key, starts)
        found = self.firings_new.get(key) or self.firings_changed.get(key)
        if found is not None:
            return found
        return self.uow.firings.get(self.space_id, self.source, dedup_key, starts, for_update=True)

    def put_firing(self, f: Firing, *, new: bool) -> None:
        key = (f.dedup_key, f.starts_at)
        if new or key in self.firings_new:
            self.firings_new[key] = f
        else:
            self.firings_changed[key] = f
        known = self.latest.get(f.dedup_key)
        if known is None or f.starts_at >= known.starts_at:
            self.latest[f.dedup_key] = f

    def write(self, old: Incident | None, change: il.IncidentChange, key: str) -> None:
        new = change.incident
        if old is None or old.id in self.incidents_new:
            self.incidents_new[new.id] = new
        elif old.id in self.incidents_changed:
            first = self.incidents_changed[old.id][0]
            self.incidents_changed[old.id] = (
                first,
                dataclasses.replace(new, version=first.version + 1),
            )
        else:
            self.incidents_changed[old.id] = (old, new)
        if new.is_closed:
            self.open_incidents.pop(new.correlation_key, None)
        else:
            self.open_incidents[new.correlation_key] = new
        self.incident_events += stamp(
            change, originator=Originator.OPERATIONAL, by=self.source.value, now=self.now, key=key
        )

    def incident(self, incident_id: str) -> Incident | None:
        if incident_id in self.incidents_new:
            return self.incidents_new[incident_id]
        if incident_id in self.incidents_changed:
            return self.incidents_changed[incident_id][1]
        return self.uow.incidents.get(self.space_id, incident_id, for_update=True)

    def flush(self) -> None:
        incidents = self.uow.incidents
        # Changes first: closing an alert's old incident frees its key for the new one.
        if not incidents.save_many(list(self.incidents_changed.values())):
            raise AssertionError("an incident changed while its row was locked")
        incidents.add_many(list(self.incidents_new.values()))
        incidents.add_events(self.incident_events)
        self.uow.firings.add_many(list(self.firings_new.values()))
        self.uow.firings.save_many(list(self.firings_changed.values()))
