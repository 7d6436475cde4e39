"""Keeping casekeeper and Alertmanager in step: reconciliation and acknowledge-until-clear.

**Reconciliation.** Alertmanager sends no "resolved" for an alert that a silence mutes, and a
lost notification (casekeeper down longer than Alertmanager retries) leaves an incident open
after its alert stopped. So casekeeper asks each Alertmanager its open firings came from
(``GET /api/v2/alerts``, at the payload's ``externalURL``) which alerts it holds, and resolves
every firing it no longer reports: gone, replaced by a later firing of the same labels, or
silenced by a silence that is not casekeeper's own. Resolving goes through
``SignalService.ingest`` with a batch note, so the timeline says why. An Alertmanager that cannot
be read proves nothing: it is logged and counted, and nothing is resolved.

**Acknowledge-until-clear** (per space, ``rules.acknowledge_silences``). Level-triggered: each
pass computes which firings should be silenced (open Alertmanager firings of ACKNOWLEDGED cases)
and makes Alertmanager match: one silence per firing's label set, renewed before it ends;
expired once the firing resolves or its case is no longer acknowledged (or the setting is off).
Each silence made or expired is noted on its case's timeline.

The service never imports the HTTP client: it uses the ``AlertmanagerApi`` protocol (declared in
``alertmanager_api``, importable from here), which
``casekeeper.outbound.alertmanager.AlertmanagerClient`` implements. The silence half lives in
``am_silencing``.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from typing import Final

from casekeeper.domain.case_settings import SECOND
from casekeeper.domain.events import Actor
from casekeeper.domain.model import Micros
from casekeeper.domain.signals import (
    Firing,
    IngestReport,
    Signal,
    SignalBatch,
    SignalStatus,
    Source,
)
from casekeeper.service.alertmanager_api import (
    AlertmanagerApi,
    AlertmanagerUnavailable,
    AmAlert,
    AmSilence,
    PassBudget,
    ReconcileResult,
    SignalIngest,
    SilenceResult,
    SyncResult,
    Unreachable,
)
from casekeeper.service.am_silencing import SilenceKeeper
from casekeeper.service.auth import Principal
from casekeeper.service.context import ServiceContext
from casekeeper.service.permissions import Permission
from casekeeper.store.uow import UnitOfWork

# The interface and the shapes callers use, importable from here (the service's module).
__all__ = [
    "AlertmanagerApi",
    "AlertmanagerSync",
    "AlertmanagerUnavailable",
    "AmAlert",
    "AmSilence",
    "ReconcileResult",
    "SignalIngest",
    "SilenceResult",
    "SyncResult",
    "Unreachable",
    "gone_from",
]

log = logging.getLogger("casekeeper.alertmanager")

# What the reconciliation's resolutions say on the timeline ({url}: the Alertmanager asked).
RECONCILED_NOTE: Final = (
    "reconciled: Alertmanager at {url} no longer reports this alert (silenced or lost notification)"
)
# An Alertmanager keeps alerts in memory only: for a while after it starts it holds just those
# Prometheus has re-sent since (every resend_delay, 1 minute by default), so an alert missing
# from it then proves nothing.
WARMUP: Final = 5 * 60 * SECOND
# A firing is resolved only when two passes at least this far apart both miss it: one odd
# answer (a peer behind a load balancer that just started, a proxy's empty page) resolves nothing.
CONFIRM_AFTER: Final = 60 * SECOND
PASS_BUDGET: Final = 30.0  # seconds one pass (reconciliation, or silences) may spend asking
SYSTEM_KEY: Final = "system:alertmanager-sync"


def _ms(us: Micros) -> int:
    return us // 1000


def gone_from(firing: Firing, alert: AmAlert | None, own_silences: set[str]) -> bool:
    """Whether Alertmanager's view of an alert shows this firing is over: the alert is not
    there, it is a later firing (API v2 shows startsAt to the millisecond, the webhook to the
    nanosecond), or a silence other than casekeeper's own mutes it (no "resolved" will come).
    An inhibited alert still fires: the alert inhibiting it has a case of its own."""
    if alert is None:
        return True
    if _ms(alert.starts_at) > _ms(firing.starts_at):
        return True
    return any(sid not in own_silences for sid in alert.silenced_by)


class AlertmanagerSync:
    def __init__(
        self,
        ctx: ServiceContext,
        signals: SignalIngest,
        api: AlertmanagerApi,
        *,
        warmup: Micros = WARMUP,
        confirm_after: Micros = CONFIRM_AFTER,
        budget: float = PASS_BUDGET,
    ) -> None:
        self.ctx = ctx
        self.db = ctx.db
        self.signals = signals
        self.api = api
        self.warmup = warmup
        self.confirm_after = confirm_after
        self.budget = budget
        self.silences = SilenceKeeper(ctx, api, budget=budget)
        # (space, Alertmanager URL) -> (dedup key, startsAt) -> when a pass first missed that
        # firing. In memory: a restarted process waits one more pass, erring on the side of open.
        self._missing: dict[tuple[int, str], dict[tuple[str, Micros], Micros]] = {}

    def close(self) -> None:
        self.api.close()

    # -- reconciliation -----------------------------------------------------------------------

    def reconcile(
        self, space_id: int, *, now: Micros, dry_run: bool = False, at_once: bool = False
    ) -> ReconcileResult:
        """Resolve the space's open Alertmanager firings their Alertmanager no longer reports.
        A firing is resolved when two passes ``confirm_after`` apart both miss it, or on the
        first with ``at_once`` (an operator asking); never from an Alertmanager that cannot be
        read or that started less than ``warmup`` ago."""
        with self.db.reader() as uow:
            firings = uow.firings.open_of_source(space_id, Source.ALERTMANAGER)
            # Every silence casekeeper made counts as its own, whichever space made it: one
            # Alertmanager may feed several spaces, and another space's acknowledge-until-clear
            # silence does not mean the alert stopped.
            own = uow.am_silences.active_ids()
            space_name = uow.spaces.name_of(space_id)
        by_url: dict[str, list[Firing]] = defaultdict(list)
        without_url = 0
        for f in firings:
            if f.external_url:
                by_url[f.external_url].append(f)
            else:
                without_url += 1
        for where in [w for w in self._missing if w[0] == space_id and w[1] not in by_url]:
            del self._missing[where]
        p = self._principal(space_id, space_name)
        resolved = awaiting = 0
        unreachable: list[Unreachable] = []
        reports: list[IngestReport] = []
        budget = PassBudget(self.budget)
        for url, group in sorted(by_url.items()):
            skipped = budget.spent(url)
            if skipped is not None:
                unreachable.append(skipped)
                continue
            try:
                alerts = self._alerts(url, now)
            except AlertmanagerUnavailable as err:
                log.warning("reconcile space %s: %s; nothing resolved from it", space_id, err)
                unreachable.append(Unreachable(url, err.reason))
                continue
            seen = {a.fingerprint: a for a in alerts}
            missing = [f for f in group if gone_from(f, seen.get(f.dedup_key), own)]
            stale = self._confirmed((space_id, url), missing, now, at_once=at_once)
            awaiting += len(missing) - len(stale)
            for receiver, batch_firings in _by_receiver(stale).items():
                batch = SignalBatch(
                    source=Source.ALERTMANAGER,
                    signals=tuple(_resolved(f, now) for f in batch_firings),
                    receiver=receiver,
                    external_url=url,
                    note=RECONCILED_NOTE.format(url=url),
                    reconciliation=True,
                )
                report = self.signals.ingest(p, batch, dry_run=dry_run, actor=Actor.system())
                reports.append(report)
                resolved += len(batch_firings)
        if resolved or unreachable:
            log.info(
                "reconcile space %s: %d open firings checked, %d resolved%s, %d unreachable",
                space_id,
                len(firings),
                resolved,
                " (dry run)" if dry_run else "",
                len(unreachable),
            )
        return ReconcileResult(
            space_id=space_id,
            checked=len(firings),
            resolved=resolved,
            awaiting=awaiting,
            without_url=without_url,
            unreachable=tuple(unreachable),
            reports=tuple(reports),
        )

    def _alerts(self, url: str, now: Micros) -> list[AmAlert]:
        # Uptime first, alerts after, on the pool's one kept-alive connection: behind a load
        # balancer both answers then come from the same Alertmanager.
        started = self.api.started(url)
        if now - started < self.warmup:
            up = max(0, now - started) // SECOND
            raise AlertmanagerUnavailable(
                url,
                f"it started {up} s ago; until Prometheus has re-sent its alerts (within "
                f"{self.warmup // SECOND} s) a missing alert proves nothing",
            )
        return self.api.alerts(url, active=True, silenced=True, inhibited=True)

    def _confirmed(
        self, where: tuple[int, str], missing: list[Firing], now: Micros, *, at_once: bool
    ) -> list[Firing]:
        """The missing firings this pass may resolve; remembers the others for the next pass
        (and forgets those seen again: their count starts over)."""
        before = self._missing.pop(where, {})
        kept: dict[tuple[str, Micros], Micros] = {}
        ready = []
        for f in missing:
            key = (f.dedup_key, f.starts_at)
            first = before.get(key, now)
            if at_once or now - first >= self.confirm_after:
                ready.append(f)
            else:
                kept[key] = first
        if kept:
            self._missing[where] = kept
        return ready

    def _principal(self, space_id: int, space_name: str) -> Principal:
        return Principal(
            key_id=SYSTEM_KEY,
            key_name="casekeeper Alertmanager sync",
            space_id=space_id,
            space_name=space_name,
            permissions=frozenset({Permission.SIGNALS_WRITE}),
        )

    # -- acknowledge-until-clear --------------------------------------------------------------

    def sync_silences(self, space_id: int, *, now: Micros) -> SilenceResult:
        return self.silences.sync(space_id, now=now)

    # -- both, on demand and on a schedule ----------------------------------------------------

    def sync(self, space_id: int, *, now: Micros, at_once: bool = False) -> SyncResult:
        """Reconcile, then bring silences in step (a firing the reconciliation resolved has
        its silence expired in the same pass)."""
        return SyncResult(
            space_id,
            reconcile=self.reconcile(space_id, now=now, at_once=at_once),
            silences=self.sync_silences(space_id, now=now),
        )

    def spaces(self) -> list[tuple[int, str]]:
        """(id, name) of every space with open Alertmanager firings or live silences."""
        with self.db.reader() as uow:
            return [(s, uow.spaces.name_of(s)) for s in sorted(_spaces(uow))]

    def space_id(self, name: str) -> int | None:
        with self.db.reader() as uow:
            return uow.spaces.get_id(name)


def _spaces(uow: UnitOfWork) -> set[int]:
    spaces = set(uow.firings.spaces_with_open(Source.ALERTMANAGER))
    spaces.update(uow.am_silences.spaces_with_active())
    return spaces


def _by_receiver(firings: Sequence[Firing]) -> dict[str | None, list[Firing]]:
    out: dict[str | None, list[Firing]] = defaultdict(list)
    for f in firings:
        out[f.receiver].append(f)
    return out


def _resolved(f: Firing, now: Micros) -> Signal:
    return Signal(
        dedup_key=f.dedup_key,
        status=SignalStatus.RESOLVED,
        title=f.labels.get("alertname") or f.dedup_key,
        labels=dict(f.labels),
        starts_at=f.starts_at,
        ends_at=max(now, f.starts_at),
        group_key=f.group_key,
    )
