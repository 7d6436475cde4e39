"""``casekeeper settings …``: read and change a space's case settings from a terminal.

``show`` prints the settings in force (the space's record, else the system defaults); ``set``
changes the keys given and stores the record (made from the defaults if the space had none).
Keys and values read as ``show`` prints them, so ``show --json`` output can be fed back:

    casekeeper settings set suppression_period=5m post_resolution_period=7d \\
        grouping_labels=service,team acknowledge_silences=true heartbeat.Watchdog=10m \\
        kpi.tta.P1=15m

Filters (which alerts count) are lists of conditions: change them over the API.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Annotated, Any, Final

import typer
from rich.table import Table

from casekeeper.cli.common import DatabaseOpt, SpaceOpt, console, container_for, fail, operator, run
from casekeeper.domain.case_settings import (
    DAY,
    HOUR,
    MINUTE,
    SECOND,
    CaseLifecycle,
    CaseSettings,
    IndicatorFilter,
    IndicatorPriority,
    KpiThreshold,
    KpiType,
    SignalRules,
    SuppressionStrategy,
)
from casekeeper.domain.enums import CaseCategory, CasePriority
from casekeeper.domain.model import Micros
from casekeeper.domain.timeutil import to_rfc3339
from casekeeper.service.auth import DEFAULT_SPACE
from casekeeper.service.case_settings import SettingsChange

app = typer.Typer(help="Case settings: show and change a space's.", no_args_is_help=True)

_UNITS: Final = (("d", DAY), ("h", HOUR), ("m", MINUTE), ("s", SECOND))
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|d|h|m|s)")
_OFF = ("off", "none", "never", "")
KPI_NAMES: Final = {KpiType.TIME_TO_ACKNOWLEDGE: "tta", KpiType.TIME_TO_RESOLVE: "ttr",
                    KpiType.TIME_TO_UPDATE: "ttu"}  # fmt: skip
_KPI_BY_NAME: Final = {
    **{short: t for t, short in KPI_NAMES.items()},
    **{t.name.lower(): t for t in KPI_NAMES},
}


class BadValue(ValueError):
    """A value ``set`` cannot read; its text says what it takes."""


# -- values ------------------------------------------------------------------------------------


def parse_duration(text: str) -> Micros:
    """``90s``, ``5m``, ``1h30m``, ``7d``, ``1.5h``, ``250ms``, ``3600`` (seconds) → micros."""
    raw = text.strip().lower()
    if re.fullmatch(r"\d+", raw):
        return int(raw) * SECOND
    if not raw or not re.fullmatch(rf"(?:{_PART.pattern})+", raw):
        raise BadValue(f"{text!r} is not a duration; write e.g. 30s, 5m, 1h30m or 7d")
    scale = {"ms": SECOND // 1000, **dict(_UNITS)}
    return sum(round(float(n) * scale[unit]) for n, unit in _PART.findall(raw))


def format_duration(value: Micros) -> str:
    """The shortest exact spelling ``parse_duration`` reads: ``7d``, ``1h30m``, ``0s``."""
    if value == 0:
        return "0s"
    if value % SECOND:  # fractions of a second: exact, never in exponent form
        whole, us = divmod(value, SECOND)
        return f"{whole}.{us:06d}".rstrip("0") + "s"
    out, rest = [], value
    for unit, size in _UNITS:
        n, rest = divmod(rest, size)
        if n:
            out.append(f"{n}{unit}")
    return "".join(out)


def _bool(text: str) -> bool:
    low = text.strip().lower()
    if low in ("true", "yes", "on", "1"):
        return True
    if low in ("false", "no", "off", "0"):
        return False
    raise BadValue(f"{text!r} is not true or false")


def _member(text: str, enum: Any, prefix: str = "") -> Any:
    name = text.strip().upper().removeprefix(prefix)
    member = enum.__members__.get(name)
    if member is None or member.value == 0:
        known = ", ".join(m for m in enum.__members__ if m != "UNSPECIFIED")
        raise BadValue(f"{text!r} is not one of {known}")
    return member


def _optional_duration(text: str) -> Micros | None:
    return None if text.strip().lower() in _OFF else parse_duration(text)


# -- the editable view -------------------------------------------------------------------------


@dataclass
class Draft:
    """The settings being edited, one key at a time."""

    name: str | None  # None: not stored yet, and not named here (the default name)
    indicators_enabled: bool
    life: CaseLifecycle
    rules: SignalRules

    def set(self, key: str, value: str) -> None:
        head, _, rest = key.partition(".")
        if rest and head in _NESTED:
            _NESTED[head](self, rest, value)
        elif not rest and key in _SETTERS:
            _SETTERS[key](self, value)
        else:
            raise BadValue(f"unknown key {key!r}; keys: {', '.join(KEYS)}")

    def change(self) -> SettingsChange:
        return SettingsChange(name=self.name, indicators_enabled=self.indicators_enabled,
                              lifecycle=self.life, rules=self.rules)  # fmt: skip


def _life(**kw: Any) -> Callable[[Draft], None]:
    def apply(d: Draft) -> None:
        d.life = replace(d.life, **kw)

    return apply


def _set_kpi(d: Draft, rest: str, value: str) -> None:
    kind, _, prio = rest.partition(".")
    if kind.lower() not in _KPI_BY_NAME or not prio:
        raise BadValue(f"kpi.{rest}: write kpi.<tta|ttr|ttu>.<P1..P5>=<duration|off>")
    t = _KPI_BY_NAME[kind.lower()]
    p = _member(prio, CasePriority, "CASE_PRIORITY_")
    kept = tuple(k for k in d.life.kpis if (k.type, k.priority) != (t, p))
    threshold = _optional_duration(value)
    added = () if threshold is None else (KpiThreshold(t, p, threshold),)
    d.life = replace(d.life, kpis=kept + added)


def _set_heartbeat(d: Draft, name: str, value: str) -> None:
    beats = dict(d.rules.heartbeats)
    interval = _optional_duration(value)
    if interval is None:
        beats.pop(name, None)
    else:
        beats[name] = interval
    d.rules = replace(d.rules, heartbeats=beats)


def _set_priority_map(d: Draft, severity: str, value: str) -> None:
    mapping = dict(d.rules.priority_map)
    if value.strip().lower() in _OFF:
        mapping.pop(severity.lower(), None)
    else:
        mapping[severity.lower()] = _member(value, IndicatorPriority, "INDICATOR_PRIORITY_")
    d.rules = replace(d.rules, priority_map=mapping)


def _rules(field: str, read: Callable[[str], Any]) -> Callable[[Draft, str], None]:
    def apply(d: Draft, value: str) -> None:
        d.rules = replace(d.rules, **{field: read(value)})

    return apply


def _lifecycle(field: str, read: Callable[[str], Any]) -> Callable[[Draft, str], None]:
    return lambda d, value: _life(**{field: read(value)})(d)


def _labels(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _name(d: Draft, value: str) -> None:
    d.name = value


def _enabled(d: Draft, value: str) -> None:
    d.indicators_enabled = _bool(value)


_SETTERS: Final[dict[str, Callable[[Draft, str], None]]] = {
    "name": _name,
    "indicators_enabled": _enabled,
    "suppression_period": _lifecycle("suppression_period", parse_duration),
    "resolution_snooze_period": _lifecycle("resolution_snooze_period", parse_duration),
    "auto_resolve": _lifecycle("auto_resolve", _bool),
    "inactive_period": _lifecycle("inactive_period", _optional_duration),
    "post_resolution_period": _lifecycle("post_resolution_period", parse_duration),
    "suppression_strategy": _lifecycle(
        "suppression_strategy", lambda v: _member(v, SuppressionStrategy)
    ),
    "grouping_labels": _rules("grouping_labels", _labels),
    "severity_label": _rules("severity_label", str),
    "category_label": _rules("category_label", str),
    "default_priority": _rules(
        "default_priority", lambda v: _member(v, IndicatorPriority, "INDICATOR_PRIORITY_")
    ),
    "default_category": _rules(
        "default_category", lambda v: _member(v, CaseCategory, "CASE_CATEGORY_")
    ),
    "acknowledge_silences": _rules("acknowledge_silences", _bool),
    "reconcile_interval": _rules("reconcile_interval", lambda v: _optional_duration(v) or 0),
}
_NESTED: Final[dict[str, Callable[[Draft, str, str], None]]] = {
    "kpi": _set_kpi,
    "heartbeat": _set_heartbeat,
    "priority_map": _set_priority_map,
}
KEYS: Final = (*_SETTERS, "kpi.<tta|ttr|ttu>.<P1..P5>", "heartbeat.<alert name>",
               "priority_map.<severity value>")  # fmt: skip


# -- output ------------------------------------------------------------------------------------


def _filter_json(f: IndicatorFilter) -> dict[str, Any]:
    labels = f.entity_labels
    return {
        "enabled": f.enabled,
        "priorities": None if f.priorities is None else [p.name for p in f.priorities],
        "entity_labels": None if labels is None else [f"{kv.key}={kv.value}" for kv in labels],
    }


def settings_json(s: CaseSettings, space: str) -> dict[str, Any]:
    """Every setting, keyed and spelled as ``set`` reads it."""
    life, rules = s.lifecycle, s.rules
    return {
        "space": space,
        "stored": bool(s.id),
        "id": s.id or None,
        "name": s.name,
        "update_time": to_rfc3339(s.update_time) if s.id else None,
        "indicators_enabled": s.indicators_enabled,
        "filters": [_filter_json(f) for f in s.filters],
        "suppression_period": format_duration(life.suppression_period),
        "resolution_snooze_period": format_duration(life.resolution_snooze_period),
        "auto_resolve": life.auto_resolve,
        "inactive_period": (
            "off" if life.inactive_period is None else format_duration(life.inactive_period)
        ),
        "post_resolution_period": format_duration(life.post_resolution_period),
        "suppression_strategy": life.suppression_strategy.name,
        "kpi": {
            f"{KPI_NAMES[k.type]}.{k.priority.name}": format_duration(k.threshold)
            for k in life.kpis
            if k.enabled
        },
        "grouping_labels": ",".join(rules.grouping_labels),
        "severity_label": rules.severity_label,
        "category_label": rules.category_label,
        "default_priority": rules.default_priority.name,
        "default_category": rules.default_category.name,
        "acknowledge_silences": rules.acknowledge_silences,
        "reconcile_interval": (
            "off" if rules.reconcile_interval == 0 else format_duration(rules.reconcile_interval)
        ),
        "heartbeat": {k: format_duration(v) for k, v in rules.heartbeats.items()},
        "priority_map": {k: v.name for k, v in rules.priority_map.items()},
    }


def _print(data: dict[str, Any]) -> None:
    where = (
        f"stored settings [bold]{data['id']}[/bold], updated {data['update_time']}"
        if data["stored"]
        else "no stored settings: the system defaults apply"
    )
    console.print(f"space [bold]{data['space']}[/bold]: {where}")
    table = Table("key", "value", box=None)
    for key, value in data.items():
        if key in ("space", "stored", "id", "update_time"):
            continue
        if key == "filters":
            how = "OR'ed; see --json, change over the API" if value else "all alerts count"
            table.add_row(key, f"{len(value)} ({how})")
        elif key == "priority_map":
            table.add_row(key, f"{len(value)} severity values (see --json)")
        elif isinstance(value, dict):
            for sub, v in value.items():
                table.add_row(f"{key}.{sub}", str(v))
            if not value:
                table.add_row(key, "-")
        else:
            shown = str(value).lower() if isinstance(value, bool) else str(value)
            table.add_row(key, shown or "-")
    console.print(table)


# -- commands ----------------------------------------------------------------------------------


@app.command("show")
def show(
    space: SpaceOpt = DEFAULT_SPACE,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    database_url: DatabaseOpt = None,
) -> None:
    """Show the case settings in force in a space (its record, else the system defaults)."""
    with container_for(database_url) as c:
        who = operator(c, space)
        found = run(lambda: c.case_settings.in_force(who))
    data = settings_json(found, space)
    if as_json:
        print(json.dumps(data))
    else:
        _print(data)


@app.command("set")
def set_(
    pairs: Annotated[
        list[str], typer.Argument(help="KEY=VALUE pairs, e.g. suppression_period=5m.")
    ],
    space: SpaceOpt = DEFAULT_SPACE,
    database_url: DatabaseOpt = None,
) -> None:
    """Change settings of a space: each KEY=VALUE given (see `show` for the keys); `off`
    removes a KPI threshold, heartbeat or severity mapping, or turns a period off."""
    with container_for(database_url) as c:
        who = operator(c, space)
        now = run(lambda: c.case_settings.in_force(who))
        name = now.name if now.id else None
        draft = Draft(name, now.indicators_enabled, now.lifecycle, now.rules)
        for pair in pairs:
            key, eq, value = pair.partition("=")
            if not eq:
                raise fail(f"{pair!r}: write KEY=VALUE (keys: {', '.join(KEYS)})")
            try:
                draft.set(key.strip(), value)
            except BadValue as err:
                raise fail(f"{key.strip()}: {err}") from None
        saved = run(lambda: c.case_settings.configure(who, draft.change()))
    console.print(f"space [bold]{space}[/bold]: case settings {saved.id} saved")
    _print(settings_json(saved, space))
