"""``case_tally`` agrees with the rows it counts after every kind of case write: creation
(one and in bulk), status, priority and category changes, bulk changes, signals, deletes."""

from __future__ import annotations

import sqlalchemy as sa

from casekeeper.bootstrap import Container
from casekeeper.domain import commands as cmd
from casekeeper.domain.commands import CaseChange
from casekeeper.domain.enums import CasePriority, CaseStatus
from casekeeper.domain.query import CaseFilters
from casekeeper.domain.signals import Signal, SignalBatch, SignalStatus, Source
from casekeeper.service.auth import Principal
from casekeeper.store.schema import case as c
from casekeeper.store.schema import case_tally as ct
from tests.conftest import MakeCase


def tally_matches_rows(container: Container, space_id: int) -> dict[tuple[int, int, int], int]:
    with container.db.reader() as uow:
        rows = {
            (s, p, k): n
            for s, p, k, n in uow.conn.execute(
                sa.select(c.c.status, c.c.priority, c.c.category, sa.func.count())
                .where(c.c.space_id == space_id)
                .group_by(c.c.status, c.c.priority, c.c.category)
            )
        }
        kept = {
            (s, p, k): n
            for s, p, k, n in uow.conn.execute(
                sa.select(ct.c.status, ct.c.priority, ct.c.category, ct.c.n).where(
                    ct.c.space_id == space_id, ct.c.n != 0
                )
            )
        }
    assert kept == rows
    return rows


def test_the_tally_follows_every_write(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    cases = [make_case() for _ in range(6)]
    space = principal.space_id
    tally_matches_rows(container, space)
    container.cases.change(principal, CaseChange(cases[0].id, (cmd.Acknowledge(),)))
    container.cases.change(
        principal, CaseChange(cases[1].id, (cmd.SetPriorityOverride(CasePriority.P1),))
    )
    container.cases.change_many(principal, [CaseChange(x.id, (cmd.Close(),)) for x in cases[2:5]])
    tally_matches_rows(container, space)
    batch = SignalBatch(
        Source.GENERIC,
        (
            Signal(
                dedup_key="d1",
                status=SignalStatus.FIRING,
                title="Disk",
                labels={"a": "b"},
                starts_at=1,
            ),
        ),
    )
    opened = container.signals.ingest(principal, batch).outcomes[0]
    tally_matches_rows(container, space)
    resolved = SignalBatch(
        Source.GENERIC,
        (
            Signal(
                dedup_key="d1",
                status=SignalStatus.RESOLVED,
                title="Disk",
                labels={"a": "b"},
                starts_at=1,
                ends_at=2,
            ),
        ),
    )
    container.signals.ingest(principal, resolved)
    tally_matches_rows(container, space)
    assert opened.case_id is not None
    container.case_views.delete(principal, [cases[5].id, opened.case_id])
    rows = tally_matches_rows(container, space)
    assert sum(rows.values()) == 5
    counts = container.cases.status_counts(principal, CaseFilters(priorities=(CasePriority.P1,)))
    assert counts.get(CaseStatus.ACTIVE, 0) >= 1
