"""schemathesis hooks (loaded by the CLI that ``test_schemathesis.py`` runs, not by pytest).

A schema-valid request must be accepted: schemathesis's ``positive_data_acceptance`` with
2xx, 401, 403 and 404 (an id of the right shape that names nothing). This check wraps it and
lets through only the refusals that depend on the server's state, not on the request, as told
by the error's catalog code in ``X-Casekeeper-Error-Code``:

- a lifecycle step the case's status forbids (acknowledging a closed case, editing an event
  that is not a comment): 400, as the specs want, with gRPC's FAILED_PRECONDITION codes;
- a page token the server did not issue: tokens are opaque (the document says so) and
  schemathesis cannot make a real one, so any it invents is refused. Only that is excused;
- query ``ids`` with no id in them (``?ids=``): the document refuses blank items, but the
  stateful phase fills ``ids`` through links from an earlier request's body (``"ids": [""]``,
  which the body allows: each id is then reported as failed), not from this schema;
- a date range whose ``from`` is after its ``to``: JSON Schema cannot compare two fields (the
  document says it in words), so a request that has one may be refused.

Every other 400 to a request the document calls valid fails the run.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import schemathesis
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import positive_data_acceptance

ERROR_CODE_HEADER = "x-casekeeper-error-code"
STATE_DEPENDENT = frozenset(
    {
        "case.invalid_transition",  # FAILED_PRECONDITION: the case's status forbids the step
        "event.not_editable",  # FAILED_PRECONDITION: only comment events can be edited
        "request.invalid_page_token",  # opaque token schemathesis cannot produce (see above)
    }
)


def _backwards_date_range(body: Any) -> bool:
    dates = (body.get("filters") or {}).get("dateRange") if isinstance(body, dict) else None
    if not isinstance(dates, dict):
        return False
    try:
        start, end = (datetime.fromisoformat(str(dates[k])) for k in ("from", "to"))
        return bool(start > end)
    except (KeyError, TypeError, ValueError):
        return False


def _blank_query_ids(query: Any) -> bool:
    ids = query.get("ids") if isinstance(query, dict) else None
    if ids is None:
        return False
    items = ids if isinstance(ids, list) else [ids]
    return not any(str(item).replace(",", "").strip() for item in items)


def _error_code(response: Any) -> str | None:
    values = response.headers.get(ERROR_CODE_HEADER)
    if isinstance(values, list):
        return str(values[0]) if values else None
    return None if values is None else str(values)


@schemathesis.check
def positive_data_acceptance_unless_state(ctx: Any, response: Any, case: Any) -> bool | None:
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        if response.status_code == 400 and _error_code(response) in STATE_DEPENDENT:
            return None
        if response.status_code == 400 and (
            _backwards_date_range(case.body) or _blank_query_ids(case.query)
        ):
            return None
        raise
