"""One ingestion batch applied inside one transaction: each signal's firing found or recorded,
its incident opened, re-triggered, acknowledged or resolved, its case found by group or
opened, and an ``Outcome`` that says what happened and why (docs/INGEST.md).
"""

from __future__ import annotations

import dataclasses

from casekeeper.domain import incident_lifecycle as il
from casekeeper.domain import lifecycle
from casekeeper.domain import timeline as t
from casekeeper.domain.case_settings import CaseSettings, IndicatorPriority, SuppressionStrategy
from casekeeper.domain.enums import ActorKind, CaseStatus
from casekeeper.domain.events import Actor
from casekeeper.domain.ids import uuid7
from casekeeper.domain.incidents import (
    MAX_DESCRIPTION,
    MAX_NAME,
    AlertEvent,
    Incident,
    IncidentEvent,
    IncidentState,
    Originator,
)
from casekeeper.domain.lifecycle import Operation
from casekeeper.domain.model import KeyValue
from casekeeper.domain.signal_indicators import Seen
from casekeeper.domain.signal_rules import (
    SEVERITY_OF,
    Ruled,
    case_title,
    category_of,
    group_of,
    priority_of,
)
from casekeeper.domain.signals import (
    Action,
    Firing,
    Outcome,
    Signal,
    SignalBatch,
    SignalStatus,
    Source,
)
from casekeeper.domain.timeutil import to_rfc3339
from casekeeper.service.admin import NewCase, activate_in, build_case
from casekeeper.service.incident_effects import stamp
from casekeeper.service.signal_cases import CaseBook, CaseWork
from casekeeper.store.uow import UnitOfWork

A = Action
IC = t.IncidentChange
MAX_INCIDENT_LABEL = 4096


def sender_actor(batch: SignalBatch, fallback: Actor) -> Actor:
    """Who the case timeline names for what the signals did."""
    if batch.source is Source.ALERTMANAGER:
        return Actor(ActorKind.PROMETHEUS_ALERT_MANAGER, {"receiverName": batch.receiver or ""})
    if batch.source is Source.PAGERDUTY:
        return Actor(ActorKind.PAGER_DUTY, {"displayName": batch.sender or "Events API v2"})
    if batch.source is Source.HEARTBEAT:
        return Actor.system()
    return fallback


def _bounded(labels: dict[str, str] | object) -> dict[str, str]:
    assert isinstance(labels, dict)
    return {k[:MAX_INCIDENT_LABEL]: v[:MAX_INCIDENT_LABEL] for k, v in labels.items() if k}


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
    common case: Alertmanager repeats each group every group_interval), else None: then
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


class BatchRun:
    def __init__(
        self,
        uow: UnitOfWork,
        space_id: int,
        batch: SignalBatch,
        settings: CaseSettings,
        actor: Actor,
        now: int,
    ) -> None:
        self.uow = uow
        self.space_id = space_id
        self.batch = batch
        self.source = batch.source
        self.settings = settings
        self.rules = settings.rules
        self.sender = sender_actor(batch, actor)
        self.now = now
        self.book = CaseBook(uow, space_id, now)
        self.groups: dict[str, tuple[CaseWork, str]] = {}  # group key → its case this batch
        keys = [s.dedup_key for s in batch.signals]
        self.latest = uow.firings.latest_many(space_id, self.source, keys)
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

    def run(self) -> list[Outcome]:
        outcomes = [self.one(s) for s in self.batch.signals]
        self._flush()
        notes: list[t.SignalNote] = []
        if self.batch.truncated > 0:
            notes.append(
                t.SignalNote(
                    t.SignalTopic.TRUNCATED,
                    f"the sender left {self.batch.truncated} alert(s) out of a notification "
                    "(Alertmanager's max_alerts); they are not on this case until it sends them",
                )
            )
        if self.batch.note:
            notes.append(t.SignalNote(t.SignalTopic.RECONCILED, self.batch.note))
        self.book.finish(self.settings, self.sender, notes)
        return [self._numbered(o) for o in outcomes]

    def _numbered(self, o: Outcome) -> Outcome:
        """The outcome with the case's readable id as it is at the end of the batch."""
        work = self.book.work.get(o.case_id or "")
        if work is None or work.case.readable_id == o.case_readable_id:
            return o
        return dataclasses.replace(o, case_readable_id=work.case.readable_id)

    # -- one signal ------------------------------------------------------------------------

    def one(self, s: Signal) -> Outcome:
        heartbeat = self.rules.heartbeats.get(s.title)
        if heartbeat is not None and self.source is not Source.HEARTBEAT:
            self.uow.heartbeats.touch(self.space_id, s.title, heartbeat, self.now)
            return Outcome(s.dedup_key, A.IGNORED, f"heartbeat {s.title!r} heard: it opens no case")
        latest = self.latest.get(s.dedup_key)
        starts = s.starts_at
        if starts is None:
            if latest is not None and latest.is_open:
                starts = latest.starts_at
            elif s.status is SignalStatus.FIRING:
                starts = self.now
            else:
                return Outcome(
                    s.dedup_key, A.IGNORED,
                    f"no open firing of dedup key {s.dedup_key!r}: nothing to "
                    f"{s.status.value[:-1]}",
                )  # fmt: skip
        firing = latest if latest is not None and latest.starts_at == starts else None
        if firing is None and latest is not None and latest.starts_at > starts:
            firing = self._stored_firing(s.dedup_key, starts)
            if firing is None:
                return Outcome(
                    s.dedup_key, A.IGNORED,
                    f"stale: it started {to_rfc3339(starts)}, before the latest known firing "
                    f"({to_rfc3339(latest.starts_at)})",
                )  # fmt: skip
        priority, why = priority_of(s, self.rules)
        seen = Seen(
            s, self.source, starts, priority, self.batch.receiver, self.batch.external_url, self.now
        )
        if s.status is SignalStatus.RESOLVED:
            return self.resolve(seen, firing)
        if s.status is SignalStatus.ACKNOWLEDGED:
            return self.acknowledge(seen, firing)
        return self.fire(seen, firing, latest, why)

    def _firing(self, seen: Seen, status: SignalStatus, **more: object) -> Firing:
        s = seen.signal
        ends = s.ends_at if s.ends_at is not None else self.now
        return Firing(
            space_id=self.space_id, source=self.source, dedup_key=s.dedup_key,
            starts_at=seen.starts_at, status=status, last_seen=self.now,
            ends_at=ends if status is SignalStatus.RESOLVED else None,
            labels=dict(s.labels), group_key=s.group_key, receiver=self.batch.receiver,
            external_url=self.batch.external_url, **more,  # type: ignore[arg-type]
        )  # fmt: skip

    def _alert(self, seen: Seen, state: IncidentState, case_id: str) -> AlertEvent:
        s = seen.signal
        time = seen.starts_at
        if state is IncidentState.RESOLVED:
            time = s.ends_at if s.ends_at is not None else self.now
        return AlertEvent(
            case_id=case_id,
            alert_id=f"{self.source.value}:{s.dedup_key}",
            name=s.title[:MAX_NAME],
            state=state,
            cx_event_key=f"{self.source.value}:{s.dedup_key}@{seen.starts_at}:{state.name.lower()}",
            time=time,
            severity=SEVERITY_OF[seen.priority],
            description=(s.description or "")[:MAX_DESCRIPTION].strip() or None,
            contextual_labels=_bounded(dict(s.labels)),
            display_labels=_bounded(dict(s.annotations)),
            system_name=self.source.value,
        )

    def _outcome(
        self, seen: Seen, action: Action, reason: str, incident: Incident | None,
        work: CaseWork | None, *, group: Ruled | None = None, why: str | None = None,
        new_case: bool = False,
    ) -> Outcome:  # fmt: skip
        return Outcome(
            dedup_key=seen.signal.dedup_key,
            action=action,
            reason=reason,
            incident_id=incident.id if incident else None,
            case_id=work.case.id if work else None,
            case_readable_id=work.case.readable_id if work else None,
            new_case=new_case,
            group_key=group.value if group else None,
            priority=seen.priority.name,
            priority_reason=why,
        )

    # -- what the batch writes, collected and written together at its end -------------------

    def _stored_firing(self, dedup_key: str, starts: int) -> Firing | None:
        key = (dedup_key, starts)
        found = self.firings_new.get(key) or self.firings_changed.get(key)
        if found is not None:
            return found
        return self.uow.firings.get(self.space_id, self.source, dedup_key, starts)

    def _put_firing(self, f: Firing, *, new: bool) -> None:
        key = (f.dedup_key, f.starts_at)
        if new or key in self.firings_new:
            self.firings_new[key] = f
        else:
            self.firings_changed[key] = f
        known = self.latest.get(f.dedup_key)
        if known is None or f.starts_at >= known.starts_at:
            self.latest[f.dedup_key] = f

    def _write(self, old: Incident | None, change: il.IncidentChange, key: str) -> None:
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

    def _incident(self, incident_id: str) -> Incident | None:
        if incident_id in self.incidents_new:
            return self.incidents_new[incident_id]
        if incident_id in self.incidents_changed:
            return self.incidents_changed[incident_id][1]
        return self.uow.incidents.get(self.space_id, incident_id, for_update=True)

    def _flush(self) -> None:
        incidents = self.uow.incidents
        # Changes first: closing an alert's old incident frees its key for the new one.
        if not incidents.save_many(list(self.incidents_changed.values())):
            raise AssertionError("an incident changed while its row was locked")
        incidents.add_many(list(self.incidents_new.values()))
        incidents.add_events(self.incident_events)
        self.uow.firings.add_many(list(self.firings_new.values()))
        self.uow.firings.save_many(list(self.firings_changed.values()))

    # -- firing ----------------------------------------------------------------------------

    def fire(self, seen: Seen, firing: Firing | None, latest: Firing | None, why: str) -> Outcome:
        s = seen.signal
        if firing is not None:
            if firing.status is SignalStatus.RESOLVED:
                return Outcome(
                    s.dedup_key, A.IGNORED,
                    "this firing is resolved already (its resolution arrived first, or this is "
                    "a late re-send)", firing.incident_id, firing.case_id,
                )  # fmt: skip
            return resent(firing)
        if latest is not None and latest.is_open:  # a new start without a resolve between
            ended = dataclasses.replace(
                latest, status=SignalStatus.RESOLVED, ends_at=seen.starts_at
            )
            self._put_firing(ended, new=False)
        refusal = self._refused(seen.priority, s)
        if refusal is not None:
            self._put_firing(self._firing(seen, SignalStatus.FIRING), new=True)
            return Outcome(s.dedup_key, A.FILTERED, refusal, priority=seen.priority.name,
                           priority_reason=why)  # fmt: skip
        corr = f"{self.source.value}:{s.dedup_key}"
        incident = self.open_incidents.get(corr)
        if incident is not None:
            rejoined = self._refire(seen, incident, why)
            if rejoined is not None:
                return rejoined
        group = group_of(s, self.source, self.rules)
        work, joined, created = self._case_for(group, seen)
        change = il.open_incident(
            self._alert(seen, IncidentState.TRIGGERED, work.case.id),
            incident_id=uuid7(self.now), space_id=self.space_id,
        )  # fmt: skip
        self._write(None, change, change.incident.last_state_update_key)
        work.entries.append((t.IncidentChanged(change.incident.id, IC.OPENED), self.sender))
        work.indicators().apply(seen)
        firing = self._firing(
            seen, SignalStatus.FIRING, incident_id=change.incident.id, case_id=work.case.id
        )
        self._put_firing(firing, new=True)
        return self._outcome(
            seen, A.OPENED, f"a new incident; {joined}", change.incident, work,
            group=group, why=why, new_case=created,
        )  # fmt: skip

    def _refused(self, priority: IndicatorPriority, s: Signal) -> str | None:
        if not self.settings.indicators_enabled:
            return "the space's case settings turn signal processing off"
        if not self.settings.admits(priority, s.labels):
            return (
                "no indicator filter of the space's case settings matches its priority and labels"
            )
        if s.silenced and self.settings.lifecycle.suppression_strategy is not (
            SuppressionStrategy.CREATE_CASE
        ):
            return "it is silenced at its source and the space ignores suppressed alerts"
        return None

    def _refire(self, seen: Seen, incident: Incident, why: str) -> Outcome | None:
        """The alert's last incident is still open: it fires again on it, on its case if that
        case is open or resolved within the resolution snooze period (flapping). Otherwise
        that incident is closed and None returned: a new one opens."""
        work = self.book.get(incident.case_id)
        snooze = self.settings.lifecycle.resolution_snooze_period
        case = work.case if work else None
        flapping = (
            case is not None
            and case.status is CaseStatus.RESOLVED
            and case.end_time is not None
            and self.now - case.end_time <= snooze
        )
        if work is None or case is None or not (case.is_open or flapping):
            change = il.close(incident, "casekeeper", now=self.now)
            self._write(incident, change, incident.last_state_update_key)
            return None
        change = il.record_alert(incident, self._alert(seen, IncidentState.TRIGGERED, case.id))
        self._write(incident, change, change.incident.last_state_update_key)
        was_resolved = incident.state is IncidentState.RESOLVED
        if was_resolved:
            work.entries.append((t.IncidentChanged(incident.id, IC.TRIGGERED), self.sender))
        if flapping:
            work.entries.append((
                t.SignalNote(
                    t.SignalTopic.REFIRED,
                    f"{seen.signal.title} fired again {to_rfc3339(seen.starts_at)}, within the "
                    "resolution snooze period: recorded here instead of opening a new case",
                ),
                self.sender,
            ))  # fmt: skip
        work.indicators().apply(seen)
        firing = self._firing(seen, SignalStatus.FIRING, incident_id=incident.id, case_id=case.id)
        self._put_firing(firing, new=True)
        reason = (
            "fired again within the resolution snooze period: its resolved case keeps it"
            if flapping
            else "fired again: its incident is still open on an open case"
        )
        return self._outcome(
            seen, A.RETRIGGERED if was_resolved else A.UNCHANGED, reason, change.incident, work,
            why=why,
        )  # fmt: skip

    def _case_for(self, group: Ruled, seen: Seen) -> tuple[CaseWork, str, bool]:
        """The open case of the group, or a new one; and a sentence saying which."""
        cached = self.groups.get(group.value)
        if cached is not None and cached[0].case.is_open:
            return cached[0], cached[1], False
        found = self._case_of_group(group, seen)
        self.groups[group.value] = (
            found[0],
            f"joined {found[0].case.readable_id or 'a pending case'} of its group ({group.reason})",
        )
        return found

    def _case_of_group(self, group: Ruled, seen: Seen) -> tuple[CaseWork, str, bool]:
        bound = self.uow.signal_groups.case_of(self.space_id, group.value, for_update=True)
        if bound is not None:
            work = self.book.get(bound)
            if work is not None and work.case.is_open:
                name = work.case.readable_id or "a pending case"
                return work, f"joined {name} of its group ({group.reason})", False
        s = seen.signal
        category, _ = category_of(s, self.rules)
        groupings = [KeyValue(k, v) for k, v in sorted(s.group_labels.items()) if k and v]
        if not groupings and group.value.startswith("labels:"):
            groupings = [KeyValue(n, s.labels[n]) for n in self.rules.grouping_labels]
        case = build_case(
            NewCase(
                title=case_title(s), category=category,
                priority=seen.priority.case_priority, groupings=groupings[:1000],
                indicators={}, pending=True,
            ),
            self.space_id, self.now,
        )  # fmt: skip
        entries: list[tuple[t.TimelineEvent, Actor]] = [
            (t.Created(case.priority.system), self.sender)
        ]
        if self.settings.lifecycle.suppression_period <= 0:
            case, more = activate_in(self.uow, case, self.now)
            case = dataclasses.replace(case, version=1)
            entries += [(e, Actor.system()) for e in more]
        work = self.book.add(case, entries)
        self.uow.signal_groups.bind(self.space_id, group.value, case.id, existed=bound is not None)
        return work, f"opened a new case for its group ({group.reason})", True

    # -- resolved and acknowledged -----------------------------------------------------------

    def resolve(self, seen: Seen, firing: Firing | None) -> Outcome:
        s = seen.signal
        if firing is None:
            self._put_firing(self._firing(seen, SignalStatus.RESOLVED), new=True)
            return Outcome(
                s.dedup_key, A.IGNORED,
                "resolved before it was seen firing: nothing to resolve, and its firing, if "
                "it arrives late, is ignored",
            )  # fmt: skip
        if firing.status is SignalStatus.RESOLVED:
            return resent(firing)
        ends = s.ends_at if s.ends_at is not None else self.now
        resolved = dataclasses.replace(
            firing, status=SignalStatus.RESOLVED, ends_at=ends, last_seen=self.now
        )
        self._put_firing(resolved, new=False)
        if firing.incident_id is None or firing.case_id is None:
            return Outcome(s.dedup_key, A.RESOLVED, "resolved; it was kept out of cases")
        incident = self._incident(firing.incident_id)
        work = self.book.get(firing.case_id)
        if (
            incident is not None
            and not incident.is_closed
            and (incident.state is IncidentState.TRIGGERED)
        ):
            change = il.record_alert(
                incident, self._alert(seen, IncidentState.RESOLVED, firing.case_id)
            )
            self._write(incident, change, change.incident.last_state_update_key)
            incident = change.incident
            if work is not None:
                work.entries.append((t.IncidentChanged(incident.id, IC.RESOLVED), self.sender))
        if work is not None and work.case.status is not CaseStatus.CLOSED:  # closed: frozen
            work.indicators().apply(seen)
            work.resolved_here = True
        return self._outcome(seen, A.RESOLVED, "resolved its incident", incident, work)

    def acknowledge(self, seen: Seen, firing: Firing | None) -> Outcome:
        s = seen.signal
        if firing is None or not firing.is_open or firing.incident_id is None:
            return Outcome(s.dedup_key, A.IGNORED, "no open incident of it to acknowledge")
        if firing.status is SignalStatus.ACKNOWLEDGED:
            return resent(firing)
        acked = dataclasses.replace(firing, status=SignalStatus.ACKNOWLEDGED, last_seen=self.now)
        self._put_firing(acked, new=False)
        incident = self._incident(firing.incident_id)
        work = self.book.get(firing.case_id) if firing.case_id else None
        by = self.sender.label
        if incident is not None and not incident.is_closed and incident.status.name == "TRIGGERED":
            change = il.acknowledge(incident, by)
            self._write(incident, change, incident.last_state_update_key)
            incident = change.incident
            if work is not None:
                work.entries.append(
                    (t.IncidentChanged(incident.id, IC.ACKNOWLEDGED, by), self.sender)
                )
        if work is not None and work.case.status is CaseStatus.ACTIVE:
            change_case = lifecycle.transition(
                work.case, Operation.ACKNOWLEDGE, actor_kind=self.sender.kind, now=self.now
            )
            work.case = change_case.case
            work.entries += [(e, self.sender) for e in change_case.events]
        return self._outcome(seen, A.ACKNOWLEDGED, "acknowledged at its source", incident, work)
