"""Notifications out: connectors (where a message goes), routes (which case events go where),
and the ledger of what was sent (docs/NOTIFICATIONS.md).

A case event that can notify is a *trigger* (``opened``, ``acknowledged``…). Routes are
evaluated in their order; every enabled route that matches notifies its connectors, and a route
with ``stop`` ends the evaluation when it matches. Each (event, route) pair is one notification;
each of its connectors is one delivery, attempted until it succeeds or its budget is spent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from casekeeper.domain import timeline as t
from casekeeper.domain.enums import CaseCategory, CasePriority, CaseStatus, EventKind
from casekeeper.domain.errors import invalid
from casekeeper.domain.model import Case

Json = dict[str, Any]

MAX_NAME = 256
MAX_ROUTES = 200  # per space: every event is matched against all of them
MAX_CONNECTORS_PER_ROUTE = 20
MAX_MATCH_VALUES = 50
MAX_TEMPLATE = 20_000
MAX_URL = 2048
MAX_RECIPIENTS = 50


class ConnectorKind(StrEnum):
    WEBHOOK = "webhook"
    SLACK = "slack"
    TEAMS = "teams"  # Microsoft Teams through a Workflows webhook (Adaptive Card)
    MATTERMOST = "mattermost"  # Slack-compatible incoming webhook
    PAGERDUTY = "pagerduty"  # Events API v2
    EMAIL = "email"


# Kinds whose webhook URL carries its own credential: the URL is the secret.
URL_IS_SECRET = frozenset({ConnectorKind.SLACK, ConnectorKind.TEAMS, ConnectorKind.MATTERMOST})
PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"


class Trigger(StrEnum):
    """A case event worth telling people about."""

    OPENED = "opened"  # became ACTIVE from PENDING_ACTIVATION, or created ACTIVE
    REOPENED = "reopened"  # back to ACTIVE from RESOLVED or CLOSED
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    CLOSED = "closed"
    ASSIGNED = "assigned"
    UNASSIGNED = "unassigned"
    PRIORITY_CHANGED = "priority_changed"
    KPI_BREACHED = "kpi_breached"
    COMMENTED = "commented"
    TITLE_CHANGED = "title_changed"
    TEST = "test"  # a test notification sent on request; never routed


_STATUS_TRIGGERS = {
    CaseStatus.ACKNOWLEDGED: Trigger.ACKNOWLEDGED,
    CaseStatus.RESOLVED: Trigger.RESOLVED,
    CaseStatus.CLOSED: Trigger.CLOSED,
}


# The event kinds ``trigger_of`` can make a trigger of: routing reads no other event (the
# outbox message names its event's kind).
TRIGGER_KINDS: Final = frozenset({
    EventKind.STATUS_CHANGED, EventKind.ASSIGNED, EventKind.UNASSIGNED,
    EventKind.PRIORITY_DETAILS_CHANGED, EventKind.KPI_BREACHED, EventKind.COMMENT,
    EventKind.TITLE_CHANGED,
})  # fmt: skip


def trigger_of(event: t.TimelineEvent) -> Trigger | None:
    """The trigger a timeline event is, if it is one."""
    match event:
        case t.Created():
            return None  # a new case is PENDING_ACTIVATION or followed by its activation
        case t.StatusChanged(old, new):
            if new == CaseStatus.ACTIVE:
                if old in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
                    return Trigger.REOPENED
                return Trigger.OPENED if old == CaseStatus.PENDING_ACTIVATION else None
            return _STATUS_TRIGGERS.get(new)
        case t.Assigned():
            return Trigger.ASSIGNED
        case t.Unassigned():
            return Trigger.UNASSIGNED
        case t.PriorityChanged(old, new):
            return Trigger.PRIORITY_CHANGED if old.effective != new.effective else None
        case t.KpiBreached():
            return Trigger.KPI_BREACHED
        case t.Comment():
            return Trigger.COMMENTED
        case t.TitleChanged():
            return Trigger.TITLE_CHANGED
        case _:
            return None


@dataclass(frozen=True, slots=True)
class SecretRef:
    """Where a connector's secret is: encrypted in the store, named environment variable, or
    nowhere. The plain value exists only in the worker, when it sends."""

    cipher: str | None = None
    env: str | None = None

    @property
    def present(self) -> bool:
        return self.cipher is not None or self.env is not None

    @property
    def shown(self) -> str:
        if self.env is not None:
            return f"env:{self.env}"
        return "stored" if self.cipher is not None else "none"


@dataclass(frozen=True, slots=True)
class EmailOptions:
    smtp_host: str
    smtp_port: int
    sender: str
    recipients: tuple[str, ...]
    starttls: bool = False
    username: str | None = None  # the password is the connector's secret


@dataclass(frozen=True, slots=True)
class WebhookOptions:
    """A generic webhook's body and headers, as templates; ``None`` is casekeeper's JSON."""

    body_template: str | None = None
    header_templates: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Connector:
    id: str
    space_id: int
    name: str
    kind: ConnectorKind
    url: str | None  # None when the URL is the secret (``URL_IS_SECRET``) or for e-mail
    secret: SecretRef
    create_time: int
    update_time: int
    enabled: bool = True
    email: EmailOptions | None = None
    webhook: WebhookOptions | None = None


@dataclass(frozen=True, slots=True)
class RouteFilter:
    """What a route matches. Empty parts match everything; the parts are AND'ed, the values
    inside one part OR'ed (labels: every listed pair must be on the case)."""

    triggers: frozenset[Trigger] = frozenset()
    min_priority: CasePriority | None = None  # P2 matches P1 and P2
    categories: frozenset[CaseCategory] = frozenset()
    labels: tuple[tuple[str, str], ...] = ()
    groupings: tuple[tuple[str, str], ...] = ()

    def explain(self, trigger: Trigger, case: Case) -> tuple[bool, tuple[str, ...]]:
        """Whether it matches, and a sentence for each part that was checked."""
        reasons: list[str] = []
        ok = True

        def check(passed: bool, yes: str, no: str) -> None:
            nonlocal ok
            ok = ok and passed
            reasons.append(yes if passed else no)

        if self.triggers:
            wanted = ", ".join(sorted(self.triggers))
            check(
                trigger in self.triggers,
                f"event {trigger} is one of {wanted}",
                f"event {trigger} is not one of {wanted}",
            )
        if self.min_priority is not None:
            p = case.effective_priority
            floor = self.min_priority.name
            urgent = p != CasePriority.UNSPECIFIED and p <= self.min_priority
            check(urgent, f"priority {p.name} is {floor} or higher",
                  f"priority {p.name} is below {floor}")  # fmt: skip
        if self.categories:
            wanted = ", ".join(sorted(c.name for c in self.categories))
            check(
                case.category in self.categories,
                f"category {case.category.name} is one of {wanted}",
                f"category {case.category.name} is not one of {wanted}",
            )
        for what, pairs, have in (
            ("label", self.labels, case.labels),
            ("grouping", self.groupings, case.groupings),
        ):
            present = {(kv.key, kv.value) for kv in have}
            for key, value in pairs:
                check(
                    (key, value) in present,
                    f"{what} {key}={value} is on the case",
                    f"{what} {key}={value} is not on the case",
                )
        return ok, tuple(reasons)


@dataclass(frozen=True, slots=True)
class MessageTemplate:
    """The title and text people read (Jinja2, sandboxed); ``None`` is the default wording."""

    title: str | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class Route:
    id: str
    space_id: int
    name: str
    position: int  # evaluation order, ascending
    connector_ids: tuple[str, ...]
    filter: RouteFilter
    create_time: int
    update_time: int
    template: MessageTemplate = MessageTemplate()
    stop: bool = False  # when it matches, later routes are not evaluated
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class RouteVerdict:
    route: Route
    matched: bool
    reasons: tuple[str, ...]
    reached: bool  # evaluated at all (a matching ``stop`` route before it ends evaluation)


def evaluate(routes: list[Route], trigger: Trigger, case: Case) -> list[RouteVerdict]:
    """Every route's verdict, in order: the one function routing and its dry run share."""
    verdicts: list[RouteVerdict] = []
    stopped: str | None = None
    for route in sorted(routes, key=lambda r: (r.position, r.create_time, r.id)):
        if stopped is not None:
            verdicts.append(RouteVerdict(route, False, (f"route {stopped} stops evaluation",),
                                         reached=False))  # fmt: skip
            continue
        if not route.enabled:
            verdicts.append(RouteVerdict(route, False, ("the route is disabled",), reached=True))
            continue
        matched, reasons = route.filter.explain(trigger, case)
        if not reasons:
            reasons = ("the route matches every event",)
        verdicts.append(RouteVerdict(route, matched, reasons, reached=True))
        if matched and route.stop:
            stopped = route.name
    return verdicts


class DeliveryState(StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    SENDING = "sending"  # claimed by a worker until its lease ends
    DELIVERED = "delivered"
    FAILED = "failed"  # given up: a permanent error or its retry budget spent


class NotificationResult(StrEnum):
    NO_ROUTE = "no_route"  # no route matched the event
    NO_CONNECTOR = "no_connector"  # routes matched, but none had a usable connector
    ROUTED = "routed"


@dataclass(frozen=True, slots=True)
class CaseView:
    """The case as a notification shows it, frozen when the event was routed."""

    id: str
    readable_id: str | None
    title: str
    status: str
    priority: str
    category: str
    assignees: tuple[str, ...]
    labels: Mapping[str, str]
    link: str
    description: str | None = None


@dataclass(frozen=True, slots=True)
class NotificationView:
    """Everything a connector needs to word a notification, and a template's context."""

    notification_id: str  # also the notification request id on the case's timeline
    space_id: int
    trigger: Trigger
    event_id: str | None
    event_time: int  # microseconds
    actor: str  # who caused it, in words
    summary: str  # one line: "CASE-12 acknowledged by alice"
    title: str  # rendered from the route's template, or the default
    text: str
    case: CaseView
    route_name: str | None = None
    extra: Json = field(default_factory=dict)

    def context(self) -> Json:
        """The values a template sees (docs/NOTIFICATIONS.md lists them)."""
        case = self.case
        return {
            "notification_id": self.notification_id,
            "event": self.trigger.value,
            "event_id": self.event_id,
            "event_time_us": self.event_time,
            "actor": self.actor,
            "summary": self.summary,
            "title": self.title,
            "text": self.text,
            "route": self.route_name,
            "case": {
                "id": case.id,
                "readable_id": case.readable_id,
                "title": case.title,
                "status": case.status,
                "priority": case.priority,
                "category": case.category,
                "assignees": list(case.assignees),
                "labels": dict(case.labels),
                "link": case.link,
                "description": case.description,
            },
        }


@dataclass(frozen=True, slots=True)
class Envelope:
    """One attempt to deliver one notification on one connector."""

    delivery_id: str  # the idempotency key receivers see
    attempt: int  # 1 for the first
    connector: Connector
    secret: str | None  # resolved, in the worker's memory only
    view: NotificationView


class Retry(StrEnum):
    NO = "no"  # delivered, or a permanent failure (4xx other than 429, bad address)
    BACKOFF = "backoff"  # 5xx, timeout, connection error: try again later
    AFTER = "after"  # the receiver said when (429 Retry-After)


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    error: str | None = None
    evidence_url: str | None = None
    retry: Retry = Retry.NO
    retry_after: float | None = None  # seconds, with ``Retry.AFTER``
    status_code: int | None = None  # HTTP status or SMTP reply code
    duration_ms: int = 0


def check_name(name: str, what: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise invalid(f"a {what} name is 1 to {MAX_NAME} characters", field="name")
    return name
