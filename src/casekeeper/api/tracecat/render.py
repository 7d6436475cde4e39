"""Canonical cases, users, comments and timeline events in Tracecat's JSON shapes."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Final

from casekeeper.api.tracecat import vocabulary as vocab
from casekeeper.domain import timeline as t
from casekeeper.domain.enums import ActorKind, CaseStatus
from casekeeper.domain.events import Actor, CaseEvent
from casekeeper.domain.model import Case, Json
from casekeeper.domain.timeutil import to_rfc3339
from casekeeper.service.users import UserRow

Profiles = Mapping[str, UserRow]
S = CaseStatus
_SLUG: Final = re.compile(r"[^a-z0-9]+")
# A pending case has no readable number yet; this stands in until it is activated.
PENDING_PREFIX: Final = "PENDING-"


def time_of(us: int | None) -> str | None:
    return None if us is None else to_rfc3339(us)


def short_id(case: Case) -> str:
    return case.readable_id or f"{PENDING_PREFIX}{case.id[:8]}"


def tag_json(workspace_id: str, name: str) -> Json:
    """A canonical tag (a string) as a Tracecat tag: its id is derived from the workspace and
    the name, so it is the same in every response and needs no table."""
    return {"id": tag_id(workspace_id, name), "name": name, "ref": tag_ref(name), "color": None}


def tag_id(workspace_id: str, name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"casekeeper:tag:{workspace_id}:{name}"))


def tag_ref(name: str) -> str:
    return _SLUG.sub("-", name.lower()).strip("-") or "tag"


def user_json(user_id: str, profiles: Profiles) -> Json:
    """An assignee or author as Tracecat's ``UserRead``; an id no user has (a Coralogix
    assignee named by e-mail, say) as much of one as it says."""
    row = profiles.get(user_id)
    if row is None:
        return {"id": user_id, "email": user_id if "@" in user_id else None,
                "first_name": None, "last_name": None, "role": None, "is_active": True}  # fmt: skip
    first, _, last = (row.full_name or "").partition(" ")
    return {"id": row.id, "email": row.email, "username": row.username,
            "first_name": first or None, "last_name": last or None, "role": "basic",
            "is_active": not row.disabled}  # fmt: skip


def minimal(case: Case, workspace_id: str, profiles: Profiles) -> Json:
    """``CaseReadMinimal``: the seed's eight fields, then the documented optional ones."""
    return {
        "id": case.id,
        "short_id": short_id(case),
        "created_at": time_of(case.create_time),
        "updated_at": time_of(case.update_time),
        "summary": case.title,
        "status": vocab.status_of(case),
        "priority": vocab.priority_of(case),
        "severity": vocab.severity_of(case),
        "assignee": user_json(case.assignee, profiles) if case.assignee else None,
        "tags": [tag_json(workspace_id, x) for x in case.tags],
    }


def full(case: Case, workspace_id: str, profiles: Profiles) -> Json:
    """``CaseRead``: the minimal fields, the description, custom fields and payload."""
    ext = case.extensions.get(vocab.NAMESPACE)
    ext = ext if isinstance(ext, dict) else {}
    return {
        **minimal(case, workspace_id, profiles),
        "description": case.description or "",
        "fields": ext.get("fields") or [],
        "payload": ext.get("payload"),
    }


def comment_json(event: CaseEvent, profiles: Profiles) -> Json:
    text = event.data.text if isinstance(event.data, t.Comment) else ""
    author = event.actor.fields.get("id", "") if event.actor.kind is ActorKind.USER else ""
    return {
        "id": event.event_id,
        "created_at": time_of(event.create_time),
        "updated_at": time_of(event.update_time or event.create_time),
        "content": text,
        "parent_id": None,
        "user": user_json(author, profiles) if author else None,
        "last_edited_at": time_of(event.update_time),
    }


def _status_word(status: CaseStatus) -> str:
    return "new" if status in (S.PENDING_ACTIVATION, S.ACTIVE) else {
        S.ACKNOWLEDGED: "in_progress", S.RESOLVED: "resolved", S.CLOSED: "closed",
    }.get(status, "unknown")  # fmt: skip


def _tag(workspace_id: str, name: str) -> Json:
    return {"tag_id": tag_id(workspace_id, name), "tag_ref": tag_ref(name), "tag_name": name}


def _event_data(event: CaseEvent, workspace_id: str) -> list[Json]:
    """One timeline event as Tracecat event(s): its type and data (a tag change that adds
    and removes is one event per tag)."""
    d = event.data
    match d:
        case t.Created():
            return [{"type": "case_created"}]
        case t.StatusChanged(old, new):
            kind = "status_changed"
            if new is S.CLOSED:
                kind = "case_closed"
            elif old in (S.RESOLVED, S.CLOSED) and new is S.ACTIVE:
                kind = "case_reopened"
            return [{"type": kind, "old": _status_word(old), "new": _status_word(new)}]
        case t.OnHoldChanged(on_hold):
            old, new = ("in_progress", "on_hold") if on_hold else ("on_hold", "in_progress")
            return [{"type": "status_changed", "old": old, "new": new}]
        case t.PriorityChanged(old, new):
            return [{"type": "priority_changed", "old": vocab.PRIORITY_WORD[old.effective],
                     "new": vocab.PRIORITY_WORD[new.effective]}]  # fmt: skip
        case t.SeverityChanged(old, new):
            return [{"type": "severity_changed", "old": vocab.SEVERITY_WORD[old],
                     "new": vocab.SEVERITY_WORD[new]}]  # fmt: skip
        case t.Assigned(user_id, previous):
            return [{"type": "assignee_changed", "old": previous, "new": user_id}]
        case t.Unassigned(previous):
            return [{"type": "assignee_changed", "old": previous, "new": None}]
        case t.TitleChanged(old, new):
            return [{"type": "case_updated", "field": "summary", "old": old, "new": new}]
        case t.DescriptionChanged():
            # The texts are not kept per change.
            return [{"type": "case_updated", "field": "description", "old": None, "new": None}]
        case t.ResolutionReasonChanged(old, new):
            return [{"type": "case_updated", "field": "resolution_reason", "old": old,
                     "new": new}]  # fmt: skip
        case t.TagsChanged(added, removed):
            return [{"type": "tag_added", **_tag(workspace_id, x)} for x in added] + [
                {"type": "tag_removed", **_tag(workspace_id, x)} for x in removed
            ]
        case t.Comment():
            return [{"type": "comment_created", "comment_id": event.event_id}]
        case t.ExtensionChanged(namespace) if namespace == vocab.NAMESPACE:
            return [{"type": "payload_changed"}]
    # No Tracecat type: casekeeper's own, named after the event, with its details.
    return [{"type": f"casekeeper.{event.kind.value}", "details": t.details(d)}]


def event_json(event: CaseEvent, workspace_id: str) -> list[Json]:
    user = event.actor.fields.get("id") if event.actor.kind is ActorKind.USER else None
    return [
        {
            "id": event.event_id if n == 0 else f"{event.event_id}/{n}",
            **data,
            "user_id": user,
            "actor": actor_label(event.actor),
            "created_at": time_of(event.event_time),
            "wf_exec_id": None,
        }
        for n, data in enumerate(_event_data(event, workspace_id))
    ]


def actor_label(actor: Actor) -> str:
    """Who acted, for events without a user: ``system``, ``apiKey:<name>``."""
    return actor.label
