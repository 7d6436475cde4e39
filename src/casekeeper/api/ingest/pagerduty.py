"""PagerDuty's Events API v2 (``POST /v2/enqueue``) → a ``SignalBatch`` of one signal.

Any tool that can page PagerDuty can page casekeeper unchanged: the event's ``routing_key`` is a
casekeeper API key with ``signals:Write``, and the answers are PagerDuty's own (202 ``Event
processed`` with the ``dedup_key``; 400 ``invalid event`` listing every problem found), as
PagerDuty documents them (developer-docs: events-API-v2). A trigger without a ``dedup_key``
gets a new one, returned, as PagerDuty does; an acknowledge or resolve needs one.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import orjson

from casekeeper.api.ingest import wire
from casekeeper.domain.errors import CasekeeperError, ErrorCode, quote
from casekeeper.domain.signals import (
    MAX_DEDUP_KEY,
    MAX_LABEL_KEY,
    MAX_LABEL_VALUE,
    MAX_LABELS,
    MAX_LINKS,
    MAX_TITLE,
    MAX_URL,
    Link,
    Signal,
    SignalBatch,
    SignalStatus,
    Source,
)

ACTIONS: Final = {
    "trigger": SignalStatus.FIRING,
    "acknowledge": SignalStatus.ACKNOWLEDGED,
    "resolve": SignalStatus.RESOLVED,
}
SEVERITIES: Final = ("critical", "error", "warning", "info")
LABEL_FIELDS: Final = ("source", "component", "group", "class")  # payload fields kept as labels
MAX_DEPTH: Final = 8  # custom_details nested deeper are kept as JSON text


@dataclass(frozen=True, slots=True)
class Event:
    batch: SignalBatch
    dedup_key: str  # the one PagerDuty answers with: the sender's, or the one made up for it


def invalid_event(problems: list[str]) -> CasekeeperError:
    """A 400 whose ``detail["errors"]`` is PagerDuty's ``errors`` list."""
    return CasekeeperError(
        ErrorCode.INVALID_ARGUMENT, "; ".join(problems), detail={"errors": tuple(problems)}
    )


def routing_key(data: object) -> str:
    """The event's routing key (the sender's API key), or the 400 PagerDuty answers."""
    if not isinstance(data, dict):
        raise invalid_event([f"the event must be a JSON object, not {wire.kind(data)}"])
    key = data.get("routing_key")
    if not isinstance(key, str) or not key.strip():
        raise invalid_event(["'routing_key' is missing or blank"])
    return key


def parse_event(data: dict[str, Any]) -> Event:
    """The signal an event describes, or 400 listing every problem (PagerDuty's ``errors``)."""
    problems: list[str] = []
    action = data.get("event_action")
    if action not in ACTIONS:
        problems.append(
            f"'event_action' is invalid (must be one of: {', '.join(ACTIONS)}), got {quote(action)}"
        )
    dedup_key = data.get("dedup_key")
    if dedup_key is not None and not isinstance(dedup_key, str):
        problems.append(f"'dedup_key' must be a string, not {wire.kind(dedup_key)}")
        dedup_key = None
    elif isinstance(dedup_key, str) and len(dedup_key) > MAX_DEDUP_KEY:
        problems.append(f"Length of 'dedup_key' is too long (at most {MAX_DEDUP_KEY} characters)")
    elif not dedup_key and action in ("acknowledge", "resolve"):
        problems.append(f"'dedup_key' is missing or blank (an {action} event needs one)")
    payload = data.get("payload")
    summary, severity, started = "", None, None
    labels: dict[str, str] = {}
    details: dict[str, str] = {}
    if action == "trigger" or payload is not None:
        if not isinstance(payload, dict):
            problems.append(f"'payload' must be an object, not {wire.kind(payload)}")
        else:
            summary, labels, severity, details, started = _payload(payload, problems)
    links = _links(data, problems)
    client = data.get("client")
    if client is not None and not isinstance(client, str):
        problems.append(f"'client' must be a string, not {wire.kind(client)}")
        client = None
    if problems:
        raise invalid_event(problems)
    assert isinstance(action, str)  # checked above: one of ACTIONS
    key = dedup_key or uuid.uuid4().hex
    if started is not None:
        details = {"timestamp": started, **details}
    signal = Signal(
        dedup_key=key,
        status=ACTIONS[action],
        # Acknowledge and resolve events carry no summary: the dedup key names their alert.
        title=summary or key,
        labels=labels,
        annotations=details,
        severity=severity,
        links=links,
    )
    batch = SignalBatch(source=Source.PAGERDUTY, signals=(signal,), sender=client or None)
    return Event(batch, key)


def _payload(
    payload: dict[str, Any], problems: list[str]
) -> tuple[str, dict[str, str], str | None, dict[str, str], str | None]:
    summary = payload.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        problems.append("'payload.summary' is missing or blank")
        summary = ""
    elif len(summary) > MAX_TITLE:
        problems.append(f"Length of 'payload.summary' is too long (at most {MAX_TITLE} characters)")
    source = payload.get("source")
    if not isinstance(source, str) or not source.strip():
        problems.append("'payload.source' is missing or blank")
    severity = payload.get("severity")
    if severity not in SEVERITIES:
        problems.append(
            f"'payload.severity' is invalid (must be one of: {', '.join(SEVERITIES)}), "
            f"got {quote(severity)}"
        )
        severity = None
    labels: dict[str, str] = {}
    for name in LABEL_FIELDS:
        value = payload.get(name)
        if isinstance(value, str) and value.strip():
            labels[name] = value[:MAX_LABEL_VALUE]
        elif value is not None and not isinstance(value, str):
            problems.append(f"'payload.{name}' must be a string, not {wire.kind(value)}")
    started = None
    stamp = payload.get("timestamp")
    if stamp is not None:
        try:
            micros = wire.timestamp(stamp, "payload.timestamp")
        except CasekeeperError:
            problems.append(f"'payload.timestamp' is not an ISO 8601 timestamp: {quote(stamp)}")
        else:
            started = None if micros is None else str(stamp)
    return summary, labels, severity, flatten_details(payload.get("custom_details")), started


def flatten_details(value: object) -> dict[str, str]:
    """``custom_details`` as annotations: nested keys joined by dots, values as text (JSON for
    numbers, booleans and arrays), at most ``MAX_LABELS`` of them, each key and value cut to
    the signal's limits. Free text (PagerDuty takes a string too) is ``details``."""
    out: dict[str, str] = {}
    if value is None:
        return out
    if not isinstance(value, dict):
        out["details"] = _text(value)
        return out
    _flatten(value, "", out, 0)
    return out


def _flatten(value: Mapping[str, Any], prefix: str, out: dict[str, str], depth: int) -> None:
    for key, item in value.items():
        if len(out) >= MAX_LABELS:
            return
        name = (prefix + str(key))[:MAX_LABEL_KEY]
        if isinstance(item, dict) and item and depth < MAX_DEPTH:
            _flatten(item, name + ".", out, depth + 1)
        else:
            out[name] = _text(item)


def _text(value: object) -> str:
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    if len(text) > MAX_LABEL_VALUE:
        text = text[: MAX_LABEL_VALUE - 1] + "…"
    return text


def _links(data: Mapping[str, Any], problems: list[str]) -> tuple[Link, ...]:
    """``links[]`` (``href``, ``text``), then the images' targets and the ``client_url``: web
    addresses only, at most ``MAX_LINKS``."""
    found: list[Link] = []
    for field, url_key, text_key in (("links", "href", "text"), ("images", "src", "alt")):
        items = data.get(field)
        if items is None:
            continue
        if not isinstance(items, list):
            problems.append(f"'{field}' must be an array, not {wire.kind(items)}")
            continue
        for n, item in enumerate(items):
            url = item.get(url_key) if isinstance(item, dict) else None
            if not isinstance(url, str) or not url.strip():
                problems.append(f"'{field}[{n}].{url_key}' is missing or blank")
                continue
            text = item.get(text_key)
            found.append(Link(url.strip(), text[:MAX_TITLE] if isinstance(text, str) else ""))
    client_url = data.get("client_url")
    if isinstance(client_url, str) and client_url.strip():
        client = data.get("client")
        name = client[:MAX_TITLE] if isinstance(client, str) and client else "client"
        found.append(Link(client_url.strip(), name))
    elif client_url is not None and not isinstance(client_url, str):
        problems.append(f"'client_url' must be a string, not {wire.kind(client_url)}")
    usable = [x for x in found if wire.is_http_url(x.url) and len(x.url) <= MAX_URL]
    return tuple(usable[:MAX_LINKS])
