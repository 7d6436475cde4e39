"""Firings, signal groups and heartbeats: what ingestion remembers between requests.

A firing's primary key (space, source, dedup key, start) is what makes ingestion idempotent
under concurrency: two requests inserting one new firing collide on it, and the loser retries
and finds the row (a unique violation is a transient CONFLICT, store/driver.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any, Final

import orjson
import sqlalchemy as sa

from casekeeper.domain.signals import Firing, SignalStatus, Source
from casekeeper.store import driver
from casekeeper.store.schema import heartbeat as hb
from casekeeper.store.schema import signal_firing as sf
from casekeeper.store.schema import signal_group as sg

SECOND = 1_000_000


COLUMNS: Final = (
    "space_id", "source", "dedup_key", "starts_at", "status", "last_seen", "ends_at",
    "incident_id", "case_id", "labels", "group_key", "receiver", "external_url", "reconciled",
    "priority_reason",
)  # fmt: skip
_KEY: Final = ("space_id", "source", "dedup_key", "starts_at")
_SELECT: Final = ", ".join(f'"{c}"' for c in COLUMNS)
CHUNK: Final = 400  # keys per IN (...) list: bounded statements, bounded parameters


def _firing(r: Sequence[Any]) -> Firing:
    return Firing(
        space_id=r[0], source=Source(r[1]), dedup_key=r[2], starts_at=r[3],
        status=SignalStatus(r[4]), last_seen=r[5], ends_at=r[6], incident_id=r[7],
        case_id=r[8], labels=orjson.loads(r[9]), group_key=r[10], receiver=r[11],
        external_url=r[12], reconciled=bool(r[13]), priority_reason=r[14],
    )  # fmt: skip


def _row(f: Firing) -> tuple[Any, ...]:
    return (
        f.space_id, f.source.value, f.dedup_key, f.starts_at, f.status.value, f.last_seen,
        f.ends_at, f.incident_id, f.case_id, orjson.dumps(dict(f.labels)).decode(),
        f.group_key, f.receiver, f.external_url, f.reconciled, f.priority_reason,
    )  # fmt: skip


class FiringRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def _select(
        self, where: str, params: Sequence[Any], *, prepare: bool = True, lock: bool = False
    ) -> list[Firing]:
        sql = f'SELECT {_SELECT} FROM "signal_firing" WHERE {where}'  # noqa: S608 - constants
        if lock and self.conn.dialect.name != "sqlite":  # SQLite's writer holds the database
            sql += ' ORDER BY "dedup_key", "starts_at" FOR UPDATE'  # one lock order for all
        rows = driver.fetch(self.conn, sql, tuple(params), server_prepare=prepare)
        return [_firing(r) for r in rows]

    def get(
        self,
        space_id: int,
        source: Source,
        dedup_key: str,
        starts_at: int,
        *,
        for_update: bool = False,
    ) -> Firing | None:
        m = driver.mark(self.conn)
        where = f'"space_id" = {m} AND "source" = {m} AND "dedup_key" = {m} AND "starts_at" = {m}'
        found = self._select(where, (space_id, source.value, dedup_key, starts_at), lock=for_update)
        return found[0] if found else None

    def latest(self, space_id: int, source: Source, dedup_key: str) -> Firing | None:
        """The dedup key's most recent firing (by start)."""
        return self.latest_many(space_id, source, [dedup_key]).get(dedup_key)

    def latest_many(
        self, space_id: int, source: Source, dedup_keys: Sequence[str], *, for_update: bool = False
    ) -> dict[str, Firing]:
        """Each dedup key's most recent firing, by key (keys never seen are left out); with
        ``for_update``, every firing of those keys stays locked until the transaction ends."""
        out: dict[str, Firing] = {}
        m = driver.mark(self.conn)
        unique = list(dict.fromkeys(dedup_keys))
        for start in range(0, len(unique), CHUNK):
            chunk = unique[start : start + CHUNK]
            where = (
                f'"space_id" = {m} AND "source" = {m} '
                f'AND "dedup_key" IN ({", ".join([m] * len(chunk))})'
            )
            # Planned for its values each time: PostgreSQL's generic plan for the IN list,
            # made before a new table has statistics, scanned every firing of the space.
            found = self._select(
                where, (space_id, source.value, *chunk), prepare=False, lock=for_update
            )
            for f in found:
                known = out.get(f.dedup_key)
                if known is None or f.starts_at > known.starts_at:
                    out[f.dedup_key] = f
        return out

    def add(self, f: Firing) -> None:
        self.add_many([f])

    def add_many(self, firings: Sequence[Firing]) -> None:
        if firings:
            sql = driver.insert_sql(self.conn, "signal_firing", COLUMNS)
            driver.executemany(self.conn, sql, [_row(f) for f in firings])

    def save(self, f: Firing) -> None:
        self.save_many([f])

    def save_many(self, firings: Sequence[Firing]) -> None:
        if firings:
            sql = driver.update_sql(self.conn, "signal_firing", COLUMNS[4:], _KEY)
            driver.executemany(self.conn, sql, [(*_row(f)[4:], *_row(f)[:4]) for f in firings])

    def open_of_source(self, space_id: int, source: Source) -> list[Firing]:
        """The space's firings from ``source`` that have not resolved."""
        m = driver.mark(self.conn)
        where = f'"source" = {m} AND "status" <> {m} AND "space_id" = {m}'
        return self._select(where, (source.value, SignalStatus.RESOLVED.value, space_id))

    def spaces_with_open(self, source: Source) -> list[int]:
        rows = self.conn.execute(
            sa.select(sf.c.space_id)
            .where(sf.c.source == source.value, sf.c.status != SignalStatus.RESOLVED.value)
            .distinct()
        )
        return sorted(int(r[0]) for r in rows)

    def of_case(self, case_id: str) -> list[Firing]:
        m = driver.mark(self.conn)
        return self._select(f'"case_id" = {m} ORDER BY "starts_at", "dedup_key"', (case_id,))

    def by_indicator(self, space_id: int, fingerprint: str, started_at: int) -> Firing | None:
        """The Alertmanager firing of ``fingerprint`` that started in ``started_at``'s second
        (GetCaseByIndicator: callers quote startsAt to the second)."""
        second = started_at - started_at % SECOND
        m = driver.mark(self.conn)
        where = (
            f'"space_id" = {m} AND "source" = {m} AND "dedup_key" = {m} AND "starts_at" >= {m} '
            f'AND "starts_at" < {m} AND "case_id" IS NOT NULL ORDER BY "starts_at" LIMIT 1'
        )
        params = (space_id, Source.ALERTMANAGER.value, fingerprint, second, second + SECOND)
        found = self._select(where, params)
        return found[0] if found else None


def group_hash(group_key: str) -> str:
    return hashlib.sha256(group_key.encode()).hexdigest()


class SignalGroupRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def case_of(self, space_id: int, group_key: str, *, for_update: bool = False) -> str | None:
        """The case the group last joined (the caller checks it is still joinable)."""
        q = sa.select(sg.c.case_id).where(
            sg.c.space_id == space_id, sg.c.key_hash == group_hash(group_key)
        )
        if for_update and self.conn.dialect.name == "postgresql":
            q = q.with_for_update()
        row = self.conn.execute(q).first()
        return None if row is None else str(row[0])

    def bind(self, space_id: int, group_key: str, case_id: str, *, existed: bool) -> None:
        """Point the group at ``case_id``: a new row, or (``existed``) the old one rebound."""
        key_hash = group_hash(group_key)
        if existed:
            self.conn.execute(
                sa.update(sg)
                .where(sg.c.space_id == space_id, sg.c.key_hash == key_hash)
                .values(case_id=case_id)
            )
        else:
            self.conn.execute(
                sa.insert(sg).values(
                    space_id=space_id, key_hash=key_hash, group_key=group_key, case_id=case_id
                )
            )

    def keys_of(self, case_id: str) -> list[str]:
        rows = self.conn.execute(sa.select(sg.c.group_key).where(sg.c.case_id == case_id))
        return sorted(str(r[0]) for r in rows)


class HeartbeatRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def touch(self, space_id: int, name: str, interval_us: int, now: int) -> None:
        """Record that ``name`` was heard at ``now`` (never moving ``last_seen`` back)."""
        updated = self.conn.execute(
            sa.update(hb)
            .where(hb.c.space_id == space_id, hb.c.name == name)
            .values(interval_us=interval_us, last_seen=sa.func.max(hb.c.last_seen, now))
            if self.conn.dialect.name == "sqlite"
            else sa.update(hb)
            .where(hb.c.space_id == space_id, hb.c.name == name)
            .values(interval_us=interval_us, last_seen=sa.func.greatest(hb.c.last_seen, now))
        )
        if not updated.rowcount:
            self.conn.execute(
                sa.insert(hb).values(
                    space_id=space_id, name=name, interval_us=interval_us, last_seen=now
                )
            )

    def all(self, space_ids: Iterable[int] | None = None) -> list[tuple[int, str, int, int]]:
        """(space id, name, interval, last seen) of every heartbeat (in ``space_ids``)."""
        q = sa.select(hb.c.space_id, hb.c.name, hb.c.interval_us, hb.c.last_seen)
        if space_ids is not None:
            q = q.where(hb.c.space_id.in_(list(space_ids)))
        return [(int(r[0]), str(r[1]), int(r[2]), int(r[3])) for r in self.conn.execute(q)]
