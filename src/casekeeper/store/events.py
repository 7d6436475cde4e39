"""Timeline rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import orjson
import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from casekeeper.domain import timeline as t
from casekeeper.domain.enums import EventKind
from casekeeper.domain.events import Actor, CaseEvent, EventSelection
from casekeeper.store import driver
from casekeeper.store.event_codec import decode, decode_actor, encode, encode_actor
from casekeeper.store.schema import case_event as e

_COLUMNS = (
    "event_id", "space_id", "case_id", "kind", "data", "actor", "create_time", "event_time",
    "update_time", "external_id",
)  # fmt: skip


def row_to_event(row: Any) -> CaseEvent:
    m = row._mapping
    return CaseEvent(
        event_id=m["event_id"],
        case_id=m["case_id"],
        space_id=m["space_id"],
        data=decode(EventKind(m["kind"]), m["data"]),
        actor=decode_actor(m["actor"]),
        create_time=m["create_time"],
        event_time=m["event_time"],
        update_time=m["update_time"],
        external_id=m["external_id"],
    )


class EventRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def add_many(self, events: Sequence[CaseEvent]) -> None:
        if not events:
            return
        sql = driver.insert_sql(self.conn, "case_event", _COLUMNS)
        dumps = driver.json_text
        rows = [
            (
                x.event_id, x.space_id, x.case_id, x.data.kind.value, dumps(encode(x.data)),
                dumps(encode_actor(x.actor)), x.create_time, x.event_time, x.update_time,
                x.external_id,
            )
            for x in events
        ]  # fmt: skip
        driver.executemany(self.conn, sql, rows)

    def for_case(self, case_id: str) -> list[CaseEvent]:
        stmt = sa.select(e).where(e.c.case_id == case_id).order_by(e.c.seq)
        return [row_to_event(r) for r in self.conn.execute(stmt)]

    def get(self, space_id: int, event_id: str) -> CaseEvent | None:
        stmt = sa.select(e).where(e.c.space_id == space_id, e.c.event_id == event_id)
        row = self.conn.execute(stmt).first()
        return row_to_event(row) if row is not None else None

    def by_ids(self, event_ids: Sequence[str]) -> dict[str, CaseEvent]:
        if not event_ids:
            return {}
        stmt = sa.select(e).where(e.c.event_id.in_(sorted(set(event_ids))))
        return {r.event_id: row_to_event(r) for r in self.conn.execute(stmt)}

    def external_ids(self, case_id: str, candidates: Sequence[str]) -> set[str]:
        if not candidates:
            return set()
        stmt = sa.select(e.c.external_id).where(
            e.c.case_id == case_id, e.c.external_id.in_(list(candidates))
        )
        return {r[0] for r in self.conn.execute(stmt)}

    def has_external_thread(self, case_id: str) -> bool:
        stmt = sa.select(e.c.seq).where(e.c.case_id == case_id, e.c.external_id.is_not(None))
        return self.conn.execute(stmt.limit(1)).first() is not None

    def update_comment(self, event: CaseEvent) -> None:
        self.conn.execute(
            sa.update(e)
            .where(e.c.event_id == event.event_id)
            .values(data=encode(event.data), update_time=event.update_time)
        )

    def delete(self, event_id: str) -> None:
        self.conn.execute(sa.delete(e).where(e.c.event_id == event_id))

    # -- what the Kibana and Tracecat views need beside the events themselves ---------------

    def creators_and_comments(
        self, case_ids: Sequence[str]
    ) -> tuple[dict[str, Actor], dict[str, int]]:
        """Who created each case (its creation event's actor) and how many comments each
        has, in one statement; cases without either are left out of that map."""
        if not case_ids:
            return {}, {}
        kinds = (EventKind.CREATED.value, EventKind.COMMENT.value)
        actor = sa.func.min(sa.cast(e.c.actor, sa.Text))
        stmt = (
            sa.select(e.c.case_id, e.c.kind, sa.func.count(), actor)
            .where(e.c.case_id.in_(sorted(set(case_ids))), e.c.kind.in_(kinds))
            .group_by(e.c.case_id, e.c.kind)
        )
        creators: dict[str, Actor] = {}
        comments: dict[str, int] = {}
        for case_id, kind, n, actor in self.conn.execute(stmt):
            if kind == EventKind.CREATED.value:
                creators[case_id] = decode_actor(_json(actor))
            else:
                comments[case_id] = int(n)
        return creators, comments

    def page(
        self,
        case_id: str,
        selections: Sequence[EventSelection] | None,
        *,
        offset: int,
        limit: int,
        descending: bool,
    ) -> tuple[list[CaseEvent], int]:
        """One page of the case's events (those any of ``selections`` picks; all when None)
        in timeline order or its reverse, and how many there are in all."""
        where = [e.c.case_id == case_id]
        if selections is not None:
            where.append(sa.or_(*map(_selected, selections)) if selections else sa.false())
        total = self.conn.execute(sa.select(sa.func.count()).where(*where)).scalar_one()
        order = e.c.seq.desc() if descending else e.c.seq.asc()
        stmt = sa.select(e).where(*where).order_by(order).offset(offset).limit(limit)
        return [row_to_event(r) for r in self.conn.execute(stmt)], int(total)

    def creators(self, space_id: int) -> list[Actor]:
        """Everyone who created a case in the space."""
        stmt = (
            sa.select(sa.cast(e.c.actor, sa.Text))
            .where(e.c.space_id == space_id, e.c.kind == EventKind.CREATED.value)
            .distinct()
        )
        return [decode_actor(_json(r[0])) for r in self.conn.execute(stmt)]


def _contains(event: t.TimelineEvent, key: str) -> ColumnElement[bool]:
    """The stored payload holds ``key`` with the value ``event`` stores there (the codec's
    own compact JSON, so the text is exact)."""
    part = driver.json_text({key: encode(event)[key]})[1:-1]
    return sa.cast(e.c.data, sa.Text).contains(part, autoescape=True)


_OPENING: Final = sa.and_(
    e.c.kind == EventKind.INCIDENT_CHANGED.value,
    _contains(t.IncidentChanged("", t.IncidentChange.OPENED), "change"),
)


def _selected(s: EventSelection) -> ColumnElement[bool]:
    parts: list[ColumnElement[bool]] = []
    if s.kinds is not None:
        parts.append(e.c.kind.in_(sorted(k.value for k in s.kinds)))
    if s.incident_openings is True:
        parts.append(sa.or_(e.c.kind != EventKind.INCIDENT_CHANGED.value, _OPENING))
    elif s.incident_openings is False:
        parts.append(sa.not_(_OPENING))
    return sa.and_(sa.true(), *parts)


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value
