"""What a caller may ask of the case list: filters, ordering and a page request. Pure data."""

from __future__ import annotations

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
)
from casekeeper.domain.model import KeyValue, Micros

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
MAX_SKIP = 1_000_000


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


@dataclass(frozen=True, slots=True)
class CaseQuery:
    filters: CaseFilters = field(default_factory=CaseFilters)
    order: CaseOrder = field(default_factory=CaseOrder)
    page: PageRequest = field(default_factory=PageRequest)


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
