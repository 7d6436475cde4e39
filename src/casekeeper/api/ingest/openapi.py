"""The ingest doors in casekeeper's ``/openapi.json``: their paths, request and answer schemas.

``add_ingest`` adds them to the document the app serves (api/http/app.py builds it). Schema
names start with ``Ingest``, ``Alertmanager`` or ``PagerDuty`` so they never meet the Coralogix
specs' own.
"""

from __future__ import annotations

import copy
from typing import Any, Final

from casekeeper.api.ingest.pagerduty import ACTIONS, SEVERITIES
from casekeeper.api.ingest.routes import ALERTMANAGER_PATH, ENQUEUE_PATH, SIGNALS_PATH
from casekeeper.domain.signals import (
    MAX_DEDUP_KEY,
    MAX_SIGNALS,
    MAX_TITLE,
    Action,
)

TAG: Final = "Ingest"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


STRINGS: Final = {"type": "object", "additionalProperties": {"type": "string"}}
NULLABLE_STRING: Final = {"type": "string", "nullable": True}
TIME: Final = {"type": "string", "format": "date-time", "description": "RFC 3339"}

SCHEMAS: Final[dict[str, Any]] = {
    "IngestError": {
        "type": "object",
        "required": ["code", "message"],
        "properties": {
            "code": {"type": "integer", "description": "The HTTP status"},
            "message": {"type": "string", "description": "What is wrong, naming the field"},
        },
    },
    "IngestOutcome": {
        "type": "object",
        "required": ["dedup_key", "action", "reason", "new_case"],
        "properties": {
            "dedup_key": {"type": "string"},
            "action": {"type": "string", "enum": [a.value for a in Action]},
            "reason": {"type": "string", "description": "Why, in a sentence"},
            "incident_id": NULLABLE_STRING,
            "case_id": NULLABLE_STRING,
            "case_readable_id": NULLABLE_STRING,
            "new_case": {"type": "boolean"},
            "group_key": {**NULLABLE_STRING, "description": "The case group it joined"},
            "priority": {**NULLABLE_STRING, "description": "P1..P5"},
            "priority_reason": NULLABLE_STRING,
        },
    },
    "IngestReport": {
        "type": "object",
        "required": ["dry_run", "counts", "outcomes"],
        "properties": {
            "dry_run": {"type": "boolean", "description": "true: nothing was stored"},
            "counts": {
                "type": "object",
                "description": "Signals per action (actions with none are left out)",
                "additionalProperties": {"type": "integer"},
            },
            "outcomes": {"type": "array", "items": _ref("IngestOutcome")},
        },
    },
    "IngestLink": {
        "type": "object",
        "required": ["url"],
        "additionalProperties": False,
        "properties": {
            "url": {"type": "string", "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://"},
            "text": {"type": "string"},
        },
    },
    "IngestSignal": {
        "type": "object",
        "required": ["dedup_key", "title"],
        "additionalProperties": False,
        "properties": {
            "dedup_key": {
                "type": "string",
                "maxLength": MAX_DEDUP_KEY,
                "description": "Identifies the alert: the same key updates the same incident",
            },
            "status": {"type": "string", "enum": ["firing", "resolved"], "default": "firing"},
            "title": {"type": "string", "maxLength": MAX_TITLE},
            "labels": STRINGS,
            "annotations": STRINGS,
            "severity": {"type": "string", "description": "e.g. critical, warning, info"},
            "starts_at": {**TIME, "description": "When it started: one firing per start"},
            "ends_at": TIME,
            "description": {"type": "string"},
            "links": {"type": "array", "items": _ref("IngestLink")},
            "group_key": {
                "type": "string",
                "description": "Signals of one group key join one open case",
            },
            "group_labels": STRINGS,
        },
    },
    "IngestSignalBatch": {
        "type": "object",
        "required": ["signals"],
        "additionalProperties": False,
        "properties": {
            "source": {"type": "string", "description": "The sending tool, for the timeline"},
            "signals": {
                "type": "array",
                "maxItems": MAX_SIGNALS,
                "items": _ref("IngestSignal"),
            },
        },
    },
    "AlertmanagerAlert": {
        "type": "object",
        "required": ["status", "labels"],
        "properties": {
            "status": {"type": "string", "enum": ["firing", "resolved"]},
            "labels": {**STRINGS, "minProperties": 1},
            "annotations": STRINGS,
            "startsAt": TIME,
            "endsAt": {**TIME, "description": "0001-01-01T00:00:00Z: not ended"},
            "generatorURL": {"type": "string"},
            "fingerprint": {
                "type": "string",
                "description": "Computed from the labels as Alertmanager does when absent",
            },
        },
    },
    "AlertmanagerWebhook": {
        "type": "object",
        "description": "Alertmanager's webhook payload (version 4); other fields are ignored",
        "required": ["version", "alerts"],
        "properties": {
            "version": {"type": "string", "enum": ["4"]},
            "groupKey": {"type": "string"},
            "truncatedAlerts": {"type": "integer", "minimum": 0},
            "status": {"type": "string", "enum": ["firing", "resolved"]},
            "receiver": {"type": "string"},
            "groupLabels": STRINGS,
            "commonLabels": STRINGS,
            "commonAnnotations": STRINGS,
            "externalURL": {"type": "string"},
            "alerts": {
                "type": "array",
                "maxItems": MAX_SIGNALS,
                "items": _ref("AlertmanagerAlert"),
            },
        },
    },
    "PagerDutyEvent": {
        "type": "object",
        "required": ["routing_key", "event_action"],
        "properties": {
            "routing_key": {
                "type": "string",
                "description": "A casekeeper API key with signals:Write",
            },
            "event_action": {"type": "string", "enum": list(ACTIONS)},
            "dedup_key": {"type": "string", "maxLength": MAX_DEDUP_KEY},
            "payload": {
                "type": "object",
                "description": "Required for trigger events",
                "required": ["summary", "source", "severity"],
                "properties": {
                    "summary": {"type": "string", "maxLength": MAX_TITLE},
                    "source": {"type": "string"},
                    "severity": {"type": "string", "enum": list(SEVERITIES)},
                    "timestamp": TIME,
                    "component": {"type": "string"},
                    "group": {"type": "string"},
                    "class": {"type": "string"},
                    "custom_details": {},
                },
            },
            "images": {"type": "array", "items": {"type": "object"}},
            "links": {"type": "array", "items": {"type": "object"}},
            "client": {"type": "string"},
            "client_url": {"type": "string"},
        },
    },
    "PagerDutyAccepted": {
        "type": "object",
        "required": ["status", "message", "dedup_key"],
        "properties": {
            "status": {"type": "string", "enum": ["success"]},
            "message": {"type": "string"},
            "dedup_key": {"type": "string"},
        },
    },
    "PagerDutyInvalid": {
        "type": "object",
        "required": ["status", "message", "errors"],
        "properties": {
            "status": {"type": "string"},
            "message": {"type": "string"},
            "errors": {"type": "array", "items": {"type": "string"}},
        },
    },
}

DRY_RUN: Final = {
    "name": "dry_run",
    "in": "query",
    "required": False,
    "description": "true: answer what would happen and store nothing",
    "schema": {"type": "boolean", "default": False},
}


def _answers(ok: str) -> dict[str, Any]:
    def error(description: str) -> dict[str, Any]:
        return {
            "description": description,
            "content": {"application/json": {"schema": _ref("IngestError")}},
        }

    return {
        "200": {
            "description": ok,
            "content": {"application/json": {"schema": _ref("IngestReport")}},
        },
        "400": error("Not JSON, or a field is wrong (the message names it)"),
        "401": error("Missing, invalid or revoked API key"),
        "403": error("The API key lacks signals:Write"),
        "413": error(f"Request body too large, or over {MAX_SIGNALS} signals"),
        "500": error("Internal error; nothing was stored"),
    }


def _batch_op(op_id: str, summary: str, schema: str, description: str) -> dict[str, Any]:
    return {
        "operationId": op_id,
        "summary": summary,
        "description": description,
        "tags": [TAG],
        "security": [{"bearer": []}],
        "parameters": [DRY_RUN],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _ref(schema)}},
        },
        "responses": _answers("What each signal did (or would do), and why"),
    }


def ingest_paths() -> dict[str, Any]:
    pd_invalid = {"application/json": {"schema": _ref("PagerDutyInvalid")}}
    return {
        ALERTMANAGER_PATH: {
            "post": _batch_op(
                "Ingest_Alertmanager",
                "Alertmanager webhook receiver",
                "AlertmanagerWebhook",
                "Point an Alertmanager webhook_configs receiver here, with "
                "http_config.authorization credentials = an API key with signals:Write.",
            )
        },
        SIGNALS_PATH: {
            "post": _batch_op(
                "Ingest_Signals",
                "Send a batch of signals",
                "IngestSignalBatch",
                "Any tool's alerts, one signal each; the same dedup_key updates one incident.",
            )
        },
        ENQUEUE_PATH: {
            "post": {
                "operationId": "Ingest_PagerDutyEnqueue",
                "summary": "PagerDuty Events API v2",
                "description": "Send PagerDuty Events v2 here, with routing_key = an API key "
                "with signals:Write. Answers as PagerDuty does.",
                "tags": [TAG],
                "security": [],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("PagerDutyEvent")}},
                },
                "responses": {
                    "202": {
                        "description": "Event processed",
                        "content": {"application/json": {"schema": _ref("PagerDutyAccepted")}},
                    },
                    "400": {
                        "description": "Invalid event, or an invalid routing key",
                        "content": pd_invalid,
                    },
                    "413": {"description": "Request body too large", "content": pd_invalid},
                },
            }
        },
    }


def add_ingest(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` with the ingest paths and schemas added (a copy; ``doc`` is left as it is)."""
    out = copy.deepcopy(doc)
    out.setdefault("paths", {}).update(ingest_paths())
    schemas = out.setdefault("components", {}).setdefault("schemas", {})
    clash = sorted(set(schemas) & set(SCHEMAS))
    if clash:
        raise ValueError(f"schema names already taken: {clash}")
    schemas.update(copy.deepcopy(SCHEMAS))
    return out
