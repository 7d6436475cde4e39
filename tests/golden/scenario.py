"""The scripted scenario: seeded cases and keys, then every Coralogix RPC (and so every REST
route), their success paths, bulk calls with per-case failures and the error answers. Run the
same way over both transports; ``only`` marks the few steps that exist on one of them.

Case numbers in comments are readable ids (CASE-n); case 6 is created pending and has none
until the system activates it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, Protocol

NS = uuid.UUID("6f0c3a52-9d1e-4b7a-8c55-3e2f1a0b9c7d")


def _id(name: str) -> str:
    return str(uuid.uuid5(NS, name))


CASE = {n: _id(f"golden-case-{n}") for n in range(1, 10)}
ALICE, BOB, CAROL = _id("user-alice"), _id("user-bob"), _id("user-carol")
ALERT_A, ALERT_B = _id("alert-checkout-errors"), _id("alert-checkout-latency")
UNKNOWN_CASE, UNKNOWN_EVENT = _id("no-such-case"), _id("no-such-event")
STARTED = "2026-03-02T07:58:01.250Z"
FINGERPRINT = "9f2c1d7e3b4a5c6d"


class Transport(Protocol):
    name: str

    def tick(self) -> None: ...

    def add_key(
        self, label: str, name: str, *permissions: str, space: str | None = None
    ) -> None: ...

    def system(self, case_id: str, operation: str) -> None: ...

    def revoke(self, label: str) -> None: ...

    def call(
        self,
        name: str,
        rpc: str,
        request: dict[str, Any] | None = None,
        *,
        key: str | None = "admin",
        auth: str | None = None,
        raw: bytes | None = None,
    ) -> dict[str, Any] | None: ...


def only(t: Transport, transport: str, run: Callable[[], object]) -> None:
    """Run ``run`` on ``transport`` only; the other transport's clock still moves on a step,
    so both recordings keep the same times."""
    if t.name == transport:
        run()
    else:
        t.tick()


def _prometheus() -> dict[str, Any]:
    group = '{}:{alertname="HighErrorRate", service="checkout"}'
    firing = {"triggered": {"triggeredAt": STARTED}}
    alert = {
        "alertGroupId": group,
        "alertName": "HighErrorRate",
        "fingerprint": FINGERPRINT,
        "priority": "INDICATOR_PRIORITY_P1",
        "labels": {"alertname": "HighErrorRate", "service": "checkout", "severity": "page"},
        "annotations": {"summary": "Error rate above 5%", "runbook": "https://runbooks.test/e"},
        "status": firing,
        "generatorUrl": "http://prometheus.example.test/graph?g0.expr=errors",
        "createdAt": STARTED,
        "updatedAt": STARTED,
    }
    return {
        "alertGroupId": group,
        "status": firing,
        "priority": "INDICATOR_PRIORITY_P1",
        "groupLabels": {"alertname": "HighErrorRate", "service": "checkout"},
        "receiver": "casekeeper",
        "externalUrl": "http://alertmanager.example.test",
        "receivedAt": STARTED,
        "updatedAt": STARTED,
        "alerts": [alert],
    }


def _alert(alert_id: str, version: str, state: str, permutation: dict[str, str]) -> dict[str, Any]:
    return {
        "alertId": alert_id,
        "latestAlertVersion": version,
        "alertVersions": ["v1", version],
        "priority": "INDICATOR_PRIORITY_P2",
        "groupingType": "GROUPING_TYPE_NONE",
        "state": state,
        "triggerTime": STARTED,
        "permutations": [{"permutation": permutation}],
    }


# Comment attachments, one of each kind.
ATTACHMENTS: list[dict[str, Any]] = [
    {"file": {"fileId": "3f2504e0-4f89-11d3-9a0c-0305e82c3301", "fileName": "steal.txt",
              "isDeleted": False}},
    {"log": {"logId": "4a2504e0-4f89-11d3-9a0c-0305e82c3302", "logTimestamp": STARTED,
             "logContent": "WARN cpu steal 43%", "queryLinkSuffix": "?q=steal"}},
    {"customWidget": {"customDashboardId": "dash-1", "widgetId": "widget-7",
                      "widgetScreenshot": {"fileId": "5b2504e0-4f89-11d3-9a0c-0305e82c3303",
                                           "fileName": "shot.png", "isDeleted": True}}},
]  # fmt: skip

# Two messages of an external thread (Slack, Teams) pushed into a timeline.
THREAD: list[dict[str, Any]] = [
    {
        "externalId": "slack-1700000000.000100",
        "text": "  seen this before on node-3  ",
        "eventTime": STARTED,
        "slack": {
            "workspaceId": "T01",
            "channelId": "C02",
            "threadId": "1700000000.000100",
            "userId": "U03",
            "userEmail": "dana@example.test",
        },
        "actor": {
            "slack": {
                "slackUserId": "U03",
                "displayName": "Dana",
                "userEmail": "dana@example.test",
            }
        },
    },
    {
        "externalId": "teams-msg-9",
        "text": "Teams: vendor ticket opened",
        "microsoftTeams": {
            "tenantId": "0b6f0d6e-8a0c-4a51-9d5e-0c1f2a3b4c5d",
            "teamId": "team-1",
            "channelId": "ch-1",
            "messageId": "msg-9",
            "messageUrl": "https://teams.example.test/m/9",
        },
    },
]


RICH: dict[str, Any] = {
    "impacted_entities": [
        {"apmService": {"name": "checkout", "language": "go"}},
        {"apmDatabase": {"name": "orders-db", "system": "postgresql"}},
    ],
    "indicators": {
        "alertIndicators": [
            _alert(ALERT_A, "v3", "INDICATOR_STATE_TRIGGERED", {"service": "checkout", "az": "b"}),
            _alert(ALERT_B, "v2", "INDICATOR_STATE_RESOLVED", {"service": "checkout"}),
        ],
        "prometheusAlertIndicators": [_prometheus()],
        "genericIndicators": [
            {
                "id": _id("generic-1"),
                "externalId": "ERR-1234",
                "indicatorType": "GENERIC_INDICATOR_TYPE_ERROR_TRACKING",
                "status": "GENERIC_INDICATOR_STATUS_TRIGGERED",
                "priority": "INDICATOR_PRIORITY_P3",
                "lastTriggeredAt": STARTED,
                "labels": [{"key": "service", "value": "checkout"}],
            }
        ],
    },
    "kpi_breaches": [
        {
            "id": _id("kpi-1"),
            "createdAt": STARTED,
            "kpiType": "KPI_TYPE_TIME_TO_ACKNOWLEDGE",
            "casePriority": "KPI_PRIORITY_P2",
            "breachedAt": STARTED,
            "breachStatus": "BREACH_STATUS_BREACHED",
        }
    ],
    "ai_summary": "Checkout error rate spiked after the 08:00 deploy; orders-db is saturated.",
}

# (title, category, priority, labels, groupings, extra NewCase fields); category 1 is
# SECURITY, 2 AVAILABILITY. Mixed-case grouping keys and label values show the sort order.
SEEDS: list[tuple[str, int, int, dict[str, str], dict[str, str], dict[str, Any]]] = [
    ("Checkout error rate above 5%", 2, 2, {"team": "payments", "env": "prod"},
     {"service": "checkout", "Region": "eu-west"}, {**RICH, "assignee": ALICE}),
    ("Login latency degraded", 2, 3, {"team": "identity", "env": "prod"},
     {"service": "auth"}, {}),
    ("Disk almost full on orders-db", 2, 4, {"team": "payments", "env": "Staging"},
     {"service": "orders-db", "Region": "us-east"}, {}),
    ("Suspicious login burst from one ASN", 1, 1, {"team": "security"},
     {"service": "auth"}, {"assignee": BOB}),
    ("Queue backlog growing", 2, 5, {"env": "prod"}, {"service": "billing"}, {}),
    ("Canary failing in eu-west", 2, 3, {"env": "canary"}, {}, {"pending": True}),
    ("TLS certificate expires in 7 days", 1, 4, {"team": "platform"}, {"service": "edge"}, {}),
    ("Noisy neighbour on node-3 — CPU steal über 40%", 2, 5, {"team": "platform", "env": "prod"},
     {"service": "compute"}, {"ai_summary": "Steal time from a co-tenant VM."}),
]  # fmt: skip


def seed(t: Transport, create: Callable[[str, dict[str, Any]], None]) -> None:
    """Keys, then the cases (ids chosen here; one clock step each)."""
    t.add_key("reader", "golden reader", "case:Read")
    t.add_key("other", "golden other space", space="golden-other")
    t.add_key("revoked", "golden revoked")
    for n, (title, category, priority, labels, groupings, extra) in enumerate(SEEDS, 1):
        t.tick()
        fields = {"title": title, "category": category, "priority": priority}
        create(CASE[n], {**fields, "labels": labels, "groupings": groupings, **extra})
