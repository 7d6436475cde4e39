"""How the console says things: statuses, priorities, times, people and timeline entries in
words, and a case's indicators flattened for its page."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from casekeeper.domain import incidents as inc
from casekeeper.domain import timeline as t
from casekeeper.domain.enums import ActorKind, CasePriority, CaseStatus
from casekeeper.domain.events import Actor, CaseEvent
from casekeeper.domain.incidents import IncidentEvent
from casekeeper.domain.model import Json, PriorityDetails

STATUS: Final = {
    CaseStatus.UNSPECIFIED: "Unknown", CaseStatus.PENDING_ACTIVATION: "Pending",
    CaseStatus.ACTIVE: "Active", CaseStatus.ACKNOWLEDGED: "Acknowledged",
    CaseStatus.RESOLVED: "Resolved", CaseStatus.CLOSED: "Closed",
}  # fmt: skip
STATUS_SLUG: Final = {s: s.name.lower().replace("_", "-") for s in CaseStatus}
OPEN_SLUGS: Final = ("pending-activation", "active", "acknowledged")


def priority(p: CasePriority) -> str:
    return "—" if p is CasePriority.UNSPECIFIED else p.name


def when(us: int | None) -> str:
    if us is None:
        return "—"
    return datetime.fromtimestamp(us / 1e6, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def iso(us: int | None) -> str:
    return "" if us is None else datetime.fromtimestamp(us / 1e6, UTC).isoformat()


def ago(us: int | None, now: int) -> str:
    if us is None:
        return "—"
    return span(max(0, now - us) // 1000) + " ago"


def span(ms: int) -> str:
    """A duration the way people say it: 45s, 12m, 3h 5m, 2d 4h."""
    s = ms // 1000
    if s < 60:
        return f"{s}s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m}m"
    h, m = divmod(m, 60)
    if h < 24:
        return f"{h}h {m}m" if m else f"{h}h"
    d, h = divmod(h, 24)
    return f"{d}d {h}h" if h else f"{d}d"


class Names:
    """User ids → what to call them (full name, else username), for a page's people."""

    def __init__(self, profiles: Mapping[str, Any]) -> None:
        self.profiles = profiles

    def user(self, user_id: str | None) -> str:
        if not user_id:
            return "nobody"
        row = self.profiles.get(user_id)
        if row is None:  # not a user here: an id from another system (an e-mail, a UUID)
            return user_id if len(user_id) <= 24 or "@" in user_id else user_id[:8] + "…"
        return str(row.full_name or row.username)

    def actor(self, actor: Actor) -> str:
        if actor.kind is ActorKind.USER:
            return self.user(actor.fields.get("id"))
        if actor.kind is ActorKind.SYSTEM:
            return "casekeeper"
        if actor.kind is ActorKind.API_KEY:
            return f"key {actor.fields.get('name') or actor.fields.get('id')}"
        if actor.kind is ActorKind.PROMETHEUS_ALERT_MANAGER:
            return "Alertmanager"
        label = actor.label
        return label.partition(":")[2] or label


def user_ids(events: list[CaseEvent]) -> set[str]:
    out: set[str] = set()
    for e in events:
        if e.actor.kind is ActorKind.USER and e.actor.fields.get("id"):
            out.add(e.actor.fields["id"])
        data = e.data
        if isinstance(data, t.Assigned):
            out.add(data.user_id)
            if data.previous:
                out.add(data.previous)
        elif isinstance(data, t.Unassigned):
            out.add(data.previous)
        elif isinstance(data, t.IncidentChanged) and data.user:
            out.add(data.user)
    return out


def _prio_words(d: PriorityDetails) -> str:
    if d.override is not None:
        return f"{priority(d.override)} (override; system {priority(d.system)})"
    return priority(d.system)


@dataclass(frozen=True, slots=True)
class Entry:
    """One timeline entry, ready to show."""

    kind: str  # a CSS hook: comment, status, assign, priority, note, other
    text: str  # what happened, after the actor's name
    body: str | None = None  # a comment's text, a note's sentence


def entry(e: CaseEvent, names: Names) -> Entry:
    d = e.data
    match d:
        case t.Comment():
            return Entry("comment", "commented", d.text)
        case t.Created():
            return Entry("created", f"opened the case at priority {priority(d.priority)}")
        case t.StatusChanged():
            return Entry("status", f"changed the status from {STATUS[d.old]} to {STATUS[d.new]}")
        case t.Assigned():
            return Entry("assign", f"assigned {names.user(d.user_id)}")
        case t.Unassigned():
            return Entry("assign", f"unassigned {names.user(d.previous)}")
        case t.PriorityChanged():
            return Entry(
                "priority",
                f"changed the priority from {_prio_words(d.old)} to {_prio_words(d.new)}",
            )
        case t.TitleChanged():
            return Entry("other", f"renamed the case from “{d.old}” to “{d.new}”")
        case t.ResolutionReasonChanged():
            return Entry("other", "set the resolution reason", d.new)
        case t.NotificationSent():
            return Entry("notify", "sent a notification")
        case t.NotificationFailed():
            return Entry("notify", "could not send a notification", d.error)
        case t.KpiBreached():
            kpi = d.kpi_type.removeprefix("KPI_TYPE_").replace("_", " ").lower()
            return Entry(
                "breach", f"breached the {kpi} target ({span(d.threshold_seconds * 1000)})"
            )
        case t.TagsChanged():
            parts = [f"added {', '.join(d.added)}" if d.added else "",
                     f"removed {', '.join(d.removed)}" if d.removed else ""]  # fmt: skip
            return Entry("other", "tags: " + "; ".join(p for p in parts if p))
        case t.SeverityChanged():
            return Entry("other", f"changed the severity from {d.old.name.lower()} to "
                                  f"{d.new.name.lower()}")  # fmt: skip
        case t.OnHoldChanged():
            return Entry(
                "status", "put the case on hold" if d.on_hold else "took the case off hold"
            )
        case t.IncidentChanged():
            who = f" ({names.user(d.user)})" if d.user else ""
            return Entry("incident", f"incident {d.incident_id[:8]} {d.change.value}{who}")
        case t.SignalNote():
            return Entry("note", d.topic.value, d.text)
        case t.DescriptionChanged():
            return Entry("other", "changed the description")
        case _:
            return Entry("other", e.kind.value)


def incident_event(e: IncidentEvent, names: Names) -> str:
    """What an incident event says, in words."""
    d = e.payload
    match d:
        case inc.Opened():
            return "opened"
        case inc.StateUpserted():
            muted = " (muted)" if d.is_muted else ""
            return f"alert state: {d.state.name.lower()}{muted}"
        case inc.Acknowledged():
            return "acknowledged"
        case inc.Closed():
            return "closed"
        case inc.Assigned():
            return f"assigned {names.user(d.assignment.assigned_to)}"
        case inc.Unassigned():
            return "unassigned"
        case inc.Snoozed():
            return f"snoozed for {d.duration_minutes or 0} min"
    return "changed"


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert of a case's indicators, as its page lists it."""

    name: str
    firing: bool
    priority: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    links: tuple[tuple[str, str], ...]  # (what, url): runbook, generator, dashboard …
    since: str


def alerts(indicators: Json) -> Iterator[Alert]:
    for g in indicators.get("prometheusAlertIndicators") or []:
        for a in g.get("alerts") or []:
            notes = dict(a.get("annotations") or {})
            status = a.get("status") or {}
            body: Json = next(iter(status.values()), {}) if isinstance(status, dict) else {}
            yield Alert(
                str(a.get("alertName") or "alert"), "triggered" in status,
                _indicator_prio(a.get("priority")), dict(a.get("labels") or {}), notes,
                _links(notes, a.get("generatorUrl")), str(body.get("triggeredAt") or ""),
            )  # fmt: skip
    for item in indicators.get("genericIndicators") or []:
        labels = {str(x.get("key")): str(x.get("value")) for x in item.get("labels") or []}
        urls = tuple(("link", str(x.get("url"))) for x in item.get("entityLinks") or [])
        yield Alert(
            str(item.get("externalId") or "signal"),
            item.get("status") == "GENERIC_INDICATOR_STATUS_TRIGGERED",
            _indicator_prio(item.get("priority")), labels, {}, _safe(urls),
            str(item.get("lastTriggeredAt") or ""),
        )  # fmt: skip
    for a in indicators.get("alertIndicators") or []:
        perms = [p.get("permutation") or {} for p in a.get("permutations") or []]
        labels = {k: str(v) for perm in perms for k, v in perm.items()}
        yield Alert(
            f"alert {a.get('alertId')}", a.get("state") == "INDICATOR_STATE_TRIGGERED",
            _indicator_prio(a.get("priority")), labels, {}, (), str(a.get("triggerTime") or ""),
        )  # fmt: skip


def _indicator_prio(raw: object) -> str:
    name = str(raw or "").removeprefix("INDICATOR_PRIORITY_")
    return name if name in CasePriority.__members__ else "—"


_LINK_ANNOTATIONS: Final = (("runbook", "runbook_url"), ("runbook", "runbook"),
                            ("dashboard", "dashboard"), ("dashboard", "dashboard_url"))  # fmt: skip


def _links(notes: Mapping[str, str], generator: object) -> tuple[tuple[str, str], ...]:
    found = [(what, notes[key]) for what, key in _LINK_ANNOTATIONS if notes.get(key)]
    if generator:
        found.append(("source", str(generator)))
    return _safe(tuple(found))


def _safe(links: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """Only http(s) links become anchors: a ``javascript:`` URL in an alert is text."""
    return tuple((w, u) for w, u in links if u.lower().startswith(("http://", "https://")))
