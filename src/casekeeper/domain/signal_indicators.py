"""A case's indicators kept in step with its signals, in the Coralogix spec's JSON shape.

Alertmanager signals are ``prometheusAlertIndicators``: one per Alertmanager group (its
``alertGroupId`` is the group key) holding each alert by fingerprint, with its labels,
annotations, generator URL and trigger/resolve times. Every other source's signal is a
``genericIndicator`` keyed by its dedup key. The case's system priority is derived from them
(``derived_priority``), and says which indicator gave it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

import orjson

from casekeeper.domain.case_settings import IndicatorPriority
from casekeeper.domain.model import Json, Micros
from casekeeper.domain.signals import Signal, SignalStatus, Source
from casekeeper.domain.timeutil import to_rfc3339

MAX_ALERTS: Final = 1000  # alerts in one Prometheus indicator, indicators in one list (spec)
MAX_ID: Final = 256
MAX_ENTITY_LINKS: Final = 100
_NS: Final = uuid.UUID("6d1f6f3e-5a3c-4d7e-9a55-2f1c9b1f0a11")  # generic indicator ids


@dataclass(frozen=True, slots=True)
class Seen:
    """One signal as its indicator records it."""

    signal: Signal
    source: Source
    starts_at: Micros
    priority: IndicatorPriority
    receiver: str | None
    external_url: str | None
    now: Micros
    reason: str = ""  # why it has its priority, in a sentence (the rule that applied)


def _prio(p: IndicatorPriority) -> str:
    return f"INDICATOR_PRIORITY_{p.name}"


def _prio_of(text: object) -> IndicatorPriority:
    name = str(text or "").removeprefix("INDICATOR_PRIORITY_")
    return IndicatorPriority.__members__.get(name, IndicatorPriority.UNSPECIFIED)


def _status(seen: Seen) -> Json:
    started = to_rfc3339(seen.starts_at)
    if seen.signal.status is SignalStatus.RESOLVED:
        ended = seen.signal.ends_at if seen.signal.ends_at is not None else seen.now
        return {"resolved": {"triggeredAt": started, "resolvedAt": to_rfc3339(ended)}}
    return {"triggered": {"triggeredAt": started}}


def _cut(text: str, n: int = MAX_ID) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _strings(values: Mapping[str, str], limit: int = 4096) -> dict[str, str]:
    return {k[:limit]: v[:limit] for k, v in values.items()}


class IndicatorEditor:
    """A case's indicators being brought up to date by many signals: copied once, indexed
    once, edited in place; ``result`` finishes the groups that changed."""

    def __init__(self, indicators: Json) -> None:
        self.doc: Json = orjson.loads(orjson.dumps(indicators))
        groups = self.doc.setdefault("prometheusAlertIndicators", [])
        self.groups: dict[str, Json] = {str(g.get("alertGroupId")): g for g in groups}
        self.alerts: dict[tuple[str, str], Json] = {
            (gid, str(a.get("fingerprint"))): a
            for gid, g in self.groups.items()
            for a in g.get("alerts") or []
        }
        generic = self.doc.setdefault("genericIndicators", [])
        self.generic: dict[str, Json] = {str(x.get("externalId")): x for x in generic}
        self.touched: set[str] = set()

    def apply(self, seen: Seen) -> None:
        if seen.source is Source.ALERTMANAGER:
            self._prometheus(seen)
        else:
            self._generic(seen)

    def result(self) -> Json:
        for gid in self.touched:
            _finish_group(self.groups[gid])
        self.touched.clear()
        out = dict(self.doc)
        for name in ("prometheusAlertIndicators", "genericIndicators"):
            if not out.get(name):
                out.pop(name, None)
        return out

    def _prometheus(self, seen: Seen) -> None:
        s = seen.signal
        gid = _cut(s.group_key or s.dedup_key)
        now = to_rfc3339(seen.now)
        group = self.groups.get(gid)
        if group is None:
            if len(self.groups) >= MAX_ALERTS:
                return
            group = {"alertGroupId": gid, "receivedAt": now, "alerts": []}
            self.groups[gid] = group
            self.doc["prometheusAlertIndicators"].append(group)
        group.update(
            groupLabels=_strings(s.group_labels),
            receiver=seen.receiver or "",
            externalUrl=seen.external_url or "",
            updatedAt=now,
        )
        alert = self.alerts.get((gid, s.dedup_key))
        if alert is None:
            alerts: list[Json] = group.setdefault("alerts", [])
            if len(alerts) >= MAX_ALERTS and not _made_room(alerts, self.alerts, gid):
                self.touched.add(gid)  # the spec's limit: its incident still has it
                return
            alert = {"alertGroupId": gid, "fingerprint": s.dedup_key, "createdAt": now}
            self.alerts[(gid, s.dedup_key)] = alert
            alerts.append(alert)
        alert.update(
            alertName=_cut(s.title) or "alert",
            priority=_prio(seen.priority),
            labels=_strings(s.labels),
            annotations=_strings(s.annotations),
            status=_status(seen),
            generatorUrl=s.generator_url or "",
            updatedAt=now,
        )
        self.touched.add(gid)

    def _generic(self, seen: Seen) -> None:
        s = seen.signal
        external = _cut(f"{seen.source.value}:{s.dedup_key}")
        item = self.generic.get(external)
        if item is None:
            if len(self.generic) >= MAX_ALERTS:
                return
            item = {
                "id": str(uuid.uuid5(_NS, external)),
                "externalId": external,
                "indicatorType": "GENERIC_INDICATOR_TYPE_UNSPECIFIED",
            }
            self.generic[external] = item
            self.doc["genericIndicators"].append(item)
        item["priority"] = _prio(seen.priority)
        item["labels"] = [
            {"key": k[:4096], "value": v[:4096]} for k, v in s.labels.items() if k and v
        ]
        links = [link.url for link in s.links][:MAX_ENTITY_LINKS]
        if s.generator_url and len(links) < MAX_ENTITY_LINKS:
            links.append(s.generator_url)
        if links:
            item["entityLinks"] = [{"url": url} for url in links]
        if s.status is SignalStatus.RESOLVED:
            item["status"] = "GENERIC_INDICATOR_STATUS_RESOLVED"
            ended = s.ends_at if s.ends_at is not None else seen.now
            item["lastResolvedAt"] = to_rfc3339(ended)
        else:
            item["status"] = "GENERIC_INDICATOR_STATUS_TRIGGERED"
            item["lastTriggeredAt"] = to_rfc3339(seen.starts_at)


def _made_room(alerts: list[Json], index: dict[tuple[str, str], Json], gid: str) -> bool:
    """Drop the group's oldest resolved alert to make room; False if every one fires."""
    for n, old in enumerate(alerts):
        if "resolved" in (old.get("status") or {}):
            del alerts[n]
            index.pop((gid, str(old.get("fingerprint"))), None)
            return True
    return False


def with_signal(indicators: Json, seen: Seen) -> Json:
    """``indicators`` with one signal applied (``IndicatorEditor`` for many)."""
    editor = IndicatorEditor(indicators)
    editor.apply(seen)
    return editor.result()


def _finish_group(group: Json) -> None:
    alerts: list[Json] = group.get("alerts") or []
    firing = [a for a in alerts if "triggered" in (a.get("status") or {})]
    best = min((_rank(a) for a in firing or alerts), default=IndicatorPriority.P5)
    group["priority"] = _prio(best)
    group["status"] = _group_status(alerts)


def _rank(alert: Mapping[str, Any]) -> IndicatorPriority:
    p = _prio_of(alert.get("priority"))
    return p if p is not IndicatorPriority.UNSPECIFIED else IndicatorPriority.P5


def _times(alerts: list[Json], key: str) -> list[str]:
    out: list[str] = []
    for a in alerts:
        for body in (a.get("status") or {}).values():
            if isinstance(body, dict) and body.get(key):
                out.append(str(body[key]))
    return out


def _group_status(alerts: list[Json]) -> Json:
    first = min(_times(alerts, "triggeredAt"), default="")
    if any("triggered" in (a.get("status") or {}) for a in alerts):
        return {"triggered": {"triggeredAt": first}}
    last = max(_times(alerts, "resolvedAt"), default="")
    return {"resolved": {"triggeredAt": first, "resolvedAt": last}}


@dataclass(frozen=True, slots=True)
class Contribution:
    priority: IndicatorPriority
    triggered: bool
    name: str  # which indicator, in words


def contributions(indicators: Json) -> Iterator[Contribution]:
    for a in indicators.get("alertIndicators") or []:
        yield Contribution(
            _prio_of(a.get("priority")),
            a.get("state") == "INDICATOR_STATE_TRIGGERED",
            f"alert {a.get('alertId')}",
        )
    for g in indicators.get("prometheusAlertIndicators") or []:
        for a in g.get("alerts") or []:
            yield Contribution(
                _prio_of(a.get("priority")),
                "triggered" in (a.get("status") or {}),
                f"Prometheus alert {a.get('alertName')} ({a.get('fingerprint')})",
            )
    for item in indicators.get("genericIndicators") or []:
        yield Contribution(
            _prio_of(item.get("priority")),
            item.get("status") == "GENERIC_INDICATOR_STATUS_TRIGGERED",
            f"signal {item.get('externalId')}",
        )


def derived_priority(indicators: Json) -> tuple[IndicatorPriority, str] | None:
    """The most urgent priority among the firing indicators (all of them when none fires),
    and which indicator it came from; None without indicators."""
    found = [
        c for c in contributions(indicators) if c.priority is not IndicatorPriority.UNSPECIFIED
    ]
    if not found:
        return None
    firing = [c for c in found if c.triggered]
    pool = firing or found
    best = min(pool, key=lambda c: c.priority)
    which = "firing indicators" if firing else "indicators (none is firing)"
    return best.priority, f"{best.priority.name}, the most urgent of its {which}: {best.name}"


def all_resolved(indicators: Json) -> bool:
    found = list(contributions(indicators))
    return bool(found) and not any(c.triggered for c in found)
