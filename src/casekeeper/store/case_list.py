"""ListCases: one ordered, keyset-paginated page.

Ordering by update time, or by creation time with a status and/or priority filter, runs as a
lazy merge of one index-ordered scan per (status, priority) pair (``ix_case_space_sp_*``) that
stops at the page's end, so a page costs about ``page size`` index steps however many cases
match; the page's rows are joined back by primary key in the same statement. Other orders scan
with the filter.
Page tokens are opaque (base64url JSON) and carry the sort key of the last row returned.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from casekeeper.domain.enums import CasePriority, CaseStatus, OrderField, Severity
from casekeeper.domain.errors import CasekeeperError, ErrorCode
from casekeeper.domain.model import Case
from casekeeper.domain.query import CaseFilters, CaseQuery
from casekeeper.store import case_urgency, tags
from casekeeper.store.case_filters import MANY_GROUPS, bound_groups, filter_clauses, group_params
from casekeeper.store.case_rows import CASE_SELECT
from casekeeper.store.cases import row_to_case, sort_values
from casekeeper.store.driver import Prepared
from casekeeper.store.schema import case as c

MAX_MERGE_BRANCHES = 25
_ALL_STATUSES = [s for s in CaseStatus if s is not CaseStatus.UNSPECIFIED]
ALL_PRIORITIES = [p for p in CasePriority if p is not CasePriority.UNSPECIFIED]


@dataclass(frozen=True, slots=True)
class SortKey:
    expr: ColumnElement[Any]
    ascending: bool
    column: str  # the result column that carries the key (time orders only)


def sort_keys(field: OrderField, descending: bool, now: int) -> list[SortKey]:
    """The full ordering for ``field``: the field, then creation time and id as tie-breakers."""
    if field in (OrderField.UNSPECIFIED, OrderField.CREATED_AT):
        return [
            SortKey(c.c.create_time, not descending, "create_time"),
            SortKey(c.c.id, not descending, "id"),
        ]
    if field is OrderField.UPDATED_AT:
        return [
            SortKey(c.c.update_time, not descending, "update_time"),
            SortKey(c.c.id, not descending, "id"),
        ]
    main: ColumnElement[Any]
    ascending = not descending
    if field is OrderField.PRIORITY:
        # Urgency order: "descending priority" lists P1 first, i.e. ascending numbers.
        main, ascending = c.c.priority, descending
    elif field is OrderField.STATUS:
        main = c.c.status  # enum numbers follow the lifecycle order
    elif field is OrderField.CATEGORY:
        main = c.c.category
    elif field is OrderField.SEVERITY:
        main = severity_rank(c.c.severity)
    else:  # DURATION, measured at the first page's "now" so later pages agree
        main = sa.func.coalesce(c.c.end_time, now) - c.c.create_time
    return [
        SortKey(main, ascending, ""),
        SortKey(c.c.create_time, False, "create_time"),
        SortKey(c.c.id, False, "id"),
    ]


def severity_rank(column: Any) -> Any:
    """OCSF severity as an order: UNKNOWN, then OTHER, then INFORMATIONAL .. FATAL."""
    unknown, other = int(Severity.UNKNOWN), int(Severity.OTHER)
    if isinstance(column, int):
        return -2 if column == unknown else -1 if column == other else column
    return sa.case((column == unknown, -2), (column == other, -1), else_=column)


def beyond(keys: Sequence[SortKey], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after ``values`` (values or bound parameters) in the order of ``keys``."""
    if all(k.ascending == keys[0].ascending for k in keys):
        left = sa.tuple_(*(k.expr for k in keys))
        right = sa.tuple_(
            *(v if isinstance(v, sa.BindParameter) else sa.literal(v) for v in values)
        )
        return left > right if keys[0].ascending else left < right
    branches = []
    for i, key in enumerate(keys):
        cond = [k.expr == v for k, v in zip(keys[:i], values[:i], strict=True)]
        cond.append(key.expr > values[i] if key.ascending else key.expr < values[i])
        branches.append(sa.and_(*cond))
    return sa.or_(*branches)


def _order_by(keys: Sequence[SortKey]) -> list[ColumnElement[Any]]:
    return [k.expr.asc() if k.ascending else k.expr.desc() for k in keys]


def encode_token(
    field: OrderField, descending: bool, now: int, values: Sequence[Any], backward: bool = False
) -> str:
    """A token for the rows after ``values`` (before them, ``backward``)."""
    fields: list[Any] = [int(field), descending, now, list(values)]
    if backward:
        fields.append(1)
    raw = json.dumps(fields, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_token(token: str, field: OrderField, descending: bool) -> tuple[int, list[Any], bool]:
    bad = CasekeeperError(
        ErrorCode.INVALID_PAGE_TOKEN,
        "pagination.pageToken is not a token this server issued for this ordering; "
        "start again without a page token",
    )
    try:
        padded = token + "=" * (-len(token) % 4)
        f, d, now, values, *rest = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError, RecursionError):  # RecursionError: a nested forgery
        raise bad from None
    if rest not in ([], [1]):
        raise bad
    if (
        f != int(field)
        or d != descending
        or not isinstance(now, int)
        or not isinstance(values, list)
    ):
        raise bad
    expected = (
        2 if field in (OrderField.UNSPECIFIED, OrderField.CREATED_AT, OrderField.UPDATED_AT) else 3
    )
    if len(values) != expected or not isinstance(values[-1], str):
        raise bad
    if not all(
        isinstance(v, int) and not isinstance(v, bool) and -(2**62) <= v <= 2**62
        for v in values[:-1]
    ):
        raise bad
    if not (isinstance(now, int) and 0 <= now <= 2**62) or len(values[-1]) > 64:
        raise bad
    return now, values, bool(rest)


def _row_values(row: Sequence[Any], field: OrderField, now: int) -> list[Any]:
    if field in (OrderField.UNSPECIFIED, OrderField.CREATED_AT):
        return sort_values(row, ("create_time", "id"))
    if field is OrderField.UPDATED_AT:
        return sort_values(row, ("update_time", "id"))
    create_time, case_id = sort_values(row, ("create_time", "id"))
    if field is OrderField.DURATION:
        (end,) = sort_values(row, ("end_time",))
        main = (end if end is not None else now) - create_time
    else:
        names = {OrderField.PRIORITY: "priority", OrderField.STATUS: "status",
                 OrderField.SEVERITY: "severity"}  # fmt: skip
        (main,) = sort_values(row, (names.get(field, "category"),))
        if field is OrderField.SEVERITY:
            main = severity_rank(main)
    return [main, create_time, case_id]


def _merge(
    keys: list[SortKey],
    where: Sequence[ColumnElement[bool]],
    pairs: Sequence[tuple[Any, Any]],
    arm_limit: Any = None,
) -> sa.Select[Any] | sa.CompoundSelect[Any]:
    """The merge of per-(status, priority) arms projecting only the sort key: a ``UNION ALL``
    under the page's ORDER BY, so the database merges the index-ordered arms lazily and stops
    at the page's end instead of producing a page from every arm and sorting them.

    SQLite plans flat arms as MERGE (UNION ALL) co-routines (an arm with its own LIMIT would
    need a subquery, which it materializes and sorts). PostgreSQL needs ``arm_limit`` (the
    page's end) on each arm: then it walks each arm's index with a nested-loop probe of the
    tags and runs a Merge Append over them; without it, it hash-joins the whole tag table."""
    projected = [getattr(c.c, k.column) for k in keys]
    arms = [
        sa.select(*projected).where(*where, c.c.status == s, c.c.priority == p) for s, p in pairs
    ]
    if arm_limit is not None and len(arms) > 1:
        arms = [arm.order_by(*_order_by(keys)).limit(arm_limit) for arm in arms]
    if len(arms) == 1:
        return arms[0].order_by(*_order_by(keys))
    union = sa.union_all(*arms)
    cols = union.selected_columns
    outer = [SortKey(cols[k.column], k.ascending, k.column) for k in keys]
    return union.order_by(*_order_by(outer))


# Every column in table order, with the signal detail (``doc``) left out: a list that shows no
# labels, indicators or entities skips decoding them (most of a row's cost).
LIGHT: Final = tuple(sa.null().label("doc") if col.name == "doc" else col for col in c.columns)


def _columns(light: bool) -> Sequence[Any]:
    return LIGHT if light else CASE_SELECT


def _page_rows(
    keys: list[SortKey],
    merged: sa.Select[Any] | sa.CompoundSelect[Any],
    limit: Any,
    offset: Any,
    light: bool = False,
) -> sa.Select[Any]:
    """Full rows of the merge's page: its ids, limited, joined back to ``case`` by primary
    key (only the page's rows are read), in the page's order."""
    page = merged.limit(limit).offset(offset).subquery("page")
    outer = [SortKey(page.c[k.column], k.ascending, k.column) for k in keys]
    stmt = sa.select(*_columns(light)).join_from(page, c, c.c.id == page.c.id)
    return stmt.order_by(*_order_by(outer))


# Page statements by query shape, built and compiled once with bound parameters: building the
# expression tree of a 4-arm merge cost more than running it. Only the common filters (status,
# priority, groupings, labels) are cached; any other filter builds its statement per call.
_SHAPES: dict[tuple[Any, ...], Prepared] = {}
_SHAPES_MAX = 512
_PLAIN = CaseFilters()


def _arm_limits(conn: sa.Connection) -> bool:
    return conn.dialect.name != "sqlite"  # see _merge


def _cached_page(
    f: CaseFilters,
    keys: list[SortKey],
    cursor: list[Any] | None,
    npairs: int,
    arm_limits: bool,
    light: bool,
) -> Prepared | None:
    if f != dataclasses.replace(
        _PLAIN, statuses=f.statuses, priorities=f.priorities, groupings=f.groupings,
        labels=f.labels,
    ) or len(f.groupings) > MANY_GROUPS or len(f.labels) > MANY_GROUPS:  # fmt: skip
        return None
    gshape = tuple(len(g.values) for g in f.groupings)
    lshape = tuple(len(g.values) for g in f.labels)
    order = tuple((k.column, k.ascending) for k in keys)
    shape = (order, cursor is not None, npairs, gshape, lshape, arm_limits, light)
    prepared = _SHAPES.get(shape)
    if prepared is None:
        where: list[ColumnElement[bool]] = [c.c.space_id == sa.bindparam("space_id")]
        if cursor is not None:
            after = [sa.bindparam(f"after{i}", type_=k.expr.type) for i, k in enumerate(keys)]
            where.append(beyond(keys, after))
        where += bound_groups(tags.GROUPING, gshape) + bound_groups(tags.LABEL, lshape)
        pairs: list[tuple[Any, Any]] = [
            (sa.bindparam(f"s{i}"), sa.bindparam(f"p{i}")) for i in range(npairs)
        ]
        arm_limit: Any = sa.bindparam("arm_limit") if arm_limits else None
        merged = _merge(keys, where, pairs, arm_limit)
        stmt = _page_rows(keys, merged, sa.bindparam("limit"), sa.bindparam("offset"), light)
        if len(_SHAPES) >= _SHAPES_MAX:
            _SHAPES.clear()
        # PostgreSQL must see the page size and the filter values when it plans: planned for
        # parameters, it hash-joined every tag (131 ms, not 2). They are written into the
        # statement (one prepared statement per set of values, planned once); the space and
        # the cursor stay parameters.
        keep = ("space_id", *(f"after{i}" for i in range(len(keys))))
        prepared = _SHAPES[shape] = Prepared(stmt, server_prepare=False, inline_except=keep)
    return prepared


def merged_page(
    conn: sa.Connection,
    space_id: int,
    f: CaseFilters,
    base: list[ColumnElement[bool]],
    keys: list[SortKey],
    cursor: list[Any] | None,
    pairs: list[tuple[CaseStatus, CasePriority]],
    limit: int,
    skip: int,
    light: bool,
) -> Sequence[Sequence[Any]]:
    """The page's rows from the merge of per-(status, priority) arms."""
    arm_limits = _arm_limits(conn)
    cached = _cached_page(f, keys, cursor, len(pairs), arm_limits, light)
    if cached is None:
        where = [*base, *filter_clauses(f, with_status_priority=False)]
        ends = limit + skip if arm_limits else None
        merged = _merge(keys, where, [(int(s), int(p)) for s, p in pairs], ends)
        return list(conn.execute(_page_rows(keys, merged, limit, skip, light)))
    params: dict[str, Any] = {
        "space_id": space_id,
        "arm_limit": limit + skip,
        "limit": limit,
        "offset": skip,
        **group_params(tags.GROUPING, f.groupings),
        **group_params(tags.LABEL, f.labels),
    }
    for i, (s, p) in enumerate(pairs):
        params[f"s{i}"], params[f"p{i}"] = int(s), int(p)
    for i, value in enumerate(cursor or ()):
        params[f"after{i}"] = value
    # A page after a cursor: the cursor's values cannot change the right plan, but PostgreSQL
    # would plan it at every call (it estimates the one plan for all values as dearer).
    return cached.rows(conn, params, generic=cursor is not None)


def list_cases(
    conn: sa.Connection, space_id: int, query: CaseQuery, now: int
) -> tuple[list[Case], str | None]:
    cases, after, _ = list_page(conn, space_id, query, now)
    return cases, after


def list_page(
    conn: sa.Connection, space_id: int, query: CaseQuery, now: int, *, light: bool = False
) -> tuple[list[Case], str | None, str | None]:
    """A page of cases, a token for the page after it and one for the page before it (None
    where there is none). ``query.page.backward`` (or a token made going backward) reads the
    page before the token, or the last page without one, in the same order. ``light`` cases
    come without their signal detail (labels, groupings, impacted entities, indicators, KPI
    breaches, AI summary: empty), for lists that show none of it."""
    order, page, f = query.order, query.page, query.filters
    descending = order.descending
    field = order.field
    cursor: list[Any] | None = None
    backward = page.backward
    if page.token:
        now, cursor, token_backward = decode_token(page.token, field, descending)
        backward = backward or token_backward
    keys = sort_keys(field, descending, now)
    if backward:  # the exact reverse order; the rows are turned back below
        keys = [SortKey(k.expr, not k.ascending, k.column) for k in keys]
    limit = page.size + 1
    base = [c.c.space_id == space_id]
    if cursor is not None:
        base.append(beyond(keys, cursor))

    time_order = field in (OrderField.UNSPECIFIED, OrderField.CREATED_AT, OrderField.UPDATED_AT)
    statuses = list(f.statuses) or _ALL_STATUSES
    priorities = list(f.priorities) or ALL_PRIORITIES
    pairs = [(s, p) for s in dict.fromkeys(statuses) for p in dict.fromkeys(priorities)]
    # Update time is indexed only per (status, priority) (a case's update moves one index entry,
    # not two), so an update-ordered list always merges, over all 25 pairs if need be.
    by_update = field is OrderField.UPDATED_AT
    merge = (
        time_order and (by_update or bool(f.statuses or f.priorities))
        and len(pairs) <= MAX_MERGE_BRANCHES
    )  # fmt: skip

    by_priority = (
        field is OrderField.PRIORITY and not page.skip and len(statuses) <= MAX_MERGE_BRANCHES
    )
    if merge:
        rows = merged_page(conn, space_id, f, base, keys, cursor, pairs, limit, page.skip, light)
    elif by_priority:
        rows = case_urgency.page_by_priority(
            conn, space_id, f, list(dict.fromkeys(statuses)), cursor, urgent_first=descending,
            backward=backward, limit=limit, now=now, light=light,
        )  # fmt: skip
    else:
        stmt = sa.select(*_columns(light)).where(*base, *filter_clauses(f))
        stmt = stmt.order_by(*_order_by(keys))
        rows = list(conn.execute(stmt.limit(limit).offset(page.skip or None)))
    more = len(rows) > page.size
    rows = list(rows[: page.size])
    if backward:
        rows.reverse()
    after = before = None
    if rows:
        first = _row_values(rows[0], field, now)
        last = _row_values(rows[-1], field, now)
        # The side this read went towards has rows if it found more than a page; the side
        # it came from has rows if it started at a token (or skipped some).
        came_from_somewhere = cursor is not None or page.skip > 0
        rows_after = came_from_somewhere if backward else more
        rows_before = more if backward else came_from_somewhere
        if rows_after:
            after = encode_token(field, descending, now, last)
        if rows_before:
            before = encode_token(field, descending, now, first, backward=True)
    return [row_to_case(r) for r in rows], after, before
