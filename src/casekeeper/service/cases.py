"""Case use cases: reads, single-case operations and bulk operations."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from casekeeper.domain import lifecycle
from casekeeper.domain.enums import CaseStatus
from casekeeper.domain.errors import CasekeeperError, ErrorCode, case_not_found, quote
from casekeeper.domain.lifecycle import Change, Operation
from casekeeper.domain.model import Case, CaseRef
from casekeeper.domain.query import CaseFilters, CaseQuery, FilterValues
from casekeeper.service import validation as v
from casekeeper.service.auth import Principal
from casekeeper.service.context import (
    ServiceContext,
    locked_case,
    new_events,
    record,
    save_locked,
)
from casekeeper.store.case_facets import filter_values
from casekeeper.store.case_list import list_cases

Apply = Callable[[Case, int], Change]
# Renders a bulk operation's resulting cases (an adapter's response) while the transaction
# commits; see UnitOfWork.commit.
Renderer = Callable[[list[Case]], object]


@dataclass(frozen=True, slots=True)
class BulkFailure:
    id: str
    code: ErrorCode
    message: str


@dataclass(frozen=True, slots=True)
class BulkResult:
    cases: list[Case]
    failures: list[BulkFailure]
    # What ``render`` returned for ``cases`` while the change committed; None if it did not
    # (nothing changed; no side thread free or the pool shut down; it failed): the adapter
    # then renders ``cases`` itself (see UnitOfWork.commit).
    rendered: object = None


class CaseService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.db = ctx.db
        self.clock = ctx.clock

    # -- reads -------------------------------------------------------------------------------

    def get(self, p: Principal, raw_id: str, *, field: str = "id") -> Case:
        ref = v.case_ref(raw_id, field=field)
        with self.db.reader() as uow:
            found = uow.cases.get(p.space_id, ref)
        if found is None:
            raise case_not_found(raw_id)
        return found

    def list_cases(self, p: Principal, query: CaseQuery) -> tuple[list[Case], str | None]:
        query.filters.check_limits()
        with self.db.reader() as uow:
            return list_cases(uow.conn, p.space_id, query, self.clock())

    def filter_values(self, p: Principal, filters: CaseFilters) -> FilterValues:
        filters.check_limits()
        with self.db.reader() as uow:
            return filter_values(uow.conn, p.space_id, filters)

    def count_by_status(self) -> list[tuple[str, CaseStatus, int]]:
        """Cases per (space, status) across the server, for operators (no principal)."""
        with self.db.reader() as uow:
            return uow.cases.count_by_status()

    def ping(self) -> None:
        """Raise if the database cannot answer (readiness)."""
        with self.db.reader() as uow:
            uow.spaces.get_id("")

    def grouping_keys(self, p: Principal) -> list[str]:
        with self.db.reader() as uow:
            return uow.cases.grouping_keys(p.space_id)

    def get_by_prometheus_alert(self, p: Principal, fingerprint: str, started_at: int) -> Case:
        fp = v.text(fingerprint, field="prometheusAlert.fingerprint", max_len=256)
        with self.db.reader() as uow:
            found = uow.cases.find_by_prometheus(p.space_id, fp, started_at // 1_000_000)
        if found is None:
            raise CasekeeperError(
                ErrorCode.INDICATOR_NOT_FOUND,
                f"no case holds a Prometheus alert with fingerprint {quote(fp)} "
                "started at that time",
            )
        return found

    # -- single-case operations ----------------------------------------------------------------

    def mutate(self, p: Principal, raw_id: str, apply: Apply) -> Case:
        """Load with the row locked, apply, write, record events: one transaction."""
        ref = v.case_ref(raw_id)
        with self.db.writer() as uow:
            case = locked_case(uow, p.space_id, ref)
            now = self.clock()
            change = apply(case, now)
            if not change.changed:
                return case
            save_locked(uow, case, change.case)
            record(uow, new_events(case, change.events, p.actor, now), now)
            uow.commit()
            return change.case

    def transition(
        self, p: Principal, raw_id: str, op: Operation, reason: str | None = None
    ) -> Case:
        kind = p.actor.kind
        return self.mutate(
            p,
            raw_id,
            lambda c, now: lifecycle.transition(c, op, actor_kind=kind, now=now, reason=reason),
        )

    def acknowledge(self, p: Principal, raw_id: str) -> Case:
        return self.transition(p, raw_id, Operation.ACKNOWLEDGE)

    def unacknowledge(self, p: Principal, raw_id: str) -> Case:
        return self.transition(p, raw_id, Operation.UNACKNOWLEDGE)

    def resolve(self, p: Principal, raw_id: str, reason: str | None) -> Case:
        reason = v.optional_text(reason, field="reason", max_len=500)
        return self.transition(p, raw_id, Operation.RESOLVE, reason)

    def close(self, p: Principal, raw_id: str) -> Case:
        return self.transition(p, raw_id, Operation.CLOSE)

    def assign(self, p: Principal, raw_id: str, user_id: str) -> Case:
        uid = v.user_id(user_id)
        return self.mutate(p, raw_id, lambda c, now: lifecycle.assign(c, uid, now=now))

    def unassign(self, p: Principal, raw_id: str) -> Case:
        return self.mutate(p, raw_id, lambda c, now: lifecycle.unassign(c, now=now))

    def set_priority_override(self, p: Principal, raw_id: str, priority: int) -> Case:
        prio = v.priority(priority)
        return self.mutate(
            p, raw_id, lambda c, now: lifecycle.set_priority_override(c, prio, now=now)
        )

    def clear_priority_override(self, p: Principal, raw_id: str) -> Case:
        return self.mutate(p, raw_id, lambda c, now: lifecycle.clear_priority_override(c, now=now))

    def update(
        self, p: Principal, raw_id: str, *, title: str | None, resolution_reason: str | None
    ) -> Case:
        t = v.optional_text(title, field="patch.title", max_len=512)
        r = v.optional_text(resolution_reason, field="patch.resolutionReason", max_len=500)
        return self.mutate(
            p, raw_id, lambda c, now: lifecycle.update(c, title=t, resolution_reason=r, now=now)
        )

    # -- bulk operations -----------------------------------------------------------------------

    def bulk(
        self, p: Principal, raw_ids: Sequence[str], apply: Apply, render: Renderer | None = None
    ) -> BulkResult:
        """Apply to many cases in one transaction. A bad, unknown or refused id is reported in
        ``failures`` and never stops the others; each case appears once in ``cases``. With
        ``render``, the resulting cases are rendered during the COMMIT (``rendered``)."""
        ids = v.bulk_ids(raw_ids)
        failures: list[BulkFailure] = []
        refs: list[CaseRef] = []
        for raw in ids:
            try:
                refs.append(v.case_ref(raw, field="ids"))
            except CasekeeperError as err:
                failures.append(BulkFailure(raw, err.code, err.message))
        result = self._bulk_once(p, refs, apply, render)
        return BulkResult(result.cases, failures + result.failures, result.rendered)

    def _bulk_once(
        self, p: Principal, refs: list[CaseRef], apply: Apply, render: Renderer | None
    ) -> BulkResult:
        failures: list[BulkFailure] = []
        out: list[Case] = []
        seen: set[str] = set()
        pairs: list[tuple[Case, Case]] = []
        rendered: object = None
        with self.db.writer() as uow:
            found = uow.cases.get_many(p.space_id, refs, for_update=True)
            now = self.clock()
            events = []
            for ref in refs:
                case = found.get(ref.raw)
                if case is None:
                    err = case_not_found(ref.raw)
                    failures.append(BulkFailure(ref.raw, err.code, err.message))
                    continue
                if case.id in seen:
                    continue
                seen.add(case.id)
                try:
                    change = apply(case, now)
                except CasekeeperError as err:
                    failures.append(BulkFailure(ref.raw, err.code, err.message))
                    continue
                if not change.changed:
                    out.append(case)
                    continue
                pairs.append((case, change.case))
                out.append(change.case)
                events.extend(new_events(case, change.events, p.actor, now))
            if pairs:
                if not uow.cases.save_many(pairs):  # its rows are locked: cannot happen
                    raise AssertionError("a case changed while its row was locked")
                record(uow, events, now)
                rendered = uow.commit(None if render is None else lambda: render(out))
        return BulkResult(out, failures, rendered)

    def bulk_transition(
        self,
        p: Principal,
        raw_ids: Sequence[str],
        op: Operation,
        reason: str | None = None,
        *,
        render: Renderer | None = None,
    ) -> BulkResult:
        kind = p.actor.kind
        return self.bulk(
            p,
            raw_ids,
            lambda c, now: lifecycle.transition(c, op, actor_kind=kind, now=now, reason=reason),
            render,
        )

    def bulk_resolve(
        self,
        p: Principal,
        raw_ids: Sequence[str],
        reason: str | None,
        *,
        render: Renderer | None = None,
    ) -> BulkResult:
        reason = v.optional_text(reason, field="reason", max_len=4096)
        return self.bulk_transition(p, raw_ids, Operation.RESOLVE, reason, render=render)

    def bulk_assign(
        self, p: Principal, raw_ids: Sequence[str], user_id: str, *, render: Renderer | None = None
    ) -> BulkResult:
        uid = v.user_id(user_id)
        return self.bulk(p, raw_ids, lambda c, now: lifecycle.assign(c, uid, now=now), render)

    def bulk_unassign(
        self, p: Principal, raw_ids: Sequence[str], *, render: Renderer | None = None
    ) -> BulkResult:
        return self.bulk(p, raw_ids, lambda c, now: lifecycle.unassign(c, now=now), render)

    def bulk_set_priority_override(
        self, p: Principal, raw_ids: Sequence[str], priority: int, *, render: Renderer | None = None
    ) -> BulkResult:
        prio = v.priority(priority)
        return self.bulk(
            p, raw_ids, lambda c, now: lifecycle.set_priority_override(c, prio, now=now), render
        )

    def bulk_clear_priority_override(
        self, p: Principal, raw_ids: Sequence[str], *, render: Renderer | None = None
    ) -> BulkResult:
        return self.bulk(
            p, raw_ids, lambda c, now: lifecycle.clear_priority_override(c, now=now), render
        )
