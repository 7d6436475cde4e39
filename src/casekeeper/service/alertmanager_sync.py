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
# Silences in step with acknowledgements run this often even when reconciliation is off.
SILENCE_INTERVAL: Final = 30 * SECOND
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
        silence_interval: Micros = SILENCE_INTERVAL,
    ) -> None:
        self.ctx = ctx
        self.db = ctx.db
        self.signals = signals
        self.api = api
        self.silence_interval = silence_interval
        self.silences = SilenceKeeper(ctx, api)
        # When each space last had each pass: in memory, so a restarted process runs at once
        # (both passes are idempotent, so running early or twice is harmless).
        self._last_reconcile: dict[int, Micros] = {}
        self._last_silences: dict[int, Micros] = {}

    def close(self) -> None:
        self.api.close()

    # -- reconciliation -----------------------------------------------------------------------

    def reconcile(self, space_id: int, *, now: Micros, dry_run: bool = False) -> ReconcileResult:
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
        p = self._principal(space_id, space_name)
        resolved = 0
        unreachable: list[Unreachable] = []
        reports: list[IngestReport] = []
        for url, group in sorted(by_url.items()):
            try:
                alerts = self.api.alerts(url, active=True, silenced=True, inhibited=True)
            except AlertmanagerUnavailable as err:
                log.warning("reconcile space %s: %s; nothing resolved from it", space_id, err)
                unreachable.append(Unreachable(url, err.reason))
                continue
            seen = {a.fingerprint: a for a in alerts}
            stale = [f for f in group if gone_from(f, seen.get(f.dedup_key), own)]
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
            without_url=without_url,
            unreachable=tuple(unreachable),
            reports=tuple(reports),
        )

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

    def sync(self, space_id: int, *, now: Micros) -> SyncResult:
        """Reconcile, then bring silences in step (a firing the reconciliation resolved has
        its silence expired in the same pass)."""
        return SyncResult(
            space_id,
            reconcile=self.reconcile(space_id, now=now),
            silences=self.sync_silences(space_id, now=now),
        )

    def spaces(self) -> list[tuple[int, str]]:
        """(id, name) of every space with open Alertmanager firings or live silences."""
        with self.db.reader() as uow:
            return [(s, uow.spaces.name_of(s)) for s in sorted(_spaces(uow))]

    def space_id(self, name: str) -> int | None:
        with self.db.reader() as uow:
            return uow.spaces.get_id(name)

    def scheduled(self, space_id: int, now: Micros) -> SyncResult:
        """The scheduler's per-space hook (``Timers.reconcile``, called every
        ``rules.reconcile_interval``): ``sync``. Use either this or ``run_due``, not both."""
        return self.sync(space_id, now=now)

    def run_due(self, now: Micros) -> list[SyncResult]:
        """Run what is due in every space that has open Alertmanager firings or silences
        casekeeper owns: reconciliation every ``rules.reconcile_interval`` of the space's
        active settings (0: never on schedule), silences every ``silence_interval``. Meant to
        be called by the scheduler's loop every few seconds; a failure in one space is logged
        and does not stop the others."""
        with self.db.reader() as uow:
            spaces = _spaces(uow)
            intervals = {s: uow.case_settings.active(s).rules.reconcile_interval for s in spaces}
        out: list[SyncResult] = []
        for space_id in sorted(spaces):
            try:
                result = self._run_space(space_id, intervals[space_id], now)
            except Exception:  # one space's failure must not starve the rest
                log.exception("Alertmanager sync of space %s failed", space_id)
                continue
            if result.reconcile is not None or result.silences is not None:
                out.append(result)
        return out

    def _run_space(self, space_id: int, interval: Micros, now: Micros) -> SyncResult:
        reconcile = None
        if interval > 0 and _due(self._last_reconcile.get(space_id), interval, now):
            self._last_reconcile[space_id] = now
            reconcile = self.reconcile(space_id, now=now)
        silences = None
        if reconcile is not None or _due(
            self._last_silences.get(space_id), self.silence_interval, now
        ):
            self._last_silences[space_id] = now
            silences = self.sync_silences(space_id, now=now)
        return SyncResult(space_id, reconcile=reconcile, silences=silences)


def _spaces(uow: UnitOfWork) -> set[int]:
    spaces = set(uow.firings.spaces_with_open(Source.ALERTMANAGER))
    spaces.update(uow.am_silences.spaces_with_active())
    return spaces


def _due(last: Micros | None, interval: Micros, now: Micros) -> bool:
    return last is None or now - last >= interval or now < last


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
