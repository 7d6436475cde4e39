"""Timeline entries: who did what to a case, and when.

What happened is a typed event from ``domain.timeline``; how it is stored is the store's
business (``store.event_codec``) and how it is shown is each dialect's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from casekeeper.domain.enums import ActorKind, EventKind
from casekeeper.domain.model import Micros
from casekeeper.domain.timeline import TimelineEvent


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acted: a kind and what identifies them there (an API key's ``id`` and ``name``, a
    user's ``id``, a Slack user's ``slackUserId`` ...)."""

    kind: ActorKind
    fields: Mapping[str, str]

    @classmethod
    def system(cls) -> Actor:
        return cls(ActorKind.SYSTEM, {})

    @classmethod
    def api_key(cls, key_id: str, name: str) -> Actor:
        return cls(ActorKind.API_KEY, {"id": key_id, "name": name})

    @classmethod
    def user(cls, user_id: str) -> Actor:
        return cls(ActorKind.USER, {"id": user_id})

    @property
    def label(self) -> str:
        """A short human description, for terminals and logs."""
        f = self.fields
        name = f.get("name") or f.get("displayName") or f.get("username") or f.get("receiverName")
        ident = (
            f.get("id") or f.get("slackUserId") or f.get("teamsUserId") or f.get("pagerDutyUserId")
        )
        return f"{self.kind.value}:{name or ident or ''}".rstrip(":")


@dataclass(frozen=True, slots=True)
class CaseEvent:
    event_id: str
    case_id: str
    space_id: int
    data: TimelineEvent
    actor: Actor
    create_time: Micros
    event_time: Micros
    update_time: Micros | None = None
    external_id: str | None = None

    @property
    def kind(self) -> EventKind:
        return self.data.kind

    @property
    def is_comment(self) -> bool:
        return self.data.kind is EventKind.COMMENT


@dataclass(frozen=True, slots=True)
class EventSelection:
    """Some of a case's events: those of ``kinds`` (every kind when None); of the incident
    changes, with ``incident_openings`` True only openings, False none of them."""

    kinds: frozenset[EventKind] | None = None
    incident_openings: bool | None = None
