"""Routing: the outbox's case events become notifications and deliveries.

One transaction takes a batch of pending outbox messages, matches each trigger event against
its space's routes (``domain.notifications.evaluate``, the function the dry run shows), writes
the ledger rows and marks the messages done. A crash before the commit leaves the messages
pending for the next pass; after it, the deliveries are durable. Events that are not triggers
(tags changed, a signal note…) are marked done and notify nobody.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass

from casekeeper.domain.events import Actor, CaseEvent
from casekeeper.domain.ids import uuid7
from casekeeper.domain.model import Case, CaseRef
from casekeeper.domain.notifications import (
    TRIGGER_KINDS,
    CaseView,
    Connector,
    NotificationResult,
    NotificationView,
    Route,
    RouteVerdict,
    Trigger,
    evaluate,
    trigger_of,
)
from casekeeper.domain.notify_ledger import RouteRef
from casekeeper.domain.notify_templates import TemplateError, render
from casekeeper.service.context import ServiceContext
from casekeeper.store.ledger import NewDelivery, NewNotification
from casekeeper.store.uow import UnitOfWork

log = logging.getLogger(__name__)

_VERBS = {
    Trigger.OPENED: "opened", Trigger.REOPENED: "reopened",
    Trigger.ACKNOWLEDGED: "acknowledged", Trigger.RESOLVED: "resolved",
    Trigger.CLOSED: "closed", Trigger.ASSIGNED: "assigned", Trigger.UNASSIGNED: "unassigned",
    Trigger.PRIORITY_CHANGED: "changed priority", Trigger.KPI_BREACHED: "breached a KPI",
    Trigger.COMMENTED: "has a new comment", Trigger.TITLE_CHANGED: "was renamed",
    Trigger.TEST: "test notification",
}  # fmt: skip


def actor_words(actor: Actor) -> str:
    f = actor.fields
    return (
        f.get("name") or f.get("displayName") or f.get("username") or f.get("receiverName")
        or f.get("id") or actor.kind.value
    )  # fmt: skip


def case_view(case: Case, ui_base_url: str) -> CaseView:
    return CaseView(
        id=case.id,
        readable_id=case.readable_id,
        title=case.title,
        status=case.status.name,
        priority=case.effective_priority.name,
        category=case.category.name,
        assignees=case.assignees,
        labels={kv.key: kv.value for kv in case.labels},
        link=f"{ui_base_url.rstrip('/')}/cases/{case.id}",
        description=case.description,
    )


def make_view(
    notification_id: str,
    case: Case,
    trigger: Trigger,
    event: CaseEvent | None,
    route: Route | None,
    ui_base_url: str,
    now: int,
) -> NotificationView:
    """The notification as every connector words it: the default title and text, or the
    route's templates over them (a template that fails falls back to the default, with the
    failure noted in ``extra`` rather than losing the notification)."""
    cv = case_view(case, ui_base_url)
    name = cv.readable_id or cv.id
    actor = actor_words(event.actor) if event is not None else "casekeeper"
    summary = f"{name} {_VERBS[trigger]}: {cv.title}"
    if event is not None and trigger != Trigger.TEST:
        summary = f"{name} {_VERBS[trigger]} by {actor}: {cv.title}"
    title = f"[{cv.priority}] {name}: {cv.title}"
    text = f"{summary}\nStatus {cv.status}, priority {cv.priority}, category {cv.category}."
    view = NotificationView(
        notification_id=notification_id, space_id=case.space_id, trigger=trigger,
        event_id=None if event is None else event.event_id,
        event_time=now if event is None else event.event_time, actor=actor,
        summary=summary, title=title, text=text, case=cv,
        route_name=None if route is None else route.name,
    )  # fmt: skip
    if route is None or (route.template.title is None and route.template.text is None):
        return view
    extra: dict[str, str] = {}
    try:
        if route.template.title is not None:
            title = render(route.template.title, view.context(), "template.title").strip()
        if route.template.text is not None:
            text = render(route.template.text, view.context(), "template.text")
    except TemplateError as exc:
        extra["templateError"] = str(exc)
        log.warning("route %s: template failed, default wording used: %s", route.id, exc)
    return NotificationView(
        notification_id=view.notification_id, space_id=view.space_id, trigger=trigger,
        event_id=view.event_id, event_time=view.event_time, actor=actor, summary=summary,
        title=title or view.title, text=text, case=cv, route_name=route.name, extra=extra,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Reach:
    """What one event reaches: each route's verdict, and the connectors of the matched ones
    (with why a connector is unusable, when it is)."""

    verdicts: list[RouteVerdict]
    connectors: dict[str, list[tuple[str, Connector | None, str | None]]]  # route id → …

    @property
    def routed(self) -> list[Route]:
        return [v.route for v in self.verdicts if v.matched]


def reach(
    routes: list[Route], connectors: dict[str, Connector], trigger: Trigger, case: Case
) -> Reach:
    verdicts = evaluate(routes, trigger, case)
    out: dict[str, list[tuple[str, Connector | None, str | None]]] = {}
    for v in verdicts:
        if not v.matched:
            continue
        rows: list[tuple[str, Connector | None, str | None]] = []
        for cid in v.route.connector_ids:
            conn = connectors.get(cid)
            if conn is None:
                rows.append((cid, None, "the connector was deleted"))
            elif not conn.enabled:
                rows.append((cid, conn, "the connector is disabled"))
            else:
                rows.append((cid, conn, None))
        out[v.route.id] = rows
    return Reach(verdicts, out)


class Router:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def route_batch(self, limit: int = 500) -> int:
        """Route up to ``limit`` pending outbox messages; how many were taken."""
        now = self.ctx.clock()
        with self.ctx.db.writer() as uow:
            msgs = uow.outbox.claim_case_events(limit)
            if not msgs:
                return 0
            kinds = {k.value for k in TRIGGER_KINDS}
            events = uow.events.by_ids([m.event_id for m in msgs if m.kind in kinds])
            todo: list[tuple[CaseEvent, Trigger]] = []
            for m in msgs:
                ev = events.get(m.event_id)
                trig = None if ev is None else trigger_of(ev.data)
                if ev is not None and trig is not None:
                    todo.append((ev, trig))
            if todo:
                self._fan_out(uow, todo, now)
            uow.outbox.mark_done([m.id for m in msgs], now)
            uow.commit()
        return len(msgs)

    def _fan_out(self, uow: UnitOfWork, todo: list[tuple[CaseEvent, Trigger]], now: int) -> None:
        by_space: dict[int, set[str]] = defaultdict(set)
        for ev, _ in todo:
            by_space[ev.space_id].add(ev.case_id)
        cases: dict[str, Case] = {}
        for space_id, ids in by_space.items():
            refs = [CaseRef(raw=i, uuid=i) for i in sorted(ids)]
            cases.update(uow.cases.get_many(space_id, refs))
        routes = uow.routes.for_spaces(list(by_space))
        connectors = uow.connectors.by_ids(
            [cid for rs in routes.values() for r in rs for cid in r.connector_ids]
        )
        notes: list[NewNotification] = []
        deliveries: list[NewDelivery] = []
        for ev, trig in todo:
            case = cases.get(ev.case_id)
            if case is not None:  # else deleted since
                r = reach(routes[ev.space_id], connectors, trig, case)
                self._notes(r, case, ev, trig, now, notes, deliveries)
        uow.ledger.add(notes, deliveries)

    def _notes(self, r: Reach, case: Case, ev: CaseEvent, trig: Trigger, now: int,
               notes: list[NewNotification], deliveries: list[NewDelivery]) -> None:  # fmt: skip
        """The ledger rows of one event: a notification per route with a usable connector
        (and a delivery per such connector), one for the routes that matched without any, or
        one saying no route matched."""

        def note(result: NotificationResult, route: Route | None = None,
                 matched: tuple[RouteRef, ...] = ()) -> NewNotification:  # fmt: skip
            nid = uuid7(now)
            view = None
            if route is not None:
                view = make_view(nid, case, trig, ev, route, self.ctx.ui_base_url, now)
            return NewNotification(
                id=nid, space_id=ev.space_id, case_id=case.id, event_id=ev.event_id,
                trigger=trig, result=result,
                route=None if route is None else RouteRef(route.id, route.name),
                matched=matched, view=view, create_time=now,
            )  # fmt: skip

        if not r.routed:
            notes.append(note(NotificationResult.NO_ROUTE))
            return
        unusable: list[RouteRef] = []
        for route in r.routed:
            usable = [c for _, c, why in r.connectors[route.id] if why is None and c]
            if not usable:
                unusable.append(RouteRef(route.id, route.name))
                continue
            n = note(NotificationResult.ROUTED, route)
            notes.append(n)
            for c in usable:
                deliveries.append(NewDelivery(
                    id=uuid7(now), notification_id=n.id, space_id=ev.space_id,
                    case_id=case.id, connector_id=c.id, connector_name=c.name,
                    connector_kind=c.kind, create_time=now,
                ))  # fmt: skip
        if unusable:
            notes.append(note(NotificationResult.NO_CONNECTOR, matched=tuple(unusable)))
