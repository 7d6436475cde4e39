"""``/api/cases``: create, find, get, update (with versions), delete; tags, reporters and the
cases of an alert. Each request becomes the canonical commands and queries (docs/KIBANA.md)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any, Final

from starlette.responses import Response

from casekeeper.api.kibana import render
from casekeeper.api.kibana import vocabulary as vocab
from casekeeper.api.kibana.http import Call
from casekeeper.domain import commands as cmd
from casekeeper.domain.commands import CaseChange
from casekeeper.domain.enums import (
    ActorKind,
    DateRangeMode,
    OrderDirection,
    OrderField,
)
from casekeeper.domain.errors import CasekeeperError, ErrorCode, invalid, quote
from casekeeper.domain.events import Actor
from casekeeper.domain.model import Case, Json
from casekeeper.domain.query import CaseFilters, CaseOrder, CaseQuery, DateRange, PageRequest
from casekeeper.domain.timeutil import parse_rfc3339
from casekeeper.service.admin import NewCase

MAX_TITLE: Final = 160
MAX_DESCRIPTION: Final = 30_000
MAX_PER_PAGE: Final = 100
MAX_WINDOW: Final = 10_000  # page x perPage, as Kibana allows
MAX_BULK: Final = 100
MAX_CATEGORY: Final = 50
SORT: Final = {
    "createdAt": OrderField.CREATED_AT, "created_at": OrderField.CREATED_AT,
    "updatedAt": OrderField.UPDATED_AT, "updated_at": OrderField.UPDATED_AT,
    "status": OrderField.STATUS, "severity": OrderField.PRIORITY,
    "category": OrderField.CATEGORY,
}  # fmt: skip
UNSORTABLE: Final = ("closedAt", "closed_at", "title")
# Kibana-only fields the canonical case keeps in extensions["kibana"].
EXTENSION_FIELDS: Final = ("settings", "connector", "category", "customFields")


async def rendered(call: Call, cases: Sequence[Case]) -> list[Json]:
    facts = await call.run(call.c.case_views.facts, call.p, cases)
    actors = [f.created_by for f in facts.values() if f.created_by is not None]
    profiles = await profiles_of(call, actors)
    now = call.c.cases.clock()
    return [render.case_json(x, facts.get(x.id), profiles, now) for x in cases]


async def profiles_of(call: Call, actors: Iterable[Actor]) -> render.Profiles:
    ids = sorted({a.fields.get("id", "") for a in actors if a.kind is ActorKind.USER})
    return await call.run(call.c.users.profiles, ids) if ids else {}


# -- validation of Kibana's bodies ------------------------------------------------------------


def _text(body: dict[str, Any], name: str, most: int, *, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise invalid("a string is required", field=name)
    if len(value) > most:
        raise invalid(f"at most {most} characters (got {len(value)})", field=name)
    return value


def _strings(body: dict[str, Any], name: str) -> tuple[str, ...]:
    value = body.get(name)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise invalid("a list of strings is required", field=name)
    return tuple(value)


def _assignees(body: dict[str, Any]) -> tuple[str, ...]:
    value = body.get("assignees")
    if not isinstance(value, list):
        raise invalid("a list of {uid} objects", field="assignees")
    out = []
    for n, item in enumerate(value):
        uid = item.get("uid") if isinstance(item, dict) else None
        if not isinstance(uid, str) or not uid.strip():
            raise invalid('each assignee is {"uid": "<user id>"}', field=f"assignees[{n}]")
        out.append(uid.strip())
    return tuple(out)


def _connector(value: object) -> Json:
    if not isinstance(value, dict) or value.get("type") != ".none":
        raise invalid(
            "only the .none connector is supported: casekeeper sends notifications through its "
            "own connectors and routes (docs/NOTIFICATIONS.md)",
            field="connector",
        )
    return dict(render.NO_CONNECTOR)


def _settings(value: object) -> Json:
    if not isinstance(value, dict) or not isinstance(value.get("syncAlerts"), bool):
        raise invalid('{"syncAlerts": true|false} is required', field="settings")
    return {"syncAlerts": value["syncAlerts"]}


def _extension_fields(body: dict[str, Any], base: Json) -> Json:
    ext = dict(base)
    if "settings" in body:
        ext["settings"] = _settings(body["settings"])
    if "connector" in body:
        ext["connector"] = _connector(body["connector"])
    if "category" in body:
        ext["category"] = _text(body, "category", MAX_CATEGORY, required=False)
    if "customFields" in body:
        if not isinstance(body["customFields"], list) or len(body["customFields"]) > 10:
            raise invalid("a list of at most 10 custom fields", field="customFields")
        ext["customFields"] = body["customFields"]
    return ext


# -- create, get, update, delete --------------------------------------------------------------


CREATE_FIELDS: Final = frozenset({
    "title", "description", "owner", "tags", "settings", "connector", "severity", "assignees",
    "category", "customFields",
})  # fmt: skip
PATCH_FIELDS: Final = frozenset({
    "id", "version", "title", "description", "status", "severity", "tags", "assignees",
    "settings", "connector", "category", "customFields", "owner",
})  # fmt: skip


def _known(body: dict[str, Any], allowed: frozenset[str], at: str) -> None:
    """An unknown field is refused, as Kibana does, never dropped without a word."""
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise invalid(f"unknown field(s): {', '.join(map(quote, unknown))}", field=at)


async def create(call: Call) -> Any:
    body = await call.body()
    _known(body, CREATE_FIELDS, "body")
    title = (_text(body, "title", MAX_TITLE) or "").strip()
    description = _text(body, "description", MAX_DESCRIPTION) or ""
    owner = body.get("owner")
    if owner not in vocab.OWNERS:
        raise invalid(f"one of {', '.join(vocab.OWNERS)}", field="owner")
    for name in ("tags", "settings", "connector"):
        if name not in body:
            raise invalid("required", field=name)
    tags = _strings(body, "tags")
    severity = vocab.severity_word(body.get("severity", "low"))
    ext = _extension_fields(body, {"owner": owner})
    fields: list[cmd.CaseCommand] = [cmd.SetTags(tags), cmd.SetExtension(vocab.NAMESPACE, ext)]
    if description.strip():
        fields.append(cmd.SetDescription(description))
    if body.get("assignees"):
        fields.append(cmd.SetAssignees(_assignees(body)))
    spec = NewCase(
        title=title, category=vocab.category_of(str(owner)),
        priority=vocab.PRIORITY_OF[severity], fields=tuple(fields),
    )  # fmt: skip
    case = await call.run(call.c.admin.create_case, call.p, spec)
    return (await rendered(call, [case]))[0]


async def get(call: Call) -> Any:
    case = await call.run(call.c.cases.get, call.p, call.param("case_id"), field="case_id")
    return (await rendered(call, [case]))[0]


def _changes(case: Case, patch: dict[str, Any]) -> tuple[cmd.CaseCommand, ...]:
    out: list[cmd.CaseCommand] = []
    if "title" in patch:
        out.append(cmd.Retitle((_text(patch, "title", MAX_TITLE) or "").strip()))
    if "description" in patch:
        out.append(cmd.SetDescription(_text(patch, "description", MAX_DESCRIPTION) or ""))
    if "tags" in patch:
        out.append(cmd.SetTags(_strings(patch, "tags")))
    if "assignees" in patch:
        out.append(cmd.SetAssignees(_assignees(patch)))
    if "severity" in patch:
        out.extend(vocab.severity_commands(case, vocab.severity_word(patch["severity"])))
    if "owner" in patch and patch["owner"] != vocab.owner_of(case):
        raise invalid("the owner of a case cannot change", field="owner")
    base = case.extensions.get(vocab.NAMESPACE) or {}
    ext = _extension_fields(patch, base if isinstance(base, dict) else {})
    if ext != base:
        out.append(cmd.SetExtension(vocab.NAMESPACE, {**ext, "owner": vocab.owner_of(case)}))
    if "status" in patch:  # a reopen first (an ended case takes no change), a close last
        wanted = vocab.status_word(patch["status"])
        moves = vocab.status_commands(case, wanted)
        out = [*out, *moves] if wanted == "closed" else [*moves, *out]
    return tuple(out)


async def update(call: Call) -> Any:
    body = await call.body()
    items = body.get("cases")
    if not isinstance(items, list) or not items:
        raise invalid("a non-empty list of {id, version, ...changes}", field="cases")
    if len(items) > MAX_BULK:
        raise invalid(f"at most {MAX_BULK} cases at once (got {len(items)})", field="cases")
    changes: list[CaseChange] = []
    read: list[Case] = []  # each item's case as read, in the request's order
    for n, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise invalid("each item needs an id and a version", field=f"cases[{n}]")
        _known(item, PATCH_FIELDS, f"cases[{n}]")
        version = render.parse_version(item.get("version"), field=f"cases[{n}].version")
        case = await call.run(call.c.cases.get, call.p, item["id"], field=f"cases[{n}].id")
        read.append(case)
        patch = {k: v for k, v in item.items() if k not in ("id", "version")}
        if not patch:
            raise invalid("nothing to change", field=f"cases[{n}]")
        commands = _changes(case, patch)
        if commands:
            changes.append(CaseChange(item["id"], commands, expected_version=version))
        elif case.version != version:
            raise _stale([item["id"]])
    result = await call.run(call.c.cases.change_many, call.p, changes) if changes else None
    if result is not None and result.failures:
        stale = [f.id for f in result.failures if f.code is ErrorCode.CONFLICT]
        if stale:
            raise _stale(stale, applied=len(result.cases))
        first = result.failures[0]
        done = f"; the other {len(result.cases)} case(s) were updated" if result.cases else ""
        raise CasekeeperError(first.code, f"case {first.id}: {first.message}{done}")
    # The changed cases as the change left them; the others as read (nothing changed them).
    latest = {c.id: c for c in (result.cases if result is not None else ())}
    cases = [latest.get(c.id, c) for c in {c.id: c for c in read}.values()]
    return await rendered(call, cases)


def _stale(ids: list[str], applied: int = 0) -> CasekeeperError:
    done = f"; the other {applied} case(s) were updated" if applied else ""
    return CasekeeperError(
        ErrorCode.CONFLICT,
        f"These cases {', '.join(ids)} have been updated. Please refresh before saving "
        f"additional updates{done}.",
    )


async def delete(call: Call) -> Any:
    ids = call.many("ids")
    await call.run(call.c.case_views.delete, call.p, ids)
    return Response(status_code=204)


# -- find ---------------------------------------------------------------------------------------


def _statuses(words: list[str]) -> tuple[Any, ...]:
    return tuple(s for w in words for s in vocab.STATUSES_OF[vocab.status_word(w)])


async def _reporters(call: Call, names: list[str]) -> tuple[Actor, ...]:
    ids = await call.run(call.c.users.ids_of, [n.strip().lower() for n in names])
    return tuple(Actor.user(i) for i in ids.values()) or (Actor.user("-none-"),)


def _range(call: Call) -> DateRange | None:
    start, end = call.one("from"), call.one("to")
    if start is None and end is None:
        return None
    try:
        lo = parse_rfc3339(start, field="from") if start else 0
        # Through the end of its millisecond: Kibana shows times to the millisecond, so a
        # "to" copied from a case's created_at includes that case.
        hi = parse_rfc3339(end, field="to") + 999 if end else 2**62
    except CasekeeperError:
        raise invalid("from and to are ISO 8601 times (2024-01-31T00:00:00Z)") from None
    return DateRange(lo, hi, DateRangeMode.CREATED_AT)


async def find(call: Call) -> Any:
    page = call.number("page", 1, 1, MAX_WINDOW)
    per_page = call.number("perPage", 20, 0, MAX_PER_PAGE)
    if page * per_page > MAX_WINDOW:
        raise invalid(f"page x perPage must be at most {MAX_WINDOW}", field="page")
    sort = call.one("sortField") or "createdAt"
    if sort in UNSORTABLE:
        raise invalid(f"sorting by {sort} is not supported; use one of {', '.join(SORT)}")
    if sort not in SORT:
        raise invalid(f"one of {', '.join(SORT)}", field="sortField")
    order = call.one("sortOrder") or "desc"
    if order not in ("asc", "desc"):
        raise invalid("asc or desc", field="sortOrder")
    descending = order == "desc"  # severity desc: critical first, as priority desc is P1 first
    assignees = call.many("assignees")
    severities = [vocab.severity_word(s, "severity") for s in call.many("severity")]
    owners = call.many("owner")
    for o in owners:
        if o not in vocab.OWNERS:
            raise invalid(f"one of {', '.join(vocab.OWNERS)}", field="owner")
    if call.many("category"):
        raise invalid("filtering by category is not supported", field="category")
    search = call.one("search")
    fields = call.many("searchFields") or ["title", "description"]
    if not set(fields) <= {"title", "description"}:
        raise invalid("title and/or description", field="searchFields")
    reporters = await _reporters(call, call.many("reporters")) if call.many("reporters") else ()
    base = CaseFilters(
        priorities=tuple(p for s in severities for p in vocab.PRIORITIES_OF[s]),
        categories=tuple(dict.fromkeys(vocab.category_of(o) for o in owners)),
        assignees=tuple(a for a in assignees if a != "none"),
        include_unassigned="none" in assignees,
        tags=tuple(call.many("tags")),
        text_search=search,
        search_description=search is not None and "description" in fields,
        reporters=reporters,
        date_range=_range(call),
    )
    statuses = _statuses(call.many("status"))
    query = CaseQuery(
        filters=replace(base, statuses=statuses),
        order=CaseOrder(SORT[sort], OrderDirection.DESCENDING if descending
                        else OrderDirection.ASCENDING),
        page=PageRequest(size=max(per_page, 1), skip=(page - 1) * per_page),
    )  # fmt: skip
    # The page and the counts are independent reads: on two worker threads at once.
    (cases, _), counts = await asyncio.gather(
        call.run(call.c.cases.list_cases, call.p, query),
        call.run(call.c.cases.status_counts, call.p, base),
    )
    by = {w: sum(counts.get(s, 0) for s in ss) for w, ss in vocab.STATUSES_OF.items()}
    total = sum(counts.get(s, 0) for s in statuses) if statuses else sum(by.values())
    return {
        "cases": await rendered(call, cases[:per_page]) if per_page else [],
        "page": page,
        "per_page": per_page,
        "total": total,
        "count_open_cases": by["open"],
        "count_in_progress_cases": by["in-progress"],
        "count_closed_cases": by["closed"],
    }


# -- tags, reporters, alerts -------------------------------------------------------------------


async def tags(call: Call) -> Any:
    return await call.run(call.c.case_views.tags, call.p)


async def reporters(call: Call) -> Any:
    actors = await call.run(call.c.case_views.reporters, call.p)
    profiles = await profiles_of(call, actors)
    seen: dict[str, Json] = {}
    for a in actors:
        user = render.user_json(a, profiles)
        seen.setdefault(str(user.get("username")), user)
    return [seen[k] for k in sorted(seen)]


async def with_alert(call: Call) -> Any:
    cases = await call.run(call.c.case_views.with_alert, call.p, call.param("alert_id"))
    facts = await call.run(call.c.case_views.facts, call.p, cases)
    return [
        {
            "id": x.id, "title": x.title, "description": x.description or "",
            "status": vocab.STATUS[x.status], "createdAt": render.case_json(
                x, None, {}, x.create_time)["created_at"],
            "totals": {"alerts": facts[x.id].incidents, "userComments": facts[x.id].comments},
        }
        for x in cases
    ]  # fmt: skip
