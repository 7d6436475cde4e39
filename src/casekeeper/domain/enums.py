"""Enumerations of the canonical model.

The numbers are what the store persists; they follow the Coralogix spec's declaration order
(it was the first dialect), which lets that dialect convert with ``int()``. Names as a client
sees them belong to each dialect.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class CaseStatus(IntEnum):
    UNSPECIFIED = 0
    PENDING_ACTIVATION = 1
    ACTIVE = 2
    ACKNOWLEDGED = 3
    RESOLVED = 4
    CLOSED = 5


class CasePriority(IntEnum):
    """P1 is the most urgent. Sorting "priority descending" means P1 first (ascending numbers)."""

    UNSPECIFIED = 0
    P1 = 1
    P2 = 2
    P3 = 3
    P4 = 4
    P5 = 5


class CaseCategory(IntEnum):
    UNSPECIFIED = 0
    SECURITY = 1
    AVAILABILITY = 2


class OrderField(IntEnum):
    UNSPECIFIED = 0
    PRIORITY = 1
    STATUS = 2
    UPDATED_AT = 3
    CATEGORY = 4
    DURATION = 5
    CREATED_AT = 6
    # Not in the Coralogix spec (its dialect refuses it): OCSF severity, most severe first when
    # descending, UNKNOWN and OTHER last (Tracecat's order_by=severity).
    SEVERITY = 100


class OrderDirection(IntEnum):
    UNSPECIFIED = 0
    ASCENDING = 1
    DESCENDING = 2


class DateRangeMode(IntEnum):
    UNSPECIFIED = 0
    ACTIVE_WINDOW = 1
    CREATED_AT = 2


class IndicatorType(IntEnum):
    UNSPECIFIED = 0
    ALERT = 1
    PROMETHEUS_ALERTMANAGER = 2
    ERROR_TRACKING = 3


class KpiFilter(IntEnum):
    UNSPECIFIED = 0
    TIME_TO_ACKNOWLEDGE_BREACHED = 1
    TIME_TO_RESOLVE_BREACHED = 2
    NOT_BREACHED = 3
    TIME_TO_UPDATE_BREACHED = 4


class ConnectorType(IntEnum):
    UNSPECIFIED = 0
    SLACK = 1
    SERVICE_NOW = 2
    PAGER_DUTY = 3
    EMAIL = 4
    GENERIC_HTTPS = 5
    MICROSOFT_TEAMS = 6


class ActorKind(StrEnum):
    """Who did something. The values are the spec's JSON keys of ``EventActor``."""

    SYSTEM = "system"
    USER = "user"
    SERVICE_NOW = "serviceNow"
    API_KEY = "apiKey"
    SLACK = "slack"
    PROMETHEUS_ALERT_MANAGER = "prometheusAlertManager"
    PAGER_DUTY = "pagerDuty"
    MICROSOFT_TEAMS = "microsoftTeams"


class ResolverKind(StrEnum):
    """``CaseResolver`` markers. A resolver records no identity; the timeline event does."""

    SYSTEM = "system"
    CX_USER = "cxUser"
    SERVICE_NOW = "serviceNow"
    API_KEY = "apiKey"
    SLACK = "slack"
    PROMETHEUS_ALERT_MANAGER = "prometheusAlertManager"
    PAGER_DUTY = "pagerDuty"
    MICROSOFT_TEAMS = "microsoftTeams"


RESOLVER_FOR_ACTOR: dict[ActorKind, ResolverKind] = {
    ActorKind.SYSTEM: ResolverKind.SYSTEM,
    ActorKind.USER: ResolverKind.CX_USER,
    ActorKind.SERVICE_NOW: ResolverKind.SERVICE_NOW,
    ActorKind.API_KEY: ResolverKind.API_KEY,
    ActorKind.SLACK: ResolverKind.SLACK,
    ActorKind.PROMETHEUS_ALERT_MANAGER: ResolverKind.PROMETHEUS_ALERT_MANAGER,
    ActorKind.PAGER_DUTY: ResolverKind.PAGER_DUTY,
    ActorKind.MICROSOFT_TEAMS: ResolverKind.MICROSOFT_TEAMS,
}


class Severity(IntEnum):
    """How bad the underlying problem is, on OCSF's ``severity_id`` scale (Tracecat's
    severity). Beside priority, which says how urgently to work the case."""

    UNKNOWN = 0
    INFORMATIONAL = 1
    LOW = 2
    MEDIUM = 3
    HIGH = 4
    CRITICAL = 5
    FATAL = 6
    OTHER = 99


class EventKind(StrEnum):
    """The kinds of timeline event. The first 12 are the Coralogix spec's ``CaseEventData``
    kinds (their values are its JSON keys); the rest record changes to canonical fields that
    model does not have, and the Coralogix dialect does not show them."""

    ASSIGNED = "assigned"
    UNASSIGNED = "unassigned"
    COMMENT = "comment"
    STATUS_CHANGED = "statusChanged"
    NOTIFICATION_SENT = "notificationSent"
    NOTIFICATION_FAILED = "notificationFailed"
    CREATED = "created"
    PRIORITY_DETAILS_CHANGED = "priorityDetailsChanged"
    TITLE_CHANGED = "titleChangedEvent"
    RESOLUTION_REASON_CHANGED = "resolutionReasonChangedEvent"
    CHANGE_ASSIGNEE_FAILED = "changeAssigneeFailed"
    KPI_BREACHED = "kpiBreached"
    DESCRIPTION_CHANGED = "descriptionChanged"
    TAGS_CHANGED = "tagsChanged"
    SEVERITY_CHANGED = "severityChanged"
    ON_HOLD_CHANGED = "onHoldChanged"
    EXTENSION_CHANGED = "extensionChanged"
    INCIDENT_CHANGED = "incidentChanged"
    SIGNAL_NOTE = "signalNote"
