"""What the Alertmanager sync needs of an Alertmanager (``AlertmanagerApi``), what it reads
from one, and what a pass reports. ``casekeeper.outbound.alertmanager.AlertmanagerClient``
implements the protocol over HTTP; the services never import it."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from casekeeper.domain.events import Actor
from casekeeper.domain.model import Micros
from casekeeper.domain.signals import IngestReport, SignalBatch
from casekeeper.service.auth import Principal

# -- what the service needs of Alertmanager ----------------------------------------------------


def shown_url(url: str) -> str:
    """A URL as messages and logs show it: scheme, host, port and path; never credentials, a
    query or a fragment (an externalURL comes from a webhook and may carry a password)."""
    parts = urlsplit(url.strip())
    host = parts.hostname or "?"
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


class AlertmanagerUnavailable(Exception):
    """Alertmanager could not be asked, or answered something API v2 does not."""

    def __init__(self, url: str, reason: str) -> None:
        url = shown_url(url)
        super().__init__(f"Alertmanager at {url}: {reason}")
        self.url = url
        self.reason = reason


@dataclass(frozen=True, slots=True)
class AmAlert:
    """One alert as ``GET /api/v2/alerts`` shows it (times have millisecond precision)."""

    fingerprint: str
    starts_at: Micros
    labels: Mapping[str, str]
    state: str  # active | suppressed | unprocessed
    silenced_by: tuple[str, ...] = ()
    inhibited_by: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AmSilence:
    id: str
    state: str  # active | pending | expired
    matchers: Mapping[str, str]  # its equality matchers
    starts_at: Micros
    ends_at: Micros
    created_by: str = ""
    comment: str = ""


class AlertmanagerApi(Protocol):
    def alerts(
        self,
        base_url: str,
        *,
        active: bool = True,
        silenced: bool = True,
        inhibited: bool = True,
    ) -> list[AmAlert]: ...

    def started(self, base_url: str) -> Micros:
        """When the Alertmanager process answering at ``base_url`` started."""
        ...

    def silences(self, base_url: str) -> list[AmSilence]: ...

    def create_silence(
        self,
        base_url: str,
        matchers: Mapping[str, str],
        starts: Micros,
        ends: Micros,
        created_by: str,
        comment: str,
        *,
        silence_id: str | None = None,
    ) -> str: ...

    def expire_silence(self, base_url: str, silence_id: str) -> None: ...

    def close(self) -> None: ...


class SignalIngest(Protocol):
    """``SignalService.ingest``: the one way signals change incidents and cases."""

    def ingest(
        self,
        p: Principal,
        batch: SignalBatch,
        *,
        dry_run: bool = False,
        actor: Actor | None = None,
    ) -> IngestReport: ...


# -- results ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Unreachable:
    url: str
    reason: str


@dataclass(frozen=True, slots=True)
class ReconcileResult:
    space_id: int
    checked: int = 0  # open Alertmanager firings looked at
    resolved: int = 0  # resolved (or, in a dry run, would be)
    awaiting: int = 0  # missing once: resolved if still missing on a pass confirm_after later
    without_url: int = 0  # firings whose payload named no Alertmanager: not checkable
    unreachable: tuple[Unreachable, ...] = ()
    reports: tuple[IngestReport, ...] = ()


@dataclass(frozen=True, slots=True)
class SilenceResult:
    space_id: int
    created: int = 0
    renewed: int = 0
    expired: int = 0
    unreachable: tuple[Unreachable, ...] = ()


@dataclass(frozen=True, slots=True)
class SyncResult:
    space_id: int
    reconcile: ReconcileResult | None = None  # None: not due this time
    silences: SilenceResult | None = None


class PassBudget:
    """How long one pass may spend asking Alertmanagers: the pass runs on the scheduler's
    thread, and an Alertmanager that answers slowly (each call may take its timeout) must not
    hold up the timers of every space. Past the budget, the Alertmanagers not asked yet are
    reported as such, changed nothing, and are asked on the next pass."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self.started = clock()

    def spent(self, url: str) -> Unreachable | None:
        if self.clock() - self.started <= self.seconds:
            return None
        return Unreachable(
            shown_url(url),
            f"not asked: this pass used its {self.seconds:g} s budget; the next pass asks it",
        )
