"""The delivery ledger as read back: notifications, their deliveries, each attempt."""

from __future__ import annotations

from dataclasses import dataclass

from casekeeper.domain.notifications import (
    ConnectorKind,
    DeliveryState,
    NotificationResult,
    Trigger,
)


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    number: int
    time: int
    ok: bool
    status_code: int | None
    error: str | None
    evidence_url: str | None
    duration_ms: int


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    id: str
    notification_id: str
    case_id: str
    connector_id: str
    connector_name: str
    connector_kind: ConnectorKind
    state: DeliveryState
    attempts: tuple[AttemptRecord, ...]
    next_attempt_time: int
    last_error: str | None
    evidence_url: str | None
    create_time: int
    update_time: int


@dataclass(frozen=True, slots=True)
class RouteRef:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class NotificationRecord:
    id: str
    space_id: int
    case_id: str
    event_id: str | None
    trigger: Trigger
    result: NotificationResult
    route: RouteRef | None
    matched: tuple[RouteRef, ...]  # for NO_CONNECTOR: the routes that matched
    create_time: int
    deliveries: tuple[DeliveryRecord, ...] = ()
