"""What an alert reports, recorded: it opens the incident of its episode or updates it.

Every source of signals (the admin API today; Alertmanager, PagerDuty and the generic endpoint
of the ingestion issue) calls ``AlertService.record``. The same alert event twice (its
``cx_event_key``) is recorded once: senders retry and HA pairs send everything twice.
"""

from __future__ import annotations

import dataclasses
import re

from casekeeper.domain import incident_lifecycle as il
from casekeeper.domain import timeline as t
from casekeeper.domain.errors import CasekeeperError, ErrorCode, case_not_found, invalid
from casekeeper.domain.events import Actor
from casekeeper.domain.ids import uuid7
from casekeeper.domain.incidents import (
    MAX_DESCRIPTION,
    MAX_EVENT_KEY,
    MAX_LABEL,
    MAX_LABELS,
    MAX_NAME,
    MAX_SYSTEM,
    AlertEvent,
    Incident,
    IncidentState,
    IncidentStatus,
    Originator,
)
from casekeeper.domain.indicators import with_alert
from casekeeper.domain.model import Case, KeyValue, evolve
from casekeeper.service import validation as v
from casekeeper.service.auth import Principal
from casekeeper.service.context import ServiceContext
from casekeeper.service.incident_effects import on_cases, stamp
from casekeeper.service.permissions import Permission
from casekeeper.store.replica import written_by
from casekeeper.store.uow import UnitOfWork

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
C = t.IncidentChange


def _labels(labels: dict[str, str], field: str) -> None:
    if len(labels) > MAX_LABELS:
        raise invalid(f"at most {MAX_LABELS} labels", field=field)
    for key, value in labels.items():
        if not key:
            raise invalid("a label needs a key", field=field)
        if len(key) > MAX_LABEL * 4 or len(value) > 4096:
            raise invalid(f"label {key[:64]!r} is too long", field=field)


def checked(alert: AlertEvent) -> AlertEvent:
    """``alert`` with its texts trimmed, or INVALID_ARGUMENT naming the field at fault."""
    if alert.state not in (IncidentState.TRIGGERED, IncidentState.RESOLVED):
        raise invalid("TRIGGERED or RESOLVED", field="state")
    for name, labels in (
        ("contextual_labels", alert.contextual_labels),
        ("display_labels", alert.display_labels),
        ("group_by", alert.group_by),
    ):
        _labels(dict(labels), name)
    if len(alert.meta_labels) > MAX_LABELS:
        raise invalid(f"at most {MAX_LABELS} labels", field="meta_labels")
    for kv in alert.meta_labels:
        v.text(kv.key, field="meta_labels.key", max_len=MAX_LABEL)
        v.text(kv.value, field="meta_labels.value", max_len=MAX_LABEL, trim=False)
    return AlertEvent(
        case_id=alert.case_id,
        alert_id=v.text(alert.alert_id, field="alert_id", max_len=256),
        name=v.text(alert.name, field="name", max_len=MAX_NAME),
        state=alert.state,
        cx_event_key=v.text(alert.cx_event_key, field="cx_event_key", max_len=MAX_EVENT_KEY),
        time=alert.time,
        severity=alert.severity,
        group_by=dict(alert.group_by),
        description=v.optional_text(
            alert.description, field="description", max_len=MAX_DESCRIPTION
        ),
        contextual_labels=dict(alert.contextual_labels),
        display_labels=dict(alert.display_labels),
        meta_labels=tuple(KeyValue(kv.key.strip(), kv.value) for kv in alert.meta_labels),
        is_muted=alert.is_muted,
        system_name=v.text(alert.system_name, field="system_name", max_len=MAX_SYSTEM),
    )


class AlertService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.db = ctx.db
        self.clock = ctx.clock

    def record(self, p: Principal, raw: AlertEvent, *, actor: Actor | None = None) -> Incident:
        """Open the alert's incident (firing, none open) or update it; the incident after.
        ``actor`` is who the case's timeline names (the sender: an Alertmanager receiver, say);
        the key ``p`` by default."""
        p.require((Permission.SIGNALS_WRITE,), "record alert events")
        alert = checked(raw)
        for attempt in range(3):
            try:
                return self._record(p, alert, actor or p.actor)
            except CasekeeperError as err:
                # Two reports of a new episode at once (an HA pair): one opened the incident,
                # the other's insert collided; again, it finds the incident open.
                if err.code is not ErrorCode.CONFLICT or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _record(self, p: Principal, alert: AlertEvent, actor: Actor) -> Incident:
        with written_by(p.user_id), self.db.writer() as uow:
            now = self.clock()
            current = uow.incidents.open_for(p.space_id, alert.correlation_key)
            if current is not None:
                known = uow.incidents.event_by_key(p.space_id, alert.cx_event_key)
                if known is not None and known.incident_id == current.id:
                    return current  # this alert event is recorded already
                change = il.record_alert(current, alert)
                before = current.status
            elif alert.state is IncidentState.RESOLVED:
                raise CasekeeperError(
                    ErrorCode.INCIDENT_NOT_FOUND,
                    f"alert {alert.alert_id!r} has no open incident to resolve",
                )
            else:
                case = self._open_case(uow, p, alert.case_id)
                alert = dataclasses.replace(alert, case_id=case.id)  # not its readable id
                change = il.open_incident(alert, incident_id=uuid7(now), space_id=p.space_id)
                before = None
            new = change.incident
            if current is None:
                uow.incidents.add(new)
            elif not uow.incidents.save_many([(current, new)]):
                raise AssertionError("an incident changed while its row was locked")
            uow.incidents.add_events(
                stamp(
                    change,
                    originator=Originator.OPERATIONAL,
                    by=alert.system_name,
                    now=alert.time,
                    key=alert.cx_event_key,
                )
            )
            entry = _entry(before, new.status)
            entries = [] if entry is None else [(new.case_id, t.IncidentChanged(new.id, entry))]
            also = {new.case_id: lambda case: self._indicators(uow, case, alert, new)}
            on_cases(uow, p.space_id, entries, actor, now, also)
            uow.commit()
        return new

    @staticmethod
    def _open_case(uow: UnitOfWork, p: Principal, raw_case_id: str) -> Case:
        ref = v.case_ref(raw_case_id, field="case_id")
        case = uow.cases.get(p.space_id, ref, for_update=True)
        if case is None:
            raise case_not_found(raw_case_id)
        if not case.is_open:
            raise CasekeeperError(
                ErrorCode.INCIDENT_INVALID_TRANSITION,
                f"case {case.readable_id or case.id} is {case.status.name.lower()}: a new "
                "incident needs an open case",
                field="case_id",
            )
        return case

    @staticmethod
    def _indicators(uow: UnitOfWork, case: Case, alert: AlertEvent, new: Incident) -> Case:
        if not _UUID.fullmatch(alert.alert_id):  # not a Coralogix alert definition
            return case
        prefix = alert.alert_id + "\x1f"
        siblings = [
            x
            for x in uow.incidents.of_case(case.id)
            if x.id != new.id and not x.is_closed and x.correlation_key.startswith(prefix)
        ]
        triggered = new.state is IncidentState.TRIGGERED or any(
            x.state is IncidentState.TRIGGERED for x in siblings
        )
        indicators = with_alert(
            case.indicators, alert.alert_id, alert.group_by, new.severity,
            triggered=triggered, time=alert.time,
        )  # fmt: skip
        return evolve(case, indicators=indicators)


def _entry(before: IncidentStatus | None, after: IncidentStatus) -> C | None:
    """What the case's timeline says of an alert's report: only news (not every repeat)."""
    if before is None:
        return C.OPENED
    if after is before:
        return None
    if after is IncidentStatus.RESOLVED:
        return C.RESOLVED
    return C.TRIGGERED if before is IncidentStatus.RESOLVED else None
