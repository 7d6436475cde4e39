"""An in-memory database for service tests that need no SQL (issue 11): the unit of work and the
repositories the services write and point-read through, over dicts.

It keeps the real one's promises: a writer works on a copy of the committed state and only
``commit()`` publishes it, so leaving the block without committing discards everything (a test
can prove nothing was half-applied); one writer at a time, as on SQLite; readers see the last
commit and cannot write; a save only lands over the version it was made from. Cases are kept as
the row the real store writes (``case_values``) and read back through ``row_to_case``, and a
save rewrites only what the real versioned update rewrites, so what a service reads back is
what a database would give it. Listing and facets run SQL on ``uow.conn``: test those against
a real database (the fake has no connection and says so).
"""

from __future__ import annotations

import builtins
import copy
import dataclasses
import threading
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, fields
from types import TracebackType
from typing import Any, TypeVar, cast

import orjson
import sqlalchemy as sa

from casekeeper.domain import timeline as t
from casekeeper.domain.enums import CaseStatus, EventKind
from casekeeper.domain.errors import case_not_found
from casekeeper.domain.events import Actor, CaseEvent, EventSelection
from casekeeper.domain.incidents import Incident
from casekeeper.domain.model import Case, CaseRef, Json
from casekeeper.service.context import ServiceContext
from casekeeper.store import tags
from casekeeper.store.cases import CASE_COLUMNS, case_values, row_to_case
from casekeeper.store.event_codec import decode, decode_actor, encode, encode_actor
from casekeeper.store.keys import ApiKeyRow, SpaceRow
from casekeeper.store.outbox import CASE_EVENT_TOPIC, OutboxCaseEvent
from casekeeper.store.uow import Database

T = TypeVar("T")
START_US = 1_758_537_000_000_000  # 2025-09-22T10:30:00Z
_NAMES = tuple(col.name for col in CASE_COLUMNS)
# Written at insert and never by the versioned update (store/cases.py, ``save_many``); every
# other column of ``case_values`` is rewritten by a save. connector_types has a server default.
_INSERT_ONLY = frozenset(
    ("id", "space_id", "create_time", "indicator_types", "breached_kpis", "doc", "connector_types")
)


class FakeClock:
    """Each reading is ``step`` microseconds after the previous one."""

    def __init__(self, start: int = START_US, step: int = 1_000) -> None:
        self.now = start
        self.step = step

    def __call__(self) -> int:
        self.now += self.step
        return self.now


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    space_id: int
    topic: str
    payload: Json
    status: str
    attempts: int
    next_attempt_time: int
    create_time: int
    done_time: int | None = None


@dataclass
class State:
    """One committed state. Rows are replaced, never changed in place, so a copy of the
    containers is a snapshot (and two states compare equal when their data is equal)."""

    cases: dict[str, dict[str, Any]] = field(default_factory=dict)  # case rows by id
    events: list[CaseEvent] = field(default_factory=list)  # in insertion (seq) order
    outbox: list[OutboxMessage] = field(default_factory=list)
    spaces: dict[int, str] = field(default_factory=dict)  # name by id
    case_seq: dict[int, int] = field(default_factory=dict)  # last readable number by space id
    space_rows: dict[int, SpaceRow] = field(default_factory=dict)  # uuid and creation by id
    keys: dict[str, ApiKeyRow] = field(default_factory=dict)

    def copy(self) -> State:
        return State(**{f.name: copy.copy(getattr(self, f.name)) for f in fields(self)})


def _conflict(what: str) -> sa.exc.IntegrityError:
    """What the database raises for a broken constraint (the services never expect one)."""
    return sa.exc.IntegrityError(f"fake: {what}", None, ValueError(what))


class _Tx:
    """The state a unit of work sees, and whether it may still use it and write to it."""

    def __init__(self, state: State, *, write: bool) -> None:
        self.state = state
        self.write = write
        self.open = True

    def read(self) -> State:
        assert self.open, "unit of work used outside its 'with' block"
        return self.state

    def writable(self) -> State:
        if not self.write:
            raise RuntimeError("a read-only unit of work cannot write")
        return self.read()


class _Repository:
    def __init__(self, tx: _Tx) -> None:
        self._tx = tx


class FakeCases(_Repository):
    def _rows(self, space_id: int) -> list[dict[str, Any]]:
        return [r for r in self._tx.read().cases.values() if r["space_id"] == space_id]

    def get(self, space_id: int, ref: CaseRef, *, for_update: bool = False) -> Case | None:
        if ref.uuid is not None:
            row = self._tx.read().cases.get(ref.uuid)
            hit = row if row is not None and row["space_id"] == space_id else None
        else:
            hit = next((r for r in self._rows(space_id) if r["number"] == ref.number), None)
        return None if hit is None else _case(hit)

    def require(self, space_id: int, ref: CaseRef, *, for_update: bool = False) -> Case:
        found = self.get(space_id, ref, for_update=for_update)
        if found is None:
            raise case_not_found(ref.raw)
        return found

    def get_many(
        self, space_id: int, refs: Sequence[CaseRef], *, for_update: bool = False
    ) -> dict[str, Case]:
        found = {r.raw: self.get(space_id, r) for r in refs}
        return {raw: case for raw, case in found.items() if case is not None}

    def id_taken(self, case_id: str) -> bool:
        return case_id in self._tx.read().cases

    def add(self, case: Case) -> None:
        state = self._tx.writable()
        if case.id in state.cases:
            raise _conflict(f"case {case.id} exists")
        row = _row(case)
        _check_number(state, row)
        state.cases[case.id] = row

    def add_many(self, cases: Sequence[Case]) -> None:
        for case in cases:
            self.add(case)

    def save(self, old: Case, new: Case) -> bool:
        return self.save_many([(old, new)])

    def save_many(self, pairs: Sequence[tuple[Case, Case]]) -> bool:
        """Rows still at ``old``'s version take ``new``'s columns; False if any was not."""
        state = self._tx.writable()
        if any(new.version != old.version + 1 for old, new in pairs):
            raise ValueError("a saved case must be the next version of the one it replaces")
        saved = 0
        for old, new in pairs:
            row = state.cases.get(old.id)
            if row is None or row["version"] != old.version:
                continue
            after = {k: v for k, v in _row(new).items() if k not in _INSERT_ONLY}
            updated = {**row, **after}
            _check_number(state, updated)
            state.cases[old.id] = updated
            saved += 1
        return saved == len(pairs)

    def next_number(self, space_id: int) -> int:
        state = self._tx.writable()
        if space_id not in state.case_seq:
            raise sa.exc.NoResultFound(f"fake: no space {space_id}")
        state.case_seq[space_id] += 1
        return state.case_seq[space_id]

    def find_by_prometheus(self, space_id: int, fingerprint: str, started: int) -> Case | None:
        wanted = (tags.PROMETHEUS, *tags.prometheus_key(fingerprint, started))
        hits = [c for c in map(_case, self._rows(space_id)) if wanted in set(tags.case_tags(c))]
        return max(hits, key=lambda c: c.create_time, default=None)

    def count_by_status(self) -> list[tuple[str, CaseStatus, int]]:
        state = self._tx.read()
        counts: dict[tuple[str, CaseStatus], int] = {}
        for row in state.cases.values():
            key = (state.spaces[row["space_id"]], CaseStatus(row["status"]))
            counts[key] = counts.get(key, 0) + 1
        return [(name, status, n) for (name, status), n in sorted(counts.items())]

    def grouping_keys(self, space_id: int, limit: int = 1000) -> list[str]:
        cases = map(_case, self._rows(space_id))
        keys = {k for c in cases for kind, k, _ in tags.case_tags(c) if kind == tags.GROUPING}
        return sorted(keys)[:limit]

    def delete_many(self, space_id: int, case_ids: Sequence[str]) -> set[str]:
        state = self._tx.writable()
        gone = {i for i in case_ids if i in state.cases and state.cases[i]["space_id"] == space_id}
        for i in gone:
            del state.cases[i]
        state.events[:] = [e for e in state.events if e.case_id not in gone]
        return gone

    def tag_values(self, space_id: int, kind: str) -> list[str]:
        cases = map(_case, self._rows(space_id))
        return sorted({v for c in cases for k, _, v in tags.case_tags(c) if k == kind})


def _row(case: Case) -> dict[str, Any]:
    """The row the real store inserts, JSON as the database hands it back (text)."""
    row = case_values(case)
    return {**row, "doc": orjson.dumps(row["doc"]).decode(), "connector_types": 0}


def _case(row: dict[str, Any]) -> Case:
    return row_to_case(tuple(row[name] for name in _NAMES))


def _check_number(state: State, row: dict[str, Any]) -> None:
    number, space_id = row["number"], row["space_id"]
    if number is not None and any(
        r["space_id"] == space_id and r["number"] == number and r["id"] != row["id"]
        for r in state.cases.values()
    ):
        raise _conflict(f"space {space_id} already has case number {number}")


def _stored(event: CaseEvent) -> CaseEvent:
    """``event`` as read back from its row: payload and actor went through JSON."""
    data = decode(event.data.kind, orjson.loads(orjson.dumps(encode(event.data))))
    actor = decode_actor(orjson.loads(orjson.dumps(encode_actor(event.actor))))
    return dataclasses.replace(event, data=data, actor=actor)


class FakeEvents(_Repository):
    def add_many(self, events: Sequence[CaseEvent]) -> None:
        state = self._tx.writable()
        known = {e.event_id for e in state.events}
        for event in events:
            if event.event_id in known:
                raise _conflict(f"event {event.event_id} exists")
            known.add(event.event_id)
            state.events.append(_stored(event))

    def for_case(self, case_id: str) -> list[CaseEvent]:
        return [e for e in self._tx.read().events if e.case_id == case_id]

    def by_ids(self, event_ids: Sequence[str]) -> dict[str, CaseEvent]:
        wanted = set(event_ids)
        return {e.event_id: e for e in self._tx.read().events if e.event_id in wanted}

    def get(self, space_id: int, event_id: str) -> CaseEvent | None:
        hits = (e for e in self._tx.read().events if e.event_id == event_id)
        return next((e for e in hits if e.space_id == space_id), None)

    def external_ids(self, case_id: str, candidates: Sequence[str]) -> set[str]:
        wanted = set(candidates)
        return {e.external_id for e in self.for_case(case_id) if e.external_id in wanted}

    def has_external_thread(self, case_id: str) -> bool:
        return any(e.external_id is not None for e in self.for_case(case_id))

    def update_comment(self, event: CaseEvent) -> None:
        """Its payload and update time, as the real update writes (not its kind)."""
        state = self._tx.writable()
        for i, old in enumerate(state.events):
            if old.event_id == event.event_id:
                data = decode(old.data.kind, encode(event.data))
                state.events[i] = _stored(
                    dataclasses.replace(old, data=data, update_time=event.update_time)
                )

    def delete(self, event_id: str) -> None:
        state = self._tx.writable()
        state.events[:] = [e for e in state.events if e.event_id != event_id]

    def creators_and_comments(
        self, case_ids: Sequence[str]
    ) -> tuple[dict[str, Actor], dict[str, int]]:
        wanted = set(case_ids)
        creators: dict[str, Actor] = {}
        comments: dict[str, int] = {}
        for e in self._tx.read().events:
            if e.case_id in wanted and e.kind is EventKind.CREATED:
                creators[e.case_id] = e.actor
            elif e.case_id in wanted and e.kind is EventKind.COMMENT:
                comments[e.case_id] = comments.get(e.case_id, 0) + 1
        return creators, comments

    def page(
        self,
        case_id: str,
        selections: Sequence[EventSelection] | None,
        *,
        offset: int,
        limit: int,
        descending: bool,
    ) -> tuple[list[CaseEvent], int]:
        found = [
            e
            for e in self.for_case(case_id)
            if selections is None or any(_picks(s, e) for s in selections)
        ]
        if descending:
            found.reverse()
        return found[offset : offset + limit], len(found)

    def creators(self, space_id: int) -> list[Actor]:
        out: list[Actor] = []
        for e in self._tx.read().events:
            if e.space_id == space_id and e.kind is EventKind.CREATED and e.actor not in out:
                out.append(e.actor)
        return out


class FakeOutbox(_Repository):
    def add_case_events(self, events: Sequence[CaseEvent], now: int) -> None:
        state = self._tx.writable()
        for ev in events:
            payload = {"caseId": ev.case_id, "eventId": ev.event_id, "kind": ev.kind.value}
            state.outbox.append(
                OutboxMessage(ev.space_id, CASE_EVENT_TOPIC, payload, "pending", 0, now, now)
            )

    def pending_count(self) -> int:
        return sum(m.status == "pending" for m in self._tx.read().outbox)

    def has_pending(self) -> bool:
        return self.pending_count() > 0

    def claim_case_events(self, limit: int) -> list[OutboxCaseEvent]:
        """Message ids are positions in the fake's list."""
        pending = [(i, m) for i, m in enumerate(self._tx.read().outbox) if m.status == "pending"]
        return [
            OutboxCaseEvent(
                i, m.space_id, m.payload["caseId"], m.payload["eventId"], m.payload["kind"]
            )
            for i, m in pending[:limit]
        ]

    def mark_done(self, ids: Sequence[int], now: int) -> None:
        state = self._tx.writable()
        for i in ids:
            state.outbox[i] = dataclasses.replace(state.outbox[i], status="done", done_time=now)

    def prune(self, before: int, limit: int = 10_000) -> int:
        state = self._tx.writable()
        old = [m for m in state.outbox if m.status == "done" and (m.done_time or 0) < before]
        gone = {id(m) for m in old[:limit]}
        state.outbox[:] = [m for m in state.outbox if id(m) not in gone]
        return len(gone)


class FakeIncidents(_Repository):
    """The fake world has cases only: no incident is ever open (the incident rules are tested
    against the real stores, tests/service/test_incidents*.py)."""

    def open_of_cases(self, case_ids: Sequence[str]) -> list[Incident]:
        return []


class FakeSpaces(_Repository):
    def get_id(self, name: str) -> int | None:
        ids = [i for i, n in self._tx.read().spaces.items() if n == name]
        return ids[0] if ids else None

    def ensure(self, name: str, now: int) -> int:
        existing = self.get_id(name)
        if existing is not None:
            return existing
        state = self._tx.writable()
        space_id = max(state.spaces, default=0) + 1
        state.spaces[space_id] = name
        state.case_seq[space_id] = 0
        state.space_rows[space_id] = SpaceRow(space_id, name, str(uuid.uuid4()), now)
        return space_id

    def name_of(self, space_id: int) -> str:
        return self._tx.read().spaces[space_id]

    def all(self) -> list[SpaceRow]:
        return sorted(self._tx.read().space_rows.values(), key=lambda r: r.name)

    def by_uuid(self, space_uuid: str) -> SpaceRow | None:
        rows = self._tx.read().space_rows.values()
        return next((r for r in rows if r.uuid == space_uuid), None)


class FakeKeys(_Repository):
    def _read(self, row: ApiKeyRow) -> ApiKeyRow:
        # The real select joins the space for its name.
        name = self._tx.read().spaces[row.space_id]
        return dataclasses.replace(row, space_name=name)

    def add(self, row: ApiKeyRow) -> None:
        state = self._tx.writable()
        if row.id in state.keys or any(k.prefix == row.prefix for k in state.keys.values()):
            raise _conflict(f"API key {row.id} or its prefix exists")
        state.keys[row.id] = dataclasses.replace(row, revoke_time=None, last_used_time=None)

    def by_prefix(self, prefix: str) -> ApiKeyRow | None:
        hits = [k for k in self._tx.read().keys.values() if k.prefix == prefix]
        return self._read(hits[0]) if hits else None

    def get(self, key_id: str) -> ApiKeyRow | None:
        row = self._tx.read().keys.get(key_id)
        return None if row is None else self._read(row)

    def revoke(self, key_id: str, now: int) -> None:
        row = self._tx.writable().keys.get(key_id)
        if row is not None and row.revoke_time is None:
            self._tx.writable().keys[key_id] = dataclasses.replace(row, revoke_time=now)

    def touch(self, key_id: str, now: int) -> None:
        row = self._tx.writable().keys.get(key_id)
        if row is not None:
            self._tx.writable().keys[key_id] = dataclasses.replace(row, last_used_time=now)

    def list(self, space_id: int | None, include_revoked: bool) -> builtins.list[ApiKeyRow]:
        rows = sorted(self._tx.read().keys.values(), key=lambda k: (k.create_time, k.id))
        return [
            self._read(k)
            for k in rows
            if (space_id is None or k.space_id == space_id)
            and (include_revoked or k.revoke_time is None)
        ]


class FakeUnitOfWork:
    def __init__(self, db: FakeDatabase, *, write: bool) -> None:
        self._db = db
        self._write = write
        self._tx: _Tx | None = None

    def __enter__(self) -> FakeUnitOfWork:
        # One writer at a time, as SQLite's lock; a writer opened inside another on one thread
        # fails, as SQLite's busy timeout does, rather than waiting forever.
        if self._write and not self._db.write_lock.acquire(timeout=5):
            raise RuntimeError("another writer has held the fake database for 5 s")
        # A writer changes a copy; a reader sees the last commit, unchanged by later ones.
        state = self._db.state.copy() if self._write else self._db.state
        tx = self._tx = _Tx(state, write=self._write)
        self.cases = FakeCases(tx)
        self.events = FakeEvents(tx)
        self.outbox = FakeOutbox(tx)
        self.incidents = FakeIncidents(tx)
        self.spaces = FakeSpaces(tx)
        self.keys = FakeKeys(tx)
        return self

    @property
    def conn(self) -> sa.Connection:
        raise RuntimeError(
            "the fake database has no connection: listing and facets run SQL; test them "
            "against a real database (tests/service)"
        )

    def commit(self, meanwhile: Callable[[], T] | None = None) -> T | None:
        """Publish this writer's changes. ``meanwhile`` runs after them, here (the real one
        runs it during the COMMIT); like the real one, its failure comes back as None."""
        if not self._write:
            raise RuntimeError("a read-only unit of work cannot commit")
        assert self._tx is not None
        self._db.publish(self._tx.read())
        # Writes after a commit belong to a new transaction, discarded unless committed too.
        self._tx.state = self._tx.state.copy()
        if meanwhile is None:
            return None
        try:
            return meanwhile()
        except Exception:  # the caller redoes the work, as with the real commit
            return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._tx is not None
        self._tx.open = False
        if self._write:
            self._db.write_lock.release()


class FakeDatabase:
    """Units of work over one in-memory ``State``: ``state`` is the last commit."""

    sqlite = True  # point reads answer at once, as SQLite's do (api/coralogix: runs_inline)

    def __init__(self) -> None:
        self.state = State()
        self.commits = 0
        self.write_lock = threading.Lock()

    def writer(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self, write=True)

    def reader(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self, write=False)

    def side(self, fn: Callable[[], T]) -> Future[T] | None:
        return None  # no side threads: the caller does the work

    def publish(self, state: State) -> None:
        self.state = state
        self.commits += 1

    def snapshot(self) -> State:
        """The committed state, to compare with a later one (equal: nothing was written)."""
        return self.state.copy()

    def space(self, name: str) -> int:
        """The id of space ``name``, made (and committed) if new."""
        with self.writer() as uow:
            space_id = uow.spaces.ensure(name, START_US)
            uow.commit()
        return space_id

    def dispose(self) -> None:
        pass


def fake_context(db: FakeDatabase, clock: Callable[[], int]) -> ServiceContext:
    """A service context over the fake: the one place it stands in for a ``Database`` (the
    services' type). tests/unit/test_service_rules.py checks that it has every repository
    method of the real store, with the same parameters."""
    return ServiceContext(db=cast(Database, db), clock=clock)


def _picks(s: EventSelection, e: CaseEvent) -> bool:
    d = e.data
    opening = isinstance(d, t.IncidentChanged) and d.change is t.IncidentChange.OPENED
    if s.kinds is not None and e.kind not in s.kinds:
        return False
    if s.incident_openings is True and isinstance(d, t.IncidentChanged):
        return opening
    return not (s.incident_openings is False and opening)
