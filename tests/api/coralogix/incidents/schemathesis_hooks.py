"""schemathesis hooks for the Incidents run (loaded by the CLI ``test_schemathesis.py`` starts).

A schema-valid request must be accepted (2xx, or 401/403/404): schemathesis's
``positive_data_acceptance``, excusing only refusals that depend on state or on what JSON
Schema cannot say:

- a transition the incident's state forbids (acknowledging a resolved one, changing a closed
  one): 400 with ``incident.invalid_transition`` (gRPC's FAILED_PRECONDITION);
- a page token the server did not issue (opaque; schemathesis cannot make a real one);
- a time range that ends before it starts, or the deprecated ``endTime`` before
  ``startTime`` (the document says it in words);
- label filters with more than 1000 values over all their keys, or given as a
  ``[{key, value}]`` list with more than 100 distinct keys (likewise);
- a label key holding a NUL (refused as all text with one is; OpenAPI 3.0 cannot constrain the
  keys of a map).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import schemathesis
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import positive_data_acceptance

ERROR_CODE_HEADER = "x-casekeeper-error-code"
STATE_DEPENDENT = frozenset({"incident.invalid_transition", "request.invalid_page_token"})
RANGES = ("createdAtRange", "incidentDurationRange", "timestamp")


def _filters(case: Any) -> list[dict[str, Any]]:
    """The request's filter objects, from its body or its JSON query parameters."""
    found = []
    body = case.body if isinstance(case.body, dict) else {}
    if isinstance(body.get("filter"), dict):
        found.append(body["filter"])
    raw = (case.query or {}).get("filter") if isinstance(case.query, dict) else None
    for item in raw if isinstance(raw, list) else [raw]:
        if isinstance(item, dict):
            found.append(item)
        elif isinstance(item, str):
            try:
                value = json.loads(item)
            except ValueError:
                continue
            if isinstance(value, dict):
                found.append(value)
    return found


def _backwards(span: Any) -> bool:
    if not isinstance(span, dict):
        return False
    try:
        start, end = (datetime.fromisoformat(str(span[k])) for k in ("startTime", "endTime"))
        return bool(start > end)
    except (KeyError, TypeError, ValueError):
        return False


def _labels(f: dict[str, Any], name: str) -> dict[str, Any]:
    """A label filter as a map, whether given as one or as ``[{key, value}]``."""
    groups = f.get(name)
    if isinstance(groups, list):
        return {str(g.get("key")): g.get("value") for g in groups if isinstance(g, dict)}
    return groups if isinstance(groups, dict) else {}


def _nul_label_key(f: dict[str, Any]) -> bool:
    """A label key with a NUL (the server refuses NUL in text; OpenAPI 3.0 cannot constrain a
    map's keys)."""
    return any(
        "\x00" in key for name in ("contextualLabels", "displayLabels") for key in _labels(f, name)
    )


def _too_many_label_values(f: dict[str, Any]) -> bool:
    for name in ("contextualLabels", "displayLabels"):
        groups = _labels(f, name)
        if len(groups) > 100:  # distinct keys of a [{key, value}] list (a map says it itself)
            return True
        if groups:
            total = sum(len(v.get(k) or []) for v in groups.values() if isinstance(v, dict)
                        for k in ("contextualLabelValues", "displayLabelValues"))  # fmt: skip
            if total > 1000:
                return True
    return False


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
        if response.status_code == 400 and any(
            any(_backwards(f.get(name)) for name in RANGES)
            or _backwards({"startTime": f.get("startTime"), "endTime": f.get("endTime")})
            or _too_many_label_values(f)
            or _nul_label_key(f)
            for f in _filters(case)
        ):
            return None
        raise
