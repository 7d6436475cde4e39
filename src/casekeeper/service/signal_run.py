"""One ingestion batch applied inside one transaction: each signal's firing found or recorded,
its incident opened, re-triggered, acknowledged or resolved, its case found by group or
opened, and an ``Outcome`` that says what happened and why (docs/INGEST.md).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from casekeeper.domain import incident_lifecycle as il
from casekeeper.domain import lifecycle
from casekeeper.domain import timeline as t
from casekeeper.domain.case_settings import CaseSettings, IndicatorPriority, SuppressionStrategy
from casekeeper.domain.enums import ActorKind, CaseStatus, ResolverKind
from casekeeper.domain.events import Actor
from casekeeper.domain.ids import uuid7
from casekeeper.domain.incidents import (
    MAX_DESCRIPTION,
    MAX_NAME,
    AlertEvent,
    Incident,
    IncidentState,
)
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
from casekeeper.service.signal_cases import CaseBook, CaseWork
from casekeeper.service.signal_ends import acknowledge, resolve
from casekeeper.service.signal_writes import BatchWrites, resent, sender_actor
from casekeeper.store.uow import UnitOfWork

A = Action
IC = t.IncidentChange
MAX_INCIDENT_LABEL = 4096


def _bounded(labels: Mapping[str, str]) -> dict[str, str]:
    return {k[:MAX_INCIDENT_LABEL]: v[:MAX_INCIDENT_LABEL] for k, v in labels.items() if k}


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
        self.w = BatchWrites(uow, space_id, batch, now)

    def run(self) -> list[Outcome]:
        outcomes = [self.one(s) for s in self.batch.signals]
        self.w.flush()
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
        latest = self.w.latest.get(s.dedup_key)
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
            firing = self.w.stored_firing(s.dedup_key, starts)
            if firing is None:
                return Outcome(
                    s.dedup_key, A.IGNORED,
                    f"stale: it started {to_rfc3339(starts)}, before the latest known firing "
                    f"({to_rfc3339(latest.starts_at)})",
                )  # fmt: skip
        priority, why = priority_of(s, self.rules)
        seen = Seen(
            s, self.source, starts, priority, self.batch.receiver, self.batch.external_url,
            self.now, why,
        )  # fmt: skip
        if s.status is SignalStatus.RESOLVED:
            return resolve(self, seen, firing)
        if s.status is SignalStatus.ACKNOWLEDGED:
            return acknowledge(self, seen, firing)
        return self.fire(seen, firing, latest, why)

    def _firing(self, seen: Seen, status: SignalStatus, **more: object) -> Firing:
        s = seen.signal
        ends = s.ends_at if s.ends_at is not None else self.now
        return Firing(
            space_id=self.space_id, source=self.source, dedup_key=s.dedup_key,
            starts_at=seen.starts_at, status=status, last_seen=self.now,
            ends_at=ends if status is SignalStatus.RESOLVED else None,
            labels=dict(s.labels), group_key=s.group_key, receiver=self.batch.receiver,
            external_url=self.batch.external_url, priority_reason=seen.reason[:1024] or None,
            **more,  # type: ignore[arg-type]
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
            contextual_labels=_bounded(s.labels),
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

    # -- firing ----------------------------------------------------------------------------

    def fire(self, seen: Seen, firing: Firing | None, latest: Firing | None, why: str) -> Outcome:
        s = seen.signal
        if firing is not None:
            if firing.status is SignalStatus.RESOLVED and firing.reconciled:
                return self._unreconciled(seen, firing, why)
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
            self.w.put_firing(ended, new=False)
        refusal = self._refused(seen.priority, s)
        if refusal is not None:
            self.w.put_firing(self._firing(seen, SignalStatus.FIRING), new=True)
            return Outcome(s.dedup_key, A.FILTERED, refusal, priority=seen.priority.name,
                           priority_reason=why)  # fmt: skip
        corr = f"{self.source.value}:{s.dedup_key}"
        incident = self.w.open_incidents.get(corr)
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
        self.w.write(None, change, change.incident.last_state_update_key)
        work.entries.append((t.IncidentChanged(change.incident.id, IC.OPENED), self.sender))
        work.indicators().apply(seen)
        firing = self._firing(
            seen, SignalStatus.FIRING, incident_id=change.incident.id, case_id=work.case.id
        )
        self.w.put_firing(firing, new=True)
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
            self.w.write(incident, change, incident.last_state_update_key)
            return None
        change = il.record_alert(incident, self._alert(seen, IncidentState.TRIGGERED, case.id))
        self.w.write(incident, change, change.incident.last_state_update_key)
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
        self.w.put_firing(firing, new=True)
        reason = (
            "fired again within the resolution snooze period: its resolved case keeps it"
            if flapping
            else "fired again: its incident is still open on an open case"
        )
        return self._outcome(
            seen, A.RETRIGGERED if was_resolved else A.UNCHANGED, reason, change.incident, work,
            why=why,
        )  # fmt: skip

    def _unreconciled(self, seen: Seen, firing: Firing, why: str) -> Outcome:
        """Reconciliation resolved this firing (its source had stopped reporting it: a
        silence, a lost notification), and the source says it fires: it does."""
        s = seen.signal
        incident = self.w.incident(firing.incident_id) if firing.incident_id else None
        work = self.book.get(firing.case_id) if firing.case_id else None
        if (
            incident is None
            or incident.is_closed
            or work is None
            or not (work.case.is_open or work.case.status is CaseStatus.RESOLVED)
        ):
            return Outcome(
                s.dedup_key, A.IGNORED,
                "reconciliation resolved it and its case is closed since; a new firing of it "
                "opens a new case", firing.incident_id, firing.case_id,
            )  # fmt: skip
        change = il.record_alert(incident, self._alert(seen, IncidentState.TRIGGERED, work.case.id))
        self.w.write(incident, change, change.incident.last_state_update_key)
        note = t.SignalNote(
            t.SignalTopic.RECONCILED,
            f"{s.title} fires again: reconciliation had resolved it, but "
            f"{self.source.value} reports it firing (a silence ended, or it was delayed)",
        )
        work.entries += [
            (t.IncidentChanged(incident.id, IC.TRIGGERED), self.sender),
            (note, self.sender),
        ]
        resolution = work.case.resolution
        if (
            work.case.status is CaseStatus.RESOLVED
            and resolution is not None
            and resolution.resolved_by in _AUTOMATIC
        ):  # the resolution followed from the reconciliation's: it was wrong, undo it
            reopened = lifecycle.transition(
                work.case, lifecycle.Operation.REOPEN, actor_kind=ActorKind.SYSTEM, now=self.now
            )
            work.case = reopened.case
            work.entries += [(e, Actor.system()) for e in reopened.events]
        work.indicators().apply(seen)
        back = dataclasses.replace(
            firing, status=SignalStatus.FIRING, ends_at=None, reconciled=False,
            last_seen=self.now,
        )  # fmt: skip
        self.w.put_firing(back, new=False)
        reason = "fires again after reconciliation resolved it: its incident is triggered again"
        return self._outcome(seen, A.RETRIGGERED, reason, change.incident, work, why=why)

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


# Resolutions nobody chose: a firing that comes back after the reconciliation undoes them.
_AUTOMATIC = frozenset({ResolverKind.SYSTEM, ResolverKind.PROMETHEUS_ALERT_MANAGER})
