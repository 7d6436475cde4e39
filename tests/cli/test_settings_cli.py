"""``casekeeper settings show|set`` as real processes against the test database (SQLite, or
PostgreSQL with CASEKEEPER_TEST_DATABASE_URL), checked through the service; and the duration
spelling it reads and prints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from casekeeper.bootstrap import Container
from casekeeper.cli.settings import format_duration, parse_duration
from casekeeper.domain.case_settings import (
    DAY,
    HOUR,
    MINUTE,
    SECOND,
    IndicatorPriority,
    KpiType,
    SuppressionStrategy,
)
from casekeeper.domain.enums import CaseCategory, CasePriority
from casekeeper.domain.errors import CasekeeperError
from tests.conftest import MakeKey


def ck(url: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CASEKEEPER_DATABASE_URL": url, "COLUMNS": "200"}
    proc = subprocess.run(
        [sys.executable, "-m", "casekeeper", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} failed ({proc.returncode}): {proc.stdout}\n{proc.stderr}")
    return proc


def show(url: str, space: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        ck(url, "settings", "show", "--space", space, "--json").stdout
    )
    return data


def test_show_prints_the_system_defaults_until_something_is_set(
    database_url: str, space: str
) -> None:
    data = show(database_url, space)
    assert data["stored"] is False
    assert data["id"] is None
    assert data["post_resolution_period"] == "7d"
    assert data["suppression_period"] == "0s"
    assert data["inactive_period"] == "off"
    assert data["kpi"] == {}
    assert data["priority_map"]["critical"] == "P1"
    table = ck(database_url, "settings", "show", "--space", space).stdout
    assert "system defaults apply" in table
    assert "post_resolution_period" in table


def test_set_stores_every_kind_of_key(
    database_url: str, space: str, container: Container, make_key: MakeKey
) -> None:
    ck(database_url, "settings", "set", "--space", space,
       "suppression_period=5m", "post_resolution_period=7d", "grouping_labels=service,team",
       "acknowledge_silences=true", "heartbeat.Watchdog=10m", "kpi.tta.P1=15m",
       "kpi.time_to_resolve.p2=1h30m", "inactive_period=2h", "auto_resolve=false",
       "suppression_strategy=create_case", "priority_map.Sev1=P1", "default_priority=P4",
       "default_category=security", "reconcile_interval=off", "name=Payments team")  # fmt: skip
    principal = make_key("case-config:Read")[1]
    stored = container.case_settings.get_active(principal)
    life, rules = stored.lifecycle, stored.rules
    assert stored.name == "Payments team"
    assert life.suppression_period == 5 * MINUTE
    assert life.post_resolution_period == 7 * DAY
    assert life.inactive_period == 2 * HOUR
    assert not life.auto_resolve
    assert life.suppression_strategy is SuppressionStrategy.CREATE_CASE
    tta = life.kpi(KpiType.TIME_TO_ACKNOWLEDGE, CasePriority.P1)
    ttr = life.kpi(KpiType.TIME_TO_RESOLVE, CasePriority.P2)
    assert tta is not None
    assert tta.threshold == 15 * MINUTE
    assert ttr is not None
    assert ttr.threshold == 90 * MINUTE
    assert rules.grouping_labels == ("service", "team")
    assert rules.acknowledge_silences
    assert rules.heartbeats == {"Watchdog": 10 * MINUTE}
    assert rules.priority_map["sev1"] is IndicatorPriority.P1
    assert rules.priority_map["critical"] is IndicatorPriority.P1  # the defaults are kept
    assert rules.default_priority is IndicatorPriority.P4
    assert rules.default_category is CaseCategory.SECURITY
    assert rules.reconcile_interval == 0

    data = show(database_url, space)
    assert data["stored"] is True
    assert data["id"] == stored.id
    assert data["kpi"] == {"tta.P1": "15m", "ttr.P2": "1h30m"}
    assert data["heartbeat"] == {"Watchdog": "10m"}
    assert data["grouping_labels"] == "service,team"


def test_set_again_changes_only_the_keys_given_and_off_removes(
    database_url: str, space: str, container: Container, make_key: MakeKey
) -> None:
    ck(database_url, "settings", "set", "--space", space, "heartbeat.Watchdog=10m",
       "kpi.ttu.P3=1d", "suppression_period=1m")  # fmt: skip
    first = show(database_url, space)
    ck(database_url, "settings", "set", "--space", space, "heartbeat.Watchdog=off",
       "kpi.ttu.P3=off")  # fmt: skip
    second = show(database_url, space)
    assert second["id"] == first["id"]
    assert second["heartbeat"] == {}
    assert second["kpi"] == {}
    assert second["suppression_period"] == "1m"
    assert second["name"] == first["name"]


@pytest.mark.parametrize(
    ("pair", "says"),
    [
        ("suppression_period=30d", "case_lifecycle.suppression_period: at most"),
        ("suppression_period=soon", "is not a duration"),
        ("kpi.tta=5m", "kpi.<tta|ttr|ttu>.<P1..P5>"),
        ("kpi.tta.P9=5m", "is not one of"),
        ("acknowledge_silences=maybe", "is not true or false"),
        ("colour=blue", "unknown key 'colour'"),
        ("heartbeat.Watchdog=5s", "at least 60s"),
        ("suppression_period", "write KEY=VALUE"),
    ],
)
def test_set_refuses_bad_pairs_and_stores_nothing(
    database_url: str, space: str, pair: str, says: str
) -> None:
    proc = ck(database_url, "settings", "set", "--space", space, "post_resolution_period=1d",
              pair, check=False)  # fmt: skip
    assert proc.returncode == 1
    assert says in " ".join(proc.stderr.split()), proc.stderr
    assert show(database_url, space)["stored"] is False


@pytest.mark.parametrize(
    ("text", "micros"),
    [
        ("0", 0),
        ("0s", 0),
        ("90", 90 * SECOND),
        ("90s", 90 * SECOND),
        ("5m", 5 * MINUTE),
        ("1h30m", 90 * MINUTE),
        ("1.5h", 90 * MINUTE),
        ("7d", 7 * DAY),
        ("250ms", 250_000),
        ("2D", 2 * DAY),
    ],
)
def test_durations_read(text: str, micros: int) -> None:
    assert parse_duration(text) == micros


@pytest.mark.parametrize("micros", [0, 1, SECOND, 61 * SECOND, 90 * MINUTE, 7 * DAY + 1 * SECOND])
def test_durations_print_as_they_read(micros: int) -> None:
    assert parse_duration(format_duration(micros)) == micros


@pytest.mark.parametrize("bad", ["", "m", "5x", "-5m", "5m-", "1h 30m"])
def test_bad_durations_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(bad)


def test_a_refused_set_is_a_casekeeper_error_in_the_service_too(
    container: Container, make_key: MakeKey
) -> None:
    # The CLI reports the service's own refusal: the check lives in the service, not the CLI.
    from casekeeper.domain.case_settings import CaseLifecycle
    from casekeeper.service.case_settings import SettingsChange

    principal = make_key("case-config:Update")[1]
    with pytest.raises(CasekeeperError, match="suppression_period"):
        container.case_settings.configure(
            principal, SettingsChange(lifecycle=CaseLifecycle(suppression_period=30 * DAY))
        )
