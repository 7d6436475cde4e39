"""CaseFilters → SQL predicates over the ``case`` table (shared by list and facet queries)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from casekeeper.domain.enums import (
    CaseStatus,
    DateRangeMode,
    EventKind,
    IndicatorType,
    KpiFilter,
)
from casekeeper.domain.events import Actor
from casekeeper.domain.query import CaseFilters, FilterGroup
from casekeeper.store import driver, tags
from casekeeper.store.event_codec import encode_actor
from casekeeper.store.schema import case as c
from casekeeper.store.schema import case_event
from casekeeper.store.schema import case_tag as t

MANY_GROUPS = 16
_INDICATOR_BITS = {
    IndicatorType.ALERT: tags.INDICATOR_ALERT,
    IndicatorType.PROMETHEUS_ALERTMANAGER: tags.INDICATOR_PROMETHEUS,
    IndicatorType.ERROR_TRACKING: tags.INDICATOR_ERROR_TRACKING,
}
_KPI_BITS = {
    KpiFilter.TIME_TO_ACKNOWLEDGE_BREACHED: tags.KPI_BITS["KPI_TYPE_TIME_TO_ACKNOWLEDGE"],
    KpiFilter.TIME_TO_RESOLVE_BREACHED: tags.KPI_BITS["KPI_TYPE_TIME_TO_RESOLVE"],
    KpiFilter.TIME_TO_UPDATE_BREACHED: tags.KPI_BITS["KPI_TYPE_TIME_TO_UPDATE"],
}


def _has_tag(kind: str, key: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    # An alias of its own, so the subquery stays correlated to ``case`` alone even when the
    # outer query also reads case_tag (facet counts).
    tag = t.alias()
    cond = [tag.c.case_id == c.c.id, tag.c.kind == kind]
    if key is not None:
        cond.append(tag.c.key == key)
    cond.append(tag.c.value == values[0] if len(values) == 1 else tag.c.value.in_(values))
    return sa.exists().where(*cond)


def _group(kind: str, group: FilterGroup) -> ColumnElement[bool]:
    return _has_tag(kind, tags.tag_text(group.key), [tags.tag_text(v) for v in group.values])


def _groups(kind: str, groups: Sequence[FilterGroup]) -> list[ColumnElement[bool]]:
    """Every group must match. A few groups are one EXISTS probe each (cheap per candidate
    row); many become one set query, since a long AND chain exceeds SQL expression limits."""
    if len(groups) <= MANY_GROUPS:
        return [_group(kind, g) for g in groups]
    pairs = {(tags.tag_text(g.key), tags.tag_text(v)) for g in groups for v in g.values}
    keys = len({tags.tag_text(g.key) for g in groups})
    tag = t.alias()
    matching = (
        sa.select(tag.c.case_id)
        .where(tag.c.kind == kind, sa.tuple_(tag.c.key, tag.c.value).in_(sorted(pairs)))
        .group_by(tag.c.case_id)
        .having(sa.func.count(sa.distinct(tag.c.key)) == keys)
    )
    return [c.c.id.in_(matching)]


def bound_groups(kind: str, shape: Sequence[int]) -> list[ColumnElement[bool]]:
    """The probes of ``_groups`` for groups of ``shape`` (values per group) with bound
    parameters ``<kind>k<j>`` / ``<kind>v<j>_<m>`` instead of values, for statements built once
    per shape (see ``group_params``)."""
    return [
        _has_tag(
            kind,
            sa.bindparam(f"{kind}k{j}", type_=t.c.key.type),
            [sa.bindparam(f"{kind}v{j}_{m}", type_=t.c.value.type) for m in range(n)],
        )
        for j, n in enumerate(shape)
    ]


def group_params(kind: str, groups: Sequence[FilterGroup]) -> dict[str, str]:
    """Values for the parameters of ``bound_groups(kind, [len(g.values) for g in groups])``."""
    out: dict[str, str] = {}
    for j, g in enumerate(groups):
        out[f"{kind}k{j}"] = tags.tag_text(g.key)
        for m, value in enumerate(g.values):
            out[f"{kind}v{j}_{m}"] = tags.tag_text(value)
    return out


def _bits(column: sa.Column[int], mask: int) -> ColumnElement[bool]:
    return column.op("&")(mask) != 0


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def filter_clauses(
    f: CaseFilters, *, with_status_priority: bool = True
) -> list[ColumnElement[bool]]:
    """Predicates for ``f``. Status and priority may be left to the caller (index merges)."""
    out: list[ColumnElement[bool]] = []
    if with_status_priority:
        if f.statuses:
            out.append(c.c.status.in_([int(s) for s in f.statuses]))
        if f.priorities:
            out.append(c.c.priority.in_([int(p) for p in f.priorities]))
    if f.categories:
        out.append(c.c.category.in_([int(x) for x in f.categories]))
    if f.assignees or f.include_unassigned:
        either: list[ColumnElement[bool]] = []
        if f.assignees:
            either.append(c.c.assignee.in_(list(f.assignees)))
        if f.include_unassigned:
            either.append(c.c.assignee.is_(None))
        out.append(sa.or_(*either))
    out.extend(_groups(tags.GROUPING, f.groupings))
    out.extend(_groups(tags.LABEL, f.labels))
    if f.flat_labels:
        by_key: dict[str, list[str]] = defaultdict(list)
        for kv in f.flat_labels:
            by_key[kv.key].append(kv.value)
        out.extend(_groups(tags.LABEL, [FilterGroup(k, tuple(v)) for k, v in by_key.items()]))
    if f.text_search:
        pattern = f"%{_like_escape(f.text_search.casefold())}%"
        found: ColumnElement[bool] = c.c.title_fold.like(pattern, escape="\\")
        if f.search_description:
            inside = sa.func.lower(c.c.description).like(pattern, escape="\\")
            found = sa.or_(found, inside)
        out.append(found)
    if f.tags:
        out.append(_group(tags.TAG, FilterGroup("", tuple(f.tags))))
    for tag in f.tags_all:
        out.append(_group(tags.TAG, FilterGroup("", (tag,))))
    if f.reporters:
        out.append(c.c.id.in_(_created_by(f.reporters)))
    if f.severities:
        out.append(c.c.severity.in_([int(x) for x in f.severities]))
    if f.numbers:
        out.append(c.c.number.in_(list(f.numbers)))
    if f.updated_range is not None:
        out.append(c.c.update_time.between(f.updated_range.start, f.updated_range.end))
    if f.on_hold is not None:
        acked = int(CaseStatus.ACKNOWLEDGED)
        out.append(sa.or_(c.c.status != acked, c.c.on_hold == f.on_hold))
    if f.date_range is not None:
        dr = f.date_range
        if dr.mode is DateRangeMode.CREATED_AT:
            out.append(c.c.create_time.between(dr.start, dr.end))
        else:
            out.append(c.c.create_time <= dr.end)
            out.append(sa.or_(c.c.end_time.is_(None), c.c.end_time >= dr.start))
    if f.indicator_types:
        mask = 0
        for it in f.indicator_types:
            mask |= _INDICATOR_BITS.get(it, 0)
        out.append(_bits(c.c.indicator_types, mask))
    if f.breached:
        mask = 0
        for k in f.breached:
            mask |= _KPI_BITS.get(k, 0)
        either = [_bits(c.c.breached_kpis, mask)] if mask else []
        if KpiFilter.NOT_BREACHED in f.breached:
            either.append(c.c.breached_kpis == 0)
        out.append(sa.or_(*either) if either else sa.false())
    if f.connector_types or f.include_no_connector:
        mask = 0
        for ct in f.connector_types:
            mask |= 1 << int(ct)
        either = [_bits(c.c.connector_types, mask)] if mask else []
        if f.include_no_connector:
            either.append(c.c.connector_types == 0)
        out.append(sa.or_(*either))
    if f.impacted_services or f.impacted_databases:
        either = []
        if f.impacted_services:
            names = [tags.tag_text(n.lower()) for n in f.impacted_services]
            either.append(_has_tag(tags.ENTITY, "apmService", names))
        if f.impacted_databases:
            names = [tags.tag_text(n.lower()) for n in f.impacted_databases]
            either.append(_has_tag(tags.ENTITY, "apmDatabase", names))
        out.append(sa.or_(*either))
    if f.alert_ids:
        out.append(_has_tag(tags.ALERT_ID, "", [tags.tag_text(x) for x in f.alert_ids]))
    if f.alert_versions:
        out.append(_has_tag(tags.ALERT_VERSION, "", [tags.tag_text(x) for x in f.alert_versions]))
    return out


def _created_by(reporters: Sequence[Actor]) -> sa.Select[tuple[str]]:
    """Ids of the cases whose creation event names one of ``reporters`` (the stored actor
    JSON is written one way, so text equality finds it)."""
    actors = sorted({driver.json_text(encode_actor(a)) for a in reporters})
    e = case_event
    return sa.select(e.c.case_id).where(
        e.c.kind == EventKind.CREATED.value, sa.cast(e.c.actor, sa.Text).in_(actors)
    )
