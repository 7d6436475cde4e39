"""``/cases``: list, search, aggregate, create, get, update, delete and their batches. Each
request becomes the canonical commands and queries (docs/TRACECAT.md)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Final
from urllib.parse import urlencode

from starlette.responses import Response

from casekeeper.api.calls import json_response
from casekeeper.api.tracecat import render
from casekeeper.api.tracecat import vocabulary as vocab
from casekeeper.api.tracecat.http import Call
from casekeeper.api.tracecat.lookups import profiles_of, tags_by_key
from casekeeper.api.tracecat.search import query_of, total_of
from casekeeper.domain import commands as cmd
from casekeeper.domain.commands import CaseChange
from casekeeper.domain.enums import CaseCategory, CaseStatus
from casekeeper.domain.errors import CasekeeperError, ErrorCode, invalid, quote
from casekeeper.domain.model import Case, Json, PriorityDetails
from casekeeper.service.admin import NewCase
from casekeeper.service.permissions import needed

MAX_SUMMARY: Final = 255
MAX_DESCRIPTION: Final = 5000
MAX_BATCH: Final = 1000
RETRIES: Final = 3  # a change computed from a case another writer moved is computed again
CREATE_FIELDS: Final = frozenset({
    "summary", "description", "status", "priority", "severity", "assignee_id", "tags",
    "payload", "fields",
})  # fmt: skip
UPDATE_FIELDS: Final = CREATE_FIELDS


async def minimal_json(call: Call, cases: Sequence[Case]) -> list[Json]:
    profiles = await profiles_of(call, (x.assignee for x in cases))
    return [render.minimal(x, call.workspace_id, profiles) for x in cases]


async def full_json(call: Call, case: Case) -> Json:
    return render.full(case, call.workspace_id, await profiles_of(call, [case.assignee]))


# -- list, search, aggregate ------------------------------------------------------------------


async def list_cases(call: Call) -> Any:
    """The seed's ``GET /cases``: a JSON array of cases; the cursors in ``X-Next-Cursor`` /
    ``X-Prev-Cursor`` headers (and ``Link``), so the body stays exactly the seed's."""
    page = await call.run(
        call.c.cases.list_page, call.p, await query_of(call, with_filters=False), detail=False
    )
    response = json_response(await minimal_json(call, page.cases))
    links = []
    for name, token, rel in (("x-next-cursor", page.after, "next"),
                             ("x-prev-cursor", page.before, "prev")):  # fmt: skip
        if token is not None:
            response.headers[name] = token
            query = {**call.request.query_params, "cursor": token}
            links.append(f'<?{urlencode(query)}>; rel="{rel}"')
    if links:
        response.headers["link"] = ", ".join(links)
    return response


async def search(call: Call) -> Any:
    """``GET /cases/search``: Tracecat's cursor-paginated envelope."""
    page = await call.run(
        call.c.cases.list_page, call.p, await query_of(call, with_filters=True), detail=False
    )
    return {
        "items": await minimal_json(call, page.cases),
        "next_cursor": page.after,
        "prev_cursor": page.before,
        "has_more": page.after is not None,
        "has_previous": page.before is not None,
        "total_estimate": None,
    }


async def aggregate(call: Call) -> Any:
    """``GET /cases/search/aggregate``: the total and the count of each OCSF status under the
    search's filters (its status filter included in the total, as Tracecat counts)."""
    query = await query_of(call, with_filters=True, paging=False)
    unfiltered = replace(query.filters, statuses=(), on_hold=None)
    counts, on_hold = await asyncio.gather(
        call.run(call.c.cases.status_counts, call.p, unfiltered),
        call.run(call.c.cases.on_hold_count, call.p, unfiltered),
    )
    groups = {
        "new": counts.get(CaseStatus.PENDING_ACTIVATION, 0) + counts.get(CaseStatus.ACTIVE, 0),
        "in_progress": counts.get(CaseStatus.ACKNOWLEDGED, 0) - on_hold,
        "on_hold": on_hold,
        "resolved": counts.get(CaseStatus.RESOLVED, 0),
        "closed": counts.get(CaseStatus.CLOSED, 0),
        "unknown": 0,
        "other": 0,
    }
    return {"total": total_of(call, groups), "status_groups": groups}


# -- bodies ------------------------------------------------------------------------------------


def _known(body: dict[str, Any], allowed: frozenset[str], at: str = "") -> None:
    for name in sorted(set(body) - allowed):
        raise invalid("Extra inputs are not permitted", field=f"{at}{name}")


def _text(body: dict[str, Any], name: str, most: int, at: str = "") -> str:
    value = body.get(name)
    if not isinstance(value, str):
        raise invalid("Input should be a valid string", field=f"{at}{name}")
    if len(value) > most:
        raise invalid(f"String should have at most {most} characters", field=f"{at}{name}")
    return value


def _assignee(value: object, field: str) -> str | None:
    if value is None:
        return None
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise invalid("Input should be a valid UUID", field=field) from None


def _object(value: object, field: str) -> Json | None:
    if value is not None and not isinstance(value, dict):
        raise invalid("Input should be a valid dictionary", field=field)
    return value


async def _known_user(call: Call, user_id: str | None, field: str) -> None:
    if user_id is not None and not await call.run(call.c.users.member, call.p, user_id):
        raise invalid(f"no user with id {quote(user_id)} in this workspace", field=field)


async def _changes(
    call: Call, case: Case, body: dict[str, Any], at: str = ""
) -> list[cmd.CaseCommand]:
    """The commands a ``CaseUpdate`` body makes of ``case`` (its status moves first, so a
    reopened case takes the other changes; a close last)."""
    out: list[cmd.CaseCommand] = []
    if "summary" in body:
        out.append(cmd.Retitle(_text(body, "summary", MAX_SUMMARY, at).strip()))
    if "description" in body:
        out.append(cmd.SetDescription(_text(body, "description", MAX_DESCRIPTION, at)))
    if "priority" in body:
        word = vocab.word(body["priority"], vocab.PRIORITIES, f"{at}priority")
        out.extend(vocab.priority_commands(case, word, f"{at}priority"))
    if "severity" in body:
        word = vocab.word(body["severity"], vocab.SEVERITIES, f"{at}severity")
        out.append(cmd.SetSeverity(vocab.SEVERITIES[word]))
    if "assignee_id" in body:
        user = _assignee(body["assignee_id"], f"{at}assignee_id")
        await _known_user(call, user, f"{at}assignee_id")
        out.append(cmd.Assign(user) if user else cmd.Unassign())
    if "tags" in body:
        out.append(cmd.SetTags(await _tag_names(call, body["tags"], f"{at}tags")))
    ext = _extension(case, body, at)
    if ext is not None:
        out.append(cmd.SetExtension(vocab.NAMESPACE, ext))
    if "status" in body:
        word = vocab.word(body["status"], vocab.STATUSES, f"{at}status")
        moves = vocab.status_commands(case, word, f"{at}status")
        out = [*out, *moves] if word == "closed" else [*moves, *out]
    return out


def _extension(case: Case, body: dict[str, Any], at: str) -> Json | None:
    """Tracecat's own fields (payload, custom field values), kept in the case's extensions;
    None when the body changes neither."""
    if "payload" not in body and "fields" not in body:
        return None
    base = case.extensions.get(vocab.NAMESPACE)
    ext = dict(base) if isinstance(base, dict) else {}
    if "payload" in body:
        ext["payload"] = _object(body["payload"], f"{at}payload")
    if "fields" in body:
        fields = _object(body["fields"], f"{at}fields")
        ext["fields"] = [{"id": k, "value": v} for k, v in (fields or {}).items()]
    return {k: v for k, v in ext.items() if v is not None}


async def _tag_names(call: Call, value: object, field: str) -> tuple[str, ...]:
    """Tags as Tracecat names them (ids, refs or names) → the canonical tag names; a name the
    workspace does not have yet is a new tag."""
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise invalid("Input should be a valid list of strings", field=field)
    known = await tags_by_key(call)
    return tuple(dict.fromkeys(known.get(str(x), str(x)) for x in value))


# -- create, get, update, delete ---------------------------------------------------------------


async def create(call: Call) -> Any:
    body = await call.body()
    _known(body, CREATE_FIELDS)
    summary = _text(body, "summary", MAX_SUMMARY).strip()
    description = _text(body, "description", MAX_DESCRIPTION)
    priority = vocab.word(body.get("priority", "unknown"), vocab.PRIORITIES, "priority")
    if priority == "other":
        vocab.priority_commands(_PLACEHOLDER, priority)  # refused, with why
    status = vocab.word(body.get("status", "new"), vocab.STATUSES, "status")
    moves = vocab.status_commands(_PLACEHOLDER, status)  # from new, as created
    fields: list[cmd.CaseCommand] = []
    if description.strip():
        fields.append(cmd.SetDescription(description))
    if "severity" in body:
        word = vocab.word(body["severity"], vocab.SEVERITIES, "severity")
        fields.append(cmd.SetSeverity(vocab.SEVERITIES[word]))
    assignee = _assignee(body.get("assignee_id"), "assignee_id")
    await _known_user(call, assignee, "assignee_id")
    if assignee:
        fields.append(cmd.SetAssignees((assignee,)))
    if body.get("tags"):
        fields.append(cmd.SetTags(await _tag_names(call, body["tags"], "tags")))
    ext = _extension(_PLACEHOLDER, body, "")
    if ext:
        fields.append(cmd.SetExtension(vocab.NAMESPACE, ext))
    if moves:  # the status is a second step: refuse now what it would refuse then
        call.p.require(needed(moves), f"create a case as {status}")
    spec = NewCase(
        title=summary, category=CaseCategory.SECURITY,
        priority=vocab.PRIORITY_OF.get(priority, vocab.DEFAULT_PRIORITY), fields=tuple(fields),
    )  # fmt: skip
    case = await call.run(call.c.admin.create_case, call.p, spec)
    if moves:
        case = await call.run(call.c.cases.change, call.p, CaseChange(case.id, moves))
    return json_response(await full_json(call, case), 201)


# A new case as it is before its first change: what create's status and fields start from.
_PLACEHOLDER: Final = Case(
    id="00000000-0000-0000-0000-000000000000", space_id=0, title="-", status=CaseStatus.ACTIVE,
    priority=PriorityDetails(system=vocab.DEFAULT_PRIORITY),
    category=CaseCategory.SECURITY, create_time=0, update_time=0,
)  # fmt: skip


async def get(call: Call) -> Any:
    case = await call.point_read(call.c.cases.get, call.p, call.param("case_id"), field="case_id")
    return await full_json(call, case)


async def _apply(call: Call, case_id: str, body: dict[str, Any], at: str = "") -> Case:
    """``body``'s changes to the case, computed from the case as read; if another writer
    moved the case in between, read it again and recompute (a few times)."""
    for attempt in range(RETRIES):
        case = await call.run(call.c.cases.get, call.p, case_id, field="case_id")
        commands = await _changes(call, case, body, at)
        if not commands:
            return case
        change = CaseChange(case.id, tuple(commands), expected_version=case.version)
        try:
            return await call.run(call.c.cases.change, call.p, change)
        except CasekeeperError as err:
            if err.code is not ErrorCode.CONFLICT or attempt == RETRIES - 1:
                raise
    raise AssertionError("unreachable")


async def update(call: Call) -> Any:
    body = await call.body()
    _known(body, UPDATE_FIELDS)
    await _apply(call, call.param("case_id"), body)
    return Response(status_code=204)


async def delete(call: Call) -> Any:
    await call.run(call.c.case_views.delete, call.p, [call.param("case_id")], field="case_id")
    return Response(status_code=204)


def _case_ids(body: dict[str, Any]) -> list[str]:
    ids = body.get("case_ids")
    if not isinstance(ids, list) or not all(isinstance(x, str) for x in ids):
        raise invalid("Input should be a valid list of case ids", field="case_ids")
    if not 1 <= len(ids) <= MAX_BATCH:
        raise invalid(f"List should have 1..{MAX_BATCH} items", field="case_ids")
    for n, raw in enumerate(ids):
        try:
            uuid.UUID(raw)
        except ValueError:
            raise invalid("Input should be a valid UUID", field=f"case_ids[{n}]") from None
    return list(dict.fromkeys(str(uuid.UUID(x)) for x in ids))


def _results(ids: list[str], errors: dict[str, str]) -> Json:
    results = [{"case_id": i, "success": i not in errors, "error": errors.get(i)} for i in ids]
    return {"results": results, "succeeded": len(ids) - len(errors), "failed": len(errors)}


async def batch_update(call: Call) -> Any:
    """One update for many cases, each its own change: a case that fails (unknown, refused,
    moved by another writer) is reported and never stops the others."""
    body = await call.body()
    _known(body, frozenset({"case_ids", "update"}))
    ids = _case_ids(body)
    update = body.get("update")
    if not isinstance(update, dict) or not update:
        raise invalid("Input should be a non-empty object", field="update")
    _known(update, UPDATE_FIELDS, "update.")
    await _changes(call, _PLACEHOLDER, update, "update.")  # bad input: a 422 for the request
    errors: dict[str, str] = {}
    todo = ids
    for _ in range(RETRIES):
        found = await call.run(call.c.cases.get_many, call.p, todo, field="case_ids")
        changes = []
        for case_id in todo:
            case = found.get(case_id)
            if case is None:
                errors[case_id] = "Case not found"
                continue
            try:
                commands = await _changes(call, case, update, "update.")
            except CasekeeperError as err:
                errors[case_id] = err.message
                continue
            if commands:
                changes.append(CaseChange(case.id, tuple(commands), case.version))
        result = await call.run(call.c.cases.change_many, call.p, changes) if changes else None
        failures = result.failures if result is not None else []
        todo = [f.id for f in failures if f.code is ErrorCode.CONFLICT]
        errors.update({f.id: f.message for f in failures if f.code is not ErrorCode.CONFLICT})
        if not todo:
            break
    errors.update(dict.fromkeys(todo, "the case kept changing; try again"))
    return _results(ids, errors)


async def batch_delete(call: Call) -> Any:
    body = await call.body()
    _known(body, frozenset({"case_ids"}))
    ids = _case_ids(body)
    gone = await call.run(
        call.c.case_views.delete, call.p, ids, skip_missing=True, most=MAX_BATCH,
        field="case_ids",
    )  # fmt: skip
    deleted = set(gone)
    return _results(ids, {i: "Case not found" for i in ids if i not in deleted})
