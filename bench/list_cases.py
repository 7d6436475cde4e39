"""ListCases on the big dataset: service-layer time (in process) and gRPC end-to-end latency.

Queries (order UPDATED_AT descending, page of 50):

* broad  - statuses RESOLVED+CLOSED, priorities P3+P4, grouping environment=production
* narrow - status ACTIVE, priority P1, grouping environment=production
* rare   - like broad but grouping service=<rarest of 20 services> (about 1.4 % of cases)

Each is timed at page 1 and at a deep page (page ``--depth`` = 2000, reached by walking the
page tokens through the service layer; for filters with fewer pages, the last page). The
baseline, in the same run and on the same connection pool, is a raw keyset page through the
engine's raw DBAPI connection: ``SELECT * FROM "case" WHERE space_id=? ORDER BY create_time DESC,
id DESC LIMIT 50`` (first page and at depth 100k; by creation time, which has an index of its
own, where update time is indexed only per status and priority). "sql" rows execute exactly
the SQL the store issued, through the raw connection, to split database time from Python time.

On PostgreSQL, "noprep" rows run the same service on a second engine whose psycopg connections
cannot prepare statements server-side (a what-if: every page is planned when it runs, which
is what the store did before list pages were prepared with their filter values written in).

Variants take turns inside each repetition (interleaved) in three groups measured one after
the other: the main queries (baselines, broad, narrow and their "sql" rows), the rare filter,
and the what-if engine; a rare page between two timed main queries made them up to twice as
slow on PostgreSQL. Results are medians and p95 (queries slower than 20 ms are sampled less
often, see ``skip``).
Python's garbage-collector pauses during the timed loop are recorded too.
"""

from __future__ import annotations

import cProfile
import gc
import io
import pstats
import re
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from common import (
    HOST,
    ROOT,
    SPACE,
    CpuWindow,
    free_port,
    list_page,
    machine_info,
    serve_argv,
    server_process,
    step_args,
    summary_ms,
    wait_idle,
    write_result,
)
from dataset import FILTERS, Dataset, SqlCapture, ensure, explain, list_request, query

from casekeeper.runner import freeze_startup_heap
from casekeeper.store.engine import is_sqlite


def walk(c: Any, p: Any, name: str, depth: int) -> dict[str, Any]:
    """Follow page tokens from page 1; return the token of page ``depth`` (or the last page)."""
    f = FILTERS[name]
    token: str | None = None
    tokens: list[str | None] = [None]
    t0 = time.perf_counter()
    while len(tokens) < depth:
        _, token = list_page(c, p, query(f, token))
        if token is None:
            break
        tokens.append(token)
    return {
        "page": len(tokens),
        "token": tokens[-1],
        "walk_seconds": round(time.perf_counter() - t0, 2),
    }


class Raw:
    """The baseline: a raw keyset page through the engine's raw DBAPI connection, by creation
    time (``ix_case_space_create``; update time has no index of its own since the store's
    third migration)."""

    def __init__(self, c: Any, space_id: int) -> None:
        self.sqlite = is_sqlite(c.db.engine.url)
        self.conn = c.db.engine.raw_connection()
        if not self.sqlite:
            self.conn.driver_connection.autocommit = True
        self.ph = "?" if self.sqlite else "%s"
        self.space_id = space_id
        cur = self.conn.cursor()
        cur.execute(f'SELECT count(*) FROM "case" WHERE space_id = {self.ph}', (space_id,))
        self.depth = max(0, min(100_000, cur.fetchone()[0] - 51))
        cur.execute(
            f'SELECT create_time, id FROM "case" WHERE space_id = {self.ph} '
            f"ORDER BY create_time DESC, id DESC LIMIT 1 OFFSET {self.depth}",
            (space_id,),
        )
        row = cur.fetchone()
        self.deep = tuple(row) if row else (0, "")

    def page(self, deep: bool) -> int:
        ph = self.ph
        cur = self.conn.cursor()
        if deep:
            cur.execute(
                f'SELECT * FROM "case" WHERE space_id = {ph} AND (create_time, id) < ({ph}, {ph}) '
                f"ORDER BY create_time DESC, id DESC LIMIT 50",
                (self.space_id, *self.deep),
            )
        else:
            cur.execute(
                f'SELECT * FROM "case" WHERE space_id = {ph} '
                f"ORDER BY create_time DESC, id DESC LIMIT 50",
                (self.space_id,),
            )
        return len(cur.fetchall())

    def exact(self, sql: str, params: Any) -> int:
        cur = self.conn.cursor()
        if self.sqlite:
            cur.execute(sql, params)
        else:  # as the store runs list pages: never a server-side prepared statement
            cur.execute(sql, params, prepare=False)
        return len(cur.fetchall())

    def close(self) -> None:
        if self.sqlite:
            self.conn.close()
        else:
            self.conn.invalidate()


def skip(done: list[int], rep: int) -> bool:
    """Sample slow queries less often, so a pathological one cannot eat the time budget:
    after 5 samples, a query with a median over 20 ms runs every 5th repetition, over 200 ms
    every 25th (the median and p95 then rest on fewer samples; ``n`` shows how many)."""
    if len(done) < 5:
        return False
    med = sorted(done)[len(done) // 2]
    if med > 200_000_000:
        return rep % 25 != 0
    if med > 20_000_000:
        return rep % 5 != 0
    return False


def profile_top(fn: Callable[[], Any], n: int, lines: int = 18) -> str:
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(n):
        fn()
    prof.disable()
    return stats_text(prof, lines)


def stats_text(prof: cProfile.Profile, lines: int) -> str:
    """The top of a profile by own time, with paths shortened."""
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(lines)
    text = out.getvalue()
    start = text.find("   ncalls")
    text = text[start:].rstrip() if start >= 0 else text
    for prefix in (str(ROOT) + "/.venv/lib/python3.11/site-packages/", str(ROOT) + "/src/"):
        text = text.replace(prefix, "")
    return re.sub(r"/\S*/lib/python3\.\d+/", "stdlib/", text)


def run_service(ds: Dataset, reps: int, depth: int, what_if: bool = True) -> dict[str, Any]:
    c = ds.container()
    p = ds.principal(c)
    try:
        walks = {name: walk(c, p, name, depth) for name in ("broad", "narrow")}
        walks["rare"] = walk(c, p, "rare", min(depth, 20))
        print(f"  walked: { {k: v['page'] for k, v in walks.items()} }", flush=True)
        freeze_startup_heap()  # as `casekeeper serve` does before serving
        plans: dict[str, str] = {}
        sql: dict[str, tuple[str, Any]] = {}
        for name in ("broad", "narrow", "rare"):
            for where in ("p1", "deep"):
                token = walks[name]["token"] if where == "deep" else None
                q = query(FILTERS[name], token)
                with SqlCapture(c.db.engine) as cap:
                    list_page(c, p, q)
                sql[f"{name}_{where}"] = cap.statements[-1]
                if name != "rare" or where == "p1":
                    plans[f"{name}_{where}"] = explain(c, p, q, analyze=True)
        raw = Raw(c, p.space_id)
        calls: dict[str, Callable[[], Any]] = {
            "raw_p1": lambda: raw.page(False),
            "raw_deep": lambda: raw.page(True),
        }
        for name in ("broad", "narrow", "rare"):
            for where in ("p1", "deep"):
                token = walks[name]["token"] if where == "deep" else None
                q = query(FILTERS[name], token)
                calls[f"{name}_{where}"] = lambda q=q: list_page(c, p, q)
                if name != "rare":
                    s, params = sql[f"{name}_{where}"]
                    calls[f"{name}_{where}_sql"] = lambda s=s, params=params: raw.exact(s, params)
        c2 = None
        if not raw.sqlite and what_if:
            # What-if: the same service on an engine whose psycopg connections cannot prepare
            # statements server-side, so every page is planned when it runs.
            c2 = ds.container()
            sa.event.listen(c2.db.engine, "connect", _no_prepare)
            for name in ("broad", "narrow"):
                for where in ("p1", "deep"):
                    token = walks[name]["token"] if where == "deep" else None
                    q = query(FILTERS[name], token)
                    calls[f"{name}_{where}_noprep"] = lambda q=q: list_page(c2, p, q)
        for fn in calls.values():  # warm caches (pages, statement cache)
            for _ in range(3):
                fn()
        wait_idle()
        samples: dict[str, list[int]] = {k: [] for k in calls}
        gc_pauses: list[tuple[int, float]] = []
        gc_start = [0.0]

        def on_gc(phase: str, info: dict[str, int]) -> None:
            if phase == "start":
                gc_start[0] = time.perf_counter()
            else:
                gc_pauses.append((info["generation"], time.perf_counter() - gc_start[0]))

        gc.callbacks.append(on_gc)
        t0 = time.perf_counter()
        # Variants take turns within a group; the groups run one after the other, so a rare
        # page (~200 ms of PostgreSQL work reading index pages from outside its buffer cache)
        # or the what-if engine never sits between two timed calls of the main queries.
        for group in _groups(calls):
            wait_idle()
            for r in range(reps):
                for name in group:
                    if skip(samples[name], r):
                        continue
                    s0 = time.perf_counter_ns()
                    calls[name]()
                    samples[name].append(time.perf_counter_ns() - s0)
        measure_s = time.perf_counter() - t0
        gc.callbacks.remove(on_gc)
        gen2 = [d for g, d in gc_pauses if g == 2]
        gc_info = {
            "collections": len(gc_pauses),
            "total_ms": round(sum(d for _, d in gc_pauses) * 1000, 1),
            "gen2_collections": len(gen2),
            "gen2_median_ms": round(sorted(gen2)[len(gen2) // 2] * 1000, 1) if gen2 else None,
            "calls": sum(len(v) for v in samples.values()),
        }
        profile = profile_top(calls["broad_p1"], 200)
        profile_deep = profile_top(calls["broad_deep"], 200)
        raw_depth = raw.depth
        raw.close()
        prepared = _prepared_statements(c) if not raw.sqlite else []
        if c2 is not None:
            c2.close()
    finally:
        c.close()
    return {
        "walks": {k: {kk: vv for kk, vv in v.items() if kk != "token"} for k, v in walks.items()},
        "plans": plans,
        "sql": {k: v[0] for k, v in sql.items() if k in ("broad_p1", "broad_deep")},
        "service": {k: summary_ms(v) for k, v in samples.items()},
        "measure_seconds": round(measure_s, 1),
        "gc": gc_info,
        "raw_depth": raw_depth,
        "profile_broad_p1": profile,
        "profile_broad_deep": profile_deep,
        "tokens": {k: v["token"] for k, v in walks.items()},
        "pg_prepared_statements": prepared,
    }


def _groups(calls: dict[str, Any]) -> list[list[str]]:
    """Main queries (raw baselines, broad, narrow and their exact SQL), then the rare filter,
    then the what-if engine."""
    rare = [k for k in calls if k.startswith("rare")]
    what_if = [k for k in calls if k.endswith("_noprep")]
    main = [k for k in calls if k not in rare and k not in what_if]
    return [g for g in (main, rare, what_if) if g]


def _no_prepare(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.prepare_threshold = None


def _prepared_statements(c: Any) -> list[list[Any]]:
    """Server-side prepared statements of the reader connections and how PostgreSQL planned
    them (custom plans use the parameter values; a generic plan is reused for all values)."""
    out: list[list[Any]] = []
    pool = c.db.engine.pool
    conns = [pool.connect() for _ in range(pool.checkedin())]
    try:
        for conn in conns:
            cur = conn.cursor()
            cur.execute(
                "SELECT name, generic_plans, custom_plans, left(statement, 40) "
                "FROM pg_prepared_statements ORDER BY name"
            )
            out.extend([list(r) for r in cur.fetchall()])
            conn.rollback()
    finally:
        for conn in conns:
            conn.close()
    return out


def run_grpc(ds: Dataset, tokens: dict[str, str | None], reps: int) -> dict[str, Any]:
    import grpc

    from casekeeper.proto.com.coralogixapis.cases.v1 import cases_service_pb2_grpc as pb_grpc

    port = free_port()
    md = (("authorization", f"Bearer {ds.key}"),)
    reqs = {}
    for name in ("broad", "narrow", "rare"):
        reqs[f"{name}_p1"] = list_request(FILTERS[name])
        if name != "rare":
            reqs[f"{name}_deep"] = list_request(FILTERS[name], tokens[name])
    samples: dict[str, list[int]] = {k: [] for k in reqs}
    with (
        server_process(serve_argv(ds.url, port), port, f"serve-list-{ds.backend}") as proc,
        grpc.insecure_channel(f"{HOST}:{port}") as ch,
    ):
        stub = pb_grpc.CasesServiceStub(ch)
        for req in reqs.values():
            for _ in range(5):
                stub.ListCases(req, metadata=md)
        wait_idle()
        with CpuWindow([proc.pid]) as cpu:
            for r in range(reps):
                for name, req in reqs.items():
                    if skip(samples[name], r):
                        continue
                    s0 = time.perf_counter_ns()
                    resp = stub.ListCases(req, metadata=md)
                    samples[name].append(time.perf_counter_ns() - s0)
                    assert len(resp.cases) > 0
        size = len(stub.ListCases(reqs["broad_p1"], metadata=md).SerializeToString())
    calls = sum(len(v) for v in samples.values())
    return {
        "grpc": {k: summary_ms(v) for k, v in samples.items()},
        "server_cpu_us_per_call": cpu.proc_seconds[0] / calls * 1e6,
        "foreign_cores": round(cpu.foreign_cores(), 2),
        "response_bytes_broad_p1": size,
    }


def main() -> None:
    ap = step_args(__doc__)
    ap.add_argument("--reps", type=int, default=300, help="service-layer repetitions")
    ap.add_argument("--grpc-reps", type=int, default=100, help="gRPC repetitions")
    ap.add_argument("--depth", type=int, default=2000, help="deep page number")
    a = ap.parse_args()
    ds = ensure(a.backend, a.size, a.seed)
    print(f"ListCases on {ds.backend}, {ds.size:,} cases (space {SPACE})", flush=True)
    svc = run_service(ds, a.reps, a.depth)
    tokens = svc.pop("tokens")
    grpc_part = run_grpc(ds, tokens, a.grpc_reps) if a.grpc_reps else {}
    result = {
        "backend": ds.backend,
        "dataset": {k: v for k, v in ds.meta.items() if k != "key"},
        "reps": a.reps,
        "grpc_reps": a.grpc_reps,
        "depth": a.depth,
        "machine": machine_info(),
        **svc,
        **grpc_part,
    }
    write_result(a.out, "list_cases", result)
    for k, v in svc["service"].items():
        print(f"  {k:18s} median {v['median_ms']:8.3f} ms  p95 {v['p95_ms']:8.3f} ms", flush=True)
    for k, v in grpc_part.get("grpc", {}).items():
        print(f"  grpc {k:13s} median {v['median_ms']:8.3f} ms  p95 {v['p95_ms']:8.3f} ms")


if __name__ == "__main__":
    main()
