"""What the Kibana (and later Tracecat) views of a case need beside the case itself: who
created it, how many comments it has, a page of its timeline, the space's tags and reporters,
and deleting cases for good. Authorized like every read and change."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from casekeeper.domain.errors import CasekeeperError, ErrorCode, case_not_found, invalid
from casekeeper.domain.events import Actor, CaseEvent, EventSelection
from casekeeper.domain.model import Case, CaseRef
from casekeeper.service import validation as v
from casekeeper.service.auth import Principal
from casekeeper.service.context import ServiceContext
from casekeeper.service.permissions import Permission
from casekeeper.store import tags
from casekeeper.store.replica import replica_read, written_by
from casekeeper.store.uow import UnitOfWork

log = logging.getLogger("casekeeper.cases")
READ = (Permission.CASE_READ,)
MAX_DELETE = 100  # Kibana's bulk limit


@dataclass(frozen=True, slots=True)
class CaseFacts:
    created_by: Actor | None
    comments: int
    incidents: int


@dataclass(frozen=True, slots=True)
class EventPage:
    events: list[CaseEvent]
    total: int


class CaseViews:
    def __init__(self, ctx: ServiceContext) -> None:
        self.db = ctx.db
        self.clock = ctx.clock

    def facts(self, p: Principal, cases: Sequence[Case]) -> dict[str, CaseFacts]:
        """Per case: its creator, its comment count and its incident count."""
        p.require(READ, "read cases")
        ids = [c.id for c in cases if c.space_id == p.space_id]
        creators, comments, incidents = replica_read(
            self.db,
            p.user_id,
            lambda uow: (*uow.events.creators_and_comments(ids), uow.incidents.count_by_case(ids)),
        )
        return {i: CaseFacts(creators.get(i), comments.get(i, 0), incidents.get(i, 0)) for i in ids}

    def events(
        self,
        p: Principal,
        raw_case_id: str,
        selections: Sequence[EventSelection] | None,
        *,
        offset: int,
        limit: int,
        descending: bool = False,
    ) -> tuple[Case, EventPage]:
        """A page of the case's timeline (what ``selections`` pick, when given), with the
        total."""
        p.require(READ, "read a case's timeline")
        ref = v.case_ref(raw_case_id, field="case_id")
        if offset < 0 or not 1 <= limit <= 100_000:
            raise invalid("a page is 1..100000 events from offset 0 or more")

        def read(uow: UnitOfWork) -> tuple[Case, EventPage]:
            case = uow.cases.require(p.space_id, ref)
            events, total = uow.events.page(
                case.id, selections, offset=offset, limit=limit, descending=descending
            )
            return case, EventPage(events, total)

        return replica_read(self.db, p.user_id, read)

    def reporters(self, p: Principal) -> list[Actor]:
        p.require(READ, "read cases")
        return replica_read(self.db, p.user_id, lambda uow: uow.events.creators(p.space_id))

    def tags(self, p: Principal) -> list[str]:
        """Every case tag in the space, sorted (long ones as their index digest are left out)."""
        p.require(READ, "read cases")
        values = replica_read(
            self.db, p.user_id, lambda uow: uow.cases.tag_values(p.space_id, tags.TAG)
        )
        return [x for x in values if not x.startswith("sha256:")]

    def delete(
        self,
        p: Principal,
        raw_ids: Sequence[str],
        *,
        skip_missing: bool = False,
        most: int = MAX_DELETE,
        field: str = "ids",
    ) -> list[str]:
        """Delete cases for good, with their timelines, incidents and notifications: all of
        them, or none when one is unknown (NOT_FOUND names it) — or, ``skip_missing``, those
        that exist. Returns the references (as given) of the cases deleted."""
        p.require((Permission.CASE_DELETE,), "delete cases")
        if not raw_ids:
            raise invalid("give the ids of the cases to delete", field=field)
        if len(raw_ids) > most:
            raise invalid(f"at most {most} at once (got {len(raw_ids)})", field=field)
        refs = [v.case_ref(x, field=field) for x in raw_ids]
        with written_by(p.user_id), self.db.writer() as uow:
            found = uow.cases.get_many(p.space_id, refs, for_update=True)
            missing = [r.raw for r in refs if r.raw not in found]
            if missing and not skip_missing:
                raise case_not_found(missing[0])
            if not found:
                return []
            ids = sorted({c.id for c in found.values()})
            uow.incidents.delete_of_cases(ids)  # first: their tallies must lose them too
            gone = uow.cases.delete_many(p.space_id, ids)
            if len(gone) != len(ids):
                raise CasekeeperError(ErrorCode.CONFLICT, "a case was deleted meanwhile; retry")
            uow.commit()
        log.info("%s deleted %d case(s) in space %s: %s", p.actor.label, len(ids),
                 p.space_name, ", ".join(ids))  # fmt: skip
        return [r.raw for r in refs if r.raw in found]

    def with_alert(self, p: Principal, alert_id: str) -> list[Case]:
        """The cases an alert (an incident's alert id, a Prometheus fingerprint or a
        Coralogix alert id) belongs to."""
        p.require(READ, "read cases")
        text = v.text(alert_id, field="alert_id", max_len=512)

        def read(uow: UnitOfWork) -> dict[str, Case]:
            ids = uow.incidents.case_ids_of_alert(p.space_id, text)
            return uow.cases.get_many(p.space_id, [CaseRef(raw=i, uuid=i) for i in ids])

        found = replica_read(self.db, p.user_id, read)
        return sorted(found.values(), key=lambda c: c.create_time)
