"""Rendering during the COMMIT (``UnitOfWork.commit(meanwhile=...)``, ``CaseService.bulk(...,
render=...)``): the work runs on a side thread, its result counts only once the change has
committed, a failing render never undoes the change, and a failing commit changes nothing."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa

from casekeeper.bootstrap import Container
from casekeeper.domain.enums import CaseStatus
from casekeeper.domain.lifecycle import Operation
from casekeeper.domain.model import Case
from casekeeper.service.auth import Principal
from tests.conftest import MakeCase


class Recorder:
    """A render callback that notes where it ran and what it saw."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.threads: list[str] = []
        self.seen: list[list[str]] = []

    def __call__(self, cases: list[Case]) -> object:
        self.threads.append(threading.current_thread().name)
        self.seen.append([c.id for c in cases])
        if self.fail:
            raise RuntimeError("rendering broke")
        return ("rendered", len(cases))


def test_bulk_renders_its_cases_on_a_side_thread_while_committing(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    cases = [make_case(), make_case()]
    render = Recorder()

    result = container.cases.bulk_transition(
        principal, [c.id for c in cases], Operation.ACKNOWLEDGE, render=render
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
    acked = container.cases.acknowledge(principal, make_case().id)
    render = Recorder()

    result = container.cases.bulk_transition(
        principal, [acked.id], Operation.ACKNOWLEDGE, render=render
    )

    assert result.rendered is None
    assert render.seen == []
    assert result.cases == [acked]


def test_a_failing_render_leaves_the_change_committed(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case()
    render = Recorder(fail=True)

    result = container.cases.bulk_resolve(principal, [case.id], "fixed", render=render)

    assert result.rendered is None  # the caller renders result.cases itself
    assert render.seen == [[case.id]]
    stored = container.cases.get(principal, case.id)
    assert stored.status is CaseStatus.RESOLVED
    assert result.cases == [stored]
    last = container.timeline.list_events(principal, case.id)[-1]
    assert last.data.to_json()["statusChanged"]["newStatus"] == "CASE_STATUS_RESOLVED"


def test_a_failing_commit_changes_nothing_and_drops_the_rendering(
    container: Container,
    principal: Principal,
    make_case: MakeCase,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case = make_case()
    before = container.timeline.list_events(principal, case.id)
    render = Recorder()
    real_commit = sa.Connection.commit

    def broken_commit(self: sa.Connection) -> None:
        raise sa.exc.OperationalError("COMMIT", {}, RuntimeError("disk I/O error"))

    monkeypatch.setattr(sa.Connection, "commit", broken_commit)
    with pytest.raises(sa.exc.OperationalError):
        container.cases.bulk_transition(principal, [case.id], Operation.CLOSE, render=render)
    monkeypatch.setattr(sa.Connection, "commit", real_commit)

    assert render.seen == [[case.id]]  # it ran alongside, and its result was thrown away
    assert container.cases.get(principal, case.id) == case
    assert container.timeline.list_events(principal, case.id) == before


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
