"""The change feed (docs/EVENTS_STREAM.md): who may follow a space's changes, and the
changes after a cursor. A cursor is ``<case-event seq>.<incident-event seq>``."""

from __future__ import annotations

import re
from typing import Final

from casekeeper.domain.errors import invalid
from casekeeper.service.auth import Principal
from casekeeper.service.permissions import Permission
from casekeeper.store import changes as store
from casekeeper.store.changes import Change as Change  # re-exported for adapters
from casekeeper.store.uow import Database

READ: Final = (Permission.CASE_READ,)
CURSOR: Final = re.compile(r"(\d{1,18})\.(\d{1,18})")
Cursor = tuple[int, int]


def parse_cursor(raw: str) -> Cursor:
    """A stream position as a client sends it back (``Last-Event-ID``)."""
    found = CURSOR.fullmatch(raw.strip())
    if found is None:
        raise invalid(
            f"not an event id of this stream (got {raw[:40]!r}): reconnect without one",
            field="Last-Event-ID",
        )
    return int(found.group(1)), int(found.group(2))


def format_cursor(position: Cursor) -> str:
    return f"{position[0]}.{position[1]}"


class ChangeService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def authorize(self, p: Principal) -> None:
        p.require(READ, "follow the space's changes")

    def heads(self) -> Cursor:
        with self.db.reader() as uow:
            return store.heads(uow.conn)

    def after(self, case_after: int, incident_after: int, limit: int) -> list[Change]:
        """Every space's changes after these sequence numbers (the stream's poller)."""
        with self.db.reader() as uow:
            return [*store.case_changes(uow.conn, case_after, limit),
                    *store.incident_changes(uow.conn, incident_after, limit)]  # fmt: skip

    def backlog(self, p: Principal, since: Cursor, until: Cursor, limit: int) -> list[Change]:
        """The space's changes after ``since`` up to ``until`` (a reconnecting client's),
        at most ``limit`` of each kind, in commit order per kind."""
        self.authorize(p)
        with self.db.reader() as uow:
            cases = store.case_changes(uow.conn, since[0], limit, p.space_id)
            incidents = store.incident_changes(uow.conn, since[1], limit, p.space_id)
        return [x for x in cases if x.seq <= until[0]] + [x for x in incidents if x.seq <= until[1]]
