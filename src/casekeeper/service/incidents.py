"""Incident use cases: read, list, count and facet; assign, unassign, acknowledge, resolve and
close (by id or by alert event key); and record what an alert reports (``record_alert``).

A change to several incidents is all or nothing: an unknown id (or another space's) is
NOT_FOUND and a refused transition is FAILED_PRECONDITION, and then nothing is written. Every
change writes the incidents' events and their cases' timeline entries in one transaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from casekeeper.domain import incident_lifecycle as il
from casekeeper.domain import timeline as t
from casekeeper.domain.errors import incident_not_found, invalid, quote
from casekeeper.domain.incident_query import (
    EVENT_COUNT_LIMIT,
    MAX_EVENTS_PAGE_SIZE,
    MAX_ORDER_KEYS,
    MAX_PAGE_SIZE,
    AggregationPage,
    EventFilter,
    EventPage,
    GroupKey,
    IncidentFilter,
    IncidentFilterValues,
    IncidentPage,
    OrderKey,
    PageRequest,
)
from casekeeper.domain.incidents import (
    MAX_EVENT_KEY,
    MAX_INCIDENT_IDS,
    MAX_USER,
    Incident,
    IncidentEvent,
    Originator,
)
from casekeeper.service import validation as v
from casekeeper.service.auth import Principal
from casekeeper.service.context import ServiceContext
from casekeeper.service.incident_effects import on_cases, stamp
from casekeeper.service.permissions import Permission
from casekeeper.store.replica import replica_read, written_by
from casekeeper.store.uow import UnitOfWork

P = Permission
READ = (P.INCIDENTS_READ,)
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
Step = Callable[[Incident], il.IncidentChange]
C = t.IncidentChange


def incident_id(raw: str, *, field: str = "id") -> str:
    """An incident id: a UUID in any letter case, kept lower case."""
    if not raw:
        raise invalid("required; give an incident UUID", field=field)
    if len(raw) > 64 or not _UUID.fullmatch(raw):
        raise invalid(f"{quote(raw)} is not an incident UUID", field=field)
    return raw.lower()


def incident_ids(raw: Sequence[str], *, field: str = "incident_ids") -> list[str]:
    if not raw:
        raise invalid("give at least one incident id", field=field)
    if len(raw) > MAX_INCIDENT_IDS:
        raise invalid(f"at most {MAX_INCIDENT_IDS} ids (got {len(raw)})", field=field)
    return list(dict.fromkeys(incident_id(x, field=f"{field}[{i}]") for i, x in enumerate(raw)))


def _event_key(raw: str) -> str:
    return v.text(raw, field="event_id", max_len=MAX_EVENT_KEY)


def _page(page: PageRequest, most: int) -> PageRequest:
    if not 1 <= page.size <= most:
        raise invalid(f"between 1 and {most} (got {page.size})", field="pagination.page_size")
    return page


class IncidentService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.db = ctx.db
        self.clock = ctx.clock

    # -- reads ----------------------------------------------------------------------------------

    def get(self, p: Principal, raw_id: str) -> Incident:
        p.require(READ, "read incidents")
        wanted = incident_id(raw_id)
        found = replica_read(self.db, p.user_id, lambda uow: uow.incidents.get(p.space_id, wanted))
        if found is None:
            raise incident_not_found(raw_id)
        return found

    def batch_get(
        self, p: Principal, raw_ids: Sequence[str]
    ) -> tuple[dict[str, Incident], list[str]]:
        """The incidents found, by id, and the ids not found (never an error for those)."""
        p.require(READ, "read incidents")
        wanted = incident_ids(raw_ids, field="ids")
        found = replica_read(
            self.db, p.user_id, lambda uow: uow.incidents.get_many(p.space_id, wanted)
        )
        return found, [x for x in wanted if x not in found]

    def of_case(self, p: Principal, case_id: str) -> list[Incident]:
        """The incidents of a case (by the case's UUID), oldest first."""
        p.require(READ, "read a case's incidents")
        found = replica_read(self.db, p.user_id, lambda uow: uow.incidents.of_case(case_id))
        return [x for x in found if x.space_id == p.space_id]

    def events(self, p: Principal, raw_id: str) -> list[IncidentEvent]:
        p.require(READ, "read incidents")
        wanted = incident_id(raw_id, field="incident_id")

        def read(uow: UnitOfWork) -> list[IncidentEvent]:
            if uow.incidents.get(p.space_id, wanted) is None:
                raise incident_not_found(raw_id)
            return uow.incidents.events_of(wanted)

        return replica_read(self.db, p.user_id, read)

    def by_event_key(self, p: Principal, raw_key: str) -> Incident:
        """The incident an alert event (its ``cx_event_key``) belongs to."""
        p.require(READ, "read incidents")
        key = _event_key(raw_key)
        return replica_read(self.db, p.user_id, lambda uow: self._by_key(uow, p, key))

    def at_correlation(self, p: Principal, key: str, when: int) -> Incident:
        p.require(READ, "read incidents")
        text = v.text(key, field="correlation_key", max_len=4096)
        found = replica_read(
            self.db, p.user_id, lambda uow: uow.incidents.at(p.space_id, text, when)
        )
        if found is None:
            raise incident_not_found(key)
        return found

    def list_incidents(
        self,
        p: Principal,
        f: IncidentFilter,
        order: Sequence[OrderKey],
        page: PageRequest,
    ) -> IncidentPage:
        p.require(READ, "list incidents")
        f.check()
        if len(order) > MAX_ORDER_KEYS:
            raise invalid(f"at most {MAX_ORDER_KEYS} keys", field="order_bys")
        wanted, now = _page(page, MAX_PAGE_SIZE), self.clock()
        return replica_read(
            self.db,
            p.user_id,
            lambda uow: uow.incident_queries.page(p.space_id, f, tuple(order), wanted, now),
        )

    def aggregations(
        self, p: Principal, f: IncidentFilter, group_by: Sequence[GroupKey], page: PageRequest
    ) -> AggregationPage:
        p.require(READ, "aggregate incidents")
        f.check()
        if not group_by or len(group_by) > MAX_ORDER_KEYS:
            raise invalid(f"give 1 to {MAX_ORDER_KEYS} keys", field="group_bys")
        wanted, now = _page(page, MAX_PAGE_SIZE), self.clock()
        return replica_read(
            self.db,
            p.user_id,
            lambda uow: uow.incident_queries.aggregations(
                p.space_id, f, tuple(group_by), wanted, now
            ),
        )

    def filter_values(self, p: Principal, f: IncidentFilter) -> IncidentFilterValues:
        p.require(READ, "read incident filter values")
        f.check()
        return replica_read(
            self.db, p.user_id, lambda uow: uow.incident_queries.filter_values(p.space_id, f)
        )

    def list_events(
        self, p: Principal, f: EventFilter, page: PageRequest, *, descending: bool = True
    ) -> EventPage:
        p.require(READ, "list incident events")
        f.check()
        wanted = _page(page, MAX_EVENTS_PAGE_SIZE)
        return replica_read(
            self.db,
            p.user_id,
            lambda uow: uow.incident_queries.list_events(
                p.space_id, f, wanted, descending=descending
            ),
        )

    def count_events(self, p: Principal, f: EventFilter) -> tuple[int, bool]:
        """How many events match, counted up to ``EVENT_COUNT_LIMIT``; True if it stopped."""
        p.require(READ, "count incident events")
        f.check()
        return replica_read(
            self.db,
            p.user_id,
            lambda uow: uow.incident_queries.count_events(p.space_id, f, EVENT_COUNT_LIMIT),
        )

    def event_filter_values(self, p: Principal, f: EventFilter) -> IncidentFilterValues:
        p.require(READ, "read incident event filter values")
        f.check()
        return replica_read(
            self.db, p.user_id, lambda uow: uow.incident_queries.event_filter_values(p.space_id, f)
        )

    # -- changes --------------------------------------------------------------------------------

    def assign(self, p: Principal, raw_ids: Sequence[str], user: str) -> list[Incident]:
        p.require((P.INCIDENTS_ASSIGN,), "assign incidents")
        to = v.text(user, field="assigned_to.user_id", max_len=MAX_USER)
        return self._change(p, incident_ids(raw_ids), lambda x: il.assign(x, to, p.user_id),
                            C.ASSIGNED, to)  # fmt: skip

    def unassign(self, p: Principal, raw_ids: Sequence[str]) -> list[Incident]:
        p.require((P.INCIDENTS_ASSIGN,), "unassign incidents")
        return self._change(p, incident_ids(raw_ids), il.unassign, C.UNASSIGNED)

    def acknowledge(self, p: Principal, raw_ids: Sequence[str]) -> list[Incident]:
        p.require((P.INCIDENTS_ACKNOWLEDGE,), "acknowledge incidents")
        step: Step = lambda x: il.acknowledge(x, p.user_id)  # noqa: E731
        return self._change(p, incident_ids(raw_ids), step, C.ACKNOWLEDGED)

    def resolve(self, p: Principal, raw_ids: Sequence[str]) -> list[Incident]:
        p.require((P.INCIDENTS_CLOSE,), "resolve incidents")
        now = self.clock()
        step: Step = lambda x: il.resolve(x, now=now)  # noqa: E731
        return self._change(p, incident_ids(raw_ids), step, C.RESOLVED, now=now)

    def close(self, p: Principal, raw_ids: Sequence[str]) -> list[Incident]:
        p.require((P.INCIDENTS_CLOSE,), "close incidents")
        now = self.clock()
        step: Step = lambda x: il.close(x, p.user_id, now=now)  # noqa: E731
        return self._change(p, incident_ids(raw_ids), step, C.CLOSED, now=now)

    def acknowledge_by_event(self, p: Principal, raw_key: str) -> Incident:
        p.require((P.INCIDENTS_ACKNOWLEDGE,), "acknowledge incidents")
        key = _event_key(raw_key)
        step: Step = lambda x: il.acknowledge(x, p.user_id)  # noqa: E731
        return self._change(p, key, step, C.ACKNOWLEDGED)[0]

    def resolve_by_event(self, p: Principal, raw_key: str) -> Incident:
        p.require((P.INCIDENTS_CLOSE,), "resolve incidents")
        key, now = _event_key(raw_key), self.clock()
        step: Step = lambda x: il.resolve(x, now=now)  # noqa: E731
        return self._change(p, key, step, C.RESOLVED, now=now)[0]

    def _by_key(self, uow: UnitOfWork, p: Principal, key: str) -> Incident:
        event = uow.incidents.event_by_key(p.space_id, key)
        found = None if event is None else uow.incidents.get(p.space_id, event.incident_id)
        if found is None:
            raise incident_not_found(key)
        return found

    def _change(
        self,
        p: Principal,
        ids: list[str] | str,
        step: Step,
        entry: t.IncidentChange,
        user: str | None = None,
        *,
        now: int | None = None,
    ) -> list[Incident]:
        """Apply ``step`` to each incident (``ids``, or the one holding an alert event key),
        all or nothing; returns them in the order asked, changed or not."""
        with written_by(p.user_id), self.db.writer() as uow:
            if isinstance(ids, str):
                ids = [self._by_key(uow, p, ids).id]
            found = uow.incidents.get_many(p.space_id, ids, for_update=True)
            missing = next((x for x in ids if x not in found), None)
            if missing is not None:
                raise incident_not_found(missing)
            at = self.clock() if now is None else now
            changes = {x: step(found[x]) for x in ids}  # a refusal raises: nothing written
            done = [c for c in changes.values() if c.changed]
            if done:
                pairs = [(found[c.incident.id], c.incident) for c in done]
                if not uow.incidents.save_many(pairs):  # their rows are locked
                    raise AssertionError("an incident changed while its row was locked")
                events = []
                for c in done:
                    events += stamp(c, originator=Originator.ADMINISTRATIVE, by=p.user_id, now=at)
                uow.incidents.add_events(events)
                who = user if user is not None else p.user_id
                entries = [(c.incident.case_id, t.IncidentChanged(c.incident.id, entry, who))
                           for c in done]  # fmt: skip
                on_cases(uow, p.space_id, entries, p.actor, at)
                uow.commit()
            return [changes[x].incident for x in ids]
