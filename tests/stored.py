"""Timeline events and actors as the store writes them, for tests that compare whole payloads
in one line (``{"statusChanged": {"oldStatus": ..., "newStatus": ...}}``)."""

from __future__ import annotations

from casekeeper.domain.events import Actor
from casekeeper.domain.model import Json
from casekeeper.domain.timeline import TimelineEvent
from casekeeper.store.event_codec import encode, encode_actor


def as_stored(event: TimelineEvent) -> Json:
    return {event.kind.value: encode(event)}


def as_stored_actor(actor: Actor) -> Json:
    return encode_actor(actor)
