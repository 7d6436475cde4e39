"""What happened to a case, as typed values: one frozen dataclass per ``EventKind``.

The lifecycle makes them, in canonical terms (``CaseStatus``, ``PriorityDetails``, ``Severity``,
user ids); ``store.event_codec`` writes and reads them; each dialect renders them in its own
vocabulary. Who acted and when is on ``domain.events.CaseEvent``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any, ClassVar, TypeAlias

from casekeeper.domain.enums import CasePriority, CaseStatus, EventKind, Severity
from casekeeper.domain.model import Json, PriorityDetails


class IncidentChange(StrEnum):
    OPENED = "opened"
    TRIGGERED = "triggered"  # its alert fired again after it resolved
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    ASSIGNED = "assigned"
    UNASSIGNED = "unassigned"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Created:
    kind: ClassVar[EventKind] = EventKind.CREATED
    priority: CasePriority  # the system priority the case was created with
    # What a person gave when creating it (empty for cases born from signals): the Kibana
    # dialect's create_case action shows them.
    title: str | None = None
    description: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Assigned:
    kind: ClassVar[EventKind] = EventKind.ASSIGNED
    user_id: str
    previous: str | None = None  # the first assignee before this one, when there was one


@dataclass(frozen=True, slots=True)
class Unassigned:
    kind: ClassVar[EventKind] = EventKind.UNASSIGNED
    previous: str  # the user no longer assigned


@dataclass(frozen=True, slots=True)
class Comment:
    """``source`` is ``None`` for a comment made here, else where a synced message came from,
    as stored: ``{"slack": {...}}`` or ``{"microsoftTeams": {...}}``."""

    kind: ClassVar[EventKind] = EventKind.COMMENT
    text: str
    attachments: tuple[Json, ...] = ()  # the spec's CommentAttachment JSON, validated on write
    source: Json | None = None


@dataclass(frozen=True, slots=True)
class StatusChanged:
    kind: ClassVar[EventKind] = EventKind.STATUS_CHANGED
    old: CaseStatus
    new: CaseStatus


@dataclass(frozen=True, slots=True)
class NotificationSent:
    kind: ClassVar[EventKind] = EventKind.NOTIFICATION_SENT
    request_id: str | None
    tokens: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NotificationFailed:
    kind: ClassVar[EventKind] = EventKind.NOTIFICATION_FAILED
    error: str


@dataclass(frozen=True, slots=True)
class PriorityChanged:
    kind: ClassVar[EventKind] = EventKind.PRIORITY_DETAILS_CHANGED
    old: PriorityDetails
    new: PriorityDetails


@dataclass(frozen=True, slots=True)
class TitleChanged:
    kind: ClassVar[EventKind] = EventKind.TITLE_CHANGED
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class ResolutionReasonChanged:
    """``old`` is ``None`` when the case had no reason; an empty one is stored as none, so it
    reads back as ``None``."""

    kind: ClassVar[EventKind] = EventKind.RESOLUTION_REASON_CHANGED
    old: str | None
    new: str


@dataclass(frozen=True, slots=True)
class ChangeAssigneeFailed:
    kind: ClassVar[EventKind] = EventKind.CHANGE_ASSIGNEE_FAILED
    unknown_email: str  # an assignee named by email that matches no user


@dataclass(frozen=True, slots=True)
class KpiBreached:
    kind: ClassVar[EventKind] = EventKind.KPI_BREACHED
    kpi_type: str  # the spec's KPIType name, e.g. "KPI_TYPE_TIME_TO_ACKNOWLEDGE"
    priority: CasePriority  # the case's priority when the KPI breached
    threshold_seconds: int


@dataclass(frozen=True, slots=True)
class DescriptionChanged:
    """Only whether there was a description before and after: the texts (up to 30,000
    characters each) are in the case, not copied into its timeline."""

    kind: ClassVar[EventKind] = EventKind.DESCRIPTION_CHANGED
    had_description: bool
    has_description: bool


@dataclass(frozen=True, slots=True)
class TagsChanged:
    kind: ClassVar[EventKind] = EventKind.TAGS_CHANGED
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SeverityChanged:
    kind: ClassVar[EventKind] = EventKind.SEVERITY_CHANGED
    old: Severity
    new: Severity


@dataclass(frozen=True, slots=True)
class OnHoldChanged:
    kind: ClassVar[EventKind] = EventKind.ON_HOLD_CHANGED
    on_hold: bool


@dataclass(frozen=True, slots=True)
class ExtensionChanged:
    """A dialect's extension fields changed; their values stay in the case."""

    kind: ClassVar[EventKind] = EventKind.EXTENSION_CHANGED
    namespace: str  # the dialect's key in ``Case.extensions``, e.g. "kibana"


@dataclass(frozen=True, slots=True)
class IncidentChanged:
    """One of the case's incidents opened, changed status, was assigned or closed."""

    kind: ClassVar[EventKind] = EventKind.INCIDENT_CHANGED
    incident_id: str
    change: IncidentChange
    user: str | None = None  # who, for a person's change (an assignee for "assigned")


class SignalTopic(StrEnum):
    """What an ingestion note on a case is about."""

    TRUNCATED = "truncated"  # the sender left alerts out of a notification
    RECONCILED = "reconciled"  # resolved because the source no longer reports the alert
    REFIRED = "refired"  # a resolved alert fired again within the resolution snooze period
    SILENCED = "silenced"  # a silence was made at the source (acknowledge-until-clear)
    UNSILENCED = "unsilenced"  # that silence was expired
    HEARTBEAT = "heartbeat"  # a heartbeat stopped, or came back


@dataclass(frozen=True, slots=True)
class SignalNote:
    """Something ingestion wants the people on the case to know, in a sentence."""

    kind: ClassVar[EventKind] = EventKind.SIGNAL_NOTE
    topic: SignalTopic
    text: str


@dataclass(frozen=True, slots=True)
class Unknown:
    """A stored event this version cannot read: a payload of the wrong shape (hand-edited,
    corrupted, or written by a newer version). Kept whole, so encoding it gives back exactly
    what is stored; a dialect shows it as a generic entry or leaves it out, and a listing
    never fails because of one row. ``reason`` says what did not fit, for logs."""

    kind: EventKind
    payload: Any  # as stored: normally an object, but not known to be one
    reason: str


TimelineEvent: TypeAlias = (
    Created
    | Assigned
    | Unassigned
    | Comment
    | StatusChanged
    | NotificationSent
    | NotificationFailed
    | PriorityChanged
    | TitleChanged
    | ResolutionReasonChanged
    | ChangeAssigneeFailed
    | KpiBreached
    | DescriptionChanged
    | TagsChanged
    | SeverityChanged
    | OnHoldChanged
    | ExtensionChanged
    | IncidentChanged
    | SignalNote
    | Unknown
)


def details(data: object) -> Json:
    """An event's fields as plain JSON values (enums by name): how a dialect shows an event
    it has no word of its own for."""
    if isinstance(data, Unknown):
        return {"unreadable": True}
    return {n: _plain(getattr(data, n)) for n in getattr(data, "__dataclass_fields__", {})}


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if hasattr(value, "__dataclass_fields__"):
        return {n: _plain(getattr(value, n)) for n in value.__dataclass_fields__}
    return str(value)
