"""Realistic demo data for space ``default``: cases across every status, priority and category,
with indicators, assignees, comments and timelines, and incidents under the open cases
(``demo_incidents``). Loading twice changes nothing."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass

from casekeeper.domain import commands as cmd
from casekeeper.domain.commands import CaseChange
from casekeeper.domain.enums import CaseCategory, CasePriority, CaseStatus, Severity
from casekeeper.domain.model import CaseRef, Json, KeyValue
from casekeeper.domain.timeutil import now_us, to_rfc3339
from casekeeper.service.admin import AdminService, NewCase
from casekeeper.service.auth import DEFAULT_SPACE, Principal
from casekeeper.service.cases import CaseService
from casekeeper.service.context import ServiceContext
from casekeeper.service.demo_incidents import load_incidents
from casekeeper.service.demo_notify import load_notifications
from casekeeper.service.demo_signals import load_signals
from casekeeper.service.demo_users import load_users
from casekeeper.service.notify_config import ConnectorService
from casekeeper.service.notify_routes import RouteService
from casekeeper.service.permissions import Permission
from casekeeper.service.timeline import ExternalMessage, TimelineService
from casekeeper.store.uow import Database

DEMO_CASES = 72
NS = uuid.UUID("5d1f0f3e-4c55-4a43-9d43-6a2f1f0c0de0")
HOUR = 3_600_000_000

SERVICES = ["checkout", "payments", "search", "auth", "inventory", "notifications", "gateway"]
ENVS = ["production", "staging"]
TEAMS = {"checkout": "commerce", "payments": "commerce", "search": "discovery", "auth": "identity",
         "inventory": "commerce", "notifications": "platform", "gateway": "platform"}  # fmt: skip
PEOPLE = [str(uuid.uuid5(NS, f"user-{i}")) for i in range(6)]
SEVERITIES = [Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.LOW]
DESCRIPTION = (
    "Raised from {svc}'s alerts in {env}.\n\nRunbook: https://runbooks.example.test/{svc}\n"
    "Escalate to the owning team if not mitigated within the hour."
)
AVAILABILITY = [
    "High error rate on {svc} in {env}",
    "p99 latency above SLO for {svc}",
    "{svc} pods crash-looping after deploy",
    "Disk almost full on {svc} database primary",
    "Spike in 5xx responses from {svc}",
    "{svc} queue consumer lag growing",
    "Certificate for {svc} expires in 7 days",
    "Replica lag on {svc} read replicas",
]
SECURITY = [
    "Unusual login volume against {svc}",
    "Privilege escalation attempt detected on {svc} host",
    "Secrets scanner found a leaked token for {svc}",
    "Outbound traffic to a known bad IP from {svc}",
]
COMMENTS = [
    "Looking into it now.",
    "Rolled back the last deploy; error rate recovering.",
    "Root cause: connection pool exhausted after the config change.",
    "Paging the owning team.",
    "Confirmed customer impact limited to EU region.",
    "Mitigation in place, keeping an eye on it for an hour.",
]


@dataclass
class _Clock:
    t: int
    rng: random.Random
    most: int = 600_000_000  # the longest step, in microseconds

    def __call__(self) -> int:
        self.t += self.rng.randint(5_000_000, self.most)
        return self.t


def _indicators(rng: random.Random, svc: str, env: str, start: int, prio: int) -> Json:
    kind = rng.choice(["alert", "alert", "prometheus", "error"])
    if kind == "alert":
        alert_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        return {"alertIndicators": [{
            "alertId": alert_id, "latestAlertVersion": "v3", "alertVersions": ["v2", "v3"],
            "priority": f"INDICATOR_PRIORITY_P{prio}", "groupingType": "GROUPING_TYPE_NONE",
            "state": "INDICATOR_STATE_TRIGGERED", "triggerTime": to_rfc3339(start),
            "permutations": [{"permutation": {"service": svc, "env": env}}],
        }]}  # fmt: skip
    if kind == "prometheus":
        fp = f"{rng.getrandbits(64):016x}"
        labels = {"alertname": "HighErrorRate", "service": svc, "env": env, "severity": "critical"}
        return {"prometheusAlertIndicators": [{
            "alertGroupId": f'{{}}:{{alertname="HighErrorRate", service="{svc}"}}',
            "status": {"triggered": {"triggeredAt": to_rfc3339(start)}},
            "priority": f"INDICATOR_PRIORITY_P{prio}", "groupLabels": {"alertname": "HighErrorRate"},
            "receiver": "casekeeper", "externalUrl": "http://alertmanager.example.test",
            "receivedAt": to_rfc3339(start), "updatedAt": to_rfc3339(start),
            "alerts": [{
                "alertGroupId": f'{{}}:{{alertname="HighErrorRate", service="{svc}"}}',
                "alertName": "HighErrorRate", "fingerprint": fp,
                "priority": f"INDICATOR_PRIORITY_P{prio}", "labels": labels,
                "annotations": {"summary": f"Error rate above 5% on {svc}"},
                "status": {"triggered": {"triggeredAt": to_rfc3339(start)}},
                "generatorUrl": "http://prometheus.example.test/graph",
                "createdAt": to_rfc3339(start), "updatedAt": to_rfc3339(start),
            }],
        }]}  # fmt: skip
    return {"genericIndicators": [{
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "externalId": f"ERR-{rng.randint(1000, 9999)}",
        "indicatorType": "GENERIC_INDICATOR_TYPE_ERROR_TRACKING",
        "status": "GENERIC_INDICATOR_STATUS_TRIGGERED", "priority": f"INDICATOR_PRIORITY_P{prio}",
        "lastTriggeredAt": to_rfc3339(start),
        "labels": [{"key": "service", "value": svc}],
    }]}  # fmt: skip


@dataclass(frozen=True)
class Loaded:
    cases: int
    incidents: int
    signals: int = 0
    notifications: int = 0
    users: int = 0


def load_demo(
    db: Database,
    *,
    count: int = DEMO_CASES,
    connectors: ConnectorService | None = None,
    routes: RouteService | None = None,
) -> Loaded:
    """Create the demo cases, then the demo incidents under the open ones, where they do not
    exist yet (a database loaded before incidents existed gets them); says how many of each."""
    with db.writer() as uow:
        space_id = uow.spaces.ensure(DEFAULT_SPACE, now_us())
        uow.commit()
    with db.reader() as uow:
        first = uow.cases.get(space_id, CaseRef(raw="", uuid=_case_id(0)))
    bots = [_principal(space_id, n) for n in ("oncall-bot", "sre-console", "alert-router")]
    cases = 0 if first is not None else _load_cases(db, count, bots)
    with db.reader() as uow:
        found = [uow.cases.get(space_id, CaseRef(raw="", uuid=_case_id(i))) for i in range(count)]
    # Over the last days (about three and a half of them), so recent views show some.
    clock = _Clock(now_us() - 5 * 24 * HOUR, random.Random(11), most=HOUR * 3 // 4)  # noqa: S311
    incidents = load_incidents(
        ServiceContext(db=db, clock=clock),
        [x for x in found if x is not None and x.is_open],
        bots,
        PEOPLE,
    )
    sent = load_signals(ServiceContext(db=db), bots[2])
    notify = 0
    if connectors is not None and routes is not None:
        notify = load_notifications(connectors, routes, bots[1])
    people = load_users(ServiceContext(db=db))
    return Loaded(cases, incidents, sent, notify, people)


def _load_cases(db: Database, count: int, bots: list[Principal]) -> int:
    rng = random.Random(20261123)  # noqa: S311 - demo data
    clock = _Clock(now_us() - 14 * 24 * HOUR, random.Random(7))  # noqa: S311 - demo data
    ctx = ServiceContext(db=db, clock=clock)
    admin, cases, timeline = AdminService(ctx), CaseService(ctx), TimelineService(ctx)
    statuses = list(CaseStatus)[1:]
    for i in range(count):
        who = bots[i % len(bots)]
        svc, env = SERVICES[i % len(SERVICES)], ENVS[(i // 3) % 2]
        security = i % 4 == 3
        title = rng.choice(SECURITY if security else AVAILABILITY).format(svc=svc, env=env)
        prio = (i + i // 5) % 5 + 1
        target = statuses[i % len(statuses)]
        spec = NewCase(
            title=title,
            category=CaseCategory.SECURITY if security else CaseCategory.AVAILABILITY,
            priority=CasePriority(prio),
            groupings=[
                KeyValue("service", svc),
                KeyValue("environment", env),
                KeyValue("team", TEAMS[svc]),
            ],
            labels=[
                KeyValue("region", rng.choice(["eu-west-1", "us-east-1", "ap-south-1"])),
                KeyValue("source", "demo"),
            ],
            impacted_entities=[
                {"apmService": {"name": svc, "language": rng.choice(["go", "python", "java"])}}
            ],
            indicators=_indicators(rng, svc, env, clock.t, prio),
            pending=target is CaseStatus.PENDING_ACTIVATION,
            case_id=_case_id(i),
        )
        ref = admin.create_case(who, spec).id

        def change(*commands: cmd.CaseCommand, ref: str = ref, who: Principal = who) -> None:
            cases.change(who, CaseChange(ref, commands))

        if target is CaseStatus.PENDING_ACTIVATION:
            continue
        if i % 3 != 2:
            change(cmd.Assign(PEOPLE[i % len(PEOPLE)]))
        if i % 6 == 0:  # a second assignee, and the fields only some dialects show
            change(
                cmd.SetAssignees((PEOPLE[i % len(PEOPLE)], PEOPLE[(i + 1) % len(PEOPLE)])),
                cmd.SetDescription(DESCRIPTION.format(svc=svc, env=env)),
                cmd.AddTags((svc, env, "security" if security else "availability")),
                cmd.SetSeverity(SEVERITIES[prio - 1]),
            )
        if i % 7 == 0:
            change(cmd.SetPriorityOverride(CasePriority(max(1, prio - 1))))
        for n in range(i % 3):
            timeline.create_comment(who, ref, COMMENTS[(i + n) % len(COMMENTS)])
        if i % 11 == 0:
            timeline.sync_external(who, ref, [ExternalMessage(
                external_id=f"slack-{i}", text="Customer support reports checkout failures.",
                event_time=None, source={"slack": {"workspaceId": "T0DEMO", "channelId": "C0INCIDENT",
                "threadId": f"1700000000.{i:06d}", "userId": "U0SUPPORT", "userEmail": "support@example.test"}},
                actor=None)])  # fmt: skip
        if (
            target in (CaseStatus.ACKNOWLEDGED, CaseStatus.RESOLVED, CaseStatus.CLOSED)
            and i % 2 == 0
        ):
            change(cmd.Acknowledge())
        if target in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
            change(cmd.Resolve("Mitigated; follow-up in postmortem"))
        if target is CaseStatus.CLOSED:
            change(cmd.Close())
        if target is CaseStatus.ACKNOWLEDGED and i % 2 == 1:
            change(cmd.Acknowledge())
    return count


def _case_id(i: int) -> str:
    return str(uuid.uuid5(NS, f"case-{i}"))


def _principal(space_id: int, name: str) -> Principal:
    return Principal(
        key_id=str(uuid.uuid5(NS, f"key-{name}")),
        key_name=name,
        space_id=space_id,
        space_name=DEFAULT_SPACE,
        permissions=frozenset(Permission),
    )
