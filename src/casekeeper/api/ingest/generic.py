"""casekeeper's own signal batch (``POST /ingest/signals``) → a ``SignalBatch``.

For any tool that is neither Alertmanager nor a PagerDuty sender: a JSON object
``{"source": "<tool>", "signals": [...]}``, each signal with its own dedup key. Field names are
the domain's (``dedup_key``, ``starts_at``). An unknown field is refused, named, rather than
ignored: a misspelt ``dedupKey`` would otherwise silently make every signal a new incident.
"""

from __future__ import annotations

from typing import Any, Final

from casekeeper.api.ingest import wire
from casekeeper.domain.errors import invalid, quote
from casekeeper.domain.signals import Link, Signal, SignalBatch, SignalStatus, Source

STATUSES: Final = {"firing": SignalStatus.FIRING, "resolved": SignalStatus.RESOLVED}
BATCH_FIELDS: Final = frozenset({"signals", "source"})
SIGNAL_FIELDS: Final = frozenset(
    {
        "dedup_key",
        "status",
        "title",
        "labels",
        "annotations",
        "severity",
        "starts_at",
        "ends_at",
        "description",
        "links",
        "group_key",
        "group_labels",
    }
)
LINK_FIELDS: Final = frozenset({"url", "text"})


def parse_batch(data: Any) -> SignalBatch:
    body = wire.obj(data, "body")
    _only(body, BATCH_FIELDS, "")
    source = wire.opt_str(body, "source", "source")
    if "signals" not in body:
        raise invalid("is required: an array of signals", field="signals")
    items = wire.batch(body["signals"], "signals")
    signals = tuple(signal_of(item, f"signals[{n}]") for n, item in enumerate(items))
    return SignalBatch(
        source=Source.GENERIC, signals=signals, sender=(source or "").strip() or None
    )


def signal_of(data: Any, at: str) -> Signal:
    item = wire.obj(data, at)
    _only(item, SIGNAL_FIELDS, at + ".")
    status = wire.opt_str(item, "status", f"{at}.status") or "firing"
    if status not in STATUSES:
        raise invalid(f"must be 'firing' or 'resolved', not {quote(status)}", field=f"{at}.status")
    return Signal(
        dedup_key=wire.req_str(item, "dedup_key", f"{at}.dedup_key"),
        status=STATUSES[status],
        title=wire.req_str(item, "title", f"{at}.title"),
        labels=wire.str_map(item.get("labels"), f"{at}.labels"),
        annotations=wire.str_map(item.get("annotations"), f"{at}.annotations"),
        severity=wire.opt_str(item, "severity", f"{at}.severity") or None,
        starts_at=wire.timestamp(item.get("starts_at"), f"{at}.starts_at"),
        ends_at=wire.timestamp(item.get("ends_at"), f"{at}.ends_at"),
        description=wire.opt_str(item, "description", f"{at}.description") or None,
        links=_links(item.get("links"), f"{at}.links"),
        group_key=wire.opt_str(item, "group_key", f"{at}.group_key") or None,
        group_labels=wire.str_map(item.get("group_labels"), f"{at}.group_labels"),
    )


def _links(value: object, at: str) -> tuple[Link, ...]:
    if value is None:
        return ()
    items = wire.array(value, at)
    out = []
    for n, raw in enumerate(items):
        link = wire.obj(raw, f"{at}[{n}]")
        _only(link, LINK_FIELDS, f"{at}[{n}].")
        url = wire.req_str(link, "url", f"{at}[{n}].url").strip()
        if not wire.is_http_url(url):
            raise invalid(f"must be an http(s) URL, not {quote(url)}", field=f"{at}[{n}].url")
        out.append(Link(url=url, text=wire.opt_str(link, "text", f"{at}[{n}].text") or ""))
    return tuple(out)


def _only(data: dict[str, Any], allowed: frozenset[str], prefix: str) -> None:
    for key in data:
        if key not in allowed:
            known = ", ".join(sorted(allowed))
            raise invalid(f"unknown field; the fields are {known}", field=prefix + key)
