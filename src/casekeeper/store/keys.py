"""Spaces and API key rows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from casekeeper.store.schema import api_key as k
from casekeeper.store.schema import space


@dataclass(frozen=True, slots=True)
class SpaceRow:
    id: int
    name: str
    uuid: str  # stable: Tracecat's workspace_id
    create_time: int


@dataclass(frozen=True, slots=True)
class ApiKeyRow:
    id: str
    space_id: int
    space_name: str
    name: str
    prefix: str
    secret_hash: str
    permissions: tuple[str, ...]
    create_time: int
    revoke_time: int | None
    last_used_time: int | None


_KEY_SELECT = sa.select(k, space.c.name.label("space_name")).join(space, space.c.id == k.c.space_id)


def _row(row: Any) -> ApiKeyRow:
    m = row._mapping
    return ApiKeyRow(
        id=m["id"],
        space_id=m["space_id"],
        space_name=m["space_name"],
        name=m["name"],
        prefix=m["prefix"],
        secret_hash=m["secret_hash"],
        permissions=tuple(m["permissions"]),
        create_time=m["create_time"],
        revoke_time=m["revoke_time"],
        last_used_time=m["last_used_time"],
    )


class SpaceRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def get_id(self, name: str) -> int | None:
        row = self.conn.execute(sa.select(space.c.id).where(space.c.name == name)).first()
        return None if row is None else int(row[0])

    def ensure(self, name: str, now: int) -> int:
        existing = self.get_id(name)
        if existing is not None:
            return existing
        result = self.conn.execute(
            sa.insert(space).values(name=name, create_time=now, case_seq=0, uuid=str(uuid.uuid4()))
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def all(self) -> list[SpaceRow]:
        rows = self.conn.execute(
            sa.select(space.c.id, space.c.name, space.c.uuid, space.c.create_time).order_by(
                space.c.name
            )
        )
        return [SpaceRow(int(r[0]), r[1], r[2], int(r[3])) for r in rows]

    def by_uuid(self, space_uuid: str) -> SpaceRow | None:
        row = self.conn.execute(
            sa.select(space.c.id, space.c.name, space.c.uuid, space.c.create_time).where(
                space.c.uuid == space_uuid
            )
        ).first()
        return None if row is None else SpaceRow(int(row[0]), row[1], row[2], int(row[3]))

    def name_of(self, space_id: int) -> str:
        return str(
            self.conn.execute(sa.select(space.c.name).where(space.c.id == space_id)).scalar_one()
        )


class ApiKeyRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def add(self, row: ApiKeyRow) -> None:
        self.conn.execute(
            sa.insert(k).values(
                id=row.id,
                space_id=row.space_id,
                name=row.name,
                prefix=row.prefix,
                secret_hash=row.secret_hash,
                permissions=list(row.permissions),
                create_time=row.create_time,
            )
        )

    def by_prefix(self, prefix: str) -> ApiKeyRow | None:
        row = self.conn.execute(_KEY_SELECT.where(k.c.prefix == prefix)).first()
        return None if row is None else _row(row)

    def get(self, key_id: str) -> ApiKeyRow | None:
        row = self.conn.execute(_KEY_SELECT.where(k.c.id == key_id)).first()
        return None if row is None else _row(row)

    def list(self, space_id: int | None, include_revoked: bool) -> list[ApiKeyRow]:
        stmt = _KEY_SELECT.order_by(k.c.create_time, k.c.id)
        if space_id is not None:
            stmt = stmt.where(k.c.space_id == space_id)
        if not include_revoked:
            stmt = stmt.where(k.c.revoke_time.is_(None))
        return [_row(r) for r in self.conn.execute(stmt)]

    def revoke(self, key_id: str, now: int) -> None:
        self.conn.execute(
            sa.update(k).where(k.c.id == key_id, k.c.revoke_time.is_(None)).values(revoke_time=now)
        )

    def touch(self, key_id: str, now: int) -> None:
        self.conn.execute(sa.update(k).where(k.c.id == key_id).values(last_used_time=now))
