"""Incident lists, totals, facets, aggregations and event lists on the real stores, checked
against the same answer computed in Python from every incident of the space."""

from __future__ import annotations

import dataclasses
import random
import uuid
from collections import Counter
from collections.abc import Callable

import pytest

from casekeeper.bootstrap import Container
from casekeeper.domain.errors import CasekeeperError, ErrorCode
from casekeeper.domain.incident_query import (
    APPLICATION_LABEL,
    EventFilter,
    GroupKey,
    IncidentField,
    IncidentFilter,
    OrderKey,
    PageRequest,
    SearchQuery,
    TimeRange,
)
from casekeeper.domain.incidents import (
    SEVERITY_RANK,
    AlertEvent,
    Incident,
    IncidentSeverity,
    IncidentState,
    IncidentStatus,
)
from casekeeper.domain.model import KeyValue
from casekeeper.domain.query import FilterGroup
from casekeeper.service.auth import Principal
from tests.conftest import MakeCase, MakeKey

Sev = IncidentSeverity
N = 40


@pytest.fixture
def world(container: Container, principal: Principal, make_case: MakeCase) -> list[Incident]:
    """``N`` incidents over two cases with every status, severity and a few labels."""
    rng = random.Random(11)
    cases = [make_case(), make_case()]
    clock = container.incidents.clock()
    out = []
    for n in range(N):
        app = rng.choice(["shop", "search", None])
        display = {APPLICATION_LABEL: app} if app else {}
        meta = (KeyValue("team", rng.choice(["db", "web"])),) if n % 3 else ()
        alert = AlertEvent(
            case_id=cases[n % 2].id,
            alert_id=f"alert-{n % 5}",
            name=f"{rng.choice(['Disk', 'Latency', 'Errors'])} alarm {n}",
            state=IncidentState.TRIGGERED,
            cx_event_key=f"k-{uuid.uuid4().hex}",
            time=clock - (N - n) * 1_000_000,
            severity=list(Sev)[n % 6],
            group_by={"n": str(n)},
            contextual_labels={"region": rng.choice(["eu", "us"])} if n % 4 else {},
            display_labels=display,
            meta_labels=meta,
            is_muted=n % 7 == 0,
        )
        x = container.alerts.record(principal, alert)
        match n % 5:
            case 1:
                (x,) = container.incidents.acknowledge(principal, [x.id])
            case 2:
                (x,) = container.incidents.resolve(principal, [x.id])
            case 3:
                (x,) = container.incidents.close(principal, [x.id])
            case 4:
                (x,) = container.incidents.assign(principal, [x.id], f"u{n % 3}@example.test")
        out.append(x)
    return out


def every_page(fetch: Callable[[str | None], tuple[list[Incident], str | None]]) -> list[str]:
    ids: list[str] = []
    token = None
    while True:
        items, token = fetch(token)
        ids += [x.id for x in items]
        if token is None:
            return ids


def listed(
    container: Container,
    p: Principal,
    f: IncidentFilter,
    order: tuple[OrderKey, ...],
    size: int = 7,
) -> list[str]:
    def fetch(token: str | None) -> tuple[list[Incident], str | None]:
        page = container.incidents.list_incidents(p, f, order, PageRequest(size, token))
        return page.incidents, page.next_token

    return every_page(fetch)


def current(container: Container, p: Principal, world: list[Incident]) -> list[Incident]:
    found, _ = container.incidents.batch_get(p, [x.id for x in world])
    return [found[x.id] for x in world]


ORDERS: dict[str, tuple[tuple[OrderKey, ...], Callable[[Incident], tuple[object, ...]]]] = {
    "created desc (default)": ((), lambda x: (-x.created_at,)),
    "severity by rank, then name": (
        (OrderKey(IncidentField.SEVERITY), OrderKey(IncidentField.NAME, descending=False)),
        lambda x: (-SEVERITY_RANK[x.severity], x.name),
    ),
    "closed time asc (open first)": (
        (OrderKey(IncidentField.CLOSED_TIME, descending=False),),
        lambda x: (x.closed_at or 0,),
    ),
    "status then region label": (
        (OrderKey(IncidentField.STATUS, descending=False), OrderKey(contextual_label="region")),
        lambda x: (int(x.status), _neg(x.contextual_labels.get("region", ""))),
    ),
}


def _neg(text: str) -> tuple[int, ...]:
    return (*tuple(-ord(ch) for ch in text), 1)


@pytest.mark.parametrize("name", ORDERS)
def test_every_order_pages_through_everything_once_in_order(
    container: Container, principal: Principal, world: list[Incident], name: str
) -> None:
    order, key = ORDERS[name]
    ids = listed(container, principal, IncidentFilter(), order)
    assert len(ids) == len(set(ids)) == N
    by_id = {x.id: x for x in current(container, principal, world)}
    keys = [key(by_id[i]) for i in ids]
    assert keys == sorted(keys)


FILTERS: dict[str, tuple[IncidentFilter, Callable[[Incident], bool]]] = {
    "status": (
        IncidentFilter(statuses=(IncidentStatus.ACKNOWLEDGED, IncidentStatus.RESOLVED)),
        lambda x: x.status in (IncidentStatus.ACKNOWLEDGED, IncidentStatus.RESOLVED),
    ),
    "severity and muted": (
        IncidentFilter(severities=(Sev.LOW, Sev.CRITICAL), is_muted=False),
        lambda x: x.severity in (Sev.LOW, Sev.CRITICAL) and not x.is_muted,
    ),
    "assignee": (
        IncidentFilter(assignees=("u1@example.test",)),
        lambda x: x.assignee == "u1@example.test",
    ),
    "contextual label": (
        IncidentFilter(contextual_labels=(FilterGroup("region", ("eu",)),)),
        lambda x: x.contextual_labels.get("region") == "eu",
    ),
    "application": (
        IncidentFilter(application_names=("shop",)),
        lambda x: x.display_labels.get(APPLICATION_LABEL) == "shop",
    ),
    "meta labels, any": (
        IncidentFilter(meta_labels=(KeyValue("team", "db"), KeyValue("team", "web"))),
        lambda x: bool(x.meta_labels),
    ),
    "meta labels, all": (
        IncidentFilter(
            meta_labels=(KeyValue("team", "db"), KeyValue("team", "web")), meta_labels_all=True
        ),
        lambda x: False,
    ),
    "search the name": (
        IncidentFilter(search=SearchQuery("DISK", IncidentField.NAME)),
        lambda x: "disk" in x.name.lower(),
    ),
    "search a label": (
        IncidentFilter(search=SearchQuery("U", contextual_label="region")),
        lambda x: "u" in x.contextual_labels.get("region", ""),
    ),
    "closed": (
        IncidentFilter(states=(IncidentState.TRIGGERED,), statuses=(IncidentStatus.TRIGGERED,)),
        lambda x: x.state is IncidentState.TRIGGERED and x.status is IncidentStatus.TRIGGERED,
    ),
}


@pytest.mark.parametrize("name", FILTERS)
def test_each_filter_finds_what_it_says_and_counts_it(
    container: Container, principal: Principal, world: list[Incident], name: str
) -> None:
    f, wanted = FILTERS[name]
    ids = listed(container, principal, f, ())
    expected = {x.id for x in current(container, principal, world) if wanted(x)}
    assert set(ids) == expected
    assert len(ids) == len(expected)
    page = container.incidents.list_incidents(principal, f, (), PageRequest(3))
    assert page.total_size == len(expected)


def test_time_ranges(container: Container, principal: Principal, world: list[Incident]) -> None:
    now = container.incidents.clock()
    start, end = world[10].created_at, world[20].created_at
    created = IncidentFilter(created=TimeRange(start, end))
    assert set(listed(container, principal, created, ())) == {x.id for x in world[10:21]}
    everything = IncidentFilter(open_during=TimeRange(world[0].created_at, now))
    assert len(listed(container, principal, everything, ())) == N


def test_a_token_from_another_query_or_tampered_is_refused(
    container: Container, principal: Principal, world: list[Incident]
) -> None:
    page = container.incidents.list_incidents(principal, IncidentFilter(), (), PageRequest(5))
    assert page.next_token is not None
    other = IncidentFilter(statuses=(IncidentStatus.TRIGGERED,))
    for token, f in ((page.next_token, other), ("bm9wZQ", IncidentFilter())):
        with pytest.raises(CasekeeperError) as err:
            container.incidents.list_incidents(principal, f, (), PageRequest(5, token))
        assert err.value.code is ErrorCode.INVALID_PAGE_TOKEN


def test_facets_count_the_matches_with_and_without_a_filter(
    container: Container, principal: Principal, world: list[Incident]
) -> None:
    now = current(container, principal, world)
    every = container.incidents.filter_values(principal, IncidentFilter())
    assert dict(every.statuses) == Counter(x.status for x in now)
    assert dict(every.severities) == Counter(x.severity for x in now)
    assert dict(every.assignees) == Counter(x.assignee for x in now if x.assignee)
    assert dict(every.contextual_labels["region"]) == Counter(
        x.contextual_labels["region"] for x in now if "region" in x.contextual_labels
    )
    f = IncidentFilter(severities=(Sev.ERROR,))
    some = container.incidents.filter_values(principal, f)
    assert dict(some.statuses) == Counter(x.status for x in now if x.severity is Sev.ERROR)
    assert dict(some.meta_labels) == Counter(
        kv for x in now if x.severity is Sev.ERROR for kv in x.meta_labels
    )


def test_aggregations_group_and_count(
    container: Container, principal: Principal, world: list[Incident]
) -> None:
    now = current(container, principal, world)
    page = container.incidents.aggregations(
        principal, IncidentFilter(), (GroupKey(IncidentField.SEVERITY),), PageRequest(4)
    )
    assert page.total_size == 6
    groups = list(page.groups)
    token = page.next_token
    while token:
        more = container.incidents.aggregations(
            principal, IncidentFilter(), (GroupKey(IncidentField.SEVERITY),), PageRequest(4, token)
        )
        groups += more.groups
        token = more.next_token
    assert [g.values[0].value for g in groups] == sorted(Sev, key=SEVERITY_RANK.__getitem__)
    for g in groups:
        members = [x for x in now if x.severity is g.values[0].value]
        assert g.count == len(members)
        assert set(g.incident_ids) == {x.id for x in members}
        assert dict(g.statuses) == Counter(x.status for x in members)
        assert g.first_created_at == min(x.created_at for x in members)


def test_events_page_count_and_facets(
    container: Container, principal: Principal, world: list[Incident]
) -> None:
    every = [e for x in world for e in container.incidents.events(principal, x.id)]
    seen: list[str] = []
    token = None
    while True:
        page = container.incidents.list_events(principal, EventFilter(), PageRequest(9, token))
        seen += [item.event.id for item in page.items]
        assert all(item.incident.id == item.event.incident_id for item in page.items)
        token = page.next_token
        if token is None:
            break
    assert sorted(seen) == sorted(e.id for e in every)
    assert container.incidents.count_events(principal, EventFilter()) == (len(every), False)
    acked = EventFilter(statuses=(IncidentStatus.ACKNOWLEDGED,))
    expected = [e for e in every if e.status is IncidentStatus.ACKNOWLEDGED]
    assert container.incidents.count_events(principal, acked) == (len(expected), False)
    facets = container.incidents.event_filter_values(principal, EventFilter())
    assert dict(facets.statuses) == Counter(e.status for e in every)
    eu = EventFilter(contextual_labels=(FilterGroup("region", ("eu",)),))
    in_eu = {x.id for x in world if x.contextual_labels.get("region") == "eu"}
    assert container.incidents.count_events(principal, eu)[0] == sum(
        e.incident_id in in_eu for e in every
    )


def test_another_space_sees_none_of_it(
    container: Container, principal: Principal, world: list[Incident], make_key: MakeKey
) -> None:
    _, other = make_key(space_name=f"q-{uuid.uuid4().hex[:8]}")
    page = container.incidents.list_incidents(other, IncidentFilter(), (), PageRequest(50))
    assert (page.incidents, page.total_size) == ([], 0)
    assert container.incidents.filter_values(other, IncidentFilter()).statuses == {}
    assert container.incidents.count_events(other, EventFilter()) == (0, False)
    assert dataclasses.replace(page, next_token=None) == page
