"""Login sessions: rows keyed by the digest of the cookie's token (docs/SESSIONS.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from casekeeper.store.schema import user_session as s


@dataclass(frozen=True, slots=True)
class SessionRow:
    token_hash: str
    id: str
    user_id: str
    create_time: int
    last_seen_time: int
    end_time: int
    revoke_time: int | None
    address: str | None
    user_agent: str | None


def _row(row: Any) -> SessionRow:
    m = row._mapping
    return SessionRow(
        m["token_hash"], m["id"], m["user_id"], int(m["create_time"]), int(m["last_seen_time"]),
        int(m["end_time"]), m["revoke_time"], m["address"], m["user_agent"],
    )  # fmt: skip


class SessionRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def add(self, row: SessionRow) -> None:
        self.conn.execute(
            s.insert().values(
                token_hash=row.token_hash, id=row.id, user_id=row.user_id,
                create_time=row.create_time, last_seen_time=row.last_seen_time,
                end_time=row.end_time, revoke_time=row.revoke_time, address=row.address,
                user_agent=row.user_agent,
            )
        )  # fmt: skip

    def get(self, token_hash: str) -> SessionRow | None:
        found = self.conn.execute(sa.select(s).where(s.c.token_hash == token_hash)).first()
        return _row(found) if found else None

    def of_user(self, user_id: str) -> list[SessionRow]:
        stmt = sa.select(s).where(s.c.user_id == user_id).order_by(s.c.create_time.desc())
        return [_row(x) for x in self.conn.execute(stmt)]

    def touch(self, token_hash: str, now: int) -> None:
        self.conn.execute(
            s.update()
            .where(s.c.token_hash == token_hash, s.c.last_seen_time < now)
            .values(last_seen_time=now)
        )

    def revoke(self, token_hash: str, now: int) -> bool:
        done = self.conn.execute(
            s.update()
            .where(s.c.token_hash == token_hash, s.c.revoke_time.is_(None))
            .values(revoke_time=now)
        )
        return done.rowcount > 0

    def revoke_user(self, user_id: str, now: int) -> int:
        done = self.conn.execute(
            s.update()
            .where(s.c.user_id == user_id, s.c.revoke_time.is_(None))
            .values(revoke_time=now)
        )
        return int(done.rowcount)

    def forget_before(self, before: int) -> int:
        """Delete sessions that ended (or were revoked) before ``before``."""
        done = self.conn.execute(
            s.delete().where(sa.or_(s.c.end_time < before, s.c.revoke_time < before))
        )
        return int(done.rowcount)
