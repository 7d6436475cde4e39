"""Timeline use cases: list and read events, comments, external thread sync."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from casekeeper.domain import lifecycle
from casekeeper.domain import timeline as t
from casekeeper.domain.errors import (
    CasekeeperError,
    ErrorCode,
    event_not_found,
    invalid,
)
from casekeeper.domain.events import Actor, CaseEvent
from casekeeper.domain.ids import uuid7
from casekeeper.domain.model import Case, CaseRef, Json
from casekeeper.service import validation as v
from casekeeper.service.auth import Principal
from casekeeper.service.context import ServiceContext, locked_case, record, save_locked
from casekeeper.service.permissions import Permission
from casekeeper.store.replica import replica_read, written_by
from casekeeper.store.uow import UnitOfWork

MAX_COMMENT = 10_000
MAX_ATTACHMENTS = 100


@dataclass(frozen=True, slots=True)
class ExternalMessage:
    """A message of an external thread (Slack, Teams) pushed into a case's timeline."""

    external_id: str
    text: str
    event_time: int | None
    source: Json | None  # {"slack": {...}} or {"microsoftTeams": {...}}
    actor: Actor | None


def _comment_text(text: str | None) -> str:
    return v.text(text, field="text", max_len=MAX_COMMENT)


def _attachments(attachments: Sequence[Json]) -> tuple[Json, ...]:
    if len(attachments) > MAX_ATTACHMENTS:
        raise invalid(
            f"attachments: at most {MAX_ATTACHMENTS} per comment (got {len(attachments)})"
        )
    for i, item in enumerate(attachments):
        v.attachment(item, f"attachments[{i}]")
    return tuple(attachments)


READ = (Permission.CASE_READ,)
COMMENT = (Permission.CASE_COMMENT,)


class TimelineService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.db = ctx.db
        self.clock = ctx.clock

    def list_events(self, p: Principal, raw_case_id: str) -> list[CaseEvent]:
        p.require(READ, "read a case's timeline")
        ref = v.case_ref(raw_case_id, field="case_id")
        return replica_read(
            self.db,
            p.user_id,
            lambda uow: uow.events.for_case(uow.cases.require(p.space_id, ref).id),
        )

    def get(self, p: Principal, raw_event_id: str) -> CaseEvent:
        p.require(READ, "read a case's timeline")
        event_id = v.uuid_text(raw_event_id, field="event_id")
        found = replica_read(self.db, p.user_id, lambda uow: uow.events.get(p.space_id, event_id))
        if found is None:
            raise event_not_found(raw_event_id)
        return found

    @staticmethod
    def _touch(uow: UnitOfWork, case: Case, now: int) -> None:
        """A timeline entry is a change to its case: bump its update time (and version). The
        row was locked by ``locked_case``, so this never fails for a concurrent change."""
        save_locked(uow, case, lifecycle.touch(case, now=now))

    def create_comment(
        self, p: Principal, raw_case_id: str, text: str, attachments: Sequence[Json] = ()
    ) -> CaseEvent:
        p.require(COMMENT, "comment on a case")
        body = _comment_text(text)
        files = _attachments(attachments)
        ref = v.case_ref(raw_case_id, field="case_id")
        with written_by(p.user_id), self.db.writer() as uow:
            case = locked_case(uow, p.space_id, ref)
            now = self.clock()
            self._touch(uow, case, now)
            event = CaseEvent(
                event_id=uuid7(now),
                case_id=case.id,
                space_id=p.space_id,
                data=t.Comment(body, files),
                actor=p.actor,
                create_time=now,
                event_time=now,
            )
            record(uow, [event], now)
            uow.commit()
        return event

    def _editable(self, uow: UnitOfWork, p: Principal, raw_event_id: str) -> CaseEvent:
        event_id = v.uuid_text(raw_event_id, field="event_id")
        event = uow.events.get(p.space_id, event_id)
        if event is None:
            raise event_not_found(raw_event_id)
        if not event.is_comment:
            raise CasekeeperError(
                ErrorCode.NOT_EDITABLE,
                f"event {event_id} is a {event.kind.value} event; only comment events can be "
                "edited or deleted",
            )
        return event

    def update_comment(
        self,
        p: Principal,
        raw_event_id: str,
        text: str,
        attachments: Sequence[Json] = (),
        *,
        expected_version: int | None = None,
        own_only: bool = False,
    ) -> CaseEvent:
        """Edit a comment; with ``expected_version`` (its update time, or creation time if
        never edited, as read), CONFLICT if it changed since, checked under the case's lock.
        With ``own_only`` (the web console), only the caller's own comment."""
        p.require(COMMENT, "edit a comment")
        body = _comment_text(text)
        files = _attachments(attachments)
        with written_by(p.user_id), self.db.writer() as uow:
            event, case = self._editable_locked(uow, p, raw_event_id)
            _check_own(p, event, own_only)
            seen = event.update_time or event.create_time
            if expected_version is not None and seen != expected_version:
                raise CasekeeperError(
                    ErrorCode.CONFLICT,
                    f"comment {event.event_id} has been updated. Please refresh before saving "
                    "additional updates.",
                )
            now = self.clock()
            # A synced comment keeps its source; an unreadable one becomes a plain comment.
            source = event.data.source if isinstance(event.data, t.Comment) else None
            updated = dataclasses.replace(
                event, data=t.Comment(body, files, source), update_time=now
            )
            uow.events.update_comment(updated)
            self._touch(uow, case, now)
            uow.commit()
        return updated

    def delete_comment(self, p: Principal, raw_event_id: str, *, own_only: bool = False) -> None:
        p.require(COMMENT, "delete a comment")
        with written_by(p.user_id), self.db.writer() as uow:
            event, case = self._editable_locked(uow, p, raw_event_id)
            _check_own(p, event, own_only)
            uow.events.delete(event.event_id)
            self._touch(uow, case, self.clock())
            uow.commit()

    def delete_comments(self, p: Principal, raw_case_id: str) -> int:
        """Delete every comment of the case, in one transaction; how many there were."""
        p.require(COMMENT, "delete comments")
        ref = v.case_ref(raw_case_id, field="case_id")
        with written_by(p.user_id), self.db.writer() as uow:
            case = locked_case(uow, p.space_id, ref)
            comments = [e for e in uow.events.for_case(case.id) if e.is_comment]
            for event in comments:
                uow.events.delete(event.event_id)
            if comments:
                self._touch(uow, case, self.clock())
                uow.commit()
        return len(comments)

    def _editable_locked(
        self, uow: UnitOfWork, p: Principal, raw_event_id: str
    ) -> tuple[CaseEvent, Case]:
        """The comment and its case, the case's row locked; the comment is read again under
        the lock, so an edit racing a delete of the same comment sees it gone."""
        event = self._editable(uow, p, raw_event_id)
        case = locked_case(uow, p.space_id, CaseRef(raw=event.case_id, uuid=event.case_id))
        return self._editable(uow, p, raw_event_id), case

    def sync_external(
        self, p: Principal, raw_case_id: str, messages: Sequence[ExternalMessage]
    ) -> bool:
        """Append pushed thread messages not seen before (by external id). True when the case
        has an external thread linked."""
        p.require(COMMENT, "sync external messages to a case")
        ref = v.case_ref(raw_case_id, field="case_id")
        for m in messages:
            v.text(m.external_id, field="messages.external_id", max_len=512)
            _comment_text(m.text)
        with written_by(p.user_id), self.db.writer() as uow:
            case = locked_case(uow, p.space_id, ref)
            wanted: dict[str, ExternalMessage] = {}
            for m in messages:
                wanted.setdefault(m.external_id.strip(), m)
            known = uow.events.external_ids(case.id, list(wanted))
            fresh = [(eid, m) for eid, m in wanted.items() if eid not in known]
            if fresh:
                now = self.clock()
                events = [
                    CaseEvent(
                        event_id=uuid7(now),
                        case_id=case.id,
                        space_id=p.space_id,
                        data=t.Comment(m.text.strip(), (), m.source),
                        actor=m.actor or p.actor,
                        create_time=now,
                        event_time=m.event_time or now,
                        external_id=eid,
                    )
                    for eid, m in fresh
                ]
                self._touch(uow, case, now)
                record(uow, events, now)
                uow.commit()
                return True
            return uow.events.has_external_thread(case.id)


def _check_own(p: Principal, event: CaseEvent, own_only: bool) -> None:
    if own_only and event.actor != p.actor:
        raise CasekeeperError(
            ErrorCode.PERMISSION_DENIED, "you can edit or delete only your own comments"
        )
