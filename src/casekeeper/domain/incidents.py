"""Incidents: one alert episode each, grouped under exactly one case.

An incident is one firing of one alert (an alert definition or an Alertmanager fingerprint,
times the values of its group-by labels: its ``correlation_key``) from the first trigger until it is
closed. Its ``state`` is what the alert says (TRIGGERED, RESOLVED); its ``status`` is what people
see and act on (TRIGGERED, ACKNOWLEDGED, RESOLVED). Closing is not a status: ``closed_at`` is set
and the incident is terminal; the alert firing again opens a new incident.

Enum numbers are the Coralogix Incidents API's, which are published and exact (the store keeps
them); severity is ordered by ``SEVERITY_RANK``, never by number (LOW is 5, after CRITICAL).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Final, TypeAlias

from casekeeper.domain.model import KeyValue, Micros


class IncidentState(IntEnum):
    UNSPECIFIED = 0
    TRIGGERED = 1
    RESOLVED = 2


class IncidentStatus(IntEnum):
    UNSPECIFIED = 0
    TRIGGERED = 1
    ACKNOWLEDGED = 2
    RESOLVED = 3


class IncidentSeverity(IntEnum):
    UNSPECIFIED = 0
    INFO = 1
    WARNING = 2
    ERROR = 3
    CRITICAL = 4
    LOW = 5


# Least to most severe: what "order by severity" means.
SEVERITY_RANK: Final[Mapping[IncidentSeverity, int]] = {
    IncidentSeverity.UNSPECIFIED: 0,
    IncidentSeverity.INFO: 1,
    IncidentSeverity.LOW: 2,
    IncidentSeverity.WARNING: 3,
    IncidentSeverity.ERROR: 4,
    IncidentSeverity.CRITICAL: 5,
}


class IncidentEventType(IntEnum):
    UNSPECIFIED = 0
    UPSERT_STATE = 2
    OPEN = 4
    CLOSE = 5
    SNOOZE_INDICATOR = 6
    ASSIGN = 7
    ACKNOWLEDGE = 8
    UNASSIGN = 9


class Originator(IntEnum):
    """Who made an incident event: the alerting system, or a person or key."""

    UNSPECIFIED = 0
    OPERATIONAL = 1
    ADMINISTRATIVE = 2


class AlertType(IntEnum):
    STANDARD = 0
    METRIC = 1
    NEW_VALUE = 2
    RATIO = 3
    TIME_RELATIVE = 4
    UNIQUE_COUNT = 5
    TRACING = 6
    FLOW = 7
    SLO = 8


MAX_INCIDENT_IDS = 10_000  # ids in one batch or bulk request
MAX_NAME = 500
MAX_DESCRIPTION = 2000
MAX_USER = 300  # a user id or e-mail address
MAX_EVENT_KEY = 2000  # an alert event's key (``cx_event_key``)
MAX_LABEL = 255  # a meta label's key or value
MAX_LABELS = 1000  # contextual, display or meta labels on one incident
MAX_SYSTEM = 256  # an operational originator's system name


@dataclass(frozen=True, slots=True)
class Assignment:
    assigned_to: str  # a user id or e-mail address, opaque
    assigned_by: str


@dataclass(frozen=True, slots=True)
class Incident:
    id: str
    space_id: int
    case_id: str
    correlation_key: str
    name: str
    state: IncidentState
    status: IncidentStatus
    severity: IncidentSeverity
    created_at: Micros
    last_state_update_time: Micros
    last_state_update_key: str
    description: str | None = None
    assignments: tuple[Assignment, ...] = ()
    contextual_labels: Mapping[str, str] = field(default_factory=dict)
    display_labels: Mapping[str, str] = field(default_factory=dict)
    meta_labels: tuple[KeyValue, ...] = ()
    is_muted: bool = False
    closed_at: Micros | None = None
    version: int = 1

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    @property
    def assignee(self) -> str | None:
        return self.assignments[0].assigned_to if self.assignments else None

    def duration_us(self, now: Micros) -> int:
        """How long it is (or was, once closed) open."""
        end = self.closed_at if self.closed_at is not None else now
        return max(0, end - self.created_at)


# -- what an incident event says (its payload) -----------------------------------------------


@dataclass(frozen=True, slots=True)
class Opened:
    type = IncidentEventType.OPEN


@dataclass(frozen=True, slots=True)
class StateUpserted:
    """The alert's state (operational), or a person resolving the incident (administrative:
    there is no resolve event type)."""

    state: IncidentState
    cx_event_key: str | None = None
    is_muted: bool | None = None
    type = IncidentEventType.UPSERT_STATE


@dataclass(frozen=True, slots=True)
class Acknowledged:
    by: str
    type = IncidentEventType.ACKNOWLEDGE


@dataclass(frozen=True, slots=True)
class Closed:
    by: str
    type = IncidentEventType.CLOSE


@dataclass(frozen=True, slots=True)
class Assigned:
    assignment: Assignment
    type = IncidentEventType.ASSIGN


@dataclass(frozen=True, slots=True)
class Unassigned:
    """Who was unassigned is not recorded (nor is it in the Coralogix API)."""

    type = IncidentEventType.UNASSIGN


@dataclass(frozen=True, slots=True)
class Snoozed:
    start_time: Micros | None = None
    duration_minutes: int | None = None
    user_id: str | None = None
    type = IncidentEventType.SNOOZE_INDICATOR


IncidentEventPayload: TypeAlias = (
    Opened | StateUpserted | Acknowledged | Closed | Assigned | Unassigned | Snoozed
)


@dataclass(frozen=True, slots=True)
class IncidentEvent:
    """One entry of an incident's history, with the incident as it was right after it (the
    snapshot ListIncidentEvents filters on and shows)."""

    id: str
    incident_id: str
    space_id: int
    payload: IncidentEventPayload
    originator: Originator
    by: str  # the user id or key (administrative), or the alerting system's name (operational)
    time: Micros  # when it happened (the alert event's time, for operational events)
    cx_event_key: str  # the alert event it came from; the incident's last key otherwise
    severity: IncidentSeverity
    state: IncidentState
    status: IncidentStatus
    is_muted: bool

    @property
    def type(self) -> IncidentEventType:
        return self.payload.type


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """What the alerting side reports about one alert, opening or updating its incident.

    The ingestion endpoints (Alertmanager, PagerDuty, generic) and the admin RPC build these.
    ``alert_id`` (an alert definition id or a fingerprint) and ``group_by`` (the values of its
    group-by labels, by label) make the correlation key: one open incident per key.
    """

    case_id: str  # the case a new incident joins
    alert_id: str
    name: str
    state: IncidentState
    cx_event_key: str  # unique per alert event: the by-event-id operations look it up
    time: Micros
    severity: IncidentSeverity = IncidentSeverity.UNSPECIFIED
    group_by: Mapping[str, str] = field(default_factory=dict)
    description: str | None = None
    contextual_labels: Mapping[str, str] = field(default_factory=dict)
    display_labels: Mapping[str, str] = field(default_factory=dict)
    meta_labels: tuple[KeyValue, ...] = ()
    is_muted: bool | None = None
    system_name: str = "casekeeper"

    @property
    def correlation_key(self) -> str:
        return correlation_key(self.alert_id, self.group_by)


def correlation_key(alert_id: str, group_by: Mapping[str, str]) -> str:
    """``alert_id`` and its group-by values, in label order: the same alert episode always
    gives the same key, whatever order the labels came in."""
    parts = [alert_id, *(f"{k}={group_by[k]}" for k in sorted(group_by))]
    return "\x1f".join(parts)  # a unit separator: never inside an id or a label
