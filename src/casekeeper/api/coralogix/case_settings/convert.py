"""Case settings messages ⇄ domain settings, with the spec's enum names.

Reading: an unset member takes the system default (proto3 cannot tell an unset enum from its
UNSPECIFIED member, so ``ALERT_SUPPRESSION_STRATEGY_UNSPECIFIED`` is the default strategy too);
an enum number the spec does not name is INVALID_ARGUMENT, naming the field in the spec's words.
Writing: every member is set, so a reader sees the values in force, defaults included.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum
from typing import Any, TypeVar

from google.protobuf.duration_pb2 import Duration

from casekeeper.api.coralogix.convert import set_time
from casekeeper.domain.case_settings import (
    SECOND,
    CaseLifecycle,
    CaseSettings,
    IndicatorFilter,
    IndicatorPriority,
    KpiThreshold,
    KpiType,
    SuppressionStrategy,
)
from casekeeper.domain.enums import CasePriority
from casekeeper.domain.errors import invalid
from casekeeper.domain.model import KeyValue, Micros
from casekeeper.proto.com.coralogixapis.cases.v1 import case_settings_pb2 as pb
from casekeeper.service.case_settings import SettingsChange

E = TypeVar("E", bound=IntEnum)
_DEFAULT_LIFE = CaseLifecycle()
# Enum → the spec's prefix of its member names.
_PREFIX: dict[type[IntEnum], str] = {
    IndicatorPriority: "INDICATOR_PRIORITY_",
    CasePriority: "CASE_PRIORITY_",
    KpiType: "KPI_TYPE_",
    SuppressionStrategy: "ALERT_SUPPRESSION_STRATEGY_",
}


def enum_value(enum: type[E], number: int, *, field: str) -> E:
    """``number`` as a member of ``enum``; UNSPECIFIED or an unknown number is refused."""
    names = ", ".join(_PREFIX[enum] + m.name for m in enum if m.value)
    if number == 0:
        raise invalid(f"required; use one of {names}", field=field)
    try:
        return enum(number)
    except ValueError:
        raise invalid(f"unknown value {number}; use one of {names}", field=field) from None


def micros(d: Duration) -> Micros:
    """A Duration in microseconds (finer parts dropped); negative ones stay negative, for the
    service to refuse in its words."""
    return d.seconds * SECOND + int(d.nanos / 1000)


def set_duration(d: Duration, value: Micros) -> None:
    seconds, us = divmod(value, SECOND)
    d.seconds = seconds
    d.nanos = us * 1000


# -- messages → domain -------------------------------------------------------------------------


def _filter(f: pb.IndicatorFilter, where: str) -> IndicatorFilter:
    priorities: tuple[IndicatorPriority, ...] | None = None
    if f.priorities.WhichOneof("filter") == "values":
        at = f"{where}.priorities.values.items"
        priorities = tuple(
            enum_value(IndicatorPriority, n, field=f"{at}[{i}]")
            for i, n in enumerate(f.priorities.values.items)
        )
    labels: tuple[KeyValue, ...] | None = None
    if f.entity_labels.WhichOneof("filter") == "values":
        labels = tuple(KeyValue(kv.key, kv.value) for kv in f.entity_labels.values.items)
    return IndicatorFilter(
        enabled=f.enabled if f.HasField("enabled") else True,
        priorities=priorities,
        entity_labels=labels,
    )


def filters(g: pb.GlobalIndicatorSettings) -> tuple[IndicatorFilter, ...]:
    where = "global_indicator_settings.filtering_conditions"
    return tuple(_filter(f, f"{where}[{n}]") for n, f in enumerate(g.filtering_conditions))


def _kpi(k: pb.KPISettings, where: str) -> KpiThreshold:
    return KpiThreshold(
        type=enum_value(KpiType, k.type, field=f"{where}.type"),
        priority=enum_value(CasePriority, k.priority, field=f"{where}.priority"),
        threshold=micros(k.threshold),
        enabled=k.enabled if k.HasField("enabled") else True,
    )


def lifecycle(life: pb.CaseLifecycle) -> CaseLifecycle:
    d = _DEFAULT_LIFE
    auto_resolve, auto_close = life.auto_resolve, life.auto_close
    strategy = SuppressionStrategy.IGNORE
    if life.alert_suppression_strategy:
        strategy = enum_value(
            SuppressionStrategy,
            life.alert_suppression_strategy,
            field="case_lifecycle.alert_suppression_strategy",
        )
    return CaseLifecycle(
        suppression_period=(
            micros(life.suppression_period)
            if life.HasField("suppression_period")
            else d.suppression_period
        ),
        resolution_snooze_period=(
            micros(life.resolution_snooze_period)
            if life.HasField("resolution_snooze_period")
            else d.resolution_snooze_period
        ),
        auto_resolve=(auto_resolve.enabled if auto_resolve.HasField("enabled") else d.auto_resolve),
        inactive_period=(
            micros(auto_resolve.inactive_period)
            if auto_resolve.HasField("inactive_period")
            else d.inactive_period
        ),
        post_resolution_period=(
            micros(auto_close.post_resolution_period)
            if auto_close.HasField("post_resolution_period")
            else d.post_resolution_period
        ),
        kpis=tuple(
            _kpi(k, f"case_lifecycle.kpi.thresholds[{n}]")
            for n, k in enumerate(life.kpi.thresholds)
        ),
        suppression_strategy=strategy,
    )


def change(r: Any) -> SettingsChange:
    """The parts a Create or Update request gives (``name``, the global indicator settings,
    the lifecycle), each None when absent."""
    given = r.HasField
    g = r.global_indicator_settings
    has_global = given("global_indicator_settings")
    return SettingsChange(
        name=r.name if given("name") else None,
        indicators_enabled=((g.enabled if g.HasField("enabled") else True) if has_global else None),
        filters=filters(g) if has_global else None,
        lifecycle=lifecycle(r.case_lifecycle) if given("case_lifecycle") else None,
    )


# -- domain → messages -------------------------------------------------------------------------


def _filter_to_pb(f: IndicatorFilter, out: pb.IndicatorFilter) -> None:
    out.enabled = f.enabled
    if f.priorities is None:
        out.priorities.all.SetInParent()
    else:
        out.priorities.values.SetInParent()
        out.priorities.values.items.extend(int(p) for p in f.priorities)  # type: ignore[misc]
    if f.entity_labels is None:
        out.entity_labels.all.SetInParent()
    else:
        out.entity_labels.values.SetInParent()
        for kv in f.entity_labels:
            out.entity_labels.values.items.add(key=kv.key, value=kv.value)


def global_to_pb(
    enabled: bool, items: Iterable[IndicatorFilter], out: pb.GlobalIndicatorSettings
) -> None:
    out.enabled = enabled
    for f in items:
        _filter_to_pb(f, out.filtering_conditions.add())


def lifecycle_to_pb(life: CaseLifecycle, out: pb.CaseLifecycle) -> None:
    set_duration(out.suppression_period, life.suppression_period)
    set_duration(out.resolution_snooze_period, life.resolution_snooze_period)
    out.auto_resolve.enabled = life.auto_resolve
    if life.inactive_period is not None:
        set_duration(out.auto_resolve.inactive_period, life.inactive_period)
    set_duration(out.auto_close.post_resolution_period, life.post_resolution_period)
    out.kpi.SetInParent()
    for k in life.kpis:
        item = out.kpi.thresholds.add(
            enabled=k.enabled,
            type=int(k.type),
            priority=int(k.priority),
        )
        set_duration(item.threshold, k.threshold)
    out.alert_suppression_strategy = int(life.suppression_strategy)  # type: ignore[assignment]


def settings_to_pb(s: CaseSettings, out: pb.CaseSettings) -> pb.CaseSettings:
    out.id = s.id
    out.name = s.name
    set_time(out.create_time, s.create_time)
    set_time(out.update_time, s.update_time)
    global_to_pb(s.indicators_enabled, s.filters, out.global_indicator_settings)
    lifecycle_to_pb(s.lifecycle, out.case_lifecycle)
    return out
