"""The steps of the timed transitions (docs/LIFECYCLE_TIMERS.md): for each timer, which cases
it claims (``Claim``, a ``store.due`` query) and what it does to one claimed case (``Step``:
the changed case, its timeline payloads and when it happened; None when, re-checked under the
lock, the case is not due after all). ``scheduler.Timers`` drains them in batches."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Final

from casekeeper.domain import lifecycle
from casekeeper.domain import timeline as t
from casekeeper.domain.case_settings import KpiThreshold, KpiType
from casekeeper.domain.enums import ActorKind, CaseStatus
from casekeeper.domain.lifecycle import Operation
from casekeeper.domain.model import Case, Json, evolve
from casekeeper.domain.timeutil import to_rfc3339
from casekeeper.service.admin import activate_in
from casekeeper.store import due, tags
from casekeeper.store.uow import UnitOfWork

S = CaseStatus
OPEN: Final = (S.ACTIVE, S.ACKNOWLEDGED)
# KPI type → (statuses it is measured in, whether it counts from creation or the last update).
# A pending case cannot be acknowledged yet; it is measured once active, from its creation.
KPI_RULES: Final = {
    KpiType.TIME_TO_ACKNOWLEDGE: ((S.ACTIVE,), "create_time"),
    KpiType.TIME_TO_RESOLVE: (OPEN, "create_time"),
    KpiType.TIME_TO_UPDATE: (OPEN, "update_time"),
}

Claim = Callable[[UnitOfWork, int], list[Case]]
Step = Callable[[UnitOfWork, Case], "tuple[Case, list[t.TimelineEvent], int] | None"]


def timed(kpi: KpiType) -> bool:
    """Whether the scheduler measures this KPI."""
    return kpi in KPI_RULES


def activate(
    uow: UnitOfWork, case: Case, now: int, suppression: int
) -> tuple[Case, list[t.TimelineEvent], int] | None:
    if case.status is not S.PENDING_ACTIVATION or case.create_time + suppression > now:
        return None
    new, payloads = activate_in(uow, case, now)
    return new, payloads, now


def auto_resolve(
    case: Case, now: int, period: int
) -> tuple[Case, list[t.TimelineEvent], int] | None:
    if case.status not in OPEN or case.update_time + period > now:
        return None
    reason = f"Resolved automatically: no update for {_span(period)}"
    change = lifecycle.transition(
        case, Operation.AUTO_RESOLVE, actor_kind=ActorKind.SYSTEM, now=now, reason=reason
    )
    return change.case, list(change.events), now


def auto_close(case: Case, now: int, period: int) -> tuple[Case, list[t.TimelineEvent], int] | None:
    if case.status is not S.RESOLVED or case.end_time is None or case.end_time + period > now:
        return None
    change = lifecycle.transition(case, Operation.AUTO_CLOSE, actor_kind=ActorKind.SYSTEM, now=now)
    return change.case, list(change.events), now


def _kpi_name(kpi: KpiType) -> str:
    return f"KPI_TYPE_{kpi.name}"


def kpi_claim(space_id: int, kpi: KpiThreshold, now: int) -> Claim:
    statuses, since = KPI_RULES[kpi.type]
    bit = tags.KPI_BITS[_kpi_name(kpi.type)]
    by = now - kpi.threshold
    if since == "update_time":
        return lambda uow, k: due.quiet(uow.conn, space_id, statuses, by, k, kpi.priority, bit)
    return lambda uow, k: due.aged(uow.conn, space_id, statuses, kpi.priority, by, bit, k)


def breach_step(kpi: KpiThreshold, now: int) -> Step:
    return lambda _uow, case: _breach(case, kpi, now)


def breached(case: Case, kpi: KpiType) -> bool:
    name = _kpi_name(kpi)
    return any(b.get("kpiType") == name for b in case.kpi_breaches)


def _breach(
    case: Case, kpi: KpiThreshold, now: int
) -> tuple[Case, list[t.TimelineEvent], int] | None:
    """The KPI's breach on ``case`` (once per case and KPI type), or None if it is not due.
    It is recorded when it happened (``breachedAt``, the event's time), which a tick after
    downtime finds in the past. The case's update time stays: a breach is no news about the
    case, and must not restart its inactivity or time-to-update clock."""
    statuses, since = KPI_RULES[kpi.type]
    start = case.update_time if since == "update_time" else case.create_time
    priority = case.effective_priority
    at = start + kpi.threshold
    if case.status not in statuses or priority is not kpi.priority or at > now:
        return None
    if breached(case, kpi.type):
        return None
    entry: Json = {
        "id": str(uuid.uuid4()),
        "createdAt": to_rfc3339(now),
        "kpiType": _kpi_name(kpi.type),
        "casePriority": f"KPI_PRIORITY_{priority.name}",
        "breachedAt": to_rfc3339(at),
        "breachStatus": "BREACH_STATUS_BREACHED",
    }
    new = evolve(case, kpi_breaches=(*case.kpi_breaches, entry), version=case.version + 1)
    payload = t.KpiBreached(_kpi_name(kpi.type), priority, kpi.threshold // 1_000_000)
    return new, [payload], at


def _span(micros: int) -> str:
    """A period in words, its largest whole unit: "2 hours", "90 seconds"."""
    seconds = micros // 1_000_000
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"
