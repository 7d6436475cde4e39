"""casekeeper's own case operations: creation, and the system's lifecycle steps
(activation, automatic resolution and closing) that signal ingestion will drive."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from casekeeper.domain import commands as cmd
from casekeeper.domain import lifecycle
from casekeeper.domain import timeline as t
from casekeeper.domain.enums import ActorKind, CaseCategory, CasePriority, CaseStatus
from casekeeper.domain.errors import CasekeeperError, ErrorCode, invalid
from casekeeper.domain.events import Actor
from casekeeper.domain.lifecycle import Operation
from casekeeper.domain.model import Case, Json, KeyValue, PriorityDetails, evolve
from casekeeper.service import validation as v
from casekeeper.service.auth import Principal
from casekeeper.service.context import (
    ServiceContext,
    locked_case,
    new_events,
    record,
    save_locked,
)
from casekeeper.service.incident_effects import close_with_cases
from casekeeper.service.permissions import Permission
from casekeeper.store.keys import SpaceRow
from casekeeper.store.replica import written_by
from casekeeper.store.uow import UnitOfWork

MAX_PAIRS = 1000


@dataclass(frozen=True, slots=True)
class NewCase:
    title: str
    category: CaseCategory
    priority: CasePriority
    assignee: str | None = None
    labels: Sequence[KeyValue] = ()
    groupings: Sequence[KeyValue] = ()
    impacted_entities: Sequence[Json] = ()
    indicators: Json = field(default_factory=dict)
    kpi_breaches: Sequence[Json] = ()
    ai_summary: str | None = None
    pending: bool = False
    case_id: str | None = None  # a caller-chosen UUID makes creation idempotent
    # A person's case: its description, tags, assignees, severity and dialect fields, given
    # as the commands that would set them (checked by the same rules); None: a system case.
    fields: tuple[cmd.CaseCommand, ...] = ()


def _pairs(items: Sequence[KeyValue], name: str) -> tuple[KeyValue, ...]:
    if len(items) > MAX_PAIRS:
        raise invalid(f"at most {MAX_PAIRS} entries", field=name)
    for kv in items:
        v.text(kv.key, field=f"{name}.key", max_len=4096)
        v.text(kv.value, field=f"{name}.value", max_len=4096)
    return tuple(KeyValue(kv.key.strip(), kv.value.strip()) for kv in items)


def build_case(spec: NewCase, space_id: int, now: int) -> Case:
    """Validate ``spec`` into a new PENDING_ACTIVATION case (not yet numbered)."""
    category = spec.category
    if category is CaseCategory.UNSPECIFIED:
        raise invalid("required; give security or availability", field="category")
    if len(spec.impacted_entities) > MAX_PAIRS:
        raise invalid(f"at most {MAX_PAIRS} entries", field="impacted_entities")
    case_id = v.uuid_text(spec.case_id, field="id") if spec.case_id else str(uuid.uuid4())
    return Case(
        id=case_id,
        space_id=space_id,
        title=v.text(spec.title, field="title", max_len=512),
        status=CaseStatus.PENDING_ACTIVATION,
        priority=PriorityDetails(system=v.priority(spec.priority)),
        category=category,
        create_time=now,
        update_time=now,
        assignees=(v.user_id(spec.assignee, field="assignee"),) if spec.assignee else (),
        labels=_pairs(spec.labels, "labels"),
        groupings=_pairs(spec.groupings, "groupings"),
        impacted_entities=tuple(spec.impacted_entities),
        indicators=dict(spec.indicators),
        kpi_breaches=tuple(spec.kpi_breaches),
        ai_summary=v.optional_text(spec.ai_summary, field="ai_summary", max_len=10_000),
    )


# The permission each system step needs: activating ends a case's creation.
SYSTEM_STEPS: Final = {
    Operation.ACTIVATE: Permission.CASE_CREATE,
    Operation.AUTO_RESOLVE: Permission.CASE_CLOSE,
    Operation.AUTO_CLOSE: Permission.CASE_CLOSE,
}


def activate_in(uow: UnitOfWork, case: Case, now: int) -> tuple[Case, list[t.TimelineEvent]]:
    """PENDING_ACTIVATION → ACTIVE: the case gets its readable number."""
    change = lifecycle.transition(case, Operation.ACTIVATE, actor_kind=ActorKind.SYSTEM, now=now)
    number = uow.cases.next_number(case.space_id)
    return evolve(change.case, number=number), change.events


class AdminService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.db = ctx.db
        self.clock = ctx.clock
        self._by_uuid: dict[str, SpaceRow] = {}

    def create_case(self, p: Principal, spec: NewCase) -> Case:
        needs = [Permission.CASE_CREATE]
        if any(isinstance(c, cmd.SetAssignees) for c in spec.fields):
            needs.append(Permission.CASE_ASSIGN)  # assigning at creation is still assigning
        p.require(needs, "create cases" if len(needs) == 1 else "create assigned cases")
        now = self.clock()
        case = build_case(spec, p.space_id, now)
        assigned: tuple[str, ...] = ()
        if spec.fields:  # set as the commands would, without a timeline event each
            fields = tuple(v.command(c) for c in spec.fields)  # the commands' own checks
            change = lifecycle.apply_all(case, fields, actor_kind=p.actor.kind, now=now)
            case = evolve(change.case, version=case.version, update_time=now)
            assigned = case.assignees
        created = t.Created(
            case.priority.system, case.title if spec.fields else None,
            case.description or None if spec.fields else None, case.tags,
        )  # fmt: skip
        payloads: list[t.TimelineEvent] = [created]
        with written_by(p.user_id), self.db.writer() as uow:
            if spec.case_id and uow.cases.id_taken(case.id):
                raise CasekeeperError(ErrorCode.ALREADY_EXISTS, f"case {case.id} already exists")
            if not spec.pending:
                activated, more = activate_in(uow, case, now)
                case = evolve(activated, version=case.version)  # not stored yet: still the first
                if not spec.fields:  # a person's case made active at once was never pending
                    payloads.extend(more)
            uow.cases.add(case)
            system = new_events(case, payloads[:1], p.actor, now)
            rest = new_events(case, payloads[1:], Actor.system(), now)
            if assigned:
                people = [t.Assigned(u) for u in assigned]
                rest += new_events(case, people, p.actor, now)
            elif case.assignee:
                rest += new_events(case, [t.Assigned(case.assignee)], p.actor, now)
            record(uow, system + rest, now)
            uow.commit()
        return case

    def spaces(self, p: Principal) -> list[SpaceRow]:
        """Every space with its stable UUID (the operator), or the caller's own."""
        with self.db.reader() as uow:
            rows = uow.spaces.all()
        return rows if p.operator else [r for r in rows if r.id == p.space_id]

    def cached_space(self, space_uuid: str) -> SpaceRow | None:
        """The space with this UUID if this process has looked it up before (no database)."""
        return self._by_uuid.get(space_uuid)

    def space_of_uuid(self, space_uuid: str) -> SpaceRow | None:
        """The space with this UUID (Tracecat's workspace_id), if there is one. Not a read
        of anything in the space: callers authorize the space before they touch it. Spaces
        are never renamed or removed, so a found one is remembered."""
        hit = self._by_uuid.get(space_uuid)
        if hit is None:
            with self.db.reader() as uow:
                hit = uow.spaces.by_uuid(space_uuid)
            if hit is not None and len(self._by_uuid) < 10_000:
                self._by_uuid[space_uuid] = hit
        return hit

    def system_step(self, p: Principal, raw_id: str, op: Operation) -> Case:
        """Run a system lifecycle step (activate, auto-resolve, auto-close) in ``p``'s space.
        ``p`` (the scheduler's or an ingestion endpoint's key) authorizes it; the timeline
        names the actor ``system``: the rules acted, not the key."""
        needs = SYSTEM_STEPS.get(op)
        if needs is None:
            raise invalid(f"{op.value!r} is not a system step (activate, auto-resolve, auto-close)")
        p.require((needs,), f"{op.value} cases")
        ref = v.case_ref(raw_id)
        with written_by(p.user_id), self.db.writer() as uow:
            case = locked_case(uow, p.space_id, ref)
            now = self.clock()
            if op is Operation.ACTIVATE and case.status is CaseStatus.PENDING_ACTIVATION:
                new, payloads = activate_in(uow, case, now)
            else:
                change = lifecycle.transition(case, op, actor_kind=ActorKind.SYSTEM, now=now)
                new, payloads = change.case, change.events
            if not payloads:
                return case
            save_locked(uow, case, new)
            record(uow, new_events(case, payloads, Actor.system(), now), now)
            close_with_cases(uow, [(case, new)], "system", now)
            uow.commit()
        return new

    def reprioritize(self, p: Principal, raw_id: str, priority: CasePriority) -> Case:
        """Set the system priority (a new indicator changed it), as actor ``system``."""
        p.require((Permission.CASE_UPDATE,), "reprioritize cases")
        ref = v.case_ref(raw_id)
        priority = v.priority(priority)  # P1..P5: lists merge over exactly those
        with written_by(p.user_id), self.db.writer() as uow:
            case = locked_case(uow, p.space_id, ref)
            now = self.clock()
            change = lifecycle.set_system_priority(case, priority, now=now)
            if not change.changed:
                return case
            save_locked(uow, case, change.case)
            record(uow, new_events(case, change.events, Actor.system(), now), now)
            uow.commit()
        return change.case
