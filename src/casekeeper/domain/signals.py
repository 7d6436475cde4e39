"""Signals: what alerting tools tell casekeeper, in one shape whatever door they came through.

A **signal** is one alert firing, acknowledged at its source, or resolving. Alertmanager's
webhook, PagerDuty's Events API v2, the generic endpoint and the gRPC ingest service each parse
their payload into a ``SignalBatch``; ``service.signals.SignalService`` does the rest.

One *firing* is identified by ``(source, dedup_key, starts_at)`` (Alertmanager: fingerprint and
startsAt): re-sent, duplicated or reordered signals of one firing change nothing twice. A sender
without start times (PagerDuty) leaves ``starts_at`` ``None``: the open firing of that dedup key
is the one meant, and a trigger with none open starts a new firing at its arrival.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from casekeeper.domain.model import Micros

MAX_SIGNALS: Final = 10_000  # signals in one batch
MAX_DEDUP_KEY: Final = 255  # PagerDuty's dedup_key limit; Alertmanager fingerprints are 16
MAX_TITLE: Final = 1024
MAX_LABELS: Final = 256  # labels (or annotations) on one signal
MAX_LABEL_KEY: Final = 255
MAX_LABEL_VALUE: Final = 8192  # annotations carry runbooks and descriptions
MAX_LINKS: Final = 32
MAX_URL: Final = 4096


class Source(StrEnum):
    """The door a signal came through; part of its identity."""

    ALERTMANAGER = "alertmanager"
    PAGERDUTY = "pagerduty"
    GENERIC = "generic"
    HEARTBEAT = "heartbeat"  # casekeeper's own: a heartbeat that stopped arriving


class SignalStatus(StrEnum):
    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"  # PagerDuty's "acknowledge": the source says someone has it
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    text: str = ""


@dataclass(frozen=True, slots=True)
class Signal:
    dedup_key: str  # Alertmanager's fingerprint, PagerDuty's dedup_key, the generic dedup key
    status: SignalStatus
    title: str  # the incident's name: alertname, PagerDuty summary, generic title
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    severity: str | None = None  # the sender's word; None: the labels' severity label
    starts_at: Micros | None = None
    ends_at: Micros | None = None  # resolved signals: when it stopped
    description: str | None = None
    generator_url: str | None = None
    links: tuple[Link, ...] = ()
    # The sender's own grouping (Alertmanager: groupKey; a generic sender's group key): signals
    # with one group join one open case. None: grouped by the settings' labels, else alone.
    group_key: str | None = None
    group_labels: Mapping[str, str] = field(default_factory=dict)  # shown as case groupings
    silenced: bool = False  # muted at the source (counts only under CREATE_CASE)


@dataclass(frozen=True, slots=True)
class SignalBatch:
    """One request's signals, with what the request says about all of them."""

    source: Source
    signals: tuple[Signal, ...]
    receiver: str | None = None  # Alertmanager's receiver name
    external_url: str | None = None  # where the sender is (Alertmanager's externalURL)
    truncated: int = 0  # alerts the sender left out (Alertmanager's truncatedAlerts)
    sender: str | None = None  # who sent it, for the timeline (e.g. PagerDuty's client)
    note: str | None = None  # why, on the case timeline (reconciliation says what it saw)
    reconciliation: bool = False  # resolutions casekeeper inferred, not the source's word


class Action(StrEnum):
    """What a signal did (or, in a dry run, would do)."""

    OPENED = "opened"  # a new incident (and maybe a new case)
    RETRIGGERED = "retriggered"  # a resolved incident fired again
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    UNCHANGED = "unchanged"  # already known: a re-send, a replay
    IGNORED = "ignored"  # stale (an older firing) or resolved before it fired
    FILTERED = "filtered"  # the space's settings keep it out of cases


@dataclass(frozen=True, slots=True)
class Outcome:
    """One signal's result, and why: the explanation dry runs and cases give."""

    dedup_key: str
    action: Action
    reason: str  # a sentence a person reads
    incident_id: str | None = None
    case_id: str | None = None
    case_readable_id: str | None = None
    new_case: bool = False
    group_key: str | None = None  # the case group it joined (or would)
    priority: str | None = None  # the indicator's priority, P1..P5
    priority_reason: str | None = None


@dataclass(frozen=True, slots=True)
class IngestReport:
    outcomes: tuple[Outcome, ...]
    dry_run: bool = False

    def count(self, action: Action) -> int:
        return sum(1 for o in self.outcomes if o.action is action)


@dataclass(frozen=True, slots=True)
class Firing:
    """What casekeeper remembers of one firing: the anchor of idempotency, of
    GetCaseByIndicator, of reconciliation and of acknowledge-until-clear."""

    space_id: int
    source: Source
    dedup_key: str
    starts_at: Micros
    status: SignalStatus
    last_seen: Micros  # the last time a signal of this firing arrived
    incident_id: str | None = None  # None: resolved before it fired, or filtered out
    case_id: str | None = None
    ends_at: Micros | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    group_key: str | None = None
    receiver: str | None = None
    external_url: str | None = None
    reconciled: bool = False  # resolved by reconciliation: its source may still say it fires
    # Why it got its priority, as the rules said when it arrived (None: written before this
    # was kept; explain then derives it from the rules in force).
    priority_reason: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status is not SignalStatus.RESOLVED
