"""User rows and their roles per space."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from casekeeper.store.schema import app_user as u
from casekeeper.store.schema import space
from casekeeper.store.schema import user_role as r


@dataclass(frozen=True, slots=True)
class UserRow:
    id: str
    username: str
    email: str | None
    full_name: str | None
    password_hash: str
    disabled: bool
    create_time: int
    update_time: int


@dataclass(frozen=True, slots=True)
class RoleRow:
    user_id: str
    space_id: int
    space_name: str
    role: str


def _user(row: Any) -> UserRow:
    m = row._mapping
    return UserRow(
        id=m["id"],
        username=m["username"],
        email=m["email"],
        full_name=m["full_name"],
        password_hash=m["password_hash"],
        disabled=bool(m["disabled"]),
        create_time=int(m["create_time"]),
        update_time=int(m["update_time"]),
    )


_ROLES = sa.select(r, space.c.name.label("space_name")).join(space, space.c.id == r.c.space_id)


def _role(row: Any) -> RoleRow:
    m = row._mapping
    return RoleRow(m["user_id"], int(m["space_id"]), m["space_name"], m["role"])


class UserRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def add(self, row: UserRow) -> None:
        self.conn.execute(
            sa.insert(u).values(
                id=row.id,
                username=row.username,
                email=row.email,
                full_name=row.full_name,
                password_hash=row.password_hash,
                disabled=row.disabled,
                create_time=row.create_time,
                update_time=row.update_time,
            )
        )

    def get(self, user_id: str) -> UserRow | None:
        row = self.conn.execute(sa.select(u).where(u.c.id == user_id)).first()
        return None if row is None else _user(row)

    def by_username(self, username: str) -> UserRow | None:
        row = self.conn.execute(sa.select(u).where(u.c.username == username)).first()
        return None if row is None else _user(row)

    def many(self, user_ids: Sequence[str]) -> dict[str, UserRow]:
        if not user_ids:
            return {}
        rows = self.conn.execute(sa.select(u).where(u.c.id.in_(sorted(set(user_ids)))))
        return {x.id: x for x in map(_user, rows)}

    def by_usernames(self, usernames: Sequence[str]) -> dict[str, UserRow]:
        if not usernames:
            return {}
        rows = self.conn.execute(sa.select(u).where(u.c.username.in_(sorted(set(usernames)))))
        return {x.username: x for x in map(_user, rows)}

    def in_space(self, space_id: int | None) -> list[tuple[UserRow, list[RoleRow]]]:
        """Users with a role in the space (every user, with ``None``), by username, with
        all their roles."""
        stmt = sa.select(u).order_by(u.c.username)
        if space_id is not None:
            stmt = stmt.where(u.c.id.in_(sa.select(r.c.user_id).where(r.c.space_id == space_id)))
        users = [_user(x) for x in self.conn.execute(stmt)]
        roles: dict[str, list[RoleRow]] = {x.id: [] for x in users}
        if users:
            for row in self.conn.execute(
                _ROLES.where(r.c.user_id.in_(list(roles))).order_by(space.c.name)
            ):
                roles[row.user_id].append(_role(row))
        return [(x, roles[x.id]) for x in users]

    def set_disabled(self, user_id: str, disabled: bool, now: int) -> bool:
        result = self.conn.execute(
            sa.update(u).where(u.c.id == user_id).values(disabled=disabled, update_time=now)
        )
        return bool(result.rowcount)

    def set_password(self, user_id: str, password_hash: str, now: int) -> bool:
        result = self.conn.execute(
            sa.update(u)
            .where(u.c.id == user_id)
            .values(password_hash=password_hash, update_time=now)
        )
        return bool(result.rowcount)

    def roles_of(self, user_id: str) -> list[RoleRow]:
        """The user's roles, by space name."""
        stmt = _ROLES.where(r.c.user_id == user_id).order_by(space.c.name)
        return [_role(x) for x in self.conn.execute(stmt)]

    def role_in(self, user_id: str, space_id: int) -> str | None:
        row = self.conn.execute(
            sa.select(r.c.role).where(r.c.user_id == user_id, r.c.space_id == space_id)
        ).first()
        return None if row is None else str(row[0])

    def set_role(self, user_id: str, space_id: int, role: str | None) -> None:
        """Give the user ``role`` in the space (``None``: no role there any more)."""
        self.conn.execute(sa.delete(r).where(r.c.user_id == user_id, r.c.space_id == space_id))
        if role is not None:
            self.conn.execute(sa.insert(r).values(user_id=user_id, space_id=space_id, role=role))
