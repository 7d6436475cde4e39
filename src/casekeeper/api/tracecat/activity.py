"""A case's comments, events and tags: ``/cases/{case_id}/comments``, ``/events`` and
``/tags``. Comments are the timeline's comment events; events are the whole timeline in
Tracecat's words; tags are the case's canonical tags."""

from __future__ import annotations

from typing import Any, Final

from starlette.responses import Response

from casekeeper.api.calls import json_response
from casekeeper.api.tracecat import render
from casekeeper.api.tracecat.http import Call
from casekeeper.api.tracecat.lookups import profiles_of, tags_by_key
from casekeeper.domain import commands as cmd
from casekeeper.domain.commands import CaseChange
from casekeeper.domain.enums import ActorKind, EventKind
from casekeeper.domain.errors import CasekeeperError, ErrorCode, event_not_found, invalid, quote
from casekeeper.domain.events import CaseEvent, EventSelection
from casekeeper.service.timeline import MAX_COMMENT

MAX_EVENTS: Final = 100_000  # a case's whole timeline
COMMENTS: Final = (EventSelection(frozenset({EventKind.COMMENT})),)


def _authors(events: list[CaseEvent]) -> list[str]:
    return [e.actor.fields.get("id", "") for e in events if e.actor.kind is ActorKind.USER]


async def _timeline(call: Call, selections: Any) -> list[CaseEvent]:
    _, page = await call.run(
        call.c.case_views.events, call.p, call.param("case_id"), selections,
        offset=0, limit=MAX_EVENTS,
    )  # fmt: skip
    return page.events


# -- comments -----------------------------------------------------------------------------------


def _content(body: dict[str, Any]) -> str:
    unknown = sorted(set(body) - {"content", "parent_id", "workflow_id"})
    if unknown:
        raise invalid("Extra inputs are not permitted", field=unknown[0])
    if body.get("parent_id") is not None:
        raise invalid(
            "casekeeper comments are not threaded: leave parent_id out", field="parent_id"
        )
    if body.get("workflow_id") is not None:
        raise invalid("casekeeper runs no workflows: leave workflow_id out", field="workflow_id")
    text = body.get("content")
    if not isinstance(text, str) or not text.strip():
        raise invalid("String should have at least 1 character", field="content")
    if len(text) > MAX_COMMENT:
        raise invalid(f"String should have at most {MAX_COMMENT} characters", field="content")
    return text


async def list_comments(call: Call) -> Any:
    events = await _timeline(call, COMMENTS)
    profiles = await profiles_of(call, _authors(events))
    return [render.comment_json(e, profiles) for e in events]


async def add_comment(call: Call) -> Any:
    text = _content(await call.body())
    event = await call.run(call.c.timeline.create_comment, call.p, call.param("case_id"), text)
    profiles = await profiles_of(call, _authors([event]))
    return json_response(render.comment_json(event, profiles), 201)


async def _comment_of_case(call: Call) -> str:
    """The comment id of the path, if it is a comment of the path's case (404 otherwise)."""
    case = await call.run(call.c.cases.get, call.p, call.param("case_id"), field="case_id")
    event = await call.run(call.c.timeline.get, call.p, call.param("comment_id"))
    if event.case_id != case.id or event.kind is not EventKind.COMMENT:
        raise event_not_found(call.param("comment_id"))
    return event.event_id


async def update_comment(call: Call) -> Any:
    text = _content(await call.body())
    comment_id = await _comment_of_case(call)
    await call.run(call.c.timeline.update_comment, call.p, comment_id, text)
    return Response(status_code=204)


async def delete_comment(call: Call) -> Any:
    comment_id = await _comment_of_case(call)
    await call.run(call.c.timeline.delete_comment, call.p, comment_id)
    return Response(status_code=204)


# -- events -------------------------------------------------------------------------------------


async def events(call: Call) -> Any:
    """``CaseEventsWithUsers``: the timeline, and the users it names."""
    timeline = await _timeline(call, None)
    out = [item for e in timeline for item in render.event_json(e, call.workspace_id)]
    named = set(_authors(timeline)) | {
        str(x[k]) for x in out for k in ("old", "new")
        if x.get("type") == "assignee_changed" and x.get(k)
    }  # fmt: skip
    profiles = await profiles_of(call, named)
    return {"events": out, "users": [render.user_json(i, profiles) for i in sorted(profiles)]}


# -- tags ---------------------------------------------------------------------------------------


async def list_tags(call: Call) -> Any:
    case = await call.run(call.c.cases.get, call.p, call.param("case_id"), field="case_id")
    return [render.tag_json(call.workspace_id, x) for x in case.tags]


async def add_tag(call: Call) -> Any:
    body = await call.body()
    raw = body.get("tag_id")
    if not isinstance(raw, str) or not raw.strip():
        raise invalid("a tag's id, ref or name is required", field="tag_id")
    name = (await tags_by_key(call)).get(raw.strip(), raw.strip())
    change = CaseChange(call.param("case_id"), (cmd.AddTags((name,)),))
    await call.run(call.c.cases.change, call.p, change)
    return json_response(render.tag_json(call.workspace_id, name), 201)


async def remove_tag(call: Call) -> Any:
    case = await call.run(call.c.cases.get, call.p, call.param("case_id"), field="case_id")
    key = call.param("tag_id")
    by_key = {render.tag_id(call.workspace_id, x): x for x in case.tags}
    by_key.update({render.tag_ref(x): x for x in case.tags if render.tag_ref(x) not in by_key})
    by_key.update({x: x for x in case.tags})
    name = by_key.get(key)
    if name is None:
        raise CasekeeperError(
            ErrorCode.TAG_NOT_FOUND, f"Tag not found: the case has no tag {quote(key)}"
        )
    await call.run(call.c.cases.change, call.p, CaseChange(case.id, (cmd.RemoveTags((name,)),)))
    return Response(status_code=204)
