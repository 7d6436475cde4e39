"""Rendering during the COMMIT (``UnitOfWork.commit(meanwhile=...)``, ``CaseService.bulk(...,
render=...)``): the work runs on a side thread, its result counts only once the change has
committed, a failing render never undoes the change, and a failing commit changes nothing.
Work that has not started when the COMMIT ends is left to the caller."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa

from casekeeper.bootstrap import Container
from casekeeper.domain import commands as cmd
from casekeeper.domain.enums import CaseStatus
from casekeeper.domain.lifecycle import Operation
from casekeeper.domain.model import Case
from casekeeper.service.auth import Principal
from tests.changes import command_for, many, one
from tests.conftest import MakeCase
from tests.stored import as_stored


class Recorder:
    """A render callback that notes where it ran and what it saw."""

    def __init__(self, fail: BaseException | None = None) -> None:
        self.fail = fail
        self.started = threading.Event()
        self.threads: list[str] = []
        self.seen: list[list[str]] = []

    def __call__(self, cases: list[Case]) -> object:
        self.started.set()
        self.threads.append(threading.current_thread().name)
        self.seen.append([c.id for c in cases])
        if self.fail is not None:
            raise self.fail
        return ("rendered", len(cases))


@pytest.mark.usefixtures("side_starts_first")
def test_bulk_renders_its_cases_on_a_side_thread_while_committing(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    cases = [make_case(), make_case()]
    render = Recorder()

    result = many(
        container.cases,
        principal,
        [c.id for c in cases],
        command_for(Operation.ACKNOWLEDGE),
        render=render,
    )

    assert result.rendered == ("rendered", 2)
    assert render.seen == [[c.id for c in result.cases]]
    assert render.threads[0].startswith("commit-side")
    assert render.threads[0] != threading.current_thread().name
    for c in cases:
        assert container.cases.get(principal, c.id).status is CaseStatus.ACKNOWLEDGED


def test_bulk_that_changes_nothing_commits_nothing_and_renders_nothing(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    acked = one(container.cases, principal, make_case().id, cmd.Acknowledge())
    render = Recorder()

    result = many(
        container.cases, principal, [acked.id], command_for(Operation.ACKNOWLEDGE), render=render
    )

    assert result.rendered is None
    assert render.seen == []
    assert result.cases == [acked]


@pytest.mark.usefixtures("side_starts_first")
@pytest.mark.parametrize("error", [RuntimeError("rendering broke"), SystemExit(3)])
def test_a_failing_render_leaves_the_change_committed(
    container: Container, principal: Principal, make_case: MakeCase, error: BaseException
) -> None:
    case = make_case()
    render = Recorder(fail=error)

    result = many(container.cases, principal, [case.id], cmd.Resolve("fixed"), render=render)

    assert result.rendered is None  # the caller renders result.cases itself
    assert render.seen == [[case.id]]
    stored = container.cases.get(principal, case.id)
    assert stored.status is CaseStatus.RESOLVED
    assert result.cases == [stored]
    last = container.timeline.list_events(principal, case.id)[-1]
    assert as_stored(last.data)["statusChanged"]["newStatus"] == "CASE_STATUS_RESOLVED"


def test_a_failing_commit_changes_nothing_and_drops_the_rendering(
    container: Container,
    principal: Principal,
    make_case: MakeCase,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case = make_case()
    before = container.timeline.list_events(principal, case.id)
    render = Recorder()
    # The patch below breaks every commit in the process: a key's last use, written in the
    # background, must not be the one that meets it (holding SQLite's write lock meanwhile).
    container.keys.drain()

    def broken_commit(self: sa.Connection) -> None:
        render.started.wait(5)  # fail once the rendering is under way
        raise sa.exc.OperationalError("COMMIT", {}, RuntimeError("disk I/O error"))

    with monkeypatch.context() as patch:
        patch.setattr(sa.Connection, "commit", broken_commit)
        with pytest.raises(sa.exc.OperationalError):
            many(container.cases, principal, [case.id], command_for(Operation.CLOSE), render=render)

    assert render.seen == [[case.id]]  # it ran alongside, and its result was thrown away
    assert container.cases.get(principal, case.id) == case
    assert container.timeline.list_events(principal, case.id) == before


@pytest.mark.usefixtures("side_starts_first")
def test_unit_of_work_returns_the_side_work_result(container: Container) -> None:
    seen: dict[str, Any] = {}

    def side() -> int:
        seen["thread"] = threading.current_thread().name
        return 42

    with container.db.writer() as uow:
        assert uow.commit(side) == 42
    assert seen["thread"].startswith("commit-side")
    with container.db.writer() as uow:
        assert uow.commit() is None


def test_with_every_side_thread_busy_the_caller_renders_after_the_commit_without_waiting(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case()
    release = threading.Event()
    blockers = [container.db.side(lambda: release.wait(10)) for _ in range(8)]
    render = Recorder()
    try:
        result = many(
            container.cases, principal, [case.id], command_for(Operation.ACKNOWLEDGE), render=render
        )
        assert not release.is_set()  # it did not wait for a side thread to come free
    finally:
        release.set()
    assert all(b is not None and b.result(10) for b in blockers)
    assert result.rendered is None
    assert render.seen == []  # queued, never started, dropped
    assert container.cases.get(principal, case.id).status is CaseStatus.ACKNOWLEDGED


def test_a_side_pool_that_takes_no_work_does_not_stop_the_commit(
    container: Container,
    principal: Principal,
    make_case: MakeCase,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """E.g. while the server shuts down: the pool refuses work, the change still commits."""
    case = make_case()

    def refuse(fn: Any, *args: Any) -> Any:
        raise RuntimeError("cannot schedule new futures after interpreter shutdown")

    monkeypatch.setattr(container.db._side_work, "submit", refuse)
    render = Recorder()

    result = many(
        container.cases, principal, [case.id], command_for(Operation.CLOSE), render=render
    )

    assert result.rendered is None
    assert render.seen == []
    assert container.cases.get(principal, case.id).status is CaseStatus.CLOSED
