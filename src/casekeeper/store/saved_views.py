"""Saved queue views: a user's named filters, per space (the web console's sidebar)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from casekeeper.store.schema import saved_view as v


@dataclass(frozen=True, slots=True)
class SavedView:
    id: str
    name: str
    query: str  # the queue's query string, as the page wrote it
    create_time: int


class SavedViewRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def of(self, user_id: str, space_id: int) -> list[SavedView]:
        stmt = (
            sa.select(v.c.id, v.c.name, v.c.query, v.c.create_time)
            .where(v.c.user_id == user_id, v.c.space_id == space_id)
            .order_by(v.c.name)
        )
        return [
            SavedView(r.id, r.name, r.query, int(r.create_time)) for r in self.conn.execute(stmt)
        ]

    def put(self, user_id: str, space_id: int, view: SavedView) -> None:
        """Save ``view`` under its name, replacing a view of that name."""
        self.conn.execute(
            v.delete().where(
                v.c.user_id == user_id, v.c.space_id == space_id, v.c.name == view.name
            )
        )
        self.conn.execute(
            v.insert().values(
                id=view.id, user_id=user_id, space_id=space_id, name=view.name,
                query=view.query, create_time=view.create_time,
            )
        )  # fmt: skip

    def delete(self, user_id: str, space_id: int, view_id: str) -> bool:
        done = self.conn.execute(
            v.delete().where(v.c.user_id == user_id, v.c.space_id == space_id, v.c.id == view_id)
        )
        return done.rowcount > 0
