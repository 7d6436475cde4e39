"""Incident rows: write and read one or many, their labels, events and tallies.

Every write keeps three derived things in the same transaction: ``incident_label`` (one row per
label pair, for filters), ``incident_tally`` (incidents per status, state, severity, muted and
closed) and ``incident_label_tally`` (incidents per label pair and per assignee), so totals and
unfiltered facets over a million incidents read a few rows. Tally rows are upserted in key
order, so two transactions never wait on each other's rows in opposite orders.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from casekeeper.domain.incidents import Incident, IncidentEvent
from casekeeper.domain.signals import Source
from casekeeper.store import driver
from casekeeper.store.incident_codec import (
    ASSIGNEE,
    EVENT_COLUMNS,
    INCIDENT_COLUMNS,
    WRITTEN,
    digest,
    event_row,
    incident_row,
    label_pairs,
    row_to_event,
    row_to_incident,
)
from casekeeper.store.schema import incident as inc
from casekeeper.store.schema import incident_label as lab

TallyKey = tuple[int, int, int, int, bool, bool]
LabelKey = tuple[int, str, str, str]

_SOURCES = tuple(s.value for s in Source)
_SELECT = ", ".join(f'"{c}"' for c in INCIDENT_COLUMNS)
_SELECT_EVENT = ", ".join(f'"{c}"' for c in EVENT_COLUMNS)


def _tally_key(x: Incident) -> TallyKey:
    return (x.space_id, int(x.status), int(x.state), int(x.severity), x.is_muted, x.is_closed)


def _label_keys(x: Incident) -> set[LabelKey]:
    keys = {(x.space_id, kind, key, value) for kind, key, value in label_pairs(x)}
    if x.assignee is not None:
        keys.add((x.space_id, ASSIGNEE, "", x.assignee))
    return keys


class IncidentRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    # -- reads ------------------------------------------------------------------------------

    def _select(
        self, where: str, params: Sequence[Any], *, lock: bool = False, prepare: bool = True
    ) -> list[Incident]:
        sql = f'SELECT {_SELECT} FROM "incident" WHERE {where}'  # noqa: S608 - constants
        if lock and self.conn.dialect.name != "sqlite":
            sql += ' ORDER BY "id" FOR UPDATE'  # one lock order for every writer
        rows = driver.fetch(self.conn, sql, tuple(params), server_prepare=prepare)
        return [row_to_incident(r) for r in rows]

    def get(self, space_id: int, incident_id: str, *, for_update: bool = False) -> Incident | None:
        m = driver.mark(self.conn)
        found = self._select(f'"space_id" = {m} AND "id" = {m}', (space_id, incident_id),
                             lock=for_update)  # fmt: skip
        return found[0] if found else None

    def get_many(
        self, space_id: int, ids: Sequence[str], *, for_update: bool = False
    ) -> dict[str, Incident]:
        """The incidents of ``space_id`` among ``ids``, by id (missing ids are left out)."""
        out: dict[str, Incident] = {}
        m = driver.mark(self.conn)
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), 500):  # bounded statements, bounded parameters
            chunk = unique[start : start + 500]
            where = f'"space_id" = {m} AND "id" IN ({", ".join([m] * len(chunk))})'
            for x in self._select(where, (space_id, *chunk), lock=for_update):
                out[x.id] = x
        return out

    def open_for(self, space_id: int, correlation_key: str) -> Incident | None:
        """The open (not closed) incident of an alert episode, locked for the change."""
        m = driver.mark(self.conn)
        where = f'"space_id" = {m} AND "correlation_hash" = {m} AND "closed_at" IS NULL'
        found = self._select(where, (space_id, digest(correlation_key)), lock=True)
        return found[0] if found else None

    def open_for_many(self, space_id: int, keys: Sequence[str]) -> dict[str, Incident]:
        """The open incidents of these alert episodes, by correlation key, locked."""
        out: dict[str, Incident] = {}
        m = driver.mark(self.conn)
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):
            chunk = [digest(k) for k in unique[start : start + 500]]
            where = (
                f'"space_id" = {m} AND "closed_at" IS NULL '
                f'AND "correlation_hash" IN ({", ".join([m] * len(chunk))})'
            )
            # Planned for its values (see FiringRepository.latest_many).
            for x in self._select(where, (space_id, *chunk), lock=True, prepare=False):
                out[x.correlation_key] = x
        return out

    def at(self, space_id: int, correlation_key: str, when: int) -> Incident | None:
        """The incident of an alert episode that was open at ``when`` (the latest if several)."""
        m = driver.mark(self.conn)
        where = (
            f'"space_id" = {m} AND "correlation_hash" = {m} AND "created_at" <= {m} '
            f'AND ("closed_at" IS NULL OR "closed_at" >= {m}) ORDER BY "created_at" DESC'
        )
        found = self._select(where, (space_id, digest(correlation_key), when, when))
        return found[0] if found else None

    def open_of_cases(self, case_ids: Sequence[str]) -> list[Incident]:
        """The incidents of these cases not closed yet, locked for the change."""
        out: list[Incident] = []
        m = driver.mark(self.conn)
        for start in range(0, len(case_ids), 500):
            chunk = case_ids[start : start + 500]
            where = f'"case_id" IN ({", ".join([m] * len(chunk))}) AND "closed_at" IS NULL'
            out += self._select(where, chunk, lock=True)
        return out

    def of_case(self, case_id: str) -> list[Incident]:
        m = driver.mark(self.conn)
        return self._select(f'"case_id" = {m} ORDER BY "created_at", "id"', (case_id,))

    def count_by_case(self, case_ids: Sequence[str]) -> dict[str, int]:
        """Incidents per case (cases with none are left out)."""
        if not case_ids:
            return {}
        stmt = (
            sa.select(inc.c.case_id, sa.func.count())
            .where(inc.c.case_id.in_(sorted(set(case_ids))))
            .group_by(inc.c.case_id)
        )
        return {r[0]: int(r[1]) for r in self.conn.execute(stmt)}

    def delete_of_cases(self, case_ids: Sequence[str]) -> int:
        """Delete the incidents of these cases (their labels and events go with them) and take
        them out of the tallies; how many there were."""
        gone: list[Incident] = []
        m = driver.mark(self.conn)
        ids = sorted(set(case_ids))
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            gone += self._select(f'"case_id" IN ({", ".join([m] * len(chunk))})', chunk, lock=True)
        if not gone:
            return 0
        self._tally(Counter(), Counter(_tally_key(x) for x in gone))
        self._tally_labels(Counter(), Counter(k for x in gone for k in _label_keys(x)))
        doomed = [x.id for x in gone]
        for start in range(0, len(doomed), 500):
            self.conn.execute(sa.delete(inc).where(inc.c.id.in_(doomed[start : start + 500])))
        return len(gone)

    def case_ids_of_alert(self, space_id: int, alert_id: str) -> list[str]:
        """The cases of the incidents of an alert: ``alert_id`` is an incident's correlation
        key (``alertmanager:<fingerprint>``) or the part after its source."""
        keys = [alert_id, *(f"{s}:{alert_id}" for s in _SOURCES)]
        stmt = (
            sa.select(inc.c.case_id)
            .where(
                inc.c.space_id == space_id,
                inc.c.correlation_hash.in_(sorted({digest(k) for k in keys})),
            )
            .distinct()
        )
        return [r[0] for r in self.conn.execute(stmt)]

    def events_of(self, incident_id: str) -> list[IncidentEvent]:
        m = driver.mark(self.conn)
        sql = (
            f'SELECT {_SELECT_EVENT} FROM "incident_event" WHERE "incident_id" = {m} ORDER BY "seq"'  # noqa: S608
        )
        return [row_to_event(r) for r in driver.fetch(self.conn, sql, (incident_id,))]

    def event_by_key(self, space_id: int, cx_event_key: str) -> IncidentEvent | None:
        """The latest event recorded for the alert event ``cx_event_key``."""
        m = driver.mark(self.conn)
        sql = (
            f'SELECT {_SELECT_EVENT} FROM "incident_event" WHERE "space_id" = {m} '  # noqa: S608
            f'AND "cx_event_hash" = {m} AND "cx_event_key" = {m} ORDER BY "seq" DESC LIMIT 1'
        )
        rows = driver.fetch(self.conn, sql, (space_id, digest(cx_event_key), cx_event_key))
        return row_to_event(rows[0]) if rows else None

    # -- writes -----------------------------------------------------------------------------

    def add(self, x: Incident) -> None:
        self.add_many([x])

    def add_many(self, incidents: Sequence[Incident]) -> None:
        if not incidents:
            return
        sql = driver.insert_sql(self.conn, "incident", INCIDENT_COLUMNS)
        driver.executemany(self.conn, sql, [incident_row(x) for x in incidents])
        self._write_labels(incidents)
        self._tally(Counter(_tally_key(x) for x in incidents), Counter())
        self._tally_labels(Counter(k for x in incidents for k in _label_keys(x)), Counter())

    def save_many(self, pairs: Sequence[tuple[Incident, Incident]]) -> bool:
        """Write each ``new`` (the next version of ``old``) over ``old`` if its row still has
        ``old``'s version; False if any lost a race (the caller rolls back)."""
        if not pairs:
            return True
        for old, new in pairs:
            if new.version != old.version + 1 or new.id != old.id:
                raise ValueError("a saved incident must be the next version of the one it replaces")
        # Only the columns of fields that changed (an acknowledgement rewrites status and
        # version, not three JSON documents per row).
        written = [
            (columns, value)
            for name, columns, value in WRITTEN
            if name == "version"
            or any(
                (a := getattr(old, name)) is not (b := getattr(new, name)) and a != b
                for old, new in pairs
            )
        ]
        columns = tuple(col for cols, _ in written for col in cols)
        sql = driver.update_sql(self.conn, "incident", columns, ("id", "version"))
        rows = [
            (*(v for _, value in written for v in value(new)), old.id, old.version)
            for old, new in pairs
        ]
        if driver.executemany(self.conn, sql, rows) != len(rows):
            return False
        relabelled = [new for old, new in pairs if _labels_differ(old, new)]
        if relabelled:
            self.conn.execute(
                sa.delete(lab).where(lab.c.incident_id.in_([x.id for x in relabelled]))
            )
            self._write_labels(relabelled)
        gone: Counter[TallyKey] = Counter(_tally_key(old) for old, _ in pairs)
        came: Counter[TallyKey] = Counter(_tally_key(new) for _, new in pairs)
        self._tally(came, gone)
        label_came: Counter[LabelKey] = Counter()
        label_gone: Counter[LabelKey] = Counter()
        for old, new in pairs:
            if old.assignee == new.assignee and not _labels_differ(old, new):
                continue
            before, after = _label_keys(old), _label_keys(new)
            label_came.update(after - before)
            label_gone.update(before - after)
        self._tally_labels(label_came, label_gone)
        return True

    def add_events(self, events: Sequence[IncidentEvent]) -> None:
        if events:
            sql = driver.insert_sql(self.conn, "incident_event", EVENT_COLUMNS)
            driver.executemany(self.conn, sql, [event_row(e) for e in events])

    def _write_labels(self, incidents: Iterable[Incident]) -> None:
        rows = [
            (x.id, kind, key, value, x.space_id)
            for x in incidents
            for kind, key, value in label_pairs(x)
        ]
        if rows:
            sql = driver.insert_sql(self.conn, "incident_label", _LABEL_COLUMNS)
            driver.executemany(self.conn, sql, rows)

    def _tally(self, came: Counter[TallyKey], gone: Counter[TallyKey]) -> None:
        self._add_counts("incident_tally", _TALLY_KEYS, came, gone)

    def _tally_labels(self, came: Counter[LabelKey], gone: Counter[LabelKey]) -> None:
        self._add_counts("incident_label_tally", _LABEL_KEYS, came, gone)

    def _add_counts(
        self, table: str, keys: tuple[str, ...], came: Counter[Any], gone: Counter[Any]
    ) -> None:
        delta = Counter(came)
        delta.subtract(gone)
        rows = [(*key, n) for key, n in sorted(delta.items()) if n]
        if rows:
            sql = driver.upsert_count_sql(driver.mark(self.conn), table, keys)
            driver.executemany(self.conn, sql, rows)


_LABEL_COLUMNS = ("incident_id", "kind", "key", "value", "space_id")
_TALLY_KEYS = ("space_id", "status", "state", "severity", "is_muted", "closed")
_LABEL_KEYS = ("space_id", "kind", "key", "value")


def _labels_differ(old: Incident, new: Incident) -> bool:
    return (
        old.contextual_labels != new.contextual_labels
        or old.display_labels != new.display_labels
        or old.meta_labels != new.meta_labels
    )
