"""The services' own rules over the in-memory fake (tests/fakes.py), no database: permissions,
the lifecycle, validation, expected versions, bulk changes, and what a change records. Every
refusal is checked against the fake's committed state, so "nothing was applied" is proven, not
assumed; tests/service runs the same rules end to end on SQLite and PostgreSQL."""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import pytest

from casekeeper.domain import commands as cmd
from casekeeper.domain.commands import CaseChange
from casekeeper.domain.enums import CaseCategory, CasePriority, CaseStatus, EventKind, Severity
from casekeeper.domain.errors import CasekeeperError, ErrorCode
from casekeeper.domain.events import CaseEvent
from casekeeper.domain.lifecycle import Operation
from casekeeper.domain.model import MAX_ASSIGNEES, Case, CaseRef, evolve
from casekeeper.domain.timeline import StatusChanged
from casekeeper.service.admin import AdminService, NewCase
from casekeeper.service.auth import OPERATOR, KeyService, Principal
from casekeeper.service.cases import CaseService
from casekeeper.service.permissions import REQUIRES, Permission
from casekeeper.service.timeline import ExternalMessage, TimelineService
from casekeeper.store.cases import CaseRepository
from casekeeper.store.event_codec import encode
from casekeeper.store.events import EventRepository
from casekeeper.store.keys import ApiKeyRepository, SpaceRepository
from casekeeper.store.outbox import CASE_EVENT_TOPIC, OutboxRepository
from casekeeper.store.uow import Database, UnitOfWork
from tests import fakes
from tests.changes import EXAMPLES, USERS, many, one
from tests.fakes import FakeClock, FakeDatabase, fake_context

SPACE: Final = "alpha"


@dataclass
class World:
    db: FakeDatabase
    cases: CaseService
    timeline: TimelineService
    admin: AdminService
    space_id: int

    def key(self, *perms: Permission) -> Principal:
        return Principal(str(uuid.uuid4()), "test key", self.space_id, SPACE, frozenset(perms))

    @property
    def everything(self) -> Principal:
        return self.key(*Permission)

    def new_case(self, title: str = "Checkout is down", **kw: Any) -> Case:
        spec = NewCase(title, CaseCategory.AVAILABILITY, CasePriority.P3, **kw)
        return self.admin.create_case(self.everything, spec)

    def stored(self, case: Case) -> Case:
        return self.cases.get(self.everything, case.id)

    def events(self, case: Case) -> list[CaseEvent]:
        return self.timeline.list_events(self.everything, case.id)


@pytest.fixture
def w() -> World:
    db = FakeDatabase()
    ctx = fake_context(db, FakeClock())
    space_id = db.space(SPACE)
    return World(db, CaseService(ctx), TimelineService(ctx), AdminService(ctx), space_id)


def refused(w: World, code: ErrorCode, fn: Callable[[], object]) -> CasekeeperError:
    """``fn``'s refusal with ``code``, having committed nothing and changed nothing."""
    before, commits = w.db.snapshot(), w.db.commits
    with pytest.raises(CasekeeperError) as info:
        fn()
    assert info.value.code is code, info.value
    assert w.db.commits == commits
    assert w.db.snapshot() == before
    return info.value


# -- the fake itself -----------------------------------------------------------------------------

_TWINS: Final[list[tuple[type, type, tuple[str, ...] | None]]] = [
    (CaseRepository, fakes.FakeCases, None),
    (EventRepository, fakes.FakeEvents, None),
    (OutboxRepository, fakes.FakeOutbox, None),
    (SpaceRepository, fakes.FakeSpaces, None),
    (ApiKeyRepository, fakes.FakeKeys, None),
    (UnitOfWork, fakes.FakeUnitOfWork, ("commit", "__enter__", "__exit__")),
    (Database, FakeDatabase, ("writer", "reader", "side", "dispose")),
]


@pytest.mark.parametrize(("real", "fake", "names"), _TWINS, ids=[r.__name__ for r, _, _ in _TWINS])
def test_the_fake_has_the_real_store_methods_with_their_parameters(
    real: type, fake: type, names: tuple[str, ...] | None
) -> None:
    wanted = names or [n for n, f in vars(real).items() if callable(f) and n[0] != "_"]
    for name in wanted:
        assert hasattr(fake, name), f"{fake.__name__} lacks {real.__name__}.{name}: add it"
        params = [inspect.signature(getattr(t, name)).parameters.values() for t in (real, fake)]
        shapes = [[(p.name, p.kind, p.default) for p in ps] for ps in params]
        assert shapes[0] == shapes[1], f"{fake.__name__}.{name} differs from {real.__name__}'s"


def test_the_fake_publishes_a_writer_only_on_commit(w: World) -> None:
    case = w.new_case()
    before = w.db.snapshot()
    left = variant(case, "left")
    with w.db.writer() as uow:  # left without commit
        uow.cases.add(left)
        assert uow.cases.id_taken(left.id)
    assert w.db.snapshot() == before

    def fail() -> None:
        with w.db.writer() as uow:
            uow.cases.add(left)
            raise KeyError("boom")

    with pytest.raises(KeyError):
        fail()
    assert w.db.snapshot() == before
    newer = variant(case, "newer", version=case.version + 1)
    with w.db.writer() as uow:
        assert uow.cases.save(case, newer)
        assert not uow.cases.save(case, newer)  # the row is no longer at case.version
        uow.commit()
        uow.cases.save(newer, variant(case, "after", version=newer.version + 1))
    assert w.stored(case) == newer  # the write after the commit was never committed
    with w.db.reader() as uow:
        with pytest.raises(RuntimeError, match="cannot write"):
            uow.cases.add(variant(case, "reader"))
        with pytest.raises(RuntimeError, match="cannot commit"):
            uow.commit()
        with pytest.raises(RuntimeError, match="no connection"):
            assert uow.conn


def variant(case: Case, title: str, *, version: int | None = None) -> Case:
    """``case`` retitled; a new case (new id, no number) unless ``version`` is given."""
    if version is not None:
        return evolve(case, title=title, version=version)
    return evolve(case, title=title, id=str(uuid.uuid4()), number=None)


# -- permissions --------------------------------------------------------------------------------


def test_every_command_has_its_permission_and_an_example() -> None:
    assert {type(c): p for c, p in EXAMPLES} == REQUIRES
    assert set(REQUIRES) == set(cmd.COMMANDS)


@pytest.mark.parametrize(
    ("command", "permission"), EXAMPLES, ids=[type(c).__name__ for c, _ in EXAMPLES]
)
def test_a_command_without_its_permission_is_refused_and_changes_nothing(
    w: World, command: cmd.CaseCommand, permission: Permission
) -> None:
    case = w.new_case()
    without = w.key(*(p for p in Permission if p is not permission))
    denied = ErrorCode.PERMISSION_DENIED
    err = refused(w, denied, lambda: one(w.cases, without, case.id, command))
    assert err.detail == {"missing": (permission.value,)}
    refused(w, denied, lambda: many(w.cases, without, [case.id], command))
    holder = w.key(permission)
    # Allowed now; the lifecycle may still refuse it (unacknowledge an active case...).
    assert code_of(lambda: one(w.cases, holder, case.id, command)) in (
        None,
        ErrorCode.INVALID_TRANSITION,
    )


def code_of(fn: Callable[[], object]) -> ErrorCode | None:
    try:
        fn()
    except CasekeeperError as err:
        return err.code
    return None


Write = Callable[[World, Principal, Case, CaseEvent], object]


def _create_case(w: World, p: Principal, c: Case, e: CaseEvent) -> object:
    return w.admin.create_case(p, NewCase("t", CaseCategory.SECURITY, CasePriority.P1))


def _comment(w: World, p: Principal, c: Case, e: CaseEvent) -> object:
    return w.timeline.create_comment(p, c.id, "hi")


def _edit(w: World, p: Principal, c: Case, e: CaseEvent) -> object:
    return w.timeline.update_comment(p, e.event_id, "edited")


def _delete(w: World, p: Principal, c: Case, e: CaseEvent) -> object:
    w.timeline.delete_comment(p, e.event_id)
    return None


def _sync(w: World, p: Principal, c: Case, e: CaseEvent) -> object:
    return w.timeline.sync_external(p, c.id, [ExternalMessage("m1", "hello", None, None, None)])


OTHER_WRITES: Final[list[tuple[Write, Permission]]] = [
    (_create_case, Permission.CASE_CREATE),
    (_comment, Permission.CASE_COMMENT),
    (_edit, Permission.CASE_COMMENT),
    (_delete, Permission.CASE_COMMENT),
    (_sync, Permission.CASE_COMMENT),
]


@pytest.mark.parametrize(
    ("write", "permission"), OTHER_WRITES, ids=[f.__name__[1:] for f, _ in OTHER_WRITES]
)
def test_other_writes_without_their_permission_are_refused_and_change_nothing(
    w: World, write: Write, permission: Permission
) -> None:
    case = w.new_case()
    comment = w.timeline.create_comment(w.everything, case.id, "first")
    without = w.key(*(p for p in Permission if p is not permission))
    err = refused(w, ErrorCode.PERMISSION_DENIED, lambda: write(w, without, case, comment))
    assert repr(permission.value) in err.message
    write(w, w.key(permission), case, comment)  # and allowed with it


def test_a_change_lacking_one_of_two_permissions_applies_nothing(w: World) -> None:
    case = w.new_case()
    assigner = w.key(Permission.CASE_ASSIGN, Permission.CASE_READ)
    both = (cmd.Assign(USERS[0]), cmd.Close())
    err = refused(w, ErrorCode.PERMISSION_DENIED, lambda: one(w.cases, assigner, case.id, *both))
    assert err.detail == {"missing": ("case:Close",)}
    refused(w, ErrorCode.PERMISSION_DENIED, lambda: many(w.cases, assigner, [case.id], *both))


# -- the lifecycle, versions and what a change records -------------------------------------------


def test_several_commands_are_one_version_with_every_event_and_its_outbox_message(
    w: World,
) -> None:
    case = w.new_case()
    before, commits = len(w.db.state.outbox), w.db.commits
    changed = one(w.cases, w.everything, case.id, cmd.Assign(USERS[0]), cmd.Acknowledge())
    assert changed.version == case.version + 1
    assert (changed.assignee, changed.status) == (USERS[0], CaseStatus.ACKNOWLEDGED)
    assert w.stored(case) == changed
    assert w.db.commits == commits + 1
    new = w.events(case)[-2:]
    assert [e.kind for e in new] == [EventKind.ASSIGNED, EventKind.STATUS_CHANGED]
    assert [m.payload for m in w.db.state.outbox[before:]] == [
        {"caseId": case.id, "eventId": e.event_id, "kind": e.kind.value} for e in new
    ]
    assert {(m.topic, m.status) for m in w.db.state.outbox} == {(CASE_EVENT_TOPIC, "pending")}
    # A repeat changes nothing, so it writes nothing.
    assert writes_nothing(w, lambda: one(w.cases, w.everything, case.id, cmd.Acknowledge()))


def writes_nothing(w: World, fn: Callable[[], object]) -> bool:
    """Whether ``fn`` ran without committing anything."""
    before, commits = w.db.snapshot(), w.db.commits
    fn()
    return w.db.commits == commits and w.db.snapshot() == before


def test_a_change_refused_by_its_last_command_commits_nothing(w: World) -> None:
    case = w.new_case()
    steps = (cmd.Assign(USERS[0]), cmd.Acknowledge(), cmd.SetResolutionReason("cause"))
    err = refused(
        w, ErrorCode.INVALID_TRANSITION, lambda: one(w.cases, w.everything, case.id, *steps)
    )
    assert err.detail["operation"] == Operation.UPDATE_RESOLUTION_REASON.value
    assert err.detail["status"] is CaseStatus.ACKNOWLEDGED  # the first two had applied, unsaved


def _change(w: World, p: Principal, c: Case, e: CaseEvent) -> object:
    return one(w.cases, p, c.id, cmd.Assign(USERS[0]), cmd.Acknowledge())


def _bulk(w: World, p: Principal, c: Case, e: CaseEvent) -> object:
    return many(w.cases, p, [c.id, "CASE-999"], cmd.SetSeverity(Severity.HIGH))


@pytest.mark.parametrize(
    "write", [_change, _bulk, _comment, _create_case], ids=lambda f: f.__name__
)
def test_a_write_failing_after_its_case_is_saved_applies_nothing(
    w: World, monkeypatch: pytest.MonkeyPatch, write: Write
) -> None:
    """The outbox is written last, after the case and its events: its failure must undo them
    (one transaction, committed once at the end)."""
    case = w.new_case()
    comment = w.timeline.create_comment(w.everything, case.id, "first")
    staged: list[bool] = []

    def broken(self: fakes.FakeOutbox, events: object, now: int) -> None:
        staged.append(self._tx.read() != w.db.state)  # the case and its events are written
        raise OSError("the outbox is unreachable")

    monkeypatch.setattr(fakes.FakeOutbox, "add_case_events", broken)
    before, commits = w.db.snapshot(), w.db.commits
    with pytest.raises(OSError, match="outbox"):
        write(w, w.everything, case, comment)
    assert staged == [True]
    assert (w.db.snapshot(), w.db.commits) == (before, commits)


def test_a_stale_expected_version_is_a_conflict_that_changes_nothing(w: World) -> None:
    case = w.new_case()
    moved = one(w.cases, w.everything, case.id, cmd.Retitle("someone else's"))
    mine = CaseChange(case.id, (cmd.Retitle("mine"),), expected_version=case.version)
    err = refused(w, ErrorCode.CONFLICT, lambda: w.cases.change(w.everything, mine))
    assert (err.field, err.detail) == ("version", {"version": moved.version, "expected": 1})
    now = w.cases.change(w.everything, CaseChange(case.id, mine.commands, moved.version))
    assert (now.title, now.version) == ("mine", moved.version + 1)


@pytest.mark.parametrize("end", [cmd.Resolve("fixed"), cmd.Close()], ids=["resolved", "closed"])
def test_reopen_makes_an_ended_case_active_again(w: World, end: cmd.CaseCommand) -> None:
    case = one(w.cases, w.everything, w.new_case().id, cmd.Acknowledge(), end)
    reopened = one(w.cases, w.everything, case.id, cmd.Reopen())
    assert reopened.status is CaseStatus.ACTIVE
    assert (reopened.resolution, reopened.end_time, reopened.acknowledge_time) == (None,) * 3
    assert w.events(case)[-1].data == StatusChanged(case.status, CaseStatus.ACTIVE)
    assert writes_nothing(w, lambda: one(w.cases, w.everything, case.id, cmd.Reopen()))
    acked = one(w.cases, w.everything, case.id, cmd.Acknowledge())
    err = refused(
        w, ErrorCode.INVALID_TRANSITION, lambda: one(w.cases, w.everything, acked.id, cmd.Reopen())
    )
    assert err.message.endswith("only a resolved or closed case can be reopened")


def test_ten_assignees_are_kept_in_order_and_an_eleventh_is_refused(w: World) -> None:
    case = w.new_case()
    ten = tuple(USERS[:MAX_ASSIGNEES])
    assert one(w.cases, w.everything, case.id, cmd.SetAssignees(ten)).assignees == ten
    assert w.stored(case).assignees == ten
    assert [e.kind for e in w.events(case)[-10:]] == [EventKind.ASSIGNED] * 10
    eleven = cmd.SetAssignees(tuple(USERS))
    err = refused(
        w, ErrorCode.INVALID_ARGUMENT, lambda: one(w.cases, w.everything, case.id, eleven)
    )
    assert err.message == "assignees: at most 10 values (got 11)"


# -- validation names canonical fields -----------------------------------------------------------

BAD_COMMANDS: Final[list[tuple[cmd.CaseCommand, str]]] = [
    (cmd.Assign("bob@example.com"), "assignee"),
    (cmd.SetAssignees((USERS[0], "bob")), "assignees[1]"),
    (cmd.Retitle(" "), "title"),
    (cmd.Resolve("r" * 4097), "reason"),
    (cmd.SetResolutionReason("\x00"), "resolution_reason"),
    (cmd.SetDescription("d" * 30_001), "description"),
    (cmd.SetTags(tuple(f"t{i}" for i in range(201))), "tags"),
    (cmd.AddTags(("ok", "x" * 257)), "tags[1]"),
    (cmd.SetPriorityOverride(CasePriority.UNSPECIFIED), "priority"),
    (cmd.SetExtension("Not A Namespace", {}), "extensions"),
    (cmd.SetExtension("kibana", {"blob": "x" * 70_000}), "extensions.kibana"),
]


@pytest.mark.parametrize(("command", "field"), BAD_COMMANDS, ids=[f for _, f in BAD_COMMANDS])
def test_an_invalid_command_names_its_canonical_field(
    w: World, command: cmd.CaseCommand, field: str
) -> None:
    case = w.new_case()
    err = refused(
        w, ErrorCode.INVALID_ARGUMENT, lambda: one(w.cases, w.everything, case.id, command)
    )
    assert (err.field, err.message.split(": ")[0]) == (field, field)


def test_other_invalid_input_names_its_canonical_field(w: World) -> None:
    case, p, bad = w.new_case(), w.everything, ErrorCode.INVALID_ARGUMENT
    checks: list[tuple[str, Callable[[], object]]] = [
        ("id", lambda: one(w.cases, p, "not an id!", cmd.Close())),
        ("case_id", lambda: w.timeline.create_comment(p, "x y", "hi")),
        ("text", lambda: w.timeline.create_comment(p, case.id, "  ")),
        ("event_id", lambda: w.timeline.delete_comment(p, "nope")),
        ("title", lambda: w.new_case(" ")),
        ("assignee", lambda: w.new_case(assignee="bob")),
        ("id", lambda: w.new_case(case_id="not-a-uuid")),
    ]
    for field, fn in checks:
        assert refused(w, bad, fn).field == field
    spec = NewCase("t", CaseCategory.UNSPECIFIED, CasePriority.P1)
    assert refused(w, bad, lambda: w.admin.create_case(p, spec)).field == "category"
    refused(w, ErrorCode.CASE_NOT_FOUND, lambda: one(w.cases, p, "CASE-999", cmd.Close()))


# -- bulk changes ---------------------------------------------------------------------------------


def test_a_bulk_change_reports_bad_unknown_stale_and_refused_cases_and_applies_the_rest(
    w: World,
) -> None:
    first, second, stale = w.new_case(), w.new_case(), w.new_case()
    closed = one(w.cases, w.everything, w.new_case().id, cmd.Close())
    one(w.cases, w.everything, stale.id, cmd.Retitle("moved on"))
    ghost = str(uuid.uuid4())
    assign = (cmd.Assign(USERS[0]),)
    changes = [
        CaseChange(first.id, assign),
        CaseChange("not an id!", assign),
        CaseChange("CASE-999", assign),
        CaseChange(ghost, assign),
        CaseChange(closed.readable_id or "", assign),
        CaseChange(stale.id, assign, expected_version=stale.version),
        CaseChange(second.id, assign),
        CaseChange(first.readable_id or "", assign),  # the same case again: once
    ]
    before, commits = w.db.snapshot(), w.db.commits
    result = w.cases.change_many(w.everything, changes)
    assert [(f.id, f.code) for f in result.failures] == [
        ("not an id!", ErrorCode.INVALID_ARGUMENT),
        ("CASE-999", ErrorCode.CASE_NOT_FOUND),
        (ghost, ErrorCode.CASE_NOT_FOUND),
        (closed.readable_id, ErrorCode.INVALID_TRANSITION),
        (stale.id, ErrorCode.CONFLICT),
    ]
    assert [(c.id, c.assignee) for c in result.cases] == [
        (first.id, USERS[0]),
        (second.id, USERS[0]),
    ]
    assert w.db.commits == commits + 1  # one transaction for the whole bulk
    assert [w.stored(c) for c in (first, second)] == result.cases
    for untouched in (closed, stale):
        assert w.db.state.cases[untouched.id] == before.cases[untouched.id]
    assigned = [e for e in w.db.state.events if e not in before.events]
    assert sorted(e.case_id for e in assigned) == sorted([first.id, second.id])
    assert len(w.db.state.outbox) == len(before.outbox) + 2


def test_a_bulk_change_where_every_case_fails_commits_nothing(w: World) -> None:
    closed = one(w.cases, w.everything, w.new_case().id, cmd.Close())
    assert writes_nothing(
        w, lambda: many(w.cases, w.everything, [closed.id, "CASE-999"], cmd.Assign(USERS[1]))
    )
    refused(w, ErrorCode.INVALID_ARGUMENT, lambda: w.cases.change_many(w.everything, []))
    too_many = [str(uuid.uuid4()) for _ in range(1001)]
    err = refused(
        w, ErrorCode.INVALID_ARGUMENT, lambda: many(w.cases, w.everything, too_many, cmd.Close())
    )
    assert err.field == "ids"


def test_a_bulk_change_renders_its_cases_with_the_commit(w: World) -> None:
    case = w.new_case()
    result = many(w.cases, w.everything, [case.id], cmd.Acknowledge(), render=lambda cs: len(cs))
    assert result.rendered == 1


# -- the timeline, creation and keys ---------------------------------------------------------------


def test_a_comment_is_a_change_of_its_case_and_only_comments_can_be_edited(w: World) -> None:
    case = w.new_case()
    event = w.timeline.create_comment(w.everything, case.id, "  looking into it ")
    assert encode(event.data) == {"unsafeText": "looking into it", "attachments": []}
    touched = w.stored(case)
    assert (touched.version, touched.update_time) == (case.version + 1, event.create_time)
    assert w.db.state.outbox[-1].payload["eventId"] == event.event_id
    created = w.events(case)[0]
    err = refused(
        w, ErrorCode.NOT_EDITABLE, lambda: w.timeline.delete_comment(w.everything, created.event_id)
    )
    assert "only comment events" in err.message
    w.timeline.delete_comment(w.everything, event.event_id)
    assert event.event_id not in {e.event_id for e in w.events(case)}


def test_external_messages_are_synced_once(w: World) -> None:
    case = w.new_case()
    msgs = [ExternalMessage(f"m{i}", f"message {i}", None, None, None) for i in range(2)]
    assert w.timeline.sync_external(w.everything, case.id, msgs)
    assert [e.external_id for e in w.events(case)[-2:]] == ["m0", "m1"]
    assert writes_nothing(w, lambda: w.timeline.sync_external(w.everything, case.id, msgs))


def test_creation_numbers_cases_and_records_their_first_events(w: World) -> None:
    first = w.new_case(assignee=USERS[0].upper())
    assert (first.readable_id, first.status, first.assignee) == (
        "CASE-1",
        CaseStatus.ACTIVE,
        USERS[0],
    )
    kinds = [e.kind for e in w.events(first)]
    assert kinds == [EventKind.CREATED, EventKind.STATUS_CHANGED, EventKind.ASSIGNED]
    assert len(w.db.state.outbox) == 3
    pending = w.new_case(pending=True, case_id=str(uuid.uuid4()))
    assert (pending.number, pending.status) == (None, CaseStatus.PENDING_ACTIVATION)
    again = NewCase("again", CaseCategory.SECURITY, CasePriority.P1, case_id=pending.id)
    refused(w, ErrorCode.ALREADY_EXISTS, lambda: w.admin.create_case(w.everything, again))
    active = w.admin.system_step(w.everything, pending.id, Operation.ACTIVATE)
    assert (active.readable_id, w.stored(pending)) == ("CASE-2", active)
    with w.db.reader() as uow:  # found by its readable id too
        assert uow.cases.get(w.space_id, CaseRef("CASE-2", number=2)) == active


def test_a_key_grants_at_most_what_it_holds_and_revokes_in_its_own_space(w: World) -> None:
    ctx = fake_context(w.db, FakeClock())
    keys = KeyService(ctx.db, ctx.clock)
    try:
        other = keys.create(
            name="other", permissions=["case:Read"], space="beta", granted_by=OPERATOR
        )
        manager = w.key(Permission.API_KEY_MANAGE, Permission.CASE_READ)
        refused(
            w,
            ErrorCode.PERMISSION_DENIED,
            lambda: keys.create(
                name="k", permissions=["case:Close"], space=SPACE, granted_by=manager
            ),
        )
        refused(w, ErrorCode.API_KEY_NOT_FOUND, lambda: keys.revoke(manager, other.row.id))
        mine = keys.create(name="mine", permissions=["case:Read"], space=SPACE, granted_by=manager)
        assert keys.authenticate(f"Bearer {mine.key}").space_id == w.space_id
        keys.drain()  # its last use is written by a thread of the service's
        assert w.db.state.keys[mine.row.id].last_used_time is not None
        assert keys.revoke(manager, mine.row.id).revoke_time is not None
        with pytest.raises(CasekeeperError, match="revoked"):
            keys.authenticate(mine.key)
    finally:
        keys.close()
