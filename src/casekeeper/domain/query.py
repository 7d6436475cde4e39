"""What a caller may ask of the case list: filters, ordering and a page request. Pure data."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from casekeeper.domain.enums import (
    CaseCategory,
    CasePriority,
    CaseStatus,
    ConnectorType,
    DateRangeMode,
    IndicatorType,
    KpiFilter,
    OrderDirection,
    OrderField,
    Severity,
)
from casekeeper.domain.errors import invalid
from casekeeper.domain.events import Actor
from casekeeper.domain.model import KeyValue, Micros

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
MAX_SKIP = 1_000_000
# Every list a filter holds is bounded, whichever dialect it came from (``CaseFilters.check``):
# unbounded lists reached the database as statements too deep for PostgreSQL's parser.
MAX_FILTER_VALUES = 1000  # values in one list, or (key, value) pairs over one kind of groups
MAX_FILTER_GROUPS = 100  # keyed groups (groupings, labels, distinct flat-label keys)
MAX_SEARCH = 4096  # characters of a search text
MAX_TOKEN = 4096  # characters of a page token


@dataclass(frozen=True, slots=True)
class FilterGroup:
    """Match cases with a pair ``key`` = any of ``values``."""

    key: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DateRange:
    start: Micros
    end: Micros
    mode: DateRangeMode = DateRangeMode.ACTIVE_WINDOW


@dataclass(frozen=True, slots=True)
class CaseFilters:
    """Different fields AND together; values inside one field OR together. Empty = no filter."""

    statuses: tuple[CaseStatus, ...] = ()
    priorities: tuple[CasePriority, ...] = ()
    categories: tuple[CaseCategory, ...] = ()
    assignees: tuple[str, ...] = ()
    include_unassigned: bool = False
    groupings: tuple[FilterGroup, ...] = ()
    labels: tuple[FilterGroup, ...] = ()
    flat_labels: tuple[KeyValue, ...] = ()
    text_search: str | None = None
    date_range: DateRange | None = None
    indicator_types: tuple[IndicatorType, ...] = ()
    breached: tuple[KpiFilter, ...] = ()
    connector_types: tuple[ConnectorType, ...] = ()
    include_no_connector: bool = False
    impacted_services: tuple[str, ...] = ()
    impacted_databases: tuple[str, ...] = ()
    alert_ids: tuple[str, ...] = ()
    alert_versions: tuple[str, ...] = ()
    alert_filters_present: bool = False
    tags: tuple[str, ...] = ()  # any of them
    tags_all: tuple[str, ...] = ()  # every one of them
    search_description: bool = False  # text_search looks in the description too
    reporters: tuple[Actor, ...] = ()  # who created the case: any of them
    severities: tuple[Severity, ...] = ()
    numbers: tuple[int, ...] = ()  # readable ids' numbers (CASE-12 is 12): any of them
    updated_range: DateRange | None = None  # last update within [start, end]
    # Acknowledged cases only if on hold (True) or only if not (False); others unaffected.
    on_hold: bool | None = None

    def check(self) -> None:
        """Refuse filters past ``MAX_FILTER_VALUES`` / ``MAX_FILTER_GROUPS``, a search text past
        ``MAX_SEARCH`` or a date range that ends before it starts, naming the field."""
        lists: dict[str, tuple[object, ...]] = {
            "statuses": self.statuses,
            "priorities": self.priorities,
            "categories": self.categories,
            "assignees": self.assignees,
            "indicator_types": self.indicator_types,
            "breached": self.breached,
            "connector_types": self.connector_types,
            "impacted_entities": self.impacted_services + self.impacted_databases,
            "alert_ids": self.alert_ids,
            "alert_versions": self.alert_versions,
            "tags": self.tags + self.tags_all,
            "reporters": self.reporters,
            "severities": self.severities,
            "numbers": self.numbers,
        }
        for name, values in lists.items():
            _at_most(name, len(values), MAX_FILTER_VALUES, "values")
        for name, groups in (("groupings", self.groupings), ("labels", self.labels)):
            _at_most(name, len(groups), MAX_FILTER_GROUPS, "groups")
            _at_most(name, sum(len(g.values) for g in groups), MAX_FILTER_VALUES, "values")
        _at_most("flat_labels", len(self.flat_labels), MAX_FILTER_VALUES, "values")
        keys = len({kv.key for kv in self.flat_labels})
        _at_most("flat_labels", keys, MAX_FILTER_GROUPS, "keys")
        texts: dict[str, Iterable[str]] = {
            "filters.text_search": () if self.text_search is None else (self.text_search,),
            "filters.assignees": self.assignees,
            "filters.impacted_entities": self.impacted_services + self.impacted_databases,
            "filters.alert_versions": self.alert_versions,
            "filters.tags": self.tags + self.tags_all,
            "filters.groupings": (x for g in self.groupings for x in (g.key, *g.values)),
            "filters.labels": (x for g in self.labels for x in (g.key, *g.values)),
            "filters.flat_labels": (x for kv in self.flat_labels for x in (kv.key, kv.value)),
        }
        for name, strings in texts.items():
            for text in strings:
                _check_text(text, name)
        for name, groups in (("groupings", self.groupings), ("labels", self.labels)):
            if any(not g.values for g in groups):
                raise invalid("every group needs at least one value", field=f"filters.{name}")
        for dr in (self.date_range, self.updated_range):
            if dr is not None:
                check_range(dr.start, dr.end)


def _check_text(value: str, field: str) -> None:
    """A filter value is text a case can hold: not blank, no NUL, at most ``MAX_SEARCH``."""
    if not value.strip():
        raise invalid("must contain a non-whitespace character", field=field)
    if "\x00" in value:
        raise invalid("must not contain NUL characters", field=field)
    if len(value) > MAX_SEARCH:
        raise invalid(f"at most {MAX_SEARCH} characters (got {len(value)})", field=field)


def check_range(start: Micros, end: Micros) -> None:
    if start > end:
        raise invalid("'from' is after 'to'", field="filters.date_range")


def _at_most(name: str, count: int, limit: int, what: str) -> None:
    if count > limit:
        raise invalid(f"at most {limit} {what} (got {count})", field=f"filters.{name}")


@dataclass(frozen=True, slots=True)
class CaseOrder:
    field: OrderField = OrderField.CREATED_AT
    direction: OrderDirection = OrderDirection.DESCENDING

    @property
    def descending(self) -> bool:
        return self.direction is not OrderDirection.ASCENDING


@dataclass(frozen=True, slots=True)
class PageRequest:
    size: int = DEFAULT_PAGE_SIZE
    token: str | None = None
    skip: int = 0
    # The page before ``token`` (or the last page, without one), in the same order.
    backward: bool = False

    def check(self) -> None:
        if not 1 <= self.size <= MAX_PAGE_SIZE:
            raise invalid(f"must be 1..{MAX_PAGE_SIZE} (got {self.size})", field="page.size")
        if not 0 <= self.skip <= MAX_SKIP:
            raise invalid(f"must be 0..{MAX_SKIP} (got {self.skip})", field="page.skip")
        if self.token is not None and len(self.token) > MAX_TOKEN:
            raise invalid(f"at most {MAX_TOKEN} characters", field="page.token")


@dataclass(frozen=True, slots=True)
class CaseQuery:
    filters: CaseFilters = field(default_factory=CaseFilters)
    order: CaseOrder = field(default_factory=CaseOrder)
    page: PageRequest = field(default_factory=PageRequest)

    def check(self) -> None:
        """Every limit of a listing, for every caller (the service calls this)."""
        self.filters.check()
        self.page.check()


@dataclass(frozen=True, slots=True)
class FilterValues:
    """Facet counts over the cases matching some filters (GetFilterValues)."""

    priorities: dict[CasePriority, int]
    categories: dict[CaseCategory, int]
    statuses: dict[CaseStatus, int]
    groupings: dict[str, dict[str, int]]
    labels: dict[str, dict[str, int]]
    alert_ids: dict[str, int]
    assignees: dict[str, int]
    unassigned: int
    # True when the counts are scaled up from a sample of the matching cases rather than
    # counted (docs/FACETS.md): ``sampled`` cases were examined, and ``matching`` is the
    # estimate of how many match. Exact answers leave ``estimated`` False.
    estimated: bool = False
    sampled: int = 0
    matching: int | None = None
