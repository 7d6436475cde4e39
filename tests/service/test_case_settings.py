"""CaseSettingsService: one record per space, partial updates, the settings in force, the
system defaults, casekeeper's own rules, permissions, and every input check naming its field
with nothing stored from a refused request."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from casekeeper.bootstrap import Container
from casekeeper.domain.case_settings import (
    DAY,
    MINUTE,
    SECOND,
    CaseLifecycle,
    IndicatorFilter,
    IndicatorPriority,
    KpiThreshold,
    KpiType,
    SignalRules,
    SuppressionStrategy,
)
from casekeeper.domain.enums import CaseCategory, CasePriority
from casekeeper.domain.errors import CasekeeperError, ErrorCode
from casekeeper.domain.model import KeyValue
from casekeeper.service.auth import Principal
from casekeeper.service.case_settings import DEFAULT_NAME, SettingsChange
from tests.conftest import MakeKey
from tests.service.conftest import FakeClock

EVERYTHING = SettingsChange(indicators_enabled=True, filters=())
UNKNOWN = "8c0c02a3-3c1c-4d56-9a2d-9f6ab6a4b321"


@pytest.fixture
def admin(make_key: MakeKey) -> Principal:
    return make_key("case-config:Read", "case-config:Update")[1]


def _fails(code: ErrorCode, fn: object, *args: object) -> CasekeeperError:
    with pytest.raises(CasekeeperError) as info:
        fn(*args)  # type: ignore[operator]
    assert info.value.code is code, info.value
    return info.value


def test_create_get_update_delete(clocked: Container, clock: FakeClock, admin: Principal) -> None:
    svc = clocked.case_settings
    made = svc.create(admin, replace(EVERYTHING, name="  Payments  "))
    assert made.name == "Payments"  # trimmed
    assert made.active
    assert made.space_id == admin.space_id
    assert made.create_time == made.update_time == clock.now
    assert svc.get(admin, made.id) == made == svc.get_active(admin) == svc.in_force(admin)

    life = CaseLifecycle(suppression_period=5 * MINUTE, post_resolution_period=DAY)
    changed = svc.update(admin, made.id.upper(), SettingsChange(lifecycle=life))
    assert changed.lifecycle == life
    assert changed.name == "Payments"
    assert changed.create_time == made.create_time
    assert changed.update_time > made.update_time
    assert svc.get(admin, made.id) == changed

    svc.delete(admin, made.id)
    _fails(ErrorCode.SETTINGS_NOT_FOUND, svc.get, admin, made.id)
    _fails(ErrorCode.SETTINGS_NOT_FOUND, svc.delete, admin, made.id)
    _fails(ErrorCode.SETTINGS_NOT_FOUND, svc.update, admin, made.id, EVERYTHING)
    assert svc.in_force(admin).id == ""  # the system defaults again


def test_a_space_has_one_record(container: Container, admin: Principal) -> None:
    svc = container.case_settings
    first = svc.create(admin, EVERYTHING)
    err = _fails(ErrorCode.ALREADY_EXISTS, svc.create, admin, replace(EVERYTHING, name="b"))
    assert first.id in err.message
    assert svc.get_active(admin) == first


def test_active_is_not_found_without_a_record_but_the_defaults_are_in_force(
    container: Container, admin: Principal
) -> None:
    svc = container.case_settings
    err = _fails(ErrorCode.SETTINGS_NOT_FOUND, svc.get_active, admin)
    assert err.message == "Active team config not found"
    in_force = svc.in_force(admin)
    assert in_force == svc.system_defaults(admin)
    assert in_force.lifecycle.post_resolution_period == 7 * DAY
    assert in_force.rules == SignalRules()


def test_create_needs_the_global_indicator_settings(container: Container, admin: Principal) -> None:
    err = _fails(ErrorCode.INVALID_ARGUMENT, container.case_settings.create, admin,
                 SettingsChange(name="x"))  # fmt: skip
    assert err.field == "global_indicator_settings"


def test_update_rules_creates_then_changes_the_record(
    container: Container, admin: Principal
) -> None:
    svc = container.case_settings
    rules = SignalRules(
        grouping_labels=(" service ", "team", "service"),
        priority_map={"Sev1": IndicatorPriority.P1},
        heartbeats={"Watchdog": 10 * MINUTE},
        acknowledge_silences=True,
        reconcile_interval=0,
    )
    made = svc.update_rules(admin, rules)
    assert made.name == DEFAULT_NAME
    assert made.rules.grouping_labels == ("service", "team")  # trimmed, each once
    assert made.rules.priority_map == {"sev1": IndicatorPriority.P1}  # values are matched lower
    assert made.rules.heartbeats == {"Watchdog": 10 * MINUTE}
    life = CaseLifecycle(suppression_period=MINUTE)
    svc.update(admin, made.id, SettingsChange(lifecycle=life))
    again = svc.update_rules(admin, replace(made.rules, acknowledge_silences=False))
    assert again.id == made.id
    assert again.lifecycle == life  # the rules changed, nothing else
    assert not again.rules.acknowledge_silences
    assert svc.get_active(admin) == again


def test_permissions(container: Container, make_key: MakeKey, admin: Principal) -> None:
    svc = container.case_settings
    made = svc.create(admin, EVERYTHING)
    reader = make_key("case-config:Read")[1]
    writer = make_key("case-config:Update", "case:Update")[1]
    assert svc.get(reader, made.id) == made
    for fn, args in (
        (svc.create, (EVERYTHING,)),
        (svc.update, (made.id, EVERYTHING)),
        (svc.delete, (made.id,)),
        (svc.update_rules, (SignalRules(),)),
    ):
        err = _fails(ErrorCode.PERMISSION_DENIED, fn, reader, *args)
        assert "case-config:Update" in err.message
    reads: list[tuple[object, tuple[object, ...]]] = [
        (svc.get, (made.id,)), (svc.get_active, ()), (svc.system_defaults, ()), (svc.in_force, ())
    ]  # fmt: skip
    for read, read_args in reads:
        assert (
            "case-config:Read"
            in _fails(ErrorCode.PERMISSION_DENIED, read, writer, *read_args).message
        )
    assert svc.get(admin, made.id) == made


def test_spaces_are_apart(container: Container, make_key: MakeKey, admin: Principal) -> None:
    svc = container.case_settings
    other = make_key("case-config:Read", "case-config:Update",
                     space_name=f"{admin.space_name}-other")[1]  # fmt: skip
    made = svc.create(other, EVERYTHING)
    _fails(ErrorCode.SETTINGS_NOT_FOUND, svc.get, admin, made.id)
    _fails(ErrorCode.SETTINGS_NOT_FOUND, svc.delete, admin, made.id)
    _fails(ErrorCode.SETTINGS_NOT_FOUND, svc.get_active, admin)
    assert svc.create(admin, EVERYTHING).id != made.id


BAD: list[tuple[SettingsChange, str]] = [
    (SettingsChange(name=""), "name"),
    (SettingsChange(name="a\x00b"), "name"),
    (SettingsChange(name="x" * 4097), "name"),
    (SettingsChange(filters=(IndicatorFilter(),) * 1001),
     "global_indicator_settings.filtering_conditions"),
    (SettingsChange(filters=(IndicatorFilter(priorities=(IndicatorPriority.UNSPECIFIED,)),)),
     "global_indicator_settings.filtering_conditions[0].priorities.values.items[0]"),
    (SettingsChange(filters=(IndicatorFilter(),
                             IndicatorFilter(entity_labels=(KeyValue(" ", "x"),)))),
     "global_indicator_settings.filtering_conditions[1].entity_labels.values.items[0].key"),
    (SettingsChange(lifecycle=CaseLifecycle(suppression_period=-1)),
     "case_lifecycle.suppression_period"),
    (SettingsChange(lifecycle=CaseLifecycle(suppression_period=8 * DAY)),
     "case_lifecycle.suppression_period"),
    (SettingsChange(lifecycle=CaseLifecycle(resolution_snooze_period=400 * DAY)),
     "case_lifecycle.resolution_snooze_period"),
    (SettingsChange(lifecycle=CaseLifecycle(inactive_period=0)),
     "case_lifecycle.auto_resolve.inactive_period"),
    (SettingsChange(lifecycle=CaseLifecycle(post_resolution_period=-SECOND)),
     "case_lifecycle.auto_close.post_resolution_period"),
    (SettingsChange(lifecycle=CaseLifecycle(kpis=(
        KpiThreshold(KpiType.UNSPECIFIED, CasePriority.P1, MINUTE),))),
     "case_lifecycle.kpi.thresholds[0].type"),
    (SettingsChange(lifecycle=CaseLifecycle(kpis=(
        KpiThreshold(KpiType.TIME_TO_RESOLVE, CasePriority.P1, 0),))),
     "case_lifecycle.kpi.thresholds[0].threshold"),
    (SettingsChange(lifecycle=CaseLifecycle(kpis=(
        KpiThreshold(KpiType.TIME_TO_RESOLVE, CasePriority.P1, MINUTE),
        KpiThreshold(KpiType.TIME_TO_RESOLVE, CasePriority.P1, DAY)))),
     "case_lifecycle.kpi.thresholds[1]"),
    (SettingsChange(lifecycle=CaseLifecycle(suppression_strategy=SuppressionStrategy.UNSPECIFIED)),
     "case_lifecycle.alert_suppression_strategy"),
    (SettingsChange(rules=SignalRules(grouping_labels=("",))), "rules.grouping_labels[0]"),
    (SettingsChange(rules=SignalRules(grouping_labels=tuple(f"l{n}" for n in range(33)))),
     "rules.grouping_labels"),
    (SettingsChange(rules=SignalRules(severity_label=" ")), "rules.severity_label"),
    (SettingsChange(rules=SignalRules(default_priority=IndicatorPriority.UNSPECIFIED)),
     "rules.default_priority"),
    (SettingsChange(rules=SignalRules(default_category=CaseCategory.UNSPECIFIED)),
     "rules.default_category"),
    (SettingsChange(rules=SignalRules(reconcile_interval=SECOND)), "rules.reconcile_interval"),
    (SettingsChange(rules=SignalRules(heartbeats={"Watchdog": 0})), "rules.heartbeats['Watchdog']"),
    (SettingsChange(rules=SignalRules(heartbeats={"Watchdog": 10 * SECOND})),
     "rules.heartbeats['Watchdog']"),
    (SettingsChange(rules=SignalRules(priority_map={"sev": IndicatorPriority.UNSPECIFIED})),
     "rules.priority_map['sev']"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "field"), BAD, ids=[f for _, f in BAD])
def test_bad_input_names_the_field_and_stores_nothing(
    container: Container, admin: Principal, change: SettingsChange, field: str
) -> None:
    svc = container.case_settings
    whole = replace(change, indicators_enabled=True, filters=change.filters or ())
    assert _fails(ErrorCode.INVALID_ARGUMENT, svc.create, admin, whole).field == field
    _fails(ErrorCode.SETTINGS_NOT_FOUND, svc.get_active, admin)
    assert _fails(ErrorCode.INVALID_ARGUMENT, svc.configure, admin, change).field == field
    _fails(ErrorCode.SETTINGS_NOT_FOUND, svc.get_active, admin)
    made = svc.create(admin, EVERYTHING)
    assert _fails(ErrorCode.INVALID_ARGUMENT, svc.update, admin, made.id, change).field == field
    assert svc.get(admin, made.id) == made


@pytest.mark.parametrize("bad", ["", "x", UNKNOWN[:-1], UNKNOWN + "a", "z" * 100])
def test_a_malformed_id_is_invalid(container: Container, admin: Principal, bad: str) -> None:
    err = _fails(ErrorCode.INVALID_ARGUMENT, container.case_settings.get, admin, bad)
    assert err.field == "id"


def test_a_well_formed_unknown_id_is_not_found(container: Container, admin: Principal) -> None:
    _fails(ErrorCode.SETTINGS_NOT_FOUND, container.case_settings.get, admin, UNKNOWN)


def test_concurrent_creates_make_one_record(container: Container, admin: Principal) -> None:
    """Two creates at once (on PostgreSQL both may pass the existence check; the unique key
    stops the second): one record, and the loser hears ALREADY_EXISTS, never a conflict."""
    barrier = threading.Barrier(4)

    def create(n: int) -> str:
        barrier.wait(5)
        try:
            return container.case_settings.create(admin, replace(EVERYTHING, name=f"n{n}")).id
        except CasekeeperError as err:
            return err.code.value

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(create, range(4)))
    made = [r for r in results if r != ErrorCode.ALREADY_EXISTS.value]
    assert len(made) == 1, results
    assert container.case_settings.get_active(admin).id == made[0]


def test_concurrent_changes_to_different_parts_both_stay(
    container: Container, admin: Principal
) -> None:
    """Each change is applied to the record as the other left it (the row is locked while
    it is read and written), so neither undoes the other."""
    settings = container.case_settings
    settings.create(admin, EVERYTHING)
    for n in range(8):
        barrier = threading.Barrier(2)
        rules = SignalRules(reconcile_interval=(n + 1) * MINUTE)

        def rename(name: str = f"round {n}", barrier: threading.Barrier = barrier) -> None:
            barrier.wait(5)
            settings.configure(admin, SettingsChange(name=name))

        def set_rules(rules: SignalRules = rules, barrier: threading.Barrier = barrier) -> None:
            barrier.wait(5)
            settings.configure(admin, SettingsChange(rules=rules))

        with ThreadPoolExecutor(2) as pool:
            for f in [pool.submit(rename), pool.submit(set_rules)]:
                f.result()
        now = settings.get_active(admin)
        assert (now.name, now.rules) == (f"round {n}", rules)
