"""Bulk changes over the same cases never deadlock one another: every bulk locks its cases in
one statement, in id order, whatever the order of the request or whether a case is named by its
UUID or its readable id. Before, on PostgreSQL a bulk locked the cases it was given by UUID and
then, in a second statement, those given as ``CASE-<n>``: two bulks naming the same cases the
other way round each held what the other waited for, and PostgreSQL failed one with a deadlock
(40P01), an INTERNAL error to its caller. (SQLite has a single writer: nothing to order there,
but the test runs on it too.)"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import pytest

from casekeeper.bootstrap import Container
from casekeeper.domain.errors import CasekeeperError, ErrorCode
from casekeeper.domain.lifecycle import Operation
from casekeeper.domain.model import Case, CaseRef
from casekeeper.service.auth import Principal
from casekeeper.service.cases import BulkResult
from casekeeper.store.cases import rows_by_ids
from casekeeper.store.uow import UnitOfWork
from tests.changes import command_for, many
from tests.conftest import MakeCase

CASES = 50
ROUNDS = 20


def _run(workers: Sequence[Callable[[int], BulkResult]]) -> list[BaseException]:
    """Run each worker ``ROUNDS`` times, all at once; the exceptions they raised."""
    errors: list[BaseException] = []
    start = threading.Barrier(len(workers), timeout=30)

    def loop(work: Callable[[int], BulkResult]) -> None:
        start.wait()
        for i in range(ROUNDS):
            try:
                result = work(i)
            except BaseException as err:
                errors.append(err)
                continue
            # Acknowledging an acknowledged case is refused, and may be: nothing else is.
            odd = [f for f in result.failures if f.code is not ErrorCode.INVALID_TRANSITION]
            if odd:
                errors.append(AssertionError(f"unexpected bulk failures: {odd[:3]}"))

    threads = [threading.Thread(target=loop, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
        assert not t.is_alive(), "a bulk worker is stuck"
    return errors


def _refs(cases: Sequence[Case], by_number: set[str]) -> list[str]:
    return [f"CASE-{c.number}" if c.id in by_number else c.id for c in cases]


def test_opposite_bulks_over_the_same_cases_never_deadlock(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    cases = [make_case() for _ in range(CASES)]
    half = {c.id for c in cases[: CASES // 2]}
    other = {c.id for c in cases[CASES // 2 :]}
    # One bulk names the first half by readable id and walks forward; the other names the
    # second half that way and walks backward: every way the order of locking could follow
    # the request differs between the two.
    forward = _refs(cases, half)
    backward = _refs(cases[::-1], other)
    service, timeline = container.cases, container.timeline
    ends = (cases[0], cases[-1])
    before = [len(timeline.list_events(principal, c.id)) for c in ends]

    def ack(i: int) -> BulkResult:
        op = Operation.ACKNOWLEDGE if i % 2 == 0 else Operation.UNACKNOWLEDGE
        return many(service, principal, forward, command_for(op))

    def unack(i: int) -> BulkResult:
        op = Operation.UNACKNOWLEDGE if i % 2 == 0 else Operation.ACKNOWLEDGE
        return many(service, principal, backward, command_for(op))

    errors = _run([ack, unack, ack, unack])
    assert errors == [], f"{len(errors)} bulk calls failed; first: {errors[0]!r}"
    # The cases changed, each change recorded once on its timeline.
    for case, events in zip(ends, before, strict=True):
        changes = service.get(principal, case.id).version - case.version
        assert changes > 0
        assert len(timeline.list_events(principal, case.id)) == events + changes


@pytest.mark.parametrize("how", ["statement", "cursor"])
def test_a_deadlock_is_a_conflict_to_retry(
    container: Container, principal: Principal, make_case: MakeCase, how: str
) -> None:
    """Should PostgreSQL still break a lock cycle (two transactions that lock the same cases
    one by one, the other way round), the transaction it undid is CONFLICT (ABORTED, 409)
    with a message that says to try again, not an INTERNAL error. Both ways a store reads,
    a SQLAlchemy statement and the DBAPI cursor (``driver.fetch``), raise the same."""
    if container.db.sqlite:
        pytest.skip("SQLite has one writer at a time: no lock cycle can form")
    a, b = make_case(), make_case()
    space_id = principal.space_id
    both_locked_one = threading.Barrier(2, timeout=10)
    outcome: dict[str, BaseException | None] = {}

    def lock(uow: UnitOfWork, case: Case) -> None:
        if how == "statement":
            uow.cases.get(space_id, CaseRef(case.id, uuid=case.id), for_update=True)
        else:
            rows_by_ids(uow.conn, space_id, [case.id], for_update=True)

    def run(name: str, first: Case, second: Case) -> None:
        try:
            with container.db.writer() as uow:
                lock(uow, first)
                both_locked_one.wait()
                lock(uow, second)
            outcome[name] = None
        except BaseException as err:
            outcome[name] = err

    threads = [
        threading.Thread(target=run, args=("ab", a, b)),
        threading.Thread(target=run, args=("ba", b, a)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    errors = [e for e in outcome.values() if e is not None]
    assert len(outcome) == 2, "a locking transaction is stuck"
    assert len(errors) == 1, outcome  # one was undone, the other went on
    err = errors[0]
    assert isinstance(err, CasekeeperError), repr(err)
    assert err.code is ErrorCode.CONFLICT
    assert err.spec.grpc_status == "ABORTED"
    assert err.spec.http_status == 409
    assert "try again" in err.message
