"""A page in priority order (the queue's "most urgent first") without sorting the matches.

Priority order is (priority, then newest first): within one priority it is creation order, so
the page is the priorities' creation-ordered merges (case_list's per-(status, priority) index
scans) one after another — P1's newest first until the page is full, then P2's, and so on —
each stopping at the page's end. A cursor (priority, create time, id) skips the priorities
before its own and starts its own after the cursor's case. Sorting every match instead read
and sorted all the open cases (100,000s at 1,000,000 cases) for each page.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from casekeeper.domain.enums import CasePriority, CaseStatus, OrderField
from casekeeper.domain.query import CaseFilters
from casekeeper.store import case_list as cl
from casekeeper.store.schema import case as c


def page_by_priority(
    conn: Any,
    space_id: int,
    f: CaseFilters,
    statuses: Sequence[CaseStatus],
    cursor: list[Any] | None,
    *,
    urgent_first: bool,
    backward: bool,
    limit: int,
    now: int,
    light: bool,
) -> list[Sequence[Any]]:
    """Up to ``limit`` rows in priority order (P1 first when ``urgent_first``; within a
    priority, newest first), after ``cursor`` — or, ``backward``, the rows before it in the
    reverse order."""
    priorities = sorted(set(f.priorities) or cl.ALL_PRIORITIES)  # P1 (1) first
    if not urgent_first:
        priorities.reverse()
    if backward:
        priorities.reverse()
    time_keys = cl.sort_keys(OrderField.CREATED_AT, True, now)  # newest first
    if backward:
        time_keys = [cl.SortKey(k.expr, not k.ascending, k.column) for k in time_keys]
    start = priorities.index(CasePriority(cursor[0])) if cursor and cursor[0] in priorities else 0
    if cursor and cursor[0] not in priorities:
        return []  # a cursor on a priority outside the filter: nothing follows it here
    rows: list[Sequence[Any]] = []
    for n, priority in enumerate(priorities[start:]):
        time_cursor = list(cursor[1:]) if cursor and n == 0 else None
        base = [c.c.space_id == space_id]
        if time_cursor is not None:
            base.append(cl.beyond(time_keys, time_cursor))
        one = dataclasses.replace(f, priorities=(priority,))
        pairs = [(s, priority) for s in statuses]
        rows += cl.merged_page(conn, space_id, one, base, time_keys, time_cursor, pairs,
                               limit - len(rows), 0, light)  # fmt: skip
        if len(rows) >= limit:
            break
    return rows
