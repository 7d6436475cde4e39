"""GetFilterValues at scale: service-layer time (in process, what the gRPC and REST handlers
and the web console's facet sidebar call) over the big dataset, under the filters a queue
uses, against the full-scan GROUP BY it replaced (kept below, here only, as the baseline).

Filters: none; broad (the open statuses); one priority (P2); one assignee (the busiest);
unassigned; a label (region=eu-west-1, about a quarter of the cases); a text search
("checkout"); a time range (created in the last 30 days); a combination (ACTIVE or
ACKNOWLEDGED, P1 or P2, label tier=backend, text "latency"); and, beside them, the alert-id
facet with no filter (GetFilterValues with ``alertFilters`` present).

Per repetition the filters take turns (interleaved); the baseline runs ``--baseline-reps``
times per filter, in the same run on the same engine. Reported per filter: median and p95 of
the new path, the baseline's median, the ratio, whether the answer is exact or an estimate,
and for estimates how far they are from the baseline's exact counts (the matching total, and
the largest error of any facet count, both as a share of the exact matching total).
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from common import SPACE, machine_info, step_args, summary_ms, wait_idle, write_result
from dataset import DAY, T_END, ensure

from casekeeper.domain.enums import CasePriority, CaseStatus, DateRangeMode
from casekeeper.domain.query import CaseFilters, DateRange, FilterGroup, FilterValues
from casekeeper.store import tags
from casekeeper.store.case_filters import filter_clauses
from casekeeper.store.case_rows import CATEGORY_OF, PRIORITY_OF, STATUS_OF
from casekeeper.store.schema import case as c
from casekeeper.store.schema import case_tag as t

S, P = CaseStatus, CasePriority
OPEN = (S.PENDING_ACTIVATION, S.ACTIVE, S.ACKNOWLEDGED)


def filters(busiest: str) -> dict[str, CaseFilters]:
    return {
        "none": CaseFilters(),
        "broad (open statuses)": CaseFilters(statuses=OPEN),
        "one priority (P2)": CaseFilters(priorities=(P.P2,)),
        "one assignee": CaseFilters(assignees=(busiest,)),
        "unassigned": CaseFilters(include_unassigned=True),
        "label region=eu-west-1": CaseFilters(labels=(FilterGroup("region", ("eu-west-1",)),)),
        "text 'checkout'": CaseFilters(text_search="checkout"),
        "created in the last 30 days": CaseFilters(
            date_range=DateRange(T_END - 30 * DAY, T_END, DateRangeMode.CREATED_AT)
        ),
        "combination": CaseFilters(
            statuses=(S.ACTIVE, S.ACKNOWLEDGED),
            priorities=(P.P1, P.P2),
            labels=(FilterGroup("tier", ("backend",)),),
            text_search="latency",
        ),
        "alert-id facet, no filter": CaseFilters(alert_filters_present=True),
    }


# -- the baseline: GetFilterValues before the tallies (store/case_facets.py at 0ae89e6) ------

MAX_BUCKETS = 1000


def old_filter_values(conn: sa.Connection, space_id: int, f: CaseFilters) -> FilterValues:
    where = [c.c.space_id == space_id, *filter_clauses(f)]
    priorities: dict[Any, int] = defaultdict(int)
    categories: dict[Any, int] = defaultdict(int)
    statuses: dict[Any, int] = defaultdict(int)
    cnt = sa.func.count().label("n")
    grouped = (
        sa.select(c.c.status, c.c.priority, c.c.category, c.c.assignee, cnt)
        .where(*where)
        .group_by(c.c.status, c.c.priority, c.c.category, c.c.assignee)
    )
    assigned: dict[str, int] = defaultdict(int)
    unassigned = 0
    for status, priority, category, assignee, n in conn.execute(grouped):
        statuses[STATUS_OF[status]] += n
        priorities[PRIORITY_OF[priority]] += n
        categories[CATEGORY_OF[category]] += n
        if assignee is None:
            unassigned += n
        else:
            assigned[assignee] += n
    top = sorted(assigned.items(), key=lambda item: (-item[1], item[0]))[:MAX_BUCKETS]
    unfiltered = f == CaseFilters()

    def tag_counts(kind: str) -> dict[str, dict[str, int]]:
        source = t if unfiltered else t.join(c, c.c.id == t.c.case_id)
        scope = [t.c.space_id == space_id] if unfiltered else where
        stmt = (
            sa.select(t.c.key, t.c.value, cnt)
            .select_from(source)
            .where(t.c.kind == kind, *scope)
            .group_by(t.c.key, t.c.value)
            .order_by(t.c.key, cnt.desc(), t.c.value)
        )
        out: dict[str, dict[str, int]] = {}
        for row in conn.execute(stmt):
            values = out.get(row.key)
            if values is None:
                if len(out) >= MAX_BUCKETS:
                    continue
                values = out[row.key] = {}
            if len(values) < MAX_BUCKETS:
                values[row.value] = row.n
        return out

    alert_ids: dict[str, int] = {}
    if f.alert_filters_present:
        alert_ids = dict(tag_counts(tags.ALERT_ID).get("", {}))
    return FilterValues(
        priorities=dict(priorities), categories=dict(categories), statuses=dict(statuses),
        groupings=tag_counts(tags.GROUPING), labels=tag_counts(tags.LABEL),
        alert_ids=alert_ids, assignees=dict(top), unassigned=unassigned,
    )  # fmt: skip


# -- accuracy ---------------------------------------------------------------------------------


def buckets(fv: FilterValues) -> dict[str, int]:
    out: dict[str, int] = {"unassigned": fv.unassigned}
    for name in ("priorities", "categories", "statuses", "assignees", "alert_ids"):
        out.update({f"{name}:{k}": n for k, n in getattr(fv, name).items()})
    for name in ("groupings", "labels"):
        for key, values in getattr(fv, name).items():
            out.update({f"{name}:{key}={v}": n for v, n in values.items()})
    return out


def accuracy(got: FilterValues, exact: FilterValues) -> dict[str, Any]:
    total = sum(exact.statuses.values())
    a, b = buckets(got), buckets(exact)
    worst = max((abs(a.get(k, 0) - b.get(k, 0)) for k in a.keys() | b.keys()), default=0)
    return {
        "exact_matching": total,
        "matching": got.matching,
        "matching_error_pct": round(100 * abs((got.matching or 0) - total) / total, 2)
        if total
        else 0.0,
        "worst_bucket_error_pct": round(100 * worst / total, 2) if total else 0.0,
        "identical": a == b,
    }


# -- timing -----------------------------------------------------------------------------------


def run(ds: Any, reps: int, baseline_reps: int) -> dict[str, Any]:
    c = ds.container()
    p = ds.principal(c)
    with c.db.reader() as uow:
        busiest = uow.conn.execute(
            sa.text("SELECT assignee FROM case_assignee_tally WHERE space_id = :s "
                    "GROUP BY assignee ORDER BY sum(n) DESC, assignee LIMIT 1"),
            {"s": p.space_id},
        ).scalar_one()  # fmt: skip
    fs = filters(busiest)
    for f in fs.values():  # warm the caches and the statement cache
        c.cases.filter_values(p, f)
    wait_idle()
    new: dict[str, list[int]] = {k: [] for k in fs}
    for _ in range(reps):
        for name, f in fs.items():
            t0 = time.perf_counter_ns()
            c.cases.filter_values(p, f)
            new[name].append(time.perf_counter_ns() - t0)
    old: dict[str, list[int]] = {k: [] for k in fs}
    exact: dict[str, FilterValues] = {}
    for _ in range(baseline_reps):
        for name, f in fs.items():
            with c.db.reader() as uow:
                t0 = time.perf_counter_ns()
                exact[name] = old_filter_values(uow.conn, p.space_id, f)
                old[name].append(time.perf_counter_ns() - t0)
    out: dict[str, Any] = {}
    for name, f in fs.items():
        got = c.cases.filter_values(p, f)
        n, o = summary_ms(new[name]), summary_ms(old[name])
        out[name] = {
            "new": n,
            "baseline": o,
            "ratio": round(o["median_ms"] / n["median_ms"], 1),
            "estimated": got.estimated,
            "sampled": got.sampled,
            **accuracy(got, exact[name]),
        }
        flag = f"estimate of {got.sampled}" if got.estimated else "exact"
        line = f"  {name:30s} {n['median_ms']:7.1f} ms (p95 {n['p95_ms']:6.1f})  baseline "
        print(line + f"{o['median_ms']:8.1f} ms  x{out[name]['ratio']:<7}  {flag}", flush=True)
    c.close()
    return out


def main() -> None:
    ap = step_args(__doc__)
    ap.add_argument("--reps", type=int, default=40, help="repetitions of the new path")
    ap.add_argument("--baseline-reps", type=int, default=3, help="of the full-scan baseline")
    a = ap.parse_args()
    ds = ensure(a.backend, a.size, a.seed)
    print(f"GetFilterValues on {ds.backend}, {ds.size:,} cases (space {SPACE})", flush=True)
    result = {
        "backend": ds.backend,
        "dataset": {k: v for k, v in ds.meta.items() if k != "key"},
        "reps": a.reps,
        "baseline_reps": a.baseline_reps,
        "machine": machine_info(),
        "filters": run(ds, a.reps, a.baseline_reps),
    }
    write_result(a.out, "facets", result)


if __name__ == "__main__":
    main()
