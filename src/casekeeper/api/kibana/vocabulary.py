"""Kibana's words for the canonical case (docs/KIBANA.md has the tables): status, severity,
owner, and the commands a Kibana write means. Both directions live here and nowhere else."""

from __future__ import annotations

from typing import Final

from casekeeper.domain import commands as cmd
from casekeeper.domain.enums import CaseCategory, CasePriority, CaseStatus
from casekeeper.domain.errors import invalid, quote
from casekeeper.domain.model import Case

S = CaseStatus

STATUS: Final[dict[CaseStatus, str]] = {
    S.PENDING_ACTIVATION: "open",
    S.ACTIVE: "open",
    S.ACKNOWLEDGED: "in-progress",
    S.RESOLVED: "closed",
    S.CLOSED: "closed",
}
STATUSES_OF: Final[dict[str, tuple[CaseStatus, ...]]] = {
    "open": (S.PENDING_ACTIVATION, S.ACTIVE),
    "in-progress": (S.ACKNOWLEDGED,),
    "closed": (S.RESOLVED, S.CLOSED),
}

SEVERITY: Final[dict[CasePriority, str]] = {
    CasePriority.P1: "critical",
    CasePriority.P2: "high",
    CasePriority.P3: "medium",
    CasePriority.P4: "low",
    CasePriority.P5: "low",
    CasePriority.UNSPECIFIED: "low",
}
PRIORITY_OF: Final[dict[str, CasePriority]] = {
    "critical": CasePriority.P1,
    "high": CasePriority.P2,
    "medium": CasePriority.P3,
    "low": CasePriority.P4,
}
# Every priority a Kibana severity stands for (low is P4 and P5), for filters.
PRIORITIES_OF: Final[dict[str, tuple[CasePriority, ...]]] = {
    "critical": (CasePriority.P1,),
    "high": (CasePriority.P2,),
    "medium": (CasePriority.P3,),
    "low": (CasePriority.P4, CasePriority.P5),
}

OWNERS: Final = ("cases", "observability", "securitySolution")
NAMESPACE: Final = "kibana"  # Case.extensions key of what only Kibana has


def owner_of(case: Case) -> str:
    """The Kibana owner: as created in Kibana form, else by category (security cases are
    the Security solution's, the rest Observability's)."""
    ext = case.extensions.get(NAMESPACE) or {}
    owner = ext.get("owner")
    if isinstance(owner, str) and owner in OWNERS:
        return owner
    return "securitySolution" if case.category is CaseCategory.SECURITY else "observability"


def category_of(owner: str) -> CaseCategory:
    return CaseCategory.SECURITY if owner == "securitySolution" else CaseCategory.AVAILABILITY


def status_word(raw: object, field: str = "status") -> str:
    if not isinstance(raw, str) or raw not in STATUSES_OF:
        raise invalid(f"{quote(raw)} is not one of open, in-progress, closed", field=field)
    return raw


def severity_word(raw: object, field: str = "severity") -> str:
    if not isinstance(raw, str) or raw not in PRIORITY_OF:
        raise invalid(f"{quote(raw)} is not one of low, medium, high, critical", field=field)
    return raw


def status_commands(case: Case, wanted: str) -> tuple[cmd.CaseCommand, ...]:
    """What setting Kibana's ``status`` to ``wanted`` means for ``case``: ``in-progress``
    acknowledges (reopening an ended case first), ``closed`` closes (never "resolves"),
    ``open`` reopens an ended case or unacknowledges an acknowledged one."""
    if STATUS[case.status] == wanted:
        return ()
    ended = case.status in (S.RESOLVED, S.CLOSED)
    if wanted == "closed":
        return (cmd.Close(),)
    if wanted == "in-progress":
        return (cmd.Reopen(), cmd.Acknowledge()) if ended else (cmd.Acknowledge(),)
    return (cmd.Reopen(),) if ended else (cmd.Unacknowledge(),)


def severity_commands(case: Case, wanted: str) -> tuple[cmd.CaseCommand, ...]:
    """Kibana's ``severity`` is the case's priority: setting it overrides the system's."""
    if SEVERITY[case.effective_priority] == wanted:
        return ()
    return (cmd.SetPriorityOverride(PRIORITY_OF[wanted]),)
