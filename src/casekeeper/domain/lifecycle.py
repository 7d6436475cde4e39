"""The case status state machine and every operation on a case, as pure functions.

Each operation takes the current ``Case`` and returns a ``Change``: the case's next version
(``update_time`` set, ``version`` + 1) and the timeline payloads to append, or
``Change.none(case)`` when the operation is a same-state repeat (idempotent: no new event,
nothing written). Forbidden transitions raise ``CasekeeperError(INVALID_TRANSITION)`` naming
the operation and status.
"""

from __future__ import annotations

import dataclasses
from enum import StrEnum
from typing import Final

from casekeeper.domain import commands as cmd
from casekeeper.domain import fields
from casekeeper.domain import timeline as t
from casekeeper.domain.change import Change as Change
from casekeeper.domain.change import next_version
from casekeeper.domain.enums import (
    RESOLVER_FOR_ACTOR,
    ActorKind,
    CasePriority,
    CaseStatus,
)
from casekeeper.domain.errors import CasekeeperError, ErrorCode, invalid
from casekeeper.domain.model import (
    MAX_ASSIGNEES,
    Case,
    Micros,
    PriorityDetails,
    ResolutionDetails,
    evolve,
)

S = CaseStatus

# Every edge of the lifecycle. PENDING_ACTIVATION's edges are the system's alone; RESOLVED and
# CLOSED go back to ACTIVE only by an explicit reopen.
TRANSITIONS: Final[dict[CaseStatus, frozenset[CaseStatus]]] = {
    S.PENDING_ACTIVATION: frozenset({S.ACTIVE, S.RESOLVED}),
    S.ACTIVE: frozenset({S.ACKNOWLEDGED, S.RESOLVED, S.CLOSED}),
    S.ACKNOWLEDGED: frozenset({S.ACTIVE, S.RESOLVED, S.CLOSED}),
    S.RESOLVED: frozenset({S.CLOSED, S.ACTIVE}),
    S.CLOSED: frozenset({S.ACTIVE}),
}


class Operation(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    UNACKNOWLEDGE = "unacknowledge"
    RESOLVE = "resolve"
    CLOSE = "close"
    ACTIVATE = "activate"
    AUTO_RESOLVE = "auto-resolve"
    AUTO_CLOSE = "auto-close"
    REOPEN = "reopen"
    ASSIGN = "assign"
    UNASSIGN = "unassign"
    SET_PRIORITY_OVERRIDE = "set the priority override of"
    CLEAR_PRIORITY_OVERRIDE = "clear the priority override of"
    UPDATE_TITLE = "change the title of"
    UPDATE_RESOLUTION_REASON = "change the resolution reason of"
    SET_ON_HOLD = "put on hold"


# Status operations: (target status, statuses a caller may start from).
STATUS_OPERATIONS: Final[dict[Operation, tuple[CaseStatus, frozenset[CaseStatus]]]] = {
    Operation.ACKNOWLEDGE: (S.ACKNOWLEDGED, frozenset({S.ACTIVE})),
    Operation.UNACKNOWLEDGE: (S.ACTIVE, frozenset({S.ACKNOWLEDGED})),
    Operation.RESOLVE: (S.RESOLVED, frozenset({S.ACTIVE, S.ACKNOWLEDGED})),
    Operation.CLOSE: (S.CLOSED, frozenset({S.ACTIVE, S.ACKNOWLEDGED, S.RESOLVED})),
    Operation.ACTIVATE: (S.ACTIVE, frozenset({S.PENDING_ACTIVATION})),
    Operation.AUTO_RESOLVE: (
        S.RESOLVED,
        frozenset({S.PENDING_ACTIVATION, S.ACTIVE, S.ACKNOWLEDGED}),
    ),
    Operation.AUTO_CLOSE: (S.CLOSED, frozenset({S.RESOLVED})),
    Operation.REOPEN: (S.ACTIVE, frozenset({S.RESOLVED, S.CLOSED})),
}

# Field operations that a closed (terminal) case refuses.
NON_TERMINAL_ONLY: Final = frozenset(
    {
        Operation.ASSIGN,
        Operation.UNASSIGN,
        Operation.SET_PRIORITY_OVERRIDE,
        Operation.CLEAR_PRIORITY_OVERRIDE,
        Operation.SET_ON_HOLD,
    }
)


_next = next_version


def touch(case: Case, *, now: Micros) -> Case:
    """The case's next version with nothing but its update time changed (a timeline entry
    such as a comment counts as a change to the case)."""
    return _next(case, now)


# How the domain words a status in a message; dialects use their own names (``refusal``).
STATUS_LABEL: Final = {m: m.name.lower().replace("_", " ") for m in CaseStatus}
# Why a transition was refused, by key; a dialect may word these its own way.
HINTS: Final = {
    "closed": "reopen it first",
    "pending": "a pending case becomes active only through the system",
    "resolved": "reopen it first",
    "not-acknowledged": "only an acknowledged case can be unacknowledged",
    "not-ended": "only a resolved or closed case can be reopened",
    "reason-needs-end": "a resolution reason is set once the case is resolved or closed",
    "acknowledge-first": "acknowledge it first",
}


def refusal(operation: str, case: str, status: str, hint: str) -> str:
    """The message of a refused operation, in words a dialect chose for status and hint."""
    message = f"cannot {operation} case {case} in status {status}"
    return f"{message}: {hint}" if hint else message


def _refuse(op: Operation, case: Case, hint: str = "") -> CasekeeperError:
    ref = case.readable_id or case.id
    return CasekeeperError(
        ErrorCode.INVALID_TRANSITION,
        refusal(op.value, ref, STATUS_LABEL[case.status], HINTS.get(hint, hint)),
        detail={"operation": op.value, "case": ref, "status": case.status, "hint": hint},
    )


def _hint(op: Operation, status: CaseStatus) -> str:
    if status is S.CLOSED:
        return "closed"
    if status is S.PENDING_ACTIVATION:
        return "pending"
    if status is S.RESOLVED and op in (Operation.ACKNOWLEDGE, Operation.UNACKNOWLEDGE):
        return "resolved"
    if op is Operation.UNACKNOWLEDGE:
        return "not-acknowledged"
    if op is Operation.REOPEN:
        return "not-ended"
    return ""


def transition(
    case: Case, op: Operation, *, actor_kind: ActorKind, now: Micros, reason: str | None = None
) -> Change:
    """Apply a status operation. Same-state repeats are no-ops; forbidden edges raise."""
    target, allowed_from = STATUS_OPERATIONS[op]
    if case.status is target:
        return Change.none(case)
    if case.status not in allowed_from or target not in TRANSITIONS[case.status]:
        raise _refuse(op, case, _hint(op, case.status))
    updates: dict[str, object] = {"status": target}
    if case.on_hold and target is not S.ACKNOWLEDGED:
        updates["on_hold"] = False  # on hold is a kind of acknowledged
    if op is Operation.REOPEN:
        updates.update(acknowledge_time=None, resolution=None, end_time=None)
    elif target is S.ACKNOWLEDGED:
        updates["acknowledge_time"] = now
    elif op is Operation.UNACKNOWLEDGE:
        updates["acknowledge_time"] = None
    elif target is S.RESOLVED:
        updates["resolution"] = ResolutionDetails(
            reason=reason, resolve_time=now, resolved_by=RESOLVER_FOR_ACTOR[actor_kind]
        )
        updates["end_time"] = now
    elif target is S.CLOSED and case.end_time is None:
        updates["end_time"] = now
    return Change(_next(case, now, **updates), [t.StatusChanged(case.status, target)])


def _require_non_terminal(case: Case, op: Operation) -> None:
    if op in NON_TERMINAL_ONLY and case.status is S.CLOSED:
        raise _refuse(op, case, "closed")


def assign(case: Case, assignee: str, *, now: Micros) -> Change:
    """``assignee`` becomes the one assignee (a dialect with one assignee per case)."""
    return set_assignees(case, (assignee,), now=now, op=Operation.ASSIGN)


def unassign(case: Case, *, now: Micros) -> Change:
    return set_assignees(case, (), now=now, op=Operation.UNASSIGN)


def set_assignees(
    case: Case, assignees: tuple[str, ...], *, now: Micros, op: Operation = Operation.ASSIGN
) -> Change:
    """Replace the assignees (at most ``MAX_ASSIGNEES``, in this order). The timeline says who
    came and who went, so a dialect that shows only the first assignee can follow it: a new
    first assignee is ``assigned`` naming the first it replaced (who then needs no
    ``unassigned``); every other newcomer is ``assigned``, every other leaver ``unassigned``."""
    _require_non_terminal(case, op)
    if len(assignees) > MAX_ASSIGNEES:
        raise invalid(f"at most {MAX_ASSIGNEES} (got {len(assignees)})", field="assignees")
    old = case.assignees
    if old == assignees:
        return Change.none(case)
    old_first = old[0] if old else None
    replaced = None
    events: list[t.TimelineEvent] = []
    if assignees and assignees[0] != old_first:
        events.append(t.Assigned(assignees[0], old_first))
        replaced = old_first
    events.extend(t.Assigned(u) for u in assignees[1:] if u not in old)
    events.extend(t.Unassigned(u) for u in old if u not in assignees and u != replaced)
    return Change(_next(case, now, assignees=assignees), events)


def set_priority_override(case: Case, priority: CasePriority, *, now: Micros) -> Change:
    _require_non_terminal(case, Operation.SET_PRIORITY_OVERRIDE)
    if case.priority.override is priority:
        return Change.none(case)
    details = PriorityDetails(system=case.priority.system, override=priority)
    new = _next(case, now, priority=details)
    return Change(new, [t.PriorityChanged(case.priority, details)])


def clear_priority_override(case: Case, *, now: Micros) -> Change:
    _require_non_terminal(case, Operation.CLEAR_PRIORITY_OVERRIDE)
    if case.priority.override is None:
        return Change.none(case)
    details = PriorityDetails(system=case.priority.system)
    new = _next(case, now, priority=details)
    return Change(new, [t.PriorityChanged(case.priority, details)])


def set_system_priority(case: Case, priority: CasePriority, *, now: Micros) -> Change:
    """System re-prioritisation (e.g. a new indicator). Any open case."""
    if case.priority.system is priority or not case.is_open:
        return Change.none(case)
    details = PriorityDetails(system=priority, override=case.priority.override)
    new = _next(case, now, priority=details)
    return Change(new, [t.PriorityChanged(case.priority, details)])


def update(case: Case, *, title: str | None, resolution_reason: str | None, now: Micros) -> Change:
    """UpdateCase: a patch of title and/or resolution reason, applied together or not at all."""
    events: list[t.TimelineEvent] = []
    updates: dict[str, object] = {}
    if title is not None and title != case.title:
        events.append(t.TitleChanged(case.title, title))
        updates["title"] = title
    if resolution_reason is not None:
        if case.status not in (S.RESOLVED, S.CLOSED):
            raise _refuse(
                Operation.UPDATE_RESOLUTION_REASON,
                case,
                "reason-needs-end",
            )
        resolution = case.resolution or ResolutionDetails()
        if resolution_reason != resolution.reason:
            events.append(t.ResolutionReasonChanged(resolution.reason or None, resolution_reason))
            updates["resolution"] = dataclasses.replace(resolution, reason=resolution_reason)
    if not events:
        return Change.none(case)
    return Change(_next(case, now, **updates), events)


def set_on_hold(case: Case, on_hold: bool, *, now: Micros) -> Change:
    """On hold is a flag on an acknowledged case (Tracecat's ``on_hold``)."""
    if case.on_hold is on_hold:
        return Change.none(case)
    if on_hold and case.status is not S.ACKNOWLEDGED:
        raise _refuse(Operation.SET_ON_HOLD, case, "acknowledge-first")
    return Change(_next(case, now, on_hold=on_hold), [t.OnHoldChanged(on_hold)])


def apply(case: Case, command: cmd.CaseCommand, *, actor_kind: ActorKind, now: Micros) -> Change:
    """The one place a command meets a case."""
    match command:
        case cmd.Acknowledge():
            return transition(case, Operation.ACKNOWLEDGE, actor_kind=actor_kind, now=now)
        case cmd.Unacknowledge():
            return transition(case, Operation.UNACKNOWLEDGE, actor_kind=actor_kind, now=now)
        case cmd.Resolve(reason):
            return transition(
                case, Operation.RESOLVE, actor_kind=actor_kind, now=now, reason=reason
            )
        case cmd.Close():
            return transition(case, Operation.CLOSE, actor_kind=actor_kind, now=now)
        case cmd.Reopen():
            return transition(case, Operation.REOPEN, actor_kind=actor_kind, now=now)
        case cmd.Assign(user_id):
            return assign(case, user_id, now=now)
        case cmd.Unassign():
            return unassign(case, now=now)
        case cmd.SetAssignees(user_ids):
            return set_assignees(case, fields.distinct(user_ids), now=now)
        case cmd.SetOnHold(on_hold):
            return set_on_hold(case, on_hold, now=now)
        case cmd.SetPriorityOverride(priority):
            return set_priority_override(case, priority, now=now)
        case cmd.ClearPriorityOverride():
            return clear_priority_override(case, now=now)
        case cmd.Retitle(title):
            return update(case, title=title, resolution_reason=None, now=now)
        case cmd.SetResolutionReason(reason):
            return update(case, title=None, resolution_reason=reason, now=now)
        case cmd.SetDescription(text):
            return fields.set_description(case, text, now=now)
        case cmd.SetTags(tags):
            return fields.set_tags(case, fields.distinct(tags), now=now)
        case cmd.AddTags(tags):
            return fields.set_tags(case, fields.distinct(case.tags + tags), now=now)
        case cmd.RemoveTags(tags):
            kept = tuple(tag for tag in case.tags if tag not in tags)
            return fields.set_tags(case, kept, now=now)
        case cmd.SetSeverity(severity):
            return fields.set_severity(case, severity, now=now)
        case cmd.SetExtension(namespace, value):
            return fields.set_extension(case, namespace, value, now=now)
    raise TypeError(f"not a case command: {command!r}")  # pragma: no cover - exhaustive


def apply_all(
    case: Case, commands: tuple[cmd.CaseCommand, ...], *, actor_kind: ActorKind, now: Micros
) -> Change:
    """Every command in order, all or nothing: one next version, and every event."""
    if len(commands) == 1:
        return apply(case, commands[0], actor_kind=actor_kind, now=now)
    current = case
    events: list[t.TimelineEvent] = []
    for command in commands:
        change = apply(current, command, actor_kind=actor_kind, now=now)
        current = change.case
        events.extend(change.events)
    if not events or _same_but_times(current, case):
        return Change.none(case)  # nothing left changed (a value set, then set back)
    return Change(evolve(current, version=case.version + 1), events)


_KEPT = tuple(f.name for f in dataclasses.fields(Case) if f.name not in ("update_time", "version"))


def _same_but_times(a: Case, b: Case) -> bool:
    return all(getattr(a, name) == getattr(b, name) for name in _KEPT)
