"""Saved queue views (the web console): a logged-in user's named filters in a space. Only the
user who saved a view sees it; an API key has none."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Final

from casekeeper.domain.errors import CasekeeperError, ErrorCode
from casekeeper.service.auth import Principal
from casekeeper.service.permissions import Permission
from casekeeper.store.saved_views import SavedView as SavedView  # re-exported for adapters
from casekeeper.store.uow import Database

READ: Final = (Permission.CASE_READ,)
MAX_NAME: Final = 128
MAX_QUERY: Final = 4096
MAX_VIEWS: Final = 50


class SavedViewService:
    def __init__(self, db: Database, clock: Callable[[], int]) -> None:
        self.db = db
        self.clock = clock

    def list(self, p: Principal) -> list[SavedView]:
        if p.user is None:
            return []
        p.require(READ, "read saved views")
        with self.db.reader() as uow:
            return uow.saved_views.of(p.user, p.space_id)

    def save(self, p: Principal, name: str, query: str) -> SavedView:
        """Save the queue's ``query`` string as ``name`` (replacing a view of that name)."""
        user = _user(p)
        p.require(READ, "save a view")
        name = " ".join(name.split())
        if not name or len(name) > MAX_NAME:
            raise CasekeeperError(
                ErrorCode.INVALID_ARGUMENT, f"a view's name is 1 to {MAX_NAME} characters"
            )
        if len(query) > MAX_QUERY:
            raise CasekeeperError(
                ErrorCode.INVALID_ARGUMENT, f"a view's filters are at most {MAX_QUERY} characters"
            )
        view = SavedView(str(uuid.uuid4()), name, query.lstrip("?"), self.clock())
        with self.db.writer() as uow:
            existing = uow.saved_views.of(user, p.space_id)
            if len(existing) >= MAX_VIEWS and all(v.name != name for v in existing):
                raise CasekeeperError(
                    ErrorCode.INVALID_ARGUMENT,
                    f"at most {MAX_VIEWS} saved views per space: delete one first",
                )
            uow.saved_views.put(user, p.space_id, view)
            uow.commit()
        return view

    def delete(self, p: Principal, view_id: str) -> None:
        user = _user(p)
        with self.db.writer() as uow:
            if not uow.saved_views.delete(user, p.space_id, view_id):
                raise CasekeeperError(ErrorCode.VIEW_NOT_FOUND, f"no saved view {view_id!r}")
            uow.commit()


def _user(p: Principal) -> str:
    if p.user is None:
        raise CasekeeperError(
            ErrorCode.PERMISSION_DENIED, "saved views belong to users who log in, not API keys"
        )
    return p.user
