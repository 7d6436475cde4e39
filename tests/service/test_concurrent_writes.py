"""Every write to one case waits for the others instead of failing: comments, edits, external
sync and lifecycle changes of the same case, from many threads at once (each its own database
connection, as separate processes would be). Before, on PostgreSQL a comment answered ABORTED
"the case changed concurrently" whenever another call changed its case at the same moment."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from casekeeper.bootstrap import Container
from casekeeper.domain import commands as cmd
from casekeeper.domain.enums import EventKind
from casekeeper.domain.errors import CasekeeperError, ErrorCode
from casekeeper.service.auth import Principal
from casekeeper.service.timeline import ExternalMessage
from tests.changes import one
from tests.conftest import MakeCase

ROUNDS = 25


def _run(workers: list[Callable[[int], None]]) -> list[BaseException]:
    failures: list[BaseException] = []
    start = threading.Barrier(len(workers), timeout=30)

    def loop(work: Callable[[int], None]) -> None:
        start.wait()
        for i in range(ROUNDS):
            try:
                work(i)
            except BaseException as err:
                failures.append(err)

    threads = [threading.Thread(target=loop, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return failures


def test_comments_never_lose_to_concurrent_changes(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case()
    tl, cases = container.timeline, container.cases

    def comment(n: int) -> Callable[[int], None]:
        def write(i: int) -> None:
            tl.create_comment(principal, case.id, f"comment {n}.{i}")

        return write

    def toggle(i: int) -> None:
        one(cases, principal, case.id, cmd.Acknowledge() if i % 2 == 0 else cmd.Unacknowledge())

    def retitle(i: int) -> None:
        one(cases, principal, case.id, cmd.Retitle(f"title {i}"))

    def edit_and_delete(i: int) -> None:
        event = tl.create_comment(principal, case.id, f"to edit {i}")
        tl.update_comment(principal, event.event_id, f"edited {i}")
        tl.delete_comment(principal, event.event_id)

    def sync(i: int) -> None:
        tl.sync_external(principal, case.id, [ExternalMessage(f"m-{i}", "hi", None, None, None)])

    workers = [comment(1), comment(2), comment(3), toggle, retitle, edit_and_delete, sync]
    assert _run(workers) == []
    timeline = tl.list_events(principal, case.id)
    comments = [e for e in timeline if e.kind is EventKind.COMMENT]
    # 3 writers' comments, the synced messages; every edited comment was deleted
    assert len(comments) == 3 * ROUNDS + ROUNDS
    assert container.cases.get(principal, case.id).version > case.version + 5 * ROUNDS


def test_a_missing_case_is_still_not_found(container: Container, principal: Principal) -> None:
    with pytest.raises(CasekeeperError) as err:
        container.timeline.create_comment(principal, "CASE-999999", "hello")
    assert err.value.code is ErrorCode.CASE_NOT_FOUND
