"""Case settings use cases: create, read, change and delete a space's settings record, read the
settings in force and the system defaults, and change casekeeper's own ingestion rules.

A space has at most one record, and it is the active one (a second create is ALREADY_EXISTS);
without one the system defaults apply, but ``get_active`` says NOT_FOUND as Coralogix's API
does ("Active team config not found"), so a client can tell "configured" from "defaults".
Every input is checked here, whatever the caller (gRPC, REST, CLI): fields are named in the
canonical snake_case paths (``case_lifecycle.suppression_period``); each dialect renames them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Final

from casekeeper.domain.case_settings import (
    DAY,
    MINUTE,
    SECOND,
    CaseLifecycle,
    CaseSettings,
    IndicatorFilter,
    IndicatorPriority,
    KpiType,
    SignalRules,
    SuppressionStrategy,
    system_defaults,
)
from casekeeper.domain.enums import CaseCategory, CasePriority
from casekeeper.domain.errors import CasekeeperError, ErrorCode, invalid, quote
from casekeeper.domain.model import KeyValue, Micros
from casekeeper.domain.signals import MAX_DEDUP_KEY
from casekeeper.service import validation as v
from casekeeper.service.auth import Principal
from casekeeper.service.context import ServiceContext
from casekeeper.service.permissions import Permission
from casekeeper.store.uow import UnitOfWork

READ: Final = (Permission.CASE_CONFIG_READ,)
UPDATE: Final = (Permission.CASE_CONFIG_UPDATE,)

MAX_NAME = 4096  # the spec's bound on a settings name
MAX_FILTERS = 1000  # the spec's bound on filteringConditions
MAX_FILTER_ITEMS = 1000  # priorities or entity labels of one filter
MAX_LABEL_TEXT = 4096  # an entity label's key or value (the spec's KeyValue)
# The longest period any setting takes: a year. Longer is a typo (a unit off), never a plan.
MAX_PERIOD: Final = 366 * DAY
MAX_SUPPRESSION: Final = 7 * DAY  # a case held back longer than a week is a case lost
MAX_GROUPING_LABELS = 32
MAX_LABEL_NAME = 255  # a label name (grouping, severity, category)
MAX_PRIORITY_MAP = 1000
MAX_HEARTBEATS = 1000
MAX_HEARTBEAT_NAME = MAX_DEDUP_KEY  # a heartbeat's name is its firing's dedup key
MIN_RECONCILE: Final = 10 * SECOND  # Alertmanager's API is not to be polled harder than this
MAX_RECONCILE: Final = DAY
MAX_HEARTBEAT: Final = 30 * DAY
DEFAULT_NAME = "Case settings"
_UUID_ANY = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)


@dataclass(frozen=True, slots=True)
class SettingsChange:
    """What a create or an update gives. ``None`` is "not given": an update keeps the stored
    value, a create takes the system default. The global indicator settings are one part
    (``indicators_enabled`` and ``filters`` are given together by the APIs)."""

    name: str | None = None
    indicators_enabled: bool | None = None
    filters: tuple[IndicatorFilter, ...] | None = None
    lifecycle: CaseLifecycle | None = None
    rules: SignalRules | None = None

    def apply(self, base: CaseSettings) -> CaseSettings:
        return replace(
            base,
            name=base.name if self.name is None else self.name,
            indicators_enabled=(
                base.indicators_enabled
                if self.indicators_enabled is None
                else self.indicators_enabled
            ),
            filters=base.filters if self.filters is None else self.filters,
            lifecycle=base.lifecycle if self.lifecycle is None else self.lifecycle,
            rules=base.rules if self.rules is None else self.rules,
        )


def settings_not_found(raw_id: str) -> CasekeeperError:
    return CasekeeperError(
        ErrorCode.SETTINGS_NOT_FOUND, f"Case settings not found: {quote(raw_id)}"
    )


def active_not_found() -> CasekeeperError:
    return CasekeeperError(ErrorCode.SETTINGS_NOT_FOUND, "Active team config not found")


def settings_id(raw: str, *, field: str = "id") -> str:
    """A settings id: a UUID (the spec's are lower case; any case is read), kept lower case."""
    if not raw:
        raise invalid("required; give the case settings' UUID", field=field)
    if len(raw) > 64 or not _UUID_ANY.fullmatch(raw):
        raise invalid(f"{quote(raw)} is not a UUID", field=field)
    return raw.lower()


# -- validation --------------------------------------------------------------------------------


def period(
    value: Micros, *, field: str, most: Micros = MAX_PERIOD, positive: bool = False
) -> Micros:
    """A period in microseconds: not negative (not zero if ``positive``), at most ``most``."""
    if value < 0 or (positive and value == 0):
        raise invalid(f"must be {'more than' if positive else 'at least'} 0s", field=field)
    if value > most:
        raise invalid(f"at most {most // SECOND}s ({most // DAY} days)"
                      if most >= DAY else f"at most {most // SECOND}s", field=field)  # fmt: skip
    return value


def _known(value: int, enum: type[IndicatorPriority] | type[CasePriority] | type[KpiType],
           *, field: str) -> None:  # fmt: skip
    if int(value) == 0 or int(value) not in {m.value for m in enum}:
        known = ", ".join(m.name for m in enum if m.value)
        raise invalid(f"unknown value {int(value)}; use one of {known}", field=field)


def _filter(f: IndicatorFilter, where: str) -> IndicatorFilter:
    if f.priorities is not None:
        if len(f.priorities) > MAX_FILTER_ITEMS:
            raise invalid(f"at most {MAX_FILTER_ITEMS} priorities", field=f"{where}.priorities")
        for n, p in enumerate(f.priorities):
            _known(p, IndicatorPriority, field=f"{where}.priorities.values.items[{n}]")
    labels = f.entity_labels
    if labels is None:
        return f
    if len(labels) > MAX_FILTER_ITEMS:
        raise invalid(f"at most {MAX_FILTER_ITEMS} labels", field=f"{where}.entity_labels")
    at = f"{where}.entity_labels.values.items"
    checked = tuple(
        KeyValue(
            v.text(kv.key, field=f"{at}[{n}].key", max_len=MAX_LABEL_TEXT, trim=False),
            v.text(kv.value, field=f"{at}[{n}].value", max_len=MAX_LABEL_TEXT, trim=False),
        )
        for n, kv in enumerate(labels)
    )
    return replace(f, entity_labels=checked)


def check_filters(filters: Sequence[IndicatorFilter]) -> tuple[IndicatorFilter, ...]:
    where = "global_indicator_settings.filtering_conditions"
    if len(filters) > MAX_FILTERS:
        raise invalid(f"at most {MAX_FILTERS} filters (got {len(filters)})", field=where)
    return tuple(_filter(f, f"{where}[{n}]") for n, f in enumerate(filters))


def check_lifecycle(life: CaseLifecycle) -> CaseLifecycle:
    at = "case_lifecycle"
    period(life.suppression_period, field=f"{at}.suppression_period", most=MAX_SUPPRESSION)
    period(life.resolution_snooze_period, field=f"{at}.resolution_snooze_period")
    if life.inactive_period is not None:
        period(life.inactive_period, field=f"{at}.auto_resolve.inactive_period", positive=True)
    period(life.post_resolution_period, field=f"{at}.auto_close.post_resolution_period")
    seen: set[tuple[KpiType, CasePriority]] = set()
    for n, k in enumerate(life.kpis):
        where = f"{at}.kpi.thresholds[{n}]"
        _known(k.type, KpiType, field=f"{where}.type")
        _known(k.priority, CasePriority, field=f"{where}.priority")
        period(k.threshold, field=f"{where}.threshold", positive=True)
        if (k.type, k.priority) in seen:
            raise invalid(f"a second threshold for {k.type.name} at {k.priority.name}",
                          field=where)  # fmt: skip
        seen.add((k.type, k.priority))
    if int(life.suppression_strategy) not in {m.value for m in SuppressionStrategy if m.value}:
        raise invalid(
            f"unknown value {int(life.suppression_strategy)}; use IGNORE or CREATE_CASE",
            field=f"{at}.alert_suppression_strategy",
        )
    return life


def _label_name(raw: str, *, field: str) -> str:
    return v.text(raw, field=field, max_len=MAX_LABEL_NAME)


def check_rules(rules: SignalRules) -> SignalRules:
    """casekeeper's own rules: label names, the severity map, heartbeats, reconciliation."""
    if len(rules.grouping_labels) > MAX_GROUPING_LABELS:
        raise invalid(f"at most {MAX_GROUPING_LABELS} labels", field="rules.grouping_labels")
    grouping = tuple(dict.fromkeys(
        _label_name(x, field=f"rules.grouping_labels[{n}]")
        for n, x in enumerate(rules.grouping_labels)
    ))  # fmt: skip
    if len(rules.priority_map) > MAX_PRIORITY_MAP:
        raise invalid(f"at most {MAX_PRIORITY_MAP} entries", field="rules.priority_map")
    priority_map: dict[str, IndicatorPriority] = {}
    for key, prio in rules.priority_map.items():
        where = f"rules.priority_map[{quote(key)}]"
        _known(prio, IndicatorPriority, field=where)
        priority_map[_label_name(key, field=where).lower()] = IndicatorPriority(prio)
    _known(rules.default_priority, IndicatorPriority, field="rules.default_priority")
    if rules.default_category not in (CaseCategory.SECURITY, CaseCategory.AVAILABILITY):
        raise invalid("use SECURITY or AVAILABILITY", field="rules.default_category")
    interval = rules.reconcile_interval
    if interval != 0:
        period(interval, field="rules.reconcile_interval", most=MAX_RECONCILE)
        if interval < MIN_RECONCILE:
            raise invalid(f"0 (off) or at least {MIN_RECONCILE // SECOND}s",
                          field="rules.reconcile_interval")  # fmt: skip
    return replace(
        rules,
        grouping_labels=grouping,
        severity_label=_label_name(rules.severity_label, field="rules.severity_label"),
        category_label=_label_name(rules.category_label, field="rules.category_label"),
        priority_map=priority_map,
        heartbeats=check_heartbeats(rules.heartbeats),
    )


def check_heartbeats(beats: Mapping[str, Micros]) -> dict[str, Micros]:
    if len(beats) > MAX_HEARTBEATS:
        raise invalid(f"at most {MAX_HEARTBEATS} heartbeats", field="rules.heartbeats")
    out: dict[str, Micros] = {}
    for name, interval in beats.items():
        where = f"rules.heartbeats[{quote(name)}]"
        key = v.text(name, field=where, max_len=MAX_HEARTBEAT_NAME)
        period(interval, field=where, most=MAX_HEARTBEAT, positive=True)
        if interval < MINUTE:
            # A heartbeat arrives with its sender's repeats (Alertmanager's group_interval, in
            # minutes): a shorter interval would only raise false alarms between them.
            raise invalid("at least 60s", field=where)
        out[key] = interval
    return out


def check(s: CaseSettings) -> CaseSettings:
    """``s`` as stored: every part checked, text trimmed, labels deduplicated."""
    return replace(
        s,
        name=v.text(s.name, field="name", max_len=MAX_NAME),
        filters=check_filters(s.filters),
        lifecycle=check_lifecycle(s.lifecycle),
        rules=check_rules(s.rules),
    )


# -- the service -------------------------------------------------------------------------------


class CaseSettingsService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.db = ctx.db
        self.clock = ctx.clock

    def system_defaults(self, p: Principal) -> CaseSettings:
        p.require(READ, "read case settings")
        return system_defaults(p.space_id)

    def get(self, p: Principal, raw_id: str) -> CaseSettings:
        p.require(READ, "read case settings")
        wanted = settings_id(raw_id)
        with self.db.reader() as uow:
            found = uow.case_settings.get(p.space_id, wanted)
        if found is None:
            raise settings_not_found(raw_id)
        return found

    def get_active(self, p: Principal) -> CaseSettings:
        """The space's settings record; NOT_FOUND when it has none (the defaults apply)."""
        p.require(READ, "read case settings")
        with self.db.reader() as uow:
            found = uow.case_settings.find(p.space_id)
        if found is None:
            raise active_not_found()
        return found

    def in_force(self, p: Principal) -> CaseSettings:
        """The settings that apply: the space's record, else the system defaults."""
        p.require(READ, "read case settings")
        with self.db.reader() as uow:
            return uow.case_settings.active(p.space_id)

    def create(self, p: Principal, change: SettingsChange) -> CaseSettings:
        p.require(UPDATE, "create case settings")
        if change.filters is None or change.indicators_enabled is None:
            raise invalid("required", field="global_indicator_settings")
        now = self.clock()
        base = replace(system_defaults(p.space_id), name=DEFAULT_NAME)
        made = check(replace(change.apply(base), id=str(uuid.uuid4()), create_time=now,
                             update_time=now, active=True))  # fmt: skip
        try:
            with self.db.writer() as uow:
                existing = uow.case_settings.find(p.space_id)
                if existing is not None:
                    raise _exists(existing)
                _add(uow, made)
        except CasekeeperError as err:
            raise _lost_race(err) from None
        return made

    def update(self, p: Principal, raw_id: str, change: SettingsChange) -> CaseSettings:
        """Change the parts ``change`` gives; the others stay as stored."""
        p.require(UPDATE, "update case settings")
        wanted = settings_id(raw_id)
        with self.db.writer() as uow:
            old = uow.case_settings.get(p.space_id, wanted, for_update=True)
            if old is None:
                raise settings_not_found(raw_id)
            new = check(replace(change.apply(old), update_time=max(self.clock(), old.create_time)))
            if not uow.case_settings.save(new):
                raise settings_not_found(raw_id)  # deleted since it was read
            uow.commit()
        return new

    def delete(self, p: Principal, raw_id: str) -> None:
        p.require(UPDATE, "delete case settings")
        wanted = settings_id(raw_id)
        with self.db.writer() as uow:
            if not uow.case_settings.delete(p.space_id, wanted):
                raise settings_not_found(raw_id)
            uow.commit()

    def configure(self, p: Principal, change: SettingsChange) -> CaseSettings:
        """Apply ``change`` to the space's record, creating it (from the system defaults) if
        the space has none: what the CLI and casekeeper's own rules use."""
        p.require(UPDATE, "change case settings")
        now = self.clock()
        with self.db.writer() as uow:
            old = uow.case_settings.find(p.space_id, for_update=True)
            if old is None:
                base = replace(system_defaults(p.space_id), name=DEFAULT_NAME,
                               id=str(uuid.uuid4()), create_time=now, active=True)  # fmt: skip
                new = check(replace(change.apply(base), update_time=now))
                _add(uow, new)
            else:
                new = check(replace(change.apply(old), update_time=max(now, old.create_time)))
                uow.case_settings.save(new)
                uow.commit()
        return new

    def update_rules(self, p: Principal, rules: SignalRules) -> CaseSettings:
        """Set casekeeper's own ingestion rules for ``p``'s space (no Coralogix counterpart)."""
        return self.configure(p, SettingsChange(rules=rules))


def _exists(existing: CaseSettings) -> CasekeeperError:
    return CasekeeperError(
        ErrorCode.ALREADY_EXISTS,
        f"this space already has case settings ({existing.id}); update or delete them",
    )


def _add(uow: UnitOfWork, made: CaseSettings) -> None:
    uow.case_settings.add(made)
    uow.commit()


def _lost_race(err: CasekeeperError) -> CasekeeperError:
    """A concurrent create that won the one-per-space unique key (PostgreSQL undoes the loser's
    transaction: the unit of work calls that a conflict) is ALREADY_EXISTS, as if seen first."""
    if err.code is not ErrorCode.CONFLICT:
        return err
    return CasekeeperError(
        ErrorCode.ALREADY_EXISTS, "this space already has case settings; update or delete them"
    )
