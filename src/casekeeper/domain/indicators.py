"""A case's alert indicators, kept in step with the incidents of each alert.

Indicators are stored in the shape of the Coralogix spec's ``CaseIndicators`` (docs/MODEL.md).
One ``AlertIndicator`` per alert definition on a case: its permutations are the group-by values
of the alert's incidents there, it is TRIGGERED while any of them is, and its priority follows
the latest severity reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from casekeeper.domain.incidents import IncidentSeverity
from casekeeper.domain.model import Json, Micros
from casekeeper.domain.timeutil import to_rfc3339

Sev = IncidentSeverity
INDICATOR_PRIORITY: Final[Mapping[IncidentSeverity, str]] = {
    Sev.CRITICAL: "INDICATOR_PRIORITY_P1",
    Sev.ERROR: "INDICATOR_PRIORITY_P2",
    Sev.WARNING: "INDICATOR_PRIORITY_P3",
    Sev.UNSPECIFIED: "INDICATOR_PRIORITY_P3",
    Sev.LOW: "INDICATOR_PRIORITY_P4",
    Sev.INFO: "INDICATOR_PRIORITY_P5",
}


def with_alert(
    indicators: Json,
    alert_id: str,
    permutation: Mapping[str, str],
    severity: IncidentSeverity,
    *,
    triggered: bool,
    time: Micros,
) -> Json:
    """``indicators`` with the alert's indicator added or brought up to date."""
    alerts = [dict(a) for a in indicators.get("alertIndicators") or []]
    entry = next((a for a in alerts if a.get("alertId") == alert_id), None)
    if entry is None:
        entry = {
            "alertId": alert_id,
            "latestAlertVersion": "1",
            "groupingType": "GROUPING_TYPE_NONE",
            "triggerTime": to_rfc3339(time),
            "alertVersions": ["1"],
            "permutations": [],
        }
        alerts.append(entry)
    entry["priority"] = INDICATOR_PRIORITY[severity]
    known = [p.get("permutation") for p in entry.get("permutations") or []]
    if permutation and dict(permutation) not in known:
        entry["permutations"] = [
            *(entry.get("permutations") or []),
            {"permutation": dict(permutation)},
        ]
    if triggered:
        if entry.get("state") == "INDICATOR_STATE_RESOLVED":
            entry["triggerTime"] = to_rfc3339(time)  # triggered again
        entry["state"] = "INDICATOR_STATE_TRIGGERED"
        entry.pop("resolveTime", None)
    else:
        entry["state"] = "INDICATOR_STATE_RESOLVED"
        entry["resolveTime"] = to_rfc3339(time)
    return {**indicators, "alertIndicators": alerts}
