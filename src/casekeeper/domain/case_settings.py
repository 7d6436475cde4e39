"""Case settings: how a space turns signals into cases and when cases move by themselves.

The shape is Coralogix's ``CaseSettings`` (API_DIGEST §2.4): global indicator settings (on/off and
OR'ed filters, each filter's parts AND'ed) and the case lifecycle (suppression period, resolution
snooze, auto-resolve, auto-close, KPI thresholds, suppressed-alert strategy). casekeeper adds what
its own ingestion needs (``SignalRules``): extra grouping labels, the severity → priority map, the
category label, acknowledge-until-clear and reconciliation. A space has at most one active
settings record; without one the system defaults apply. Durations are microseconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from types import MappingProxyType
from typing import Final

from casekeeper.domain.enums import CaseCategory, CasePriority
from casekeeper.domain.model import KeyValue, Micros

SECOND: Final = 1_000_000
MINUTE: Final = 60 * SECOND
HOUR: Final = 60 * MINUTE
DAY: Final = 24 * HOUR


class IndicatorPriority(IntEnum):
    """An indicator's priority at trigger time (P1 most urgent)."""

    UNSPECIFIED = 0
    P1 = 1
    P2 = 2
    P3 = 3
    P4 = 4
    P5 = 5

    @property
    def case_priority(self) -> CasePriority:
        return CasePriority(self.value) if self.value else CasePriority.P3


class KpiType(IntEnum):
    UNSPECIFIED = 0
    TIME_TO_ACKNOWLEDGE = 1
    TIME_TO_RESOLVE = 2
    TIME_TO_UPDATE = 3


class SuppressionStrategy(IntEnum):
    """What a suppressed (silenced, muted) alert does: nothing, or open a case all the same."""

    UNSPECIFIED = 0
    IGNORE = 1
    CREATE_CASE = 2


@dataclass(frozen=True, slots=True)
class IndicatorFilter:
    """Which signals count. ``None`` is "all"; an empty tuple matches nothing (the spec's rule)."""

    enabled: bool = True
    priorities: tuple[IndicatorPriority, ...] | None = None
    entity_labels: tuple[KeyValue, ...] | None = None

    def matches(self, priority: IndicatorPriority, labels: Mapping[str, str]) -> bool:
        if self.priorities is not None and priority not in self.priorities:
            return False
        if self.entity_labels is not None:
            return any(labels.get(kv.key) == kv.value for kv in self.entity_labels)
        return True


@dataclass(frozen=True, slots=True)
class KpiThreshold:
    type: KpiType
    priority: CasePriority
    threshold: Micros
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class CaseLifecycle:
    suppression_period: Micros = 0  # a case waits this long in PENDING_ACTIVATION
    resolution_snooze_period: Micros = 0  # a re-firing alert rejoins its resolved case
    auto_resolve: bool = True  # when every indicator has resolved
    inactive_period: Micros | None = None  # auto-resolve after this long without news
    post_resolution_period: Micros = 7 * DAY  # RESOLVED → CLOSED after this long
    kpis: tuple[KpiThreshold, ...] = ()
    suppression_strategy: SuppressionStrategy = SuppressionStrategy.IGNORE

    def kpi(self, type_: KpiType, priority: CasePriority) -> KpiThreshold | None:
        for k in self.kpis:
            if k.enabled and k.type is type_ and k.priority is priority:
                return k
        return None


# A severity label's value (lower-cased) → the indicator's priority. Values cover Prometheus
# conventions, PagerDuty's four severities, OCSF's names and P-numbers.
DEFAULT_PRIORITY_MAP: Final[Mapping[str, IndicatorPriority]] = MappingProxyType(
    {
        key: IndicatorPriority(n)
        for names, n in (
            (("critical", "fatal", "page", "p1", "emergency", "disaster"), 1),
            (("high", "error", "major", "p2", "err"), 2),
            (("warning", "warn", "medium", "average", "p3"), 3),
            (("low", "minor", "p4"), 4),
            (("info", "informational", "none", "notice", "debug", "p5"), 5),
        )
        for key in names
    }
)


@dataclass(frozen=True, slots=True)
class SignalRules:
    """casekeeper's own ingestion settings (no Coralogix counterpart)."""

    # Labels whose values group incidents into one case across the sender's own groups
    # (e.g. ``("service",)``: every alert of service=checkout joins one open case).
    grouping_labels: tuple[str, ...] = ()
    severity_label: str = "severity"
    priority_map: Mapping[str, IndicatorPriority] = field(
        default_factory=lambda: DEFAULT_PRIORITY_MAP
    )
    default_priority: IndicatorPriority = IndicatorPriority.P3
    category_label: str = "category"
    default_category: CaseCategory = CaseCategory.AVAILABILITY
    # Acknowledging a case silences its Alertmanager alerts until they clear.
    acknowledge_silences: bool = False
    reconcile_interval: Micros = 5 * MINUTE  # 0 turns scheduled reconciliation off
    # Heartbeats: signal title (e.g. Prometheus' "Watchdog") → the longest silence allowed. A
    # heartbeat signal opens no case; its absence for longer than this does. Alertmanager
    # re-sends an unchanged group only every repeat_interval: the heartbeat's route needs a
    # repeat_interval shorter than this (docs/SIGNALS.md).
    heartbeats: Mapping[str, Micros] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CaseSettings:
    id: str  # a lowercase UUID; "" for the system defaults
    space_id: int
    name: str = "System defaults"
    create_time: Micros = 0
    update_time: Micros = 0
    indicators_enabled: bool = True  # false: no signal becomes a case
    filters: tuple[IndicatorFilter, ...] = ()  # OR'ed; empty: every signal counts
    lifecycle: CaseLifecycle = CaseLifecycle()
    rules: SignalRules = SignalRules()
    active: bool = False

    def admits(self, priority: IndicatorPriority, labels: Mapping[str, str]) -> bool:
        """Whether a signal of this priority and these labels may become part of a case."""
        if not self.indicators_enabled:
            return False
        live = [f for f in self.filters if f.enabled]
        return not live or any(f.matches(priority, labels) for f in live)


def system_defaults(space_id: int) -> CaseSettings:
    return CaseSettings(id="", space_id=space_id)
