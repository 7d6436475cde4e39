"""ListCases (filters, ordering, pagination), GetFilterValues, GetGroupingKeys and the lookup
by Prometheus alert. Times come from a fake clock so orders and date ranges are exact."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Sequence
from typing import Final

import pytest

from casekeeper.bootstrap import Container
from casekeeper.domain import commands as cmd
from casekeeper.domain.enums import (
    CaseCategory,
    CasePriority,
    CaseStatus,
    DateRangeMode,
    IndicatorType,
    KpiFilter,
    OrderDirection,
    OrderField,
)
from casekeeper.domain.errors import CasekeeperError, ErrorCode
from casekeeper.domain.lifecycle import Operation
from casekeeper.domain.model import Case, Json, KeyValue, PriorityDetails
from casekeeper.domain.query import (
    CaseFilters,
    CaseOrder,
    CaseQuery,
    DateRange,
    FilterGroup,
    PageRequest,
)
from casekeeper.domain.timeutil import parse_rfc3339
from casekeeper.service.auth import Principal
from casekeeper.store.case_list import severity_rank
from casekeeper.store.driver import Prepared
from tests.changes import command_for, many, one
from tests.conftest import MakeCase
from tests.service.conftest import FakeClock, MakeClockedCase

USER_A: Final = "11111111-1111-4111-8111-111111111111"
USER_B: Final = "22222222-2222-4222-8222-222222222222"
ALERT_X: Final = "aaaaaaaa-0000-4000-8000-000000000001"
ALERT_Y: Final = "aaaaaaaa-0000-4000-8000-000000000002"
HOUR: Final = 3_600_000_000
S = CaseStatus
P = CasePriority

DESC: Final = OrderDirection.DESCENDING
ASC: Final = OrderDirection.ASCENDING


def listing(
    c: Container,
    p: Principal,
    filters: CaseFilters | None = None,
    order: CaseOrder | None = None,
    *,
    size: int = 1000,
    token: str | None = None,
    skip: int = 0,
) -> tuple[list[Case], str | None]:
    query = CaseQuery(
        filters=filters or CaseFilters(),
        order=order or CaseOrder(),
        page=PageRequest(size=size, token=token, skip=skip),
    )
    return c.cases.list_cases(p, query)


def ids_of(cases: Sequence[Case]) -> list[str]:
    return [x.id for x in cases]


def matching(
    c: Container, p: Principal, filters: CaseFilters, order: CaseOrder | None = None
) -> set[str]:
    cases, token = listing(c, p, filters, order)
    assert token is None
    found = ids_of(cases)
    assert len(found) == len(set(found))
    return set(found)


# Each filter test checks both query plans: the (status, priority) index merge used by time
# orders with a status/priority filter, and the plain filtered scan used by other orders.
BOTH_PLANS: Final = [
    pytest.param(CaseOrder(OrderField.CREATED_AT, DESC), id="time-order"),
    pytest.param(CaseOrder(OrderField.PRIORITY, DESC), id="priority-order"),
]


# --------------------------------------------------------------------------------------------
# Filters
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("order", BOTH_PLANS)
def test_status_filter_matches_any_listed_status(
    container: Container, principal: Principal, make_case: MakeCase, order: CaseOrder
) -> None:
    svc = container.cases
    active = make_case()
    acked = one(svc, principal, make_case().id, cmd.Acknowledge())
    resolved = one(svc, principal, make_case().id, cmd.Resolve())
    closed = one(svc, principal, make_case().id, cmd.Close())
    pending = make_case(pending=True)

    def only(*statuses: CaseStatus) -> set[str]:
        return matching(container, principal, CaseFilters(statuses=statuses), order)

    assert only(S.ACKNOWLEDGED, S.RESOLVED) == {acked.id, resolved.id}
    assert only(S.PENDING_ACTIVATION) == {pending.id}
    assert only(S.ACTIVE) == {active.id}
    assert only(S.CLOSED, S.CLOSED) == {closed.id}
    assert matching(container, principal, CaseFilters(), order) == {
        active.id,
        acked.id,
        resolved.id,
        closed.id,
        pending.id,
    }


@pytest.mark.parametrize("order", BOTH_PLANS)
def test_priority_filter_matches_effective_priority_when_override_is_set(
    container: Container, principal: Principal, make_case: MakeCase, order: CaseOrder
) -> None:
    overridden = one(
        container.cases,
        principal,
        make_case(priority=3).id,
        cmd.SetPriorityOverride(CasePriority(1)),
    )
    p1 = make_case(priority=1)
    p3 = make_case(priority=3)
    cleared = make_case(priority=4)
    one(container.cases, principal, cleared.id, cmd.SetPriorityOverride(CasePriority(2)))
    one(container.cases, principal, cleared.id, cmd.ClearPriorityOverride())

    def only(*priorities: CasePriority) -> set[str]:
        return matching(container, principal, CaseFilters(priorities=priorities), order)

    assert only(P.P1) == {overridden.id, p1.id}
    assert only(P.P3) == {p3.id}
    assert only(P.P4) == {cleared.id}
    assert only(P.P2) == set()
    both = CaseFilters(statuses=(S.ACTIVE,), priorities=(P.P1, P.P4))
    assert matching(container, principal, both, order) == {overridden.id, p1.id, cleared.id}


def test_category_filter_matches_any_listed_category(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    sec = make_case(category=1)
    avail = make_case(category=2)
    assert matching(container, principal, CaseFilters(categories=(CaseCategory.SECURITY,))) == {
        sec.id
    }
    assert matching(
        container,
        principal,
        CaseFilters(categories=(CaseCategory.AVAILABILITY, CaseCategory.SECURITY)),
    ) == {sec.id, avail.id}


def test_assignee_filter_matches_assignees_and_unassigned_when_asked(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    a = one(container.cases, principal, make_case().id, cmd.Assign(USER_A))
    b = one(container.cases, principal, make_case().id, cmd.Assign(USER_B))
    none = make_case()

    def only(*assignees: str, unassigned: bool = False) -> set[str]:
        f = CaseFilters(assignees=assignees, include_unassigned=unassigned)
        return matching(container, principal, f)

    assert only(USER_A) == {a.id}
    assert only(USER_A, USER_B) == {a.id, b.id}
    assert only(unassigned=True) == {none.id}
    assert only(USER_B, unassigned=True) == {b.id, none.id}
    assert only("33333333-3333-4333-8333-333333333333") == set()


def test_grouping_filter_ors_values_and_ands_groups(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    a = make_case(groupings={"service": "checkout", "env": "prod"})
    b = make_case(groupings={"service": "payments", "env": "prod"})
    c = make_case(groupings={"service": "checkout", "env": "staging"})
    make_case(groupings={"team": "checkout"})  # same value under another key

    def only(*groups: tuple[str, tuple[str, ...]]) -> set[str]:
        f = CaseFilters(groupings=tuple(FilterGroup(k, v) for k, v in groups))
        return matching(container, principal, f)

    assert only(("service", ("checkout",))) == {a.id, c.id}
    assert only(("service", ("checkout", "payments"))) == {a.id, b.id, c.id}
    assert only(("service", ("checkout",)), ("env", ("prod",))) == {a.id}
    assert only(("service", ("checkout",)), ("env", ("prod", "staging"))) == {a.id, c.id}
    assert only(("service", ("Checkout",))) == set()  # exact match
    assert only(("service", ("search",))) == set()


@pytest.mark.parametrize("text", ["%(gv0_0)s", "%(limit)s", "it's 50% \\ done", "a\tb"])
def test_filter_values_are_text_whatever_they_contain(
    container: Container, principal: Principal, make_case: MakeCase, text: str
) -> None:
    """Filter values reach the database as values (PostgreSQL list pages write them into the
    statement): placeholders, quotes, percent signs, backslashes and tabs stay text."""
    wanted = make_case(groupings={"service": text}, labels={"team": text})
    make_case(groupings={"service": "checkout"}, labels={"team": "sre"})
    for order in (CaseOrder(OrderField.UPDATED_AT, DESC), CaseOrder(OrderField.PRIORITY, DESC)):
        by_grouping = CaseFilters(
            statuses=(S.ACTIVE,), groupings=(FilterGroup("service", (text,)),)
        )
        by_label = CaseFilters(labels=(FilterGroup("team", (text,)),))
        assert matching(container, principal, by_grouping, order) == {wanted.id}
        assert matching(container, principal, by_label, order) == {wanted.id}


def test_label_filter_ors_values_and_ands_groups(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    a = make_case(labels={"team": "red", "tier": "gold"})
    b = make_case(labels={"team": "blue", "tier": "gold"})
    c = make_case(labels={"team": "red"}, groupings={"tier": "gold"})  # a grouping is no label

    def only(*groups: tuple[str, tuple[str, ...]]) -> set[str]:
        f = CaseFilters(labels=tuple(FilterGroup(k, v) for k, v in groups))
        return matching(container, principal, f)

    assert only(("team", ("red",))) == {a.id, c.id}
    assert only(("team", ("red", "blue"))) == {a.id, b.id, c.id}
    assert only(("team", ("red",)), ("tier", ("gold",))) == {a.id}
    assert only(("tier", ("gold",))) == {a.id, b.id}


def test_flat_label_filter_matches_exact_key_value_pairs(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    eu = make_case(labels={"region": "eu"})
    us = make_case(labels={"region": "us"})
    make_case(labels={"zone": "eu"})
    make_case(groupings={"region": "eu"})

    def only(*pairs: tuple[str, str]) -> set[str]:
        f = CaseFilters(flat_labels=tuple(KeyValue(k, v) for k, v in pairs))
        return matching(container, principal, f)

    assert only(("region", "eu")) == {eu.id}
    assert only(("region", "eu"), ("region", "us")) == {eu.id, us.id}
    assert only(("region", "EU")) == set()


def test_text_search_matches_title_substring_case_insensitively(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    a = make_case(title="Disk full on db-1")
    b = make_case(title="High DISK latency")
    make_case(title="CPU saturation")

    def only(text: str) -> set[str]:
        return matching(container, principal, CaseFilters(text_search=text))

    assert only("disk") == {a.id, b.id}
    assert only("dIsK") == {a.id, b.id}
    assert only("full on DB") == {a.id}
    assert only("memory") == set()


def test_text_search_treats_like_wildcards_as_literals(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    pct = make_case(title="CPU at 100% on node")
    plain = make_case(title="CPU at 1000 on node")
    under = make_case(title="queue_depth high")
    make_case(title="queueXdepth high")
    slash = make_case(title="path C:\\temp full")

    def only(text: str) -> set[str]:
        return matching(container, principal, CaseFilters(text_search=text))

    assert only("100%") == {pct.id}
    assert only("%") == {pct.id}
    assert only("queue_depth") == {under.id}
    assert only("_") == {under.id}
    assert only("\\") == {slash.id}
    assert only("c:\\TEMP") == {slash.id}
    assert only("CPU at 100") == {pct.id, plain.id}


def test_text_search_folds_non_ascii_case(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    hit = make_case(title="ÄRGER mit Über-Latenz")
    assert matching(container, principal, CaseFilters(text_search="ärger")) == {hit.id}


def test_date_range_selects_by_active_window_or_creation(
    clocked: Container, clock: FakeClock, principal: Principal, make_clocked_case: MakeClockedCase
) -> None:
    t0 = clock.now
    a = make_clocked_case(title="A")  # created ~0h, closed at 1h
    clock.advance(HOUR)
    a = one(clocked.cases, principal, a.id, cmd.Close())
    clock.advance(HOUR)
    b = make_clocked_case(title="B")  # created ~2h, still open
    clock.advance(HOUR)
    c = make_clocked_case(title="C")  # created ~3h, resolved at 4h
    clock.advance(HOUR)
    c = one(clocked.cases, principal, c.id, cmd.Resolve())
    clock.advance(2 * HOUR)
    d = make_clocked_case(title="D")  # created ~6h, open
    assert a.end_time is not None
    assert c.end_time is not None

    def window(start: int, end: int, mode: DateRangeMode = DateRangeMode.ACTIVE_WINDOW) -> set[str]:
        f = CaseFilters(date_range=DateRange(start, end, mode))
        return matching(clocked, principal, f)

    h = HOUR
    assert window(t0 + h + h // 2, t0 + 3 * h + h // 2) == {b.id, c.id}
    assert window(t0 + h // 2, t0 + h + h // 2) == {a.id}
    assert window(t0 + 3 * h + h // 2, t0 + 5 * h) == {b.id, c.id}
    assert window(t0 + 7 * h, t0 + 8 * h) == {b.id, d.id}
    assert window(a.end_time, a.end_time) == {a.id}  # bounds are inclusive

    created = DateRangeMode.CREATED_AT
    assert window(t0 + h + h // 2, t0 + 3 * h + h // 2, created) == {b.id, c.id}
    assert window(t0 + 3 * h + h // 2, t0 + 5 * h, created) == set()
    assert window(t0, t0 + 2 * h + h // 2, created) == {a.id, b.id}
    assert window(b.create_time, b.create_time, created) == {b.id}


def alert_indicator(alert_id: str, versions: Sequence[str] = ("v1", "v2")) -> Json:
    return {
        "alertId": alert_id,
        "latestAlertVersion": versions[-1],
        "priority": "INDICATOR_PRIORITY_P2",
        "state": "INDICATOR_STATE_TRIGGERED",
        "triggerTime": "2025-09-22T10:30:00Z",
        "alertVersions": list(versions),
        "permutations": [],
    }


def prometheus_indicator(
    fingerprint: str, status: Json, created_at: str = "2025-09-22T10:29:00Z"
) -> Json:
    return {
        "alertGroupId": "group-1",
        "status": "PROMETHEUS_ALERT_STATUS_FIRING",
        "priority": "INDICATOR_PRIORITY_P2",
        "groupLabels": {"alertname": "HighLatency"},
        "receiver": "casekeeper",
        "externalUrl": "http://alertmanager.example.test",
        "receivedAt": "2025-09-22T10:30:01Z",
        "updatedAt": "2025-09-22T10:30:01Z",
        "alerts": [
            {
                "alertGroupId": "group-1",
                "alertName": "HighLatency",
                "fingerprint": fingerprint,
                "priority": "INDICATOR_PRIORITY_P2",
                "labels": {"service": "checkout"},
                "annotations": {},
                "status": status,
                "generatorUrl": "http://prometheus.example.test/graph",
                "createdAt": created_at,
                "updatedAt": "2025-09-22T10:30:01Z",
            }
        ],
    }


def error_tracking_indicator() -> Json:
    return {
        "id": str(uuid.uuid4()),
        "externalId": "ERR-1234",
        "indicatorType": "GENERIC_INDICATOR_TYPE_ERROR_TRACKING",
        "status": "GENERIC_INDICATOR_STATUS_TRIGGERED",
        "priority": "INDICATOR_PRIORITY_P3",
        "lastTriggeredAt": "2025-09-22T10:30:00Z",
    }


TRIGGERED: Final = {"triggered": {"triggeredAt": "2025-09-22T10:30:00Z"}}


def test_indicator_type_filter_matches_cases_holding_that_kind_of_indicator(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    alert = make_case(indicators={"alertIndicators": [alert_indicator(ALERT_X)]})
    prom = make_case(
        indicators={"prometheusAlertIndicators": [prometheus_indicator("fp", TRIGGERED)]}
    )
    err = make_case(indicators={"genericIndicators": [error_tracking_indicator()]})
    both = make_case(
        indicators={
            "alertIndicators": [alert_indicator(ALERT_Y)],
            "genericIndicators": [error_tracking_indicator()],
        }
    )
    make_case()
    make_case(indicators={"alertIndicators": [], "genericIndicators": []})

    def only(*types: IndicatorType) -> set[str]:
        return matching(container, principal, CaseFilters(indicator_types=types))

    assert only(IndicatorType.ALERT) == {alert.id, both.id}
    assert only(IndicatorType.PROMETHEUS_ALERTMANAGER) == {prom.id}
    assert only(IndicatorType.ERROR_TRACKING) == {err.id, both.id}
    assert only(IndicatorType.ALERT, IndicatorType.PROMETHEUS_ALERTMANAGER) == {
        alert.id,
        prom.id,
        both.id,
    }


def kpi(kind: str) -> Json:
    return {
        "id": str(uuid.uuid4()),
        "createdAt": "2025-09-22T10:30:00Z",
        "kpiType": kind,
        "casePriority": "KPI_PRIORITY_P2",
        "breachedAt": "2025-09-22T10:35:00Z",
        "breachStatus": "BREACH_STATUS_BREACHED",
    }


def test_breached_filter_matches_kpi_breaches_and_not_breached(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    tta = make_case(kpi_breaches=[kpi("KPI_TYPE_TIME_TO_ACKNOWLEDGE")])
    ttr = make_case(kpi_breaches=[kpi("KPI_TYPE_TIME_TO_RESOLVE")])
    ttu = make_case(kpi_breaches=[kpi("KPI_TYPE_TIME_TO_UPDATE")])
    two = make_case(
        kpi_breaches=[kpi("KPI_TYPE_TIME_TO_ACKNOWLEDGE"), kpi("KPI_TYPE_TIME_TO_RESOLVE")]
    )
    clean = make_case()

    def only(*kpis: KpiFilter) -> set[str]:
        return matching(container, principal, CaseFilters(breached=kpis))

    assert only(KpiFilter.TIME_TO_ACKNOWLEDGE_BREACHED) == {tta.id, two.id}
    assert only(KpiFilter.TIME_TO_RESOLVE_BREACHED) == {ttr.id, two.id}
    assert only(KpiFilter.TIME_TO_UPDATE_BREACHED) == {ttu.id}
    assert only(KpiFilter.NOT_BREACHED) == {clean.id}
    assert only(KpiFilter.NOT_BREACHED, KpiFilter.TIME_TO_UPDATE_BREACHED) == {clean.id, ttu.id}


def test_impacted_entity_filter_matches_names_case_insensitively_and_ors_entries(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    svc = make_case(impacted_entities=[{"apmService": {"name": "Checkout", "language": "go"}}])
    db = make_case(impacted_entities=[{"apmDatabase": {"name": "Orders-DB", "system": "postgres"}}])
    both = make_case(
        impacted_entities=[
            {"apmService": {"name": "payments", "language": "java"}},
            {"apmDatabase": {"name": "LEDGER", "system": "mysql"}},
        ]
    )
    make_case()

    def only(services: tuple[str, ...] = (), databases: tuple[str, ...] = ()) -> set[str]:
        f = CaseFilters(impacted_services=services, impacted_databases=databases)
        return matching(container, principal, f)

    assert only(services=("CHECKOUT",)) == {svc.id}
    assert only(databases=("orders-db",)) == {db.id}
    assert only(services=("checkout",), databases=("ledger",)) == {svc.id, both.id}
    assert only(services=("checkout", "PAYMENTS")) == {svc.id, both.id}
    assert only(services=("orders-db",)) == set()  # a database is no service


def test_alert_filters_match_alert_ids_and_versions(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    x = make_case(indicators={"alertIndicators": [alert_indicator(ALERT_X, ("v1", "v2"))]})
    y = make_case(indicators={"alertIndicators": [alert_indicator(ALERT_Y, ("v7",))]})
    make_case()

    assert matching(container, principal, CaseFilters(alert_ids=(ALERT_X,))) == {x.id}
    assert matching(container, principal, CaseFilters(alert_ids=(ALERT_X, ALERT_Y))) == {x.id, y.id}
    assert matching(container, principal, CaseFilters(alert_versions=("v1",))) == {x.id}
    assert matching(container, principal, CaseFilters(alert_versions=("v7", "v2"))) == {x.id, y.id}
    assert matching(container, principal, CaseFilters(alert_ids=(str(uuid.uuid4()),))) == set()


def test_filters_on_different_fields_and_together(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    target = make_case(priority=1, category=1, title="Checkout down", groupings={"svc": "co"})
    make_case(priority=1, category=2, title="Checkout down", groupings={"svc": "co"})
    make_case(priority=2, category=1, title="Checkout down", groupings={"svc": "co"})
    make_case(priority=1, category=1, title="Search down", groupings={"svc": "co"})
    make_case(priority=1, category=1, title="Checkout down", groupings={"svc": "search"})
    f = CaseFilters(
        priorities=(P.P1,),
        categories=(CaseCategory.SECURITY,),
        text_search="checkout",
        groupings=(FilterGroup("svc", ("co",)),),
    )
    for order in (CaseOrder(OrderField.UPDATED_AT, DESC), CaseOrder(OrderField.STATUS, ASC)):
        assert matching(container, principal, f, order) == {target.id}


# --------------------------------------------------------------------------------------------
# Ordering
# --------------------------------------------------------------------------------------------


def build_mixed(
    clocked: Container, clock: FakeClock, principal: Principal, make: MakeClockedCase
) -> list[Case]:
    """Cases of every status, category and several priorities, with ties, distinct durations
    and an update order that differs from the creation order. Freezes the clock at the end."""
    svc = clocked.cases
    made: list[Case] = []

    def new(priority: int, category: int, **kw: object) -> str:
        clock.advance(HOUR // 4)
        made.append(make(priority=priority, category=category, **kw))
        return made[-1].id

    c1 = new(3, 2)
    c2 = new(1, 1)
    c3 = new(3, 1)
    c4 = new(5, 2)
    new(1, 2, pending=True)
    c6 = new(2, 1)
    c7 = new(3, 2)
    c8 = new(4, 1)
    c9 = new(2, 2)
    c10 = new(3, 1)
    clock.advance(HOUR)
    one(svc, principal, c2, cmd.Acknowledge())
    one(svc, principal, c3, cmd.Resolve("fixed"))
    one(svc, principal, c4, cmd.SetPriorityOverride(CasePriority(2)))
    one(svc, principal, c4, cmd.Close())
    one(svc, principal, c6, cmd.Assign(USER_A))
    clock.advance(HOUR)
    one(svc, principal, c8, cmd.Acknowledge())
    one(svc, principal, c8, cmd.Resolve())
    one(svc, principal, c8, cmd.Close())
    one(svc, principal, c1, cmd.Retitle("touched last"))
    one(svc, principal, c9, cmd.Acknowledge())
    one(svc, principal, c7, cmd.Close())
    one(svc, principal, c10, cmd.Assign(USER_B))
    clock.advance(HOUR)
    clock.step = 0  # listing "now" is now known exactly
    return [svc.get(principal, x.id) for x in made]


def expected_order(cases: Sequence[Case], order: CaseOrder, now: int) -> list[str]:
    """The spec's orders: one field, then createTime DESC, id DESC as tie-breakers."""
    desc = order.direction is not ASC
    field = order.field
    if field in (OrderField.UNSPECIFIED, OrderField.CREATED_AT):
        return ids_of(sorted(cases, key=lambda c: (c.create_time, c.id), reverse=desc))
    if field is OrderField.UPDATED_AT:
        return ids_of(sorted(cases, key=lambda c: (c.update_time, c.id), reverse=desc))
    main: Callable[[Case], int]
    if field is OrderField.PRIORITY:
        main, reverse = (lambda c: int(c.effective_priority)), not desc  # DESC = P1 first
    elif field is OrderField.STATUS:
        main, reverse = (lambda c: int(c.status)), desc
    elif field is OrderField.CATEGORY:
        main, reverse = (lambda c: int(c.category)), desc
    elif field is OrderField.SEVERITY:
        main, reverse = (lambda c: severity_rank(int(c.severity))), desc
    else:  # DURATION, in microseconds at the listing's "now"
        main, reverse = (lambda c: (c.end_time or now) - c.create_time), desc
    out = sorted(cases, key=lambda c: (c.create_time, c.id), reverse=True)
    out.sort(key=main, reverse=reverse)  # stable: ties keep createTime DESC, id DESC
    return ids_of(out)


ALL_ORDERS: Final = [
    pytest.param(CaseOrder(f, d), id=f"{f.name}-{d.name}")
    for f in OrderField
    for d in (ASC, DESC, OrderDirection.UNSPECIFIED)
]


@pytest.mark.parametrize("order", ALL_ORDERS)
def test_list_orders_cases_by_field_and_direction(
    clocked: Container,
    clock: FakeClock,
    principal: Principal,
    make_clocked_case: MakeClockedCase,
    order: CaseOrder,
) -> None:
    cases = build_mixed(clocked, clock, principal, make_clocked_case)
    got, token = listing(clocked, principal, order=order)
    assert token is None
    assert ids_of(got) == expected_order(cases, order, clock.next_reading())


def test_priority_descending_lists_p1_first_and_p5_last(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    for prio in (3, 5, 1, 4, 2):
        make_case(priority=prio)
    got, _ = listing(container, principal, order=CaseOrder(OrderField.PRIORITY, DESC))
    assert [c.effective_priority for c in got] == [P.P1, P.P2, P.P3, P.P4, P.P5]
    got, _ = listing(container, principal, order=CaseOrder(OrderField.PRIORITY, ASC))
    assert [c.effective_priority for c in got] == [P.P5, P.P4, P.P3, P.P2, P.P1]


def test_default_order_is_newest_first(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    made = [make_case() for _ in range(4)]
    got, _ = listing(container, principal)
    assert ids_of(got) == ids_of(made[::-1])


# --------------------------------------------------------------------------------------------
# Pagination
# --------------------------------------------------------------------------------------------


def walk(
    c: Container, p: Principal, filters: CaseFilters, order: CaseOrder, size: int
) -> list[str]:
    out: list[str] = []
    token: str | None = None
    for _ in range(1000):
        page, token = listing(c, p, filters, order, size=size, token=token)
        assert len(page) <= size
        if token is not None:
            assert len(page) == size
        out.extend(ids_of(page))
        if token is None:
            return out
    pytest.fail("pagination never ended")


MERGE = CaseFilters(
    statuses=(S.ACTIVE, S.ACKNOWLEDGED, S.RESOLVED, S.CLOSED), priorities=(P.P1, P.P2, P.P3)
)
PAGED: Final = [
    pytest.param(MERGE, CaseOrder(OrderField.UPDATED_AT, DESC), id="merge-updated-desc"),
    pytest.param(MERGE, CaseOrder(OrderField.UPDATED_AT, ASC), id="merge-updated-asc"),
    pytest.param(
        CaseFilters(statuses=(S.ACTIVE, S.CLOSED)),
        CaseOrder(OrderField.CREATED_AT, ASC),
        id="merge-status-only-created-asc",
    ),
    pytest.param(
        CaseFilters(priorities=(P.P2, P.P3)),
        CaseOrder(OrderField.CREATED_AT, DESC),
        id="merge-priority-only-created-desc",
    ),
    pytest.param(CaseFilters(), CaseOrder(OrderField.CREATED_AT, DESC), id="plain-created-desc"),
    pytest.param(CaseFilters(), CaseOrder(OrderField.UPDATED_AT, ASC), id="all-pairs-updated-asc"),
    pytest.param(
        CaseFilters(categories=(CaseCategory(1),)),
        CaseOrder(OrderField.UPDATED_AT, DESC),
        id="all-pairs-category-updated-desc",
    ),
    pytest.param(CaseFilters(), CaseOrder(OrderField.PRIORITY, DESC), id="plain-priority-desc"),
    pytest.param(CaseFilters(), CaseOrder(OrderField.PRIORITY, ASC), id="plain-priority-asc"),
    pytest.param(CaseFilters(), CaseOrder(OrderField.STATUS, DESC), id="plain-status-desc"),
    pytest.param(CaseFilters(), CaseOrder(OrderField.CATEGORY, ASC), id="plain-category-asc"),
    pytest.param(CaseFilters(), CaseOrder(OrderField.DURATION, DESC), id="plain-duration-desc"),
    pytest.param(CaseFilters(), CaseOrder(OrderField.DURATION, ASC), id="plain-duration-asc"),
    pytest.param(MERGE, CaseOrder(OrderField.PRIORITY, DESC), id="filtered-priority-desc"),
]


@pytest.mark.parametrize(("filters", "order"), PAGED)
def test_walking_all_pages_matches_one_big_page(
    clocked: Container,
    clock: FakeClock,
    principal: Principal,
    make_clocked_case: MakeClockedCase,
    filters: CaseFilters,
    order: CaseOrder,
) -> None:
    build_mixed(clocked, clock, principal, make_clocked_case)
    big, token = listing(clocked, principal, filters, order)
    assert token is None
    assert len(big) >= 4
    for size in (1, 2, 3):
        walked = walk(clocked, principal, filters, order, size)
        assert len(walked) == len(set(walked)), "a case appeared on two pages"
        assert walked == ids_of(big), f"page size {size}"


def test_last_page_has_no_token_when_page_is_exactly_full(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    for _ in range(4):
        make_case()
    page, token = listing(container, principal, size=2)
    assert token is not None
    page, token = listing(container, principal, size=2, token=token)
    assert len(page) == 2
    assert token is None
    page, token = listing(container, principal, size=4)
    assert len(page) == 4
    assert token is None


def test_walking_pages_sees_no_duplicates_when_cases_change_between_pages(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    made = [make_case() for _ in range(6)]
    order = CaseOrder(OrderField.CREATED_AT, DESC)
    first, token = listing(container, principal, order=order, size=3)
    one(
        container.cases, principal, first[0].id, cmd.Acknowledge()
    )  # an update does not move a created order
    make_case()  # newer than the cursor: not on later pages
    rest, token = listing(container, principal, order=order, size=10, token=token)
    assert token is None
    assert ids_of(first) + ids_of(rest) == ids_of(made[::-1])


@pytest.mark.parametrize(
    ("filters", "order"),
    [
        pytest.param(MERGE, CaseOrder(OrderField.UPDATED_AT, DESC), id="merge"),
        pytest.param(CaseFilters(), CaseOrder(OrderField.CREATED_AT, DESC), id="plain-time"),
        pytest.param(CaseFilters(), CaseOrder(OrderField.PRIORITY, DESC), id="plain-priority"),
    ],
)
def test_skip_offsets_the_page_and_applies_after_the_cursor(
    clocked: Container,
    clock: FakeClock,
    principal: Principal,
    make_clocked_case: MakeClockedCase,
    filters: CaseFilters,
    order: CaseOrder,
) -> None:
    build_mixed(clocked, clock, principal, make_clocked_case)
    big = ids_of(listing(clocked, principal, filters, order)[0])
    assert len(big) >= 6

    page, _ = listing(clocked, principal, filters, order, size=3, skip=2)
    assert ids_of(page) == big[2:5]

    _, token = listing(clocked, principal, filters, order, size=2)
    assert token is not None
    after, _ = listing(clocked, principal, filters, order, size=3, token=token, skip=1)
    assert ids_of(after) == big[3:6]

    beyond, token = listing(clocked, principal, filters, order, size=3, skip=len(big))
    assert beyond == []
    assert token is None


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        "!!!!",
        "x",
        b64(b"\xff\xfe\xfd"),
        b64(b"null"),
        b64(b'{"a": 1, "b": 2, "c": 3, "d": 4}'),
        b64(json.dumps([6, True, 0, [1]]).encode()),
        b64(json.dumps([6, True, 0, [1, 2]]).encode()),
        b64(json.dumps([6, True, 0, [True, "id"]]).encode()),
        b64(json.dumps([6, True, "now", [1, "id"]]).encode()),
        b64(json.dumps([6, True, 0, [1, "id"], "extra"]).encode()),
        b64(json.dumps([1, True, 0, [1, 2, "id"]]).encode()),
        b64(json.dumps([6, True, 0, [2**63, "id"]]).encode()),
        b64(json.dumps([6, True, 0, [-(2**63), "id"]]).encode()),
        b64(json.dumps([6, True, -1, [1, "id"]]).encode()),
        b64(json.dumps([6, True, 2**70, [1, "id"]]).encode()),
        b64(json.dumps([6, True, 0, [1, "i" * 65]]).encode()),
    ],
)
def test_list_rejects_page_token_when_malformed(
    container: Container, principal: Principal, make_case: MakeCase, token: str
) -> None:
    make_case()
    with pytest.raises(CasekeeperError) as err:
        listing(container, principal, order=CaseOrder(OrderField.CREATED_AT, DESC), token=token)
    assert err.value.code is ErrorCode.INVALID_PAGE_TOKEN
    assert err.value.spec.grpc_status == "INVALID_ARGUMENT"


@pytest.mark.parametrize(
    "other",
    [
        pytest.param(CaseOrder(OrderField.CREATED_AT, ASC), id="other-direction"),
        pytest.param(CaseOrder(OrderField.UPDATED_AT, DESC), id="other-time-field"),
        pytest.param(CaseOrder(OrderField.PRIORITY, DESC), id="priority"),
        pytest.param(CaseOrder(OrderField.DURATION, DESC), id="duration"),
    ],
)
def test_list_rejects_page_token_when_issued_for_another_ordering(
    container: Container, principal: Principal, make_case: MakeCase, other: CaseOrder
) -> None:
    for _ in range(3):
        make_case()
    _, token = listing(container, principal, order=CaseOrder(OrderField.CREATED_AT, DESC), size=1)
    assert token is not None
    with pytest.raises(CasekeeperError) as err:
        listing(container, principal, order=other, token=token, size=1)
    assert err.value.code is ErrorCode.INVALID_PAGE_TOKEN


def test_priority_token_is_rejected_by_a_time_ordering(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    for _ in range(3):
        make_case()
    _, token = listing(container, principal, order=CaseOrder(OrderField.PRIORITY, ASC), size=1)
    assert token is not None
    for other in (CaseOrder(OrderField.PRIORITY, DESC), CaseOrder(OrderField.CREATED_AT, ASC)):
        with pytest.raises(CasekeeperError) as err:
            listing(container, principal, order=other, token=token, size=1)
        assert err.value.code is ErrorCode.INVALID_PAGE_TOKEN


# --------------------------------------------------------------------------------------------
# GetFilterValues, GetGroupingKeys
# --------------------------------------------------------------------------------------------


def facet_cases(container: Container, principal: Principal, make_case: MakeCase) -> dict[str, Case]:
    svc = container.cases
    a = make_case(priority=1, category=1, groupings={"service": "checkout"}, labels={"team": "red"})
    one(svc, principal, a.id, cmd.Assign(USER_A))
    b = make_case(priority=3, category=2, groupings={"service": "payments"}, labels={"team": "red"})
    one(svc, principal, b.id, cmd.SetPriorityOverride(CasePriority(2)))
    one(svc, principal, b.id, cmd.Assign(USER_A))
    one(svc, principal, b.id, cmd.Acknowledge())
    c = make_case(priority=3, category=2, groupings={"service": "checkout", "env": "prod"})
    one(svc, principal, c.id, cmd.Resolve())
    d = make_case(priority=5, category=2, pending=True, labels={"team": "blue"})
    return {"a": a, "b": b, "c": c, "d": d}


def test_filter_values_counts_every_facet_when_no_filter_is_given(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    facet_cases(container, principal, make_case)
    fv = container.cases.filter_values(principal, CaseFilters())
    assert fv.statuses == {S.ACTIVE: 1, S.ACKNOWLEDGED: 1, S.RESOLVED: 1, S.PENDING_ACTIVATION: 1}
    assert fv.priorities == {P.P1: 1, P.P2: 1, P.P3: 1, P.P5: 1}  # effective priority
    assert fv.categories == {CaseCategory.SECURITY: 1, CaseCategory.AVAILABILITY: 3}
    assert fv.groupings == {"service": {"checkout": 2, "payments": 1}, "env": {"prod": 1}}
    assert fv.labels == {"team": {"red": 2, "blue": 1}}
    assert fv.assignees == {USER_A: 2}
    assert fv.unassigned == 2
    assert fv.alert_ids == {}


def test_filter_values_counts_only_matching_cases_when_filtered(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    facet_cases(container, principal, make_case)
    fv = container.cases.filter_values(
        principal, CaseFilters(statuses=(S.ACTIVE, S.ACKNOWLEDGED, S.RESOLVED))
    )
    assert fv.statuses == {S.ACTIVE: 1, S.ACKNOWLEDGED: 1, S.RESOLVED: 1}
    assert fv.priorities == {P.P1: 1, P.P2: 1, P.P3: 1}
    assert fv.groupings == {"service": {"checkout": 2, "payments": 1}, "env": {"prod": 1}}
    assert fv.labels == {"team": {"red": 2}}
    assert fv.unassigned == 1

    fv = container.cases.filter_values(
        principal, CaseFilters(categories=(CaseCategory.AVAILABILITY,), text_search="case")
    )
    assert fv.categories == {CaseCategory.AVAILABILITY: 3}
    assert fv.assignees == {USER_A: 1}
    assert fv.unassigned == 2


def test_filter_values_is_empty_when_nothing_matches(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    facet_cases(container, principal, make_case)
    fv = container.cases.filter_values(principal, CaseFilters(text_search="no such title"))
    assert fv.statuses == {}
    assert fv.priorities == {}
    assert fv.groupings == {}
    assert fv.labels == {}
    assert fv.assignees == {}
    assert fv.unassigned == 0


def test_filter_values_counts_alert_ids_only_when_alert_filters_are_present(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    make_case(indicators={"alertIndicators": [alert_indicator(ALERT_X)]})
    make_case(indicators={"alertIndicators": [alert_indicator(ALERT_X), alert_indicator(ALERT_Y)]})
    make_case()
    assert container.cases.filter_values(principal, CaseFilters()).alert_ids == {}
    fv = container.cases.filter_values(principal, CaseFilters(alert_filters_present=True))
    assert fv.alert_ids == {ALERT_X: 2, ALERT_Y: 1}


@pytest.mark.parametrize(
    "filters",
    [
        pytest.param(
            CaseFilters(groupings=(FilterGroup("service", ("checkout",)),)), id="groupings"
        ),
        pytest.param(CaseFilters(labels=(FilterGroup("team", ("red",)),)), id="labels"),
        pytest.param(CaseFilters(flat_labels=(KeyValue("team", "red"),)), id="flat-labels"),
        pytest.param(CaseFilters(impacted_services=("checkout",)), id="impacted-services"),
        pytest.param(CaseFilters(alert_ids=(ALERT_X,), alert_filters_present=True), id="alert-ids"),
    ],
)
def test_filter_values_counts_matching_cases_when_filtered_by_a_tag(
    container: Container, principal: Principal, make_case: MakeCase, filters: CaseFilters
) -> None:
    hit = make_case(
        groupings={"service": "checkout"},
        labels={"team": "red"},
        impacted_entities=[{"apmService": {"name": "checkout", "language": "go"}}],
        indicators={"alertIndicators": [alert_indicator(ALERT_X)]},
    )
    make_case(groupings={"service": "payments"}, labels={"team": "blue"})
    fv = container.cases.filter_values(principal, filters)
    assert fv.statuses == {S.ACTIVE: 1}
    assert fv.groupings == {"service": {"checkout": 1}}
    assert fv.labels == {"team": {"red": 1}}
    assert hit.status is S.ACTIVE


def test_grouping_keys_lists_distinct_keys_in_order(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    assert container.cases.grouping_keys(principal) == []
    make_case(groupings={"service": "a", "team": "x"})
    make_case(groupings={"service": "b", "environment": "prod"})
    make_case(labels={"label-key": "v"})
    assert container.cases.grouping_keys(principal) == ["environment", "service", "team"]


# --------------------------------------------------------------------------------------------
# GetCaseByIndicator (Prometheus alert)
# --------------------------------------------------------------------------------------------

STARTED: Final = parse_rfc3339("2025-09-22T10:30:00Z")


def test_get_by_prometheus_alert_finds_case_by_fingerprint_and_start_second(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case(
        indicators={"prometheusAlertIndicators": [prometheus_indicator("fp-1", TRIGGERED)]}
    )
    make_case(indicators={"prometheusAlertIndicators": [prometheus_indicator("fp-2", TRIGGERED)]})
    for started in (STARTED, STARTED + 999_999):
        assert container.cases.get_by_prometheus_alert(principal, "fp-1", started).id == case.id
    assert container.cases.get_by_prometheus_alert(principal, "  fp-1 ", STARTED).id == case.id


@pytest.mark.parametrize(
    ("fingerprint", "started"),
    [("fp-1", STARTED + 1_000_000), ("fp-1", STARTED - 1), ("fp-9", STARTED), ("FP-1", STARTED)],
)
def test_get_by_prometheus_alert_raises_indicator_not_found_when_nothing_matches(
    container: Container, principal: Principal, make_case: MakeCase, fingerprint: str, started: int
) -> None:
    make_case(indicators={"prometheusAlertIndicators": [prometheus_indicator("fp-1", TRIGGERED)]})
    with pytest.raises(CasekeeperError) as err:
        container.cases.get_by_prometheus_alert(principal, fingerprint, started)
    assert err.value.code is ErrorCode.INDICATOR_NOT_FOUND
    assert err.value.spec.http_status == 404


def test_get_by_prometheus_alert_matches_resolved_alert_and_created_at_fallback(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    resolved = {
        "resolved": {"triggeredAt": "2025-09-22T11:00:00Z", "resolvedAt": "2025-09-22T11:05:00Z"}
    }
    a = make_case(
        indicators={"prometheusAlertIndicators": [prometheus_indicator("fp-r", resolved)]}
    )
    b = make_case(
        indicators={
            "prometheusAlertIndicators": [
                prometheus_indicator("fp-c", {}, created_at="2025-09-22T12:00:00+01:00")
            ]
        }
    )
    svc = container.cases
    assert (
        svc.get_by_prometheus_alert(principal, "fp-r", parse_rfc3339("2025-09-22T11:00:00Z")).id
        == a.id
    )
    assert (
        svc.get_by_prometheus_alert(principal, "fp-c", parse_rfc3339("2025-09-22T11:00:00Z")).id
        == b.id
    )


def test_get_by_prometheus_alert_returns_newest_case_when_several_match(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    ind = {"prometheusAlertIndicators": [prometheus_indicator("fp-dup", TRIGGERED)]}
    make_case(indicators=ind)
    newest = make_case(indicators=ind)
    assert container.cases.get_by_prometheus_alert(principal, "fp-dup", STARTED).id == newest.id


@pytest.mark.parametrize("fingerprint", ["", "   ", "f" * 257])
def test_get_by_prometheus_alert_rejects_fingerprint_when_blank_or_too_long(
    container: Container, principal: Principal, fingerprint: str
) -> None:
    with pytest.raises(CasekeeperError) as err:
        container.cases.get_by_prometheus_alert(principal, fingerprint, STARTED)
    assert err.value.code is ErrorCode.INVALID_ARGUMENT


def test_get_by_prometheus_alert_finds_case_when_triggered_at_has_fractional_seconds(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    status = {"triggered": {"triggeredAt": "2025-09-22T10:30:00.123456789Z"}}
    case = make_case(
        indicators={"prometheusAlertIndicators": [prometheus_indicator("fp-ns", status)]}
    )
    assert container.cases.get_by_prometheus_alert(principal, "fp-ns", STARTED).id == case.id


def test_list_sees_bulk_changes_when_listing_after_a_bulk_close(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    made = [make_case() for _ in range(3)]
    many(container.cases, principal, [c.id for c in made], command_for(Operation.CLOSE))
    got, _ = listing(container, principal, CaseFilters(statuses=(S.CLOSED,)))
    assert set(ids_of(got)) == set(ids_of(made))


def bulk_insert(container: Container, cases: Sequence[Case]) -> None:
    """Load many cases in one statement (bypasses the service: for volume tests only)."""
    with container.db.writer() as uow:
        uow.cases.add_many(cases)
        uow.commit()


def raw_case(principal: Principal, n: int, **fields: object) -> Case:
    return Case(
        id=str(uuid.uuid4()),
        space_id=principal.space_id,
        title=f"bulk {n}",
        status=S.ACTIVE,
        priority=PriorityDetails(P.P3),
        category=CaseCategory.AVAILABILITY,
        create_time=1_758_537_000_000_000 + n,
        update_time=1_758_537_000_000_000 + n,
        number=n + 1,
        **fields,  # type: ignore[arg-type]
    )


def test_filter_values_counts_unassigned_when_more_than_1000_assignees_exist(
    container: Container, principal: Principal
) -> None:
    cases = [
        raw_case(principal, 2 * i + j, assignees=(str(uuid.UUID(int=i + 1)),))
        for i in range(1001)
        for j in range(2)
    ]
    cases.append(raw_case(principal, 5000))
    bulk_insert(container, cases)
    fv = container.cases.filter_values(principal, CaseFilters())
    assert len(fv.assignees) == 1000
    assert fv.unassigned == 1


def test_filter_values_returns_at_most_1000_grouping_and_label_keys(
    container: Container, principal: Principal
) -> None:
    pairs = [tuple(KeyValue(f"key-{i:04d}-{half}", "v") for i in range(501)) for half in "ab"]
    bulk_insert(
        container,
        [raw_case(principal, n, groupings=pairs[n], labels=pairs[n]) for n in range(2)],
    )
    fv = container.cases.filter_values(principal, CaseFilters())
    assert len(fv.groupings) == 1000
    assert len(fv.labels) == 1000


@pytest.mark.parametrize(
    "order",
    [
        CaseOrder(OrderField.UPDATED_AT, DESC),
        CaseOrder(OrderField.UPDATED_AT, ASC),
        CaseOrder(OrderField.CREATED_AT, DESC),
        CaseOrder(OrderField.CREATED_AT, ASC),
    ],
)
def test_merge_statements_cached_per_shape_page_like_statements_built_per_call(
    clocked: Container,
    clock: FakeClock,
    principal: Principal,
    make_clocked_case: MakeClockedCase,
    monkeypatch: pytest.MonkeyPatch,
    order: CaseOrder,
) -> None:
    """The merge statement is built once per query shape with bound parameters
    (store/case_list.py); walking pages through it gives what a statement built for each call
    gives, for groupings and labels of one and several values."""
    from casekeeper.store import case_list

    for i in range(14):
        clock.advance(HOUR)
        case = make_clocked_case(
            priority=[P.P1, P.P2, P.P3][i % 3],
            groupings={
                "service": ["checkout", "payments"][i % 2],
                "env": ["prod", "dev"][i % 4 // 2],
            },
            labels={"region": ["eu", "us", "ap"][i % 3]},
        )
        if i % 5 == 0:
            one(clocked.cases, principal, case.id, cmd.Acknowledge())
    filters = [
        CaseFilters(statuses=(S.ACTIVE, S.ACKNOWLEDGED), priorities=(P.P1, P.P2, P.P3)),
        CaseFilters(
            statuses=(S.ACTIVE, S.ACKNOWLEDGED),
            groupings=(FilterGroup("service", ("checkout",)),),
        ),
        CaseFilters(
            priorities=(P.P1, P.P3),
            groupings=(
                FilterGroup("service", ("checkout", "payments")),
                FilterGroup("env", ("prod",)),
            ),
            labels=(FilterGroup("region", ("eu", "ap")),),
        ),
    ]
    for f in filters:
        cached = walk(clocked, principal, f, order, 2)
        monkeypatch.setattr(case_list, "_cached_page", lambda *_args: None)
        built = walk(clocked, principal, f, order, 2)
        monkeypatch.undo()
        assert cached == built
        assert cached, f"the filter {f} should match some cases"


def _sqlite_plan(container: Container, prepared: Prepared) -> list[str]:
    """SQLite's plan steps for a cached page statement (every parameter bound to 1)."""
    with container.db.reader() as uow:
        sql, order, own = prepared._for(uow.conn)
        params = dict.fromkeys(order or (), 1) | own
        cur = uow.conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        values = tuple(params[k] for k in order or ())
        return [str(row[3]) for row in cur.execute(f"EXPLAIN QUERY PLAN {sql}", values)]


def test_sqlite_merges_the_arms_lazily_and_reads_only_the_page_rows(container: Container) -> None:
    """The merged page is one flat UNION ALL under the page's ORDER BY/LIMIT: SQLite must plan
    it as a MERGE (UNION ALL) of index-ordered arms (no arm produces a page of its own to be
    sorted) and fetch the page's rows by primary key."""
    from casekeeper.domain.query import FilterGroup as G
    from casekeeper.store import case_list

    if container.db.engine.dialect.name != "sqlite":
        pytest.skip("the plan checked is SQLite's")
    f = CaseFilters(
        statuses=(S.RESOLVED, S.CLOSED),
        priorities=(P.P3, P.P4),
        groupings=(G("environment", ("production",)),),
    )
    keys = case_list.sort_keys(OrderField.UPDATED_AT, True, 0)
    prepared = case_list._cached_page(f, keys, None, 4, arm_limits=False, light=False)
    assert prepared is not None
    plan = _sqlite_plan(container, prepared)
    assert "MERGE (UNION ALL)" in plan, plan
    assert sum("ix_case_space_sp_update" in step for step in plan) == 4, plan
    assert any("sqlite_autoindex_case_1 (id=?)" in step for step in plan), plan


def test_sqlite_lists_by_update_time_from_the_per_status_priority_index(
    container: Container,
) -> None:
    """There is no index on update time alone: an update-ordered list without a status or
    priority filter is the lazy merge of all 25 (status, priority) scans, never a sort."""
    from casekeeper.store import case_list

    if container.db.engine.dialect.name != "sqlite":
        pytest.skip("the plan checked is SQLite's")
    keys = case_list.sort_keys(OrderField.UPDATED_AT, True, 0)
    prepared = case_list._cached_page(CaseFilters(), keys, None, 25, arm_limits=False, light=False)
    assert prepared is not None
    plan = _sqlite_plan(container, prepared)
    assert "MERGE (UNION ALL)" in plan, plan
    arms = [step for step in plan if "ix_case_space_sp_update" in step]
    assert len(arms) == 25, plan
    # Only the page's own rows are sorted, after the join back to "case" (the last step).
    assert [step for step in plan if "TEMP B-TREE" in step] == [plan[-1]], plan
