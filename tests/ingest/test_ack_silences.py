"""Acknowledge-until-clear against the real Alertmanager: acknowledging a case silences its
alerts there (one silence per label set, equality matchers, made by "casekeeper", a comment
naming and linking the case); the silence is expired when the alert clears or the case is
unacknowledged; both are on the case's timeline."""

from __future__ import annotations

import uuid

import pytest

from casekeeper.domain import commands as cmd
from casekeeper.domain.case_settings import CaseSettings, SignalRules
from casekeeper.domain.commands import CaseChange
from casekeeper.domain.enums import CaseStatus
from casekeeper.domain.timeline import SignalTopic
from casekeeper.service import am_silencing
from casekeeper.service.alertmanager_sync import AlertmanagerSync
from tests.ingest.alertmanager_harness import (
    Alertmanager,
    alertmanager,
    casekeeper_http,
    needs_alertmanager,
    wait_for,
)
from tests.ingest.am_world import FiringRow, World, am_sync, fingerprint, world

pytestmark = needs_alertmanager
__all__ = ["alertmanager", "am_sync", "casekeeper_http", "world"]  # fixtures used by name

WEB = {"alertname": "CertExpiry", "service": "web", "severity": "warning", "instance": "web1:443"}


def enable(world: World, on: bool = True) -> None:
    """Give the test's space active settings with acknowledge-until-clear ``on``."""
    now = world.container.cases.clock()
    with world.container.db.writer() as uow:
        existing = uow.case_settings.find(world.space_id)
        settings = CaseSettings(
            id=existing.id if existing else str(uuid.uuid4()),
            space_id=world.space_id,
            name="acknowledge until clear",
            create_time=existing.create_time if existing else now,
            update_time=now,
            rules=SignalRules(acknowledge_silences=on),
            active=True,
        )
        if existing:
            uow.case_settings.save(settings)
        else:
            uow.case_settings.add(settings)
        uow.commit()


def firing_case(world: World, labels: dict[str, str]) -> tuple[FiringRow, str]:
    def check() -> FiringRow | None:
        f = world.firing(fingerprint(labels))
        if f is None or not f.case_id or f.status != "firing":
            return None
        return f if world.case(f.case_id).status is CaseStatus.ACTIVE else None

    f = wait_for(check, what="the alert's case to be active")
    assert f.case_id is not None
    return f, f.case_id


def acknowledge(world: World, case_id: str) -> None:
    world.container.cases.change(world.reader, CaseChange(case_id, (cmd.Acknowledge(),)))


def ours(am: Alertmanager) -> list[dict[str, object]]:
    return [s for s in am.silences() if s["createdBy"] == "casekeeper"]


def test_acknowledging_silences_until_the_alert_clears(
    alertmanager: Alertmanager, world: World, am_sync: AlertmanagerSync
) -> None:
    am = alertmanager
    enable(world)
    am.fire(WEB)
    f, case_id = firing_case(world, WEB)
    clock = world.container.cases.clock

    # Active, not acknowledged: nothing to silence.
    assert am_sync.sync(world.space_id, now=clock()).silences.created == 0  # type: ignore[union-attr]
    assert ours(am) == []

    acknowledge(world, case_id)
    result = am_sync.sync(world.space_id, now=clock())

    assert result.silences is not None
    assert result.silences.created == 1
    (silence,) = ours(am)
    assert silence["status"] == {"state": "active"}
    assert {m["name"]: m["value"] for m in silence["matchers"]} == WEB  # type: ignore[attr-defined]
    assert all(m["isEqual"] and not m["isRegex"] for m in silence["matchers"])  # type: ignore[attr-defined]
    case = world.case(case_id)
    assert case.readable_id is not None
    assert case.readable_id in str(silence["comment"])
    assert f"/cases/{case.readable_id}" in str(silence["comment"])
    # Alertmanager now mutes the alert with casekeeper's silence, and that is no reason to
    # resolve it: it still fires.
    alert = am.alert(WEB)
    assert alert is not None
    assert alert["status"]["silencedBy"] == [silence["id"]]
    again = am_sync.sync(world.space_id, now=clock())
    assert again.reconcile is not None
    assert again.reconcile.resolved == 0
    assert again.silences is not None
    assert (again.silences.created, again.silences.expired) == (0, 0)
    assert len(ours(am)) == 1
    (made,) = [n for n in world.notes(case_id) if n.topic is SignalTopic.SILENCED]
    assert str(silence["id"]) in made.text

    # The alert clears. It is muted, so no "resolved" comes; the next pass finds it gone,
    # resolves it and expires the silence.
    am.resolve(WEB)
    wait_for(lambda: am.alert(WEB) is None, what="Alertmanager to drop the resolved alert")
    cleared = am_sync.sync(world.space_id, now=clock())

    assert cleared.reconcile is not None
    assert cleared.reconcile.resolved == 1
    assert cleared.silences is not None
    assert cleared.silences.expired == 1
    assert am.silence_state(str(silence["id"])) == "expired"
    assert world.firing(f.dedup_key).status == "resolved"  # type: ignore[union-attr]
    (ended,) = [n for n in world.notes(case_id) if n.topic is SignalTopic.UNSILENCED]
    assert "its alert cleared" in ended.text
    with world.container.db.reader() as uow:
        assert uow.am_silences.active(world.space_id) == []
        (row,) = uow.am_silences.of_case(case_id)
    assert row.expired_at is not None


def test_unacknowledging_expires_the_silence(
    alertmanager: Alertmanager, world: World, am_sync: AlertmanagerSync
) -> None:
    am = alertmanager
    enable(world)
    am.fire(WEB)
    _, case_id = firing_case(world, WEB)
    clock = world.container.cases.clock
    acknowledge(world, case_id)
    am_sync.sync(world.space_id, now=clock())
    (silence,) = ours(am)

    world.container.cases.change(world.reader, CaseChange(case_id, (cmd.Unacknowledge(),)))
    result = am_sync.sync(world.space_id, now=clock())

    assert result.silences is not None
    assert result.silences.expired == 1
    assert am.silence_state(str(silence["id"])) == "expired"
    alert = am.alert(WEB)
    assert alert is not None
    assert alert["status"]["silencedBy"] == []  # it is heard again
    (ended,) = [n for n in world.notes(case_id) if n.topic is SignalTopic.UNSILENCED]
    assert "unacknowledged" in ended.text


def test_silences_are_renewed_before_they_end(
    alertmanager: Alertmanager,
    world: World,
    am_sync: AlertmanagerSync,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    am = alertmanager
    enable(world)
    am.fire(WEB)
    _, case_id = firing_case(world, WEB)
    clock = world.container.cases.clock
    acknowledge(world, case_id)
    am_sync.sync(world.space_id, now=clock())
    (first,) = ours(am)

    # Renew whatever ends within three hours: every silence, made for two.
    monkeypatch.setattr(am_silencing, "RENEW_BEFORE", 3 * am_silencing.SPAN)
    result = am_sync.sync_silences(world.space_id, now=clock())

    assert result.renewed == 1
    with world.container.db.reader() as uow:
        (row,) = uow.am_silences.active(world.space_id)
    live = [s for s in ours(am) if s["status"] == {"state": "active"}]
    assert [s["id"] for s in live] == [row.silence_id]
    assert str(live[0]["endsAt"]) >= str(first["endsAt"])
    # Updated in place: the same silence, not a new one beside an expired one.
    assert row.silence_id == first["id"]
    assert len(ours(am)) == 1


def test_a_silence_whose_row_was_never_written_is_adopted(
    alertmanager: Alertmanager, world: World, am_sync: AlertmanagerSync
) -> None:
    """The process died after Alertmanager made the silence and before casekeeper wrote it
    down: the next pass finds it and keeps it, instead of making a second one."""
    am = alertmanager
    enable(world)
    am.fire(WEB)
    _, case_id = firing_case(world, WEB)
    acknowledge(world, case_id)
    orphan = am.silence(dict(sorted(WEB.items())), created_by="casekeeper")  # as casekeeper posts

    result = am_sync.sync_silences(world.space_id, now=world.container.cases.clock())

    assert result.created == 1
    (silence,) = ours(am)
    assert silence["id"] == orphan
    assert silence["status"] == {"state": "active"}
    case = world.case(case_id)
    assert case.readable_id is not None
    assert case.readable_id in str(silence["comment"])
    with world.container.db.reader() as uow:
        (row,) = uow.am_silences.active(world.space_id)
    assert row.silence_id == orphan


def test_nothing_is_silenced_when_the_setting_is_off(
    alertmanager: Alertmanager, world: World, am_sync: AlertmanagerSync
) -> None:
    am = alertmanager
    am.fire(WEB)
    _, case_id = firing_case(world, WEB)
    acknowledge(world, case_id)
    result = am_sync.sync(world.space_id, now=world.container.cases.clock())
    assert result.silences is not None
    assert result.silences.created == 0
    assert ours(am) == []

    # Turned on: the acknowledged case is silenced; turned off again: the silence ends.
    enable(world)
    assert am_sync.sync_silences(world.space_id, now=world.container.cases.clock()).created == 1
    enable(world, on=False)
    off = am_sync.sync_silences(world.space_id, now=world.container.cases.clock())
    assert off.expired == 1
    assert [s["status"] for s in ours(am)] == [{"state": "expired"}]


def test_the_scheduler_runs_acknowledge_until_clear_and_reconciliation(
    alertmanager: Alertmanager, world: World
) -> None:
    """What ``casekeeper serve`` and ``casekeeper worker`` run: their timers, not a test hook."""
    from casekeeper.service.scheduler import timers_for

    am = alertmanager
    enable(world)
    am.fire(WEB)
    f, case_id = firing_case(world, WEB)
    acknowledge(world, case_id)
    timers = timers_for(world.container)
    clock = world.container.cases.clock
    first = timers.tick(clock(), spaces=[world.space_id])
    assert first.silences == 1
    assert len(ours(am)) == 1
    am.resolve(WEB)
    wait_for(lambda: am.alert(WEB) is None, what="Alertmanager to drop the resolved alert")
    # Reconciliation runs every reconcile_interval: a tick that much later misses the alert
    # once, and the next, as far again, resolves it (two passes must agree it is gone).
    interval = SignalRules().reconcile_interval
    later = timers.tick(clock() + interval, spaces=[world.space_id])
    assert later.reconciled == 0
    assert world.firing(f.dedup_key).status == "firing"  # type: ignore[union-attr]
    later = timers.tick(clock() + 2 * interval, spaces=[world.space_id])
    assert later.reconciled == 1
    assert later.silences == 1  # the silence expired
    assert world.firing(f.dedup_key).status == "resolved"  # type: ignore[union-attr]
