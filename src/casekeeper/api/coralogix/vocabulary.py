"""The Coralogix spec's words for canonical values, both ways: its enum numbers into domain
enums (refusing what it would refuse, in its words), and domain values into its names."""

from __future__ import annotations

from casekeeper.domain.enums import CaseCategory, CasePriority
from casekeeper.domain.errors import invalid


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
