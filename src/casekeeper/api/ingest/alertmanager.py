"""Prometheus Alertmanager's webhook (payload version 4) → a ``SignalBatch``.

One POST is one flush of one alert group of one receiver: every alert of the group, firing and
resolved mixed (PEERS.md §3, REAL_CLIENTS.md §1). Each alert becomes one signal whose dedup key
is its ``fingerprint`` (Alertmanager's hash of its label set) and whose firing is told apart by
``startsAt``; the group (receiver + ``groupKey``) is the signal's group key, so the team's
``group_by`` routing decides which case an alert joins. Unknown fields are ignored: newer
releases add some (``notification_reason``, ``routeLabels``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from casekeeper.api.ingest import wire
from casekeeper.domain.errors import invalid, quote
from casekeeper.domain.signals import (
    MAX_LINKS,
    MAX_URL,
    Link,
    Signal,
    SignalBatch,
    SignalStatus,
    Source,
)

VERSION: Final = "4"
STATUSES: Final = {"firing": SignalStatus.FIRING, "resolved": SignalStatus.RESOLVED}
FALLBACK_TITLE: Final = "alert"

# FNV-1a, 64 bits, as Go's hash/fnv and prometheus/common's model/fnv.go.
_FNV_OFFSET: Final = 14695981039346656037
_FNV_PRIME: Final = 1099511628211
_MASK: Final = (1 << 64) - 1
_SEPARATOR: Final = 0xFF  # model.SeparatorByte: never part of valid UTF-8


def fingerprint(labels: Mapping[str, str]) -> str:
    """Alertmanager's fingerprint of a label set (prometheus/common ``LabelSet.Fingerprint``):
    FNV-1a 64 over the label names in sorted order, each name and each value followed by the
    byte 0xFF, as 16 lower-case hex digits. Python orders strings by code point, which is the
    byte order of their UTF-8 that Go sorts by."""
    h = _FNV_OFFSET
    for name in sorted(labels):
        for part in (name, labels[name]):
            for byte in part.encode():
                h = ((h ^ byte) * _FNV_PRIME) & _MASK
            h = ((h ^ _SEPARATOR) * _FNV_PRIME) & _MASK
    return f"{h:016x}"


def parse_webhook(data: Any, *, sender: str | None = None) -> SignalBatch:
    """The batch a webhook payload describes; a 400 naming the field at fault if it is not
    one (413 for more alerts than one batch takes). ``sender`` is who posted it (the
    ``User-Agent``, ``Alertmanager/0.25.0``), for the timeline."""
    body = wire.obj(data, "body")
    version = body.get("version")
    if version != VERSION:
        raise invalid(
            f"this endpoint takes Alertmanager's webhook payload version {VERSION!r}, "
            f"not {quote(version)}",
            field="version",
        )
    alerts = wire.batch(body.get("alerts"), "alerts")
    receiver = wire.opt_str(body, "receiver", "receiver") or ""
    group = wire.opt_str(body, "groupKey", "groupKey")
    group_labels = wire.str_map(body.get("groupLabels"), "groupLabels")
    # Checked for their types, though every alert carries its own labels in full.
    wire.str_map(body.get("commonLabels"), "commonLabels")
    wire.str_map(body.get("commonAnnotations"), "commonAnnotations")
    status = wire.opt_str(body, "status", "status")
    if status is not None and status not in STATUSES:
        raise invalid(f"must be 'firing' or 'resolved', not {quote(status)}", field="status")
    external_url = wire.opt_str(body, "externalURL", "externalURL") or None
    truncated = wire.opt_int(body, "truncatedAlerts", "truncatedAlerts")
    # Alertmanager's dedup log is keyed by (receiver, groupKey): so is the case group.
    group_key = f"{receiver}:{group}" if group else None
    signals = tuple(
        _signal(alert, f"alerts[{n}]", group_key, group_labels) for n, alert in enumerate(alerts)
    )
    return SignalBatch(
        source=Source.ALERTMANAGER,
        signals=signals,
        receiver=receiver or None,
        external_url=external_url,
        truncated=truncated,
        sender=sender,
    )


def _signal(data: Any, at: str, group_key: str | None, group_labels: Mapping[str, str]) -> Signal:
    alert = wire.obj(data, at)
    labels = wire.str_map(alert.get("labels"), f"{at}.labels")
    if not labels:
        raise invalid("an alert needs at least one label", field=f"{at}.labels")
    annotations = wire.str_map(alert.get("annotations"), f"{at}.annotations")
    status = wire.opt_str(alert, "status", f"{at}.status")
    if status not in STATUSES:
        raise invalid(f"must be 'firing' or 'resolved', not {quote(status)}", field=f"{at}.status")
    given = wire.opt_str(alert, "fingerprint", f"{at}.fingerprint")
    return Signal(
        dedup_key=given or fingerprint(labels),
        status=STATUSES[status],
        title=labels.get("alertname") or FALLBACK_TITLE,
        labels=labels,
        annotations=annotations,
        starts_at=wire.timestamp(alert.get("startsAt"), f"{at}.startsAt"),
        ends_at=wire.timestamp(alert.get("endsAt"), f"{at}.endsAt"),
        description=annotations.get("summary") or annotations.get("description") or None,
        generator_url=wire.opt_str(alert, "generatorURL", f"{at}.generatorURL") or None,
        links=links_of(annotations),
        group_key=group_key,
        group_labels=group_labels,
    )


def links_of(annotations: Mapping[str, str]) -> tuple[Link, ...]:
    """The annotations whose value is a web address (``runbook_url``, ``dashboard``, …), as
    links named by their annotation, in name order; at most ``MAX_LINKS``, and an address too
    long to be a link stays an annotation only."""
    found = (
        Link(url=value.strip(), text=name)
        for name, value in sorted(annotations.items())
        if wire.is_http_url(value.strip()) and len(value.strip()) <= MAX_URL
    )
    out: list[Link] = []
    for link in found:
        if len(out) == MAX_LINKS:
            break
        out.append(link)
    return tuple(out)
