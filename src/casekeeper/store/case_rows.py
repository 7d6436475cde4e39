"""A case from its row: every ``case`` column in table order, decoded with shared immutable
values (enum members, priority details, label pairs, large signal detail) so a page of rows
costs little."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any, Final

import orjson
import sqlalchemy as sa

from casekeeper.domain.enums import CaseCategory, CasePriority, CaseStatus, ResolverKind, Severity
from casekeeper.domain.model import Case, KeyValue, PriorityDetails, ResolutionDetails
from casekeeper.domain.versioned import Key, VersionedCache
from casekeeper.store.schema import case as c

CASE_COLUMNS = tuple(c.columns)
# What a read selects: every column, the signal detail as its JSON text (neither SQLAlchemy nor
# psycopg decodes it then), so ``row_to_case`` can take it decoded from ``DOCS`` instead.
CASE_SELECT: Final = tuple(
    sa.cast(col, sa.Text).label("doc") if col.name == "doc" else col for col in c.columns
)


_NAMES = tuple(col.name for col in c.columns)
_AT = {name: i for i, name in enumerate(_NAMES)}
(
    _ID, _SPACE, _NUMBER, _TITLE, _STATUS, _PRIORITY_SYSTEM, _OVERRIDE, _CATEGORY, _ASSIGNEE,
    _CREATE, _UPDATE, _ACK, _RESOLVE, _REASON, _RESOLVED_BY, _END, _DOC, _VERSION,
) = (
    _AT[n] for n in (
        "id", "space_id", "number", "title", "status", "priority_system", "priority_override",
        "category", "assignee", "create_time", "update_time", "acknowledge_time", "resolve_time",
        "resolution_reason", "resolved_by", "end_time", "doc", "version",
    )
)  # fmt: skip

# Enum members by stored value: a dict lookup costs a fraction of calling the Enum class.
STATUS_OF = {int(x): x for x in CaseStatus}
PRIORITY_OF = {int(x): x for x in CasePriority}
CATEGORY_OF = {int(x): x for x in CaseCategory}
_RESOLVERS = {x.value: x for x in ResolverKind}
# Every (system, override) pair as one shared immutable PriorityDetails.
_DETAILS: dict[tuple[int, int | None], PriorityDetails] = {
    (int(system), None if override is None else int(override)): PriorityDetails(system, override)
    for system in CasePriority
    for override in (None, *CasePriority)
}
_NO_DOC: dict[str, Any] = {}
_ASSIGNEES, _DESCRIPTION, _TAGS, _EXTENSIONS, _SEVERITY, _ON_HOLD = (
    _AT[n] for n in ("assignees", "description", "tags", "extensions", "severity", "on_hold")
)
SEVERITY_OF = {int(x): x for x in Severity}
_NO_EXTENSIONS: Mapping[str, Any] = MappingProxyType({})  # shared by every case without any


def _assignees(row: Sequence[Any]) -> tuple[str, ...]:
    return tuple(orjson.loads(row[_ASSIGNEES]))


def _one(assignee: str | None) -> tuple[str, ...]:
    return () if assignee is None else (assignee,)


# Label and grouping pairs repeat across cases (environment=production, service=checkout): one
# immutable KeyValue per distinct pair instead of a new object per pair per row read.
_PAIRS: dict[tuple[str, str], KeyValue] = {}
_PAIRS_MAX = 50_000


def _pairs(items: Any) -> tuple[KeyValue, ...]:
    out = []
    for k, v in items:
        key = (k, v)
        kv = _PAIRS.get(key)
        if kv is None:
            if len(_PAIRS) >= _PAIRS_MAX:
                _PAIRS.clear()
            kv = _PAIRS[key] = KeyValue(k, v)
        out.append(kv)
    return tuple(out)


# True while a write transaction runs in this context: what it reads may never commit.
WRITING: ContextVar[bool] = ContextVar("casekeeper_writing", default=False)


class DecodedDocs:
    """Large signal detail decoded, by (case id, version, update time): an alert group's case
    carries one indicator per alert, and the busiest lists show the same open groups again
    and again (docs/PERFORMANCE.md, the headline). ``budget`` bounds the JSON text held; the
    decoded objects take a few times that (docs/SCALING.md). The decoded values (indicators,
    impacted entities, KPI breaches, Olly analysis) are shared between cases: read-only by
    convention, as everything that edits them copies first. A write transaction may take
    what is here but never adds to it."""

    def __init__(self, budget: int, *, largest: int, smallest: int = 1024) -> None:
        self.smallest = smallest
        self.cache: VersionedCache[dict[str, Any]] = VersionedCache(budget, largest)

    def decode(self, key: Key, text: str | bytes) -> dict[str, Any]:
        if len(text) < self.smallest:
            return orjson.loads(text)  # type: ignore[no-any-return]
        doc = self.cache.get(key)
        if doc is None:
            doc = orjson.loads(text)
            if not WRITING.get():
                self.cache.put(key, doc, len(text))
        return doc


# A Prometheus group at its cap of alerts (signal_indicators.MAX_ALERTS) fits in ``largest``.
DOCS: Final = DecodedDocs(8 * 2**20, largest=2**20)


def row_to_case(row: Sequence[Any]) -> Case:
    """A case from a row of every ``case`` column in table order (a DBAPI tuple or a Row)."""
    doc = row[_DOC]
    if doc is None:
        doc = _NO_DOC
    elif isinstance(doc, str | bytes):
        doc = DOCS.decode((row[_ID], row[_VERSION], row[_UPDATE]), doc)
    resolve_time, reason = row[_RESOLVE], row[_REASON]
    resolution = None
    if resolve_time is not None or reason is not None:
        resolved_by = row[_RESOLVED_BY]
        resolution = ResolutionDetails(
            reason=reason,
            resolve_time=resolve_time,
            resolved_by=_RESOLVERS[resolved_by] if resolved_by else None,
        )
    get = doc.get
    return Case(
        id=row[_ID],
        space_id=row[_SPACE],
        number=row[_NUMBER],
        title=row[_TITLE],
        status=STATUS_OF[row[_STATUS]],
        priority=_DETAILS[row[_PRIORITY_SYSTEM], row[_OVERRIDE]],
        category=CATEGORY_OF[row[_CATEGORY]],
        assignees=_assignees(row) if row[_ASSIGNEES] else _one(row[_ASSIGNEE]),
        create_time=row[_CREATE],
        update_time=row[_UPDATE],
        acknowledge_time=row[_ACK],
        resolution=resolution,
        end_time=row[_END],
        labels=_pairs(get("labels", ())),
        groupings=_pairs(get("groupings", ())),
        impacted_entities=tuple(get("impactedEntities", ())),
        indicators=get("caseIndicators") or {},
        kpi_breaches=tuple(get("kpiBreaches", ())),
        ai_summary=get("aiSummary"),
        olly_analysis=get("ollyAnalysis"),
        description=row[_DESCRIPTION],
        tags=tuple(orjson.loads(row[_TAGS])) if row[_TAGS] else (),
        severity=SEVERITY_OF[row[_SEVERITY]],
        on_hold=bool(row[_ON_HOLD]),
        extensions=orjson.loads(row[_EXTENSIONS]) if row[_EXTENSIONS] else _NO_EXTENSIONS,
        version=row[_VERSION],
    )
