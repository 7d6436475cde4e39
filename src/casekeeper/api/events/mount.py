"""The change feed as the HTTP app mounts it, under ``/api/v1/events`` (the notification API
owns the rest of ``/api/v1``), with casekeeper's own error shape."""

from __future__ import annotations

from typing import Any, Final

from casekeeper.api.events.stream import routes as routes
from casekeeper.api.http.errors import generic_error

NAME: Final = "events"
PREFIXES: Final = ("/api/v1/events",)
error_shape = generic_error


def add_events(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` with the change feed's path (a copy)."""
    out = dict(doc)
    out["paths"] = {**doc.get("paths", {}), "/api/v1/events/stream": {"get": {
        "operationId": "casekeeper_events_stream",
        "summary": "The space's changes, live, as Server-Sent Events (docs/EVENTS_STREAM.md)",
        "parameters": [
            {"name": "space", "in": "query", "required": False, "schema": {"type": "string"},
             "description": "With the session cookie: the space to follow"},
            {"name": "last_event_id", "in": "query", "required": False,
             "schema": {"type": "string", "pattern": "^[0-9]+\\\\.[0-9]+$"},
             "description": "Resume after this event (or the Last-Event-ID header)"},
        ],
        "responses": {
            "200": {"description": "An endless text/event-stream",
                    "content": {"text/event-stream": {"schema": {"type": "string"}}}},
            "400": {"description": "A malformed Last-Event-ID"},
            "401": {"description": "No key and no session"},
            "403": {"description": "The caller may not read cases in the space"},
        },
    }}}  # fmt: skip
    return out
