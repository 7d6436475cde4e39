"""Demo signals: what an Alertmanager and a PagerDuty-speaking tool would have sent, through
``SignalService.ingest`` like any real delivery, so the demo has cases born from alerts, with
Prometheus and generic indicators, a resolved group, a re-send and a truncated notification.

Loaded once: a space that has the first demo firing already is left alone.
"""

from __future__ import annotations

from casekeeper.domain.case_settings import MINUTE
from casekeeper.domain.signals import Signal, SignalBatch, SignalStatus, Source
from casekeeper.service.auth import Principal
from casekeeper.service.context import ServiceContext
from casekeeper.service.signals import SignalService

AM_URL = "http://alertmanager.example.test:9093"
F, R = SignalStatus.FIRING, SignalStatus.RESOLVED


def _am(
    name: str, service: str, instance: str, severity: str, starts: int, status: SignalStatus = F,
    summary: str = "",
) -> Signal:  # fmt: skip
    labels = {"alertname": name, "service": service, "instance": instance, "severity": severity}
    return Signal(
        dedup_key=_fingerprint(name, service, instance),
        status=status,
        title=name,
        labels=labels,
        annotations={
            "summary": summary or f"{name} on {instance}",
            "runbook_url": f"https://runbooks.example.test/{name.lower()}",
        },
        starts_at=starts,
        ends_at=starts + 20 * MINUTE if status is R else None,
        generator_url="http://prometheus.example.test:9090/graph?g0.expr=up",
        group_key=f'{{}}:{{alertname="{name}", service="{service}"}}',
        group_labels={"alertname": name, "service": service},
    )


def _fingerprint(*parts: str) -> str:
    """A stable 16-hex-digit id, shaped like Alertmanager's fingerprints (FNV-1a 64)."""
    h = 0xCBF29CE484222325
    for byte in "\xff".join(parts).encode():
        h = ((h ^ byte) * 0x100000001B3) % 2**64
    return f"{h:016x}"


def load_signals(ctx: ServiceContext, who: Principal) -> int:
    """Send the demo deliveries; how many signals were sent (0 when loaded before)."""
    now = ctx.clock()
    first = _am("DiskFull", "db", "db-1:9100", "critical", now - 90 * MINUTE)
    with ctx.db.reader() as uow:
        if uow.firings.latest(who.space_id, Source.ALERTMANAGER, first.dedup_key) is not None:
            return 0
    signals = SignalService(ctx)
    t0 = now - 90 * MINUTE
    disk = [
        first,
        _am("DiskFull", "db", "db-2:9100", "critical", t0 + 5 * MINUTE, summary="Disk 95% full"),
    ]
    latency = [_am("HighLatency", "checkout", "checkout-7", "warning", t0 + 20 * MINUTE)]
    cert = _am("CertExpiry", "web", "web-1:443", "warning", t0 + 10 * MINUTE)
    deliveries = [
        SignalBatch(Source.ALERTMANAGER, tuple(disk), receiver="sre", external_url=AM_URL),
        SignalBatch(Source.ALERTMANAGER, tuple(disk), receiver="sre", external_url=AM_URL),
        SignalBatch(
            Source.ALERTMANAGER, tuple(latency), receiver="sre", external_url=AM_URL, truncated=3
        ),
        SignalBatch(Source.ALERTMANAGER, (cert,), receiver="sre", external_url=AM_URL),
        SignalBatch(
            Source.ALERTMANAGER,
            (_am("CertExpiry", "web", "web-1:443", "warning", t0 + 10 * MINUTE, R),),
            receiver="sre",
            external_url=AM_URL,
        ),
        SignalBatch(
            Source.PAGERDUTY,
            (
                Signal(
                    "queue-backlog-payments",
                    F,
                    "Payments queue backlog above 10k",
                    labels={"source": "rabbitmq-exporter", "component": "payments-queue"},
                    annotations={"backlog": "12843"},
                    severity="error",
                ),
            ),
            sender="Datadog",
        ),
    ]
    for batch in deliveries:
        signals.ingest(who, batch)
    return sum(len(b.signals) for b in deliveries)
