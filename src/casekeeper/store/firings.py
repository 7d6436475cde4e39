"""Firings, signal groups and heartbeats: what ingestion remembers between requests.

A firing's primary key (space, source, dedup key, start) is what makes ingestion idempotent
under concurrency: two requests inserting one new firing collide on it, and the loser retries
and finds the row (a unique violation is a transient CONFLICT, store/driver.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import orjson
import sqlalchemy as sa

from casekeeper.domain.signals import Firing, SignalStatus, Source
from casekeeper.store.schema import heartbeat as hb
from casekeeper.store.schema import signal_firing as sf
from casekeeper.store.schema import signal_group as sg

SECOND = 1_000_000


def _firing(row: Any) -> Firing:
    m = row._mapping
    return Firing(
        space_id=m["space_id"],
        source=Source(m["source"]),
        dedup_key=m["dedup_key"],
        starts_at=m["starts_at"],
        status=SignalStatus(m["status"]),
        last_seen=m["last_seen"],
        incident_id=m["incident_id"],
        case_id=m["case_id"],
        ends_at=m["ends_at"],
        labels=orjson.loads(m["labels"]),
        group_key=m["group_key"],
        receiver=m["receiver"],
        external_url=m["external_url"],
    )


def _values(f: Firing) -> dict[str, Any]:
    return {
        "status": f.status.value,
        "last_seen": f.last_seen,
        "ends_at": f.ends_at,
        "incident_id": f.incident_id,
        "case_id": f.case_id,
        "labels": orjson.dumps(dict(f.labels)).decode(),
        "group_key": f.group_key,
        "receiver": f.receiver,
        "external_url": f.external_url,
    }


def _key(space_id: int, source: Source, dedup_key: str) -> Any:
    return sa.and_(
        sf.c.space_id == space_id, sf.c.source == source.value, sf.c.dedup_key == dedup_key
    )


class FiringRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def get(self, space_id: int, source: Source, dedup_key: str, starts_at: int) -> Firing | None:
        row = self.conn.execute(
            sa.select(sf).where(_key(space_id, source, dedup_key), sf.c.starts_at == starts_at)
        ).first()
        return None if row is None else _firing(row)

    def latest(self, space_id: int, source: Source, dedup_key: str) -> Firing | None:
        """The dedup key's most recent firing (by start)."""
        row = self.conn.execute(
            sa.select(sf)
            .where(_key(space_id, source, dedup_key))
            .order_by(sf.c.starts_at.desc())
            .limit(1)
        ).first()
        return None if row is None else _firing(row)

    def add(self, f: Firing) -> None:
        self.conn.execute(
            sa.insert(sf).values(
                space_id=f.space_id,
                source=f.source.value,
                dedup_key=f.dedup_key,
                starts_at=f.starts_at,
                **_values(f),
            )
        )

    def save(self, f: Firing) -> None:
        self.conn.execute(
            sa.update(sf)
            .where(_key(f.space_id, f.source, f.dedup_key), sf.c.starts_at == f.starts_at)
            .values(**_values(f))
        )

    def open_of_source(self, space_id: int, source: Source) -> list[Firing]:
        """The space's firings from ``source`` that have not resolved."""
        rows = self.conn.execute(
            sa.select(sf).where(
                sf.c.source == source.value,
                sf.c.status != SignalStatus.RESOLVED.value,
                sf.c.space_id == space_id,
            )
        )
        return [_firing(r) for r in rows]

    def spaces_with_open(self, source: Source) -> list[int]:
        rows = self.conn.execute(
            sa.select(sf.c.space_id)
            .where(sf.c.source == source.value, sf.c.status != SignalStatus.RESOLVED.value)
            .distinct()
        )
        return sorted(int(r[0]) for r in rows)

    def of_case(self, case_id: str) -> list[Firing]:
        rows = self.conn.execute(
            sa.select(sf).where(sf.c.case_id == case_id).order_by(sf.c.starts_at)
        )
        return [_firing(r) for r in rows]

    def by_indicator(self, space_id: int, fingerprint: str, started_at: int) -> Firing | None:
        """The Alertmanager firing of ``fingerprint`` that started in ``started_at``'s second
        (GetCaseByIndicator: callers quote startsAt to the second)."""
        second = started_at - started_at % SECOND
        row = self.conn.execute(
            sa.select(sf)
            .where(
                _key(space_id, Source.ALERTMANAGER, fingerprint),
                sf.c.starts_at >= second,
                sf.c.starts_at < second + SECOND,
                sf.c.case_id.is_not(None),
            )
            .order_by(sf.c.starts_at)
            .limit(1)
        ).first()
        return None if row is None else _firing(row)


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
