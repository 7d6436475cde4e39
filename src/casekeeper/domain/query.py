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
from casekeeper.domain.errors import invalid
from casekeeper.domain.model import KeyValue, Micros

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
MAX_SKIP = 1_000_000
# Every list a filter holds is bounded, whichever dialect it came from (``check_limits``):
# unbounded lists reached the database as statements too deep for PostgreSQL's parser.
MAX_FILTER_VALUES = 1000  # values in one list, or (key, value) pairs over one kind of groups
MAX_FILTER_GROUPS = 100  # keyed groups (groupings, labels, distinct flat-label keys)


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

    def check_limits(self) -> None:
        """Refuse filters past ``MAX_FILTER_VALUES`` / ``MAX_FILTER_GROUPS``, naming the field."""
        lists: dict[str, tuple[object, ...]] = {
            "statuses": self.statuses,
            "priorities": self.priorities,
            "categories": self.categories,
            "assignees": self.assignees,
            "indicatorTypes": self.indicator_types,
            "breached": self.breached,
            "connectorTypeFilters": self.connector_types,
            "impactedEntities": self.impacted_services + self.impacted_databases,
            "alertFilters.alertIds": self.alert_ids,
            "alertFilters.alertVersions": self.alert_versions,
        }
        for name, values in lists.items():
            _at_most(name, len(values), MAX_FILTER_VALUES, "values")
        for name, groups in (("groupings", self.groupings), ("labels", self.labels)):
            _at_most(name, len(groups), MAX_FILTER_GROUPS, "groups")
            _at_most(name, sum(len(g.values) for g in groups), MAX_FILTER_VALUES, "values")
        flat = "caseLabelsFilter.flatLabels"
        _at_most(flat, len(self.flat_labels), MAX_FILTER_VALUES, "values")
        _at_most(flat, len({kv.key for kv in self.flat_labels}), MAX_FILTER_GROUPS, "keys")


def _at_most(name: str, count: int, limit: int, what: str) -> None:
    if count > limit:
        raise invalid(f"filters.{name}: at most {limit} {what} (got {count})")


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
