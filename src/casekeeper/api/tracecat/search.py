"""Tracecat's list and search parameters as a canonical ``CaseQuery``: filters, order, cursor."""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection
from typing import Final

from casekeeper.api.tracecat import vocabulary as vocab
from casekeeper.api.tracecat.http import Call
from casekeeper.api.tracecat.lookups import tags_by_key
from casekeeper.domain.enums import DateRangeMode, OrderDirection, OrderField
from casekeeper.domain.errors import CasekeeperError, invalid
from casekeeper.domain.query import CaseFilters, CaseOrder, CaseQuery, DateRange, PageRequest
from casekeeper.domain.timeutil import parse_rfc3339

DEFAULT_LIMIT: Final = 20
MAX_LIMIT: Final = 200
MAX_SEARCH: Final = 1000
ORDER: Final = {
    "created_at": OrderField.CREATED_AT, "updated_at": OrderField.UPDATED_AT,
    "priority": OrderField.PRIORITY, "severity": OrderField.SEVERITY,
    "status": OrderField.STATUS,
}  # fmt: skip
SHORT_ID: Final = re.compile(r"(?i)case-(\d{1,18})")
UNASSIGNED: Final = "unassigned"


def _time(call: Call, name: str) -> int | None:
    raw = call.one(name)
    if raw is None:
        return None
    try:
        return parse_rfc3339(raw, field=name)
    except CasekeeperError:
        raise invalid(
            "Input should be a valid datetime (2024-01-31T00:00:00Z)", field=name
        ) from None


def _range(call: Call, start: str, end: str, mode: DateRangeMode) -> DateRange | None:
    lo, hi = _time(call, start), _time(call, end)
    if lo is None and hi is None:
        return None
    return DateRange(lo or 0, hi if hi is not None else 2**62, mode)


def _words(call: Call, name: str, words: Collection[str]) -> list[str]:
    return [vocab.word(w, words, name) for w in call.many(name)]


def _assignees(call: Call) -> tuple[tuple[str, ...], bool]:
    users: list[str] = []
    unassigned = False
    for raw in call.many("assignee_id"):
        if raw == UNASSIGNED:
            unassigned = True
            continue
        try:
            users.append(str(uuid.UUID(raw)))
        except ValueError:
            raise invalid(
                "Input should be a valid UUID or 'unassigned'", field="assignee_id"
            ) from None
    return tuple(users), unassigned


def _numbers(short_id: str | None) -> tuple[int, ...]:
    if short_id is None:
        return ()
    m = SHORT_ID.fullmatch(short_id)
    return (int(m.group(1)),) if m else (-1,)  # not a readable id: matches no case


async def filters_of(call: Call) -> CaseFilters:
    """The search filters: values of one parameter OR together, parameters AND together
    (tags AND together, as Tracecat's do)."""
    term = call.one("search_term")
    if term is not None and len(term) > MAX_SEARCH:
        raise invalid(f"String should have at most {MAX_SEARCH} characters", field="search_term")
    numbers = _numbers(call.one("short_id"))
    if term is not None and SHORT_ID.fullmatch(term) and not numbers:
        numbers, term = _numbers(term), None  # a readable id searched for: that case
    statuses, on_hold = vocab.status_filter(_words(call, "status", vocab.STATUSES))
    tags: list[str] = []
    wanted = call.many("tags")
    if wanted:
        known = await tags_by_key(call)
        tags = [known.get(x, x) for x in wanted]
    users, unassigned = _assignees(call)
    return CaseFilters(
        statuses=statuses,
        on_hold=on_hold,
        priorities=vocab.priority_filter(_words(call, "priority", vocab.PRIORITIES)),
        severities=tuple(vocab.SEVERITIES[w] for w in _words(call, "severity", vocab.SEVERITIES)),
        tags_all=tuple(dict.fromkeys(tags)),
        assignees=users,
        include_unassigned=unassigned,
        text_search=term,
        search_description=term is not None,
        numbers=numbers,
        date_range=_range(call, "start_time", "end_time", DateRangeMode.CREATED_AT),
        updated_range=_range(call, "updated_after", "updated_before", DateRangeMode.CREATED_AT),
    )


def order_of(call: Call) -> CaseOrder:
    by = call.one("order_by") or "created_at"
    if by == "tasks":
        raise invalid("casekeeper cases have no tasks to order by", field="order_by")
    if by not in ORDER:
        raise invalid(f"Input should be {', '.join(map(repr, ORDER))}", field="order_by")
    sort = (call.one("sort") or "desc").lower()
    if sort not in ("asc", "desc"):
        raise invalid("Input should be 'asc' or 'desc'", field="sort")
    direction = OrderDirection.DESCENDING if sort == "desc" else OrderDirection.ASCENDING
    return CaseOrder(ORDER[by], direction)


async def query_of(call: Call, *, with_filters: bool, paging: bool = True) -> CaseQuery:
    filters = await filters_of(call) if with_filters else CaseFilters()
    page = PageRequest(size=1)
    if paging:
        page = PageRequest(
            size=call.number("limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
            token=call.one("cursor"),
            backward=call.flag("reverse"),
        )
    return CaseQuery(filters=filters, order=order_of(call), page=page)


def total_of(call: Call, groups: dict[str, int]) -> int:
    """The aggregate's total: the cases of the statuses asked for (all without a filter)."""
    wanted = [vocab.word(w, vocab.STATUSES, "status") for w in call.many("status")]
    return sum(n for w, n in groups.items() if not wanted or w in wanted)
