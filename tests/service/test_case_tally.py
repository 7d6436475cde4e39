"""``case_tally`` agrees with the rows it counts after every kind of case write: creation
(one and in bulk), status, priority and category changes, bulk changes, signals, deletes."""

from __future__ import annotations

import sqlalchemy as sa

from casekeeper.bootstrap import Container
from casekeeper.domain import commands as cmd
from casekeeper.domain.commands import CaseChange
from casekeeper.domain.enums import CasePriority, CaseStatus, DateRangeMode
from casekeeper.domain.query import CaseFilters, DateRange
from casekeeper.domain.signals import Signal, SignalBatch, SignalStatus, Source
from casekeeper.service.auth import Principal
from casekeeper.store.schema import case as c
from casekeeper.store.schema import case_tally as ct
from casekeeper.store.schema import incident, incident_tally
from tests.conftest import MakeCase


def tally_matches_rows(
    container: Container, space_id: int
) -> dict[tuple[int, int, int, bool], int]:
    assigned = c.c.assignee.is_not(None)
    with container.db.reader() as uow:
        rows = {
            (s, p, k, bool(a)): n
            for s, p, k, a, n in uow.conn.execute(
                sa.select(c.c.status, c.c.priority, c.c.category, assigned, sa.func.count())
                .where(c.c.space_id == space_id)
                .group_by(c.c.status, c.c.priority, c.c.category, assigned)
            )
        }
        kept = {
            (s, p, k, bool(a)): n
            for s, p, k, a, n in uow.conn.execute(
                sa.select(ct.c.status, ct.c.priority, ct.c.category, ct.c.assigned, ct.c.n).where(
                    ct.c.space_id == space_id, ct.c.n != 0
                )
            )
        }
    assert kept == rows
    return rows


def incidents_tallied(container: Container, space_id: int) -> tuple[int, int]:
    """(incidents in the table, incidents in their tally) of the space."""
    with container.db.reader() as uow:
        rows = uow.conn.execute(
            sa.select(sa.func.count()).select_from(incident).where(incident.c.space_id == space_id)
        ).scalar_one()
        kept = uow.conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(incident_tally.c.n), 0)).where(
                incident_tally.c.space_id == space_id
            )
        ).scalar_one()
    return int(rows), int(kept)


def test_the_tally_follows_every_write(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    cases = [make_case() for _ in range(6)]
    space = principal.space_id
    tally_matches_rows(container, space)
    container.cases.change(principal, CaseChange(cases[0].id, (cmd.Acknowledge(),)))
    container.cases.change(
        principal, CaseChange(cases[0].id, (cmd.Assign("8d3bd6c1-0d41-4c65-9a58-5f6f2f1a1e01"),))
    )
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
    assert incidents_tallied(container, space) == (1, 1)
    container.case_views.delete(principal, [cases[5].id, opened.case_id])
    assert incidents_tallied(container, space) == (0, 0)  # the incident left its tallies too
    rows = tally_matches_rows(container, space)
    assert sum(rows.values()) == 5
    counts = container.cases.status_counts(principal, CaseFilters(priorities=(CasePriority.P1,)))
    assert counts.get(CaseStatus.ACTIVE, 0) >= 1
    # The unassigned queue is counted from the tally too, and agrees with a count of rows.
    unassigned = container.cases.status_counts(principal, CaseFilters(include_unassigned=True))
    everything = DateRange(0, 2**62, DateRangeMode.CREATED_AT)  # a filter the tally lacks
    counted = container.cases.status_counts(
        principal, CaseFilters(include_unassigned=True, date_range=everything)
    )
    assert unassigned.get(CaseStatus.ACKNOWLEDGED, 0) == 0  # the acknowledged one is assigned
    assert sum(unassigned.values()) == 4
    assert counted == unassigned
