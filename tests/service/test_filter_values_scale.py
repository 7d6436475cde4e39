"""GetFilterValues at any size: random writes and filters against the full GROUP BY it
replaced, estimates when the candidates outnumber the sample (scaled, close, and marked), and
the marking as Coralogix callers see it (a REST header, a gRPC trailer)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator, Mapping

import grpc
import httpx
import pytest

from casekeeper.api.coralogix.convert import ESTIMATE_KEY
from casekeeper.api.grpc.server import GrpcServer
from casekeeper.api.http.app import create_app
from casekeeper.bootstrap import Container
from casekeeper.domain import commands as cmd
from casekeeper.domain.commands import CaseChange
from casekeeper.domain.enums import CaseCategory, CasePriority, CaseStatus
from casekeeper.domain.model import Case
from casekeeper.domain.query import CaseFilters, FilterGroup
from casekeeper.proto.com.coralogixapis.cases.v1 import (
    case_filters_pb2 as f_pb,
)
from casekeeper.proto.com.coralogixapis.cases.v1 import (
    cases_service_pb2 as pb,
)
from casekeeper.proto.com.coralogixapis.cases.v1 import (
    cases_service_pb2_grpc,
)
from casekeeper.service.auth import Principal
from casekeeper.store import facet_sample
from tests.conftest import MakeCase, MakeKey
from tests.store.test_case_facets import brute_force, same_counts, tallies_match_rows

USERS = (
    "11111111-1111-4111-8111-111111111111",
    "22222222-2222-4222-8222-222222222222",
    "33333333-3333-4333-8333-333333333333",
)
OPEN = (CaseStatus.ACTIVE, CaseStatus.ACKNOWLEDGED)


def _world(container: Container, p: Principal, make_case: MakeCase, n: int) -> list[Case]:
    rng = random.Random(7)
    cases = [
        make_case(title=f"{rng.choice(['Disk', 'CPU', 'Latency'])} on host-{i}",
                  priority=rng.randint(1, 5), category=rng.randint(1, 2),
                  groupings={"service": rng.choice(["api", "db", "web"])},
                  labels={"region": rng.choice(["eu", "us"]), "tier": rng.choice("ab")})
        for i in range(n)
    ]  # fmt: skip
    for x in cases:
        r = rng.random()
        steps: list[cmd.CaseCommand] = []
        if r < 0.7:
            steps.append(cmd.Assign(rng.choice(USERS)))
        if r < 0.3:
            steps.append(cmd.Acknowledge())
        elif r < 0.5:
            steps.append(cmd.Resolve("done"))
        if rng.random() < 0.2:
            steps.append(cmd.SetPriorityOverride(CasePriority(rng.randint(1, 5))))
        if steps:
            container.cases.change(p, CaseChange(x.id, tuple(steps)))
    return cases


def _random_filters(rng: random.Random) -> CaseFilters:
    def some(values: tuple[object, ...]) -> tuple[object, ...]:
        return tuple(rng.sample(values, rng.randint(0, 2)))

    return CaseFilters(
        statuses=some(tuple(CaseStatus)[1:]),  # type: ignore[arg-type]
        priorities=some(tuple(CasePriority)[1:]),  # type: ignore[arg-type]
        categories=some((CaseCategory.AVAILABILITY, CaseCategory.SECURITY)),  # type: ignore[arg-type]
        assignees=some(USERS),  # type: ignore[arg-type]
        include_unassigned=rng.random() < 0.3,
        alert_filters_present=rng.random() < 0.3,
    )


def test_random_tally_filters_count_as_the_full_group_by_did(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    cases = _world(container, principal, make_case, 40)
    container.cases.change_many(principal, [CaseChange(x.id, (cmd.Close(),)) for x in cases[:8]])
    container.case_views.delete(principal, [x.id for x in cases[8:12]])
    tallies_match_rows(container, principal.space_id)
    rng = random.Random(11)
    with container.db.reader() as uow:
        for _ in range(60):
            f = _random_filters(rng)
            got = container.cases.filter_values(principal, f)
            assert not got.estimated, f
            same_counts(got, brute_force(uow.conn, principal.space_id, f))


@pytest.fixture
def tiny_sample(monkeypatch: pytest.MonkeyPatch) -> int:
    """A sample of 8 cases, so a few dozen cases are "many"."""
    monkeypatch.setattr(facet_sample, "SAMPLE", 8)
    return 8


def test_many_candidates_give_a_marked_estimate_near_the_count(
    container: Container, principal: Principal, make_case: MakeCase, tiny_sample: int
) -> None:
    _world(container, principal, make_case, 60)
    f = CaseFilters(text_search="on host")  # every case; no index finds them
    got = container.cases.filter_values(principal, f)
    assert got.estimated
    assert tiny_sample <= got.sampled <= tiny_sample + len(CaseStatus) * len(CasePriority)
    assert got.matching is not None
    assert 45 <= got.matching <= 75  # strata sizes are exact; only rounding moves it
    assert abs(sum(got.statuses.values()) - 60) <= 15
    assert abs(sum(got.priorities.values()) - 60) <= 15
    # Under an open-status filter the strata are those statuses' and the total follows them.
    with container.db.reader() as uow:
        exact = brute_force(uow.conn, principal.space_id, CaseFilters(statuses=OPEN))
    both = container.cases.filter_values(principal, CaseFilters(statuses=OPEN, text_search="on"))
    assert both.estimated
    assert set(both.statuses) <= set(OPEN)
    assert abs((both.matching or 0) - (exact.matching or 0)) <= max(4, (exact.matching or 0) // 4)


def test_few_candidates_are_counted_exactly_whatever_the_sample(
    container: Container, principal: Principal, make_case: MakeCase, tiny_sample: int
) -> None:
    _world(container, principal, make_case, 40)
    rare = make_case(title="Rare one", labels={"rare": "yes"}, groupings={"service": "rare"})
    container.cases.change(principal, CaseChange(rare.id, (cmd.Assign(USERS[0]),)))
    with container.db.reader() as uow:
        for f in (
            CaseFilters(labels=(FilterGroup("rare", ("yes",)),), text_search="rare"),
            CaseFilters(groupings=(FilterGroup("service", ("rare", "none")),)),
            CaseFilters(numbers=(1, 2, 3), text_search="on"),
            CaseFilters(assignees=(USERS[1],), statuses=OPEN),  # tallies: exact at any size
            CaseFilters(),
        ):
            got = container.cases.filter_values(principal, f)
            assert not got.estimated, f
            same_counts(got, brute_force(uow.conn, principal.space_id, f))


@pytest.fixture
def grpc_cases(container: Container) -> Iterator[cases_service_pb2_grpc.CasesServiceStub]:
    server = GrpcServer(container, "127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    try:
        yield cases_service_pb2_grpc.CasesServiceStub(channel)
    finally:
        channel.close()
        server.stop(grace=1.0)


def test_coralogix_callers_see_the_estimate_beside_the_specified_response(
    container: Container,
    principal: Principal,
    make_case: MakeCase,
    make_key: MakeKey,
    tiny_sample: int,
    grpc_cases: cases_service_pb2_grpc.CasesServiceStub,
) -> None:
    _world(container, principal, make_case, 30)
    key, _ = make_key()
    auth = {"authorization": f"Bearer {key}"}
    search = {"filters": {"textSearch": "host"}}

    async def post(body: Mapping[str, object]) -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(container))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            return await http.post("/cases/filter-values/v1", json=body, headers=auth)

    estimated, exact = asyncio.run(post(search)), asyncio.run(post({}))
    assert estimated.status_code == exact.status_code == 200
    note = estimated.headers["x-casekeeper-estimate"]
    assert note.startswith("sampled ")
    assert "match" in note
    assert "x-casekeeper-estimate" not in exact.headers
    assert set(estimated.json()) == set(exact.json())  # the spec's shape either way

    md = (("authorization", f"Bearer {key}"),)
    req = pb.GetFilterValuesRequest(filters=f_pb.CaseFilters(text_search="host"))
    _, call = grpc_cases.GetFilterValues.with_call(req, metadata=md, timeout=10)
    trailers = dict(call.trailing_metadata() or ())
    assert trailers[ESTIMATE_KEY] == note
    _, plain = grpc_cases.GetFilterValues.with_call(
        pb.GetFilterValuesRequest(), metadata=md, timeout=10
    )
    assert ESTIMATE_KEY not in dict(plain.trailing_metadata() or ())
