"""The Alertmanager silences casekeeper made for acknowledged cases (acknowledge-until-clear).

One row per silence: which case and which firing (dedup key = fingerprint, starts_at) it holds
quiet, where (the Alertmanager's URL), its id there, and when casekeeper expired it. A row with
no ``expired_at`` is a silence casekeeper still owns: reconciliation does not count an alert
muted only by these as gone, and the sync expires them when their firing clears or their case
stops being acknowledged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from casekeeper.domain.model import Micros
from casekeeper.store.schema import alertmanager_silence as s

_COLUMNS = (
    s.c.space_id,
    s.c.case_id,
    s.c.dedup_key,
    s.c.starts_at,
    s.c.silence_id,
    s.c.external_url,
    s.c.created_at,
    s.c.expired_at,
)


@dataclass(frozen=True, slots=True)
class SilenceRow:
    space_id: int
    case_id: str
    dedup_key: str  # the alert's fingerprint
    starts_at: Micros  # with dedup_key: the firing
    silence_id: str
    external_url: str
    created_at: Micros
    expired_at: Micros | None = None

    @property
    def firing_key(self) -> tuple[str, str, Micros]:
        return (self.case_id, self.dedup_key, self.starts_at)


def _row(r: Any) -> SilenceRow:
    return SilenceRow(*r)


class SilenceRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def add(self, row: SilenceRow) -> None:
        self.conn.execute(
            sa.insert(s).values(
                space_id=row.space_id,
                case_id=row.case_id,
                dedup_key=row.dedup_key,
                starts_at=row.starts_at,
                silence_id=row.silence_id,
                external_url=row.external_url,
                created_at=row.created_at,
                expired_at=row.expired_at,
            )
        )

    def active(self, space_id: int) -> list[SilenceRow]:
        """The space's silences not yet expired, oldest first."""
        stmt = (
            sa.select(*_COLUMNS)
            .where(s.c.space_id == space_id, s.c.expired_at.is_(None))
            .order_by(s.c.created_at, s.c.silence_id)
        )
        return [_row(r) for r in self.conn.execute(stmt)]

    def active_for(
        self, space_id: int, case_id: str, dedup_key: str, starts_at: Micros
    ) -> list[SilenceRow]:
        stmt = sa.select(*_COLUMNS).where(
            s.c.space_id == space_id,
            s.c.case_id == case_id,
            s.c.dedup_key == dedup_key,
            s.c.starts_at == starts_at,
            s.c.expired_at.is_(None),
        )
        return [_row(r) for r in self.conn.execute(stmt)]

    def of_case(self, case_id: str) -> list[SilenceRow]:
        """Every silence made for a case, expired ones too, oldest first."""
        stmt = (
            sa.select(*_COLUMNS)
            .where(s.c.case_id == case_id)
            .order_by(s.c.created_at, s.c.silence_id)
        )
        return [_row(r) for r in self.conn.execute(stmt)]

    def active_ids(self, space_id: int | None = None) -> set[str]:
        """The ids of live silences casekeeper made (in one space, or in all)."""
        stmt = sa.select(s.c.silence_id).where(s.c.expired_at.is_(None))
        if space_id is not None:
            stmt = stmt.where(s.c.space_id == space_id)
        return {str(r[0]) for r in self.conn.execute(stmt)}

    def spaces_with_active(self) -> list[int]:
        stmt = sa.select(s.c.space_id).where(s.c.expired_at.is_(None)).distinct()
        return sorted(int(r[0]) for r in self.conn.execute(stmt))

    def replace_id(self, space_id: int, old: str, new: str) -> None:
        """A renewal that Alertmanager answered with a new id (the old silence had ended)."""
        self.conn.execute(
            sa.update(s)
            .where(s.c.space_id == space_id, s.c.silence_id == old, s.c.expired_at.is_(None))
            .values(silence_id=new)
        )

    def expire(self, space_id: int, silence_ids: Sequence[str], now: Micros) -> int:
        if not silence_ids:
            return 0
        result = self.conn.execute(
            sa.update(s)
            .where(
                s.c.space_id == space_id,
                s.c.silence_id.in_(list(silence_ids)),
                s.c.expired_at.is_(None),
            )
            .values(expired_at=now)
        )
        return int(result.rowcount)
