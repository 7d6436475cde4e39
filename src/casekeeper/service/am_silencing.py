"""Acknowledge-until-clear: Alertmanager silences that follow acknowledged cases.

Level-triggered, so a missed pass, a restart or an Alertmanager that was down for a while only
delays the outcome. Each pass of a space:
- *wanted*: when the space's active settings have ``rules.acknowledge_silences``, every open
  Alertmanager firing of an ACKNOWLEDGED case (it needs its labels and the Alertmanager's URL);
- a wanted firing without a silence gets one: equality matchers on its labels, created by
  "casekeeper", a comment naming the case and linking to it, ending ``SPAN`` from now;
- a wanted firing with one has it renewed when less than ``RENEW_BEFORE`` is left, or made again
  if it was expired in Alertmanager (the case is still acknowledged: unacknowledge it to hear
  the alert again) or Alertmanager forgot it;
- every other silence casekeeper holds is expired: its alert cleared, its case was
  unacknowledged, resolved or closed, or the setting was turned off.
Each silence made or expired is noted on its case's timeline (``SignalNote``, topic
``silenced`` / ``unsilenced``). An Alertmanager that cannot be reached keeps its silences as they
are until a later pass reaches it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Final

from casekeeper.domain import timeline as t
from casekeeper.domain.case_settings import HOUR
from casekeeper.domain.enums import CaseStatus
from casekeeper.domain.events import Actor
from casekeeper.domain.model import Case, CaseRef, Micros
from casekeeper.domain.signals import Firing, Source
from casekeeper.service.alertmanager_api import (
    AlertmanagerApi,
    AlertmanagerUnavailable,
    AmSilence,
    PassBudget,
    SilenceResult,
    Unreachable,
)
from casekeeper.service.context import ServiceContext, new_events, record
from casekeeper.store.am_silences import SilenceRow
from casekeeper.store.uow import UnitOfWork

log = logging.getLogger("casekeeper.alertmanager")

SPAN: Final = 2 * HOUR  # a silence ends this long after it is made or renewed...
RENEW_BEFORE: Final = 1 * HOUR  # ...and is renewed once less than this is left
CREATED_BY: Final = "casekeeper"

FiringKey = tuple[str, str, Micros]  # (case id, fingerprint, starts_at)


def _key(f: Firing) -> FiringKey | None:
    return None if f.case_id is None else (f.case_id, f.dedup_key, f.starts_at)


def _to_ms(us: Micros) -> Micros:
    """A start as API v2 shows it back (milliseconds): renewing with the start it shows then
    keeps the silence (and its id) instead of replacing it."""
    return us - us % 1000


def _labels_text(labels: Mapping[str, str]) -> str:
    return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


def _ended_because(
    row: SilenceRow, enabled: bool, open_keys: set[FiringKey], case: Case | None
) -> str:
    if row.firing_key not in open_keys:
        return "its alert cleared"
    if case is None:
        return "its case is gone"
    if case.status is not CaseStatus.ACKNOWLEDGED:
        word = "unacknowledged" if case.status is CaseStatus.ACTIVE else case.status.name.lower()
        return f"the case was {word}"
    if not enabled:
        return "acknowledge-until-clear is off in the space's case settings"
    return "the alert no longer belongs to this case"


class SilenceKeeper:
    def __init__(self, ctx: ServiceContext, api: AlertmanagerApi, *, budget: float) -> None:
        self.ctx = ctx
        self.db = ctx.db
        self.api = api
        self.budget = budget

    def comment(self, case: Case) -> str:
        name = case.readable_id or case.id
        link = f"{self.ctx.ui_base_url.rstrip('/')}/cases/{name}"
        return (
            f"{name} is acknowledged in casekeeper: silenced until its alerts clear or the "
            f"case is unacknowledged. {link}"
        )

    def sync(self, space_id: int, *, now: Micros) -> SilenceResult:
        with self.db.reader() as uow:
            enabled = uow.case_settings.active(space_id).rules.acknowledge_silences
            rows = uow.am_silences.active(space_id)
            firings = uow.firings.open_of_source(space_id, Source.ALERTMANAGER)
            ids = {r.case_id for r in rows}
            if enabled:
                ids.update(f.case_id for f in firings if f.case_id)
            refs = [CaseRef(raw=i, uuid=i) for i in sorted(ids)]
            cases = uow.cases.get_many(space_id, refs) if refs else {}
        open_keys = {k for f in firings if (k := _key(f)) is not None}
        wanted: dict[FiringKey, Firing] = {}
        if enabled:
            for f in firings:
                k = _key(f)
                case = cases.get(f.case_id or "")
                if k is None or not f.external_url or not f.labels or case is None:
                    continue
                if case.status is CaseStatus.ACKNOWLEDGED:
                    wanted[k] = f
        held: dict[FiringKey, SilenceRow] = {}
        stale: list[tuple[SilenceRow, str]] = []
        for row in rows:
            if row.firing_key in wanted and row.firing_key not in held:
                held[row.firing_key] = row
            elif row.firing_key in held:  # two passes raced: one silence is enough
                stale.append((row, "another silence holds the same alert"))
            else:
                case = cases.get(row.case_id)
                stale.append((row, _ended_because(row, enabled, open_keys, case)))
        missing = [f for k, f in wanted.items() if k not in held]
        result = _Tally()
        budget = PassBudget(self.budget)
        for url, work in _by_url(stale, held.values(), missing).items():
            skipped = budget.spent(url)
            if skipped is not None:
                result.unreachable.append(skipped)
                continue
            try:
                self._sync_url(space_id, url, work, wanted, cases, now, result)
            except AlertmanagerUnavailable as err:
                log.warning("silences of space %s: %s; left as they are", space_id, err)
                result.unreachable.append(Unreachable(url, err.reason))
        return SilenceResult(
            space_id,
            created=result.created,
            renewed=result.renewed,
            expired=result.expired,
            unreachable=tuple(result.unreachable),
        )

    def _sync_url(
        self,
        space_id: int,
        url: str,
        work: _UrlWork,
        wanted: Mapping[FiringKey, Firing],
        cases: Mapping[str, Case],
        now: Micros,
        tally: _Tally,
    ) -> None:
        for row, reason in work.stale:
            self.api.expire_silence(url, row.silence_id)
            with self.db.writer() as uow:
                if uow.am_silences.expire(space_id, [row.silence_id], now):
                    self._note(
                        uow, space_id, row.case_id, now, t.SignalTopic.UNSILENCED,
                        f"Alertmanager silence {row.silence_id} at {url} expired: {reason}.",
                    )  # fmt: skip
                uow.commit()
            tally.expired += 1
        if not work.held and not work.missing:
            return
        there = {s.id: s for s in self.api.silences(url)}
        for row in work.held:
            f = wanted[row.firing_key]
            case = cases[row.case_id]
            self._renew(space_id, url, row, there.get(row.silence_id), f, case, now, tally)
        unowned: list[AmSilence] = []
        if work.missing:
            with self.db.reader() as uow:
                known = uow.am_silences.active_ids()
            unowned = [
                s for s in there.values()
                if s.created_by == CREATED_BY and s.state != "expired" and s.id not in known
            ]  # fmt: skip
        for f in work.missing:
            # One casekeeper made, whose row was never written (the process died between the
            # two): adopted, instead of a second silence beside it.
            orphan = next((s for s in unowned if s.matchers == dict(f.labels)), None)
            if orphan is not None:
                unowned.remove(orphan)
            self._create(space_id, url, f, cases[f.case_id or ""], now, tally, orphan)

    def _renew(
        self,
        space_id: int,
        url: str,
        row: SilenceRow,
        there: AmSilence | None,
        f: Firing,
        case: Case,
        now: Micros,
        tally: _Tally,
    ) -> None:
        live = there is not None and there.state != "expired"
        if there is not None and live and there.ends_at - now >= RENEW_BEFORE:
            return
        # An active silence keeps its start: Alertmanager updates it in place only then
        # (another start makes it expire that one and create a new one).
        starts = there.starts_at if there is not None and live else _to_ms(now)
        new_id = self.api.create_silence(
            url,
            f.labels,
            starts,
            now + SPAN,
            CREATED_BY,
            self.comment(case),
            silence_id=row.silence_id if live else None,
        )
        if new_id != row.silence_id:
            with self.db.writer() as uow:
                uow.am_silences.replace_id(space_id, row.silence_id, new_id)
                uow.commit()
        tally.renewed += 1

    def _create(
        self,
        space_id: int,
        url: str,
        f: Firing,
        case: Case,
        now: Micros,
        tally: _Tally,
        orphan: AmSilence | None = None,
    ) -> None:
        comment = self.comment(case)
        silence_id = self.api.create_silence(
            url,
            f.labels,
            orphan.starts_at if orphan is not None else _to_ms(now),
            now + SPAN,
            CREATED_BY,
            comment,
            silence_id=orphan.id if orphan is not None else None,
        )
        assert f.case_id is not None
        with self.db.writer() as uow:
            if uow.am_silences.active_for(space_id, f.case_id, f.dedup_key, f.starts_at):
                raced = True  # another process made one meanwhile: keep that one
            else:
                raced = False
                uow.am_silences.add(
                    SilenceRow(
                        space_id=space_id,
                        case_id=f.case_id,
                        dedup_key=f.dedup_key,
                        starts_at=f.starts_at,
                        silence_id=silence_id,
                        external_url=url,
                        created_at=now,
                    )
                )
                self._note(
                    uow, space_id, f.case_id, now, t.SignalTopic.SILENCED,
                    f"Alertmanager silence {silence_id} created at {url} for "
                    f"{_labels_text(f.labels)}: the case is acknowledged; it is expired when "
                    "the alert clears or the case is unacknowledged.",
                )  # fmt: skip
            uow.commit()
        if raced:
            self.api.expire_silence(url, silence_id)
            return
        tally.created += 1

    def _note(
        self,
        uow: UnitOfWork,
        space_id: int,
        case_id: str,
        now: Micros,
        topic: t.SignalTopic,
        text: str,
    ) -> None:
        case = uow.cases.get(space_id, CaseRef(raw=case_id, uuid=case_id))
        if case is None:
            return
        note = t.SignalNote(topic=topic, text=text)
        record(uow, new_events(case, [note], Actor.system(), now), now)


class _Tally:
    def __init__(self) -> None:
        self.created = 0
        self.renewed = 0
        self.expired = 0
        self.unreachable: list[Unreachable] = []


class _UrlWork:
    def __init__(self) -> None:
        self.stale: list[tuple[SilenceRow, str]] = []
        self.held: list[SilenceRow] = []
        self.missing: list[Firing] = []


def _by_url(
    stale: Iterable[tuple[SilenceRow, str]],
    held: Iterable[SilenceRow],
    missing: Iterable[Firing],
) -> dict[str, _UrlWork]:
    out: dict[str, _UrlWork] = defaultdict(_UrlWork)
    for row, reason in stale:
        out[row.external_url].stale.append((row, reason))
    for row in held:
        out[row.external_url].held.append(row)
    for f in missing:
        out[f.external_url or ""].missing.append(f)
    return dict(sorted(out.items()))
