"""A space's routes: which case events reach which connectors; and the dry run that answers,
for a case and an event, which routes and connectors it would reach and why."""

from __future__ import annotations

from dataclasses import dataclass, replace

from casekeeper.domain.enums import CaseCategory, CasePriority
from casekeeper.domain.errors import CasekeeperError, ErrorCode, event_not_found, invalid, quote
from casekeeper.domain.ids import uuid7
from casekeeper.domain.model import Case
from casekeeper.domain.notifications import (
    MAX_CONNECTORS_PER_ROUTE,
    MAX_MATCH_VALUES,
    MAX_ROUTES,
    MessageTemplate,
    Route,
    RouteFilter,
    Trigger,
    check_name,
    trigger_of,
)
from casekeeper.domain.notify_templates import compile_template
from casekeeper.service import validation as v
from casekeeper.service.auth import Principal
from casekeeper.service.context import ServiceContext
from casekeeper.service.notify_config import MANAGE, READ, find_connector, known_triggers
from casekeeper.service.notify_routing import Reach, reach
from casekeeper.service.permissions import Permission
from casekeeper.store.uow import UnitOfWork

MAX_LABEL = 4096


@dataclass(frozen=True, slots=True)
class RouteInput:
    """A create (``name`` and ``connectors`` required) or an update (``None`` keeps).
    Connectors are named by id or by name; labels and groupings are ``key=value``."""

    name: str | None = None
    connectors: tuple[str, ...] | None = None
    events: tuple[str, ...] | None = None
    min_priority: str | None = None  # "P2"; "" clears
    categories: tuple[str, ...] | None = None
    labels: tuple[str, ...] | None = None
    groupings: tuple[str, ...] | None = None
    title_template: str | None = None  # "" clears
    text_template: str | None = None
    stop: bool | None = None
    enabled: bool | None = None
    position: int | None = None


@dataclass(frozen=True, slots=True)
class DryRun:
    case: Case
    trigger: Trigger
    reach: Reach


def route_not_found(ref: str) -> CasekeeperError:
    return CasekeeperError(ErrorCode.NOTIFICATION_ROUTE_NOT_FOUND, f"Route not found: {quote(ref)}")


def find_route(uow: UnitOfWork, space_id: int, ref: str) -> Route:
    found = uow.routes.get(space_id, ref) or uow.routes.by_name(space_id, ref)
    if found is None:
        raise route_not_found(ref)
    return found


def parse_trigger(raw: str, field: str = "events") -> Trigger:
    try:
        trig = Trigger(raw.strip().lower())
    except ValueError:
        trig = Trigger.TEST
    if trig == Trigger.TEST:
        raise invalid(f"unknown event {quote(raw)}; one of {known_triggers()}", field=field)
    return trig


def _priority(raw: str) -> CasePriority | None:
    text = raw.strip().upper()
    if not text:
        return None
    if text not in ("P1", "P2", "P3", "P4", "P5"):
        raise invalid(f"a priority P1 to P5, got {quote(raw)}", field="min_priority")
    return CasePriority[text]


def _category(raw: str) -> CaseCategory:
    text = raw.strip().upper()
    if text not in ("SECURITY", "AVAILABILITY"):
        raise invalid(f"a category SECURITY or AVAILABILITY, got {quote(raw)}",
                      field="categories")  # fmt: skip
    return CaseCategory[text]


def _pairs(raw: tuple[str, ...], field: str) -> tuple[tuple[str, str], ...]:
    if len(raw) > MAX_MATCH_VALUES:
        raise invalid(f"at most {MAX_MATCH_VALUES} values", field=field)
    out = []
    for i, item in enumerate(raw):
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or len(item) > MAX_LABEL:
            raise invalid(f"key=value, got {quote(item)}", field=f"{field}[{i}]")
        out.append((key.strip(), value.strip()))
    return tuple(out)


def _template(raw: str | None, old: str | None, field: str) -> str | None:
    if raw is None:
        return old
    if not raw.strip():
        return None
    compile_template(raw, field)
    return raw


class RouteService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def create(self, p: Principal, inp: RouteInput) -> Route:
        p.require(MANAGE, "create a route")
        if inp.name is None:
            raise invalid("a route needs a name", field="name")
        if not inp.connectors:
            raise invalid("a route needs at least one connector", field="connectors")
        now = self.ctx.clock()
        with self.ctx.db.writer() as uow:
            if uow.routes.count(p.space_id) >= MAX_ROUTES:
                raise invalid(f"a space has at most {MAX_ROUTES} routes")
            blank = Route(
                id=uuid7(now), space_id=p.space_id, name="", create_time=now, update_time=now,
                position=uow.routes.next_position(p.space_id), connector_ids=(),
                filter=RouteFilter(),
            )  # fmt: skip
            made = self._apply(uow, blank, inp, now)
            uow.routes.add(made)
            uow.commit()
        return made

    def update(self, p: Principal, ref: str, inp: RouteInput) -> Route:
        p.require(MANAGE, "change a route")
        with self.ctx.db.writer() as uow:
            old = find_route(uow, p.space_id, ref)
            new = self._apply(uow, old, inp, self.ctx.clock())
            uow.routes.save(new)
            uow.commit()
        return new

    def delete(self, p: Principal, ref: str) -> None:
        p.require(MANAGE, "delete a route")
        with self.ctx.db.writer() as uow:
            found = find_route(uow, p.space_id, ref)
            uow.routes.delete(p.space_id, found.id)
            uow.commit()

    def get(self, p: Principal, ref: str) -> Route:
        p.require(READ, "read routes")
        with self.ctx.db.reader() as uow:
            return find_route(uow, p.space_id, ref)

    def list_routes(self, p: Principal) -> list[Route]:
        p.require(READ, "read routes")
        with self.ctx.db.reader() as uow:
            return uow.routes.in_space(p.space_id)

    def dry_run(
        self, p: Principal, case_ref: str, event: str | None = None, event_id: str | None = None
    ) -> DryRun:
        """Which routes and connectors ``event`` on the case would reach now, and why. The
        event is named (``acknowledged``) or given by the id of one on the case's timeline;
        neither means "opened". Nothing is sent or recorded."""
        p.require((*READ, Permission.CASE_READ), "explain notification routing")
        ref = v.case_ref(case_ref, field="case_id")
        with self.ctx.db.reader() as uow:
            case = uow.cases.require(p.space_id, ref)
            trig = Trigger.OPENED if event is None else parse_trigger(event, "event")
            if event_id is not None:
                found = uow.events.get(p.space_id, event_id)
                if found is None or found.case_id != case.id:
                    raise event_not_found(event_id)
                named = trigger_of(found.data)
                if named is None:
                    raise invalid(f"event {quote(event_id)} ({found.data.kind.value}) notifies "
                                  "nobody: it is not one of " + known_triggers(),
                                  field="event_id")  # fmt: skip
                trig = named
            routes = uow.routes.in_space(p.space_id)
            conns = uow.connectors.by_ids([c for r in routes for c in r.connector_ids])
        return DryRun(case, trig, reach(routes, conns, trig, case))

    def _apply(self, uow: UnitOfWork, base: Route, inp: RouteInput, now: int) -> Route:
        name = base.name if inp.name is None else check_name(inp.name, "route")
        other = uow.routes.by_name(base.space_id, name)
        if other is not None and other.id != base.id:
            raise CasekeeperError(ErrorCode.ALREADY_EXISTS, f"a route named {quote(name)} exists")
        ids = base.connector_ids
        if inp.connectors is not None:
            if not inp.connectors or len(inp.connectors) > MAX_CONNECTORS_PER_ROUTE:
                raise invalid(f"a route has 1 to {MAX_CONNECTORS_PER_ROUTE} connectors",
                              field="connectors")  # fmt: skip
            ids = tuple(dict.fromkeys(find_connector(uow, base.space_id, c).id
                                      for c in inp.connectors))  # fmt: skip
        f = base.filter
        if inp.events is not None:
            if len(inp.events) > MAX_MATCH_VALUES:
                raise invalid(f"at most {MAX_MATCH_VALUES} events", field="events")
            f = replace(f, triggers=frozenset(parse_trigger(e) for e in inp.events))
        if inp.min_priority is not None:
            f = replace(f, min_priority=_priority(inp.min_priority))
        if inp.categories is not None:
            f = replace(f, categories=frozenset(_category(c) for c in inp.categories))
        if inp.labels is not None:
            f = replace(f, labels=_pairs(inp.labels, "labels"))
        if inp.groupings is not None:
            f = replace(f, groupings=_pairs(inp.groupings, "groupings"))
        template = MessageTemplate(
            title=_template(inp.title_template, base.template.title, "title_template"),
            text=_template(inp.text_template, base.template.text, "text_template"),
        )
        position = base.position
        if inp.position is not None:
            if not 0 <= inp.position <= 1_000_000:
                raise invalid("a position from 0 to 1000000", field="position")
            position = inp.position
        return replace(
            base, name=name, connector_ids=ids, filter=f, template=template, position=position,
            stop=base.stop if inp.stop is None else inp.stop,
            enabled=base.enabled if inp.enabled is None else inp.enabled, update_time=now,
        )  # fmt: skip
