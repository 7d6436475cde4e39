"""Facet counts under filters the tallies cannot answer (text, time ranges, tag filters, alert
ids, KPIs, …), in bounded time: the cases are examined through an index, at most ``SAMPLE``
of them. When every candidate fits, the answer is exact; otherwise it is an estimate from a
sample stratified by (status, priority), each stratum's newest cases standing for all of it,
and says so (``FilterValues.estimated``)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
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

SAMPLE = 1000  # cases examined at most (10 to 40 ms of work on either database)
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
    """A sample of about ``SAMPLE`` cases, stratified by (status, priority), each stratum's
    share of the sample from the tally. A stratum's creation window (``f``'s, or all time) is
    cut into ``RUNS`` equal segments, and each segment sampled by one run of consecutive cases
    from its start: a run that covers its segment counts it, one that does not estimates it
    from the run's density (cases per microsecond). So recent cases, mostly open, and old ones
    are weighed by their own numbers. Without a window, each stratum's estimates are scaled to
    its exact size."""
    first, last = _span(conn, space_id)
    lo, hi = _window(f, first, last)
    facets = Facets()
    if hi < lo:
        return facets.result(alert_ids=f.alert_filters_present)  # no case in the window
    whole = (lo, hi) == (first, last)
    strata = _strata(conn, space_id, f)
    total = sum(n for _, _, n in strata)
    plan: list[Run] = []
    for j, (status, priority, n) in enumerate(strata):
        k = max(4, math.ceil(SAMPLE * n / total))
        # Each segment is sampled from its middle both ways (its density measured where its
        # mean is): runs in pairs, a forward one over its second half, a backward one over
        # its first.
        segments = max(1, min(RUNS // 2, k // 2))
        cuts = [lo + (hi + 1 - lo) * r // segments for r in range(segments + 1)]
        each = math.ceil(k / (2 * segments))
        for r in range(segments):
            mid = (cuts[r] + cuts[r + 1]) // 2
            plan.append(Run(j, status, priority, mid, cuts[r + 1], each, False))
            plan.append(Run(j, status, priority, cuts[r], mid, each, True))
    fetched: list[list[tuple[str, int, Any, Any, bool]]] = [[] for _ in plan]
    tagged = _tagged_filter(f)
    if conn.dialect.name == "postgresql":
        # The filter in the same statement, unless it tests tags (PostgreSQL then hashes
        # every tag row of the value once per run): those are checked after.
        rows = _lateral(conn, space_id, CaseFilters() if tagged else f, plan)
        for i, case_id, at, category, assignee, hit in rows:
            fetched[i].append((case_id, at, category, assignee, bool(hit)))
    else:
        tagged = True
        for i, case_id, at in _runs(conn, space_id, plan):
            fetched[i].append((case_id, at, None, None, True))
    for run, got in zip(plan, fetched, strict=True):  # nearest the run's edge first
        got.sort(key=lambda x: x[1], reverse=run.backward)
    # Cases per run's segment: counted if the run reached the segment's end (or ran out of
    # cases), else extrapolated from the run's density.
    inside: list[list[tuple[str, int, Any, Any, bool]]] = []
    sizes: list[float] = []
    for run, got in zip(plan, fetched, strict=True):
        # A run reads one case past its sample: ``limit`` cases in the time to the next one
        # is an unbiased density (to the last one sampled, a run of 2 would double it).
        within = [x for x in got[: run.limit] if run.start <= x[1] < run.end]
        inside.append(within)
        if len(got) <= run.limit or not run.start <= got[run.limit][1] < run.end:
            sizes.append(float(len(within)))  # the run covered its segment: counted
        else:
            edge = got[run.limit][1]
            reached = run.end - edge if run.backward else edge - run.start + 1
            sizes.append(run.limit * (run.end - run.start) / max(1, reached))
    if whole:  # calibrate each stratum to its exact size
        guessed = [0.0] * len(strata)
        for run, size in zip(plan, sizes, strict=True):
            guessed[run.stratum] += size
        exact = [float(n) for _, _, n in strata]
        sizes = [
            size * exact[run.stratum] / guessed[run.stratum] if guessed[run.stratum] else 0.0
            for run, size in zip(plan, sizes, strict=True)
        ]
    weight: dict[str, float] = {}
    stratum: dict[str, int] = {}
    hits: dict[str, tuple[Any, Any]] = {}
    for run, within, size in zip(plan, inside, sizes, strict=True):
        for case_id, _, category, assignee, hit in within:
            if case_id not in weight:
                weight[case_id] = size / len(within)
                stratum[case_id] = run.stratum
                if hit:
                    hits[case_id] = (category, assignee)
    found: dict[str, float] = {}
    if tagged:
        matched = _matching(conn, space_id, f, list(hits))
        for case_id, status, priority, category, assignee in matched:
            w = found[case_id] = weight[case_id]
            facets.case(status, priority, category, assignee, w)
    else:
        for case_id, (category, assignee) in hits.items():
            status, priority, _ = strata[stratum[case_id]]
            w = found[case_id] = weight[case_id]
            facets.case(status, priority, category, assignee, w)
    _tags(conn, facets, f, list(found), found.__getitem__)
    return facets.result(alert_ids=f.alert_filters_present, estimated=True, sampled=len(weight))


@dataclass(frozen=True, slots=True)
class Run:
    """Up to ``limit`` consecutive cases of a stratum sampling [start, end): the first ones
    from ``start`` on, or with ``backward`` the last ones before ``end``."""

    stratum: int
    status: int
    priority: int
    start: int
    end: int
    limit: int
    backward: bool


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
    conn: sa.Connection, space_id: int, plan: Sequence[Run]
) -> Iterable[tuple[int, str, int]]:
    """(run, case id, creation time) of every run of ``plan`` in order, one UNION ALL (SQLite:
    building ~200 subqueries as expressions cost more than running them, hence SQL text, the
    store's own names with every value bound)."""
    mark = driver.mark(conn)
    where = f"space_id = {mark} AND status = {mark} AND priority = {mark} AND create_time"
    for i in range(0, len(plan), 400):  # at most 500 terms in one compound SELECT
        parts: list[str] = []
        params: list[int] = []
        for n, run in enumerate(plan[i : i + 400], start=i):
            way = (
                f"< {mark} ORDER BY create_time DESC"
                if run.backward
                else f">= {mark} ORDER BY create_time"
            )
            parts.append(
                f'SELECT * FROM (SELECT {n}, id, create_time FROM "case" WHERE {where} '  # noqa: S608
                f"{way} LIMIT {mark}) r{n}"
            )
            edge = run.end if run.backward else run.start
            params += [space_id, run.status, run.priority, edge, run.limit + 1]
        for n, case_id, at in driver.fetch(conn, " UNION ALL ".join(parts), params):
            yield int(n), case_id, int(at)


def _lateral(
    conn: sa.Connection, space_id: int, f: CaseFilters, plan: Sequence[Run]
) -> Iterable[Any]:
    """PostgreSQL: every run of ``plan`` in one statement (a lateral index scan per run, the
    forward runs and the backward ones apart), each case with whether it matches ``f``: one
    plan instead of one per run. The runs come as arrays (unnest), so the statement is the
    same whatever the plan and is compiled once."""
    clauses = filter_clauses(f)
    hit = sa.and_(*clauses) if clauses else sa.true()
    parts = []
    params: dict[str, list[int]] = {}
    for way, backward in (("f", False), ("b", True)):
        mine = [(i, r) for i, r in enumerate(plan) if r.backward is backward]
        columns = {
            "i": (sa.Integer, [i for i, _ in mine]),
            "st": (sa.SmallInteger, [r.status for _, r in mine]),
            "pr": (sa.SmallInteger, [r.priority for _, r in mine]),
            "edge": (sa.BigInteger, [r.end if backward else r.start for _, r in mine]),
            "lim": (sa.Integer, [r.limit + 1 for _, r in mine]),
        }
        arrays = [sa.bindparam(f"{way}{k}", type_=ARRAY(t)) for k, (t, _) in columns.items()]
        params.update({f"{way}{k}": v for k, (_, v) in columns.items()})
        runs = sa.func.unnest(*arrays).table_valued(*columns).render_derived(name=f"runs_{way}")
        at = c.c.create_time
        run = (
            sa.select(c.c.id, at, c.c.category, c.c.assignee, hit.label("hit"))
            .where(c.c.space_id == space_id, c.c.status == runs.c.st,
                   c.c.priority == runs.c.pr, at < runs.c.edge if backward else at >= runs.c.edge)
            .order_by(at.desc() if backward else at)
            .limit(runs.c.lim)
            .lateral(f"run_{way}")
        )  # fmt: skip
        cols = (runs.c.i, run.c.id, run.c.create_time, run.c.category, run.c.assignee, run.c.hit)
        parts.append(sa.select(*cols).select_from(runs.join(run, sa.true())))
    return conn.execute(sa.union_all(*parts), params)


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
