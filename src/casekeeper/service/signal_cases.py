"""The cases one ingestion batch touches: each read (and locked) once, changed in memory as
its signals are applied, and written once at the end with its timeline entries in order.

At the end each case also gets what follows from all its signals together: the system
priority re-derived from its indicators, an automatic resolution when every indicator has
resolved (if the space's settings say so), and the batch's notes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from casekeeper.domain import lifecycle
from casekeeper.domain import timeline as t
from casekeeper.domain.case_settings import CaseSettings
from casekeeper.domain.enums import ActorKind, CaseStatus
from casekeeper.domain.events import Actor
from casekeeper.domain.lifecycle import Operation
from casekeeper.domain.model import Case, CaseRef, evolve
from casekeeper.domain.signal_indicators import IndicatorEditor, all_resolved, derived_priority
from casekeeper.service.context import new_events, record
from casekeeper.service.incident_effects import close_with_cases
from casekeeper.store.uow import UnitOfWork


@dataclass
class CaseWork:
    stored: Case  # as the row is now (read for update, or just inserted)
    case: Case  # with this batch's changes so far
    entries: list[tuple[t.TimelineEvent, Actor]] = field(default_factory=list)
    new: bool = False
    resolved_here: bool = False  # a signal of this batch resolved one of its indicators
    editor: IndicatorEditor | None = None

    def indicators(self) -> IndicatorEditor:
        if self.editor is None:
            self.editor = IndicatorEditor(self.case.indicators)
        return self.editor


class CaseBook:
    def __init__(self, uow: UnitOfWork, space_id: int, now: int) -> None:
        self.uow = uow
        self.space_id = space_id
        self.now = now
        self.work: dict[str, CaseWork] = {}

    def get(self, case_id: str) -> CaseWork | None:
        """The case, locked for the rest of the transaction; None if it is gone."""
        found = self.work.get(case_id)
        if found is None:
            case = self.uow.cases.get(
                self.space_id, CaseRef(raw=case_id, uuid=case_id), for_update=True
            )
            if case is None:
                return None
            found = self.work[case_id] = CaseWork(case, case)
        return found

    def add(self, case: Case, entries: list[tuple[t.TimelineEvent, Actor]]) -> CaseWork:
        self.uow.cases.add(case)
        work = self.work[case.id] = CaseWork(case, case, list(entries), new=True)
        return work

    def finish(self, settings: CaseSettings, sender: Actor, notes: list[t.SignalNote]) -> None:
        """Derive, resolve, note, then write every changed case and its timeline."""
        pairs: list[tuple[Case, Case]] = []
        events = []
        for work in self.work.values():
            self._conclude(work, settings, sender, notes)
            final = work.case
            if final == work.stored and not work.entries:
                continue
            final = lifecycle.touch(evolve(final, version=work.stored.version), now=self.now)
            pairs.append((work.stored, final))
            for payload, actor in work.entries:
                events.extend(new_events(work.stored, [payload], actor, self.now))
        if not pairs:
            return
        if not self.uow.cases.save_many(pairs):  # their rows are locked
            raise AssertionError("a case changed while its row was locked")
        record(self.uow, events, self.now)
        close_with_cases(self.uow, pairs, "casekeeper", self.now)

    def _conclude(
        self, work: CaseWork, settings: CaseSettings, sender: Actor, notes: list[t.SignalNote]
    ) -> None:
        if work.editor is not None:
            work.case = evolve(work.case, indicators=work.editor.result())
            work.editor = None
        case = work.case
        derived = derived_priority(case.indicators)
        if derived is not None and case.is_open:
            change = lifecycle.set_system_priority(case, derived[0].case_priority, now=self.now)
            if change.changed:
                work.case = change.case
                work.entries += [(e, Actor.system()) for e in change.events]
        if (
            work.resolved_here
            and settings.lifecycle.auto_resolve
            and work.case.is_open
            and all_resolved(work.case.indicators)
        ):
            kind = sender.kind if sender.kind in _RESOLVERS else ActorKind.SYSTEM
            change = lifecycle.transition(
                work.case,
                Operation.AUTO_RESOLVE,
                actor_kind=kind,
                now=self.now,
                reason="all its alerts resolved",
            )
            work.case = change.case
            work.entries += [(e, sender) for e in change.events]
        if work.entries or work.case != work.stored:
            work.entries += [(n, Actor.system()) for n in notes]


_RESOLVERS = frozenset({ActorKind.PROMETHEUS_ALERT_MANAGER, ActorKind.PAGER_DUTY})


def pending_resolved(case: Case) -> bool:
    """A case that resolved before it was ever activated: its alerts stopped inside the
    suppression period, so nobody is told and it never gets a readable id."""
    return case.status is CaseStatus.RESOLVED and case.number is None
