"""How a firing ends or is taken: the source resolving or acknowledging an alert."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from casekeeper.domain import incident_lifecycle as il
from casekeeper.domain import lifecycle
from casekeeper.domain import timeline as t
from casekeeper.domain.enums import CaseStatus
from casekeeper.domain.incidents import IncidentState, IncidentStatus
from casekeeper.domain.lifecycle import Operation
from casekeeper.domain.signal_indicators import Seen
from casekeeper.domain.signals import Action, Firing, Outcome, SignalStatus
from casekeeper.service.signal_writes import resent

if TYPE_CHECKING:
    from casekeeper.service.signal_run import BatchRun

A = Action
IC = t.IncidentChange


def resolve(run: BatchRun, seen: Seen, firing: Firing | None) -> Outcome:
    """The source says the alert stopped: its firing and incident resolve, and its case
    learns it (the case resolves at the batch's end if every indicator has)."""
    s = seen.signal
    if firing is None:
        run.w.put_firing(run._firing(seen, SignalStatus.RESOLVED), new=True)
        return Outcome(
            s.dedup_key, A.IGNORED,
            "resolved before it was seen firing: nothing to resolve, and its firing, if "
            "it arrives late, is ignored",
        )  # fmt: skip
    if firing.status is SignalStatus.RESOLVED:
        return resent(firing)
    ends = s.ends_at if s.ends_at is not None else run.now
    resolved = dataclasses.replace(
        firing, status=SignalStatus.RESOLVED, ends_at=ends, last_seen=run.now,
        reconciled=run.batch.reconciliation,
    )  # fmt: skip
    run.w.put_firing(resolved, new=False)
    if firing.incident_id is None or firing.case_id is None:
        return Outcome(s.dedup_key, A.RESOLVED, "resolved; it was kept out of cases")
    incident = run.w.incident(firing.incident_id)
    work = run.book.get(firing.case_id)
    if (
        incident is not None
        and not incident.is_closed
        and (incident.state is IncidentState.TRIGGERED)
    ):
        change = il.record_alert(incident, run._alert(seen, IncidentState.RESOLVED, firing.case_id))
        run.w.write(incident, change, change.incident.last_state_update_key)
        incident = change.incident
        if work is not None:
            work.entries.append((t.IncidentChanged(incident.id, IC.RESOLVED), run.sender))
    if work is not None and work.case.status is not CaseStatus.CLOSED:  # closed: frozen
        work.indicators().apply(seen)
        work.resolved_here = True
    return run._outcome(seen, A.RESOLVED, "resolved its incident", incident, work)


def acknowledge(run: BatchRun, seen: Seen, firing: Firing | None) -> Outcome:
    """The source says someone has it (PagerDuty's acknowledge): the incident and an active
    case are acknowledged by the sender."""
    s = seen.signal
    if firing is None or not firing.is_open or firing.incident_id is None:
        return Outcome(s.dedup_key, A.IGNORED, "no open incident of it to acknowledge")
    if firing.status is SignalStatus.ACKNOWLEDGED:
        return resent(firing)
    acked = dataclasses.replace(firing, status=SignalStatus.ACKNOWLEDGED, last_seen=run.now)
    run.w.put_firing(acked, new=False)
    incident = run.w.incident(firing.incident_id)
    work = run.book.get(firing.case_id) if firing.case_id else None
    by = run.sender.label
    if (
        incident is not None
        and not incident.is_closed
        and incident.status is IncidentStatus.TRIGGERED
    ):
        change = il.acknowledge(incident, by)
        run.w.write(incident, change, incident.last_state_update_key)
        incident = change.incident
        if work is not None:
            work.entries.append((t.IncidentChanged(incident.id, IC.ACKNOWLEDGED, by), run.sender))
    if work is not None and work.case.status is CaseStatus.ACTIVE:
        change_case = lifecycle.transition(
            work.case, Operation.ACKNOWLEDGE, actor_kind=run.sender.kind, now=run.now
        )
        work.case = change_case.case
        work.entries += [(e, run.sender) for e in change_case.events]
    return run._outcome(seen, A.ACKNOWLEDGED, "acknowledged at its source", incident, work)
