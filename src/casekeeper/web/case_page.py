"""A case's page (header, actions, timeline, alerts, incidents, deliveries) and the actions
it posts: each one a command through the same service the APIs use."""

from __future__ import annotations

from typing import Final

from starlette.responses import Response

from casekeeper.domain import commands as cmd
from casekeeper.domain.commands import CaseChange, CaseCommand
from casekeeper.domain.enums import CasePriority, CaseStatus
from casekeeper.domain.errors import CasekeeperError, ErrorCode, invalid
from casekeeper.domain.signal_indicators import derived_priority
from casekeeper.web import present
from casekeeper.web.http import BASE, Page, redirect

EVENTS_PER_PAGE: Final = 200


def url_of(ref: str) -> str:
    return f"{BASE}/cases/{ref}"


def case_page(page: Page) -> Response:
    c, p = page.c, page.p
    ref = page.param("ref")
    offset = _offset(page.arg("older"))
    case, events = c.case_views.events(p, ref, None, offset=offset, limit=EVENTS_PER_PAGE,
                                       descending=True)  # fmt: skip
    incidents = c.incidents.of_case(p, case.id) if page.can("incidents:read") else []
    deliveries = c.ledger.for_cases(p, [case.id])[case.id]
    members = c.users.members(p) if page.can("case:Assign") else []
    ids = present.user_ids(events.events) | set(case.assignees)
    ids |= {x.assignee for x in incidents if x.assignee}
    names = present.Names(c.users.profiles(sorted(ids)) if ids else {})
    now = c.cases.clock()
    why = derived_priority(case.indicators)
    fragment = page.arg("fragment") == "live"
    context = {
        "case": case, "ref": case.readable_id or case.id, "events": events.events,
        "total": events.total, "offset": offset, "per_page": EVENTS_PER_PAGE,
        "entries": [(e, present.entry(e, names)) for e in events.events],
        "alerts": list(present.alerts(case.indicators)), "incidents": incidents,
        "deliveries": deliveries, "members": members, "names": names, "now": now,
        "why": why[1] if why else None, "priorities": [x.name for x in CasePriority if x.value],
        "is_open": case.status in (CaseStatus.PENDING_ACTIVATION, CaseStatus.ACTIVE,
                                   CaseStatus.ACKNOWLEDGED),
    }  # fmt: skip
    return page.render("case_live.html" if fragment else "case.html", context)


def _offset(raw: str | None) -> int:
    if raw is None:
        return 0
    if not raw.isdigit() or int(raw) > 10_000_000:
        raise invalid("older is a number of events to skip", field="older")
    return int(raw)


def _command(page: Page, action: str) -> CaseCommand:
    match action:
        case "assign-me":
            return cmd.Assign(page.p.user_id)
        case "assign":
            user = page.field("user")
            if user is None:
                raise invalid("choose whom to assign", field="user")
            return cmd.Assign(user)
        case "unassign":
            return cmd.Unassign()
        case "acknowledge":
            return cmd.Acknowledge()
        case "unacknowledge":
            return cmd.Unacknowledge()
        case "resolve":
            return cmd.Resolve(page.field("reason"))
        case "close":
            return cmd.Close()
        case "reopen":
            return cmd.Reopen()
        case "priority":
            value = (page.field("priority") or "").upper()
            if value == "CLEAR":
                return cmd.ClearPriorityOverride()
            if value not in CasePriority.__members__ or value == "UNSPECIFIED":
                raise invalid("choose a priority P1 to P5, or clear the override", field="priority")
            return cmd.SetPriorityOverride(CasePriority[value])
        case "title":
            return cmd.Retitle(page.field("title") or "")
        case "hold" | "unhold":
            return cmd.SetOnHold(action == "hold")
    raise invalid(f"unknown action {action[:40]!r}", field="action")


DONE: Final = {
    "assign-me": "assigned to you", "assign": "assigned", "unassign": "unassigned",
    "acknowledge": "acknowledged", "unacknowledge": "no longer acknowledged",
    "resolve": "resolved", "close": "closed", "reopen": "reopened",
    "priority": "priority changed", "title": "renamed", "hold": "put on hold",
    "unhold": "taken off hold",
}  # fmt: skip


def act(page: Page) -> Response:
    ref = page.param("ref")
    back = url_of(ref)
    action = page.field("action") or ""
    version = page.field("version")
    try:
        expected = int(version) if version and version.isdigit() else None
        case = page.c.cases.change(
            page.p, CaseChange(ref, (_command(page, action),), expected_version=expected)
        )
    except CasekeeperError as err:
        if err.code is ErrorCode.CONFLICT:
            return redirect(back, "error", "someone changed this case while you were looking: "
                            "here it is as it is now; try again")  # fmt: skip
        return redirect(back, "error", err.message)
    return redirect(url_of(case.readable_id or case.id), "ok",
                    f"{case.readable_id or 'case'} {DONE.get(action, 'changed')}")  # fmt: skip


def comment(page: Page) -> Response:
    ref = page.param("ref")
    try:
        page.c.timeline.create_comment(page.p, ref, page.field("text") or "")
    except CasekeeperError as err:
        return redirect(url_of(ref), "error", err.message)
    return redirect(url_of(ref) + "#timeline", "ok", "comment added")


def edit_comment(page: Page) -> Response:
    ref, event = page.param("ref"), page.param("event")
    try:
        page.c.timeline.update_comment(page.p, event, page.field("text") or "", own_only=True)
    except CasekeeperError as err:
        return redirect(url_of(ref), "error", err.message)
    return redirect(url_of(ref) + "#timeline", "ok", "comment updated")


def delete_comment(page: Page) -> Response:
    ref, event = page.param("ref"), page.param("event")
    try:
        page.c.timeline.delete_comment(page.p, event, own_only=True)
    except CasekeeperError as err:
        return redirect(url_of(ref), "error", err.message)
    return redirect(url_of(ref) + "#timeline", "ok", "comment deleted")


def replay(page: Page) -> Response:
    ref, delivery = page.param("ref"), page.param("delivery")
    try:
        page.c.ledger.replay(page.p, delivery)
    except CasekeeperError as err:
        return redirect(url_of(ref), "error", err.message)
    return redirect(url_of(ref) + "#deliveries", "ok", "the delivery will be sent again")
