"""Incidents and their cases, both ways (docs/INCIDENTS.md, "Cases and incidents"): what an
incident does shows on its case's timeline; closing a case closes its incidents; the case's
alert indicator follows the alert's incidents; the tallies behind totals stay exact."""

from __future__ import annotations

import contextlib
import dataclasses
import random
import uuid
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from casekeeper.bootstrap import Container
from casekeeper.domain import commands as cmd
from casekeeper.domain import timeline as t
from casekeeper.domain.commands import CaseChange
from casekeeper.domain.enums import CaseStatus
from casekeeper.domain.errors import CasekeeperError
from casekeeper.domain.incidents import AlertEvent, Incident, IncidentSeverity, IncidentState
from casekeeper.domain.lifecycle import Operation
from casekeeper.domain.model import Case
from casekeeper.service.auth import Principal
from tests.changes import one
from tests.conftest import MakeCase

T, R = IncidentState.TRIGGERED, IncidentState.RESOLVED
C = t.IncidentChange
# One number per (status, state, severity, muted); closed adds 5000.
KEY = "status * 1000 + state * 100 + severity * 10 + CASE WHEN is_muted THEN 1 ELSE 0 END"


def fire(
    container: Container, p: Principal, case: Case, alert_id: str, **changes: object
) -> Incident:
    base = AlertEvent(
        case_id=case.id,
        alert_id=alert_id,
        name="Disk almost full",
        state=T,
        cx_event_key=f"ev-{uuid.uuid4().hex}",
        time=container.incidents.clock(),
        severity=IncidentSeverity.WARNING,
        group_by={"host": "db-1"},
    )
    return container.alerts.record(p, dataclasses.replace(base, **changes))  # type: ignore[arg-type]


def entries(container: Container, p: Principal, case: Case) -> list[tuple[str, C, str | None]]:
    return [
        (e.data.incident_id, e.data.change, e.data.user)
        for e in container.timeline.list_events(p, case.id)
        if isinstance(e.data, t.IncidentChanged)
    ]


def test_each_change_to_an_incident_is_on_its_cases_timeline(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case()
    x = fire(container, principal, case, str(uuid.uuid4()))
    before = container.cases.get(principal, case.id)
    container.incidents.acknowledge(principal, [x.id])
    container.incidents.assign(principal, [x.id], "ana@example.test")
    container.incidents.unassign(principal, [x.id])
    container.incidents.resolve(principal, [x.id])
    container.incidents.close(principal, [x.id])
    me = principal.user_id
    assert entries(container, principal, case) == [
        (x.id, C.OPENED, None),
        (x.id, C.ACKNOWLEDGED, me),
        (x.id, C.ASSIGNED, "ana@example.test"),
        (x.id, C.UNASSIGNED, me),
        (x.id, C.RESOLVED, me),
        (x.id, C.CLOSED, me),
    ]
    after = container.cases.get(principal, case.id)
    assert after.version == before.version + 5
    last = container.timeline.list_events(principal, case.id)[-1]
    assert last.actor == principal.actor


def test_a_change_to_many_incidents_changes_each_case_once(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    a, b = make_case(), make_case()
    alert = str(uuid.uuid4())
    xs = [fire(container, principal, a, alert, group_by={"host": f"h{n}"}) for n in range(3)]
    y = fire(container, principal, b, alert, group_by={"host": "other"})
    versions = {c.id: container.cases.get(principal, c.id).version for c in (a, b)}
    container.incidents.acknowledge(principal, [x.id for x in xs] + [y.id])
    assert container.cases.get(principal, a.id).version == versions[a.id] + 1
    assert container.cases.get(principal, b.id).version == versions[b.id] + 1
    acked = [e for e in entries(container, principal, a) if e[1] is C.ACKNOWLEDGED]
    assert sorted(e[0] for e in acked) == sorted(x.id for x in xs)


def test_what_the_alert_says_shows_only_when_it_is_news(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case()
    alert = str(uuid.uuid4())
    x = fire(container, principal, case, alert)
    version = container.cases.get(principal, case.id).version
    fire(container, principal, case, alert)  # firing still: no news
    assert container.cases.get(principal, case.id).version == version
    fire(container, principal, case, alert, state=R)
    fire(container, principal, case, alert)
    assert [e[1] for e in entries(container, principal, case)] == [
        C.OPENED,
        C.RESOLVED,
        C.TRIGGERED,
    ]
    assert {e[0] for e in entries(container, principal, case)} == {x.id}


@pytest.mark.parametrize("how", ["one", "many", "system"])
def test_closing_a_case_closes_its_open_incidents(
    container: Container, principal: Principal, make_case: MakeCase, how: str
) -> None:
    case, other = make_case(), make_case()
    alert = str(uuid.uuid4())
    open_one = fire(container, principal, case, alert, group_by={"host": "a"})
    done = fire(container, principal, case, alert, group_by={"host": "b"})
    (done,) = container.incidents.close(principal, [done.id])
    elsewhere = fire(container, principal, other, alert, group_by={"host": "c"})
    if how == "one":
        one(container.cases, principal, case.id, cmd.Close())
        by = principal.user_id
    elif how == "many":
        container.cases.change_many(principal, [CaseChange(case.id, (cmd.Close(),))])
        by = principal.user_id
    else:
        one(container.cases, principal, case.id, cmd.Resolve("disk freed"))
        container.admin.system_step(principal, case.id, Operation.AUTO_CLOSE)
        by = "system"
    assert container.cases.get(principal, case.id).status is CaseStatus.CLOSED
    closed = container.incidents.get(principal, open_one.id)
    assert closed.closed_at is not None
    last = container.incidents.events(principal, open_one.id)[-1]
    assert (last.type.name, last.by) == ("CLOSE", by)
    assert container.incidents.get(principal, done.id) == done  # closed before: untouched
    assert container.incidents.get(principal, elsewhere.id).closed_at is None


def _indicator(container: Container, p: Principal, case: Case) -> dict[str, object]:
    (found,) = container.cases.get(p, case.id).indicators["alertIndicators"]
    return dict(found)


def test_the_cases_alert_indicator_follows_the_alerts_incidents(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case()
    alert = str(uuid.uuid4())
    fire(container, principal, case, alert, group_by={"host": "a"})
    fire(
        container,
        principal,
        case,
        alert,
        group_by={"host": "b"},
        severity=IncidentSeverity.CRITICAL,
    )
    ind = _indicator(container, principal, case)
    assert ind["alertId"] == alert
    assert ind["state"] == "INDICATOR_STATE_TRIGGERED"
    assert ind["priority"] == "INDICATOR_PRIORITY_P1"  # the latest severity reported
    assert ind["permutations"] == [{"permutation": {"host": "a"}}, {"permutation": {"host": "b"}}]
    fire(container, principal, case, alert, group_by={"host": "a"}, state=R)
    assert _indicator(container, principal, case)["state"] == "INDICATOR_STATE_TRIGGERED"
    fire(container, principal, case, alert, group_by={"host": "b"}, state=R)
    ind = _indicator(container, principal, case)
    assert ind["state"] == "INDICATOR_STATE_RESOLVED"
    assert "resolveTime" in ind
    fire(container, principal, case, alert, group_by={"host": "a"})
    ind = _indicator(container, principal, case)
    assert ind["state"] == "INDICATOR_STATE_TRIGGERED"
    assert "resolveTime" not in ind
    # The case is found by its alert id, like any case with that indicator.
    from casekeeper.domain.query import CaseFilters, CaseQuery

    found, _ = container.cases.list_cases(
        principal, CaseQuery(filters=CaseFilters(alert_ids=(alert,)))
    )
    assert [c.id for c in found] == [case.id]


def test_an_alert_that_is_not_a_definition_id_leaves_indicators_alone(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case()
    fire(container, principal, case, "fingerprint-4f1c2a")
    assert container.cases.get(principal, case.id).indicators == {}


def test_the_tallies_always_equal_the_counts(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    rng = random.Random(7)
    cases = [make_case() for _ in range(3)]
    alert = str(uuid.uuid4())
    made = []
    for n in range(30):
        case = rng.choice(cases)
        labels = {"team": rng.choice(["db", "web"]), "n": str(n % 4)}
        made.append(fire(container, principal, case, alert, group_by={"n": str(n)},
                         contextual_labels=labels, is_muted=rng.random() < 0.2))  # fmt: skip
    ops: list[Callable[[list[str]], object]] = [
        lambda ids: container.incidents.acknowledge(principal, ids),
        lambda ids: container.incidents.assign(
            principal, ids, rng.choice(["a@x.test", "b@x.test"])
        ),
        lambda ids: container.incidents.unassign(principal, ids),
        lambda ids: container.incidents.resolve(principal, ids),
        lambda ids: container.incidents.close(principal, ids),
    ]
    for _ in range(40):
        ids = [x.id for x in rng.sample(made, 3)]
        with contextlib.suppress(CasekeeperError):  # refused: nothing written
            rng.choice(ops)(ids)
    one(container.cases, principal, cases[0].id, cmd.Close())
    space = principal.space_id
    with container.db.reader() as uow:
        conn = uow.conn
        counted: dict[int, int] = dict(conn.execute(sa.text(
            f"SELECT {KEY} + CASE WHEN closed_at IS NULL THEN 0 ELSE 5000 END, COUNT(*)"
            " FROM incident"
            " WHERE space_id = :s GROUP BY 1"), {"s": space}).all())  # fmt: skip
        tallied: dict[int, int] = dict(conn.execute(sa.text(
            f"SELECT {KEY} + CASE WHEN closed THEN 5000 ELSE 0 END, SUM(n)"
            " FROM incident_tally"
            " WHERE space_id = :s GROUP BY 1 HAVING SUM(n) <> 0"), {"s": space}).all())  # fmt: skip
        assert {k: int(v) for k, v in tallied.items()} == counted
        label_rows: dict[str, int] = dict(conn.execute(sa.text(
            "SELECT kind || ':' || key || '=' || value, COUNT(*) FROM incident_label"
            " WHERE space_id = :s GROUP BY 1"), {"s": space}).all())  # fmt: skip
        assignees: dict[str, int] = dict(conn.execute(sa.text(
            "SELECT 'a:=' || assignee, COUNT(*) FROM incident WHERE space_id = :s"
            " AND assignee IS NOT NULL GROUP BY 1"), {"s": space}).all())  # fmt: skip
        label_tally: dict[str, int] = dict(conn.execute(sa.text(
            "SELECT kind || ':' || key || '=' || value, n FROM incident_label_tally"
            " WHERE space_id = :s AND n <> 0"), {"s": space}).all())  # fmt: skip
        assert {k: int(v) for k, v in label_tally.items()} == {**label_rows, **assignees}
