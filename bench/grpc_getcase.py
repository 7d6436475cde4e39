"""GetCase over gRPC: ``casekeeper serve`` on the big dataset vs. an empty grpcio handler.

Both servers run in their own process with the same grpc.server options and thread pool
(``empty_server.py`` copies them from ``GrpcServer``). The same client (``grpc_client.py``: one
grpc.aio process, one channel, 32 calls in flight) loads each in turn: per repetition, the
baseline then casekeeper (order alternating), ``--warmup`` s then ``--duration`` s measured.
Requests ask for 20,000 random cases of the dataset (by UUID), authenticated with a real API
key; those cases are read once before anything is timed (``warm_cache``), so the comparison
measures the server rather than this VM's disk.
Reported: req/s (median of the repetitions), server CPU µs per request (psutil on the server pid),
latency, and the ratio to the baseline. A py-spy profile of casekeeper under the same load
follows the timed repetitions. ``--floor`` adds two cut-down servers to every repetition: GetCase
as its RPC wrapper alone, then wrapper + the service's read, each answering the baseline's fixed
message: what the authentication and the one SQLite read cost before any conversion.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from typing import Any

import sqlalchemy as sa
from common import (
    DATA,
    IDLE_WAIT,
    busy_cores,
    empty_server_argv,
    free_port,
    machine_info,
    median,
    pyspy,
    run_client,
    serve_argv,
    serve_variant_argv,
    server_process,
    step_args,
    wait_idle,
    write_requests,
    write_result,
)
from dataset import Dataset, ensure

from casekeeper.proto.com.coralogixapis.cases.v1 import cases_service_pb2 as pb

METHOD = "/com.coralogixapis.cases.v1.CasesService/GetCase"


def sample_ids(ds: Dataset, n: int, seed: int) -> list[str]:
    c = ds.container()
    try:
        with c.db.engine.connect() as conn:
            ids = [r[0] for r in conn.execute(sa.text('SELECT id FROM "case"'))]
    finally:
        c.close()
    rng = random.Random(seed)
    return rng.sample(ids, min(n, len(ids)))


def warm_cache(ds: Dataset, ids: list[str]) -> float:
    """Read the sampled cases once (every column, by id, 500 at a time), so their index and
    table pages are in the OS page cache (and PostgreSQL's buffers) before anything is timed:
    this VM evicts file pages it has not touched lately, and the baseline reads no disk at all.
    Returns the seconds it took. The in-process ``service_get_cold`` row still measures reads
    of pages the server never touched."""
    t0 = time.perf_counter()
    c = ds.container()
    try:
        with c.db.engine.connect() as conn:
            for i in range(0, len(ids), 500):
                chunk = ids[i : i + 500]
                conn.execute(sa.text('SELECT * FROM "case" WHERE id IN :ids').bindparams(
                    sa.bindparam("ids", expanding=True)), {"ids": chunk}).fetchall()  # fmt: skip
    finally:
        c.close()
    return time.perf_counter() - t0


class _Context:
    """Enough of grpc.aio.ServicerContext for a servicer method called in process."""

    def __init__(self, key: str) -> None:
        self.md = (("authorization", f"Bearer {key}"),)

    def invocation_metadata(self) -> Any:
        return self.md

    async def abort(self, code: Any, details: str) -> None:
        raise RuntimeError(f"{code}: {details}")

    def set_trailing_metadata(self, md: Any) -> None:
        pass

    def is_active(self) -> bool:
        return True


def in_process(ds: Dataset, ids: list[str], n: int = 3000) -> dict[str, float]:
    """Single-threaded wall and CPU µs per call of the pieces behind GetCase, without gRPC: the
    service read on ids this connection never read (cold page cache) and again (warm), the
    protobuf conversion (``case_to_pb`` with its encode cache missed), and the whole servicer
    method (first read, then again with its encode cache hit)."""
    import dataclasses

    from casekeeper.api.coralogix.convert import case_to_pb
    from casekeeper.api.coralogix.grpc.cases_servicer import CasesServicer

    c = ds.container()
    p = ds.principal(c)
    from concurrent.futures import ThreadPoolExecutor

    servicer = CasesServicer(c, ThreadPoolExecutor(1))
    ctx = _Context(ds.key)
    a, b = ids[:n], ids[n : 2 * n]
    out: dict[str, float] = {}
    got: list[Any] = []

    def timed(name: str, fn: Any) -> None:
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        out[f"{name}_us"] = (time.perf_counter() - w0) / n * 1e6
        out[f"{name}_cpu_us"] = (time.process_time() - c0) / n * 1e6

    try:
        c.cases.get(p, a[0])
        timed("service_get_cold", lambda: got.extend(c.cases.get(p, i) for i in a))
        timed("service_get_warm", lambda: [c.cases.get(p, i) for i in a])
        now = time.time_ns() // 1000
        fresh = [dataclasses.replace(x, version=x.version + 10_000) for x in got]
        timed("case_to_pb", lambda: [case_to_pb(x, now).SerializeToString() for x in fresh])
        reqs = [pb.GetCaseRequest(id=i) for i in b]
        loop = asyncio.new_event_loop()

        def serve_all() -> None:
            async def each() -> None:
                for r in reqs:
                    await servicer.GetCase(r, ctx)  # type: ignore[arg-type]

            loop.run_until_complete(each())

        timed("servicer_GetCase_cold", serve_all)
        timed("servicer_GetCase_again", serve_all)
        loop.close()
    finally:
        c.close()
    return {k: round(v, 1) for k, v in out.items()}


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("rps", "p50_ms", "p99_ms", "server_cores", "client_cores", "server_cpu_us_per_req",
            "client_cpu_us_per_req", "foreign_cores", "server_system_share", "db_cores",
            "db_cpu_us_per_req")  # fmt: skip
    out: dict[str, Any] = {k: median([r[k] for r in runs]) for k in keys}
    out["runs_rps"] = [round(r["rps"]) for r in runs]
    out["errors"] = sum(r["errors"] for r in runs)
    out["last_error"] = next((r["last_error"] for r in runs if r["last_error"]), "")
    out["response_bytes"] = runs[-1]["response_bytes"]
    out["server_threads"] = runs[-1].get("server_threads", [])
    return out


def measure(
    ds: Dataset,
    reps: int,
    warmup: float,
    duration: float,
    inflight: int,
    profile: bool,
    what_if_cache_kib: int = 0,
    floor: tuple[str, ...] = (),
) -> dict[str, Any]:
    ids = sample_ids(ds, 20_000, ds.seed)
    warmed = warm_cache(ds, ids)
    reqs = write_requests(
        DATA / f"getcase-{ds.backend}-{ds.size}.b64", [pb.GetCaseRequest(id=i) for i in ids]
    )
    base_port, real_port = free_port(), free_port()
    runs: dict[str, list[dict[str, Any]]] = {"baseline": [], "casekeeper": []}
    prof = None
    with contextlib.ExitStack() as stack:
        base = stack.enter_context(
            server_process(empty_server_argv(base_port), base_port, "empty-getcase")
        )
        real = stack.enter_context(
            server_process(serve_argv(ds.url, real_port), real_port, f"serve-get-{ds.backend}")
        )
        servers = {"baseline": (base_port, base.pid), "casekeeper": (real_port, real.pid)}
        if what_if_cache_kib and ds.backend == "sqlite":
            port = free_port()
            argv = serve_variant_argv(ds.url, port, what_if_cache_kib)
            alt = stack.enter_context(server_process(argv, port, "serve-get-variant"))
            servers["what_if"] = (port, alt.pid)
            runs["what_if"] = []
        for part in floor:
            port = free_port()
            argv = serve_variant_argv(ds.url, port, 0, getcase=part)
            alt = stack.enter_context(server_process(argv, port, f"serve-get-{part}"))
            servers[f"floor_{part}"] = (port, alt.pid)
            runs[f"floor_{part}"] = []
        names = list(servers)
        for rep in range(reps):
            order = names[rep % len(names) :] + names[: rep % len(names)]
            for name in order:
                port, pid = servers[name]
                for attempt in range(3):
                    wait_idle(timeout=3 * IDLE_WAIT)
                    r = run_client(
                        port, METHOD, reqs, pid, key=ds.key, inflight=inflight,
                        warmup=warmup, duration=duration,
                    )  # fmt: skip
                    if r["foreign_cores"] < 0.3 or attempt == 2:
                        break
                    print(f"  disturbed ({r['foreign_cores']:.2f} foreign cores); again")
                runs[name].append(r)
                print(
                    f"  rep {rep + 1} {name:10s} {r['rps']:7.0f} req/s  "
                    f"server {r['server_cpu_us_per_req']:.0f} µs/req  errors {r['errors']}",
                    flush=True,
                )
        if profile:
            import threading

            holder: dict[str, Any] = {}
            t = threading.Thread(
                target=lambda: holder.update(
                    r=run_client(real_port, METHOD, reqs, real.pid, key=ds.key, warmup=1,
                                 duration=duration + 2)
                )
            )  # fmt: skip
            t.start()
            busy_cores(1.5)
            prof = pyspy(real.pid, duration, f"getcase-{ds.backend}")
            t.join()
    base_s, real_s = summarize(runs["baseline"]), summarize(runs["casekeeper"])
    extra = {}
    if runs.get("what_if"):
        extra["what_if"] = {**summarize(runs["what_if"]), "cache_kib": what_if_cache_kib}
    for part in floor:
        extra[f"floor_{part}"] = summarize(runs[f"floor_{part}"])
    return {
        **extra,
        "warm_cache_seconds": round(warmed, 1),
        "in_process": in_process(ds, sample_ids(ds, 6000, ds.seed + 99)),
        "baseline": base_s,
        "casekeeper": real_s,
        "ratio_rps": real_s["rps"] / base_s["rps"],
        "ratio_server_cpu": real_s["server_cpu_us_per_req"] / base_s["server_cpu_us_per_req"],
        "profile": prof,
    }


def main() -> None:
    ap = step_args(__doc__)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--duration", type=float, default=6.0)
    ap.add_argument("--inflight", type=int, default=32)
    ap.add_argument("--no-profile", action="store_true")
    ap.add_argument(
        "--what-if-cache-kib",
        type=int,
        default=0,
        help="also load serve with this SQLite cache_size per connection (bench/serve_variant.py)",
    )
    ap.add_argument(
        "--floor",
        action="store_true",
        help="also load serve with GetCase cut down to its RPC wrapper, then to wrapper + read, "
        "both answering the baseline's fixed message (bench/serve_variant.py --getcase)",
    )
    a = ap.parse_args()
    ds = ensure(a.backend, a.size, a.seed)
    print(f"GetCase over gRPC on {ds.backend}, {ds.size:,} cases", flush=True)
    floor = ("auth", "read") if a.floor else ()
    res = measure(
        ds, a.reps, a.warmup, a.duration, a.inflight, not a.no_profile, a.what_if_cache_kib, floor
    )
    write_result(
        a.out,
        "grpc_getcase",
        {
            "backend": ds.backend,
            "size": ds.size,
            "reps": a.reps,
            "warmup": a.warmup,
            "duration": a.duration,
            "inflight": a.inflight,
            "machine": machine_info(),
            **res,
        },
    )
    print(
        f"  casekeeper {res['casekeeper']['rps']:.0f} req/s vs baseline "
        f"{res['baseline']['rps']:.0f} req/s: ratio {res['ratio_rps']:.2f}"
    )


if __name__ == "__main__":
    main()
