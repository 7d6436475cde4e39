"""The columns of ``case`` a change may write, and how each gets its value from a case."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import orjson

from casekeeper.domain.model import Case
from casekeeper.store import tags


def _json_text(value: Any) -> str | None:
    """A list or object as JSON text, or None while it is empty (no bytes for most cases)."""
    return orjson.dumps(value).decode() if value else None


def _int_or_none(value: int | None) -> int | None:
    return None if value is None else int(value)


def _resolution(case: Case, part: str) -> Any:
    res = case.resolution
    if res is None:
        return None
    value = getattr(res, part)
    return value.value if part == "resolved_by" and value is not None else value


def doc_of(case: Case) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "labels": [[kv.key, kv.value] for kv in case.labels],
        "groupings": [[kv.key, kv.value] for kv in case.groupings],
    }
    if case.impacted_entities:
        doc["impactedEntities"] = list(case.impacted_entities)
    if case.indicators:
        doc["caseIndicators"] = case.indicators
    if case.kpi_breaches:
        doc["kpiBreaches"] = list(case.kpi_breaches)
    if case.ai_summary is not None:
        doc["aiSummary"] = case.ai_summary
    if case.olly_analysis is not None:
        doc["ollyAnalysis"] = case.olly_analysis
    return doc


# Each column a change may write, and how to get its value from a case.
COLUMN_VALUE: dict[str, Callable[[Case], Any]] = {
    "title": lambda x: x.title,
    "title_fold": lambda x: x.title.casefold(),
    "status": lambda x: int(x.status),
    "priority": lambda x: int(x.priority.effective),
    "priority_system": lambda x: int(x.priority.system),
    "priority_override": lambda x: (
        None if x.priority.override is None else int(x.priority.override)
    ),
    "category": lambda x: int(x.category),
    "assignee": lambda x: x.assignee,
    "update_time": lambda x: x.update_time,
    "acknowledge_time": lambda x: x.acknowledge_time,
    "resolve_time": lambda x: _resolution(x, "resolve_time"),
    "resolution_reason": lambda x: _resolution(x, "reason"),
    "resolved_by": lambda x: _resolution(x, "resolved_by"),
    "end_time": lambda x: x.end_time,
    "number": lambda x: x.number,
    "version": lambda x: x.version,
    "assignees": lambda x: _json_text(x.assignees) if len(x.assignees) > 1 else None,
    "description": lambda x: x.description,
    "tags": lambda x: _json_text(x.tags),
    "extensions": lambda x: _json_text(x.extensions),
    "severity": lambda x: int(x.severity),
    "on_hold": lambda x: x.on_hold,
    "doc": lambda x: orjson.dumps(doc_of(x)).decode(),
    "indicator_types": tags.indicator_bits,
}
# The case fields a change may alter, each with the columns that store it.
WRITTEN: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("title", ("title", "title_fold")),
    ("status", ("status",)),
    ("priority", ("priority", "priority_system", "priority_override")),
    ("category", ("category",)),
    ("assignees", ("assignee", "assignees")),
    ("update_time", ("update_time",)),
    ("acknowledge_time", ("acknowledge_time",)),
    ("resolution", ("resolve_time", "resolution_reason", "resolved_by")),
    ("end_time", ("end_time",)),
    ("number", ("number",)),
    ("version", ("version",)),
    ("description", ("description",)),
    ("tags", ("tags",)),
    ("extensions", ("extensions",)),
    ("severity", ("severity",)),
    ("on_hold", ("on_hold",)),
    # Signal detail changes when an alert's incidents do (service/alerts.py).
    ("indicators", ("doc", "indicator_types")),
)
written_fields = operator.attrgetter(*(name for name, _ in WRITTEN))


def mutable_values(case: Case) -> dict[str, Any]:
    return {col: value(case) for col, value in COLUMN_VALUE.items()}
