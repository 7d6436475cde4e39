"""Facet counts under filters the tallies cannot answer (text, time ranges, tag filters, alert
ids, KPIs, …), in bounded time: the cases are examined through an index, at most ``SAMPLE``
of them. When every candidate fits, the answer is exact; otherwise it is an estimate from a
sample stratified by (status, priority), each stratum's newest cases standing for all of it,
and says so (``FilterValues.estimated``)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from casekeeper.domain.enums import DateRangeMode
from casekeeper.domain.query import CaseFilters, FilterGroup, FilterValues
from casekeeper.store import tags
from casekeeper.store.case_filters import filter_clauses
from casekeeper.store.facet_counts import Facets
from casekeeper.store.schema import case as c
from casekeeper.store.schema import case_tag as t
from casekeeper.store.schema import case_tag_tally as tt
from casekeeper.store.schema import case_tally as ct

SAMPLE = 4000  # cases examined at most (about 10 ms of work on either database)
MAX_PROBES = 4  # index probes tried for an exact answer before sampling
_MAX_VALUES = 64  # a tag group with more values is not used to find candidates


@dataclass(frozen=True, slots=True)
class Stratum:
    """Cases found by ``ids`` (a select of case ids through an index), ``size`` of them."""

    ids: sa.Select[Any]
    size: int


def bounded(conn: sa.Connection, space_id: int, f: CaseFilters) -> FilterValues:
    strata = _candidates(conn, space_id, f)
    total = sum(s.size for s in strata)
    weight: dict[str, float] = {}
    exact = True
    for s in strata:
        # Every candidate when they fit; otherwise each stratum's share of the sample.
        k = s.size if total <= SAMPLE else max(1, math.ceil(SAMPLE * s.size / total))
        ids: list[str] = list(conn.execute(s.ids.limit(k)).scalars())
        w = 1.0
        if len(ids) == k and k < s.size:
            w, exact = s.size / k, False
        for i in ids:
            weight.setdefault(i, w)
    facets = Facets()
    found: list[str] = []
    clauses = filter_clauses(f)
    stmt = sa.select(c.c.id, c.c.status, c.c.priority, c.c.category, c.c.assignee)
    for chunk in _chunks(sorted(weight)):
        rows = conn.execute(stmt.where(c.c.space_id == space_id, c.c.id.in_(chunk), *clauses))
        for case_id, status, priority, category, assignee in rows:
            facets.case(status, priority, category, assignee, weight[case_id])
            found.append(case_id)
    kinds = [tags.GROUPING, tags.LABEL, *([tags.ALERT_ID] if f.alert_filters_present else [])]
    for chunk in _chunks(found):
        tag_rows = sa.select(t.c.case_id, t.c.kind, t.c.key, t.c.value).where(
            t.c.case_id.in_(chunk), t.c.kind.in_(kinds)
        )
        for case_id, kind, key, value in conn.execute(tag_rows):
            facets.tag(kind, key, value, weight[case_id])
    return facets.result(
        alert_ids=f.alert_filters_present, estimated=not exact, sampled=len(weight)
    )


def _candidates(conn: sa.Connection, space_id: int, f: CaseFilters) -> list[Stratum]:
    """Strata holding every case ``f`` can match: all of them at once if some index finds
    at most ``SAMPLE`` (then the answer is exact), else the space's cases of ``f``'s statuses
    and priorities by (status, priority), newest first through ix_case_space_sp_create."""
    best: Stratum | None = None
    for kind, group in _tag_groups(f):
        size = _tag_size(conn, space_id, kind, group)
        if size <= SAMPLE and (best is None or size < best.size):
            best = Stratum(_tagged(space_id, kind, group), size)
    if best is not None:
        return [best]
    for probe in _probes(space_id, f)[:MAX_PROBES]:
        n = len(conn.execute(probe.limit(SAMPLE + 1)).all())
        if n <= SAMPLE:
            return [Stratum(probe, n)]
    where = [ct.c.space_id == space_id]
    if f.statuses:
        where.append(ct.c.status.in_(sorted({int(s) for s in f.statuses})))
    if f.priorities:
        where.append(ct.c.priority.in_(sorted({int(p) for p in f.priorities})))
    sizes = sa.select(ct.c.status, ct.c.priority, sa.func.sum(ct.c.n)).where(*where)
    sizes = sizes.group_by(ct.c.status, ct.c.priority).order_by(ct.c.status, ct.c.priority)
    out: list[Stratum] = []
    for status, priority, n in conn.execute(sizes):
        if n:
            newest = (
                sa.select(c.c.id)
                .where(c.c.space_id == space_id, c.c.status == status, c.c.priority == priority)
                .order_by(c.c.create_time.desc())
            )
            out.append(Stratum(newest, int(n)))
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


def _chunks(items: Sequence[str], size: int = 1000) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
