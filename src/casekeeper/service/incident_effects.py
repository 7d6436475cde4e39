"""How incidents and their cases move together (docs/INCIDENTS.md, "Cases and incidents"):

- a person's change to an incident (acknowledge, assign, unassign, resolve, close) and an
  incident opening or re-triggering is an ``incidentChanged`` entry on its case's timeline,
  and a change to the case (its update time and version move);
- closing a case closes its open incidents, each with a ``CLOSE`` event by whoever closed it;
- an alert's incidents keep the case's alert indicator for that alert in step (``indicators``).

All of it runs in the caller's transaction: nothing here commits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence

from casekeeper.domain import incident_lifecycle as il
from casekeeper.domain import lifecycle
from casekeeper.domain import timeline as t
from casekeeper.domain.enums import CaseStatus
from casekeeper.domain.events import Actor
from casekeeper.domain.ids import uuid7
from casekeeper.domain.incidents import Incident, IncidentEvent, Originator
from casekeeper.domain.model import Case, CaseRef
from casekeeper.service.context import new_events, record
from casekeeper.store.uow import UnitOfWork


def stamp(
    change: il.IncidentChange, *, originator: Originator, by: str, now: int, key: str | None = None
) -> list[IncidentEvent]:
    """The change's events as history rows, each with the incident as it is after it."""
    x = change.incident
    return [
        IncidentEvent(
            id=uuid7(now),
            incident_id=x.id,
            space_id=x.space_id,
            payload=payload,
            originator=originator,
            by=by,
            time=now,
            cx_event_key=key if key is not None else x.last_state_update_key,
            severity=x.severity,
            state=x.state,
            status=x.status,
            is_muted=x.is_muted,
        )
        for payload in change.events
    ]


def on_cases(
    uow: UnitOfWork,
    space_id: int,
    entries: Sequence[tuple[str, t.IncidentChanged]],
    actor: Actor,
    now: int,
    also: Mapping[str, Callable[[Case], Case]] | None = None,
) -> None:
    """Write each ``(case_id, entry)`` on its case's timeline; each case changes once, with
    ``also[case_id]`` (a change to its fields, same version) applied first. A case with no
    entry whose ``also`` changes nothing is left alone."""
    by_case: dict[str, list[t.TimelineEvent]] = defaultdict(list)
    for case_id, entry in entries:
        by_case[case_id].append(entry)
    edits = also or {}
    wanted = sorted(by_case.keys() | edits.keys())
    if not wanted:
        return
    refs = [CaseRef(raw=case_id, uuid=case_id) for case_id in wanted]
    found = uow.cases.get_many(space_id, refs, for_update=True)
    pairs: list[tuple[Case, Case]] = []
    events = []
    for case_id in wanted:
        case = found[case_id]  # an incident's case exists: the foreign key says so
        edit = edits.get(case_id)
        edited = edit(case) if edit else case
        timeline = by_case.get(case_id, [])
        if not timeline and edited == case:
            continue
        pairs.append((case, lifecycle.touch(edited, now=now)))
        events.extend(new_events(case, timeline, actor, now))
    if not pairs:
        return
    if not uow.cases.save_many(pairs):  # their rows are locked
        raise AssertionError("a case changed while its row was locked")
    record(uow, events, now)


def close_with_cases(
    uow: UnitOfWork, pairs: Sequence[tuple[Case, Case]], by: str, now: int
) -> None:
    """Close the open incidents of every case that ``pairs`` (old, new) closes."""
    closed = [
        new.id
        for old, new in pairs
        if new.status is CaseStatus.CLOSED and old.status is not CaseStatus.CLOSED
    ]
    if not closed:
        return
    changes: list[tuple[Incident, il.IncidentChange]] = []
    for incident in uow.incidents.open_of_cases(closed):
        changes.append((incident, il.close(incident, by, now=now)))
    if not changes:
        return
    if not uow.incidents.save_many([(old, change.incident) for old, change in changes]):
        raise AssertionError("an incident changed while its row was locked")
    events = []
    for _, change in changes:
        events += stamp(change, originator=Originator.ADMINISTRATIVE, by=by, now=now)
    uow.incidents.add_events(events)
