"""The Case aggregate and its value objects.

Times are integer microseconds since the Unix epoch (UTC): exact, cheap to compare, and the same
on every database. Signal detail (indicators, impacted entities, KPI breaches, Olly analysis) is
kept in the spec's JSON shape (camelCase), validated at the edge against the protobuf schema.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from casekeeper.domain.enums import CaseCategory, CasePriority, CaseStatus, ResolverKind, Severity

Json = dict[str, Any]
Micros = int

READABLE_PREFIX = "CASE"
OPEN_STATUSES = frozenset(
    {CaseStatus.PENDING_ACTIVATION, CaseStatus.ACTIVE, CaseStatus.ACKNOWLEDGED}
)
# Canonical limits (docs/MODEL.md): Kibana's, the strictest of the dialects that have them.
MAX_ASSIGNEES = 10
MAX_DESCRIPTION = 30_000
MAX_TAGS = 200
MAX_TAG = 256
MAX_TITLE = 512
MAX_REASON = 4096
MAX_EXTENSIONS = 16  # namespaces (dialects) per case


@dataclass(frozen=True, slots=True)
class KeyValue:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class PriorityDetails:
    system: CasePriority
    override: CasePriority | None = None

    @property
    def effective(self) -> CasePriority:
        return self.override if self.override is not None else self.system


@dataclass(frozen=True, slots=True)
class ResolutionDetails:
    reason: str | None = None
    resolve_time: Micros | None = None
    resolved_by: ResolverKind | None = None


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    space_id: int
    title: str
    status: CaseStatus
    priority: PriorityDetails
    category: CaseCategory
    create_time: Micros
    update_time: Micros
    number: int | None = None
    assignees: tuple[str, ...] = ()  # user ids, in the order they were assigned
    acknowledge_time: Micros | None = None
    resolution: ResolutionDetails | None = None
    end_time: Micros | None = None  # when the case stopped being open (resolve or close)
    labels: tuple[KeyValue, ...] = ()
    groupings: tuple[KeyValue, ...] = ()
    impacted_entities: tuple[Json, ...] = ()
    indicators: Json = field(default_factory=dict)
    kpi_breaches: tuple[Json, ...] = ()
    ai_summary: str | None = None
    olly_analysis: Json | None = None
    description: str | None = None
    tags: tuple[str, ...] = ()  # distinct, in the order they were added
    severity: Severity = Severity.UNKNOWN
    on_hold: bool = False  # only while ACKNOWLEDGED
    # Dialect-only fields, by dialect (``{"kibana": {"owner": ...}}``): kept and given back,
    # never interpreted by the domain.
    extensions: Mapping[str, Json] = field(default_factory=dict)
    version: int = 1

    @property
    def assignee(self) -> str | None:
        """The first assignee: what a dialect with one assignee per case shows."""
        return self.assignees[0] if self.assignees else None

    @property
    def readable_id(self) -> str | None:
        return None if self.number is None else f"{READABLE_PREFIX}-{self.number}"

    @property
    def effective_priority(self) -> CasePriority:
        return self.priority.effective

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def duration_ms(self, now: Micros) -> int:
        """Milliseconds the case is (or was, once resolved or closed) open."""
        end = self.end_time if self.end_time is not None else now
        return max(0, end - self.create_time) // 1000


_CASE_FIELDS = tuple(f.name for f in fields(Case))
_CASE_FIELD_SET = frozenset(_CASE_FIELDS)
_set = object.__setattr__


def evolve(case: Case, **changes: Any) -> Case:
    """``dataclasses.replace(case, **changes)`` at half its cost: a bulk operation makes one new
    case per row, and ``replace`` runs the generated ``__init__`` with every field by keyword.
    It bypasses ``__init__``, so ``Case`` must never rely on a ``__post_init__`` check: rules
    live in the lifecycle and the service."""
    if not changes.keys() <= _CASE_FIELD_SET:
        raise TypeError(f"Case has no field {sorted(changes.keys() - _CASE_FIELD_SET)[0]!r}")
    new = object.__new__(Case)
    for name in _CASE_FIELDS:
        _set(new, name, changes[name] if name in changes else getattr(case, name))
    return new


_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_READABLE_RE = re.compile(r"^([A-Za-z]+)-([0-9]{1,18})$")


@dataclass(frozen=True, slots=True)
class CaseRef:
    """A parsed case reference: either a UUID or a readable number."""

    raw: str
    uuid: str | None = None
    number: int | None = None


def parse_case_ref(raw: str) -> CaseRef | None:
    """Parse ``raw`` as a case UUID or readable id (``CASE-123``, case-insensitive).

    Returns ``None`` for a well-formed string that can name no case (so callers answer
    NOT_FOUND); raises nothing. Length and emptiness are checked by the caller.
    """
    text = raw.strip()
    lowered = text.lower()
    if _UUID_RE.fullmatch(lowered):
        return CaseRef(raw=raw, uuid=lowered)
    m = _READABLE_RE.fullmatch(text)
    if m and m.group(1).upper() == READABLE_PREFIX:
        return CaseRef(raw=raw, number=int(m.group(2)))
    return None


def labels_from(pairs: Mapping[str, str] | list[tuple[str, str]]) -> tuple[KeyValue, ...]:
    items = pairs.items() if isinstance(pairs, Mapping) else pairs
    return tuple(KeyValue(k, v) for k, v in items)
