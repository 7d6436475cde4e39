"""An ``IngestReport`` as JSON: what each signal did (or, in a dry run, would do) and why.

The same shape answers ``POST /ingest/alertmanager`` and ``POST /ingest/signals``, and is what
``casekeeper signals send`` prints; field names are snake_case like the generic request's.
"""

from __future__ import annotations

from typing import Any

from casekeeper.domain.signals import Action, IngestReport, Outcome


def outcome_json(o: Outcome) -> dict[str, Any]:
    return {
        "dedup_key": o.dedup_key,
        "action": o.action.value,
        "reason": o.reason,
        "incident_id": o.incident_id,
        "case_id": o.case_id,
        "case_readable_id": o.case_readable_id,
        "new_case": o.new_case,
        "group_key": o.group_key,
        "priority": o.priority,
        "priority_reason": o.priority_reason,
    }


def report_json(report: IngestReport) -> dict[str, Any]:
    counts = {a.value: report.count(a) for a in Action}
    return {
        "dry_run": report.dry_run,
        "counts": {name: n for name, n in counts.items() if n},
        "outcomes": [outcome_json(o) for o in report.outcomes],
    }
