"""OCSF / Tracecat words for the canonical case, both ways, in one place (docs/TRACECAT.md).

Reads: the canonical status (with the on-hold flag), priority and severity each have exactly one
OCSF word. Writes: each OCSF word becomes the commands that reach it from where the case is.
``unknown`` and ``other`` are OCSF's words for a value nobody normalized; a case always has a
lifecycle status, so as a status they are refused on writes (and match nothing in filters);
as a priority, ``unknown`` clears people's override (the case goes back to its system
priority) and ``other`` is refused."""

from __future__ import annotations

from collections.abc import Collection
from typing import Final

from casekeeper.domain import commands as cmd
from casekeeper.domain.enums import CasePriority, CaseStatus, Severity
from casekeeper.domain.errors import invalid
from casekeeper.domain.model import Case

NAMESPACE: Final = "tracecat"
S = CaseStatus
P = CasePriority

STATUSES: Final = ("unknown", "new", "in_progress", "on_hold", "resolved", "closed", "other")
PRIORITIES: Final = ("unknown", "low", "medium", "high", "critical", "other")
SEVERITIES: Final = {s.name.lower(): s for s in Severity}
SEVERITY_WORD: Final = {s: w for w, s in SEVERITIES.items()}

_STATUS: Final = {
    S.UNSPECIFIED: "unknown", S.PENDING_ACTIVATION: "new", S.ACTIVE: "new",
    S.ACKNOWLEDGED: "in_progress", S.RESOLVED: "resolved", S.CLOSED: "closed",
}  # fmt: skip
PRIORITY_WORD: Final = {
    P.UNSPECIFIED: "unknown", P.P1: "critical", P.P2: "high", P.P3: "medium", P.P4: "low",
    P.P5: "low",
}  # fmt: skip
PRIORITY_OF: Final = {"critical": P.P1, "high": P.P2, "medium": P.P3, "low": P.P4}
# What each word matches in a filter; "unknown" and "other" match nothing.
STATUSES_OF: Final[dict[str, tuple[CaseStatus, ...]]] = {
    "new": (S.PENDING_ACTIVATION, S.ACTIVE), "in_progress": (S.ACKNOWLEDGED,),
    "on_hold": (S.ACKNOWLEDGED,), "resolved": (S.RESOLVED,), "closed": (S.CLOSED,),
    "unknown": (), "other": (),
}  # fmt: skip
PRIORITIES_OF: Final[dict[str, tuple[CasePriority, ...]]] = {
    "critical": (P.P1,), "high": (P.P2,), "medium": (P.P3,), "low": (P.P4, P.P5),
    "unknown": (), "other": (),
}  # fmt: skip
# A case made without a priority: the least urgent (it reads back as "low").
DEFAULT_PRIORITY: Final = P.P5


def status_of(case: Case) -> str:
    if case.status is S.ACKNOWLEDGED and case.on_hold:
        return "on_hold"
    return _STATUS[case.status]


def priority_of(case: Case) -> str:
    return PRIORITY_WORD[case.effective_priority]


def severity_of(case: Case) -> str:
    return SEVERITY_WORD[case.severity]


def word(value: object, words: Collection[str], field: str) -> str:
    if not isinstance(value, str) or value not in words:
        raise invalid(f"Input should be {_one_of(list(words))}", field=field)
    return value


def _one_of(words: list[str]) -> str:
    quoted = [f"'{w}'" for w in words]
    return ", ".join(quoted[:-1]) + f" or {quoted[-1]}"


def status_commands(case: Case, wanted: str, field: str = "status") -> tuple[cmd.CaseCommand, ...]:
    """The commands that take ``case`` to the OCSF status ``wanted`` (none if it is there)."""
    if wanted in ("unknown", "other"):
        raise invalid(
            f"a case cannot be set to {wanted!r}: its status is one of new, in_progress, "
            "on_hold, resolved, closed",
            field=field,
        )
    if status_of(case) == wanted:
        return ()
    ended = case.status in (S.RESOLVED, S.CLOSED)
    reopen: tuple[cmd.CaseCommand, ...] = (cmd.Reopen(),) if ended else ()
    if wanted == "new":
        return reopen if ended else (cmd.Unacknowledge(),)
    if wanted in ("in_progress", "on_hold"):
        hold = wanted == "on_hold"
        if case.status is S.ACKNOWLEDGED:
            return (cmd.SetOnHold(hold),)
        ack: tuple[cmd.CaseCommand, ...] = (*reopen, cmd.Acknowledge())
        return (*ack, cmd.SetOnHold(True)) if hold else ack
    if wanted == "resolved":
        return (*(reopen if case.status is S.CLOSED else ()), cmd.Resolve())
    return (cmd.Close(),)  # closed


def priority_commands(
    case: Case, wanted: str, field: str = "priority"
) -> tuple[cmd.CaseCommand, ...]:
    if wanted == "other":
        raise invalid(
            "'other' is not a priority casekeeper can act on: use low, medium, high or "
            "critical, or unknown to go back to the system's priority",
            field=field,
        )
    if wanted == "unknown":
        return (cmd.ClearPriorityOverride(),) if case.priority.override else ()
    if priority_of(case) == wanted and case.priority.override is not None:
        return ()
    return (cmd.SetPriorityOverride(PRIORITY_OF[wanted]),)


def status_filter(words: list[str]) -> tuple[tuple[CaseStatus, ...], bool | None]:
    """The canonical statuses the OCSF ``words`` match, and the on-hold rule for acknowledged
    cases (None: either). Only unmatched words: a status no case has."""
    statuses = tuple(dict.fromkeys(s for w in words for s in STATUSES_OF[w]))
    hold = "on_hold" in words
    progress = "in_progress" in words
    on_hold = None if hold == progress else hold
    return (statuses or (S.UNSPECIFIED,)) if words else (), on_hold


def priority_filter(words: list[str]) -> tuple[CasePriority, ...]:
    found = tuple(dict.fromkeys(p for w in words for p in PRIORITIES_OF[w]))
    return (found or (P.UNSPECIFIED,)) if words else ()
