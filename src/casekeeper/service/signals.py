"""Signals in: every ingestion door (Alertmanager, PagerDuty Events v2, the generic endpoint,
the gRPC ingest service, heartbeats and reconciliation) hands a ``SignalBatch`` to
``SignalService.ingest``.

A batch is one transaction: all of it is applied, or (on a bad signal) none of it, and it is
committed before the caller answers. A dry run applies it the same way and rolls back, so
it answers exactly what would happen. Two requests that race to open the same firing or
group collide on a unique key; the loser's transaction is retried and finds the winner's rows.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from urllib.parse import urlsplit

from casekeeper.domain.errors import CasekeeperError, ErrorCode, case_not_found, invalid
from casekeeper.domain.events import Actor
from casekeeper.domain.signal_indicators import derived_priority
from casekeeper.domain.signal_rules import priority_of
from casekeeper.domain.signals import (
    MAX_DEDUP_KEY,
    MAX_LABEL_KEY,
    MAX_LABEL_VALUE,
    MAX_LABELS,
    MAX_LINKS,
    MAX_SIGNALS,
    MAX_TITLE,
    MAX_URL,
    Firing,
    IngestReport,
    Link,
    Signal,
    SignalBatch,
    SignalStatus,
)
from casekeeper.service import validation as v
from casekeeper.service.auth import Principal
from casekeeper.service.context import ServiceContext
from casekeeper.service.permissions import Permission
from casekeeper.service.signal_run import BatchRun
from casekeeper.service.signal_writes import only_resends
from casekeeper.store.replica import written_by

log = logging.getLogger(__name__)
ATTEMPTS = 3


def _labels(labels: Mapping[str, str], where: str) -> Mapping[str, str]:
    """``labels`` if they are fine as they are (the common case, checked in one pass), else
    a trimmed copy, or INVALID_ARGUMENT naming the field."""
    if len(labels) > MAX_LABELS:
        raise invalid(f"at most {MAX_LABELS} entries", field=where)
    for key, value in labels.items():
        if (
            type(key) is not str
            or type(value) is not str
            or not key
            or len(key) > MAX_LABEL_KEY
            or len(value) > MAX_LABEL_VALUE
            or key[0].isspace()
            or key[-1].isspace()
            or "\x00" in key
            or "\x00" in value
        ):
            return _relabelled(labels, where)
    return labels


def _relabelled(labels: Mapping[str, str], where: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in labels.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise invalid("keys and values are strings", field=where)
        k = key.strip()
        if not k:
            raise invalid("a key cannot be empty", field=where)
        if len(k) > MAX_LABEL_KEY:
            raise invalid(f"key {k[:40]!r}… is longer than {MAX_LABEL_KEY}", field=where)
        if len(value) > MAX_LABEL_VALUE:
            raise invalid(f"the value of {k!r} is longer than {MAX_LABEL_VALUE}", field=where)
        if "\x00" in k or "\x00" in value:
            raise invalid("NUL characters are not allowed", field=where)
        out[k] = value
    return out


def external_url(raw: str | None) -> str | None:
    """An Alertmanager's externalURL, kept only when casekeeper may call it back: http(s),
    without credentials, query or fragment (outbound/alertmanager.py rebuilds the call from
    the rest). Any other is dropped (its alerts still count; that Alertmanager is just not
    reconciled), never logged whole: it may carry a password."""
    url = _url(raw, "external_url")
    if url is None:
        return None
    parts = urlsplit(url)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.username is not None
        or parts.password is not None
        or parts.query
        or parts.fragment
        or "?" in url
        or "#" in url
    ):
        log.warning("an Alertmanager externalURL casekeeper will not call was ignored "
                    "(%s://%s…)", parts.scheme, parts.hostname or "?")  # fmt: skip
        return None
    return url


def _url(raw: str | None, where: str) -> str | None:
    if raw is None or not raw.strip():
        return None
    url = raw.strip()
    if len(url) > MAX_URL:
        raise invalid(f"longer than {MAX_URL}", field=where)
    return url


def checked_signal(s: Signal, where: str) -> Signal:
    """``s`` trimmed and bounded, or INVALID_ARGUMENT naming the field at fault."""
    key = v.text(s.dedup_key, field=f"{where}.dedup_key", max_len=MAX_DEDUP_KEY)
    if "\x00" in key:
        raise invalid("NUL characters are not allowed", field=f"{where}.dedup_key")
    ends, starts = s.ends_at, s.starts_at
    if (
        s.status is SignalStatus.RESOLVED
        and ends is not None
        and starts is not None
        and ends < starts
    ):
        raise invalid("ends before it starts", field=f"{where}.ends_at")
    if len(s.links) > MAX_LINKS:
        raise invalid(f"at most {MAX_LINKS} links", field=f"{where}.links")
    links = []
    for n, link in enumerate(s.links):
        url = _url(link.url, f"{where}.links[{n}].url")
        if url is not None:
            links.append(Link(url, link.text[:256]))
    return dataclasses.replace(
        s,
        dedup_key=key,
        title=v.text(s.title, field=f"{where}.title", max_len=MAX_TITLE),
        labels=_labels(s.labels, f"{where}.labels"),
        annotations=_labels(s.annotations, f"{where}.annotations"),
        severity=(s.severity or "").strip()[:64] or None,
        description=(s.description or "").strip()[:MAX_LABEL_VALUE] or None,
        generator_url=_url(s.generator_url, f"{where}.generator_url"),
        links=tuple(links),
        group_key=(s.group_key or "").strip()[:4096] or None,
        group_labels=_labels(s.group_labels, f"{where}.group_labels"),
    )


def checked_batch(batch: SignalBatch) -> SignalBatch:
    if not batch.signals:
        raise invalid("a batch needs at least one signal", field="signals")
    if len(batch.signals) > MAX_SIGNALS:
        raise invalid(
            f"{len(batch.signals)} signals in one request; at most {MAX_SIGNALS}: send them in "
            "smaller batches",
            field="signals",
        )
    if batch.truncated < 0:
        raise invalid("cannot be negative", field="truncatedAlerts")
    return dataclasses.replace(
        batch,
        signals=tuple(checked_signal(s, f"signals[{n}]") for n, s in enumerate(batch.signals)),
        receiver=(batch.receiver or "").strip()[:1024] or None,
        external_url=external_url(batch.external_url),
        sender=(batch.sender or "").strip()[:256] or None,
        note=(batch.note or "").strip()[:4096] or None,
    )


@dataclasses.dataclass(frozen=True, slots=True)
class Explanation:
    """Why a case is what it is: its priority, and the groups and firings that made it."""

    case_id: str
    priority: str
    priority_reason: str
    groups: tuple[str, ...]
    firings: tuple[Firing, ...]


class SignalService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.db = ctx.db
        self.clock = ctx.clock

    def ingest(
        self,
        p: Principal,
        batch: SignalBatch,
        *,
        dry_run: bool = False,
        actor: Actor | None = None,
    ) -> IngestReport:
        """Apply ``batch`` in ``p``'s space (or, ``dry_run``, say what applying it would do)."""
        p.require((Permission.SIGNALS_WRITE,), "send signals")
        batch = checked_batch(batch)
        with self.db.reader() as uow:
            settings = uow.case_settings.active(p.space_id)
            keys = [s.dedup_key for s in batch.signals]
            known = uow.firings.latest_many(p.space_id, batch.source, keys)
        resends = only_resends(batch, settings, known)
        if resends is not None:
            return IngestReport(tuple(resends), dry_run=dry_run)
        for attempt in range(ATTEMPTS):
            try:
                with written_by(p.user_id), self.db.writer() as uow:
                    settings = uow.case_settings.active(p.space_id)
                    run = BatchRun(uow, p.space_id, batch, settings, actor or p.actor, self.clock())
                    outcomes = run.run()
                    if not dry_run:
                        uow.commit()
                return IngestReport(tuple(outcomes), dry_run=dry_run)
            except CasekeeperError as err:
                if err.code is not ErrorCode.CONFLICT or attempt == ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def explain(self, p: Principal, raw_case: str) -> Explanation:
        """Why the case has its priority and its signals: the rules that applied."""
        p.require((Permission.CASE_READ,), "read cases")
        ref = v.case_ref(raw_case)
        with self.db.reader() as uow:
            case = uow.cases.get(p.space_id, ref)
            if case is None:
                raise case_not_found(raw_case)
            firings = uow.firings.of_case(case.id)
            groups = uow.signal_groups.keys_of(case.id)
            rules = uow.case_settings.active(p.space_id).rules
        if case.priority.override is not None:
            reason = (
                f"{case.priority.override.name}: a person's override (system: "
                f"{case.priority.system.name})"
            )
        else:
            derived = derived_priority(case.indicators)
            reason = (
                derived[1] if derived is not None
                else f"{case.priority.system.name}: set when the case was created"
            )  # fmt: skip
        detail = []
        for f in firings:
            why = f.priority_reason
            if why is None:  # written before the reason was kept: the rules in force now
                _, why = priority_of(Signal(f.dedup_key, f.status, "", labels=f.labels), rules)
            detail.append(f"{f.dedup_key}: {why}")
        if detail:
            reason += "; " + "; ".join(detail[:20])
        return Explanation(
            case.id, case.effective_priority.name, reason, tuple(groups), tuple(firings)
        )
