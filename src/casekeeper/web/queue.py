"""The queue: the space's cases under the URL's filters, with facet counts, keyset pages,
saved views and bulk actions."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Final

from starlette.responses import Response

from casekeeper.domain import commands as cmd
from casekeeper.domain.commands import CaseChange, CaseCommand
from casekeeper.domain.enums import CaseStatus
from casekeeper.domain.errors import CasekeeperError, invalid
from casekeeper.domain.model import Case
from casekeeper.domain.query import MAX_PAGE_SIZE, FilterValues
from casekeeper.service.cases import CasePage
from casekeeper.web import queue_query as qq
from casekeeper.web.http import BASE, Page, redirect, safe_next
from casekeeper.web.present import Names

QUEUE: Final = BASE + "/"
FACET_VALUES: Final = 12  # values shown per label or grouping key
POOL: Final = ThreadPoolExecutor(2, thread_name_prefix="facets")


@dataclass(frozen=True, slots=True)
class Facet:
    name: str  # the query parameter
    title: str
    options: list[tuple[str, str, int, bool, str]]  # (value, label, count, on, url)


def _facets(page: Page, state: qq.QueueState, fv: FilterValues, statuses: Mapping[CaseStatus, int],
            names: Names) -> list[Facet]:  # fmt: skip
    def options(name: str, items: list[tuple[str, str, int]], on: tuple[str, ...]) -> Facet:
        title = {"status": "Status", "priority": "Priority", "category": "Category",
                 "assignee": "Assignee"}[name]  # fmt: skip
        return Facet(name, title, [
            (value, label, n, value in on, state.toggled(QUEUE, name, value))
            for value, label, n in items
        ])  # fmt: skip

    me = page.p.user_id
    assigned = [(uid, names.user(uid), n) for uid, n in fv.assignees.items()][:FACET_VALUES]
    mine = fv.assignees.get(me, 0)
    return [
        options("status", [(slug, slug.replace("-", " ").capitalize(), statuses.get(s, 0))
                           for slug, s in qq.STATUSES.items()], state.statuses),
        options("priority", [(name, name, fv.priorities.get(p, 0))
                             for name, p in qq.PRIORITIES.items()], state.priorities),
        options("category", [(name, name.capitalize(), fv.categories.get(c, 0))
                             for name, c in qq.CATEGORIES.items()], state.categories),
        options("assignee", [("me", "Me", mine), ("unassigned", "Unassigned", fv.unassigned),
                             *[a for a in assigned if a[0] != me]], state.assignees),
    ]  # fmt: skip


def _pairs(state: qq.QueueState, kind: str, counts: dict[str, dict[str, int]]) -> list[Facet]:
    on = state.labels if kind == "label" else state.groupings
    out = []
    for key in sorted(counts)[:FACET_VALUES]:
        values = sorted(counts[key].items(), key=lambda kv: (-kv[1], kv[0]))[:FACET_VALUES]
        out.append(Facet(kind, key, [
            (v, v, n, (key, v) in on, state.pair_toggled(QUEUE, kind, key, v)) for v, n in values
        ]))  # fmt: skip
    return out


def queue(page: Page) -> Response:
    c, p = page.c, page.p
    get = {k: page.request.query_params.getlist(k) for k in page.request.query_params}
    state = qq.parse(get)
    now = c.cases.clock()
    query = qq.query_of(state, p.user_id, now)
    fragment = page.arg("fragment") == "rows"
    # The status facet counts every status under the other filters; both come from the facet
    # tallies, or from bounded samples (then marked as estimates), side by side.
    by_status = POOL.submit(c.cases.filter_values, p, replace(query.filters, statuses=()))
    fv = c.cases.filter_values(p, query.filters)
    statuses = by_status.result().statuses
    if fv.estimated or any(fv.statuses.values()) or query.page.token:
        result = c.cases.list_page(p, query, detail=False)
    else:  # the exact counts say nothing matches: no need to walk the indexes to find that
        result = CasePage([], None, None)
    ids = {a for x in result.cases for a in x.assignees} | set(fv.assignees)
    names = Names(c.users.profiles(sorted(ids)) if ids else {})
    context = {
        "state": state, "cases": result.cases, "now": now, "names": names,
        "after": result.after and state.url(QUEUE, after=result.after),
        "before": result.before and state.url(QUEUE, before=result.before),
        "facets": _facets(page, state, fv, statuses, names),
        "labels": _pairs(state, "label", fv.labels),
        "groupings": _pairs(state, "grouping", fv.groupings),
        "estimated": fv.estimated,
        "sorts": list(qq.SORTS), "ranges": list(qq.RANGES),
        "here": state.url(QUEUE) if not (state.after or state.before) else page.request.url.path
        + "?" + page.request.url.query,
        "view_query": state.url("")[1:],
        "views": [] if fragment else c.saved_views.list(p),
    }  # fmt: skip
    return page.render("queue_results.html" if fragment else "queue.html", context)


BULK: Final[dict[str, str]] = {
    "assign-me": "Assign to me", "acknowledge": "Acknowledge", "resolve": "Resolve",
    "close": "Close", "unassign": "Unassign",
}  # fmt: skip


def _command(page: Page, action: str) -> CaseCommand:
    match action:
        case "assign-me":
            return cmd.Assign(page.p.user_id)
        case "unassign":
            return cmd.Unassign()
        case "acknowledge":
            return cmd.Acknowledge()
        case "resolve":
            return cmd.Resolve(page.field("reason"))
        case "close":
            return cmd.Close()
    raise invalid(f"unknown action {action[:40]!r}: one of {', '.join(BULK)}", field="action")


def bulk(page: Page) -> Response:
    """Apply one action to the selected cases; show what happened to each."""
    ids = page.fields("ids")
    back = safe_next(page.field("back"))
    if not ids:
        return redirect(back, "error", "select at least one case first")
    if len(ids) > MAX_PAGE_SIZE:
        return redirect(back, "error", f"at most {MAX_PAGE_SIZE} cases at once")
    action = page.field("action") or ""
    try:
        command = _command(page, action)
    except CasekeeperError as err:
        return redirect(back, "error", err.message)
    commands: tuple[CaseCommand, ...] = (command,)
    result = page.c.cases.change_many(page.p, [CaseChange(i, commands) for i in ids])
    done = {x.id: x for x in result.cases}
    by_ref = {x.readable_id: x for x in result.cases}
    rows: list[tuple[str, Case | None, str | None]] = []
    failures = {f.id: f for f in result.failures}
    for raw in ids:
        case = done.get(raw) or by_ref.get(raw)
        if raw in failures:
            rows.append((raw, None, failures[raw].message))
        else:
            rows.append((raw, case, None))
    return page.render("bulk.html", action=BULK[action], rows=rows, back=back,
                       ok=len(rows) - len(failures), failed=len(failures))  # fmt: skip


def save_view(page: Page) -> Response:
    name = page.field("name") or ""
    query = page.field("query") or ""
    try:
        view = page.c.saved_views.save(page.p, name, query)
    except CasekeeperError as err:
        return redirect(QUEUE + ("?" + query if query else ""), "error", err.message)
    return redirect(QUEUE + ("?" + view.query if view.query else ""), "ok",
                    f"saved the view “{view.name}”")  # fmt: skip


def delete_view(page: Page) -> Response:
    try:
        page.c.saved_views.delete(page.p, page.field("id") or "")
    except CasekeeperError as err:
        return redirect(QUEUE, "error", err.message)
    return redirect(QUEUE, "ok", "deleted the view")
