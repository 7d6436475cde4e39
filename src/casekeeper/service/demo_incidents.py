"""Demo incidents: alert episodes under the open demo cases, each a story told through the same
services the API uses (``AlertService.record`` for what the alert says; ``IncidentService`` for
what people do), so every incident has real events and its case's timeline shows them.

Between them the stories reach every state, status and severity, closed incidents, re-triggers,
acknowledgements, assignments to e-mail addresses and to user ids, and muted incidents. Labels
are shaped like Coralogix's (seed 001): contextual ``alert_*`` labels and the
``coralogix.metadata.applicationName``/``subsystemName`` display labels, which are also the
alerts' group-by fields. Loading twice changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from casekeeper.domain.incidents import AlertEvent, Incident, IncidentSeverity, IncidentState
from casekeeper.domain.model import Case, KeyValue
from casekeeper.service.alerts import AlertService
from casekeeper.service.auth import Principal
from casekeeper.service.context import ServiceContext
from casekeeper.service.incidents import IncidentService

DEMO_INCIDENTS = 48
NS = uuid.UUID("0c8f3a52-7e1d-4b6a-9a40-2f6d1e5c7b19")
APP, SUBSYSTEM = "coralogix.metadata.applicationName", "coralogix.metadata.subsystemName"
GROUP_BY_FIELDS = f"{APP} , {SUBSYSTEM}"
SEVERITIES = [
    IncidentSeverity.INFO,
    IncidentSeverity.WARNING,
    IncidentSeverity.ERROR,
    IncidentSeverity.CRITICAL,
    IncidentSeverity.LOW,
]
ALERT_TYPES = ["Standard", "Metric", "Ratio", "New value", "Unique count", "Tracing", "Flow"]
ALERTS = [
    "{svc} error rate above 5%",
    "{svc} p99 latency above 800ms",
    "No logs from {svc} for 10 minutes",
    "{svc} 5xx ratio above threshold",
    "New error fingerprint in {svc}",
    "{svc} pod restarts",
    "Unique failing users on {svc} above 50",
    "{svc} SLO burn rate too high",
]
EMAILS = [
    "maya.cohen@example.test",
    "li.wei@example.test",
    "oncall-sre@example.test",
    "ana.souza@example.test",
]
REGIONS = ["eu-west-1", "us-east-1", "ap-south-1"]


@dataclass
class _Story:
    """One incident's life: its alert reports and what people do, against the live services."""

    k: int
    case: Case
    alerts: AlertService
    incidents: IncidentService
    sender: Principal  # records the alert's reports (signals:Write)
    person: Principal  # acknowledges, assigns, resolves, closes
    clock: Callable[[], int]
    reports: int = 0
    incident: Incident | None = None

    def report(
        self, state: IncidentState, severity: IncidentSeverity, *, muted: bool | None = None
    ) -> None:
        svc, env = _label(self.case, "service"), _label(self.case, "environment")
        alert_id = str(uuid.uuid5(NS, f"alert-{self.k}"))
        name = ALERTS[self.k % len(ALERTS)].format(svc=svc)
        integrations = "" if self.k % 3 else f"{uuid.uuid5(NS, f'slack-{self.k % 4}')}"
        self.incident = self.alerts.record(
            self.sender,
            AlertEvent(
                case_id=self.case.id,
                alert_id=alert_id,
                name=name,
                state=state,
                cx_event_key=str(uuid.uuid5(NS, f"incident-{self.k}-event-{self.reports}")),
                time=self.clock(),
                severity=severity,
                group_by={APP: env, SUBSYSTEM: svc},
                description=f"{name} in {env}." if self.k % 2 == 0 else None,
                contextual_labels={
                    "alert_id": alert_id,
                    "alert_name": name,
                    "alert_type": ALERT_TYPES[self.k % len(ALERT_TYPES)],
                    "alert_severity": severity.name.capitalize(),
                    "alert_group_by_fields": GROUP_BY_FIELDS,
                    "alert_notification_group_id": str(uuid.uuid5(NS, f"group-{self.k % 5}")),
                    "alert_notification_group_grouping_fields": GROUP_BY_FIELDS,
                    "alert_notification_group_integrations_ids": integrations,
                },
                display_labels={APP: env, SUBSYSTEM: svc},
                meta_labels=(
                    KeyValue("team", _label(self.case, "team")),
                    KeyValue("region", REGIONS[self.k % len(REGIONS)]),
                ),
                is_muted=muted,
                system_name="coralogix",
            ),
        )
        self.reports += 1

    @property
    def id(self) -> str:
        assert self.incident is not None
        return self.incident.id

    def acknowledge(self) -> None:
        self.incidents.acknowledge(self.person, [self.id])

    def assign(self, user: str) -> None:
        self.incidents.assign(self.person, [self.id], user)

    def unassign(self) -> None:
        self.incidents.unassign(self.person, [self.id])

    def resolve(self) -> None:
        self.incidents.resolve(self.person, [self.id])

    def close(self) -> None:
        self.incidents.close(self.person, [self.id])


def _label(case: Case, key: str) -> str:
    return next((kv.value for kv in case.groupings if kv.key == key), "unknown")


def _tell(s: _Story, people: Sequence[str]) -> None:
    """Story ``k % 8``, with assignments and muting mixed in by other residues of ``k``."""
    k, T, R = s.k, IncidentState.TRIGGERED, IncidentState.RESOLVED
    severity = SEVERITIES[k % len(SEVERITIES)]
    s.report(T, severity, muted=True if k % 9 == 4 else None)
    if k % 3 == 0:
        s.assign(EMAILS[k % len(EMAILS)])
    elif k % 3 == 1:
        s.assign(people[k % len(people)])
    if k % 12 == 1:  # handed over
        s.assign(EMAILS[(k + 1) % len(EMAILS)])
    if k % 10 == 5:  # picked up, then let go
        s.assign(EMAILS[0])
        s.unassign()
    story = k % 8
    if story == 1:  # acknowledged
        s.acknowledge()
    elif story == 2:  # the alert resolved
        s.report(R, severity)
    elif story == 3:  # acknowledged, then resolved by hand
        s.acknowledge()
        s.resolve()
    elif story == 4:  # resolved, then fired again, worse
        s.report(R, severity)
        s.report(T, SEVERITIES[(k + 1) % len(SEVERITIES)])
    elif story == 5:  # acknowledged and fired again: still acknowledged
        s.acknowledge()
        s.report(T, severity)
    elif story == 6:  # acknowledged, resolved by the alert, closed
        s.acknowledge()
        s.report(R, severity)
        s.close()
    elif story == 7:  # closed while firing (a known false alarm)
        s.close()


def first_event_key() -> str:
    return str(uuid.uuid5(NS, "incident-0-event-0"))


def load_incidents(
    ctx: ServiceContext,
    cases: Sequence[Case],
    bots: Sequence[Principal],
    people: Sequence[str],
    *,
    count: int = DEMO_INCIDENTS,
) -> int:
    """Create the demo incidents over ``cases`` (open ones, in turn) unless they exist;
    returns how many were created."""
    if not cases:
        return 0
    with ctx.db.reader() as uow:
        if uow.incidents.event_by_key(bots[0].space_id, first_event_key()) is not None:
            return 0
    alerts, incidents = AlertService(ctx), IncidentService(ctx)
    for k in range(count):
        story = _Story(
            k=k,
            case=cases[k % len(cases)],
            alerts=alerts,
            incidents=incidents,
            sender=bots[-1],
            person=bots[k % (len(bots) - 1)] if len(bots) > 1 else bots[0],
            clock=ctx.clock,
        )
        _tell(story, people)
    return count
