"""Prometheus metrics: requests by route and status, latency, and cases by status."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from casekeeper.domain.enums import CaseStatus

BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class _CasesCollector(Collector):
    """Cases by status; by space too only when asked for, since space names are tenants'
    names and the endpoint may be reachable by anyone who reaches the port."""

    def __init__(
        self, source: Callable[[], list[tuple[str, CaseStatus, int]]], by_space: bool
    ) -> None:
        self.source = source
        self.by_space = by_space

    def collect(self) -> Iterable[Metric]:
        if self.by_space:
            gauge = GaugeMetricFamily(
                "casekeeper_cases", "Cases by space and status.", labels=["space", "status"]
            )
            for space, status, count in self.source():
                gauge.add_metric([space, status.name], count)
            yield gauge
            return
        totals = dict.fromkeys((s.name for s in CaseStatus if s), 0)
        for _, status, count in self.source():
            totals[status.name] = totals.get(status.name, 0) + count
        gauge = GaugeMetricFamily("casekeeper_cases", "Cases by status.", labels=["status"])
        for name, count in totals.items():
            gauge.add_metric([name], count)
        yield gauge


class _BacklogCollector(Collector):
    """The notification backlog: what the delivery worker has still to route and to send. A
    backlog that keeps growing means the worker is down or slower than the changes."""

    def __init__(self, source: Callable[[], tuple[int, int]]) -> None:
        self.source = source

    def collect(self) -> Iterable[Metric]:
        outbox, deliveries = self.source()
        yield GaugeMetricFamily(
            "casekeeper_outbox_backlog", "Case events waiting to be routed.", value=outbox
        )
        yield GaugeMetricFamily(
            "casekeeper_notification_deliveries_open",
            "Notification deliveries pending or being sent (retries included).",
            value=deliveries,
        )


class _ReplicaCollector(Collector):
    """Where the reads marked for the standby went, and its lag (docs/REPLICA.md): reads
    falling back to the primary because the standby is behind or unhealthy say why."""

    def __init__(self, source: Callable[[], tuple[dict[str, int], float]]) -> None:
        self.source = source

    def collect(self) -> Iterable[Metric]:
        counts, lag = self.source()
        reads = CounterMetricFamily(
            "casekeeper_replica_reads",
            "Reads that may use the standby, by where they ran (replica; primary_behind: the "
            "caller's own write not replayed yet; primary_unhealthy; retried: failed there).",
            labels=["served_by"],
        )
        for name, n in sorted(counts.items()):
            reads.add_metric([name], n)
        yield reads
        yield GaugeMetricFamily(
            "casekeeper_replica_lag_seconds", "The standby's replay lag at the last poll.", lag
        )


class Metrics:
    def __init__(
        self,
        cases_by_status: Callable[[], list[tuple[str, CaseStatus, int]]],
        *,
        by_space: bool = False,
        backlog: Callable[[], tuple[int, int]] | None = None,
        replica: Callable[[], tuple[dict[str, int], float]] | None = None,
    ) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "casekeeper_http_requests",
            "HTTP requests by route, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "casekeeper_http_request_duration_seconds",
            "HTTP request latency by route and method.",
            ["route", "method"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_CasesCollector(cases_by_status, by_space))
        if backlog is not None:
            self.registry.register(_BacklogCollector(backlog))
        if replica is not None:
            self.registry.register(_ReplicaCollector(replica))
        # The labelled children by label values: ``labels()`` validates and locks on every
        # call, and every request observes two of them. Routes are a fixed table, so the
        # caches stay small.
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._timers: dict[tuple[str, str], Any] = {}

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        counter = self._counters.get((route, method, status))
        if counter is None:
            counter = self.requests.labels(route, method, str(status))
            self._counters[(route, method, status)] = counter
        timer = self._timers.get((route, method))
        if timer is None:
            timer = self._timers[(route, method)] = self.latency.labels(route, method)
        counter.inc()
        timer.observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
