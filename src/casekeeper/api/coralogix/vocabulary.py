"""The Coralogix spec's words for canonical values, both ways: its enum numbers into domain
enums (refusing what it would refuse, in its words), and domain values into its names."""

from __future__ import annotations

from typing import Final

from casekeeper.domain.enums import CaseCategory, CasePriority, CaseStatus
from casekeeper.domain.errors import invalid
from casekeeper.domain.model import Json, PriorityDetails


def priority(value: int, *, field: str = "priority") -> CasePriority:
    """A ``CasePriority`` enum number: P1..P5 (UNSPECIFIED is no priority)."""
    try:
        p = CasePriority(value)
    except ValueError:
        raise invalid(f"unknown value {value}; use CASE_PRIORITY_P1..P5", field=field) from None
    if p is CasePriority.UNSPECIFIED:
        raise invalid("required; use CASE_PRIORITY_P1..P5", field=field)
    return p


def category(value: int, *, field: str = "category") -> CaseCategory:
    """A ``CaseCategory`` enum number: security or availability."""
    try:
        c = CaseCategory(value)
    except ValueError:
        raise invalid(f"unknown value {value}", field=field) from None
    if c is CaseCategory.UNSPECIFIED:
        raise invalid(
            "required; use CASE_CATEGORY_SECURITY or CASE_CATEGORY_AVAILABILITY", field=field
        )
    return c


# The spec's JSON name of every member, by member (one table per enum: IntEnum members of
# different enums with the same number are equal keys). Read for every case rendered and every
# timeline event: a lookup costs less than formatting ``name`` each time.
STATUS_NAME: Final = {m: f"CASE_STATUS_{m.name}" for m in CaseStatus}
PRIORITY_NAME: Final = {m: f"CASE_PRIORITY_{m.name}" for m in CasePriority}
CATEGORY_NAME: Final = {m: f"CASE_CATEGORY_{m.name}" for m in CaseCategory}


def priority_details(details: PriorityDetails) -> Json:
    out: Json = {"system": PRIORITY_NAME[details.system]}
    if details.override is not None:
        out["override"] = PRIORITY_NAME[details.override]
    return out
