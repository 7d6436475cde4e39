"""``evolve``: the cheap ``dataclasses.replace`` for cases."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from casekeeper.domain.enums import CaseCategory, CasePriority, CaseStatus
from casekeeper.domain.model import Case, KeyValue, PriorityDetails, evolve


def _case() -> Case:
    return Case(
        id="0192f4c2-0000-7000-8000-000000000001",
        space_id=7,
        title="disk full",
        status=CaseStatus.ACTIVE,
        priority=PriorityDetails(CasePriority.P2),
        category=CaseCategory.AVAILABILITY,
        create_time=1,
        update_time=2,
        number=12,
        labels=(KeyValue("env", "prod"),),
        indicators={"alertIndicators": {}},
        version=4,
    )


def test_evolve_equals_dataclasses_replace_for_every_field() -> None:
    case = _case()
    for f in dataclasses.fields(Case):
        value = getattr(_case(), f.name)
        # Any: the probe value goes into every field, whatever the field's declared type.
        changed: Any = 99 if isinstance(value, int) else ("x" if isinstance(value, str) else None)
        assert evolve(case, **{f.name: changed}) == dataclasses.replace(case, **{f.name: changed})
    assert evolve(case) == case
    assert evolve(case) is not case


def test_evolve_keeps_the_original_and_refuses_unknown_fields() -> None:
    case = _case()
    new = evolve(case, status=CaseStatus.RESOLVED, version=5)
    assert (case.status, case.version) == (CaseStatus.ACTIVE, 4)
    assert (new.status, new.version, new.title) == (CaseStatus.RESOLVED, 5, "disk full")
    with pytest.raises(dataclasses.FrozenInstanceError):
        new.title = "changed"  # type: ignore[misc]
    with pytest.raises(TypeError, match="stauts"):
        evolve(case, stauts=CaseStatus.CLOSED)
