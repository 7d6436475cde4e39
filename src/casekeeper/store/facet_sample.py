"""Facet counts under filters the tallies cannot answer (text, time ranges, tag filters, alert
ids, KPIs, …), in bounded time: the cases are examined through an index, at most ``SAMPLE``
of them. When every candidate fits, the answer is exact; otherwise it is an estimate from a
sample stratified by (status, priority), each stratum's newest cases standing for all of it,
and says so (``FilterValues.estimated``)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from casekeeper.domain.enums import DateRangeMode
from casekeeper.domain.query import CaseFilters, FilterGroup, FilterValues
from casekeeper.store import driver, tags
from casekeeper.store.case_filters import filter_clauses
from casekeeper.store.facet_counts import Facets
from casekeeper.store.schema import case as c
from casekeeper.store.schema import case_tag as t
from casekeeper.store.schema import case_tag_tally as tt
from casekeeper.store.schema import case_tally as ct

SAMPLE = 1200  # cases examined at most (10 to 30 ms of work on either database)
RUNS = 8  # runs of consecutive cases per (status, priority) stratum
MAX_PROBES = 4  # index probes tried for an exact answer before sampling
_MAX_VALUES = 64  # a tag group with more values is not used to find candidates


def bounded(conn: sa.Connection, space_id: int, f: CaseFilters) -> FilterValues:
    few = _few(conn, space_id, f)
    if few is not None:
        return _exact(conn, space_id, f, few)
    return _estimate(conn, space_id, f)


def _exact(conn: sa.Connection, space_id: int, f: CaseFilters, ids: Sequence[str]) -> FilterValues:
    """Every candidate checked against ``f``: exact counts."""
    facets = Facets()
    found: list[str] = []
    for case_id, status, priority, category, assignee in _matching(conn, space_id, f, ids):
        facets.case(status, priority, category, assignee, 1)
        found.append(case_id)
    _tags(conn, facets, f, found, lambda _: 1.0)
    return facets.result(alert_ids=f.alert_filters_present, sampled=len(set(ids)))


def _matching(
    conn: sa.Connection, space_id: int, f: CaseFilters, ids: Sequence[str]
) -> Iterable[tuple[str, int, int, int, str | None]]:
    """(id, status, priority, category, assignee) of the cases of ``ids`` matching ``f``."""
    stmt = sa.select(c.c.id, c.c.status, c.c.priority, c.c.category, c.c.assignee)
    clauses = filter_clauses(f)
    for chunk in _chunks(sorted(set(ids))):
        among = _among(conn, c.c.id, chunk)
        rows = conn.execute(stmt.where(c.c.space_id == space_id, among, *clauses))
        for row in rows:
            yield row[0], row[1], row[2], row[3], row[4]


def _estimate(conn: sa.Connection, space_id: int, f: CaseFilters) -> FilterValues:
    """A sample of about ``SAMPLE`` cases, stratified by (status, priority) with each stratum's
    share taken from the tally, and in each stratum ``RUNS`` runs of consecutive cases from
    evenly spaced creation times (inside ``f``'s creation window, if any), so old and new cases
    are both seen. Each case sampled stands for its stratum's size over its sample count."""
    first, last = _span(conn, space_id)
    lo, hi = _window(f, first, last)
    facets = Facets()
    if hi < lo:
        return facets.result(alert_ids=f.alert_filters_present)  # no case in the window
    share = 1.0 if last <= first else (hi - lo + 1) / (last - first + 1)
    strata = _strata(conn, space_id, f)
    total = sum(n for _, _, n in strata)
    plan: list[tuple[int, int, int, int, int]] = []  # stratum, status, priority, from, cases
    for j, (status, priority, n) in enumerate(strata):
        k = max(1, math.ceil(SAMPLE * n / total))
        runs = min(RUNS, k)
        for r in range(runs):
            start = lo + int((r + 0.5) * (hi - lo) / runs) if runs > 1 else lo
            plan.append((j, status, priority, start, math.ceil(k / runs)))
    stratum: dict[str, int] = {}
    hits: dict[str, tuple[int, Any, Any]] | None = None
    if conn.dialect.name == "postgresql" and not _tagged_filter(f):
        hits = {}
        for case_id, j, category, assignee, hit in conn.execute(_lateral(space_id, f, plan)):
            if stratum.setdefault(case_id, j) == j and hit:
                hits[case_id] = (j, category, assignee)
    elif conn.dialect.name == "postgresql":
        for case_id, j, *_ in conn.execute(_lateral(space_id, CaseFilters(), plan)):
            stratum.setdefault(case_id, j)
    else:
        for case_id, j in _runs(conn, space_id, plan):
            stratum.setdefault(case_id, j)
    per = [0] * len(strata)
    for j in stratum.values():
        per[j] += 1
    weights = [n * share / per[j] if per[j] else 0.0 for j, (_, _, n) in enumerate(strata)]
    found: dict[str, float] = {}
    if hits is None:
        matched = _matching(conn, space_id, f, list(stratum))
        for case_id, status, priority, category, assignee in matched:
            w = found[case_id] = weights[stratum[case_id]]
            facets.case(status, priority, category, assignee, w)
    else:
        for case_id, (j, category, assignee) in hits.items():
            status, priority, _ = strata[j]
            found[case_id] = weights[j]
            facets.case(status, priority, category, assignee, weights[j])
    _tags(conn, facets, f, list(found), found.__getitem__)
    return facets.result(alert_ids=f.alert_filters_present, estimated=True, sampled=len(stratum))


def _tagged_filter(f: CaseFilters) -> bool:
    """Whether ``f`` tests case tags: PostgreSQL then hashes every tag row of the value once
    per run (a hashed subplan), so the matches are checked after the sample is drawn."""
    return bool(
        f.groupings
        or f.labels
        or f.flat_labels
        or f.tags
        or f.tags_all
        or f.alert_ids
        or f.alert_versions
        or f.impacted_services
        or f.impacted_databases
    )


def _runs(
    conn: sa.Connection, space_id: int, plan: Sequence[tuple[int, int, int, int, int]]
) -> Iterable[tuple[str, int]]:
    """(case id, stratum) of every run of ``plan``, one UNION ALL of them (SQLite: building
    ~200 subqueries as expressions cost more than running them, hence the SQL text, the
    store's own names with every value bound)."""
    mark = driver.mark(conn)
    where = f"space_id = {mark} AND status = {mark} AND priority = {mark} AND create_time >= {mark}"
    for i in range(0, len(plan), 400):  # at most 500 terms in one compound SELECT
        parts: list[str] = []
        params: list[int] = []
        for j, status, priority, start, n in plan[i : i + 400]:
            parts.append(
                f'SELECT * FROM (SELECT id, {j} FROM "case" WHERE {where} '  # noqa: S608
                f"ORDER BY create_time LIMIT {mark}) r{len(parts)}"
            )
            params += [space_id, status, priority, start, n]
        for case_id, j in driver.fetch(conn, " UNION ALL ".join(parts), params):
            yield case_id, j


def _lateral(
    space_id: int, f: CaseFilters, plan: Sequence[tuple[int, int, int, int, int]]
) -> sa.Select[Any]:
    """PostgreSQL: every run of ``plan`` in one statement (a lateral index scan per run),
    each case with whether it matches ``f``: one plan instead of one per run."""
    runs = sa.values(
        sa.column("j", sa.Integer), sa.column("st", sa.SmallInteger),
        sa.column("pr", sa.SmallInteger), sa.column("t0", sa.BigInteger),
        sa.column("lim", sa.Integer), name="runs",
    ).data(list(plan))  # fmt: skip
    clauses = filter_clauses(f)
    hit = sa.and_(*clauses) if clauses else sa.true()
    run = (
        sa.select(c.c.id, c.c.category, c.c.assignee, hit.label("hit"))
        .where(c.c.space_id == space_id, c.c.status == runs.c.st, c.c.priority == runs.c.pr,
               c.c.create_time >= runs.c.t0)
        .order_by(c.c.create_time)
        .limit(runs.c.lim)
        .lateral("run")
    )  # fmt: skip
    return sa.select(run.c.id, runs.c.j, run.c.category, run.c.assignee, run.c.hit).select_from(
        runs.join(run, sa.true())
    )


def _tags(
    conn: sa.Connection, facets: Facets, f: CaseFilters, ids: Sequence[str],
    weight: Callable[[str], float],
) -> None:  # fmt: skip
    kinds = [tags.GROUPING, tags.LABEL, *([tags.ALERT_ID] if f.alert_filters_present else [])]
    for chunk in _chunks(ids):
        stmt = sa.select(t.c.case_id, t.c.kind, t.c.key, t.c.value).where(
            _among(conn, t.c.case_id, chunk), t.c.kind.in_(kinds)
        )
        for case_id, kind, key, value in conn.execute(stmt):
            facets.tag(kind, key, value, weight(case_id))


def _span(conn: sa.Connection, space_id: int) -> tuple[int, int]:
    """The first and last creation times in the space (two ix_case_space_create seeks)."""
    ends = [
        sa.select(c.c.create_time).where(c.c.space_id == space_id).order_by(o).limit(1)
        for o in (c.c.create_time, c.c.create_time.desc())
    ]
    first, last = (conn.execute(e).scalar() for e in ends)
    return int(first or 0), int(last or 0)


def _window(f: CaseFilters, first: int, last: int) -> tuple[int, int]:
    """The creation times a case matching ``f`` can have, within [first, last]."""
    dr = f.date_range
    if dr is None:
        return first, last
    if dr.mode is DateRangeMode.CREATED_AT:
        return max(first, dr.start), min(last, dr.end)
    return first, min(last, dr.end)


def _strata(conn: sa.Connection, space_id: int, f: CaseFilters) -> list[tuple[int, int, int]]:
    """(status, priority, cases) of ``f``'s statuses and priorities, from case_tally."""
    where = [ct.c.space_id == space_id]
    if f.statuses:
        where.append(ct.c.status.in_(sorted({int(s) for s in f.statuses})))
    if f.priorities:
        where.append(ct.c.priority.in_(sorted({int(p) for p in f.priorities})))
    stmt = (
        sa.select(ct.c.status, ct.c.priority, sa.func.sum(ct.c.n))
        .where(*where)
        .group_by(ct.c.status, ct.c.priority)
        .order_by(ct.c.status, ct.c.priority)
    )
    return [(int(s), int(p), int(n)) for s, p, n in conn.execute(stmt) if n]


def _few(conn: sa.Connection, space_id: int, f: CaseFilters) -> list[str] | None:
    """Every case ``f`` can match, if some index finds at most ``SAMPLE`` of them: a tag
    filter the tally sizes, or an index probe; None when none does."""
    best: tuple[int, sa.Select[Any]] | None = None
    for kind, group in _tag_groups(f):
        size = _tag_size(conn, space_id, kind, group)
        if size <= SAMPLE and (best is None or size < best[0]):
            best = (size, _tagged(space_id, kind, group))
    if best is not None:
        return list(conn.execute(best[1]).scalars())
    for probe in _probes(space_id, f)[:MAX_PROBES]:
        ids: list[str] = list(conn.execute(probe.limit(SAMPLE + 1)).scalars())
        if len(ids) <= SAMPLE:
            return ids
    strata = _strata(conn, space_id, f)
    if sum(n for _, _, n in strata) <= SAMPLE:  # a small space, or rare statuses
        stmt = sa.select(c.c.id).where(c.c.space_id == space_id, *_status_priority(f))
        return list(conn.execute(stmt).scalars())
    return None


def _status_priority(f: CaseFilters) -> list[Any]:
    out: list[Any] = []
    if f.statuses:
        out.append(c.c.status.in_(sorted({int(s) for s in f.statuses})))
    if f.priorities:
        out.append(c.c.priority.in_(sorted({int(p) for p in f.priorities})))
    return out


def _tag_groups(f: CaseFilters) -> Iterable[tuple[str, FilterGroup]]:
    """The tag filters the tallies size: groupings, labels, flat labels (by key), alert ids."""
    for g in f.groupings:
        yield tags.GROUPING, g
    for g in f.labels:
        yield tags.LABEL, g
    flat: dict[str, list[str]] = {}
    for kv in f.flat_labels:
        flat.setdefault(kv.key, []).append(kv.value)
    for key, values in flat.items():
        yield tags.LABEL, FilterGroup(key, tuple(values))
    if f.alert_ids:
        yield tags.ALERT_ID, FilterGroup("", f.alert_ids)


def _texts(group: FilterGroup) -> tuple[str, list[str]]:
    return tags.tag_text(group.key), sorted({tags.tag_text(v) for v in group.values})


def _tag_size(conn: sa.Connection, space_id: int, kind: str, group: FilterGroup) -> int:
    """Cases with ``group``'s key and one of its values (at most a few hundred tally rows per
    value); past ``_MAX_VALUES`` values, too many to count this way."""
    key, values = _texts(group)
    if len(values) > _MAX_VALUES:
        return SAMPLE + 1
    stmt = sa.select(sa.func.coalesce(sa.func.sum(tt.c.n), 0)).where(
        tt.c.space_id == space_id, tt.c.kind == kind, tt.c.key == key, tt.c.value.in_(values)
    )
    return int(conn.execute(stmt).scalar_one())


def _tagged(space_id: int, kind: str, group: FilterGroup) -> sa.Select[Any]:
    key, values = _texts(group)
    return sa.select(t.c.case_id).where(
        t.c.space_id == space_id, t.c.kind == kind, t.c.key == key, t.c.value.in_(values)
    )


def _probes(space_id: int, f: CaseFilters) -> list[sa.Select[Any]]:
    """Index lookups that may find few candidates: readable numbers, a creation window, alert
    versions, case tags, impacted entities (cheapest first)."""
    out: list[sa.Select[Any]] = []
    ids = sa.select(c.c.id).where(c.c.space_id == space_id)
    if f.numbers:
        out.append(ids.where(c.c.number.in_(sorted(set(f.numbers)))))
    dr = f.date_range
    if dr is not None:
        if dr.mode is DateRangeMode.CREATED_AT:
            out.append(ids.where(c.c.create_time.between(dr.start, dr.end)))
        else:  # active in the window: created before its end
            out.append(ids.where(c.c.create_time <= dr.end))
    if f.alert_versions:
        out.append(_tagged(space_id, tags.ALERT_VERSION, FilterGroup("", f.alert_versions)))
    if f.tags:
        out.append(_tagged(space_id, tags.TAG, FilterGroup("", f.tags)))
    for tag in f.tags_all:
        out.append(_tagged(space_id, tags.TAG, FilterGroup("", (tag,))))
    for kind, names in (("apmService", f.impacted_services),
                        ("apmDatabase", f.impacted_databases)):  # fmt: skip
        if names and not (f.impacted_services and f.impacted_databases):  # OR'ed when both
            lowered = tuple(n.lower() for n in names)
            out.append(_tagged(space_id, tags.ENTITY, FilterGroup(kind, lowered)))
    return out


def _among(conn: sa.Connection, column: Any, ids: Sequence[str]) -> Any:
    """``column`` is one of ``ids``: on PostgreSQL one array parameter (a list of a thousand
    parameters cost more to plan than to run)."""
    if conn.dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam("ids", list(ids), type_=ARRAY(sa.String)))
    return column.in_(ids)


def _chunks(items: Sequence[str], size: int = 1000) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
