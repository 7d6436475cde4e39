"""Reading the delivery ledger, and replaying a delivery that failed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from casekeeper.domain.errors import CasekeeperError, ErrorCode, invalid, quote
from casekeeper.domain.model import parse_case_ref
from casekeeper.domain.notifications import DeliveryState
from casekeeper.domain.notify_ledger import DeliveryRecord, NotificationRecord
from casekeeper.service import validation as v
from casekeeper.service.auth import Principal
from casekeeper.service.context import ServiceContext
from casekeeper.service.notify_config import MANAGE
from casekeeper.service.permissions import Permission

READ_CASES: Final = (Permission.CASE_READ,)
MAX_CASES = 1000
MAX_PER_CASE = 1000  # the spec's bound on one case's deliveries


def delivery_not_found(ref: str) -> CasekeeperError:
    return CasekeeperError(ErrorCode.DELIVERY_NOT_FOUND, f"Delivery not found: {quote(ref)}")


class LedgerService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def for_cases(
        self, p: Principal, case_ids: Sequence[str]
    ) -> dict[str, list[NotificationRecord]]:
        """Each case's notifications, newest last, keyed by the id exactly as given (UUID or
        readable). An id that names no case of this space gets an empty list, not an error:
        the caller learns nothing about other spaces' cases."""
        p.require(READ_CASES, "read notification deliveries")
        if not case_ids or len(case_ids) > MAX_CASES:
            raise invalid(f"give 1 to {MAX_CASES} case ids (got {len(case_ids)})",
                          field="case_ids")  # fmt: skip
        for i, raw in enumerate(case_ids):
            if not 0 < len(raw) <= v.MAX_ID:
                raise invalid(f"a case id is 1 to {v.MAX_ID} characters", field=f"case_ids[{i}]")
        out: dict[str, list[NotificationRecord]] = {raw: [] for raw in case_ids}
        refs = {raw: parse_case_ref(raw) for raw in case_ids}
        with self.ctx.db.reader() as uow:
            found = uow.cases.get_many(p.space_id, [r for r in refs.values() if r is not None])
            by_case: dict[str, list[str]] = {}
            for raw, case in found.items():
                by_case.setdefault(case.id, []).append(raw)
            records = uow.ledger.for_cases(p.space_id, list(by_case))
        for rec in records:
            for raw in by_case.get(rec.case_id, ()):
                if len(out[raw]) < MAX_PER_CASE:
                    out[raw].append(rec)
        return out

    def backlog(self) -> tuple[int, int]:
        """(outbox messages not yet routed, deliveries not yet finished) across the server,
        for operators' gauges (no principal)."""
        with self.ctx.db.reader() as uow:
            return uow.outbox.pending_count(), uow.ledger.due_count()

    def delivery(self, p: Principal, delivery_id: str) -> DeliveryRecord:
        p.require(READ_CASES, "read notification deliveries")
        with self.ctx.db.reader() as uow:
            found = uow.ledger.delivery(p.space_id, delivery_id.strip().lower())
        if found is None:
            raise delivery_not_found(delivery_id)
        return found

    def replay(self, p: Principal, delivery_id: str) -> DeliveryRecord:
        """Send a failed delivery again, with a fresh retry budget and the same idempotency
        key (the receiver never accepted it)."""
        p.require(MANAGE, "replay a delivery")
        key = delivery_id.strip().lower()
        with self.ctx.db.writer() as uow:
            found = uow.ledger.delivery(p.space_id, key)
            if found is None:
                raise delivery_not_found(delivery_id)
            if found.state != DeliveryState.FAILED:
                raise CasekeeperError(
                    ErrorCode.NOT_REPLAYABLE,
                    f"delivery {quote(delivery_id)} is {found.state.value}; only a failed "
                    "delivery can be replayed",
                )
            uow.ledger.replay(key, self.ctx.clock())
            after = uow.ledger.delivery(p.space_id, key)
            uow.commit()
        assert after is not None
        return after
