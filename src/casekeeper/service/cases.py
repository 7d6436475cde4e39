"""Case use cases: reads, and changes to one case or to many at once."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from casekeeper.domain import lifecycle
from casekeeper.domain.commands import CaseChange, CaseCommand
from casekeeper.domain.enums import CaseStatus
from casekeeper.domain.errors import CasekeeperError, ErrorCode, case_not_found, invalid, quote
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
from casekeeper.service.incident_effects import close_with_cases
from casekeeper.service.permissions import Permission, needed
from casekeeper.store.case_facets import filter_values, on_hold_count, status_counts
from casekeeper.store.case_list import list_cases, list_page
from casekeeper.store.replica import replica_read, written_by

# Renders a bulk operation's resulting cases (an adapter's response) while the transaction
# commits; see UnitOfWork.commit.
Renderer = Callable[[list[Case]], object]


@dataclass(frozen=True, slots=True)
class CasePage:
    cases: list[Case]
    after: str | None  # a token for the page after, if there is one
    before: str | None  # a token for the page before, if there is one


@dataclass(frozen=True, slots=True)
class BulkFailure:
    id: str
    code: ErrorCode
    message: str
    detail: Mapping[str, object] = field(default_factory=dict)  # CasekeeperError.detail

    @classmethod
    def of(cls, case_id: str, err: CasekeeperError) -> BulkFailure:
        return cls(case_id, err.code, err.message, err.detail)


@dataclass(frozen=True, slots=True)
class BulkResult:
    cases: list[Case]
    failures: list[BulkFailure]
    # What ``render`` returned for ``cases`` while the change committed; None if it did not
    # (nothing changed; no side thread free or the pool shut down; it failed): the adapter
    # then renders ``cases`` itself (see UnitOfWork.commit).
    rendered: object = None


READ = (Permission.CASE_READ,)


class CaseService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.db = ctx.db
        self.clock = ctx.clock

    # -- reads -------------------------------------------------------------------------------

    def get(self, p: Principal, raw_id: str, *, field: str = "id") -> Case:
        p.require(READ, "read cases")
        ref = v.case_ref(raw_id, field=field)
        return replica_read(self.db, p.user_id, lambda uow: uow.cases.require(p.space_id, ref))

    def get_many(
        self, p: Principal, raw_ids: Sequence[str], *, field: str = "ids"
    ) -> dict[str, Case]:
        """The cases ``raw_ids`` name (by the reference as given); unknown ones are left out."""
        p.require(READ, "read cases")
        refs = [v.case_ref(x, field=field) for x in raw_ids]
        return replica_read(self.db, p.user_id, lambda uow: uow.cases.get_many(p.space_id, refs))

    def list_cases(self, p: Principal, query: CaseQuery) -> tuple[list[Case], str | None]:
        p.require(READ, "read cases")
        query.check()
        now = self.clock()
        return replica_read(
            self.db, p.user_id, lambda uow: list_cases(uow.conn, p.space_id, query, now)
        )

    def list_page(self, p: Principal, query: CaseQuery, *, detail: bool = True) -> CasePage:
        """A page with tokens both ways (``query.page.backward`` reads the page before).
        Without ``detail``, the cases come without their signal detail (labels, groupings,
        entities, indicators, KPI breaches: empty), for lists that show none of it."""
        p.require(READ, "read cases")
        query.check()
        now = self.clock()
        found = replica_read(
            self.db,
            p.user_id,
            lambda uow: list_page(uow.conn, p.space_id, query, now, light=not detail),
        )
        return CasePage(*found)

    def filter_values(self, p: Principal, filters: CaseFilters) -> FilterValues:
        p.require(READ, "read cases")
        filters.check()
        return replica_read(
            self.db, p.user_id, lambda uow: filter_values(uow.conn, p.space_id, filters)
        )

    def status_counts(self, p: Principal, filters: CaseFilters) -> dict[CaseStatus, int]:
        """Cases per status under ``filters`` (their statuses ignored): Kibana's counts."""
        p.require(READ, "read cases")
        filters.check()
        return replica_read(
            self.db, p.user_id, lambda uow: status_counts(uow.conn, p.space_id, filters)
        )

    def on_hold_count(self, p: Principal, filters: CaseFilters) -> int:
        """Acknowledged cases on hold under ``filters`` (their statuses ignored)."""
        p.require(READ, "read cases")
        filters.check()
        return replica_read(
            self.db, p.user_id, lambda uow: on_hold_count(uow.conn, p.space_id, filters)
        )

    def count_by_status(self) -> list[tuple[str, CaseStatus, int]]:
        """Cases per (space, status) across the server, for operators (no principal)."""
        with self.db.reader() as uow:
            return uow.cases.count_by_status()

    def ping(self) -> None:
        """Raise if the database cannot answer (readiness)."""
        with self.db.reader() as uow:
            uow.spaces.get_id("")

    def grouping_keys(self, p: Principal) -> list[str]:
        p.require(READ, "read cases")
        return replica_read(self.db, p.user_id, lambda uow: uow.cases.grouping_keys(p.space_id))

    def get_by_prometheus_alert(self, p: Principal, fingerprint: str, started_at: int) -> Case:
        p.require(READ, "read cases")
        fp = v.text(fingerprint, field="indicator.fingerprint", max_len=256)
        at = started_at // 1_000_000
        found = replica_read(
            self.db, p.user_id, lambda uow: uow.cases.find_by_prometheus(p.space_id, fp, at)
        )
        if found is None:
            raise CasekeeperError(
                ErrorCode.INDICATOR_NOT_FOUND,
                f"no case holds a Prometheus alert with fingerprint {quote(fp)} "
                "started at that time",
            )
        return found

    # -- changes -------------------------------------------------------------------------------

    def change(self, p: Principal, change: CaseChange) -> Case:
        """Apply ``change``'s commands to its case: authorized, checked, all or nothing, in one
        transaction with the case's row locked. A repeat that changes nothing writes nothing."""
        commands = self._checked(p, change.commands)
        v.expected_version(change.expected_version)
        ref = v.case_ref(change.ref)
        with written_by(p.user_id), self.db.writer() as uow:
            case = locked_case(uow, p.space_id, ref)
            _check_version(case, change)
            now = self.clock()
            result = lifecycle.apply_all(case, commands, actor_kind=p.actor.kind, now=now)
            if not result.changed:
                return case
            save_locked(uow, case, result.case)
            record(uow, new_events(case, result.events, p.actor, now), now)
            close_with_cases(uow, [(case, result.case)], p.user_id, now)
            uow.commit()
            return result.case

    def change_many(
        self, p: Principal, changes: Sequence[CaseChange], *, render: Renderer | None = None
    ) -> BulkResult:
        """Apply each change to its case, in one transaction. A bad, unknown, stale or refused
        case is reported in ``failures`` and never stops the others; each case appears once
        in ``cases``. With ``render``, the resulting cases are rendered during the COMMIT
        (``rendered``)."""
        v.bulk_ids(changes)
        checked: dict[int, tuple[CaseCommand, ...]] = {}  # by identity: changes share tuples
        for change in changes:
            if id(change.commands) not in checked:
                checked[id(change.commands)] = self._checked(p, change.commands)
        failures: list[BulkFailure] = []
        todo: list[tuple[CaseRef, CaseChange]] = []
        for change in changes:
            try:
                v.expected_version(change.expected_version)
                todo.append((v.case_ref(change.ref, field="ids"), change))
            except CasekeeperError as err:
                failures.append(BulkFailure.of(change.ref, err))
        result = self._many_once(p, todo, checked, render)
        return BulkResult(result.cases, failures + result.failures, result.rendered)

    def _checked(self, p: Principal, commands: tuple[CaseCommand, ...]) -> tuple[CaseCommand, ...]:
        if not commands:
            raise invalid("give at least one change")
        p.require(needed(commands), "change a case" if len(commands) == 1 else "make this change")
        return tuple(v.command(c) for c in commands)

    def _many_once(
        self,
        p: Principal,
        todo: list[tuple[CaseRef, CaseChange]],
        checked: dict[int, tuple[CaseCommand, ...]],
        render: Renderer | None,
    ) -> BulkResult:
        failures: list[BulkFailure] = []
        out: list[Case] = []
        seen: dict[str, CaseChange] = {}
        pairs: list[tuple[Case, Case]] = []
        rendered: object = None
        kind = p.actor.kind
        with written_by(p.user_id), self.db.writer() as uow:
            found = uow.cases.get_many(p.space_id, [ref for ref, _ in todo], for_update=True)
            now = self.clock()
            events = []
            for ref, change in todo:
                case = found.get(ref.raw)
                if case is None:
                    err = case_not_found(ref.raw)
                    failures.append(BulkFailure.of(ref.raw, err))
                    continue
                first = seen.get(case.id)
                if first is not None:
                    # The same case named twice (a UUID and its readable id, say) is changed
                    # once; a second, different change to it is the caller's mistake.
                    if change.commands != first.commands:
                        failures.append(BulkFailure.of(ref.raw, _twice(case)))
                    continue
                seen[case.id] = change
                try:
                    _check_version(case, change)
                    result = lifecycle.apply_all(
                        case, checked[id(change.commands)], actor_kind=kind, now=now
                    )
                except CasekeeperError as err:
                    failures.append(BulkFailure.of(ref.raw, err))
                    continue
                if not result.changed:
                    out.append(case)
                    continue
                pairs.append((case, result.case))
                out.append(result.case)
                events.extend(new_events(case, result.events, p.actor, now))
            if pairs:
                if not uow.cases.save_many(pairs):  # its rows are locked: cannot happen
                    raise AssertionError("a case changed while its row was locked")
                record(uow, events, now)
                close_with_cases(uow, pairs, p.user_id, now)
                rendered = uow.commit(None if render is None else lambda: render(out))
        return BulkResult(out, failures, rendered)


def _twice(case: Case) -> CasekeeperError:
    return invalid(
        f"case {case.readable_id or case.id} has a different change earlier in this call; "
        "send one change per case"
    )


def _check_version(case: Case, change: CaseChange) -> None:
    expected = change.expected_version
    if expected is not None and expected != case.version:
        raise CasekeeperError(
            ErrorCode.CONFLICT,
            f"case {case.readable_id or case.id} is at version {case.version}, not {expected}: "
            "it changed since you read it; read it again and retry",
            field="version",
            detail={"version": case.version, "expected": expected},
        )
