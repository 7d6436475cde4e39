"""A space's case settings: one row, the settings as JSON beside the id, name and times.

The JSON is casekeeper's own (snake_case, durations in microseconds, enums by name), written
with every field so a later default change never alters a stored setting.
"""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa

from casekeeper.domain.case_settings import (
    CaseLifecycle,
    CaseSettings,
    IndicatorFilter,
    IndicatorPriority,
    KpiThreshold,
    KpiType,
    SignalRules,
    SuppressionStrategy,
    system_defaults,
)
from casekeeper.domain.enums import CaseCategory, CasePriority
from casekeeper.domain.model import KeyValue
from casekeeper.store import driver
from casekeeper.store.schema import case_settings as cs

Doc = dict[str, Any]


def _filter(f: IndicatorFilter) -> Doc:
    return {
        "enabled": f.enabled,
        "priorities": None if f.priorities is None else [p.name for p in f.priorities],
        "entity_labels": (
            None if f.entity_labels is None else [[kv.key, kv.value] for kv in f.entity_labels]
        ),
    }


def _filter_from(d: Doc) -> IndicatorFilter:
    prios, labels = d.get("priorities"), d.get("entity_labels")
    return IndicatorFilter(
        enabled=bool(d.get("enabled", True)),
        priorities=None if prios is None else tuple(IndicatorPriority[p] for p in prios),
        entity_labels=None if labels is None else tuple(KeyValue(k, v) for k, v in labels),
    )


def encode(s: CaseSettings) -> bytes:
    life, rules = s.lifecycle, s.rules
    doc: Doc = {
        "indicators_enabled": s.indicators_enabled,
        "filters": [_filter(f) for f in s.filters],
        "lifecycle": {
            "suppression_period": life.suppression_period,
            "resolution_snooze_period": life.resolution_snooze_period,
            "auto_resolve": life.auto_resolve,
            "inactive_period": life.inactive_period,
            "post_resolution_period": life.post_resolution_period,
            "kpis": [[k.type.name, k.priority.name, k.threshold, k.enabled] for k in life.kpis],
            "suppression_strategy": life.suppression_strategy.name,
        },
        "rules": {
            "grouping_labels": list(rules.grouping_labels),
            "severity_label": rules.severity_label,
            "priority_map": {k: v.name for k, v in rules.priority_map.items()},
            "default_priority": rules.default_priority.name,
            "category_label": rules.category_label,
            "default_category": rules.default_category.name,
            "acknowledge_silences": rules.acknowledge_silences,
            "reconcile_interval": rules.reconcile_interval,
            "heartbeats": dict(rules.heartbeats),
        },
    }
    return orjson.dumps(doc)


_COLUMNS = ("id", "space_id", "name", "doc", "create_time", "update_time")


def decode(row: Any) -> CaseSettings:
    m = dict(zip(_COLUMNS, row, strict=True)) if isinstance(row, tuple) else row._mapping
    doc: Doc = orjson.loads(m["doc"])
    life, rules = doc.get("lifecycle", {}), doc.get("rules", {})
    base_life, base_rules = CaseLifecycle(), SignalRules()
    return CaseSettings(
        id=m["id"],
        space_id=m["space_id"],
        name=m["name"],
        create_time=m["create_time"],
        update_time=m["update_time"],
        indicators_enabled=bool(doc.get("indicators_enabled", True)),
        filters=tuple(_filter_from(f) for f in doc.get("filters", [])),
        lifecycle=CaseLifecycle(
            suppression_period=life.get("suppression_period", base_life.suppression_period),
            resolution_snooze_period=life.get(
                "resolution_snooze_period", base_life.resolution_snooze_period
            ),
            auto_resolve=life.get("auto_resolve", base_life.auto_resolve),
            inactive_period=life.get("inactive_period"),
            post_resolution_period=life.get(
                "post_resolution_period", base_life.post_resolution_period
            ),
            kpis=tuple(
                KpiThreshold(KpiType[t], CasePriority[p], threshold, enabled)
                for t, p, threshold, enabled in life.get("kpis", [])
            ),
            suppression_strategy=SuppressionStrategy[
                life.get("suppression_strategy", base_life.suppression_strategy.name)
            ],
        ),
        rules=SignalRules(
            grouping_labels=tuple(rules.get("grouping_labels", ())),
            severity_label=rules.get("severity_label", base_rules.severity_label),
            priority_map=(
                {k: IndicatorPriority[v] for k, v in rules["priority_map"].items()}
                if "priority_map" in rules
                else base_rules.priority_map
            ),
            default_priority=IndicatorPriority[
                rules.get("default_priority", base_rules.default_priority.name)
            ],
            category_label=rules.get("category_label", base_rules.category_label),
            default_category=CaseCategory[
                rules.get("default_category", base_rules.default_category.name)
            ],
            acknowledge_silences=bool(rules.get("acknowledge_silences", False)),
            reconcile_interval=rules.get("reconcile_interval", base_rules.reconcile_interval),
            heartbeats=dict(rules.get("heartbeats", {})),
        ),
        active=True,
    )


class CaseSettingsRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def find(self, space_id: int, *, for_update: bool = False) -> CaseSettings | None:
        """The space's stored settings, if it has any (``for_update``: locked until the
        transaction ends, so a concurrent change waits and then applies to this one's)."""
        # Every ingestion request reads it: a plain statement, not a compiled expression.
        m = driver.mark(self.conn)
        columns = ", ".join(f'"{c}"' for c in _COLUMNS)
        sql = f'SELECT {columns} FROM "case_settings" WHERE "space_id" = {m}'  # noqa: S608
        if for_update and self.conn.dialect.name != "sqlite":  # SQLite's writer holds it all
            sql += " FOR UPDATE"
        rows = driver.fetch(self.conn, sql, (space_id,), one=True)
        return decode(tuple(rows[0])) if rows else None

    def active(self, space_id: int) -> CaseSettings:
        """The settings in force: the stored ones, else the system defaults."""
        return self.find(space_id) or system_defaults(space_id)

    def get(
        self, space_id: int, settings_id: str, *, for_update: bool = False
    ) -> CaseSettings | None:
        stmt = sa.select(cs).where(cs.c.space_id == space_id, cs.c.id == settings_id)
        row = self.conn.execute(stmt.with_for_update() if for_update else stmt).first()
        return None if row is None else decode(row)

    def add(self, s: CaseSettings) -> None:
        self.conn.execute(
            sa.insert(cs).values(
                id=s.id,
                space_id=s.space_id,
                name=s.name,
                doc=encode(s).decode(),
                create_time=s.create_time,
                update_time=s.update_time,
            )
        )

    def save(self, s: CaseSettings) -> bool:
        result = self.conn.execute(
            sa.update(cs)
            .where(cs.c.space_id == s.space_id, cs.c.id == s.id)
            .values(name=s.name, doc=encode(s).decode(), update_time=s.update_time)
        )
        return bool(result.rowcount)

    def delete(self, space_id: int, settings_id: str) -> bool:
        result = self.conn.execute(
            sa.delete(cs).where(cs.c.space_id == space_id, cs.c.id == settings_id)
        )
        return bool(result.rowcount)
