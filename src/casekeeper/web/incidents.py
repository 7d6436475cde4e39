"""The incidents list and an incident's page with its events and actions."""

from __future__ import annotations

from typing import Final
from urllib.parse import urlencode

from starlette.responses import Response

from casekeeper.domain.errors import CasekeeperError, invalid
from casekeeper.domain.incident_query import DEFAULT_ORDER, IncidentFilter, PageRequest
from casekeeper.domain.incidents import IncidentSeverity, IncidentStatus
from casekeeper.web.http import BASE, Page, redirect
from casekeeper.web.present import Names, incident_event

LIST: Final = BASE + "/incidents"
PAGE_SIZE: Final = 50
STATUSES: Final = {s.name.lower(): s for s in IncidentStatus if s.value}
SEVERITIES: Final = {s.name.lower(): s for s in IncidentSeverity if s.value}
OPEN: Final = ("triggered", "acknowledged")


def _chosen(page: Page, name: str, known: dict[str, object]) -> list[str]:
    values = page.args(name)
    for v in values:
        if v != "any" and v not in known:
            raise invalid(f"unknown {name} {v[:40]!r}: one of {', '.join(known)}", field=name)
    return values


def incidents(page: Page) -> Response:
    statuses = _chosen(page, "status", dict(STATUSES)) or list(OPEN)
    severities = _chosen(page, "severity", dict(SEVERITIES))
    f = IncidentFilter(
        statuses=tuple(STATUSES[s] for s in statuses if s != "any"),
        severities=tuple(SEVERITIES[s] for s in severities if s != "any"),
    )
    token = page.arg("after")
    found = page.c.incidents.list_incidents(page.p, f, DEFAULT_ORDER,
                                            PageRequest(PAGE_SIZE, token))  # fmt: skip
    ids = sorted({x.assignee for x in found.incidents if x.assignee})
    names = Names(page.c.users.profiles(ids) if ids else {})
    keep = [("status", s) for s in statuses] + [("severity", s) for s in severities]
    after = found.next_token and f"{LIST}?{urlencode([*keep, ('after', found.next_token)])}"
    return page.render(
        "incidents.html", incidents=found.incidents, total=found.total_size, after=after,
        statuses=statuses, severities=severities, all_statuses=list(STATUSES),
        all_severities=list(SEVERITIES), names=names, now=page.c.cases.clock(),
    )  # fmt: skip


def incident(page: Page) -> Response:
    c, p = page.c, page.p
    found = c.incidents.get(p, page.param("id"))
    events = c.incidents.events(p, found.id)
    case = None
    try:
        case = c.cases.get(p, found.case_id)
    except CasekeeperError:
        case = None  # deleted since, or not readable by this user
    ids = sorted({x.assigned_to for x in found.assignments} | {e.by for e in events})
    names = Names(c.users.profiles(ids) if ids else {})
    rows = [(e, incident_event(e, names)) for e in reversed(events)]
    return page.render("incident.html", incident=found, events=rows, case=case, names=names,
                       now=c.cases.clock())  # fmt: skip


ACTIONS: Final = ("acknowledge", "resolve", "close", "assign-me", "unassign")


def act(page: Page) -> Response:
    c, p = page.c, page.p
    ident = page.param("id")
    back = f"{LIST}/{ident}"
    action = page.field("action") or ""
    try:
        match action:
            case "acknowledge":
                c.incidents.acknowledge(p, [ident])
            case "resolve":
                c.incidents.resolve(p, [ident])
            case "close":
                c.incidents.close(p, [ident])
            case "assign-me":
                c.incidents.assign(p, [ident], p.user_id)
            case "unassign":
                c.incidents.unassign(p, [ident])
            case _:
                raise invalid(f"unknown action {action[:40]!r}: one of {', '.join(ACTIONS)}")
    except CasekeeperError as err:
        return redirect(back, "error", err.message)
    return redirect(back, "ok", f"incident {action.replace('-', ' ')} done")
