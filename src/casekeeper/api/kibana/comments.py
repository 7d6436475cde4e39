"""``/api/cases/{case_id}/comments`` and the case activity (``user_actions``): comments are
the timeline's comment events, and the activity is the whole timeline in Kibana's words."""

from __future__ import annotations

from typing import Any, Final

from starlette.responses import Response

from casekeeper.api.kibana import render
from casekeeper.api.kibana import vocabulary as vocab
from casekeeper.api.kibana.cases import MAX_PER_PAGE, profiles_of, rendered
from casekeeper.api.kibana.http import Call
from casekeeper.domain.enums import EventKind
from casekeeper.domain.errors import CasekeeperError, ErrorCode, invalid
from casekeeper.domain.events import CaseEvent, EventSelection
from casekeeper.service.timeline import MAX_COMMENT

MAX_EVENTS: Final = 100_000  # a case's whole timeline, rendered for the activity
COMMENTS: Final = (EventSelection(frozenset({EventKind.COMMENT})),)
K = EventKind


def _kinds(*kinds: EventKind) -> frozenset[EventKind]:
    return frozenset(kinds)


# What each Kibana type (and group) picks from the timeline. Types casekeeper never records
# pick nothing.
SELECTIONS: Final[dict[str, EventSelection | None]] = {
    "create_case": EventSelection(_kinds(K.CREATED)),
    "comment": EventSelection(_kinds(K.COMMENT, K.INCIDENT_CHANGED), True),
    "status": EventSelection(_kinds(K.STATUS_CHANGED)),
    "assignees": EventSelection(_kinds(K.ASSIGNED, K.UNASSIGNED)),
    "severity": EventSelection(_kinds(K.PRIORITY_DETAILS_CHANGED)),
    "title": EventSelection(_kinds(K.TITLE_CHANGED)),
    "description": EventSelection(_kinds(K.DESCRIPTION_CHANGED)),
    "tags": EventSelection(_kinds(K.TAGS_CHANGED)),
    "user": EventSelection(_kinds(K.COMMENT)),
    "alert": EventSelection(_kinds(K.INCIDENT_CHANGED), True),
    "attachment": EventSelection(_kinds(K.COMMENT, K.INCIDENT_CHANGED), True),
    "action": EventSelection(frozenset(EventKind) - {K.COMMENT}, False),
    "connector": None, "pushed": None, "settings": None, "delete_case": None,
    "category": None, "customFields": None,
}  # fmt: skip
ACTION_TYPES: Final = frozenset(SELECTIONS)


def _comment_body(body: dict[str, Any]) -> str:
    if body.get("type") != "user":
        raise invalid(
            "only user comments can be added: alerts join a case through casekeeper's "
            "signals (docs/SIGNALS.md)",
            field="type",
        )
    text = body.get("comment")
    if not isinstance(text, str) or not text.strip():
        raise invalid("a non-empty string is required", field="comment")
    if len(text) > MAX_COMMENT:
        raise invalid(f"at most {MAX_COMMENT} characters (got {len(text)})", field="comment")
    return text


async def _case_json(call: Call, case_id: str) -> Any:
    case = await call.run(call.c.cases.get, call.p, case_id, field="case_id")
    return (await rendered(call, [case]))[0]


async def add(call: Call) -> Any:
    body = await call.body()
    text = _comment_body(body)
    case_id = call.param("case_id")
    case = await call.run(call.c.cases.get, call.p, case_id, field="case_id")
    owner = body.get("owner")
    if owner is not None and owner != vocab.owner_of(case):
        raise invalid(f"must be the case's owner, {vocab.owner_of(case)}", field="owner")
    await call.run(call.c.timeline.create_comment, call.p, case.id, text)
    return await _case_json(call, case.id)


async def _comment_of(call: Call, case_id: str, comment_id: str) -> CaseEvent:
    event = await call.run(call.c.timeline.get, call.p, comment_id)
    case = await call.run(call.c.cases.get, call.p, case_id, field="case_id")
    if event.case_id != case.id or event.kind is not EventKind.COMMENT:
        raise CasekeeperError(
            ErrorCode.EVENT_NOT_FOUND, f"comment {comment_id} is not a comment of case {case_id}"
        )
    return event


async def update(call: Call) -> Any:
    body = await call.body()
    case_id = call.param("case_id")
    comment_id = body.get("id")
    if not isinstance(comment_id, str):
        raise invalid("the comment's id is required", field="id")
    version = render.parse_version(body.get("version"))
    text = _comment_body(body)
    await _comment_of(call, case_id, comment_id)
    await call.run(
        call.c.timeline.update_comment, call.p, comment_id, text, expected_version=version
    )
    return await _case_json(call, case_id)


async def get_one(call: Call) -> Any:
    event = await _comment_of(call, call.param("case_id"), call.param("comment_id"))
    case = await call.run(call.c.cases.get, call.p, event.case_id)
    profiles = await profiles_of(call, [event.actor])
    return render.comment_json(event, vocab.owner_of(case), profiles)


async def delete_one(call: Call) -> Any:
    event = await _comment_of(call, call.param("case_id"), call.param("comment_id"))
    await call.run(call.c.timeline.delete_comment, call.p, event.event_id)
    return Response(status_code=204)


async def delete_all(call: Call) -> Any:
    await call.run(call.c.timeline.delete_comments, call.p, call.param("case_id"))
    return Response(status_code=204)


def _paging(call: Call) -> tuple[int, int, bool]:
    page = call.number("page", 1, 1, 10_000)
    per_page = call.number("perPage", 20, 1, MAX_PER_PAGE)
    order = call.one("sortOrder") or "asc"
    if order not in ("asc", "desc"):
        raise invalid("asc or desc", field="sortOrder")
    return page, per_page, order == "desc"


async def find(call: Call) -> Any:
    page, per_page, descending = _paging(call)
    case, found = await call.run(
        call.c.case_views.events, call.p, call.param("case_id"), COMMENTS,
        offset=(page - 1) * per_page, limit=per_page, descending=descending,
    )  # fmt: skip
    profiles = await profiles_of(call, [e.actor for e in found.events])
    owner = vocab.owner_of(case)
    return {
        "comments": [render.comment_json(e, owner, profiles) for e in found.events],
        "page": page,
        "per_page": per_page,
        "total": found.total,
    }


async def user_actions(call: Call) -> Any:
    """The deprecated ``GET …/user_actions`` of seed 002: every action, oldest first."""
    case, found = await call.run(
        call.c.case_views.events, call.p, call.param("case_id"), None,
        offset=0, limit=MAX_EVENTS,
    )  # fmt: skip
    profiles = await profiles_of(call, [e.actor for e in found.events])
    return render.user_actions(found.events, case, profiles, legacy=True)


async def find_user_actions(call: Call) -> Any:
    """A page of the activity, paged in the database: one action per timeline entry (a tag
    change written before tags became two events shows as two)."""
    page, per_page, descending = _paging(call)
    types = set(call.many("types"))
    unknown = types - ACTION_TYPES
    if unknown:
        raise invalid(f"unknown types: {', '.join(sorted(unknown))}", field="types")
    # None: every entry; an empty list (only types casekeeper never records): none.
    chosen = [s for t in sorted(types) if (s := SELECTIONS[t]) is not None] if types else None
    case, found = await call.run(
        call.c.case_views.events, call.p, call.param("case_id"), chosen,
        offset=(page - 1) * per_page, limit=per_page, descending=descending,
    )  # fmt: skip
    profiles = await profiles_of(call, [e.actor for e in found.events])
    return {
        "page": page,
        "perPage": per_page,
        "total": found.total,
        "userActions": render.user_actions(found.events, case, profiles, legacy=False),
    }
