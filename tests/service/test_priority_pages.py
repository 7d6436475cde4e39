"""Pages in priority order (the console's "most urgent first"), read by merging per-priority
creation-ordered scans: forward and backward, filtered and not, at every page size, they
give exactly the brute-force order, and a page that ends inside a priority resumes there."""

from __future__ import annotations

import pytest

from casekeeper.bootstrap import Container
from casekeeper.domain.enums import CasePriority as P
from casekeeper.domain.enums import CaseStatus as S
from casekeeper.domain.enums import OrderDirection, OrderField
from casekeeper.domain.query import CaseFilters, CaseOrder, CaseQuery, PageRequest
from casekeeper.service.auth import Principal
from tests.service.conftest import FakeClock, MakeClockedCase
from tests.service.test_list_cases import build_mixed, expected_order, ids_of

ORDERS = [CaseOrder(OrderField.PRIORITY, d) for d in (OrderDirection.DESCENDING,
                                                      OrderDirection.ASCENDING)]  # fmt: skip
FILTERS = [
    CaseFilters(),
    CaseFilters(statuses=(S.ACTIVE, S.ACKNOWLEDGED, S.PENDING_ACTIVATION)),
    CaseFilters(priorities=(P.P2, P.P3)),
    CaseFilters(statuses=(S.CLOSED,), priorities=(P.P1, P.P2, P.P5)),
]


def _matches(f: CaseFilters, status: S, priority: P) -> bool:
    return (not f.statuses or status in f.statuses) and (
        not f.priorities or priority in f.priorities
    )


@pytest.mark.parametrize("order", ORDERS, ids=["urgent-first", "least-urgent-first"])
@pytest.mark.parametrize("filters", FILTERS, ids=["all", "open", "p2-p3", "closed-some"])
def test_forward_and_backward_pages_give_the_brute_force_order(
    clocked: Container, clock: FakeClock, principal: Principal,
    make_clocked_case: MakeClockedCase, filters: CaseFilters, order: CaseOrder,
) -> None:  # fmt: skip
    cases = build_mixed(clocked, clock, principal, make_clocked_case)
    chosen = [c for c in cases if _matches(filters, c.status, c.effective_priority)]
    want = expected_order(chosen, order, clock())
    for size in (1, 2, 3, 50):
        seen: list[str] = []
        token = None
        while True:
            request = PageRequest(size, token)
            page = clocked.cases.list_page(principal, CaseQuery(filters, order, request))
            seen += ids_of(page.cases)
            if page.after is None:
                break
            token = page.after
        assert seen == want, f"forward, page size {size}"
        back: list[str] = []
        token = None
        while True:
            request = PageRequest(size, token, backward=True)
            page = clocked.cases.list_page(principal, CaseQuery(filters, order, request))
            back = ids_of(page.cases) + back
            if page.before is None:
                break
            token = page.before
        assert back == want, f"backward, page size {size}"
