"""CaseDeepLinks: where a person looks at a case and its signals, under the UI base URL."""

from __future__ import annotations

from urllib.parse import quote

from casekeeper.api.coralogix.convert import json_into
from casekeeper.domain.model import Case
from casekeeper.proto.com.coralogixapis.cases.v1 import cases_service_pb2 as pb


def deep_links_to_pb(case: Case, base_url: str, out: pb.CaseDeepLinks) -> None:
    base = base_url.rstrip("/")
    out.detail = f"{base}/cases/{quote(case.readable_id or case.id)}"
    for alert in case.indicators.get("alertIndicators") or ():
        alert_id = str(alert.get("alertId", ""))
        if not alert_id:
            continue
        link = out.alert_indicators[alert_id]
        link.alert_def = f"{base}/alerts/{quote(alert_id)}"
        link.logs.logs = f"{base}/logs?alertId={quote(alert_id)}"
    for entity in case.impacted_entities:
        for kind, body in entity.items():
            name = str((body or {}).get("name", ""))
            if not name:
                continue
            item = out.impacted_entities.add()
            json_into(item.entity, entity, "impactedEntities")
            section = "services" if kind == "apmService" else "databases"
            item.url = f"{base}/apm/{section}/{quote(name)}"
