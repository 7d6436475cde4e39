"""The delivery worker: routes the outbox, claims due deliveries, sends them concurrently,
records every attempt, and schedules retries (docs/NOTIFICATIONS.md, "Delivery").

At least once: a delivery is recorded after its receiver answered, so a worker killed between
the two sends that attempt again when its lease ends (``lease``); each delivery keeps one
idempotency key across attempts for receivers to drop the repeat. Two workers never hold one
delivery at once (store/ledger.py), and no attempt starts later than its lease allows for the
send timeout (the rest of the batch is given back), so one attempt is never made twice while its
worker lives.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from casekeeper.domain import timeline as t
from casekeeper.domain.events import Actor, CaseEvent
from casekeeper.domain.ids import uuid7
from casekeeper.domain.notifications import (
    Connector,
    DeliveryState,
    Envelope,
    Outcome,
    Retry,
)
from casekeeper.domain.notify_ledger import AttemptRecord
from casekeeper.service.context import ServiceContext
from casekeeper.service.notify_ports import Deliverer, DelivererFactory
from casekeeper.service.notify_routing import Router
from casekeeper.service.secrets import SecretBox, SecretUnavailable
from casekeeper.store import db_errors
from casekeeper.store.ledger import Claim, Result

log = logging.getLogger(__name__)
SECOND = 1_000_000
MAX_ERROR = 4096


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """How hard to try. Every figure is a setting (``CASEKEEPER_NOTIFY_*``, README)."""

    max_attempts: int = 10  # per budget: from creation, or from a replay
    max_age: float = 24 * 3600.0  # seconds a delivery keeps trying
    base_delay: float = 2.0  # the first retry's delay, doubled each time
    max_delay: float = 600.0
    max_retry_after: float = 3600.0  # a receiver's Retry-After is honoured up to this
    timeout: float = 10.0  # one attempt, connect to answer
    lease: float = 120.0  # a claim's life; must outlast a whole batch's sends
    batch: int = 200
    concurrency: int = 64
    idle_wait: float = 0.2  # seconds between polls when there is nothing to do
    outbox_retention: float = 24 * 3600.0  # routed outbox messages kept this long
    ledger_retention: float = 30 * 24 * 3600.0  # finished notifications kept this long


def backoff(attempt: int, policy: DeliveryPolicy, rng: random.Random) -> float:
    """Seconds before retry ``attempt + 1``: exponential, capped, with jitter in its upper half
    (so receivers coming back are not hit by every worker at the same instant)."""
    ceiling = min(policy.max_delay, policy.base_delay * 2.0 ** max(0, attempt - 1))
    return ceiling * (0.5 + rng.random() / 2)


def decide(claim: Claim, outcome: Outcome, now: int, policy: DeliveryPolicy,
           rng: random.Random) -> Result:  # fmt: skip
    """What one attempt's outcome makes of its delivery: delivered, failed for good, or
    pending again at a time within its budget."""
    number = claim.attempts + 1
    error = None if outcome.error is None else outcome.error[:MAX_ERROR]
    record = AttemptRecord(number, now, outcome.ok, outcome.status_code, error,
                           outcome.evidence_url, outcome.duration_ms)  # fmt: skip
    if outcome.ok:
        return Result(claim, record, DeliveryState.DELIVERED, now)
    if outcome.retry == Retry.NO:
        return Result(claim, record, DeliveryState.FAILED, now)
    if outcome.retry == Retry.AFTER and outcome.retry_after is not None:
        delay = min(max(outcome.retry_after, 0.0), policy.max_retry_after)
    else:
        delay = backoff(number - claim.budget_attempts, policy, rng)
    next_time = now + int(delay * SECOND)
    spent = number - claim.budget_attempts >= policy.max_attempts
    too_old = next_time - claim.budget_time > int(policy.max_age * SECOND)
    if spent or too_old:
        why = f"after {number - claim.budget_attempts} attempts" if spent else "at its age limit"
        gave_up = f"gave up {why}: {error or 'no answer'}"[:MAX_ERROR]
        record = AttemptRecord(number, now, False, outcome.status_code, gave_up,
                               None, outcome.duration_ms)  # fmt: skip
        return Result(claim, record, DeliveryState.FAILED, now)
    return Result(claim, record, DeliveryState.PENDING, next_time)


def timeline_of(results: Sequence[Result], now: int) -> list[CaseEvent]:
    """``notificationSent`` for each delivery delivered, ``notificationFailed`` for each given
    up: the request id is the notification's id, the token the delivery's (docs)."""
    out: list[CaseEvent] = []
    for r in results:
        c = r.claim
        payload: t.TimelineEvent
        if r.state == DeliveryState.DELIVERED:
            payload = t.NotificationSent(request_id=c.notification_id, tokens=(c.id,))
        elif r.state == DeliveryState.FAILED:
            why = r.record.error or "failed"
            payload = t.NotificationFailed(error=f"{c.connector_name}: {why}"[:MAX_ERROR])
        else:
            continue
        out.append(CaseEvent(event_id=uuid7(now), case_id=c.case_id, space_id=c.space_id,
                             data=payload, actor=Actor.system(), create_time=now,
                             event_time=now))  # fmt: skip
    return out


@dataclass
class WorkerStats:
    routed: int = 0
    attempts: int = 0
    delivered: int = 0
    failed: int = 0
    retried: int = 0
    lost_leases: int = 0
    extra: dict[str, int] = field(default_factory=dict)


class DeliveryWorker:
    def __init__(
        self,
        ctx: ServiceContext,
        secrets: SecretBox,
        deliverers: DelivererFactory,
        policy: DeliveryPolicy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.ctx = ctx
        self.secrets = secrets
        self.deliverers = deliverers
        self.policy = policy or DeliveryPolicy()
        self.router = Router(ctx)
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self.stats = WorkerStats()
        self._last_prune = 0.0

    # -- one pass --------------------------------------------------------------------------

    def claim(self) -> tuple[list[Claim], dict[str, Connector]]:
        now = self.ctx.clock()
        lease_until = now + int(self.policy.lease * SECOND)
        with self.ctx.db.writer() as uow:
            claims = uow.ledger.claim(now, self.policy.batch, lease_until, uuid7(now))
            connectors = uow.connectors.by_ids([c.connector_id for c in claims])
            uow.commit()
        return claims, connectors

    async def send(self, deliverer: Deliverer, claims: Sequence[Claim],
                   connectors: dict[str, Connector]) -> list[Outcome | None]:  # fmt: skip
        """Each claim's outcome; None for one not attempted because its lease would end while
        it was in flight (a slow receiver holding up the batch)."""
        gate = asyncio.Semaphore(self.policy.concurrency)
        secrets: dict[str, str | SecretUnavailable | None] = {}
        deadline = time.monotonic() + self.policy.lease - self.policy.timeout - 1.0

        async def one(claim: Claim) -> Outcome | None:
            conn = connectors.get(claim.connector_id)
            if conn is None:
                return Outcome(ok=False, error="the connector was deleted")
            if not conn.enabled:
                return Outcome(ok=False, error="the connector is disabled")
            if conn.id not in secrets:
                try:
                    secrets[conn.id] = self.secrets.open(conn.secret)
                except SecretUnavailable as exc:
                    secrets[conn.id] = exc
            secret = secrets[conn.id]
            if isinstance(secret, SecretUnavailable):
                return Outcome(ok=False, error=str(secret), retry=Retry.BACKOFF)
            env = Envelope(claim.id, claim.attempts + 1, conn, secret, claim.view)
            async with gate:
                if time.monotonic() > deadline:
                    return None
                try:
                    return await deliverer.deliver(env)
                except Exception as exc:  # a deliverer's bug must not lose the batch
                    log.exception("delivery %s: the deliverer failed", claim.id)
                    return Outcome(ok=False, error=f"internal error: {type(exc).__name__}",
                                   retry=Retry.BACKOFF)  # fmt: skip

        return list(await asyncio.gather(*(one(c) for c in claims)))

    def record(self, claims: Sequence[Claim], outcomes: Sequence[Outcome | None]) -> list[Result]:
        now = self.ctx.clock()
        pairs = list(zip(claims, outcomes, strict=True))
        results = [decide(c, o, now, self.policy, self.rng) for c, o in pairs if o is not None]
        with self.ctx.db.writer() as uow:
            uow.ledger.release([c for c, o in pairs if o is None])
            kept = uow.ledger.record(results, now)
            uow.events.add_many(timeline_of(kept, now))
            uow.commit()
        s = self.stats
        s.attempts += len(kept)
        s.lost_leases += len(results) - len(kept)
        for r in kept:
            if r.state == DeliveryState.DELIVERED:
                s.delivered += 1
            elif r.state == DeliveryState.FAILED:
                s.failed += 1
            else:
                s.retried += 1
        return kept

    async def pass_once(self, deliverer: Deliverer) -> int:
        """Route what is pending, then attempt one batch of due deliveries; the work done."""
        self.maybe_prune()
        if not self.has_work():  # a read: an idle worker never takes SQLite's write lock
            return 0
        # One batch of each per pass: a backlog of events to route never holds up deliveries
        # already due, nor the other way round.
        routed = self.router.route_batch(self.policy.batch * 2)
        self.stats.routed += routed
        claims, connectors = self.claim()
        if claims:
            outcomes = await self.send(deliverer, claims, connectors)
            self.record(claims, outcomes)
        return routed + len(claims)

    def has_work(self) -> bool:
        now = self.ctx.clock()
        with self.ctx.db.reader() as uow:
            return uow.outbox.has_pending() or uow.ledger.has_due(now)

    def maybe_prune(self) -> None:
        if time.monotonic() - self._last_prune < 60:
            return
        self._last_prune = time.monotonic()
        now = self.ctx.clock()
        with self.ctx.db.writer() as uow:
            outbox = uow.outbox.prune(now - int(self.policy.outbox_retention * SECOND))
            ledger = uow.ledger.prune(now - int(self.policy.ledger_retention * SECOND))
            uow.commit()
        if outbox or ledger:
            log.info("pruned %d outbox messages and %d notifications", outbox, ledger)

    # -- running ---------------------------------------------------------------------------

    async def run_async(self, stopping: threading.Event, *, until_idle: bool = False) -> None:
        deliverer = self.deliverers()
        away = False  # the database is down: said once, not at every pass
        try:
            while not stopping.is_set():
                try:
                    done = await self.pass_once(deliverer)
                    if away:
                        log.info("notification worker: the database is back")
                    away = False
                except Exception as exc:  # the database away for a moment: wait, then go on
                    fault = db_errors.translate(exc)
                    if fault is None:
                        log.exception("notification worker pass failed")
                    elif not away:
                        log.warning("notification worker waits: %s", fault.message)
                    away = fault is not None
                    done = 0
                if done == 0:
                    if until_idle:
                        return
                    await asyncio.sleep(self.policy.idle_wait)
        finally:
            await deliverer.aclose()

    def run(self, stopping: threading.Event, *, until_idle: bool = False) -> None:
        asyncio.run(self.run_async(stopping, until_idle=until_idle))


class DeliveryThread:
    """The worker inside ``casekeeper serve``: its own thread and event loop."""

    def __init__(self, worker: DeliveryWorker) -> None:
        self.worker = worker
        self.stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="casekeeper-notify", daemon=True)

    def _run(self) -> None:
        self.worker.run(self.stopping)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        self.stopping.set()
        self._thread.join(timeout)
