"""Signals in (docs/INGEST.md): firings become incidents in cases grouped as the sender groups
them; re-sends, replays and reorderings change nothing twice; resolutions resolve; the space's
case settings decide suppression, snooze, grouping, filters and priorities; dry runs store
nothing. A controllable clock: nothing sleeps."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa

from casekeeper.bootstrap import Container
from casekeeper.domain import timeline as t
from casekeeper.domain.case_settings import (
    MINUTE,
    CaseLifecycle,
    CaseSettings,
    IndicatorFilter,
    IndicatorPriority,
    SignalRules,
)
from casekeeper.domain.enums import CasePriority, CaseStatus, ResolverKind
from casekeeper.domain.errors import CasekeeperError, ErrorCode
from casekeeper.domain.incidents import IncidentStatus
from casekeeper.domain.model import Case, CaseRef
from casekeeper.domain.signals import (
    Action,
    IngestReport,
    Signal,
    SignalBatch,
    SignalStatus,
    Source,
)
from casekeeper.service.auth import Principal
from casekeeper.service.context import ServiceContext
from casekeeper.service.signals import SignalService
from casekeeper.store.schema import case_event, incident, signal_firing
from tests.conftest import MakeKey

F, R, ACK = SignalStatus.FIRING, SignalStatus.RESOLVED, SignalStatus.ACKNOWLEDGED
T0 = 1_790_000_000_000_000


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> int:
        return self.now

    def advance(self, us: int) -> None:
        self.now += us


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def signals(container: Container, clock: Clock) -> SignalService:
    return SignalService(ServiceContext(db=container.db, clock=clock))


def alert(
    fp: str, status: SignalStatus = F, *, starts: int = T0 - 10_000_000, sev: str = "critical",
    group: str | None = "{}:{alertname=\"DiskFull\"}", **labels: str,
) -> Signal:  # fmt: skip
    return Signal(
        dedup_key=fp,
        status=status,
        title=labels.get("alertname", "DiskFull"),
        labels={"alertname": "DiskFull", "severity": sev, **labels},
        annotations={"summary": f"disk almost full on {fp}"},
        starts_at=starts,
        ends_at=starts + 60_000_000 if status is R else None,
        generator_url="http://127.0.0.1:9090/graph",
        group_key=group,
        group_labels={"alertname": labels.get("alertname", "DiskFull")},
    )


def am(*signals: Signal) -> SignalBatch:
    return SignalBatch(Source.ALERTMANAGER, signals, receiver="hook", external_url="http://am.test")


def case_of(container: Container, p: Principal, case_id: str | None) -> Case:
    assert case_id is not None
    with container.db.reader() as uow:
        case = uow.cases.get(p.space_id, CaseRef(raw=case_id, uuid=case_id))
    assert case is not None
    return case


def counts(container: Container, p: Principal) -> tuple[int, int, int]:
    """(timeline events, incidents, firings) in the principal's space."""
    with container.db.reader() as uow:
        return tuple(  # type: ignore[return-value]
            uow.conn.execute(
                sa.select(sa.func.count()).select_from(table).where(table.c.space_id == p.space_id)
            ).scalar_one()
            for table in (case_event, incident, signal_firing)
        )


def set_settings(container: Container, p: Principal, **parts: object) -> None:
    settings = CaseSettings(id=str(uuid.uuid4()), space_id=p.space_id, name="test", **parts)  # type: ignore[arg-type]
    with container.db.writer() as uow:
        uow.case_settings.add(settings)
        uow.commit()


def timeline(container: Container, case_id: str) -> list[t.TimelineEvent]:
    with container.db.reader() as uow:
        return [e.data for e in uow.events.for_case(case_id)]


def test_a_group_of_alerts_opens_one_active_case(
    container: Container, signals: SignalService, principal: Principal
) -> None:
    report = signals.ingest(principal, am(alert("fp1"), alert("fp2", instance="db2")))
    first, second = report.outcomes
    assert (first.action, second.action) == (Action.OPENED, Action.OPENED)
    assert first.new_case
    assert not second.new_case
    assert first.case_id == second.case_id
    assert first.incident_id != second.incident_id
    case = case_of(container, principal, first.case_id)
    assert case.status is CaseStatus.ACTIVE
    assert case.readable_id == first.case_readable_id
    assert case.priority.system is CasePriority.P1
    assert case.title == "DiskFull"
    (group,) = case.indicators["prometheusAlertIndicators"]
    assert group["receiver"] == "hook"
    assert group["externalUrl"] == "http://am.test"
    assert [a["fingerprint"] for a in group["alerts"]] == ["fp1", "fp2"]
    assert all("triggered" in a["status"] for a in group["alerts"])
    assert '"critical" maps to P1' in (first.priority_reason or "")
    found = container.cases.get_by_prometheus_alert(principal, "fp1", T0 - 10_000_000)
    assert found.id == case.id


def test_a_replay_changes_nothing_and_writes_nothing(
    container: Container, signals: SignalService, principal: Principal
) -> None:
    batch = am(alert("fp1"), alert("fp2", instance="db2"))
    signals.ingest(principal, batch)
    before = counts(container, principal)
    again = signals.ingest(principal, batch)
    assert {o.action for o in again.outcomes} == {Action.UNCHANGED}
    assert counts(container, principal) == before


def test_resolving_every_alert_resolves_incidents_and_case(
    container: Container, signals: SignalService, principal: Principal
) -> None:
    opened = signals.ingest(principal, am(alert("fp1"), alert("fp2", instance="db2")))
    half = signals.ingest(principal, am(alert("fp1", R)))
    case_id = opened.outcomes[0].case_id
    assert half.outcomes[0].action is Action.RESOLVED
    assert case_of(container, principal, case_id).status is CaseStatus.ACTIVE
    signals.ingest(principal, am(alert("fp2", R, instance="db2")))
    case = case_of(container, principal, case_id)
    assert case.status is CaseStatus.RESOLVED
    assert case.resolution is not None
    assert case.resolution.resolved_by is ResolverKind.PROMETHEUS_ALERT_MANAGER
    for o in opened.outcomes:
        assert o.incident_id is not None
        x = container.incidents.get(principal, o.incident_id)
        assert x.status is IncidentStatus.RESOLVED
    before = counts(container, principal)
    assert {o.action for o in signals.ingest(principal, am(alert("fp1", R))).outcomes} == {
        Action.UNCHANGED
    }
    assert counts(container, principal) == before


def test_resolved_before_firing_opens_nothing(
    container: Container, signals: SignalService, principal: Principal
) -> None:
    first = signals.ingest(principal, am(alert("fp1", R)))
    late = signals.ingest(principal, am(alert("fp1")))
    assert first.outcomes[0].action is Action.IGNORED
    assert late.outcomes[0].action is Action.IGNORED
    assert counts(container, principal)[:2] == (0, 0)


def test_an_older_firing_arriving_late_is_ignored(
    container: Container, signals: SignalService, principal: Principal, clock: Clock
) -> None:
    signals.ingest(principal, am(alert("fp1", starts=T0)))
    stale = signals.ingest(principal, am(alert("fp1", starts=T0 - 3_600_000_000)))
    assert stale.outcomes[0].action is Action.IGNORED
    assert "stale" in stale.outcomes[0].reason


def test_suppression_period_keeps_a_case_pending_and_an_early_resolve_never_activates(
    container: Container, signals: SignalService, principal: Principal, clock: Clock
) -> None:
    set_settings(container, principal, lifecycle=CaseLifecycle(suppression_period=5 * MINUTE))
    opened = signals.ingest(principal, am(alert("fp1")))
    case = case_of(container, principal, opened.outcomes[0].case_id)
    assert case.status is CaseStatus.PENDING_ACTIVATION
    assert case.readable_id is None
    clock.advance(MINUTE)
    signals.ingest(principal, am(alert("fp1", R)))
    case = case_of(container, principal, case.id)
    assert case.status is CaseStatus.RESOLVED
    assert case.readable_id is None


def test_flapping_within_the_snooze_period_rejoins_the_resolved_case(
    container: Container, signals: SignalService, principal: Principal, clock: Clock
) -> None:
    set_settings(
        container, principal, lifecycle=CaseLifecycle(resolution_snooze_period=10 * MINUTE)
    )
    opened = signals.ingest(principal, am(alert("fp1", starts=T0)))
    signals.ingest(principal, am(alert("fp1", R, starts=T0)))
    clock.advance(2 * MINUTE)
    again = signals.ingest(principal, am(alert("fp1", starts=T0 + 2 * MINUTE)))
    (o,) = again.outcomes
    assert o.action is Action.RETRIGGERED
    assert o.case_id == opened.outcomes[0].case_id
    assert o.incident_id == opened.outcomes[0].incident_id
    case = case_of(container, principal, o.case_id)
    assert case.status is CaseStatus.RESOLVED
    notes = [e for e in timeline(container, case.id) if isinstance(e, t.SignalNote)]
    assert [n.topic for n in notes] == [t.SignalTopic.REFIRED]
    # After the snooze period the same alert opens a new case and a new incident.
    signals.ingest(principal, am(alert("fp1", R, starts=T0 + 2 * MINUTE)))
    clock.advance(30 * MINUTE)
    later = signals.ingest(principal, am(alert("fp1", starts=T0 + 32 * MINUTE))).outcomes[0]
    assert later.action is Action.OPENED
    assert later.new_case
    assert later.case_id != o.case_id
    assert later.incident_id != o.incident_id
    assert o.incident_id is not None
    assert container.incidents.get(principal, o.incident_id).closed_at is not None


def test_grouping_labels_join_cases_across_sender_groups(
    container: Container, signals: SignalService, principal: Principal
) -> None:
    set_settings(container, principal, rules=SignalRules(grouping_labels=("service",)))
    a = signals.ingest(principal, am(alert("fp1", group="g1", service="db")))
    b = signals.ingest(principal, am(alert("fp2", group="g2", service="db", alertname="Slow")))
    c = signals.ingest(principal, am(alert("fp3", group="g1", service="web")))
    assert a.outcomes[0].case_id == b.outcomes[0].case_id != c.outcomes[0].case_id
    assert a.outcomes[0].group_key == "labels:service=db"
    explained = signals.explain(principal, a.outcomes[0].case_id or "")
    assert explained.groups == ("labels:service=db",)
    assert {f.dedup_key for f in explained.firings} == {"fp1", "fp2"}


def test_priority_is_rederived_when_a_more_urgent_alert_joins(
    container: Container, signals: SignalService, principal: Principal
) -> None:
    low = signals.ingest(principal, am(alert("fp1", sev="warning"))).outcomes[0]
    case = case_of(container, principal, low.case_id)
    assert case.priority.system is CasePriority.P3
    signals.ingest(principal, am(alert("fp2", sev="critical", instance="db2")))
    case = case_of(container, principal, low.case_id)
    assert case.priority.system is CasePriority.P1
    changes = [e for e in timeline(container, case.id) if isinstance(e, t.PriorityChanged)]
    assert [c.new.system for c in changes] == [CasePriority.P1]
    why = signals.explain(principal, case.id).priority_reason
    assert "P1" in why
    assert "fp2" in why


def test_the_explanation_keeps_the_rule_that_applied_when_the_alert_arrived(
    container: Container, signals: SignalService, principal: Principal
) -> None:
    from casekeeper.domain.case_settings import SignalRules

    opened = signals.ingest(principal, am(alert("fp1", sev="critical"))).outcomes[0]
    assert opened.case_id is not None
    before = signals.explain(principal, opened.case_id).priority_reason
    assert 'fp1: label severity="critical" maps to P1' in before
    # The space now reads severity from another label: the firing's reason stays as it was.
    container.case_settings.update_rules(principal, SignalRules(severity_label="level"))
    after = signals.explain(principal, opened.case_id).priority_reason
    assert 'fp1: label severity="critical" maps to P1' in after


def test_a_dry_run_says_what_would_happen_and_stores_nothing(
    container: Container, signals: SignalService, principal: Principal
) -> None:
    report = signals.ingest(principal, am(alert("fp1")), dry_run=True)
    (o,) = report.outcomes
    assert report.dry_run
    assert o.action is Action.OPENED
    assert o.new_case
    assert o.case_readable_id is not None
    assert o.priority == "P1"
    assert counts(container, principal) == (0, 0, 0)


def test_settings_filters_keep_signals_out_of_cases(
    container: Container, signals: SignalService, principal: Principal
) -> None:
    only_p1 = IndicatorFilter(priorities=(IndicatorPriority.P1,))
    set_settings(container, principal, filters=(only_p1,))
    report = signals.ingest(principal, am(alert("fp1", sev="info"), alert("fp2", instance="x")))
    assert [o.action for o in report.outcomes] == [Action.FILTERED, Action.OPENED]
    assert counts(container, principal)[1] == 1


def test_a_heartbeat_opens_no_case(
    container: Container, signals: SignalService, principal: Principal
) -> None:
    set_settings(container, principal, rules=SignalRules(heartbeats={"Watchdog": 5 * MINUTE}))
    report = signals.ingest(principal, am(alert("wd", alertname="Watchdog", sev="none")))
    assert report.outcomes[0].action is Action.IGNORED
    with container.db.reader() as uow:
        assert [h[1] for h in uow.heartbeats.all([principal.space_id])] == ["Watchdog"]
    assert counts(container, principal) == (0, 0, 0)


def test_events_v2_style_signals_without_start_times(
    container: Container, signals: SignalService, principal: Principal, clock: Clock
) -> None:
    def pd(status: SignalStatus) -> SignalBatch:
        s = Signal("disk-db1", status, "Disk full on db1", severity="error")
        return SignalBatch(Source.PAGERDUTY, (s,), sender="monitoring")

    opened = signals.ingest(principal, pd(F)).outcomes[0]
    assert signals.ingest(principal, pd(F)).outcomes[0].action is Action.UNCHANGED
    assert signals.ingest(principal, pd(ACK)).outcomes[0].action is Action.ACKNOWLEDGED
    case = case_of(container, principal, opened.case_id)
    assert case.status is CaseStatus.ACKNOWLEDGED
    assert case.priority.system is CasePriority.P2
    clock.advance(MINUTE)
    assert signals.ingest(principal, pd(R)).outcomes[0].action is Action.RESOLVED
    assert case_of(container, principal, case.id).status is CaseStatus.RESOLVED
    assert signals.ingest(principal, pd(R)).outcomes[0].action is Action.IGNORED
    clock.advance(MINUTE)
    reopened = signals.ingest(principal, pd(F)).outcomes[0]
    assert reopened.action is Action.OPENED
    assert reopened.case_id != case.id


@pytest.mark.parametrize(
    ("broken", "field"),
    [
        (dataclasses.replace(alert("x"), dedup_key=" "), "signals[1].dedup_key"),
        (dataclasses.replace(alert("x"), title=""), "signals[1].title"),
        (dataclasses.replace(alert("x"), labels={"": "v"}), "signals[1].labels"),
        (dataclasses.replace(alert("x"), labels={"k": "v" * 9000}), "signals[1].labels"),
    ],
)
def test_a_bad_signal_rejects_the_whole_batch(
    container: Container, signals: SignalService, principal: Principal, broken: Signal, field: str
) -> None:
    with pytest.raises(CasekeeperError) as err:
        signals.ingest(principal, am(alert("ok"), broken))
    assert err.value.code is ErrorCode.INVALID_ARGUMENT
    assert err.value.field == field
    assert counts(container, principal) == (0, 0, 0)


def test_signals_need_the_signals_permission(
    container: Container, signals: SignalService, make_key: MakeKey
) -> None:
    _, reader = make_key("case:Read")
    with pytest.raises(CasekeeperError) as err:
        signals.ingest(reader, am(alert("fp1")))
    assert err.value.code is ErrorCode.PERMISSION_DENIED


def run_threads(n: int, work: Callable[[], IngestReport]) -> Iterator[IngestReport]:
    results: list[IngestReport] = []
    errors: list[BaseException] = []

    def go() -> None:
        try:
            results.append(work())
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=go) for _ in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors
    return iter(results)


def test_concurrent_deliveries_make_one_of_everything(
    container: Container, signals: SignalService, principal: Principal
) -> None:
    batch = am(*(alert(f"fp{n}", instance=f"db{n}") for n in range(20)))
    reports = list(run_threads(6, lambda: signals.ingest(principal, batch)))
    opened = [o for r in reports for o in r.outcomes if o.action is Action.OPENED]
    assert len(opened) == 20
    assert len({o.case_id for r in reports for o in r.outcomes}) == 1
    assert counts(container, principal)[1:] == (20, 20)


def test_concurrent_resolutions_of_one_firing_resolve_it_once(
    container: Container, signals: SignalService, principal: Principal
) -> None:
    firing = [alert(f"fp{n}", instance=f"db{n}") for n in range(20)]
    signals.ingest(principal, am(*firing))
    resolved = am(*(alert(f"fp{n}", R, instance=f"db{n}") for n in range(20)))
    reports = list(run_threads(6, lambda: signals.ingest(principal, resolved)))
    done = [o for r in reports for o in r.outcomes if o.action is Action.RESOLVED]
    assert len(done) == 20, [o.action for r in reports for o in r.outcomes]
    with container.db.reader() as uow:
        rows = uow.conn.execute(
            sa.select(sa.func.count())
            .select_from(signal_firing)
            .where(signal_firing.c.space_id == principal.space_id)
            .where(signal_firing.c.status == "resolved")
        ).scalar_one()
    assert rows == 20


def test_a_persons_override_wins_over_the_derived_priority_until_cleared(
    container: Container, signals: SignalService, principal: Principal
) -> None:
    from casekeeper.domain import commands as cmd
    from casekeeper.domain.commands import CaseChange

    low = signals.ingest(principal, am(alert("fp1", sev="warning"))).outcomes[0]
    assert low.case_id is not None
    container.cases.change(
        principal, CaseChange(low.case_id, (cmd.SetPriorityOverride(CasePriority.P4),))
    )
    signals.ingest(principal, am(alert("fp2", sev="critical", instance="db2")))
    case = case_of(container, principal, low.case_id)
    assert case.priority.system is CasePriority.P1
    assert case.effective_priority is CasePriority.P4
    assert "override" in signals.explain(principal, case.id).priority_reason
    container.cases.change(principal, CaseChange(low.case_id, (cmd.ClearPriorityOverride(),)))
    assert case_of(container, principal, low.case_id).effective_priority is CasePriority.P1


def test_a_closed_case_stays_as_it_was_when_its_alerts_resolve(
    container: Container, signals: SignalService, principal: Principal
) -> None:
    from casekeeper.domain import commands as cmd
    from casekeeper.domain.commands import CaseChange

    opened = signals.ingest(principal, am(alert("fp1"))).outcomes[0]
    assert opened.case_id is not None
    container.cases.change(principal, CaseChange(opened.case_id, (cmd.Close(),)))
    closed = case_of(container, principal, opened.case_id)
    assert signals.ingest(principal, am(alert("fp1"))).outcomes[0].action is Action.UNCHANGED
    assert signals.ingest(principal, am(alert("fp1", R))).outcomes[0].action is Action.RESOLVED
    assert case_of(container, principal, opened.case_id) == closed


def test_an_alert_reconciliation_resolved_fires_again_when_its_source_still_reports_it(
    container: Container, signals: SignalService, principal: Principal
) -> None:
    opened = signals.ingest(principal, am(alert("fp1"))).outcomes[0]
    gone = dataclasses.replace(am(alert("fp1", R)), reconciliation=True, note="reconciled")
    assert signals.ingest(principal, gone).outcomes[0].action is Action.RESOLVED
    assert opened.incident_id is not None
    assert container.incidents.get(principal, opened.incident_id).status is IncidentStatus.RESOLVED
    assert opened.case_id is not None
    assert case_of(container, principal, opened.case_id).status is CaseStatus.RESOLVED
    # The silence that hid it ended; Alertmanager sends the same firing again.
    back = signals.ingest(principal, am(alert("fp1"))).outcomes[0]
    assert back.action is Action.RETRIGGERED
    assert back.incident_id == opened.incident_id
    x = container.incidents.get(principal, opened.incident_id)
    assert x.status is IncidentStatus.TRIGGERED
    # The automatic resolution followed from the wrong one: the case is open again.
    reopened = case_of(container, principal, opened.case_id)
    assert reopened.status is CaseStatus.ACTIVE
    assert reopened.resolution is None
    assert signals.ingest(principal, am(alert("fp1"))).outcomes[0].action is Action.UNCHANGED
    # A resolution the source sends itself is final for this firing.
    signals.ingest(principal, am(alert("fp1", R)))
    assert signals.ingest(principal, am(alert("fp1"))).outcomes[0].action is Action.IGNORED


def test_a_prometheus_indicator_holds_at_most_the_specs_1000_alerts(
    container: Container, signals: SignalService, principal: Principal
) -> None:
    from casekeeper.domain.signal_indicators import MAX_ALERTS

    for start in range(0, MAX_ALERTS + 50, 350):
        batch = [alert(f"fp{n}", instance=f"i{n}") for n in range(start, start + 350)]
        report = signals.ingest(principal, am(*batch))
    case = case_of(container, principal, report.outcomes[0].case_id)
    (group,) = case.indicators["prometheusAlertIndicators"]
    assert len(group["alerts"]) == MAX_ALERTS  # every incident is there all the same
    assert counts(container, principal)[1] == 1050
    signals.ingest(principal, am(alert("fp0", R, instance="i0")))
    signals.ingest(principal, am(alert("fp9999", instance="i9999")))
    (group,) = case_of(container, principal, case.id).indicators["prometheusAlertIndicators"]
    fingerprints = [a["fingerprint"] for a in group["alerts"]]
    assert "fp9999" in fingerprints
    assert "fp0" not in fingerprints  # the resolved one made room
    assert len(fingerprints) == MAX_ALERTS


@pytest.mark.parametrize(
    "url",
    [
        "http://admin:hunter2@am.example:9093/",
        "http://am.example:9093/?next=/api/v2/silences",
        "http://am.example:9093/#frag",
        "gopher://am.example/",
    ],
)
def test_an_external_url_casekeeper_would_not_call_is_dropped_not_the_alerts(url: str) -> None:
    from casekeeper.service.signals import external_url

    assert external_url(url) is None
    assert external_url(" http://am.example:9093/prefix ") == "http://am.example:9093/prefix"
