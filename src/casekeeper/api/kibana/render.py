"""Kibana's JSON for cases, comments, users and the case activity (user actions), from the
canonical case and its typed timeline. docs/KIBANA.md has the tables."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Mapping
from typing import Final

import orjson

from casekeeper.api.kibana import vocabulary as vocab
from casekeeper.domain import timeline as t
from casekeeper.domain.enums import ActorKind, CaseStatus
from casekeeper.domain.errors import invalid
from casekeeper.domain.events import Actor, CaseEvent
from casekeeper.domain.model import Case, Json
from casekeeper.domain.timeutil import to_rfc3339
from casekeeper.service.case_views import CaseFacts
from casekeeper.service.users import UserRow

NO_CONNECTOR: Final[Json] = {"id": "none", "name": "none", "type": ".none", "fields": None}
ALERT_INDEX = "casekeeper-incidents"  # the "index" an alert attachment names


def version_of(n: int) -> str:
    """An opaque version as Kibana writes it (base64 of ``[n,1]``, Elasticsearch's seq_no and
    primary term)."""
    return base64.b64encode(f"[{n},1]".encode()).decode()


def parse_version(raw: object, field: str = "version") -> int:
    if isinstance(raw, str):
        text = raw.strip()
        if text.isascii() and text.isdigit() and len(text) <= 18:
            return int(text)
        try:
            pair = orjson.loads(base64.b64decode(text, validate=True))
            if isinstance(pair, list) and pair and type(pair[0]) is int and 0 <= pair[0] < 2**62:
                return pair[0]
        except (ValueError, orjson.JSONDecodeError):
            pass
    raise invalid("not a version this server gave out; read the case again", field=field)


def _time(us: int | None) -> str | None:
    """Milliseconds, as Kibana writes them: ``2022-07-14T20:11:24.947Z``."""
    return None if us is None else to_rfc3339(us)[:23] + "Z"


Profiles = Mapping[str, UserRow]


def user_json(actor: Actor | None, profiles: Profiles) -> Json:
    """Kibana's ``{username, email, full_name, profile_uid}`` for whoever acted."""
    if actor is None:
        return {"username": None, "email": None, "full_name": None}
    if actor.kind is ActorKind.USER:
        uid = actor.fields.get("id", "")
        row = profiles.get(uid)
        if row is not None:
            return {"username": row.username, "email": row.email, "full_name": row.full_name,
                    "profile_uid": row.id}  # fmt: skip
        return {"username": uid or None, "email": None, "full_name": None, "profile_uid": uid}
    if actor.kind is ActorKind.API_KEY:
        return {"username": actor.fields.get("name") or actor.fields.get("id"), "email": None,
                "full_name": None}  # fmt: skip
    if actor.kind is ActorKind.SYSTEM:
        return {"username": "casekeeper", "email": None, "full_name": "casekeeper (system)"}
    return {"username": actor.label, "email": None, "full_name": None}


def _ext(case: Case) -> Json:
    ext = case.extensions.get(vocab.NAMESPACE)
    return ext if isinstance(ext, dict) else {}


def case_json(case: Case, facts: CaseFacts | None, profiles: Profiles, now: int) -> Json:
    ext = _ext(case)
    ended = case.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED)
    updated = case.update_time if case.update_time > case.create_time else None
    return {
        "id": case.id,
        "version": version_of(case.version),
        "incremental_id": case.number,
        "owner": vocab.owner_of(case),
        "title": case.title,
        "description": case.description or "",
        "status": vocab.STATUS[case.status],
        "severity": vocab.SEVERITY[case.effective_priority],
        "tags": list(case.tags),
        "category": ext.get("category"),
        "assignees": [{"uid": u} for u in case.assignees],
        "created_at": _time(case.create_time),
        "created_by": user_json(facts.created_by if facts else None, profiles),
        "updated_at": _time(updated),
        "updated_by": None,
        "closed_at": _time(case.end_time) if ended else None,
        "closed_by": None,
        "duration": case.duration_ms(now) // 1000 if ended else None,
        "connector": ext.get("connector") or NO_CONNECTOR,
        "external_service": None,
        "settings": ext.get("settings") or {"syncAlerts": False},
        "customFields": ext.get("customFields") or [],
        "observables": [],
        "total_observables": 0,
        "totalAlerts": facts.incidents if facts else 0,
        "totalComment": facts.comments if facts else 0,
        "totalEvents": 0,
        "comments": [],
    }


def comment_json(event: CaseEvent, owner: str, profiles: Profiles) -> Json:
    text = event.data.text if isinstance(event.data, t.Comment) else ""
    return {
        "id": event.event_id,
        "version": version_of(event.update_time or event.create_time),
        "type": "user",
        "comment": text,
        "owner": owner,
        "created_at": _time(event.create_time),
        "created_by": user_json(event.actor, profiles),
        "updated_at": _time(event.update_time),
        "updated_by": user_json(event.actor, profiles) if event.update_time else None,
        "pushed_at": None,
        "pushed_by": None,
    }


def _actions(event: CaseEvent, case: Case, owner: str) -> list[tuple[str, str, Json, str | None]]:
    """(action, type, payload, comment id) for one timeline event; most give one, a tag
    change that adds and removes gives two."""
    d = event.data
    match d:
        case t.Created(priority, title, description, tags):
            payload: Json = {
                "title": title if title is not None else case.title,
                "description": description if description is not None else "",
                "tags": list(tags), "connector": _ext(case).get("connector") or NO_CONNECTOR,
                "settings": _ext(case).get("settings") or {"syncAlerts": False},
                "owner": owner, "severity": vocab.SEVERITY[priority], "status": "open",
                "assignees": [],
            }  # fmt: skip
            return [("create", "create_case", payload, None)]
        case t.Comment(text):
            comment = {"type": "user", "owner": owner, "comment": text}
            return [("create", "comment", {"comment": comment}, event.event_id)]
        case t.StatusChanged(_, new):
            return [("update", "status", {"status": vocab.STATUS[new]}, None)]
        case t.Assigned(user_id):
            return [("add", "assignees", {"assignees": [{"uid": user_id}]}, None)]
        case t.Unassigned(previous):
            return [("delete", "assignees", {"assignees": [{"uid": previous}]}, None)]
        case t.PriorityChanged(_, new):
            return [("update", "severity", {"severity": vocab.SEVERITY[new.effective]}, None)]
        case t.TitleChanged(_, new):
            return [("update", "title", {"title": new}, None)]
        case t.DescriptionChanged():
            # The texts are not kept per change: the description as it is now.
            return [("update", "description", {"description": case.description or ""}, None)]
        case t.TagsChanged(added, removed):
            out: list[tuple[str, str, Json, str | None]] = []
            if added:
                out.append(("add", "tags", {"tags": list(added)}, None))
            if removed:
                out.append(("delete", "tags", {"tags": list(removed)}, None))
            return out
        case t.IncidentChanged(incident_id, t.IncidentChange.OPENED):
            alert = {"type": "alert", "alertId": incident_id, "index": ALERT_INDEX,
                     "rule": {"id": None, "name": None}, "owner": owner}  # fmt: skip
            return [("create", "comment", {"comment": alert}, incident_id)]
    # No Kibana type: casekeeper's own, named after the event, with its details.
    return [("update", f"casekeeper.{event.kind.value}", t.details(d), None)]


def user_actions(
    events: list[CaseEvent], case: Case, profiles: Profiles, *, legacy: bool
) -> list[Json]:
    """The events as Kibana user actions: ``legacy`` is the deprecated ``GET …/user_actions``
    shape of seed 002 (``action_id``, ``case_id``), else ``_find``'s (``id``, ``version``)."""
    owner = vocab.owner_of(case)
    out: list[Json] = []
    for event in events:
        for n, (action, kind, payload, comment_id) in enumerate(_actions(event, case, owner)):
            action_id = event.event_id
            if n:  # a second action of one event: an id of its own, the same every time
                action_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{event.event_id}/{n}"))
            item: Json = {
                "created_at": _time(event.event_time),
                "created_by": user_json(event.actor, profiles),
                "owner": owner,
                "action": action,
                "payload": payload,
                "type": kind,
            }
            if legacy:  # seed 002's shape exactly: no profile_uid in it
                item["created_by"] = {
                    k: v for k, v in item["created_by"].items() if k != "profile_uid"
                }
                item.update(action_id=action_id, case_id=case.id, comment_id=comment_id)
            else:
                item.update(id=action_id, version=version_of(1), comment_id=comment_id)
            out.append(item)
    return out
