"""schemathesis hooks for the Case Settings run (loaded by the CLI that ``test_schemathesis.py``
runs, not by pytest).

A schema-valid request must be accepted: schemathesis's ``positive_data_acceptance`` with
2xx, 401, 403, 404 (an id that names nothing, or no active record) and 409 (a second record
for the space). This check wraps it and lets through one refusal JSON Schema cannot state: two
KPI thresholds for the same (type, priority), which the document says in words.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import positive_data_acceptance

_TYPES = ("KPI_TYPE_UNSPECIFIED", "KPI_TYPE_TIME_TO_ACKNOWLEDGE", "KPI_TYPE_TIME_TO_RESOLVE",
          "KPI_TYPE_TIME_TO_UPDATE")  # fmt: skip
_PRIORITIES = tuple(f"CASE_PRIORITY_{p}" for p in ("UNSPECIFIED", "P1", "P2", "P3", "P4", "P5"))


def _number(value: Any, names: tuple[str, ...]) -> Any:
    return names.index(value) if value in names else value


def _repeated_kpi(body: Any) -> bool:
    life = body.get("caseLifecycle") if isinstance(body, dict) else None
    kpi = life.get("kpi") if isinstance(life, dict) else None
    items = kpi.get("thresholds") if isinstance(kpi, dict) else None
    if not isinstance(items, list):
        return False
    keys = [
        (_number(t.get("type"), _TYPES), _number(t.get("priority"), _PRIORITIES))
        for t in items
        if isinstance(t, dict)
    ]
    return len(keys) != len(set(keys))


@schemathesis.check
def positive_data_acceptance_unless_repeated_kpi(ctx: Any, response: Any, case: Any) -> bool | None:
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        if response.status_code == 400 and _repeated_kpi(case.body):
            return None
        raise
