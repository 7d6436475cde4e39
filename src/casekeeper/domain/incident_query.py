"""What a caller may ask of incidents and their events: filters, ordering, grouping, pages, and
what comes back. Pure data; the store turns it into SQL (``store/incident_*.py``).

Different fields AND together, values inside one field OR together; within one label key the
values OR, across keys they AND. Meta labels OR unless ``meta_labels_all``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum

from casekeeper.domain.errors import invalid
from casekeeper.domain.incidents import (
    MAX_NAME,
    Incident,
    IncidentEvent,
    IncidentSeverity,
    IncidentState,
    IncidentStatus,
)
from casekeeper.domain.model import KeyValue, Micros
from casekeeper.domain.query import MAX_FILTER_GROUPS, MAX_FILTER_VALUES, MAX_SEARCH, FilterGroup

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 10_000
MAX_EVENTS_PAGE_SIZE = 1000
MAX_ORDER_KEYS = 100
EVENT_COUNT_LIMIT = 10_000  # ListIncidentEventsTotalCount counts this far, then says so


class IncidentField(IntEnum):
    """A field to order, group or search by (the API's ``IncidentFields``)."""

    UNSPECIFIED = 0
    ID = 1
    SEVERITY = 2
    NAME = 3
    CREATED_TIME = 4
    CLOSED_TIME = 5
    STATE = 6
    STATUS = 7
    LAST_STATE_UPDATE_TIME = 8
    APPLICATION_NAME = 9
    SUBSYSTEM_NAME = 10
    DURATION = 11


# The display labels the application and subsystem filters read (as Coralogix labels them).
APPLICATION_LABEL = "coralogix.metadata.applicationName"
SUBSYSTEM_LABEL = "coralogix.metadata.subsystemName"


@dataclass(frozen=True, slots=True)
class TimeRange:
    start: Micros
    end: Micros


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """Case-insensitive substring ``text`` in one field or one contextual label."""

    text: str
    field: IncidentField | None = None
    contextual_label: str | None = None


@dataclass(frozen=True, slots=True)
class IncidentFilter:
    assignees: tuple[str, ...] = ()
    statuses: tuple[IncidentStatus, ...] = ()
    states: tuple[IncidentState, ...] = ()
    severities: tuple[IncidentSeverity, ...] = ()
    contextual_labels: tuple[FilterGroup, ...] = ()
    display_labels: tuple[FilterGroup, ...] = ()
    application_names: tuple[str, ...] = ()
    subsystem_names: tuple[str, ...] = ()
    is_muted: bool | None = None
    created: TimeRange | None = None
    open_during: TimeRange | None = None  # open at some time in the range
    meta_labels: tuple[KeyValue, ...] = ()
    meta_labels_all: bool = False
    search: SearchQuery | None = None

    def check(self) -> None:
        """Refuse lists past the shared bounds and ranges that end before they start."""
        lists: dict[str, tuple[object, ...]] = {
            "assignee": self.assignees,
            "status": self.statuses,
            "state": self.states,
            "severity": self.severities,
            "application_name": self.application_names,
            "subsystem_name": self.subsystem_names,
            "meta_labels": self.meta_labels,
        }
        for name, values in lists.items():
            if len(values) > MAX_FILTER_VALUES:
                raise invalid(f"at most {MAX_FILTER_VALUES} values", field=name)
        for name, groups in (
            ("contextual_labels", self.contextual_labels),
            ("display_labels", self.display_labels),
        ):
            if len(groups) > MAX_FILTER_GROUPS:
                raise invalid(f"at most {MAX_FILTER_GROUPS} keys", field=name)
            if sum(len(g.values) for g in groups) > MAX_FILTER_VALUES:
                raise invalid(f"at most {MAX_FILTER_VALUES} values in all", field=name)
        for name, span in (("created_at_range", self.created), ("duration", self.open_during)):
            if span is not None and span.end < span.start:
                raise invalid("the range ends before it starts", field=name)
        if self.search is not None and not 0 < len(self.search.text) <= MAX_SEARCH:
            raise invalid(f"1 to {MAX_SEARCH} characters", field="search_query.query")


@dataclass(frozen=True, slots=True)
class OrderKey:
    """One key of a multi-key ordering: a field, or a contextual label's value."""

    field: IncidentField | None = None
    contextual_label: str | None = None
    descending: bool = True


DEFAULT_ORDER = (OrderKey(IncidentField.CREATED_TIME),)


@dataclass(frozen=True, slots=True)
class PageRequest:
    size: int = DEFAULT_PAGE_SIZE
    token: str | None = None


@dataclass(frozen=True, slots=True)
class IncidentPage:
    incidents: list[Incident]
    total_size: int
    next_token: str | None = None


@dataclass(frozen=True, slots=True)
class GroupKey:
    field: IncidentField | None = None
    contextual_label: str | None = None
    descending: bool = False


@dataclass(frozen=True, slots=True)
class GroupValue:
    """One group's value for one key: a field's value (an enum member, a time in µs, a text)
    or a contextual label's (None when the incident does not carry the label)."""

    key: GroupKey
    value: object


@dataclass(frozen=True, slots=True)
class Aggregation:
    values: tuple[GroupValue, ...]
    count: int
    incident_ids: tuple[str, ...]
    states: Mapping[IncidentState, int]
    statuses: Mapping[IncidentStatus, int]
    severities: Mapping[IncidentSeverity, int]
    assignees: Mapping[str, int]
    meta_labels: Mapping[KeyValue, int]
    first_created_at: Micros
    last_closed_at: Micros | None
    last_state_update_time: Micros


@dataclass(frozen=True, slots=True)
class AggregationPage:
    groups: list[Aggregation]
    total_size: int
    next_token: str | None = None


@dataclass(frozen=True, slots=True)
class IncidentFilterValues:
    """Facet counts over the incidents (or incident events) that match a filter."""

    assignees: Mapping[str, int] = field(default_factory=dict)
    statuses: Mapping[IncidentStatus, int] = field(default_factory=dict)
    states: Mapping[IncidentState, int] = field(default_factory=dict)
    severities: Mapping[IncidentSeverity, int] = field(default_factory=dict)
    contextual_labels: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    display_labels: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    meta_labels: Mapping[KeyValue, int] = field(default_factory=dict)
    meta_labels_all: bool = False  # echoed from the filter


@dataclass(frozen=True, slots=True)
class EventFilter:
    """ListIncidentEvents' filter: on each event's snapshot, and its incident's labels."""

    statuses: tuple[IncidentStatus, ...] = ()
    severities: tuple[IncidentSeverity, ...] = ()
    contextual_labels: tuple[FilterGroup, ...] = ()
    display_labels: tuple[FilterGroup, ...] = ()
    name: str | None = None  # substring of the incident's name, case-insensitive
    is_muted: bool | None = None
    time: TimeRange | None = None
    meta_labels: tuple[KeyValue, ...] = ()
    meta_labels_all: bool = False

    def check(self) -> None:
        """The same bounds as ``IncidentFilter.check``."""
        IncidentFilter(
            statuses=self.statuses,
            severities=self.severities,
            contextual_labels=self.contextual_labels,
            display_labels=self.display_labels,
            meta_labels=self.meta_labels,
            created=self.time,
        ).check()
        if self.name is not None and len(self.name) > MAX_NAME:
            raise invalid(f"at most {MAX_NAME} characters", field="name")


@dataclass(frozen=True, slots=True)
class EventItem:
    event: IncidentEvent
    incident: Incident  # as it is now: its labels and alert fields describe the event


@dataclass(frozen=True, slots=True)
class EventPage:
    items: list[EventItem]
    total_size: int
    next_token: str | None = None
