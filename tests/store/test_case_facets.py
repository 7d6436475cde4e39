"""The facet tallies (and totals) agree with the rows they count after every kind of case write, and
GetFilterValues answered from them equals the full GROUP BY it replaced."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import sqlalchemy as sa

from casekeeper.bootstrap import Container
from casekeeper.domain import commands as cmd
from casekeeper.domain.commands import CaseChange
from casekeeper.domain.enums import (
    CaseCategory,
    CasePriority,
    CaseStatus,
    DateRangeMode,
    KpiFilter,
)
from casekeeper.domain.incidents import AlertEvent, IncidentState
from casekeeper.domain.model import Case, KeyValue
from casekeeper.domain.query import CaseFilters, DateRange, FilterGroup, FilterValues
from casekeeper.domain.signals import Signal, SignalBatch, SignalStatus, Source
from casekeeper.service.auth import Principal
from casekeeper.store.case_filters import filter_clauses
from casekeeper.store.facet_counts import Facets
from casekeeper.store.facet_tally import FACET_KINDS
from casekeeper.store.schema import case as c
from casekeeper.store.schema import case_assignee_tag_tally as att
from casekeeper.store.schema import case_assignee_tally as at
from casekeeper.store.schema import case_tag as t
from casekeeper.store.schema import case_tag_tally as tt
from casekeeper.store.schema import case_tag_total as tv
from tests.conftest import MakeCase

ALICE = "8d3bd6c1-0d41-4c65-9a58-5f6f2f1a1e01"
BOB = "0e6f3c1a-2b4d-4c5e-8f90-123456789abc"


def _kept(conn: sa.Connection, table: sa.Table, space_id: int) -> Counter[tuple[Any, ...]]:
    keys = [col for col in table.c if col.name not in ("space_id", "n")]
    stmt = sa.select(*keys, table.c.n).where(table.c.space_id == space_id, table.c.n != 0)
    return Counter({tuple(r[:-1]): int(r[-1]) for r in conn.execute(stmt)})


def tallies_match_rows(container: Container, space_id: int) -> int:
    """Assert the three tallies equal a GROUP BY of the case and tag rows; the cases counted."""
    assigned = c.c.assignee.is_not(None)
    scalar = (c.c.status, c.c.priority, c.c.category)
    joined = t.join(c, c.c.id == t.c.case_id)
    facet = [c.c.space_id == space_id, t.c.kind.in_(FACET_KINDS)]
    with container.db.reader() as uow:
        conn = uow.conn

        def grouped(stmt: sa.Select[Any]) -> Counter[tuple[Any, ...]]:
            return Counter({tuple(r[:-1]): int(r[-1]) for r in conn.execute(stmt)})

        tag_cols = (t.c.kind, t.c.key, t.c.value, *scalar)
        by_tag = grouped(
            sa.select(*tag_cols, assigned, sa.func.count()).select_from(joined)
            .where(*facet).group_by(*tag_cols, assigned)
        )  # fmt: skip
        by_assignee = grouped(
            sa.select(c.c.assignee, *scalar, sa.func.count())
            .where(c.c.space_id == space_id, assigned).group_by(c.c.assignee, *scalar)
        )  # fmt: skip
        by_both = grouped(
            sa.select(c.c.assignee, *tag_cols, sa.func.count()).select_from(joined)
            .where(*facet, assigned).group_by(c.c.assignee, *tag_cols)
        )  # fmt: skip
        cases = conn.execute(
            sa.select(sa.func.count()).select_from(c).where(c.c.space_id == space_id)
        ).scalar_one()
        assert {(*k[:-1], bool(k[-1])): n for k, n in _kept(conn, tt, space_id).items()} == {
            (*k[:-1], bool(k[-1])): n for k, n in by_tag.items()
        }
        assert _kept(conn, at, space_id) == by_assignee
        tag_cols3 = (t.c.kind, t.c.key, t.c.value)
        by_value = grouped(
            sa.select(*tag_cols3, sa.func.count()).select_from(joined)
            .where(*facet).group_by(*tag_cols3)
        )  # fmt: skip
        assert _kept(conn, tv, space_id) == by_value
        assert _kept(conn, att, space_id) == by_both
    return int(cases)


def _alert(case_id: str, alert_id: str, key: str, state: IncidentState) -> AlertEvent:
    return AlertEvent(
        case_id=case_id, alert_id=alert_id, name=f"alert {alert_id}", state=state,
        cx_event_key=key, time=1_700_000_000_000_000, group_by={"host": "db-1"},
    )  # fmt: skip


def mixed_writes(container: Container, p: Principal, make_case: MakeCase) -> list[Case]:
    """Cases made and changed through every write path that moves a case between tally rows;
    checks the tallies after each step."""
    space = p.space_id
    cases = [
        make_case(priority=1 + i % 5, category=1 + i % 2,
                  groupings={"service": f"svc-{i % 3}", "env": "prod" if i % 2 else "dev"},
                  labels={"region": f"r{i % 4}", "tier": "gold"} if i % 3 else {})
        for i in range(12)
    ]  # fmt: skip
    cases.append(make_case(assignee=ALICE, labels={"region": "r0"}))
    for i, alert in enumerate(("alert-1", "alert-2", "alert-1")):
        indicators = {"alertIndicators": [{"alertId": alert, "latestAlertVersion": "v1"}]}
        cases.append(make_case(indicators=indicators, groupings={"service": f"svc-{i}"}))
    tallies_match_rows(container, space)
    change = container.cases.change
    change(p, CaseChange(cases[0].id, (cmd.Acknowledge(),)))
    change(p, CaseChange(cases[0].id, (cmd.Assign(ALICE),)))
    change(p, CaseChange(cases[1].id, (cmd.Assign(BOB),)))
    change(p, CaseChange(cases[1].id, (cmd.Assign(ALICE),)))  # reassigned
    change(p, CaseChange(cases[2].id, (cmd.SetAssignees((BOB, ALICE)),)))
    change(p, CaseChange(cases[2].id, (cmd.SetAssignees((ALICE, BOB)),)))  # first changes
    change(p, CaseChange(cases[12].id, (cmd.Unassign(),)))
    change(p, CaseChange(cases[3].id, (cmd.SetPriorityOverride(CasePriority.P1),)))
    change(p, CaseChange(cases[4].id, (cmd.SetPriorityOverride(CasePriority.P5),)))
    change(p, CaseChange(cases[4].id, (cmd.ClearPriorityOverride(),)))
    change(p, CaseChange(cases[5].id, (cmd.Resolve("fixed"),)))
    change(p, CaseChange(cases[5].id, (cmd.Reopen(),)))
    change(p, CaseChange(cases[6].id, (cmd.AddTags(("a", "b")), cmd.Retitle("renamed"))))
    tallies_match_rows(container, space)
    many = container.cases.change_many
    many(p, [CaseChange(x.id, (cmd.Assign(BOB),)) for x in cases[6:10]])
    many(p, [CaseChange(x.id, (cmd.Acknowledge(),)) for x in cases[7:11]])
    many(p, [CaseChange(x.id, (cmd.SetPriorityOverride(CasePriority.P2),)) for x in cases[8:]])
    many(p, [CaseChange(x.id, (cmd.Close(),)) for x in cases[9:11]])
    tallies_match_rows(container, space)
    # Alert events put alert ids on a case (its indicators), and resolve them.
    container.alerts.record(p, _alert(cases[0].id, "alert-1", "e1", IncidentState.TRIGGERED))
    container.alerts.record(p, _alert(cases[0].id, "alert-2", "e2", IncidentState.TRIGGERED))
    container.alerts.record(p, _alert(cases[1].id, "alert-1", "e3", IncidentState.TRIGGERED))
    container.alerts.record(p, _alert(cases[0].id, "alert-1", "e4", IncidentState.RESOLVED))
    tallies_match_rows(container, space)
    signal = Signal(dedup_key="d1", status=SignalStatus.FIRING, title="Disk",
                    labels={"service": "db"}, starts_at=1)  # fmt: skip
    opened = container.signals.ingest(p, SignalBatch(Source.GENERIC, (signal,))).outcomes[0]
    assert opened.case_id is not None
    tallies_match_rows(container, space)
    container.case_views.delete(p, [cases[11].id, cases[1].id, cases[13].id, opened.case_id])
    assert tallies_match_rows(container, space) == len(cases) - 3
    return cases


def brute_force(conn: sa.Connection, space_id: int, f: CaseFilters) -> FilterValues:
    """GetFilterValues as it was before the tallies: a GROUP BY over every matching row."""
    where = [c.c.space_id == space_id, *filter_clauses(f)]
    facets = Facets()
    cnt = sa.func.count()
    cols = (c.c.status, c.c.priority, c.c.category, c.c.assignee)
    for status, priority, category, assignee, n in conn.execute(
        sa.select(*cols, cnt).where(*where).group_by(*cols)
    ):
        facets.case(status, priority, category, assignee, n)
    cols2 = (t.c.kind, t.c.key, t.c.value)
    for kind, key, value, n in conn.execute(
        sa.select(*cols2, cnt).select_from(t.join(c, c.c.id == t.c.case_id))
        .where(t.c.kind.in_(FACET_KINDS), *where).group_by(*cols2)
    ):  # fmt: skip
        facets.tag(kind, key, value, n)
    return facets.result(alert_ids=f.alert_filters_present)


def same_counts(got: FilterValues, want: FilterValues) -> None:
    """Equal facets, in the same order (the matching count too, when exact)."""
    for name in ("priorities", "categories", "statuses", "assignees", "unassigned",
                 "alert_ids", "matching"):  # fmt: skip
        assert getattr(got, name) == getattr(want, name), name
    for name in ("groupings", "labels"):
        g, w = getattr(got, name), getattr(want, name)
        assert g == w, name
        assert [list(v) for v in g.values()] == [list(v) for v in w.values()], name
    assert list(got.assignees) == list(want.assignees)


TALLY_FILTERS = [
    CaseFilters(),
    CaseFilters(alert_filters_present=True),
    CaseFilters(statuses=(CaseStatus.ACTIVE, CaseStatus.ACKNOWLEDGED)),
    CaseFilters(statuses=(CaseStatus.CLOSED,), alert_filters_present=True),
    CaseFilters(priorities=(CasePriority.P1, CasePriority.P2)),
    CaseFilters(categories=(CaseCategory.SECURITY,), priorities=(CasePriority.P2,)),
    CaseFilters(assignees=(ALICE,)),
    CaseFilters(assignees=(ALICE, BOB), statuses=(CaseStatus.ACKNOWLEDGED,)),
    CaseFilters(include_unassigned=True),
    CaseFilters(include_unassigned=True, assignees=(BOB,), alert_filters_present=True),
    CaseFilters(include_unassigned=True, categories=(CaseCategory.AVAILABILITY,)),
    CaseFilters(assignees=("nobody",)),
    CaseFilters(statuses=(CaseStatus.PENDING_ACTIVATION,)),
]

OTHER_FILTERS = [
    CaseFilters(text_search="case 1"),
    CaseFilters(text_search="no such title"),
    CaseFilters(labels=(FilterGroup("region", ("r1", "r2")),)),
    CaseFilters(groupings=(FilterGroup("service", ("svc-0",)),), statuses=(CaseStatus.ACTIVE,)),
    CaseFilters(flat_labels=(KeyValue("tier", "gold"),), assignees=(BOB,)),
    CaseFilters(alert_ids=("alert-1",), alert_filters_present=True),
    CaseFilters(date_range=DateRange(0, 2**62, DateRangeMode.CREATED_AT)),
    CaseFilters(date_range=DateRange(0, 2**62)),
    CaseFilters(tags=("a",)),
    CaseFilters(numbers=(1, 2, 3)),
    CaseFilters(breached=(KpiFilter.NOT_BREACHED,), include_unassigned=True),
]


def test_the_facet_tallies_follow_every_write_and_answer_as_the_full_count_did(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    mixed_writes(container, principal, make_case)
    with container.db.reader() as uow:
        for f in TALLY_FILTERS + OTHER_FILTERS:
            got = container.cases.filter_values(principal, f)
            assert not got.estimated, f
            same_counts(got, brute_force(uow.conn, principal.space_id, f))
    fv = container.cases.filter_values(principal, CaseFilters(alert_filters_present=True))
    assert fv.alert_ids == {"alert-1": 1, "alert-2": 1}  # one alert-1 case was deleted
    assert fv.statuses[CaseStatus.CLOSED] == 2


def test_tally_answers_read_no_case_rows(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    """Filters of statuses, priorities, categories and assignees never touch ``case`` or
    ``case_tag``: their cost does not grow with the cases."""
    make_case(assignee=ALICE, labels={"region": "r0"})
    statements: list[str] = []

    me = threading.get_ident()

    def seen(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        if threading.get_ident() == me:  # not a background thread's (key touches, workers)
            statements.append(statement)

    sa.event.listen(container.db.engine, "before_cursor_execute", seen)
    try:
        for f in TALLY_FILTERS:
            container.cases.filter_values(principal, f)
    finally:
        sa.event.remove(container.db.engine, "before_cursor_execute", seen)
    assert statements
    for sql in statements:
        assert "tally" in sql or "case_tag_total" in sql
        assert '"case"' not in sql
        assert "case_tag " not in sql
